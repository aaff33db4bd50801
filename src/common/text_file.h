/*
 * text_file.h - read a whole (small) file into memory: scenario files,
 * schedule files and the like, which their parsers then read line by line
 * with exact line numbers.
 */
#ifndef COMMON_TEXT_FILE_H
#define COMMON_TEXT_FILE_H

#include <stddef.h>

/*
 * Read the file at path into *text (malloc'ed, owned by the caller, with a
 * NUL after the last byte that *len does not count). Files larger than max
 * bytes are refused. Returns 0; -errno of fopen (err: "PATH: reason"),
 * -EFBIG (err: "PATH: larger than MAX bytes"), -ENOMEM, -EIO (read error).
 * On failure *text and *len are unchanged. Thread-safe.
 */
int text_file_read(const char *path, size_t max, char **text, size_t *len, char *err,
                   size_t errlen);

#endif /* COMMON_TEXT_FILE_H */
