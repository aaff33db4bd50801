/*
 * test_index_list.c - the index-linked list every part of the project
 * uses (src/common/index_list.h), checked against a plain array model
 * under random operations, with both end markers (UINT32_MAX for arrays,
 * 0 for zero-initialised records).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/index_list.h"
#include "../support/testutil.h"

#define N 64

struct model {
    uint32_t order[N]; /* ids from head to tail */
    uint32_t n;
};

static void model_remove(struct model *m, uint32_t id)
{
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->order[i] == id) {
            memmove(&m->order[i], &m->order[i + 1], (m->n - i - 1) * sizeof(uint32_t));
            m->n--;
            return;
        }
    }
}

static bool model_has(const struct model *m, uint32_t id)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->order[i] == id)
            return true;
    return false;
}

/* Walk the list both ways and compare with the model. */
static void check_against_model(const struct index_list *l, struct index_list_links *links,
                                const struct model *m, uint32_t first_id)
{
    uint32_t id = l->head, i = 0;

    while (id != l->none) {
        assert_true(i < m->n);
        assert_int_equal(id, m->order[i]);
        id = index_list_next(l, index_list_array, links, id);
        i++;
    }
    assert_int_equal(i, m->n);
    id = l->tail;
    while (id != l->none) {
        assert_true(i > 0);
        assert_int_equal(id, m->order[--i]);
        id = index_list_prev(l, index_list_array, links, id);
    }
    assert_int_equal(i, 0);
    assert_int_equal(index_list_is_empty(l), m->n == 0);
    for (uint32_t e = first_id; e < first_id + N; e++)
        assert_int_equal(index_list_contains(l, index_list_array, links, e), model_has(m, e));
}

static void run_random(uint32_t none, uint32_t first_id)
{
    struct index_list_links links[N + 1];
    struct index_list l;
    struct model m = { .n = 0 };
    uint64_t rng = 42 + none;

    index_list_init(&l, none);
    for (uint32_t i = 0; i <= N; i++)
        index_list_links_clear(&l, &links[i]);
    for (int step = 0; step < 20000; step++) {
        uint32_t id = first_id + (uint32_t)tu_rng_below(&rng, N);
        unsigned op = (unsigned)tu_rng_below(&rng, 4);

        if (!model_has(&m, id)) {
            if (op & 1) {
                index_list_push_head(&l, index_list_array, links, id);
                memmove(&m.order[1], &m.order[0], m.n * sizeof(uint32_t));
                m.order[0] = id;
            } else {
                index_list_push_tail(&l, index_list_array, links, id);
                m.order[m.n] = id;
            }
            m.n++;
        } else if (op == 0) {
            index_list_remove(&l, index_list_array, links, id);
            model_remove(&m, id);
            assert_int_equal(links[id].prev, none);
            assert_int_equal(links[id].next, none);
        } else if (op == 1) {
            index_list_move_to_head(&l, index_list_array, links, id);
            model_remove(&m, id);
            memmove(&m.order[1], &m.order[0], m.n * sizeof(uint32_t));
            m.order[0] = id;
            m.n++;
        } else {
            index_list_move_to_tail(&l, index_list_array, links, id);
            model_remove(&m, id);
            m.order[m.n++] = id;
        }
        if (step % 97 == 0)
            check_against_model(&l, links, &m, first_id);
    }
    check_against_model(&l, links, &m, first_id);
}

/* Rule: push, remove and move keep the order a plain array would have,
 * both directions of the walk agree, and "on the list" is exact, for an
 * array list (none = UINT32_MAX, ids from 0). */
static void test_index_list_matches_model_array_ids(void **state)
{
    (void)state;
    run_random(UINT32_MAX, 0);
}

/* Rule: the same with none = 0 and ids from 1 (records whose zeroed links
 * mean "not linked", as the core's page records). */
static void test_index_list_matches_model_zero_none(void **state)
{
    (void)state;
    run_random(0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_list_matches_model_array_ids),
        cmocka_unit_test(test_index_list_matches_model_zero_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
