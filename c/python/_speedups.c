/* subunit2._speedups: the compiled Decoder and Encoder behind the Python API.
 *
 * Built from the same sources as libsubunit2 (c/src).  The Decoder wraps the C
 * reader and builds Event tuples directly; the Encoder handles the usual
 * arguments in C and hands anything unusual (wrong types, errors, subclasses) to
 * the pure-Python encoder, so every error message stays the Python one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

#include "subunit2.h"
#include "wire.h"

#ifndef PySet_CheckExact /* added in Python 3.10 */
#define PySet_CheckExact(op) (Py_TYPE(op) == &PySet_Type)
#endif

/* Module-wide state, set up once at import. */
static PyTypeObject *event_type;       /* subunit2.event.Event */
static PyObject *status_names[8];      /* None, "exists", ... */
static PyObject *utc;                  /* datetime.timezone.utc */
static PyObject *s_parser_id, *s_packet_data, *s_parser_error, *s_octet, *s_text_plain;
static PyObject *kw_names[11];         /* status() keyword names, in Event order */
static PyObject *kw_tuple;             /* the same as a tuple, for vectorcalls */
static PyObject *s_status;             /* "status" */
static PyObject *s_stdout;             /* "stdout", the default non_subunit_name */

/* ============================================================== Decoder */

#define SUFFIX_SLOTS 1024
#define SUFFIX_MAX 512

typedef struct suffix_slot {
    unsigned flags;
    size_t len;
    unsigned char *bytes;
    PyObject *fields; /* (tags, mime, route, parent) */
} suffix_slot;

typedef struct {
    PyObject_HEAD
    su2_reader reader;
    PyObject *name;      /* non_subunit_name (str or None) */
    PyObject *events;    /* list being filled during a feed */
    int failed;
    long long second;    /* cached second and its calendar fields */
    int cal[6];
    PyObject *last_id;   /* the last test id, reused when repeated */
    suffix_slot *slots;
} DecoderObject;

static PyObject *new_str(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "strict");
    {
        PyObject *s = PyUnicode_New((Py_ssize_t)n, 127);
        if (s != NULL)
            memcpy(PyUnicode_DATA(s), p, n);
        return s;
    }
}

