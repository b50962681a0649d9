/* The v2 variable-length number (SPEC section 2), shared by the library's
 * writer and the Python extension's encoder: 1 to 4 bytes, the top two bits of
 * the first byte saying how many follow.  Callers check v < 2^30 first. */
#ifndef SUBUNIT2_WIRE_H
#define SUBUNIT2_WIRE_H

#include <stddef.h>

static inline size_t su2_number_size(size_t v)
{
    return v < 0x40 ? 1 : v < 0x4000 ? 2 : v < 0x400000 ? 3 : 4;
}

static inline unsigned char *su2_put_number(unsigned char *p, size_t v)
{
    switch (su2_number_size(v)) {
    case 1:
        *p++ = (unsigned char)v;
        break;
    case 2:
        *p++ = (unsigned char)(0x40 | v >> 8);
        *p++ = (unsigned char)v;
        break;
    case 3:
        *p++ = (unsigned char)(0x80 | v >> 16);
        *p++ = (unsigned char)(v >> 8);
        *p++ = (unsigned char)v;
        break;
    default:
        *p++ = (unsigned char)(0xC0 | v >> 24);
        *p++ = (unsigned char)(v >> 16);
        *p++ = (unsigned char)(v >> 8);
        *p++ = (unsigned char)v;
    }
    return p;
}

#endif
