/*
 * yesno.c - on/off words (yesno.h). A table of the accepted words and
 * their meaning; a linear search (eight entries).
 */
#include "common/yesno.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static const struct {
    const char *word;
    bool value;
} yesno_words[] = {
    {"yes", true}, {"on", true}, {"true", true}, {"1", true},
    {"no", false}, {"off", false}, {"false", false}, {"0", false},
};

int yesno_parse(const char *text, bool *out)
{
    if (!text)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(yesno_words) / sizeof(yesno_words[0]); i++) {
        if (strcmp(text, yesno_words[i].word) == 0) {
            *out = yesno_words[i].value;
            return 0;
        }
    }
    return -EINVAL;
}
