/* emit: write events described on stdin as v2/2.1 packets on stdout.
 *
 * Used by the Python tests to check the C writer.  Input is a sequence of records,
 * each a one-byte code, a 4-byte big-endian length and that many bytes:
 *   i test id, s status (1 byte), g a tag (G: a tags field, maybe empty),
 *   r runnable (1 byte), n file name, b file bytes, e eof (1 byte), m mime type,
 *   o route code, t timestamp (4-byte seconds, 4-byte nanoseconds), p parent id,
 *   E end of the event: write it.
 * Usage: emit [--v2-only].  Exit status 0, or 1 when an event is refused (with the
 * error code on stderr) and 2 on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subunit2.h"

#define MAX_TAGS 64

static char *fields[128];

static void clear(void)
{
    int i;
    for (i = 0; i < 128; i++) {
        free(fields[i]);
        fields[i] = NULL;
    }
}

int main(int argc, char **argv)
{
    su2_writer w;
    char *tags[MAX_TAGS];
    size_t n_tags = 0, file_len = 0;
    int has_tags = 0, rc = 0;
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    su2_time when;
    unsigned char head[5];
    su2_writer_init_file(&w, stdout);
    w.v2_only = argc > 1 && strcmp(argv[1], "--v2-only") == 0;
    while (fread(head, 1, 5, stdin) == 5) {
        size_t len = (size_t)head[1] << 24 | (size_t)head[2] << 16 | (size_t)head[3] << 8 | head[4];
        char *data = (char *)malloc(len + 1);
        int code = head[0] & 0x7F;
        if (data == NULL || fread(data, 1, len, stdin) != len)
            return 2;
        data[len] = 0;
        if (code == 'g') {
            if (n_tags == MAX_TAGS)
                return 2;
            tags[n_tags++] = data;
            has_tags = 1;
            continue;
        }
        if (code == 'G')
            has_tags = 1;
        if (code == 'b')
            file_len = len;
        if (code != 'E') {
            free(fields[code]);
            fields[code] = data;
            continue;
        }
        free(data);
        ev = (su2_out_event)SU2_OUT_EVENT_INIT;
        ev.test_id = fields['i'];
        ev.status = fields['s'] ? fields['s'][0] : 0;
        ev.tags = has_tags ? (const char *const *)tags : NULL;
        ev.n_tags = n_tags;
        ev.runnable = fields['r'] ? fields['r'][0] : 1;
        ev.file_name = fields['n'];
        ev.file_bytes = fields['b'];
        ev.file_len = file_len;
        ev.eof = fields['e'] ? fields['e'][0] : 0;
        ev.mime_type = fields['m'];
        ev.route_code = fields['o'];
        ev.parent_test_id = fields['p'];
        if (fields['t']) {
            const unsigned char *t = (const unsigned char *)fields['t'];
            when.seconds = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
            when.nanoseconds = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
            ev.timestamp = &when;
        }
        rc = su2_write_event(&w, &ev);
        clear();
        while (n_tags)
            free(tags[--n_tags]);
        has_tags = 0;
        file_len = 0;
        if (rc) {
            fprintf(stderr, "emit: event refused (%d)\n", rc);
            fflush(stdout);
            return 1;
        }
    }
    fflush(stdout);
    su2_writer_free(&w);
    return 0;
}
