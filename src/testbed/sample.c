/*
 * sample.c - the series of samples (sample.h): three growing arrays (times,
 * host records, guest records, the last two n x nhosts and n x nguests).
 * Locking: none (one thread).
 */
#include "testbed/sample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void testbed_series_init(struct testbed_series *s, size_t nhosts, size_t nguests)
{
    memset(s, 0, sizeof(*s));
    s->nhosts = nhosts;
    s->nguests = nguests;
}

void testbed_series_free(struct testbed_series *s)
{
    free(s->t);
    free(s->hosts);
    free(s->guests);
    testbed_series_init(s, s->nhosts, s->nguests);
}

int testbed_series_append(struct testbed_series *s, double t)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nt = realloc(s->t, cap * sizeof(*nt));
        struct testbed_host_sample *nh;
        struct testbed_guest_sample *ng;

        if (!nt)
            return -ENOMEM;
        s->t = nt;
        nh = realloc(s->hosts, cap * (s->nhosts ? s->nhosts : 1) * sizeof(*nh));
        if (!nh)
            return -ENOMEM;
        s->hosts = nh;
        ng = realloc(s->guests, cap * (s->nguests ? s->nguests : 1) * sizeof(*ng));
        if (!ng)
            return -ENOMEM;
        s->guests = ng;
        s->cap = cap;
    }
    s->t[s->n] = t;
    memset(&s->hosts[s->n * s->nhosts], 0, s->nhosts * sizeof(*s->hosts));
    memset(&s->guests[s->n * s->nguests], 0, s->nguests * sizeof(*s->guests));
    s->n++;
    return 0;
}

struct testbed_host_sample *testbed_series_host(const struct testbed_series *s, size_t i,
                                                size_t h)
{
    return &s->hosts[i * s->nhosts + h];
}

struct testbed_guest_sample *testbed_series_guest(const struct testbed_series *s, size_t i,
                                                  size_t g)
{
    return &s->guests[i * s->nguests + g];
}

/* hits and misses of the guest's kind in one record. */
static void testbed_hits(const struct testbed_guest_sample *r, bool mount, uint64_t *hits,
                         uint64_t *misses)
{
    if (mount) {
        *hits = r->mount[TMEMFS_SUCC_GETS];
        *misses = r->mount[TMEMFS_FAILED_GETS];
    } else {
        *hits = r->swap.loads;
        *misses = r->swap.pswpin;
    }
}

bool testbed_series_hit_rate(const struct testbed_series *s, size_t i, size_t g,
                             bool mount, double *rate)
{
    uint64_t h0, m0, h1, m1;

    if (i == 0 || i >= s->n)
        return false;
    testbed_hits(testbed_series_guest(s, i - 1, g), mount, &h0, &m0);
    testbed_hits(testbed_series_guest(s, i, g), mount, &h1, &m1);
    if (h1 < h0 || m1 < m0 || (h1 - h0) + (m1 - m0) == 0)
        return false;
    *rate = (double)(h1 - h0) / (double)((h1 - h0) + (m1 - m0));
    return true;
}

bool testbed_guest_hit_rate(const struct testbed_guest_sample *last, bool mount, double *rate)
{
    uint64_t h, m;

    testbed_hits(last, mount, &h, &m);
    if (h + m == 0)
        return false;
    *rate = (double)h / (double)(h + m);
    return true;
}
