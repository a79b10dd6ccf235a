/*
 * rt.h - the freestanding runtime compiled into the hub and every module.
 *
 * Shared at build time, never linked at run time: each image carries its
 * own copy.  The mem and str functions keep their C library names and
 * meanings because the compiler emits calls to memcpy and memset by itself;
 * host builds use the C library's instead.  Formatting is rt_ prefixed so
 * host tests can exercise it beside the C library's printf.
 *
 * Formats: %d %i %u %x %X %o %c %s %p %%, with flags '-' '0', a width and
 * precision (also '*'), and the length modifiers l, ll, z, h, hh.
 */
#ifndef PB_RT_H
#define PB_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef PB_HOSTED
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* Copy at most size-1 bytes and always terminate; returns strlen(src). */
size_t rt_strlcpy(char *dst, const char *src, size_t size);
/* Parse an unsigned number in base 10, or 16 with 0x; end set past it. */
uint64_t rt_strtou(const char *s, const char **end, int base);
/* The value of `key` in a "k=v k=v" property line, into buf: 1, or 0 when
 * absent (setting.c). */
int rt_prop_get(const char *props, const char *key, char *buf, size_t cap);

/* CRC-32 as zlib computes it, chained from crc (0 to begin) (crc32.c). */
uint32_t rt_crc32(uint32_t crc, const void *buf, size_t len);

/* FNV-1a over the whole 8-byte words of buf, chained from h (sum64.c). */
#define RT_SUM64_SEED 0xcbf29ce484222325ull
uint64_t rt_sum64(uint64_t h, const void *buf, size_t len);

int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An in-tree module formats with the hub's formatter (abi/rt/thin/fmt.c)
 * and names the hub here first thing in start; with fmt.c (the hub, host
 * builds, test and SDK modules) it does nothing. */
struct pb_hub;
void rt_use_hub(const struct pb_hub *hub);

/* Code point cp as UTF-8 into out: its length, 0 for a surrogate or a
 * value beyond U+10FFFF (utf8.c). */
size_t rt_utf8_encode(uint32_t cp, char out[4]);

/* A display provider's argument checks (rect.c). */
int rt_clip_rect(uint32_t x, uint32_t y, uint32_t *w, uint32_t *h,
    uint32_t width, uint32_t height);
int rt_check_pixels(const uint32_t *px, uint32_t pitch, uint32_t w,
    uint32_t h);
int rt_rect_begin(int active, const uint32_t *px, uint32_t pitch,
    int px_used, uint32_t x, uint32_t y, uint32_t *w, uint32_t *h,
    uint32_t width, uint32_t height);

#endif
