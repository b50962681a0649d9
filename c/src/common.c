/* Shared pieces of libsubunit2: CRC-32, UTF-8 validation, status names. */
#include <string.h>

#include "subunit2.h"
#include "crc32_table.h"

static const char *const status_names[8] = {
    NULL, "exists", "inprogress", "success", "uxsuccess", "skip", "fail", "xfail"};

const char *su2_status_name(int status)
{
    return (status >= 0 && status < 8) ? status_names[status] : NULL;
}

int su2_status_code(const char *name)
{
    int i;
    if (name == NULL)
        return SU2_STATUS_NONE;
    for (i = 1; i < 8; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

/* Slicing-by-8: eight bytes per step through eight 256-entry tables. */
uint32_t su2_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    while (len && ((uintptr_t)p & 7u)) {
        crc = su2_crc_table[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                      (uint32_t)p[7] << 24;
        crc = su2_crc_table[7][lo & 0xFFu] ^ su2_crc_table[6][(lo >> 8) & 0xFFu] ^
              su2_crc_table[5][(lo >> 16) & 0xFFu] ^ su2_crc_table[4][lo >> 24] ^
              su2_crc_table[3][hi & 0xFFu] ^ su2_crc_table[2][(hi >> 8) & 0xFFu] ^
              su2_crc_table[1][(hi >> 16) & 0xFFu] ^ su2_crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = su2_crc_table[0][(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* Well-formed UTF-8 per Unicode table 3-7: no overlongs, no surrogates, nothing
 * above U+10FFFF (what Python's strict "utf-8" codec accepts). */
int su2_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            /* ASCII runs, eight bytes at a time. */
            while (i + 8 <= len) {
                uint64_t word;
                memcpy(&word, s + i, 8);
                if (word & 0x8080808080808080ull)
                    break;
                i += 8;
            }
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned lo = 0x80, hi = 0xBF;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
            if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi ||
                (s[i + 2] & 0xC0) != 0x80)
                return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned lo = 0x80, hi = 0xBF;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
            if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi ||
                (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}
