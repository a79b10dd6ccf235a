/*
 * ring.h - the last bytes this console printed, exactly as written (escape
 * sequences and all), for the console that takes over to show again.
 * Pure logic; tested on the host.
 */
#ifndef EFICON_RING_H
#define EFICON_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
	char *buf;
	uint32_t cap;
	uint64_t total;		/* bytes ever written; next at total % cap */
};

void ring_init(struct ring *r, char *buf, uint32_t cap);
void ring_put(struct ring *r, const char *s, size_t len);
/*
 * Copy the newest bytes, at most max, oldest first, into out (NULL only
 * counts).  When older text was lost (overwritten, or beyond max) the copy
 * starts after the first newline, never inside a line or an escape
 * sequence.  Returns the bytes copied.
 */
size_t ring_copy(const struct ring *r, char *out, size_t max);

#endif
