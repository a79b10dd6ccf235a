/*
 * hexdump.c - bytes as `hexdump -C` shows them, fed in pieces of any size:
 *
 *   00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF....|
 *   *
 *   00000040  ...
 *   00000083
 *
 * the offset, 16 bytes in hex in two groups of 8, the same as text (dots
 * for bytes outside 0x20-0x7e); a line the same as the one before is one
 * "*" however many there are; the last line is the length (nothing at all
 * for no bytes).  Pure C, host-tested against hexdump's own output.
 */
#include "files.h"

void
hexdump_init(struct hexdump *h)
{
	memset(h, 0, sizeof(*h));
}

/* One line of n (1-16) bytes at offset off, into out (HEXDUMP_LINE). */
void
hexdump_line(uint64_t off, const uint8_t *p, unsigned n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *o = out + rt_snprintf(out, HEXDUMP_LINE, "%08llx  ",
	    (unsigned long long)off);

	for (unsigned i = 0; i < 16; i++) {
		o[0] = i < n ? hex[p[i] >> 4] : ' ';
		o[1] = i < n ? hex[p[i] & 15] : ' ';
		o[2] = ' ';
		o += 3;
		if (i == 7)
			*o++ = ' ';
	}
	*o++ = ' ';
	*o++ = '|';
	for (unsigned i = 0; i < n; i++)
		*o++ = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	*o++ = '|';
	*o = '\0';
}

/* The line collected (h->n bytes at h->off - h->n): shown, or folded into
 * a "*" when it repeats the one before. */
static void
flush_line(struct hexdump *h, hexdump_out_fn out, void *arg)
{
	char line[HEXDUMP_LINE];
	uint64_t at = h->off - h->n;

	if (h->n == 16 && h->have_prev && memcmp(h->prev, h->cur, 16) == 0) {
		if (!h->starred)
			out(arg, "*");
		h->starred = 1;
	} else {
		hexdump_line(at, h->cur, h->n, line);
		out(arg, line);
		h->starred = 0;
	}
	memcpy(h->prev, h->cur, 16);
	h->have_prev = 1;
	h->n = 0;
}

/* The next len bytes of the data; each finished line goes to out. */
void
hexdump_feed(struct hexdump *h, const uint8_t *p, size_t len,
    hexdump_out_fn out, void *arg)
{
	while (len) {
		size_t k = 16 - h->n < len ? 16 - h->n : len;

		memcpy(h->cur + h->n, p, k);
		h->n += (unsigned)k, h->off += k, p += k, len -= k;
		if (h->n == 16)
			flush_line(h, out, arg);
	}
}

/* The data ended: the last short line and the length. */
void
hexdump_end(struct hexdump *h, hexdump_out_fn out, void *arg)
{
	char line[24];

	if (h->n)
		flush_line(h, out, arg);
	if (!h->off)
		return;
	rt_snprintf(line, sizeof(line), "%08llx", (unsigned long long)h->off);
	out(arg, line);
}
