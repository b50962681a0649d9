/* The writer: status() arguments in, v2/2.1 packets out.  The bytes are the same
 * as the Python encoder's (tags sorted, shortest numbers, the same frame sizes and
 * the same split of large attachments), so streams from either compare equal. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <errno.h>
#include <unistd.h>
#define SU2_HAVE_POSIX 1
#endif

#include "subunit2.h"
#include "wire.h"

/* Frame room besides the fields: signature, flags, up to 4 length bytes, CRC. */
#define FRAME_ROOM 11u

typedef struct out {
    unsigned char *p;
    size_t len, cap;
} out;

static int grow(out *o, size_t more)
{
    size_t cap;
    unsigned char *bigger;
    if (o->len + more <= o->cap)
        return 0;
    cap = o->cap ? o->cap : 256;
    while (cap < o->len + more)
        cap *= 2;
    bigger = (unsigned char *)realloc(o->p, cap);
    if (bigger == NULL)
        return SU2_ENOMEM;
    o->p = bigger;
    o->cap = cap;
    return 0;
}

static int check_string(const char *s, size_t *len)
{
    *len = strlen(s);
    if (*len > SU2_MAX_PACKET || !su2_utf8_valid((const unsigned char *)s, *len))
        return SU2_EINVAL;
    return 0;
}

static size_t string_size(size_t len)
{
    return su2_number_size((uint32_t)len) + len;
}

