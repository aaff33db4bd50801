/*
 * device.h - a model of the block device under a guest's files, so that
 * the backing reads cleancache saves have a price in time (the same way
 * tmem-swapsim prices its swap file).
 *
 * A request is random or sequential: sequential when it starts where the
 * previous request on the device ended, in the same stream (file); the
 * device has one head, so interleaved streams are random, as on a disk.
 * A profile prices a request at its access latency (random or sequential)
 * plus its bytes over the bandwidth. Since that is linear, the device
 * only counts (random and sequential requests, bytes read and written)
 * and any profile can price the same run afterwards: one run gives the
 * time on a disk, a SATA SSD and an NVMe drive at once.
 *
 * Profiles (the grammar of guest_device_profile_parse):
 *   hdd          7200 rpm disk: random 8.5 ms (seek + half a turn),
 *                sequential 0.1 ms, 160 MB/s
 *   sata-ssd     90 us a request, 530 MB/s read, 480 MB/s write
 *   nvme         20 us a request, 3200 MB/s read, 2500 MB/s write
 *   custom:LAT_US,MBPS   LAT_US a request (random or not), MBPS both ways
 *
 * Thread-safety: guest_device_note and guest_device_counts take the
 * device's lock; profiles and pricing are pure.
 */
#ifndef GUEST_DEVICE_H
#define GUEST_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct guest_device_profile {
    char name[48];
    uint32_t random_us;      /* a request that does not continue the last one */
    uint32_t sequential_us;  /* a request that does */
    uint32_t read_mbps, write_mbps; /* 10^6 bytes per second */
};

/* The built-in profiles, in the order hdd, sata-ssd, nvme. */
#define GUEST_DEVICE_BUILTIN 3
extern const struct guest_device_profile guest_device_builtin[GUEST_DEVICE_BUILTIN];

/* What guest_device_profile_parse accepts, for messages. */
const char *guest_device_grammar(void);

/* "hdd", "sata-ssd", "nvme" or "custom:LAT_US,MBPS" (LAT_US 0..10^7,
 * MBPS 1..10^6) -> *p. 0, or -EINVAL leaving *p unchanged. */
int guest_device_profile_parse(const char *text, struct guest_device_profile *p);

struct guest_device_counts {
    uint64_t random_requests, sequential_requests;
    uint64_t read_bytes, write_bytes;
};

struct guest_device {
    pthread_mutex_t lock;
    bool have_last;
    uint64_t last_stream, last_end;  /* where the head is */
    struct guest_device_counts counts;
};

/* 0 or -ENOMEM. */
int guest_device_init(struct guest_device *d);
void guest_device_destroy(struct guest_device *d);

/* A request of bytes at offset of stream (any number naming a file) was
 * made. Returns true if it was sequential. Thread-safe. */
bool guest_device_note(struct guest_device *d, uint64_t stream, uint64_t offset,
                       uint64_t bytes, bool write);

/* The counts so far (thread-safe). */
void guest_device_counts(struct guest_device *d, struct guest_device_counts *out);

/* The time the counted requests take on profile p, in nanoseconds. */
uint64_t guest_device_price_ns(const struct guest_device_profile *p,
                               const struct guest_device_counts *c);

/* The time one request takes on p (for a real delay). */
uint64_t guest_device_request_ns(const struct guest_device_profile *p, bool sequential,
                                 uint64_t bytes, bool write);

#endif /* GUEST_DEVICE_H */
