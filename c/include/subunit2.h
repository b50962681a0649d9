/* libsubunit2: a C99 writer and reader for the subunit v2 / 2.1 protocol.
 *
 * Writer: su2_writer_* turns events into packets and hands the bytes to a write
 * callback (helpers for a FILE* and a file descriptor are included).
 * Reader: su2_reader_* is an incremental parser following SPEC section 3 of the
 * subunit2 project: bytes go in, in pieces of any size, and events come out through
 * a callback.  It never reads out of bounds and never fails on any input; what is
 * not a packet comes out as non-subunit data, and failed candidates are reported
 * in-band on test id "subunit.parser", exactly as the Python decoder does.
 *
 * No dependencies beyond the C99 standard library (and POSIX write() for the
 * file-descriptor sink).
 */
#ifndef SUBUNIT2_H
#define SUBUNIT2_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SU2_VERSION_STRING "0.1.0"

/* Wire facts (SPEC section 2). */
#define SU2_SIGNATURE 0xB3
#define SU2_FLAG_TEST_ID 0x0800u
#define SU2_FLAG_ROUTE_CODE 0x0400u
#define SU2_FLAG_TIMESTAMP 0x0200u
#define SU2_FLAG_RUNNABLE 0x0100u
#define SU2_FLAG_TAGS 0x0080u
#define SU2_FLAG_FILE_CONTENT 0x0040u
#define SU2_FLAG_MIME_TYPE 0x0020u
#define SU2_FLAG_EOF 0x0010u
#define SU2_FLAG_PARENT 0x0008u /* protocol 2.1 */
#define SU2_STATUS_MASK 0x0007u
#define SU2_MIN_PACKET 8u
#define SU2_MAX_PACKET 4194303u
#define SU2_MAX_NUMBER 1073741823u
/* Bytes of a failed candidate attached to its report, and the window on which a
 * long candidate is judged early (same as the Python decoder's REPORT_LIMIT). */
#define SU2_REPORT_LIMIT 256u

enum su2_status {
    SU2_STATUS_NONE = 0,
    SU2_STATUS_EXISTS = 1,
    SU2_STATUS_INPROGRESS = 2,
    SU2_STATUS_SUCCESS = 3,
    SU2_STATUS_UXSUCCESS = 4,
    SU2_STATUS_SKIP = 5,
    SU2_STATUS_FAIL = 6,
    SU2_STATUS_XFAIL = 7
};

/* Error codes (negative) returned by the writer. */
#define SU2_OK 0
#define SU2_EINVAL (-1) /* an argument cannot be encoded */
#define SU2_ENOMEM (-2)
#define SU2_EWRITE (-3) /* the sink's write callback failed */
#define SU2_EABORT (-4) /* the reader's callback asked to stop */

/* The status name ("success", ...) of a code, NULL for SU2_STATUS_NONE. */
const char *su2_status_name(int status);
/* The code of a status name, or -1 when unknown. */
int su2_status_code(const char *name);

/* The zlib CRC-32 of data, continuing from crc (start with 0). */
uint32_t su2_crc32(uint32_t crc, const void *data, size_t len);
/* 1 when data[0..len) is valid UTF-8 (as Python's strict decoder judges it). */
int su2_utf8_valid(const unsigned char *data, size_t len);

/* ------------------------------------------------------------------ writer */

typedef struct su2_time {
    uint32_t seconds;     /* since the Unix epoch, UTC */
    uint32_t nanoseconds; /* < 1000000000 */
} su2_time;

/* One status() call.  Strings are NUL-terminated UTF-8 (the wire forbids NUL);
 * NULL means absent.  Start from SU2_OUT_EVENT_INIT (runnable defaults to 1). */
typedef struct su2_out_event {
    const char *test_id;
    int status;               /* enum su2_status */
    const char *const *tags;  /* NULL: no tags field; else n_tags names */
    size_t n_tags;
    int runnable;
    const char *file_name;    /* required when file_bytes is given */
    const void *file_bytes;   /* NULL: no attachment chunk */
    size_t file_len;
    int eof;
    const char *mime_type;
    const char *route_code;
    const su2_time *timestamp; /* NULL: no timestamp */
    const char *parent_test_id; /* 2.1; dropped in v2-only mode */
} su2_out_event;

#define SU2_OUT_EVENT_INIT {NULL, 0, NULL, 0, 1, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL}

/* A sink: write all len bytes, return 0 on success, non-zero on failure. */
typedef int (*su2_write_fn)(void *ctx, const void *data, size_t len);

typedef struct su2_writer {
    su2_write_fn write;
    void *ctx;
    int v2_only;        /* drop parent ids for strict pre-2.1 readers */
    unsigned char *buf; /* scratch for one packet */
    size_t cap;
} su2_writer;

void su2_writer_init(su2_writer *w, su2_write_fn write, void *ctx);
/* Sinks for a stdio stream (not flushed per packet) and a file descriptor. */
void su2_writer_init_file(su2_writer *w, FILE *stream);
void su2_writer_init_fd(su2_writer *w, int fd);
void su2_writer_free(su2_writer *w);

