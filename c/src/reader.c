/* The incremental reader: SPEC section 3, decision for decision the same as the
 * Python decoder (python/subunit2/decoder.py), including the wording of its
 * reports, so either can stand in for the other.
 *
 * Positions are indexes into the buffer being scanned, whose byte 0 is at stream
 * offset r->base.  Every read is checked against the end of the bytes at hand.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "subunit2.h"

#define NO_FIT "fields do not fit the packet length"
#define PARSER_TEST_ID "subunit.parser"

typedef struct scan {
    su2_reader *r;
    const unsigned char *b;
    size_t size;
    size_t packet_end; /* end of the last accepted packet (0: none yet) */
    size_t start;      /* the candidate being parsed */
    su2_event_fn fn;
    void *ctx;
} scan;

static su2_str str_of(const char *s)
{
    su2_str out;
    out.ptr = s;
    out.len = strlen(s);
    return out;
}

static void deliver(scan *s, const su2_event *ev)
{
    if (!s->r->stopped && s->fn(s->ctx, ev) != 0)
        s->r->stopped = 1;
}

static void blank(su2_event *ev, int kind)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->runnable = 1;
}

static void text(scan *s, size_t from, size_t to)
{
    su2_event ev;
    if (s->r->text_name == NULL)
        return;
    blank(&ev, SU2_EVENT_TEXT);
    ev.file_name.ptr = s->r->text_name;
    ev.file_name.len = s->r->text_name_len;
    ev.file_bytes = s->b + from;
    ev.file_len = to - from;
    ev.raw = ev.file_bytes;
    ev.raw_len = ev.file_len;
    deliver(s, &ev);
}

/* --- field parsing (a failure writes r->why and returns -1) -------------------- */

static int number(scan *s, size_t pos, size_t end, uint32_t *value, size_t *next)
{
    const unsigned char *b = s->b;
    size_t width, i;
    uint32_t v;
    if (pos >= end) {
        strcpy(s->r->why, "number runs past the end of the packet");
        return -1;
    }
    width = (size_t)(b[pos] >> 6) + 1;
    if (width > end - pos) {
        strcpy(s->r->why, "number runs past the end of the packet");
        return -1;
    }
    v = b[pos] & 0x3Fu;
    for (i = 1; i < width; i++)
        v = (v << 8) | b[pos + i];
    *value = v;
    *next = pos + width;
    return 0;
}

static int string(scan *s, size_t pos, size_t end, su2_str *out, size_t *next)
{
    const unsigned char *b = s->b;
    uint32_t size;
    if (pos < end && b[pos] < 0x40) {
        size = b[pos];
        pos += 1;
    } else if (number(s, pos, end, &size, &pos) != 0) {
        return -1;
    }
    if (size > end - pos) {
        snprintf(s->r->why, sizeof s->r->why,
                 "string of %" PRIu32 " bytes runs past the end of the packet", size);
        return -1;
    }
    if (memchr(b + pos, 0, size) != NULL) {
        snprintf(s->r->why, sizeof s->r->why,
                 "string at packet offset %zu contains a NUL byte", pos - s->start);
        return -1;
    }
    if (!su2_utf8_valid(b + pos, size)) {
        snprintf(s->r->why, sizeof s->r->why,
                 "string at packet offset %zu is not valid UTF-8", pos - s->start);
        return -1;
    }
    out->ptr = (const char *)b + pos;
    out->len = size;
    *next = pos + size;
    return 0;
}

/* Tags and mime type (in that order), then the rest after the file content. */
static int tags_mime(scan *s, size_t pos, size_t end, unsigned flags, su2_event *ev,
                     size_t *next)
{
    if (flags & SU2_FLAG_TAGS) {
        uint32_t count, i;
        su2_str tag;
        size_t first;
        if (number(s, pos, end, &count, &pos) != 0)
            return -1;
        first = pos;
        for (i = 0; i < count; i++)
            if (string(s, pos, end, &tag, &pos) != 0)
                return -1;
        ev->has_tags = 1;
        ev->n_tags = count;
        ev->tags = s->b + first;
        ev->tags_len = pos - first;
    }
    if (flags & SU2_FLAG_MIME_TYPE)
        if (string(s, pos, end, &ev->mime_type, &pos) != 0)
            return -1;
    *next = pos;
    return 0;
}

