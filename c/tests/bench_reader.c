/* The reader's own speed, no Python: decode the benchmark stream of
 * bench/streams.py (100k tests on 4 workers, 5% failing with a 2 KiB traceback,
 * timestamps and tags everywhere), built here with the writer, into a callback
 * that does nothing.  Prints MB/s and events/s for the reader, the writer, and
 * the CRC alone.  Usage: bench_reader [TESTS [REPEAT]] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "subunit2.h"

typedef struct mem {
    unsigned char *p;
    size_t len, cap;
} mem;

static int to_mem(void *ctx, const void *data, size_t len)
{
    mem *m = (mem *)ctx;
    if (m->len + len > m->cap) {
        size_t cap = (m->len + len) * 2;
        unsigned char *p = (unsigned char *)realloc(m->p, cap);
        if (p == NULL)
            return -1;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long events;
static int count(void *ctx, const su2_event *ev)
{
    (void)ctx;
    (void)ev;
    events++;
    return 0;
}

static void write_stream(mem *m, long tests)
{
    static char traceback[2048];
    su2_writer w;
    su2_time when = {1767225600u, 0};
    long n;
    char id[96], route[4], tag[16];
    const char *tags[2];
    memset(traceback, 'x', sizeof traceback);
    su2_writer_init(&w, to_mem, m);
    for (n = 0; n < tests; n++) {
        su2_out_event ev = SU2_OUT_EVENT_INIT;
        snprintf(id, sizeof id, "package.module%ld.TestCase%ld.test_method_%ld", n / 1000,
                 n / 50, n);
        snprintf(route, sizeof route, "%ld", n % 4);
        snprintf(tag, sizeof tag, "worker-%ld", n % 4);
        tags[0] = tag;
        tags[1] = "unit";
        ev.test_id = id;
        ev.status = SU2_STATUS_INPROGRESS;
        ev.tags = tags;
        ev.n_tags = 2;
        ev.route_code = route;
        ev.timestamp = &when;
        su2_write_event(&w, &ev);
        when.nanoseconds += 1731000u;
        if (when.nanoseconds >= 1000000000u) {
            when.nanoseconds -= 1000000000u;
            when.seconds++;
        }
        if (n % 20 == 19) {
            su2_out_event tb = ev;
            tb.status = 0;
            tb.file_name = "traceback";
            tb.file_bytes = traceback;
            tb.file_len = sizeof traceback;
            tb.mime_type = "text/x-traceback; charset=utf8";
            tb.eof = 1;
            su2_write_event(&w, &tb);
            ev.status = SU2_STATUS_FAIL;
        } else {
            ev.status = SU2_STATUS_SUCCESS;
        }
        su2_write_event(&w, &ev);
    }
    su2_writer_free(&w);
}

int main(int argc, char **argv)
{
    long tests = argc > 1 ? atol(argv[1]) : 100000;
    int repeat = argc > 2 ? atoi(argv[2]) : 5, i;
    mem m = {NULL, 0, 0};
    double best_read = 1e9, best_crc = 1e9, best_write = 1e9, t;
    volatile uint32_t sink = 0;
    for (i = 0; i < repeat; i++) {
        mem scratch = {NULL, 0, 0};
        t = now();
        write_stream(&scratch, tests);
        t = now() - t;
        if (t < best_write)
            best_write = t;
        if (i == 0)
            m = scratch;
        else
            free(scratch.p);
    }
    for (i = 0; i < repeat; i++) {
        su2_reader r;
        size_t at;
        events = 0;
        su2_reader_init(&r, "stdout");
        t = now();
        for (at = 0; at < m.len; at += 65536)
            su2_reader_feed(&r, m.p + at, m.len - at < 65536 ? m.len - at : 65536, count,
                            NULL);
        su2_reader_close(&r, count, NULL);
        t = now() - t;
        su2_reader_free(&r);
        if (t < best_read)
            best_read = t;
        t = now();
        sink ^= su2_crc32(0, m.p, m.len);
        t = now() - t;
        if (t < best_crc)
            best_crc = t;
    }
    printf("stream: %ld tests, %ld packets, %.1f MiB\n", tests, events,
           (double)m.len / 1048576.0);
    printf("read    %8.4f s  %7.0f MB/s  %10.0f events/s\n", best_read,
           (double)m.len / best_read / 1e6, (double)events / best_read);
    printf("write   %8.4f s  %7.0f MB/s  %10.0f events/s\n", best_write,
           (double)m.len / best_write / 1e6, (double)events / best_write);
    printf("crc32   %8.4f s  %7.0f MB/s  (the whole stream in one call)\n", best_crc,
           (double)m.len / best_crc / 1e6);
    free(m.p);
    return (int)(sink & 0);
}
