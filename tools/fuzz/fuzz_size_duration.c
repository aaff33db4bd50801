/*
 * fuzz_size_duration.c - libFuzzer target: any bytes as a size
 * (common/size.h) and as a time (common/duration.h). A parse succeeds or
 * fails without touching the result; a time is never negative, NaN or
 * infinite; a size without a unit is its digits.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    uint64_t bytes = 7;
    double seconds = -1.0;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (size_parse(text, true, &bytes) != 0)
        assert(bytes == 7);
    else if (size && strspn(text, "0123456789") == size)
        assert(bytes == strtoull(text, NULL, 10));
    bytes = 7;
    if (size_parse(text, false, &bytes) == 0)
        assert(strcmp(text, "unlimited") != 0);
    if (duration_parse(text, &seconds) == 0)
        assert(seconds >= 0 && isfinite(seconds));
    else
        assert(seconds == -1.0);
    seconds = -1.0;
    if (duration_parse_number(text, &seconds) == 0)
        assert(seconds >= 0 && isfinite(seconds));
    free(text);
    return 0;
}