static int route_parent(scan *s, size_t pos, size_t end, unsigned flags,
                        su2_event *ev)
{
    if (flags & SU2_FLAG_ROUTE_CODE)
        if (string(s, pos, end, &ev->route_code, &pos) != 0)
            return -1;
    if (flags & SU2_FLAG_PARENT)
        if (string(s, pos, end, &ev->parent_test_id, &pos) != 0)
            return -1;
    if (pos != end) {
        snprintf(s->r->why, sizeof s->r->why, "%zu bytes left over after the fields",
                 end - pos);
        return -1;
    }
    return 0;
}

/* Every field of a packet whose frame and CRC are good. */
static int fields(scan *s, size_t at, size_t crc_at, unsigned flags, su2_event *ev)
{
    const unsigned char *b = s->b;
    blank(ev, SU2_EVENT_PACKET);
    ev->flags = flags;
    ev->status = (int)(flags & SU2_STATUS_MASK);
    ev->runnable = (flags & SU2_FLAG_RUNNABLE) != 0;
    ev->eof = (flags & SU2_FLAG_EOF) != 0;
    if (flags & SU2_FLAG_TIMESTAMP) {
        uint32_t seconds, nanos;
        if (crc_at - at < 5) {
            strcpy(s->r->why, "timestamp runs past the end of the packet");
            return -1;
        }
        seconds = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 |
                  (uint32_t)b[at + 2] << 8 | b[at + 3];
        if (number(s, at + 4, crc_at, &nanos, &at) != 0)
            return -1;
        if (nanos >= 1000000000u) {
            snprintf(s->r->why, sizeof s->r->why, "timestamp has %" PRIu32 " nanoseconds",
                     nanos);
            return -1;
        }
        ev->has_timestamp = 1;
        ev->seconds = seconds;
        ev->nanoseconds = nanos;
    }
    if (flags & SU2_FLAG_TEST_ID) {
        if (at < crc_at && b[at] < 0x40 && (size_t)b[at] <= crc_at - at - 1 &&
            memchr(b + at + 1, 0, b[at]) == NULL) {
            /* A short test id: its own wording for bad UTF-8, as in Python. */
            size_t n = b[at];
            if (!su2_utf8_valid(b + at + 1, n)) {
                strcpy(s->r->why, "test id is not valid UTF-8");
                return -1;
            }
            ev->test_id.ptr = (const char *)b + at + 1;
            ev->test_id.len = n;
            at += 1 + n;
        } else if (string(s, at, crc_at, &ev->test_id, &at) != 0) {
            return -1;
        }
    }
    if (flags & SU2_FLAG_FILE_CONTENT) {
        uint32_t n;
        if (tags_mime(s, at, crc_at, flags, ev, &at) != 0)
            return -1;
        if (string(s, at, crc_at, &ev->file_name, &at) != 0)
            return -1;
        if (number(s, at, crc_at, &n, &at) != 0)
            return -1;
        if (n > crc_at - at) {
            snprintf(s->r->why, sizeof s->r->why,
                     "file content of %" PRIu32 " bytes runs past the end of the packet",
                     n);
            return -1;
        }
        ev->file_bytes = b + at;
        ev->file_len = n;
        return route_parent(s, at + n, crc_at, flags, ev);
    }
    if (flags & (SU2_FLAG_TAGS | SU2_FLAG_MIME_TYPE | SU2_FLAG_ROUTE_CODE |
                 SU2_FLAG_PARENT)) {
        ev->suffix = b + at;
        ev->suffix_len = crc_at - at;
        if (tags_mime(s, at, crc_at, flags, ev, &at) != 0)
            return -1;
        return route_parent(s, at, crc_at, flags, ev);
    }
    if (at != crc_at) {
        snprintf(s->r->why, sizeof s->r->why, "%zu bytes left over after the fields",
                 crc_at - at);
        return -1;
    }
    return 0;
}

