/* A standalone driver for fuzz_reader.c where libFuzzer is not available: feeds
 * the target mutations of the seed files and of writer-made streams for a bounded
 * time.  Usage: fuzz_driver SECONDS [SEED_DIR] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "subunit2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 256
#define MAX_INPUT 70000

static unsigned char *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS];
static int n_seeds;
static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static void add_seed(const unsigned char *p, size_t n)
{
    if (n_seeds == MAX_SEEDS || n > MAX_INPUT)
        return;
    seeds[n_seeds] = (unsigned char *)malloc(n ? n : 1);
    if (n)
        memcpy(seeds[n_seeds], p, n);
    seed_len[n_seeds++] = n;
}

static int to_mem(void *ctx, const void *data, size_t len)
{
    size_t *used = (size_t *)ctx;
    unsigned char *base = (unsigned char *)(used + 1);
    if (*used + len > 8192)
        return -1;
    memcpy(base + *used, data, len);
    *used += len;
    return 0;
}

/* Streams from the writer: every field, several sizes. */
static void writer_seeds(void)
{
    static size_t mem[1 + 8192 / sizeof(size_t)];
    su2_writer w;
    su2_time when = {1700000000u, 999999500u};
    const char *tags[] = {"b", "a", "\xc3\xa9t\xc3\xa9"};
    su2_out_event ev = SU2_OUT_EVENT_INIT;
    char content[1500];
    int i;
    memset(content, 'x', sizeof content);
    for (i = 0; i < 8; i++) {
        mem[0] = 0;
        su2_writer_init(&w, to_mem, mem);
        su2_test_start(&w, "pkg.mod.Test.test_a", &when);
        ev.test_id = "pkg.mod.Test.test_a";
        ev.status = i % 8;
        ev.tags = i & 1 ? tags : NULL;
        ev.n_tags = 3;
        ev.route_code = i & 2 ? "0/1" : NULL;
        ev.parent_test_id = i & 4 ? "pkg.mod.Test" : NULL;
        ev.mime_type = "text/plain";
        ev.file_name = "stdout";
        ev.file_bytes = content;
        ev.file_len = (size_t)(i * 200);
        ev.timestamp = &when;
        su2_write_event(&w, &ev);
        su2_test_fail(&w, "t\xe2\x82\xac", "boom", 4, NULL);
        su2_writer_free(&w);
        add_seed((unsigned char *)(mem + 1), mem[0]);
    }
}

static void dir_seeds(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        FILE *f;
        unsigned char buf[MAX_INPUT];
        size_t n;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (f == NULL)
            continue;
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        add_seed(buf, n);
    }
    closedir(d);
}

static size_t mutate(unsigned char *buf, size_t len)
{
    int k, rounds = 1 + (int)(rnd() % 6);
    static const unsigned char magic[] = {0xb3, 0x20, 0x29, 0x00, 0x3f, 0x40, 0x7f,
                                          0x80, 0xbf, 0xc0, 0xff, 0xed, 0xf0, 0x08};
    for (k = 0; k < rounds; k++) {
        size_t at = len ? rnd() % len : 0;
        switch (rnd() % 7) {
        case 0: /* flip a bit */
            if (len)
                buf[at] ^= (unsigned char)(1u << (rnd() % 8));
            break;
        case 1: /* a byte that matters */
            if (len)
                buf[at] = magic[rnd() % sizeof magic];
            break;
        case 2: /* cut */
            len = at;
            break;
        case 3: /* insert random bytes */
        {
            size_t n = rnd() % 16, i;
            if (len + n > MAX_INPUT)
                break;
            memmove(buf + at + n, buf + at, len - at);
            for (i = 0; i < n; i++)
                buf[at + i] = (unsigned char)rnd();
            len += n;
            break;
        }
        case 4: /* splice another seed */
        {
            int s = (int)(rnd() % (unsigned)n_seeds);
            size_t n = seed_len[s];
            if (len + n > MAX_INPUT)
                break;
            memmove(buf + at + n, buf + at, len - at);
            memcpy(buf + at, seeds[s], n);
            len += n;
            break;
        }
        case 5: /* delete */
        {
            size_t n = rnd() % 32;
            if (at + n > len)
                n = len - at;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        default: /* a 0xB3 with a version-2 header and a random length */
            if (len + 6 <= MAX_INPUT) {
                memmove(buf + at + 6, buf + at, len - at);
                buf[at] = 0xb3;
                buf[at + 1] = (unsigned char)(0x20 | (rnd() % 16));
                buf[at + 2] = (unsigned char)rnd();
                buf[at + 3] = (unsigned char)rnd();
                buf[at + 4] = (unsigned char)rnd();
                buf[at + 5] = (unsigned char)rnd();
                len += 6;
            }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 20;
    clock_t start = clock();
    static unsigned char buf[MAX_INPUT + 64];
    unsigned long runs = 0;
    int i;
    state ^= (uint64_t)time(NULL);
    writer_seeds();
    if (argc > 2)
        dir_seeds(argv[2]);
    for (i = 0; i < n_seeds; i++)
        LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
    while ((double)(clock() - start) / CLOCKS_PER_SEC < seconds) {
        int s = (int)(rnd() % (unsigned)n_seeds);
        size_t len = seed_len[s];
        memcpy(buf, seeds[s], len);
        len = mutate(buf, len);
        LLVMFuzzerTestOneInput(buf, len);
        runs++;
        if (runs % 64 == 0 && len <= MAX_INPUT && n_seeds < MAX_SEEDS && rnd() % 8 == 0)
            add_seed(buf, len); /* keep some mutants to mutate further */
    }
    printf("fuzz_driver: %lu inputs in %.0f s, no failure\n", runs, seconds);
    for (i = 0; i < n_seeds; i++)
        free(seeds[i]);
    return 0;
}
