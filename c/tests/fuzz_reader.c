/* Fuzz target for the reader (libFuzzer entry point; fuzz_driver.c runs it without
 * libFuzzer).  Checks, besides memory safety under the sanitizers:
 *  - nothing is lost: packet bytes and non-subunit data, in order, are the input;
 *  - the events do not depend on how the input is cut into feeds (runs of data
 *    are compared joined, since each feed may end one);
 *  - every report comes as a pair, and the stream offset ends at the input size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subunit2.h"

typedef struct sink {
    unsigned char *p;
    size_t len, cap;
    unsigned char *text; /* the pending run of data */
    size_t text_len, text_cap;
    unsigned char *raw;  /* packets and data, in order */
    size_t raw_len, raw_cap;
    int pending_reports;
} sink;

static void put(unsigned char **p, size_t *len, size_t *cap, const void *data, size_t n)
{
    if (*len + n > *cap) {
        size_t c = (*len + n) * 2 + 64;
        unsigned char *q = (unsigned char *)realloc(*p, c);
        if (q == NULL)
            abort();
        *p = q;
        *cap = c;
    }
    if (n)
        memcpy(*p + *len, data, n);
    *len += n;
}

static void put_field(sink *s, const void *data, size_t n, int present)
{
    uint64_t head = present ? n : (uint64_t)-1;
    put(&s->p, &s->len, &s->cap, &head, sizeof head);
    if (present)
        put(&s->p, &s->len, &s->cap, data, n);
}

static void flush_text(sink *s)
{
    if (s->text_len) {
        put(&s->p, &s->len, &s->cap, "T", 1);
        put_field(s, s->text, s->text_len, 1);
        s->text_len = 0;
    }
}

static int collect(void *ctx, const su2_event *ev)
{
    sink *s = (sink *)ctx;
    unsigned char head[8];
    if (ev->kind == SU2_EVENT_TEXT) {
        put(&s->text, &s->text_len, &s->text_cap, ev->file_bytes, ev->file_len);
        put(&s->raw, &s->raw_len, &s->raw_cap, ev->raw, ev->raw_len);
        if (ev->raw != ev->file_bytes || ev->raw_len != ev->file_len)
            abort();
        return 0;
    }
    flush_text(s);
    if (ev->kind == SU2_EVENT_PACKET) {
        put(&s->raw, &s->raw_len, &s->raw_cap, ev->raw, ev->raw_len);
        if (ev->raw_len < SU2_MIN_PACKET || ev->raw[0] != SU2_SIGNATURE)
            abort();
    } else if (ev->status == SU2_STATUS_FAIL) {
        if (s->pending_reports != 1)
            abort();
        s->pending_reports = 0;
    } else {
        if (s->pending_reports != 0 || ev->file_len > SU2_REPORT_LIMIT)
            abort();
        s->pending_reports = 1;
    }
    head[0] = (unsigned char)ev->kind;
    head[1] = (unsigned char)ev->status;
    head[2] = (unsigned char)(ev->runnable | ev->eof << 1 | ev->has_tags << 2 |
                              ev->has_timestamp << 3);
    put(&s->p, &s->len, &s->cap, head, 3);
    put(&s->p, &s->len, &s->cap, &ev->seconds, sizeof ev->seconds);
    put(&s->p, &s->len, &s->cap, &ev->nanoseconds, sizeof ev->nanoseconds);
    put_field(s, ev->test_id.ptr, ev->test_id.len, ev->test_id.ptr != NULL);
    put_field(s, ev->file_name.ptr, ev->file_name.len, ev->file_name.ptr != NULL);
    put_field(s, ev->file_bytes, ev->file_len, ev->file_bytes != NULL);
    put_field(s, ev->mime_type.ptr, ev->mime_type.len, ev->mime_type.ptr != NULL);
    put_field(s, ev->route_code.ptr, ev->route_code.len, ev->route_code.ptr != NULL);
    put_field(s, ev->parent_test_id.ptr, ev->parent_test_id.len,
              ev->parent_test_id.ptr != NULL);
    put_field(s, ev->tags, ev->tags_len, ev->has_tags);
    {
        size_t pos = 0;
        su2_str tag;
        uint32_t n = 0;
        while (su2_tags_next(ev, &pos, &tag)) {
            if (!su2_utf8_valid((const unsigned char *)tag.ptr, tag.len))
                abort();
            n++;
        }
        if (ev->has_tags && n != ev->n_tags)
            abort();
    }
    return 0;
}

static void run(const uint8_t *data, size_t size, const uint8_t *cuts, size_t ncuts,
                sink *s)
{
    su2_reader r;
    size_t at = 0, i;
    memset(s, 0, sizeof *s);
    if (su2_reader_init(&r, "stdout") != SU2_OK)
        abort();
    for (i = 0; i < ncuts && at < size; i++) {
        size_t step = (size_t)cuts[i] * cuts[i] % 4099 + 1;
        if (step > size - at)
            step = size - at;
        if (su2_reader_feed(&r, data + at, step, collect, s) != SU2_OK)
            abort();
        at += step;
    }
    if (at < size && su2_reader_feed(&r, data + at, size - at, collect, s) != SU2_OK)
        abort();
    if (su2_reader_close(&r, collect, s) != SU2_OK)
        abort();
    flush_text(s);
    if (su2_reader_offset(&r) != size || s->pending_reports)
        abort();
    su2_reader_free(&r);
}

static void done(sink *s)
{
    free(s->p);
    free(s->text);
    free(s->raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sink whole, split;
    size_t ncuts = size ? data[0] % 16 : 0;
    const uint8_t *cuts = data + (size ? 1 : 0);
    if (size < 1 + ncuts)
        ncuts = 0;
    run(data, size, NULL, 0, &whole);
    run(data, size, cuts, ncuts, &split);
    if (whole.raw_len != size || (size && memcmp(whole.raw, data, size) != 0))
        abort();
    if (split.raw_len != size || (size && memcmp(split.raw, data, size) != 0))
        abort();
    if (whole.len != split.len || (whole.len && memcmp(whole.p, split.p, whole.len) != 0))
        abort();
    done(&whole);
    done(&split);
    return 0;
}