static PyObject *opt_str(su2_str s)
{
    if (s.ptr == NULL)
        Py_RETURN_NONE;
    return new_str(s.ptr, s.len);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(long long days, int *y, int *m, int *d)
{
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static PyObject *timestamp(DecoderObject *self, const su2_event *ev)
{
    long long seconds = ev->seconds;
    long micros = (long)(ev->nanoseconds / 1000), rest = (long)(ev->nanoseconds % 1000);
    /* Round to the microsecond, ties to even. */
    if (rest > 500 || (rest == 500 && (micros & 1))) {
        micros += 1;
        if (micros == 1000000) {
            seconds += 1;
            micros = 0;
        }
    }
    if (seconds != self->second) {
        long long day = seconds / 86400, in_day = seconds % 86400;
        self->second = seconds;
        civil(day, &self->cal[0], &self->cal[1], &self->cal[2]);
        self->cal[3] = (int)(in_day / 3600);
        self->cal[4] = (int)(in_day / 60 % 60);
        self->cal[5] = (int)(in_day % 60);
    }
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        self->cal[0], self->cal[1], self->cal[2], self->cal[3], self->cal[4],
        self->cal[5], (int)micros, utc, PyDateTimeAPI->DateTimeType);
}

static PyObject *tags_of(const su2_event *ev)
{
    PyObject *set, *fs;
    size_t pos = 0;
    su2_str tag;
    set = PySet_New(NULL);
    if (set == NULL)
        return NULL;
    while (su2_tags_next(ev, &pos, &tag)) {
        PyObject *name = new_str(tag.ptr, tag.len);
        if (name == NULL || PySet_Add(set, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(set);
            return NULL;
        }
        Py_DECREF(name);
    }
    fs = PyFrozenSet_New(set);
    Py_DECREF(set);
    return fs;
}

/* (tags, mime, route, parent) of a packet. */
static PyObject *suffix_fields(const su2_event *ev)
{
    PyObject *t = PyTuple_New(4);
    PyObject *v;
    if (t == NULL)
        return NULL;
    if (ev->has_tags) {
        v = tags_of(ev);
    } else {
        v = Py_None;
        Py_INCREF(v);
    }
    if (v == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 0, v);
    if ((v = opt_str(ev->mime_type)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 1, v);
    if ((v = opt_str(ev->route_code)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 2, v);
    if ((v = opt_str(ev->parent_test_id)) == NULL)
        goto fail;
    PyTuple_SET_ITEM(t, 3, v);
    return t;
fail:
    Py_DECREF(t);
    return NULL;
}

/* Tags, mime type, route code and parent repeat packet after packet: decode each
 * distinct run of their bytes once (a fixed-size table, so memory is bounded). */
static PyObject *cached_suffix(DecoderObject *self, const su2_event *ev)
{
    unsigned flags = ev->flags & (SU2_FLAG_TAGS | SU2_FLAG_MIME_TYPE |
                                  SU2_FLAG_ROUTE_CODE | SU2_FLAG_PARENT);
    uint32_t h = 2166136261u ^ flags;
    size_t i;
    suffix_slot *slot;
    PyObject *fields;
    if (ev->suffix_len > SUFFIX_MAX || self->slots == NULL)
        return suffix_fields(ev);
    for (i = 0; i < ev->suffix_len; i++)
        h = (h ^ ev->suffix[i]) * 16777619u;
    slot = &self->slots[h % SUFFIX_SLOTS];
    if (slot->fields != NULL && slot->flags == flags && slot->len == ev->suffix_len &&
        memcmp(slot->bytes, ev->suffix, ev->suffix_len) == 0) {
        Py_INCREF(slot->fields);
        return slot->fields;
    }
    fields = suffix_fields(ev);
    if (fields == NULL)
        return NULL;
    {
        unsigned char *copy = (unsigned char *)PyMem_Malloc(ev->suffix_len + 1);
        if (copy != NULL) {
            memcpy(copy, ev->suffix, ev->suffix_len);
            PyMem_Free(slot->bytes);
            Py_XDECREF(slot->fields);
            slot->bytes = copy;
            slot->len = ev->suffix_len;
            slot->flags = flags;
            Py_INCREF(fields);
            slot->fields = fields;
        }
    }
    return fields;
}

static PyObject *test_id_of(DecoderObject *self, const su2_event *ev)
{
    PyObject *id;
    if (ev->test_id.ptr == NULL)
        Py_RETURN_NONE;
    if (self->last_id != NULL && PyUnicode_IS_COMPACT_ASCII(self->last_id) &&
        (size_t)PyUnicode_GET_LENGTH(self->last_id) == ev->test_id.len &&
        memcmp(PyUnicode_DATA(self->last_id), ev->test_id.ptr, ev->test_id.len) == 0) {
        Py_INCREF(self->last_id);
        return self->last_id;
    }
    id = new_str(ev->test_id.ptr, ev->test_id.len);
    if (id != NULL) {
        Py_XSETREF(self->last_id, id);
        Py_INCREF(id);
    }
    return id;
}

static PyObject *make_event(PyObject *items[11])
{
    PyObject *ev = event_type->tp_alloc(event_type, 11);
    int i;
    if (ev == NULL) {
        for (i = 0; i < 11; i++)
            Py_XDECREF(items[i]);
        return NULL;
    }
    for (i = 0; i < 11; i++)
        PyTuple_SET_ITEM(ev, i, items[i]);
    /* Its fields (str, bytes, bool, None, datetime, a frozenset of str) cannot
     * lead back to it, so the collector need not track it: CPython untracks such
     * tuples itself, but only once a collection has visited them. */
    PyObject_GC_UnTrack(ev);
    return ev;
}

static PyObject *bool_of(int v)
{
    PyObject *b = v ? Py_True : Py_False;
    Py_INCREF(b);
    return b;
}

static PyObject *py_event(DecoderObject *self, const su2_event *ev)
{
    PyObject *items[11] = {0};
    int i;
    if (ev->kind == SU2_EVENT_TEXT) {
        for (i = 0; i < 11; i++)
            items[i] = Py_None;
        items[3] = Py_True;
        items[4] = self->name;
        items[6] = Py_False;
        for (i = 0; i < 11; i++)
            Py_INCREF(items[i]);
        items[5] = PyBytes_FromStringAndSize((const char *)ev->file_bytes,
                                             (Py_ssize_t)ev->file_len);
        if (items[5] == NULL) {
            items[5] = Py_None;
            Py_INCREF(Py_None);
            for (i = 0; i < 11; i++)
                Py_DECREF(items[i]);
            return NULL;
        }
        return make_event(items);
    }
    if (ev->kind == SU2_EVENT_REPORT) {
        int is_error = ev->status == SU2_STATUS_FAIL;
        for (i = 0; i < 11; i++)
            items[i] = Py_None;
        items[0] = s_parser_id;
        items[1] = status_names[ev->status];
        items[3] = Py_True;
        items[4] = is_error ? s_parser_error : s_packet_data;
        items[6] = Py_True;
        items[7] = is_error ? s_text_plain : s_octet;
        for (i = 0; i < 11; i++)
            Py_INCREF(items[i]);
        Py_DECREF(items[5]);
        items[5] = PyBytes_FromStringAndSize((const char *)ev->file_bytes,
                                             (Py_ssize_t)ev->file_len);
        if (items[5] == NULL) {
            items[5] = Py_None;
            Py_INCREF(Py_None);
            for (i = 0; i < 11; i++)
                Py_DECREF(items[i]);
            return NULL;
        }
        return make_event(items);
    }
    /* A packet.  Stop at the first field that fails: no further call into the
     * C API with an exception set. */
    if ((items[0] = test_id_of(self, ev)) == NULL)
        goto fail;
    items[1] = status_names[ev->status];
    Py_INCREF(items[1]);
    items[3] = bool_of(ev->runnable);
    items[6] = bool_of(ev->eof);
    if (ev->file_bytes != NULL || ev->suffix != NULL) {
        /* (tags, mime, route, parent): cached for packets without content. */
        PyObject *fields = ev->file_bytes != NULL ? suffix_fields(ev)
                                                  : cached_suffix(self, ev);
        if (fields == NULL)
            goto fail;
        items[2] = PyTuple_GET_ITEM(fields, 0);
        items[7] = PyTuple_GET_ITEM(fields, 1);
        items[8] = PyTuple_GET_ITEM(fields, 2);
        items[10] = PyTuple_GET_ITEM(fields, 3);
        Py_INCREF(items[2]);
        Py_INCREF(items[7]);
        Py_INCREF(items[8]);
        Py_INCREF(items[10]);
        Py_DECREF(fields);
    } else {
        items[2] = items[7] = items[8] = items[10] = Py_None;
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
    }
    if (ev->file_bytes != NULL) {
        if ((items[4] = opt_str(ev->file_name)) == NULL)
            goto fail;
        items[5] = PyBytes_FromStringAndSize((const char *)ev->file_bytes,
                                             (Py_ssize_t)ev->file_len);
        if (items[5] == NULL)
            goto fail;
    } else {
        items[4] = items[5] = Py_None;
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
    }
    if (ev->has_timestamp) {
        if ((items[9] = timestamp(self, ev)) == NULL)
            goto fail;
    } else {
        items[9] = Py_None;
        Py_INCREF(Py_None);
    }
    return make_event(items);
fail:
    for (i = 0; i < 11; i++)
        Py_XDECREF(items[i]);
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    return NULL;
}

static int on_event(void *ctx, const su2_event *ev)
{
    DecoderObject *self = (DecoderObject *)ctx;
    PyObject *obj = py_event(self, ev);
    int rc;
    if (obj == NULL) {
        self->failed = 1;
        return 1;
    }
    rc = PyList_Append(self->events, obj);
    Py_DECREF(obj);
    if (rc < 0) {
        self->failed = 1;
        return 1;
    }
    return 0;
}

/* A malloc'd NUL-terminated UTF-8 copy of name for the reader (*copy stays NULL
 * for None).  Checked and copied before anything changes, so a bad name leaves
 * the decoder as it was. */
static int name_copy(PyObject *name, char **copy, size_t *len)
{
    const char *utf8;
    Py_ssize_t n = 0;
    *copy = NULL;
    *len = 0;
    if (name == Py_None)
        return 0;
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "non_subunit_name must be a str or None");
        return -1;
    }
    utf8 = PyUnicode_AsUTF8AndSize(name, &n);
    if (utf8 == NULL)
        return -1;
    *copy = (char *)malloc((size_t)n + 1);
    if (*copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*copy, utf8, (size_t)n + 1);
    *len = (size_t)n;
    return 0;
}

static int set_name(DecoderObject *self, PyObject *name)
{
    char *copy;
    size_t n;
    if (name_copy(name, &copy, &n) < 0)
        return -1;
    /* Safe during a feed(): the reader reads text_name afresh for each run of
     * data and the events hold their own reference to the old name. */
    free(self->reader.text_name);
    self->reader.text_name = copy;
    self->reader.text_name_len = n;
    Py_INCREF(name);
    Py_XSETREF(self->name, name);
    return 0;
}

/* Every Decoder is usable from here on, even when __init__ never runs (a
 * subclass that does not call it, Decoder.__new__): the state of Decoder(). */
static PyObject *Decoder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    DecoderObject *self;
    (void)args;
    (void)kwds;
    self = (DecoderObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    /* tp_alloc zeroed the struct: the reader is as su2_reader_init leaves it. */
    self->second = -1;
    self->slots = (suffix_slot *)PyMem_Calloc(SUFFIX_SLOTS, sizeof(suffix_slot));
    if (self->slots == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (set_name(self, s_stdout) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int Decoder_init(DecoderObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"non_subunit_name", NULL};
    PyObject *name = s_stdout;
    char *copy;
    size_t n;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Decoder", kwlist, &name))
        return -1;
    if (name_copy(name, &copy, &n) < 0)
        return -1;
    if (self->events != NULL) {
        /* Called from inside feed()/close(): resetting the reader would free the
         * buffer being scanned. */
        free(copy);
        PyErr_SetString(PyExc_RuntimeError,
                        "Decoder.__init__() called during feed() or close()");
        return -1;
    }
    su2_reader_free(&self->reader);
    su2_reader_init(&self->reader, NULL); /* cannot fail without a name */
    self->reader.text_name = copy;
    self->reader.text_name_len = n;
    Py_INCREF(name);
    Py_XSETREF(self->name, name);
    self->second = -1;
    return 0;
}

static void Decoder_dealloc(DecoderObject *self)
{
    size_t i;
    su2_reader_free(&self->reader);
    Py_XDECREF(self->name);
    Py_XDECREF(self->events);
    Py_XDECREF(self->last_id);
    if (self->slots != NULL) {
        for (i = 0; i < SUFFIX_SLOTS; i++) {
            PyMem_Free(self->slots[i].bytes);
            Py_XDECREF(self->slots[i].fields);
        }
        PyMem_Free(self->slots);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *finish(DecoderObject *self, int rc)
{
    PyObject *events = self->events;
    self->events = NULL;
    if (self->failed || rc == SU2_ENOMEM) {
        Py_DECREF(events);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return NULL;
    }
    return events;
}

/* Refuse a call while feed() or close() runs on this decoder (from a finalizer
 * the collector runs, or another thread while Python code runs): the reader's
 * buffer is being scanned. */
static int busy(DecoderObject *self, const char *what)
{
    if (self->events == NULL)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "Decoder.%s() re-entered", what);
    return 1;
}

static PyObject *Decoder_feed(DecoderObject *self, PyObject *data)
{
    Py_buffer view;
    PyObject *events;
    int rc;
    if (self->reader.closed) {
        PyErr_SetString(PyExc_ValueError, "feed() after close()");
        return NULL;
    }
    if (busy(self, "feed"))
        return NULL;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        /* Accept what bytes() accepts, e.g. non-contiguous memoryviews. */
        PyObject *copy;
        PyErr_Clear();
        copy = PyBytes_FromObject(data);
        if (copy == NULL)
            return NULL;
        if (PyObject_GetBuffer(copy, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(copy);
            return NULL;
        }
        Py_DECREF(copy); /* the view keeps it alive */
    }
    events = PyList_New(0);
    if (events == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    /* Again: the calls above can run Python code that uses this decoder. */
    if (self->reader.closed || busy(self, "feed")) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "feed() after close()");
        Py_DECREF(events);
        PyBuffer_Release(&view);
        return NULL;
    }
    self->events = events;
    self->failed = 0;
    rc = su2_reader_feed(&self->reader, view.buf, (size_t)view.len, on_event, self);
    PyBuffer_Release(&view);
    return finish(self, rc);
}

static PyObject *Decoder_close(DecoderObject *self, PyObject *unused)
{
    PyObject *events;
    int rc;
    (void)unused;
    if (busy(self, "close"))
        return NULL;
    events = PyList_New(0);
    if (events == NULL)
        return NULL;
    if (busy(self, "close")) { /* a collection in PyList_New ran Python code */
        Py_DECREF(events);
        return NULL;
    }
    self->events = events;
    self->failed = 0;
    rc = su2_reader_close(&self->reader, on_event, self);
    return finish(self, rc);
}

static PyObject *Decoder_get_offset(DecoderObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong(su2_reader_offset(&self->reader));
}

static PyObject *Decoder_get_name(DecoderObject *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->name);
    return self->name;
}

static int Decoder_set_name(DecoderObject *self, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete non_subunit_name");
        return -1;
    }
    return set_name(self, value);
}

static PyMethodDef Decoder_methods[] = {
    {"feed", (PyCFunction)Decoder_feed, METH_O,
     "Add bytes from the stream; return the events they complete."},
    {"close", (PyCFunction)Decoder_close, METH_NOARGS,
     "End of stream: decide on everything still held and return its events."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Decoder_getset[] = {
    {"offset", (getter)Decoder_get_offset, NULL,
     "Stream offset of the first byte not yet decided on.", NULL},
    {"non_subunit_name", (getter)Decoder_get_name, (setter)Decoder_set_name,
     "File name given to non-subunit data (None drops it).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subunit2._speedups.Decoder",
    .tp_basicsize = sizeof(DecoderObject),
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Incremental v2/2.1 decoder (compiled; same behaviour as PyDecoder).",
    .tp_methods = Decoder_methods,
    .tp_getset = Decoder_getset,
    .tp_init = (initproc)Decoder_init,
    .tp_new = Decoder_new,
};

/* ============================================================== Encoder */

typedef struct {
    PyObject_HEAD
    int v2_only;
    PyObject *fallback; /* a pure-Python Encoder, made on first need */
    unsigned char *buf;
    size_t cap;
} EncoderObject;

/* Parse the 11 status() arguments from a vectorcall. */
static int parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      PyObject *out[11])
{
    Py_ssize_t i, k, nkw;
    for (i = 0; i < 11; i++)
        out[i] = NULL;
    if (nargs > 11) {
        PyErr_Format(PyExc_TypeError, "encode() takes at most 11 arguments (%zd given)",
                     nargs);
        return -1;
    }
    for (i = 0; i < nargs; i++)
        out[i] = args[i];
    nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (i = 0; i < 11; i++)
            if (key == kw_names[i]) {
                found = (int)i;
                break;
            }
        if (found < 0)
            for (i = 0; i < 11; i++)
                if (PyUnicode_Compare(key, kw_names[i]) == 0) {
                    found = (int)i;
                    break;
                }
        if (found < 0) {
            if (PyErr_Occurred())
                return -1;
            PyErr_Format(PyExc_TypeError,
                         "encode() got an unexpected keyword argument '%U'", key);
            return -1;
        }
        if (out[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "encode() got multiple values for argument '%U'",
                         key);
            return -1;
        }
        out[found] = args[nargs + k];
    }
    return 0;
}

/* 1: usable as a wire string (ptr and len set); 0: leave it to Python. */
static int wire_str(PyObject *obj, const char **ptr, size_t *len)
{
    Py_ssize_t n;
    const char *s;
    if (!PyUnicode_CheckExact(obj))
        return 0;
    if (PyUnicode_IS_COMPACT_ASCII(obj)) {
        s = (const char *)PyUnicode_DATA(obj);
        n = PyUnicode_GET_LENGTH(obj);
    } else {
        s = PyUnicode_AsUTF8AndSize(obj, &n); /* fails on lone surrogates */
        if (s == NULL) {
            PyErr_Clear();
            return 0;
        }
    }
    if ((size_t)n > SU2_MAX_PACKET || memchr(s, 0, (size_t)n) != NULL)
        return 0;
    *ptr = s;
    *len = (size_t)n;
    return 1;
}

static long long days_from_civil(int y, int m, int d)
{
    long long yy = y - (m <= 2);
    long long era = (yy >= 0 ? yy : yy - 399) / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static PyObject *py_fallback(EncoderObject *self, PyObject *a[11])
{
    PyObject *args[11], *fallback = self->fallback, *method, *r;
    int i;
    /* A strong reference: the v2_only setter may drop self->fallback meanwhile. */
    Py_XINCREF(fallback);
    if (fallback == NULL) {
        PyObject *mod = PyImport_ImportModule("subunit2.encoder"), *cls;
        int v2_only = self->v2_only;
        if (mod == NULL)
            return NULL;
        cls = PyObject_GetAttrString(mod, "PyEncoder");
        Py_DECREF(mod);
        if (cls == NULL)
            return NULL;
        {
            PyObject *kw =
                Py_BuildValue("{s:O}", "v2_only", v2_only ? Py_True : Py_False);
            PyObject *empty = PyTuple_New(0);
            if (kw != NULL && empty != NULL)
                fallback = PyObject_Call(cls, empty, kw);
            Py_XDECREF(kw);
            Py_XDECREF(empty);
        }
        Py_DECREF(cls);
        if (fallback == NULL)
            return NULL;
        /* The import and the constructor ran Python code, which may have made one
         * already or changed v2_only (another thread, a nested call): keep it only
         * when it still fits. */
        if (self->fallback == NULL && self->v2_only == v2_only) {
            Py_INCREF(fallback);
            self->fallback = fallback;
        }
    }
    for (i = 0; i < 11; i++)
        args[i] = a[i];
    method = PyObject_GetAttrString(fallback, "encode");
    Py_DECREF(fallback);
    if (method == NULL)
        return NULL;
    r = PyObject_Vectorcall(method, args, 11, NULL);
    Py_DECREF(method);
    return r;
}

#define MAX_FAST_TAGS 32

typedef struct span {
    const char *p;
    size_t n;
} span;

static unsigned char *put_span(unsigned char *p, span s)
{
    p = su2_put_number(p, s.n);
    memcpy(p, s.p, s.n);
    return p + s.n;
}

/* Byte order of UTF-8 is code point order: the order Python's sorted() gives. */
static int span_less(span a, span b)
{
    int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
    return c < 0 || (c == 0 && a.n < b.n);
}

static PyObject *encode_fast(EncoderObject *self, PyObject *a[11], int v2_only)
{
    span id = {NULL, 0}, mime = {NULL, 0}, route = {NULL, 0}, parent = {NULL, 0};
    span name = {NULL, 0}, tags[MAX_FAST_TAGS];
    size_t n_tags = 0, body = 0, content_len = 0, i, size, total, head_len;
    unsigned flags = 0x2000u;
    int has_tags = 0, r;
    unsigned char ts[8];
    size_t ts_len = 0;
    uint32_t ts_seconds = 0, ts_nanos = 0;
    Py_buffer view;
    int have_view = 0;
    PyObject *out;
    unsigned char *p, *start;
    uint32_t crc;
    for (i = 0; i < 11; i++)
        if (a[i] == NULL)
            a[i] = (i == 3) ? Py_True : (i == 6) ? Py_False : Py_None;
    if (v2_only)
        a[10] = Py_None;
    if (a[1] != Py_None) {
        int code = -1;
        for (i = 1; i < 8; i++)
            if (a[1] == status_names[i]) {
                code = (int)i;
                break;
            }
        if (code < 0) {
            span st;
            if (wire_str(a[1], &st.p, &st.n) != 1 || memchr(st.p, 0, st.n) ||
                (code = su2_status_code(st.p)) < 1)
                return py_fallback(self, a);
        }
        flags |= (unsigned)code;
    }
    if ((r = PyObject_IsTrue(a[3])) < 0)
        return NULL;
    if (r)
        flags |= SU2_FLAG_RUNNABLE;
    if ((r = PyObject_IsTrue(a[6])) < 0)
        return NULL;
    if (r)
        flags |= SU2_FLAG_EOF;
    if (a[9] != Py_None) {
        PyObject *t = a[9];
        long long days, secs;
        if (Py_TYPE(t) != PyDateTimeAPI->DateTimeType ||
            !((PyDateTime_DateTime *)t)->hastzinfo ||
            ((PyDateTime_DateTime *)t)->tzinfo != utc)
            return py_fallback(self, a);
        days = days_from_civil(PyDateTime_GET_YEAR(t), PyDateTime_GET_MONTH(t),
                               PyDateTime_GET_DAY(t));
        secs = days * 86400 + PyDateTime_DATE_GET_HOUR(t) * 3600 +
               PyDateTime_DATE_GET_MINUTE(t) * 60 + PyDateTime_DATE_GET_SECOND(t);
        if (secs < 0 || secs > 0xFFFFFFFFLL)
            return py_fallback(self, a);
        ts_seconds = (uint32_t)secs;
        ts_nanos = (uint32_t)PyDateTime_DATE_GET_MICROSECOND(t) * 1000u;
        ts[0] = (unsigned char)(ts_seconds >> 24);
        ts[1] = (unsigned char)(ts_seconds >> 16);
        ts[2] = (unsigned char)(ts_seconds >> 8);
        ts[3] = (unsigned char)ts_seconds;
        ts_len = (size_t)(su2_put_number(ts + 4, ts_nanos) - ts);
        flags |= SU2_FLAG_TIMESTAMP;
        body += ts_len;
    }
    if (a[0] != Py_None) {
        if (wire_str(a[0], &id.p, &id.n) != 1)
            return py_fallback(self, a);
        flags |= SU2_FLAG_TEST_ID;
        body += su2_number_size(id.n) + id.n;
    }
    if (a[2] != Py_None) {
        PyObject *key;
        if (!PyFrozenSet_CheckExact(a[2]) && !PySet_CheckExact(a[2]))
            return py_fallback(self, a);
        if (PySet_GET_SIZE(a[2]) > MAX_FAST_TAGS)
            return py_fallback(self, a);
        {
#if PY_VERSION_HEX < 0x030D0000
            /* Walk the set's table directly (no iterator object per event). */
            Py_ssize_t pos = 0;
            Py_hash_t hash;
            while (_PySet_NextEntry(a[2], &pos, &key, &hash)) {
                span tag;
                if (n_tags >= MAX_FAST_TAGS || wire_str(key, &tag.p, &tag.n) != 1)
                    return py_fallback(self, a);
#else
            PyObject *it = PyObject_GetIter(a[2]);
            if (it == NULL)
                return NULL;
            /* The set holds its names, so their UTF-8 stays valid after the loop. */
            while ((key = PyIter_Next(it)) != NULL) {
                span tag;
                int ok = n_tags < MAX_FAST_TAGS && wire_str(key, &tag.p, &tag.n) == 1;
                Py_DECREF(key);
                if (!ok) {
                    Py_DECREF(it);
                    return py_fallback(self, a);
                }
#endif
                /* Insertion sort: tag sets are small. */
                for (i = n_tags; i > 0 && span_less(tag, tags[i - 1]); i--)
                    tags[i] = tags[i - 1];
                tags[i] = tag;
                n_tags++;
                body += su2_number_size(tag.n) + tag.n;
            }
#if PY_VERSION_HEX >= 0x030D0000
            Py_DECREF(it);
            if (PyErr_Occurred())
                return NULL;
#endif
        }
        has_tags = 1;
        flags |= SU2_FLAG_TAGS;
        body += su2_number_size(n_tags);
    }
    if (a[7] != Py_None) {
        if (wire_str(a[7], &mime.p, &mime.n) != 1)
            return py_fallback(self, a);
        flags |= SU2_FLAG_MIME_TYPE;
        body += su2_number_size(mime.n) + mime.n;
    }
    if (a[8] != Py_None) {
        if (wire_str(a[8], &route.p, &route.n) != 1)
            return py_fallback(self, a);
        flags |= SU2_FLAG_ROUTE_CODE;
        body += su2_number_size(route.n) + route.n;
    }
    if (a[10] != Py_None) {
        if (wire_str(a[10], &parent.p, &parent.n) != 1)
            return py_fallback(self, a);
        flags |= SU2_FLAG_PARENT;
        body += su2_number_size(parent.n) + parent.n;
    }
    if (a[4] != Py_None && wire_str(a[4], &name.p, &name.n) != 1)
        return py_fallback(self, a);
    if (a[5] != Py_None) {
        if (name.p == NULL)
            return py_fallback(self, a);
        if (!(PyBytes_CheckExact(a[5]) || PyByteArray_Check(a[5]) ||
              PyMemoryView_Check(a[5])) ||
            PyObject_GetBuffer(a[5], &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            return py_fallback(self, a);
        }
        have_view = 1;
        content_len = (size_t)view.len;
        flags |= SU2_FLAG_FILE_CONTENT;
        body += su2_number_size(name.n) + name.n + su2_number_size(content_len) + content_len;
    } else if (name.p != NULL) {
        return py_fallback(self, a);
    }
    if (have_view ? content_len + 15 + (body - su2_number_size(content_len) - content_len) >
                        SU2_MAX_PACKET
                  : body + 11 > SU2_MAX_PACKET) {
        /* Too big for one packet: split by the library, or refused by Python. */
        PyObject *result;
        if (have_view) {
            su2_out_event ev = SU2_OUT_EVENT_INIT;
            const char *names[MAX_FAST_TAGS];
            su2_time when;
            size_t len = 0;
            int rc;
            PyBuffer_Release(&view);
            /* Strings here are NUL-free, so the library's C strings are exact. */
            if (!PyBytes_CheckExact(a[5]))
                return py_fallback(self, a);
            for (i = 0; i < n_tags; i++)
                names[i] = tags[i].p;
            ev.test_id = id.p;
            ev.status = (int)(flags & 7u);
            ev.tags = has_tags ? names : NULL;
            ev.n_tags = n_tags;
            ev.runnable = (flags & SU2_FLAG_RUNNABLE) != 0;
            ev.file_name = name.p;
            ev.file_bytes = PyBytes_AS_STRING(a[5]);
            ev.file_len = (size_t)PyBytes_GET_SIZE(a[5]);
            ev.eof = (flags & SU2_FLAG_EOF) != 0;
            ev.mime_type = mime.p;
            ev.route_code = route.p;
            ev.parent_test_id = parent.p;
            if (ts_len) {
                when.seconds = ts_seconds;
                when.nanoseconds = ts_nanos;
                ev.timestamp = &when;
            }
            rc = su2_encode_event(&ev, 0, &self->buf, &len, &self->cap);
            if (rc == SU2_ENOMEM)
                return PyErr_NoMemory();
            if (rc != SU2_OK)
                return py_fallback(self, a);
            result = PyBytes_FromStringAndSize((const char *)self->buf, (Py_ssize_t)len);
            free(self->buf);
            self->buf = NULL;
            self->cap = 0;
            return result;
        }
        return py_fallback(self, a);
    }
    /* One packet, written straight into the bytes object. */
    size = body + 8;
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
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (out == NULL) {
        if (have_view)
            PyBuffer_Release(&view);
        return NULL;
    }
    start = p = (unsigned char *)PyBytes_AS_STRING(out);
    *p++ = SU2_SIGNATURE;
    *p++ = (unsigned char)(flags >> 8);
    *p++ = (unsigned char)flags;
    if (head_len == 4) {
        *p++ = (unsigned char)total;
    } else if (head_len == 5) {
        *p++ = (unsigned char)(0x40 | total >> 8);
        *p++ = (unsigned char)total;
    } else {
        *p++ = (unsigned char)(0x80 | total >> 16);
        *p++ = (unsigned char)(total >> 8);
        *p++ = (unsigned char)total;
    }
    memcpy(p, ts, ts_len);
    p += ts_len;
    if (id.p)
        p = put_span(p, id);
    if (has_tags) {
        p = su2_put_number(p, n_tags);
        for (i = 0; i < n_tags; i++)
            p = put_span(p, tags[i]);
    }
    if (mime.p)
        p = put_span(p, mime);
    if (have_view) {
        p = put_span(p, name);
        p = su2_put_number(p, content_len);
        if (content_len)
            memcpy(p, view.buf, content_len);
        p += content_len;
        PyBuffer_Release(&view);
    }
    if (route.p)
        p = put_span(p, route);
    if (parent.p)
        p = put_span(p, parent);
    crc = su2_crc32(0, start, (size_t)(p - start));
    p[0] = (unsigned char)(crc >> 24);
    p[1] = (unsigned char)(crc >> 16);
    p[2] = (unsigned char)(crc >> 8);
    p[3] = (unsigned char)crc;
    return out;
}

static PyObject *Encoder_encode(EncoderObject *self, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[11];
    if (parse_args(args, nargs, kwnames, a) < 0)
        return NULL;
    return encode_fast(self, a, self->v2_only);
}

static int Encoder_init(EncoderObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"v2_only", NULL};
    int v2_only = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$p:Encoder", kwlist, &v2_only))
        return -1;
    self->v2_only = v2_only;
    Py_CLEAR(self->fallback);
    return 0;
}

static void Encoder_dealloc(EncoderObject *self)
{
    Py_XDECREF(self->fallback);
    free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Encoder_get_v2_only(EncoderObject *self, void *closure)
{
    (void)closure;
    return bool_of(self->v2_only);
}

static int Encoder_set_v2_only(EncoderObject *self, PyObject *value, void *closure)
{
    int v;
    (void)closure;
    if (value == NULL || (v = PyObject_IsTrue(value)) < 0) {
        if (value == NULL)
            PyErr_SetString(PyExc_AttributeError, "cannot delete v2_only");
        return -1;
    }
    self->v2_only = v;
    Py_CLEAR(self->fallback);
    return 0;
}

static PyMethodDef Encoder_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))Encoder_encode,
     METH_FASTCALL | METH_KEYWORDS, "Encode one event as one or more packets."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Encoder_getset[] = {
    {"v2_only", (getter)Encoder_get_v2_only, (setter)Encoder_set_v2_only,
     "Drop parent ids for strict pre-2.1 readers.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject EncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subunit2._speedups.Encoder",
    .tp_basicsize = sizeof(EncoderObject),
    .tp_dealloc = (destructor)Encoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Encodes events (compiled; same bytes and errors as PyEncoder).",
    .tp_methods = Encoder_methods,
    .tp_getset = Encoder_getset,
    .tp_init = (initproc)Encoder_init,
    .tp_new = PyType_GenericNew,
};

static EncoderObject *module_encoder[2]; /* for encode(): plain and v2-only */

static PyObject *mod_encode(PyObject *mod, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    PyObject *a[11];
    PyObject *kw2 = NULL;
    int v2_only = 0;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, k;
    PyObject *r;
    (void)mod;
    /* Pull out the keyword-only v2_only, if given. */
    for (k = 0; k < nkw; k++) {
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, k), "v2_only") ==
            0) {
            PyObject *rest[11 + 11];
            Py_ssize_t j, m = 0, total = nargs + nkw;
            if ((v2_only = PyObject_IsTrue(args[nargs + k])) < 0)
                return NULL;
            if (nkw > 12 || nargs > 11) {
                PyErr_SetString(PyExc_TypeError, "encode() takes at most 11 arguments");
                return NULL;
            }
            kw2 = PyTuple_New(nkw - 1);
            if (kw2 == NULL)
                return NULL;
            for (j = 0; j < total; j++) {
                if (j == nargs + k)
                    continue;
                rest[m] = args[j];
                if (j >= nargs) {
                    PyObject *name = PyTuple_GET_ITEM(kwnames, j - nargs);
                    Py_INCREF(name);
                    PyTuple_SET_ITEM(kw2, m - nargs, name);
                }
                m++;
            }
            if (parse_args(rest, nargs, kw2, a) < 0) {
                Py_DECREF(kw2);
                return NULL;
            }
            Py_DECREF(kw2);
            return encode_fast(module_encoder[v2_only], a, v2_only);
        }
    }
    if (parse_args(args, nargs, kwnames, a) < 0)
        return NULL;
    r = encode_fast(module_encoder[0], a, 0);
    return r;
}

/* ============================================================== StatusWriter */

/* A callable with the signature of status() that encodes its arguments and
 * passes the bytes to write() (then calls flush(), unless it is None): the
 * per-event path of StreamWriter without a Python frame. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    EncoderObject *encoder;
    PyObject *write;
    PyObject *flush;
} StatusWriterObject;

static PyObject *StatusWriter_vectorcall(PyObject *callable, PyObject *const *args,
                                         size_t nargsf, PyObject *kwnames)
{
    StatusWriterObject *self = (StatusWriterObject *)callable;
    PyObject *a[11], *packet, *r, *write, *flush;
    if (self->write == NULL) {
        /* Only after the collector cleared it (tp_clear). */
        PyErr_SetString(PyExc_ValueError, "StatusWriter has been cleared");
        return NULL;
    }
    if (parse_args(args, PyVectorcall_NARGS(nargsf), kwnames, a) < 0)
        return NULL;
    /* Strong references across the calls below, which run Python code. */
    write = self->write;
    flush = self->flush;
    Py_INCREF(write);
    Py_XINCREF(flush);
    packet = encode_fast(self->encoder, a, self->encoder->v2_only);
    if (packet == NULL)
        goto fail;
    r = PyObject_CallOneArg(write, packet);
    Py_DECREF(packet);
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    if (flush != NULL && flush != Py_None) {
        r = PyObject_CallNoArgs(flush);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
    }
    Py_DECREF(write);
    Py_XDECREF(flush);
    Py_RETURN_NONE;
fail:
    Py_DECREF(write);
    Py_XDECREF(flush);
    return NULL;
}

