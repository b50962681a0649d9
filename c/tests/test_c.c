/* Unit tests of libsubunit2 in C: known vectors, round trips, reader rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subunit2.h"

static int failures;
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* A sink collecting bytes in memory. */
typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static int to_buf(void *ctx, const void *data, size_t len)
{
    buf *b = (buf *)ctx;
    if (b->len + len > b->cap) {
        size_t cap = (b->len + len) * 2;
        unsigned char *p = (unsigned char *)realloc(b->p, cap);
        if (p == NULL)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

/* A flat record of what the reader delivered. */
#define MAX_SEEN 64
typedef struct seen {
    int n;
    int kind[MAX_SEEN], status[MAX_SEEN], eof[MAX_SEEN], has_ts[MAX_SEEN];
    char test_id[MAX_SEEN][64], file_name[MAX_SEEN][32], text[MAX_SEEN][200];
    char tags[MAX_SEEN][64], parent[MAX_SEEN][32];
    size_t file_len[MAX_SEEN];
    uint32_t seconds[MAX_SEEN], nanos[MAX_SEEN];
} seen;

static void copy_str(char *dst, size_t cap, su2_str s)
{
    size_t n = s.ptr ? (s.len < cap - 1 ? s.len : cap - 1) : 0;
    if (s.ptr)
        memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

static int record(void *ctx, const su2_event *ev)
{
    seen *s = (seen *)ctx;
    int i = s->n;
    size_t pos = 0;
    su2_str tag;
    su2_str content;
    if (i >= MAX_SEEN)
        return 1;
    s->n++;
    s->kind[i] = ev->kind;
    s->status[i] = ev->status;
    s->eof[i] = ev->eof;
    s->has_ts[i] = ev->has_timestamp;
    s->seconds[i] = ev->seconds;
    s->nanos[i] = ev->nanoseconds;
    copy_str(s->test_id[i], sizeof s->test_id[i], ev->test_id);
    copy_str(s->file_name[i], sizeof s->file_name[i], ev->file_name);
    copy_str(s->parent[i], sizeof s->parent[i], ev->parent_test_id);
    content.ptr = (const char *)ev->file_bytes;
    content.len = ev->file_len;
    copy_str(s->text[i], sizeof s->text[i], content);
    s->file_len[i] = ev->file_len;
    s->tags[i][0] = 0;
    while (su2_tags_next(ev, &pos, &tag)) {
        strncat(s->tags[i], tag.ptr, tag.len);
        strcat(s->tags[i], ",");
    }
    return 0;
}

static void decode(const unsigned char *data, size_t len, size_t step, seen *s)
{
    su2_reader r;
    size_t at;
    memset(s, 0, sizeof *s);
    CHECK(su2_reader_init(&r, "stdout") == SU2_OK);
    for (at = 0; at < len; at += step)
        su2_reader_feed(&r, data + at, len - at < step ? len - at : step, record, s);
    su2_reader_close(&r, record, s);
    su2_reader_free(&r);
}

static void test_crc_matches_zlib(void)
{
    CHECK(su2_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(su2_crc32(0, "", 0) == 0);
    CHECK(su2_crc32(su2_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

static void test_known_vectors(void)
{
    static const unsigned char foo[] = {0xb3, 0x29, 0x01, 0x0c, 0x03, 'f', 'o',
                                        'o',  0x08, 0x55, 0x5f, 0x1b};
    static const unsigned char empty[] = {0xb3, 0x21, 0x10, 0x08, 0x53, 0x15, 0x88, 0xdc};
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    unsigned char *out = NULL;
    size_t len = 0, cap = 0;
    seen s;
    ev.test_id = "foo";
    ev.status = SU2_STATUS_EXISTS;
    CHECK(su2_encode_event(&ev, 0, &out, &len, &cap) == SU2_OK);
    CHECK(len == sizeof foo && memcmp(out, foo, len) == 0);
    ev = (su2_out_event)SU2_OUT_EVENT_INIT;
    ev.eof = 1;
    len = 0;
    CHECK(su2_encode_event(&ev, 0, &out, &len, &cap) == SU2_OK);
    CHECK(len == sizeof empty && memcmp(out, empty, len) == 0);
    free(out);
    decode(foo, sizeof foo, 1, &s);
    CHECK(s.n == 1 && s.kind[0] == SU2_EVENT_PACKET && strcmp(s.test_id[0], "foo") == 0);
    CHECK(s.status[0] == SU2_STATUS_EXISTS);
}

static void test_helpers_round_trip_through_the_reader(void)
{
    su2_writer w;
    buf b = {NULL, 0, 0};
    su2_time when = {1700000000u, 123456789u};
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    const char *tags[] = {"worker-1", "unit", "unit"};
    seen s;
    su2_writer_init(&w, to_buf, &b);
    CHECK(su2_test_start(&w, "pkg.test_one", &when) == SU2_OK);
    CHECK(su2_test_pass(&w, "pkg.test_one", &when) == SU2_OK);
    CHECK(su2_test_fail(&w, "pkg.test_two", "Traceback: boom", 15, NULL) == SU2_OK);
    CHECK(su2_test_skip(&w, "pkg.test_three", "no network", NULL) == SU2_OK);
    ev.test_id = "pkg.test_four (i=1)";
    ev.parent_test_id = "pkg.test_four";
    ev.status = SU2_STATUS_XFAIL;
    ev.tags = tags;
    ev.n_tags = 3;
    ev.route_code = "0";
    CHECK(su2_write_event(&w, &ev) == SU2_OK);
    ev.test_id = "bad\xff";
    CHECK(su2_write_event(&w, &ev) == SU2_EINVAL);
    ev.test_id = "x";
    ev.status = 9;
    CHECK(su2_write_event(&w, &ev) == SU2_EINVAL);
    su2_writer_free(&w);
    decode(b.p, b.len, 7, &s);
    CHECK(s.n == 7);
    CHECK(s.status[0] == SU2_STATUS_INPROGRESS && s.has_ts[0] && s.seconds[0] == 1700000000u);
    CHECK(s.nanos[0] == 123456789u);
    CHECK(s.status[1] == SU2_STATUS_SUCCESS);
    CHECK(strcmp(s.file_name[2], "traceback") == 0 && s.eof[2]);
    CHECK(strcmp(s.text[2], "Traceback: boom") == 0 && s.status[3] == SU2_STATUS_FAIL);
    CHECK(strcmp(s.text[4], "no network") == 0 && s.status[5] == SU2_STATUS_SKIP);
    CHECK(strcmp(s.parent[6], "pkg.test_four") == 0);
    CHECK(strcmp(s.tags[6], "unit,worker-1,") == 0); /* sorted, without repeats */
    free(b.p);
}

static void test_large_attachment_splits_and_rejoins(void)
{
    size_t size = 9u * 1024 * 1024, i, total = 0;
    unsigned char *content = (unsigned char *)malloc(size);
    su2_writer w;
    buf b = {NULL, 0, 0};
    seen s;
    for (i = 0; i < size; i++)
        content[i] = (unsigned char)(i * 7);
    su2_writer_init(&w, to_buf, &b);
    CHECK(su2_attach(&w, "t", "log", NULL, content, size, 1, NULL) == SU2_OK);
    su2_writer_free(&w);
    decode(b.p, b.len, 65536, &s);
    CHECK(s.n == 3);
    for (i = 0; i < (size_t)s.n; i++) {
        CHECK(s.kind[i] == SU2_EVENT_PACKET);
        CHECK(s.eof[i] == (i == 2));
        total += s.file_len[i];
    }
    CHECK(total == size);
    free(b.p);
    free(content);
}

static void test_junk_is_data_and_reports_match_python_wording(void)
{
    static const unsigned char stream[] = "hello \xb3\x29\x01\x0c\x03" "fox\x08\x55\x5f\x1b tail";
    seen s;
    size_t step;
    int i, errors;
    decode(stream, sizeof stream - 1, sizeof stream, &s);
    CHECK(s.n == 4);
    CHECK(s.kind[0] == SU2_EVENT_TEXT && strcmp(s.text[0], "hello ") == 0);
    CHECK(s.kind[1] == SU2_EVENT_REPORT && strcmp(s.file_name[1], "Packet data") == 0);
    CHECK(strcmp(s.test_id[2], "subunit.parser") == 0 && s.status[2] == SU2_STATUS_FAIL);
    CHECK(s.kind[3] == SU2_EVENT_TEXT && s.file_len[3] == sizeof stream - 1 - 6);
    /* However the stream is cut, one report with the same words. */
    for (step = 1; step < sizeof stream; step++) {
        decode(stream, sizeof stream - 1, step, &s);
        for (i = 0, errors = 0; i < s.n; i++)
            if (s.kind[i] == SU2_EVENT_REPORT && s.status[i] == SU2_STATUS_FAIL) {
                errors++;
                CHECK(strcmp(s.text[i], "bad checksum (packet at stream offset 6)") == 0);
            }
        CHECK(errors == 1);
    }
}

static void test_utf8_validation(void)
{
    CHECK(su2_utf8_valid((const unsigned char *)"caf\xc3\xa9", 5));
    CHECK(!su2_utf8_valid((const unsigned char *)"\xc0\xaf", 2));     /* overlong */
    CHECK(!su2_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!su2_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4));
    CHECK(su2_utf8_valid((const unsigned char *)"\xf0\x9f\x8c\xb3", 4));
    CHECK(!su2_utf8_valid((const unsigned char *)"\xe4\xbc", 2)); /* truncated */
}

int main(void)
{
    test_crc_matches_zlib();
    test_known_vectors();
    test_helpers_round_trip_through_the_reader();
    test_large_attachment_splits_and_rejoins();
    test_junk_is_data_and_reports_match_python_wording();
    test_utf8_validation();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("libsubunit2 C tests: all passed\n");
    return 0;
}
