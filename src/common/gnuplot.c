/*
 * gnuplot.c - drawing with gnuplot (gnuplot.h): string quoting, the
 * terminal by output suffix, and running gnuplot on a script as a child
 * (posix_spawnp; exit 127 or no binary = not installed).
 *
 * Data: none kept. Locking: none needed.
 */
#include "common/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

void gnuplot_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

bool gnuplot_path_is_svg(const char *path)
{
    size_t n = strlen(path);

    return n >= 4 && strcasecmp(path + n - 4, ".svg") == 0;
}

void gnuplot_terminal(FILE *f, bool svg, const char *path, int width, int height)
{
    if (svg)
        fprintf(f, "set terminal svg size %d,%d dynamic noenhanced font 'sans,11'\n", width,
                height);
    else
        fprintf(f, "set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n", width, height);
    fprintf(f, "set output ");
    gnuplot_quote(f, path);
    fputc('\n', f);
}

int gnuplot_run(const char *script, const char *log)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)"gnuplot", (char *)script, NULL};
    pid_t pid;
    int e, status = 0;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        return e == ENOENT ? -ENOENT : -e;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return -ENOENT;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
