/* decode: print the events of a stream read from stdin, one line each.
 *
 * Used by the Python tests to compare the C library's reader with the Python
 * decoder.  Usage: decode [READ_SIZE [NAME|-]] (NAME "-" drops non-subunit data).
 * Each line has tab-separated fields in Event order; strings and bytes in hex,
 * "-" for absent; tags as comma-separated hex names in wire order; the timestamp as
 * seconds.nanoseconds; runnable and eof as 0/1; then the stream offset at close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subunit2.h"

static void hex(const void *data, size_t len, int present)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    if (!present) {
        fputs("-", stdout);
        return;
    }
    putchar('x');
    for (i = 0; i < len; i++)
        printf("%02x", p[i]);
}

static void str(su2_str s)
{
    hex(s.ptr, s.len, s.ptr != NULL);
}

static int show(void *ctx, const su2_event *ev)
{
    size_t pos = 0;
    su2_str tag;
    int first = 1;
    (void)ctx;
    str(ev->test_id);
    printf("\t%d\t", ev->status);
    if (ev->has_tags) {
        putchar('[');
        while (su2_tags_next(ev, &pos, &tag)) {
            if (!first)
                putchar(',');
            first = 0;
            str(tag);
        }
        putchar(']');
    } else {
        putchar('-');
    }
    printf("\t%d\t", ev->runnable);
    str(ev->file_name);
    putchar('\t');
    hex(ev->file_bytes, ev->file_len, ev->file_bytes != NULL);
    printf("\t%d\t", ev->eof);
    str(ev->mime_type);
    putchar('\t');
    str(ev->route_code);
    if (ev->has_timestamp)
        printf("\t%lu.%09lu\t", (unsigned long)ev->seconds, (unsigned long)ev->nanoseconds);
    else
        fputs("\t-\t", stdout);
    str(ev->parent_test_id);
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    size_t size = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 65536, n;
    const char *name = argc > 2 ? (strcmp(argv[2], "-") == 0 ? NULL : argv[2]) : "stdout";
    unsigned char *data;
    su2_reader r;
    if (size == 0)
        size = 1;
    data = (unsigned char *)malloc(size);
    if (data == NULL || su2_reader_init(&r, name) != SU2_OK)
        return 2;
    while ((n = fread(data, 1, size, stdin)) > 0)
        if (su2_reader_feed(&r, data, n, show, NULL) != SU2_OK)
            return 2;
    if (su2_reader_close(&r, show, NULL) != SU2_OK)
        return 2;
    printf("offset\t%llu\n", (unsigned long long)su2_reader_offset(&r));
    su2_reader_free(&r);
    free(data);
    return 0;
}