static PyObject *StatusWriter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"write", "flush", "v2_only", NULL};
    PyObject *write, *flush = Py_None;
    int v2_only = 0;
    StatusWriterObject *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Op:StatusWriter", kwlist, &write,
                                     &flush, &v2_only))
        return NULL;
    self = (StatusWriterObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = StatusWriter_vectorcall;
    self->encoder = PyObject_New(EncoderObject, &EncoderType);
    if (self->encoder == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->encoder->v2_only = v2_only;
    self->encoder->fallback = NULL;
    self->encoder->buf = NULL;
    self->encoder->cap = 0;
    Py_INCREF(write);
    Py_INCREF(flush);
    self->write = write;
    self->flush = flush;
    return (PyObject *)self;
}

static int StatusWriter_traverse(StatusWriterObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->write);
    Py_VISIT(self->flush);
    return 0;
}

static int StatusWriter_clear(StatusWriterObject *self)
{
    Py_CLEAR(self->write);
    Py_CLEAR(self->flush);
    return 0;
}

static void StatusWriter_dealloc(StatusWriterObject *self)
{
    PyObject_GC_UnTrack(self);
    StatusWriter_clear(self);
    Py_XDECREF(self->encoder);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject StatusWriterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "subunit2._speedups.StatusWriter",
    .tp_basicsize = sizeof(StatusWriterObject),
    .tp_dealloc = (destructor)StatusWriter_dealloc,
    .tp_vectorcall_offset = offsetof(StatusWriterObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "status(...) that encodes and writes: StatusWriter(write, flush=None, "
              "v2_only=False).",
    .tp_traverse = (traverseproc)StatusWriter_traverse,
    .tp_clear = (inquiry)StatusWriter_clear,
    .tp_new = StatusWriter_new,
};

/* ============================================================== deliver_all */

/* Call result.status(...) with every field of each event, by keyword. */
static PyObject *mod_deliver_all(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *iter, *item, *status;
    (void)mod;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "deliver_all(events, result)");
        return NULL;
    }
    status = PyObject_GetAttr(args[1], s_status);
    if (status == NULL)
        return NULL;
    iter = PyObject_GetIter(args[0]);
    if (iter == NULL) {
        Py_DECREF(status);
        return NULL;
    }
    while ((item = PyIter_Next(iter)) != NULL) {
        PyObject *r;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 11) {
            r = PyObject_Vectorcall(status, ((PyTupleObject *)item)->ob_item, 0, kw_tuple);
        } else {
            PyObject *t = PySequence_Tuple(item);
            if (t == NULL) {
                r = NULL;
            } else if (PyTuple_GET_SIZE(t) != 11) {
                PyErr_SetString(PyExc_ValueError, "an event has 11 fields");
                r = NULL;
            } else {
                r = PyObject_Vectorcall(status, ((PyTupleObject *)t)->ob_item, 0, kw_tuple);
            }
            Py_XDECREF(t);
        }
        Py_DECREF(item);
        if (r == NULL) {
            Py_DECREF(iter);
            Py_DECREF(status);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(iter);
    Py_DECREF(status);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* ============================================================== module */

static PyMethodDef module_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))mod_encode, METH_FASTCALL | METH_KEYWORDS,
     "Encode one event as one or more packets (v2_only drops parent ids)."},
    {"deliver_all", (PyCFunction)(void (*)(void))mod_deliver_all, METH_FASTCALL,
     "Replay events on a result that accepts parent_test_id."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "subunit2._speedups",
    "Compiled decoder and encoder for subunit2 (built from libsubunit2).", -1,
    module_methods, NULL, NULL, NULL, NULL};