/* --- early verdicts on long candidates ------------------------------------------ */

enum { FIT_NO, FIT_YES, FIT_UNDECIDED };

/* A number at pos, using only bytes before avail.  FIT_YES sets *value and *next;
 * FIT_NO: it runs past end; FIT_UNDECIDED: it needs bytes not yet at hand. */
static int length_at(const unsigned char *b, uint64_t pos, uint64_t end, uint64_t avail,
                     uint64_t *value, uint64_t *next)
{
    uint64_t stop, v, i;
    if (pos >= end)
        return FIT_NO;
    if (pos >= avail)
        return FIT_UNDECIDED;
    stop = pos + (b[pos] >> 6) + 1;
    if (stop > end)
        return FIT_NO;
    if (stop > avail)
        return FIT_UNDECIDED;
    v = b[pos] & 0x3Fu;
    for (i = pos + 1; i < stop; i++)
        v = (v << 8) | b[i];
    *value = v;
    *next = stop;
    return FIT_YES;
}

#define LENGTH_AT(value)                                                        \
    do {                                                                        \
        int rc_ = length_at(b, pos, end, avail, (value), &pos);                 \
        if (rc_ != FIT_YES)                                                     \
            return rc_;                                                         \
    } while (0)

/* Whether the field lengths add up to exactly end, reading only before avail
 * (contents such as UTF-8 are not checked).  FIT_NO as soon as the bytes at hand
 * show a field past end or the fields ending short of it. */
static int fields_fit(const unsigned char *b, uint64_t pos, uint64_t end, unsigned flags,
                      uint64_t avail)
{
    static const unsigned order[4] = {SU2_FLAG_TEST_ID, SU2_FLAG_TAGS,
                                      SU2_FLAG_MIME_TYPE, SU2_FLAG_FILE_CONTENT};
    uint64_t size;
    int k;
    if (flags & SU2_FLAG_TIMESTAMP) {
        pos += 4; /* seconds, then the nanoseconds number */
        LENGTH_AT(&size);
    }
    for (k = 0; k < 4; k++) {
        uint64_t count = 1, i;
        unsigned flag = order[k];
        if (!(flags & flag))
            continue;
        if (flag == SU2_FLAG_TAGS)
            LENGTH_AT(&count);
        if (flag == SU2_FLAG_FILE_CONTENT)
            count = 2; /* the name, then the content */
        for (i = 0; i < count; i++) {
            LENGTH_AT(&size);
            pos += size;
            if (pos > end)
                return FIT_NO;
        }
    }
    if (flags & SU2_FLAG_ROUTE_CODE) {
        LENGTH_AT(&size);
        pos += size;
    }
    if (flags & SU2_FLAG_PARENT) {
        LENGTH_AT(&size);
        pos += size;
    }
    return pos == end ? FIT_YES : FIT_NO;
}

static int judged_early(const unsigned char *b, size_t start, size_t body, size_t length,
                        unsigned flags)
{
    size_t window = start + (length < SU2_REPORT_LIMIT ? length : SU2_REPORT_LIMIT);
    return fields_fit(b, body, start + length - 4, flags, window) == FIT_NO;
}

/* --- reports ---------------------------------------------------------------------- */

static int inside_utf8(const unsigned char *before, size_t n)
{
    size_t seen = 0;
    while (n > 0) {
        unsigned byte = before[--n];
        size_t wanted;
        if (byte >= 0x80 && byte < 0xC0) {
            seen++;
            continue;
        }
        if (byte >= 0xC2 && byte < 0xE0)
            wanted = 1;
        else if (byte >= 0xE0 && byte < 0xF0)
            wanted = 2;
        else if (byte >= 0xF0 && byte < 0xF5)
            wanted = 3;
        else
            return 0;
        return seen < wanted;
    }
    return 0;
}