/* Encode one event as one or more packets and write them.  Every argument is
 * checked before a byte is written.  An attachment too large for one packet is
 * split; status and eof go on the last piece.  Returns SU2_OK or an error. */
int su2_write_event(su2_writer *w, const su2_out_event *ev);

/* Encode into memory instead: packets are appended to *out (realloc'd, *len and
 * *cap updated).  The same bytes su2_write_event would write. */
int su2_encode_event(const su2_out_event *ev, int v2_only, unsigned char **out,
                     size_t *len, size_t *cap);

/* The common cases.  `when` may be NULL (no timestamp). */
int su2_test_start(su2_writer *w, const char *test_id, const su2_time *when);
int su2_test_pass(su2_writer *w, const char *test_id, const su2_time *when);
int su2_test_fail(su2_writer *w, const char *test_id, const char *traceback,
                  size_t len, const su2_time *when);
int su2_test_skip(su2_writer *w, const char *test_id, const char *reason,
                  const su2_time *when);
int su2_attach(su2_writer *w, const char *test_id, const char *file_name,
               const char *mime_type, const void *data, size_t len, int eof,
               const su2_time *when);
/* The current time as a timestamp (1 s resolution where only time() exists). */
su2_time su2_now(void);

/* ------------------------------------------------------------------ reader */

/* A string inside the reader's buffer; ptr is NULL when the field is absent. */
typedef struct su2_str {
    const char *ptr;
    size_t len;
} su2_str;

enum su2_event_kind {
    SU2_EVENT_PACKET = 1, /* a valid packet */
    SU2_EVENT_TEXT = 2,   /* a run of non-subunit bytes (file_name: the reader's name) */
    SU2_EVENT_REPORT = 3  /* one of the two events reporting a failed candidate */
};

/* One decoded event, the fields of status().  Pointers are valid only during the
 * callback.  Tags are left encoded: walk them with su2_tags_next(). */
typedef struct su2_event {
    int kind;
    int status;
    int runnable;
    int eof;
    su2_str test_id;
    su2_str file_name;
    const unsigned char *file_bytes; /* NULL when absent */
    size_t file_len;
    su2_str mime_type;
    su2_str route_code;
    su2_str parent_test_id;
    int has_tags;
    uint32_t n_tags;              /* as written; duplicates possible */
    const unsigned char *tags;    /* the encoded names */
    size_t tags_len;
    int has_timestamp;
    uint32_t seconds;
    uint32_t nanoseconds;         /* < 10^9, not rounded */
    /* For packets: the encoded bytes from the tags field to the CRC (tags, mime
     * type, route code, parent), handy as a memo key; empty with file content. */
    const unsigned char *suffix;
    size_t suffix_len;
    unsigned flags;               /* the packet's wire flags (0 for text/reports) */
    /* The input bytes this event stands for: the whole packet, or the run of
     * non-subunit data (NULL for reports, whose bytes come again as data).  A
     * filter can forward them unchanged without encoding again. */
    const unsigned char *raw;
    size_t raw_len;
} su2_event;

/* Walk encoded tag names: *pos starts at 0; returns 1 and sets *tag, 0 at the end. */
int su2_tags_next(const su2_event *ev, size_t *pos, su2_str *tag);

/* Return 0 to go on; non-zero stops delivering (the reader still consumes the
 * input consistently and the feed returns SU2_EABORT). */
typedef int (*su2_event_fn)(void *ctx, const su2_event *ev);

typedef struct su2_reader {
    unsigned char *buf; /* undecided bytes; buf[0] is at stream offset base */
    size_t len, cap;
    uint64_t base;
    size_t need;        /* bytes (from buf[0]) a waiting candidate needs */
    unsigned char tail[3];
    size_t tail_len;
    int closed;
    int stopped;
    char *text_name;    /* file name of non-subunit data; NULL drops it */
    size_t text_name_len;
    char why[192];
    char message[320];
} su2_reader;

/* non_subunit_name: file name of non-subunit data ("stdout" by convention), or
 * NULL to drop that data.  Returns SU2_OK or SU2_ENOMEM. */
int su2_reader_init(su2_reader *r, const char *non_subunit_name);
void su2_reader_free(su2_reader *r);
/* Feed bytes; completed events go to fn.  Returns SU2_OK, SU2_ENOMEM,
 * SU2_EABORT when fn asked to stop, or SU2_EINVAL after su2_reader_close. */
int su2_reader_feed(su2_reader *r, const void *data, size_t len, su2_event_fn fn,
                    void *ctx);
/* End of stream: decide on everything held (a truncated candidate becomes data and
 * a report).  Later calls deliver nothing. */
int su2_reader_close(su2_reader *r, su2_event_fn fn, void *ctx);
/* Stream offset of the first byte not yet decided on. */
uint64_t su2_reader_offset(const su2_reader *r);

#ifdef __cplusplus
}
#endif

#endif