static const char *const field_names[11] = {
    "test_id", "test_status", "test_tags", "runnable", "file_name", "file_bytes",
    "eof", "mime_type", "route_code", "timestamp", "parent_test_id"};

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *m, *mod, *dt;
    int i;
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    mod = PyImport_ImportModule("subunit2.event");
    if (mod == NULL)
        return NULL;
    event_type = (PyTypeObject *)PyObject_GetAttrString(mod, "Event");
    Py_DECREF(mod);
    if (event_type == NULL)
        return NULL;
    dt = PyImport_ImportModule("datetime");
    if (dt == NULL)
        return NULL;
    {
        PyObject *tz = PyObject_GetAttrString(dt, "timezone");
        Py_DECREF(dt);
        if (tz == NULL)
            return NULL;
        utc = PyObject_GetAttrString(tz, "utc");
        Py_DECREF(tz);
        if (utc == NULL)
            return NULL;
    }
    status_names[0] = Py_None;
    Py_INCREF(Py_None);
    for (i = 1; i < 8; i++)
        if ((status_names[i] = PyUnicode_InternFromString(su2_status_name(i))) == NULL)
            return NULL;
    kw_tuple = PyTuple_New(11);
    if (kw_tuple == NULL)
        return NULL;
    for (i = 0; i < 11; i++) {
        if ((kw_names[i] = PyUnicode_InternFromString(field_names[i])) == NULL)
            return NULL;
        Py_INCREF(kw_names[i]);
        PyTuple_SET_ITEM(kw_tuple, i, kw_names[i]);
    }
    s_status = PyUnicode_InternFromString("status");
    s_stdout = PyUnicode_InternFromString("stdout");
    s_parser_id = PyUnicode_InternFromString("subunit.parser");
    s_packet_data = PyUnicode_InternFromString("Packet data");
    s_parser_error = PyUnicode_InternFromString("Parser Error");
    s_octet = PyUnicode_InternFromString("application/octet-stream");
    s_text_plain = PyUnicode_InternFromString("text/plain;charset=utf8");
    if (!s_status || !s_stdout || !s_parser_id || !s_packet_data || !s_parser_error ||
        !s_octet || !s_text_plain)
        return NULL;
    if (PyType_Ready(&DecoderType) < 0 || PyType_Ready(&EncoderType) < 0 ||
        PyType_Ready(&StatusWriterType) < 0)
        return NULL;
    for (i = 0; i < 2; i++) {
        module_encoder[i] = PyObject_New(EncoderObject, &EncoderType);
        if (module_encoder[i] == NULL)
            return NULL;
        module_encoder[i]->v2_only = i;
        module_encoder[i]->fallback = NULL;
        module_encoder[i]->buf = NULL;
        module_encoder[i]->cap = 0;
    }
    m = PyModule_Create(&speedups_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&DecoderType);
    Py_INCREF(&EncoderType);
    Py_INCREF(&StatusWriterType);
    if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0 ||
        PyModule_AddObject(m, "Encoder", (PyObject *)&EncoderType) < 0 ||
        PyModule_AddObject(m, "StatusWriter", (PyObject *)&StatusWriterType) < 0 ||
        PyModule_AddIntConstant(m, "REPORT_LIMIT", SU2_REPORT_LIMIT) < 0 ||
        PyModule_AddStringConstant(m, "LIBRARY_VERSION", SU2_VERSION_STRING) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