/* Up to 3 non-packet bytes before b[start], reaching into earlier feeds. */
static size_t before(scan *s, size_t start, unsigned char out[3])
{
    size_t from = start >= 3 ? start - 3 : 0, n;
    if (from < s->packet_end)
        from = s->packet_end;
    n = start - from;
    if (s->packet_end == 0 && n < 3) {
        unsigned char joined[6];
        size_t total = s->r->tail_len + n, keep = total < 3 ? total : 3;
        if (s->r->tail_len)
            memcpy(joined, s->r->tail, s->r->tail_len);
        if (n)
            memcpy(joined + s->r->tail_len, s->b + from, n);
        if (keep)
            memcpy(out, joined + total - keep, keep);
        return keep;
    }
    if (n)
        memcpy(out, s->b + from, n);
    return n;
}

/* The candidate at start failed: report it unless it is just UTF-8 text.  Its
 * bytes at hand run to stop; claimed is its length when the header gave one
 * (0 otherwise).  Returns where the undelivered run of text now starts. */
static size_t report(scan *s, size_t text_start, size_t start, size_t stop,
                     size_t claimed)
{
    su2_reader *r = s->r;
    unsigned char prev[3];
    size_t n = before(s, start, prev), size = stop - start;
    char shown[80] = "";
    su2_event ev;
    if (inside_utf8(prev, n))
        return text_start;
    if (text_start < start)
        text(s, text_start, start);
    if (size > SU2_REPORT_LIMIT || (size == SU2_REPORT_LIMIT && claimed > size)) {
        if (claimed)
            snprintf(shown, sizeof shown, "; first %u of its %zu bytes attached",
                     SU2_REPORT_LIMIT, claimed);
        else
            snprintf(shown, sizeof shown, "; first %u of its None bytes attached",
                     SU2_REPORT_LIMIT);
        size = SU2_REPORT_LIMIT;
    }
    blank(&ev, SU2_EVENT_REPORT);
    ev.test_id = str_of(PARSER_TEST_ID);
    ev.file_name = str_of("Packet data");
    ev.file_bytes = s->b + start;
    ev.file_len = size;
    ev.eof = 1;
    ev.mime_type = str_of("application/octet-stream");
    deliver(s, &ev);
    snprintf(r->message, sizeof r->message, "%s (packet at stream offset %" PRIu64 "%s)",
             r->why, r->base + start, shown);
    ev.status = SU2_STATUS_FAIL;
    ev.file_name = str_of("Parser Error");
    ev.file_bytes = (const unsigned char *)r->message;
    ev.file_len = strlen(r->message);
    ev.mime_type = str_of("text/plain;charset=utf8");
    deliver(s, &ev);
    return start;
}

/* --- framing ---------------------------------------------------------------------- */

enum { FRAME_OK, FRAME_WAIT, FRAME_DATA, FRAME_BAD };

/* Decide on the candidate at start.  FRAME_OK sets *length and *body; FRAME_BAD
 * sets r->why, *stop (end of the bytes it spans) and *claimed (0: none). */
static int frame(scan *s, size_t start, int at_end, size_t *length, size_t *body,
                 size_t *stop, size_t *claimed)
{
    const unsigned char *b = s->b;
    size_t size = s->size, width, i, window;
    uint32_t value;
    *claimed = 0;
    if (size - start < 4) {
        if (!at_end)
            return FRAME_WAIT;
        if (size - start > 1 && (b[start + 1] & 0xF0) == 0x20) {
            strcpy(s->r->why, "truncated packet header");
            *stop = size;
            return FRAME_BAD;
        }
        return FRAME_DATA;
    }
    if ((b[start + 1] & 0xF0) != 0x20)
        return FRAME_DATA;
    width = (size_t)(b[start + 3] >> 6) + 1;
    *body = start + 3 + width;
    if (*body > size) {
        if (!at_end)
            return FRAME_WAIT;
        strcpy(s->r->why, "truncated packet header");
        *stop = size;
        return FRAME_BAD;
    }
    value = b[start + 3] & 0x3Fu;
    for (i = 1; i < width; i++)
        value = (value << 8) | b[start + 3 + i];
    if (value < SU2_MIN_PACKET || value > SU2_MAX_PACKET || value < 3 + width + 4) {
        snprintf(s->r->why, sizeof s->r->why, "packet length %" PRIu32 " is out of range",
                 value);
        *stop = *body;
        return FRAME_BAD;
    }
    *length = value;
    if (value > size - start) {
        unsigned flags = (unsigned)b[start + 1] << 8 | b[start + 2];
        window = value < SU2_REPORT_LIMIT ? value : SU2_REPORT_LIMIT;
        if (size - start >= window && judged_early(b, start, *body, value, flags)) {
            strcpy(s->r->why, NO_FIT);
            *stop = size;
            *claimed = value;
            return FRAME_BAD;
        }
        if (!at_end) {
            s->r->need = size - start < window ? window : value;
            return FRAME_WAIT;
        }
        snprintf(s->r->why, sizeof s->r->why,
                 "truncated packet: %" PRIu32 " bytes claimed, %zu present", value,
                 size - start);
        *stop = size;
        *claimed = value;
        return FRAME_BAD;
    }
    return FRAME_OK;
}

