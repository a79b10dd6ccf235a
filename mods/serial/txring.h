/*
 * txring.h - the last bytes written to a console, exactly as written, so
 * a swap can hand them to the next console (struct console_state's text).
 * Pure logic; tested on the host.
 */
#ifndef SERIAL_TXRING_H
#define SERIAL_TXRING_H

#include <stddef.h>
#include <stdint.h>

struct txring {
	char *buf;
	uint32_t cap;
	uint64_t total;		/* bytes ever written; next at total % cap */
};

void txring_init(struct txring *r, char *buf, uint32_t cap);
void txring_put(struct txring *r, const char *s, size_t len);
/*
 * Copy the newest bytes, at most max, oldest first, into out (NULL only
 * counts).  When older text was lost (overwritten, or beyond max) the copy
 * starts after the first newline, so it never begins inside a line or an
 * escape sequence.  Returns the bytes copied.
 */
size_t txring_copy(const struct txring *r, char *out, size_t max);

#endif
