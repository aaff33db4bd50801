/*
 * device.c - the block-device model (device.h): profiles, the sequential
 * detector and the counts any profile prices.
 *
 * Data: struct guest_device (the head's position, the counts) under one
 * mutex; profiles are constants. The numbers of the built-in profiles are
 * typical datasheet values (a 7200 rpm SATA disk: 4.2 ms average seek plus
 * 4.2 ms for half a turn; a SATA SSD and an NVMe drive at queue depth 1).
 */
#include "guest/device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct guest_device_profile guest_device_builtin[GUEST_DEVICE_BUILTIN] = {
    { "hdd", 8500, 100, 160, 160 },
    { "sata-ssd", 90, 90, 530, 480 },
    { "nvme", 20, 20, 3200, 2500 },
};

const char *guest_device_grammar(void)
{
    return "hdd, sata-ssd, nvme or custom:LAT_US,MBPS (LAT_US 0 to 10000000, MBPS 1 to 1000000)";
}

/* A decimal number in [min, max] ending at *end (which must be stop). */
static int guest_device_number(const char *s, char stop, uint64_t min, uint64_t max,
                               uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -EINVAL;
    }
    if (*p != stop || v < min)
        return -EINVAL;
    *out = v;
    *end = p;
    return 0;
}

int guest_device_profile_parse(const char *text, struct guest_device_profile *p)
{
    struct guest_device_profile q;
    uint64_t lat, mbps;
    const char *s;

    if (!text)
        return -EINVAL;
    for (int i = 0; i < GUEST_DEVICE_BUILTIN; i++) {
        if (strcmp(text, guest_device_builtin[i].name) == 0) {
            *p = guest_device_builtin[i];
            return 0;
        }
    }
    if (strncmp(text, "custom:", 7) != 0 || strlen(text) >= sizeof(q.name))
        return -EINVAL;
    if (guest_device_number(text + 7, ',', 0, 10000000, &lat, &s) < 0 ||
        guest_device_number(s + 1, '\0', 1, 1000000, &mbps, &s) < 0)
        return -EINVAL;
    memset(&q, 0, sizeof(q));
    strcpy(q.name, text);
    q.random_us = q.sequential_us = (uint32_t)lat;
    q.read_mbps = q.write_mbps = (uint32_t)mbps;
    *p = q;
    return 0;
}

int guest_device_init(struct guest_device *d)
{
    memset(d, 0, sizeof(*d));
    return pthread_mutex_init(&d->lock, NULL) == 0 ? 0 : -ENOMEM;
}

void guest_device_destroy(struct guest_device *d)
{
    pthread_mutex_destroy(&d->lock);
}

bool guest_device_note(struct guest_device *d, uint64_t stream, uint64_t offset,
                       uint64_t bytes, bool write)
{
    bool sequential;

    pthread_mutex_lock(&d->lock);
    sequential = d->have_last && d->last_stream == stream && d->last_end == offset;
    if (sequential)
        d->counts.sequential_requests++;
    else
        d->counts.random_requests++;
    if (write)
        d->counts.write_bytes += bytes;
    else
        d->counts.read_bytes += bytes;
    d->have_last = true;
    d->last_stream = stream;
    d->last_end = offset + bytes;
    pthread_mutex_unlock(&d->lock);
    return sequential;
}

void guest_device_counts(struct guest_device *d, struct guest_device_counts *out)
{
    pthread_mutex_lock(&d->lock);
    *out = d->counts;
    pthread_mutex_unlock(&d->lock);
}

uint64_t guest_device_price_ns(const struct guest_device_profile *p,
                               const struct guest_device_counts *c)
{
    return c->random_requests * p->random_us * 1000ULL +
           c->sequential_requests * p->sequential_us * 1000ULL +
           c->read_bytes * 1000ULL / p->read_mbps + c->write_bytes * 1000ULL / p->write_mbps;
}

uint64_t guest_device_request_ns(const struct guest_device_profile *p, bool sequential,
                                 uint64_t bytes, bool write)
{
    return (sequential ? p->sequential_us : p->random_us) * 1000ULL +
           bytes * 1000ULL / (write ? p->write_mbps : p->read_mbps);
}
