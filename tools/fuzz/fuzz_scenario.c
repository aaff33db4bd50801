/*
 * fuzz_scenario.c - libFuzzer target: any bytes as a scenario file
 * (scenario_parse). It must return 0 or an error with one line of text,
 * never crash, leak or read outside the input, and scenario_free must
 * take whatever it left.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "testbed/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scenario sc; /* large: not on the fuzzer's stack */
    char err[1024] = "";
    int rc = scenario_parse((const char *)data, size, "fuzz.ini", "/nonexistent", &sc, err,
                            sizeof(err));

    assert(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    assert(rc == 0 || (err[0] && !strchr(err, '\n')));
    if (rc == 0) {
        assert(sc.nhosts >= 1 && sc.nhosts <= SCENARIO_MAX_HOSTS);
        assert(sc.nguests <= SCENARIO_MAX_GUESTS);
        assert(sc.duration_s > 0);
        for (size_t i = 0; i < sc.nguests; i++) {
            assert(sc.guests[i].host < sc.nhosts);
            assert(sc.guests[i].weight >= 1 && sc.guests[i].weight <= 10000);
            assert(sc.guests[i].start_s < sc.duration_s);
        }
    }
    scenario_free(&sc);
    return 0;
}