static unsigned char *put_string(unsigned char *p, const char *s, size_t len)
{
    p = su2_put_number(p, (uint32_t)len);
    memcpy(p, s, len);
    return p + len;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append one framed packet of body (already laid out after room for the head). */
static void frame(out *o, size_t at, unsigned flags, size_t body)
{
    unsigned char *p = o->p + at, *head;
    size_t size = body + 8, head_len, total;
    uint32_t crc;
    /* The length counts itself, so its own width decides the total. */
    if (size < 0x40) {
        head_len = 4;
        total = size;
    } else if (size < 0x3FFF) {
        head_len = 5;
        total = size + 1;
    } else {
        head_len = 6;
        total = size + 2;
    }
    /* The body was written 6 bytes in; slide it to sit right after the head. */
    if (head_len != 6)
        memmove(p + head_len, p + 6, body);
    head = p;
    head[0] = SU2_SIGNATURE;
    head[1] = (unsigned char)(flags >> 8);
    head[2] = (unsigned char)flags;
    if (head_len == 4) {
        head[3] = (unsigned char)total;
    } else if (head_len == 5) {
        head[3] = (unsigned char)(0x40 | total >> 8);
        head[4] = (unsigned char)total;
    } else {
        head[3] = (unsigned char)(0x80 | total >> 16);
        head[4] = (unsigned char)(total >> 8);
        head[5] = (unsigned char)total;
    }
    crc = su2_crc32(0, p, head_len + body);
    p += head_len + body;
    p[0] = (unsigned char)(crc >> 24);
    p[1] = (unsigned char)(crc >> 16);
    p[2] = (unsigned char)(crc >> 8);
    p[3] = (unsigned char)crc;
    o->len = at + total;
}

int su2_encode_event(const su2_out_event *ev, int v2_only, unsigned char **buf,
                     size_t *len, size_t *cap)
{
    out o;
    unsigned flags = 0x2000u;
    size_t id_len = 0, mime_len = 0, route_len = 0, parent_len = 0, name_len = 0;
    size_t head = 0, after = 0, tags_size = 0, i, n_unique = 0;
    const char **sorted = NULL;
    const char *parent = v2_only ? NULL : ev->parent_test_id;
    unsigned char ts[8];
    size_t ts_len = 0;
    int rc = SU2_EINVAL;

    o.p = *buf;
    o.len = *len;
    o.cap = *cap;
    if (ev->status < 0 || ev->status > 7)
        return SU2_EINVAL;
    flags |= (unsigned)ev->status;
    if (ev->runnable)
        flags |= SU2_FLAG_RUNNABLE;
    if (ev->eof)
        flags |= SU2_FLAG_EOF;
    if (ev->timestamp != NULL) {
        uint32_t nanos = ev->timestamp->nanoseconds;
        unsigned char *p = ts;
        if (nanos >= 1000000000u)
            return SU2_EINVAL;
        flags |= SU2_FLAG_TIMESTAMP;
        p[0] = (unsigned char)(ev->timestamp->seconds >> 24);
        p[1] = (unsigned char)(ev->timestamp->seconds >> 16);
        p[2] = (unsigned char)(ev->timestamp->seconds >> 8);
        p[3] = (unsigned char)ev->timestamp->seconds;
        ts_len = (size_t)(su2_put_number(p + 4, nanos) - ts);
    }
    head += ts_len;
    if (ev->test_id != NULL) {
        if (check_string(ev->test_id, &id_len))
            return SU2_EINVAL;
        flags |= SU2_FLAG_TEST_ID;
        head += string_size(id_len);
    }
    if (ev->tags != NULL) {
        /* Sorted and without repeats, as a set of names written by Python. */
        flags |= SU2_FLAG_TAGS;
        if (ev->n_tags) {
            sorted = (const char **)malloc(ev->n_tags * sizeof *sorted);
            if (sorted == NULL)
                return SU2_ENOMEM;
            for (i = 0; i < ev->n_tags; i++) {
                size_t tlen;
                if (ev->tags[i] == NULL || check_string(ev->tags[i], &tlen))
                    goto fail;
                sorted[i] = ev->tags[i];
            }
            qsort(sorted, ev->n_tags, sizeof *sorted, by_name);
            for (i = 0; i < ev->n_tags; i++)
                if (n_unique == 0 || strcmp(sorted[n_unique - 1], sorted[i]) != 0)
                    sorted[n_unique++] = sorted[i];
            for (i = 0; i < n_unique; i++)
                tags_size += string_size(strlen(sorted[i]));
        }
        if (n_unique > SU2_MAX_NUMBER)
            goto fail;
        tags_size += su2_number_size((uint32_t)n_unique);
        head += tags_size;
    }
    if (ev->mime_type != NULL) {
        if (check_string(ev->mime_type, &mime_len))
            goto fail;
        flags |= SU2_FLAG_MIME_TYPE;
        head += string_size(mime_len);
    }
    if (ev->route_code != NULL) {
        if (check_string(ev->route_code, &route_len))
            goto fail;
        flags |= SU2_FLAG_ROUTE_CODE;
        after += string_size(route_len);
    }
    if (parent != NULL) {
        if (check_string(parent, &parent_len))
            goto fail;
        flags |= SU2_FLAG_PARENT;
        after += string_size(parent_len);
    }
    if (ev->file_bytes != NULL) {
        if (ev->file_name == NULL || check_string(ev->file_name, &name_len))
            goto fail;
        flags |= SU2_FLAG_FILE_CONTENT;
        head += string_size(name_len);
    } else if (ev->file_name != NULL) {
        goto fail;
    }

    {
        /* Lay out: [head fields][content number][content][route][parent], once per
         * piece when the content must be split. */
        size_t room = 0, content = ev->file_bytes ? ev->file_len : 0, done = 0;
        int pieces = ev->file_bytes != NULL;
        if (pieces) {
            if (SU2_MAX_PACKET < FRAME_ROOM + head + after + 4)
                goto fail;
            room = SU2_MAX_PACKET - FRAME_ROOM - head - after - 4;
            if (content > room && room < 1)
                goto fail;
        } else if (head + after + FRAME_ROOM > SU2_MAX_PACKET) {
            goto fail;
        }
        do {
            size_t chunk = content - done, body, at = o.len;
            unsigned piece_flags = flags;
            unsigned char *p;
            if (pieces && chunk > room) {
                chunk = room;
                piece_flags &= ~(SU2_FLAG_EOF | SU2_STATUS_MASK);
            }
            body = head + after + (pieces ? su2_number_size((uint32_t)chunk) + chunk : 0);
            rc = grow(&o, body + 10);
            if (rc)
                goto fail;
            p = o.p + at + 6;
            memcpy(p, ts, ts_len);
            p += ts_len;
            if (ev->test_id)
                p = put_string(p, ev->test_id, id_len);
            if (ev->tags) {
                p = su2_put_number(p, (uint32_t)n_unique);
                for (i = 0; i < n_unique; i++)
                    p = put_string(p, sorted[i], strlen(sorted[i]));
            }
            if (ev->mime_type)
                p = put_string(p, ev->mime_type, mime_len);
            if (pieces) {
                p = put_string(p, ev->file_name, name_len);
                p = su2_put_number(p, (uint32_t)chunk);
                if (chunk)
                    memcpy(p, (const unsigned char *)ev->file_bytes + done, chunk);
                p += chunk;
            }
            if (ev->route_code)
                p = put_string(p, ev->route_code, route_len);
            if (parent)
                p = put_string(p, parent, parent_len);
            frame(&o, at, piece_flags, body);
            done += chunk;
        } while (done < content);
    }
    free(sorted);
    *buf = o.p;
    *len = o.len;
    *cap = o.cap;
    return SU2_OK;
fail:
    free(sorted);
    *buf = o.p;
    *cap = o.cap;
    return rc == SU2_ENOMEM ? SU2_ENOMEM : SU2_EINVAL;
}

void su2_writer_init(su2_writer *w, su2_write_fn write, void *ctx)
{
    memset(w, 0, sizeof *w);
    w->write = write;
    w->ctx = ctx;
}

static int write_file(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

void su2_writer_init_file(su2_writer *w, FILE *stream)
{
    su2_writer_init(w, write_file, stream);
}

#ifdef SU2_HAVE_POSIX
static int write_fd(void *ctx, const void *data, size_t len)
{
    int fd = (int)(intptr_t)ctx;
    const char *p = (const char *)data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void su2_writer_init_fd(su2_writer *w, int fd)
{
    su2_writer_init(w, write_fd, (void *)(intptr_t)fd);
}
#endif

void su2_writer_free(su2_writer *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = 0;
}

int su2_write_event(su2_writer *w, const su2_out_event *ev)
{
    size_t len = 0;
    int rc = su2_encode_event(ev, w->v2_only, &w->buf, &len, &w->cap);
    if (rc)
        return rc;
    return w->write(w->ctx, w->buf, len) == 0 ? SU2_OK : SU2_EWRITE;
}

static int status_event(su2_writer *w, const char *test_id, int status,
                        const su2_time *when)
{
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    ev.test_id = test_id;
    ev.status = status;
    ev.timestamp = when;
    return su2_write_event(w, &ev);
}

int su2_test_start(su2_writer *w, const char *test_id, const su2_time *when)
{
    return status_event(w, test_id, SU2_STATUS_INPROGRESS, when);
}

int su2_test_pass(su2_writer *w, const char *test_id, const su2_time *when)
{
    return status_event(w, test_id, SU2_STATUS_SUCCESS, when);
}

int su2_attach(su2_writer *w, const char *test_id, const char *file_name,
               const char *mime_type, const void *data, size_t len, int eof,
               const su2_time *when)
{
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    ev.test_id = test_id;
    ev.file_name = file_name;
    ev.file_bytes = data ? data : "";
    ev.file_len = len;
    ev.eof = eof;
    ev.mime_type = mime_type;
    ev.timestamp = when;
    return su2_write_event(w, &ev);
}

int su2_test_fail(su2_writer *w, const char *test_id, const char *traceback,
                  size_t len, const su2_time *when)
{
    int rc;
    if (traceback != NULL) {
        rc = su2_attach(w, test_id, "traceback", "text/x-traceback; charset=utf8",
                        traceback, len, 1, when);
        if (rc)
            return rc;
    }
    return status_event(w, test_id, SU2_STATUS_FAIL, when);
}

int su2_test_skip(su2_writer *w, const char *test_id, const char *reason,
                  const su2_time *when)
{
    int rc;
    if (reason != NULL) {
        rc = su2_attach(w, test_id, "reason", "text/plain;charset=utf8", reason,
                        strlen(reason), 1, when);
        if (rc)
            return rc;
    }
    return status_event(w, test_id, SU2_STATUS_SKIP, when);
}

su2_time su2_now(void)
{
    su2_time t;
#ifdef SU2_HAVE_POSIX
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
        t.seconds = (uint32_t)ts.tv_sec;
        t.nanoseconds = (uint32_t)ts.tv_nsec;
        return t;
    }
#endif
    t.seconds = (uint32_t)time(NULL);
    t.nanoseconds = 0;
    return t;
}