/* Scan s->b[0..size); returns the index of the first undecided byte. */
static size_t run(scan *s, int at_end)
{
    su2_reader *r = s->r;
    const unsigned char *b = s->b;
    size_t size = s->size, pos = 0, text_start = 0;
    su2_event ev;
    r->need = 0;
    s->packet_end = 0;
    for (;;) {
        const unsigned char *hit;
        size_t start, length = 0, body = 0, stop, crc_at, claimed;
        unsigned flags;
        uint32_t crc;
        hit = pos < size ? memchr(b + pos, SU2_SIGNATURE, size - pos) : NULL;
        if (hit == NULL) {
            pos = size;
            break;
        }
        start = (size_t)(hit - b);
        switch (frame(s, start, at_end, &length, &body, &stop, &claimed)) {
        case FRAME_WAIT:
            pos = start;
            goto done;
        case FRAME_DATA:
            pos = start + 1;
            continue;
        case FRAME_BAD:
            text_start = report(s, text_start, start, stop, claimed);
            pos = start + 1;
            continue;
        default:
            break;
        }
        flags = (unsigned)b[start + 1] << 8 | b[start + 2];
        stop = start + length;
        crc_at = stop - 4;
        if (length > 0x3FFF && fields_fit(b, body, crc_at, flags, crc_at) != FIT_YES) {
            /* Checked before the CRC, which costs up to 4 MiB per candidate. */
            strcpy(r->why, NO_FIT);
            text_start = report(s, text_start, start, stop, length);
            pos = start + 1;
            continue;
        }
        crc = (uint32_t)b[crc_at] << 24 | (uint32_t)b[crc_at + 1] << 16 |
              (uint32_t)b[crc_at + 2] << 8 | b[crc_at + 3];
        if (su2_crc32(0, b + start, length - 4) != crc) {
            strcpy(r->why, judged_early(b, start, body, length, flags) ? NO_FIT
                                                                       : "bad checksum");
            text_start = report(s, text_start, start, stop, length);
            pos = start + 1;
            continue;
        }
        s->start = start;
        if (fields(s, body, crc_at, flags, &ev) != 0) {
            if (judged_early(b, start, body, length, flags))
                strcpy(r->why, NO_FIT);
            text_start = report(s, text_start, start, stop, length);
            pos = start + 1;
            continue;
        }
        if (text_start < start)
            text(s, text_start, start);
        ev.raw = b + start;
        ev.raw_len = length;
        deliver(s, &ev);
        text_start = pos = s->packet_end = stop;
    }
done:
    if (text_start < pos)
        text(s, text_start, pos);
    {
        unsigned char prev[3];
        size_t n = before(s, pos, prev);
        if (n)
            memcpy(r->tail, prev, n);
        r->tail_len = n;
    }
    r->base += pos;
    return pos;
}

/* --- buffer management -------------------------------------------------------------- */

