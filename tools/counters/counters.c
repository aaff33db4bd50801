/*
 * counters.c - print a module's statistics as the markdown table its docs
 * page carries, from the one list where the module declares them (an
 * X-macro of name and help text), so the docs cannot drift from the code.
 *
 * usage: counters core       (docs/core.md)
 *        counters tmemfs     (docs/fuse_cleancache.md)
 *        counters swapsim    (docs/swapsim.md)
 *
 * tools/counters/docs-tables.sh compares each table with the block between
 * "<!-- counters:MODULE begin -->" and "<!-- counters:MODULE end -->" of
 * the page (make test) or rewrites the blocks (make counter-docs).
 */
#include <stdio.h>
#include <string.h>

#include "core/tmem.h"
#include "fuse_cleancache/tmemfs_stats.h"
#include "swapsim/swapsim.h"

static void row(const char *name, const char *help)
{
    printf("| `%s` | %s |\n", name, help);
}

static void print_core(void)
{
    printf("| name | what it is |\n|---|---|\n");
#define CORE_ROW(kind, id, name, help) row(#name, help);
    TMEM_STATS_FIELDS(CORE_ROW)
#undef CORE_ROW
}

static void print_tmemfs(void)
{
    printf("| name | what it is |\n|---|---|\n");
#define TMEMFS_ROW(id, name, help) row(#name, help);
    TMEMFS_COUNTERS(TMEMFS_ROW)
#undef TMEMFS_ROW
#define TMEMFS_SHOWN_ROW(name, help, value) row(#name, help);
    TMEMFS_SHOWN(TMEMFS_SHOWN_ROW)
#undef TMEMFS_SHOWN_ROW
}

static void print_swapsim(void)
{
    printf("| name | what it is |\n|---|---|\n");
#define SWAPSIM_ROW(name, help) row(#name, help);
    SWAPSIM_COUNTERS(SWAPSIM_ROW)
#undef SWAPSIM_ROW
}

static const struct {
    const char *module;
    void (*print)(void);
} modules[] = {
    { "core", print_core },
    { "tmemfs", print_tmemfs },
    { "swapsim", print_swapsim },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof(modules) / sizeof(modules[0]); i++) {
        if (strcmp(argv[1], modules[i].module) == 0) {
            modules[i].print();
            return 0;
        }
    }
    fprintf(stderr, "usage: counters core|tmemfs|swapsim\n");
    return 2;
}
