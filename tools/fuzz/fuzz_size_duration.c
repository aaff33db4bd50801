/*
 * fuzz_size_duration.c - libFuzzer target for the small grammars of
 * src/common: any bytes as a size (common/size.h), a time
 * (common/duration.h), an unsigned number (common/number.h) and a fault
 * switch (common/fault.h). A parse succeeds or fails without touching the
 * result; a time is never negative, NaN or infinite; a size without a
 * unit is its digits; a number is within its bounds and is its decimal
 * digits; an accepted fault spec is in range and renders back to a spec
 * that parses to the same thing.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/fault.h"
#include "common/number.h"
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
    bytes = 7;
    if (number_parse_u64(text, 10, 3, 1000000, &bytes) == 0)
        assert(bytes >= 3 && bytes <= 1000000 && bytes == strtoull(text, NULL, 10) &&
               strspn(text, "0123456789") == strlen(text));
    else
        assert(bytes == 7);
    {
        struct fault_spec spec, again;
        char why[256], rendered[128];

        if (fault_parse(text, &spec, why, sizeof(why)) == 0) {
            assert(spec.mode != FAULT_NTH || spec.nth >= 1);
            assert(spec.mode != FAULT_PROBABILITY ||
                   (spec.probability > 0 && spec.probability <= 1));
            fault_format(&spec, rendered, sizeof(rendered));
            assert(fault_parse(rendered, &again, why, sizeof(why)) == 0);
            assert(again.mode == spec.mode);
            assert(again.mode != FAULT_NTH || again.nth == spec.nth);
        }
    }
    free(text);
    return 0;
}
