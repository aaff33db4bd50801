/*
 * text_file.c - read a whole file (text_file.h): a buffer doubled from
 * 4 KiB as fread fills it, up to the caller's limit.
 */
#include "common/text_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int text_file_read(const char *path, size_t max, char **text, size_t *len, char *err,
                   size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = 0;

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    for (;;) {
        size_t got;

        if (n + 1 >= cap) { /* room for the bytes and the NUL */
            char *grown;

            if (cap > max) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
                rc = -EFBIG;
                goto out;
            }
            cap = cap ? cap * 2 : 4096;
            grown = realloc(buf, cap);
            if (!grown) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = -ENOMEM;
                goto out;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -EIO;
        goto out;
    }
    if (n > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        rc = -EFBIG;
        goto out;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}