static int reserve(su2_reader *r, size_t more)
{
    size_t want = r->len + more, cap;
    unsigned char *grown;
    if (want <= r->cap)
        return 0;
    cap = r->cap ? r->cap : 4096;
    while (cap < want)
        cap = cap > ((size_t)-1) / 2 ? want : cap * 2;
    grown = (unsigned char *)realloc(r->buf, cap);
    if (grown == NULL)
        return -1;
    r->buf = grown;
    r->cap = cap;
    return 0;
}

/* Keep b[pos..size) as the undecided bytes. */
static int keep(su2_reader *r, const unsigned char *b, size_t pos, size_t size)
{
    size_t rest = size - pos;
    if (rest == 0) {
        r->len = 0;
        return 0;
    }
    if (b == r->buf) {
        memmove(r->buf, r->buf + pos, rest);
        r->len = rest;
        /* Give back a large buffer once it is mostly empty. */
        if (r->cap > (1u << 20) && rest < r->cap / 4) {
            unsigned char *smaller = (unsigned char *)realloc(r->buf, rest ? rest : 1);
            if (smaller != NULL) {
                r->buf = smaller;
                r->cap = rest ? rest : 1;
            }
        }
        return 0;
    }
    r->len = 0;
    if (reserve(r, rest) != 0)
        return -1;
    memcpy(r->buf, b + pos, rest);
    r->len = rest;
    return 0;
}

int su2_reader_init(su2_reader *r, const char *non_subunit_name)
{
    memset(r, 0, sizeof *r);
    if (non_subunit_name != NULL) {
        r->text_name_len = strlen(non_subunit_name);
        r->text_name = (char *)malloc(r->text_name_len + 1);
        if (r->text_name == NULL)
            return SU2_ENOMEM;
        memcpy(r->text_name, non_subunit_name, r->text_name_len + 1);
    }
    return SU2_OK;
}

void su2_reader_free(su2_reader *r)
{
    free(r->buf);
    free(r->text_name);
    memset(r, 0, sizeof *r);
}

uint64_t su2_reader_offset(const su2_reader *r)
{
    return r->base;
}

int su2_reader_feed(su2_reader *r, const void *data, size_t len, su2_event_fn fn,
                    void *ctx)
{
    scan s;
    size_t pos;
    if (r->closed)
        return SU2_EINVAL;
    if (len == 0)
        return SU2_OK;
    r->stopped = 0;
    s.r = r;
    s.fn = fn;
    s.ctx = ctx;
    if (r->need || r->len) {
        if (reserve(r, len) != 0)
            return SU2_ENOMEM;
        memcpy(r->buf + r->len, data, len);
        r->len += len;
        if (r->need && r->len < r->need)
            return SU2_OK; /* a long candidate: gather without rescanning */
        s.b = r->buf;
        s.size = r->len;
    } else {
        s.b = (const unsigned char *)data; /* nothing held: scan in place */
        s.size = len;
    }
    pos = run(&s, 0);
    if (keep(r, s.b, pos, s.size) != 0)
        return SU2_ENOMEM;
    return r->stopped ? SU2_EABORT : SU2_OK;
}

int su2_reader_close(su2_reader *r, su2_event_fn fn, void *ctx)
{
    scan s;
    if (r->closed)
        return SU2_OK;
    r->closed = 1;
    r->stopped = 0;
    s.r = r;
    s.fn = fn;
    s.ctx = ctx;
    s.b = r->buf != NULL ? r->buf : (const unsigned char *)"";
    s.size = r->len;
    run(&s, 1);
    r->len = 0;
    r->need = 0;
    return r->stopped ? SU2_EABORT : SU2_OK;
}

int su2_tags_next(const su2_event *ev, size_t *pos, su2_str *tag)
{
    /* The reader validated every name, so lengths are known to fit. */
    const unsigned char *b = ev->tags;
    size_t at = *pos, width, i, n;
    if (!ev->has_tags || at >= ev->tags_len)
        return 0;
    width = (size_t)(b[at] >> 6) + 1;
    n = b[at] & 0x3Fu;
    for (i = 1; i < width; i++)
        n = (n << 8) | b[at + i];
    tag->ptr = (const char *)b + at + width;
    tag->len = n;
    *pos = at + width + n;
    return 1;
}
