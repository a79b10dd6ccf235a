/*
 * textring.h - the last bytes a console printed, exactly as written
 * (escape sequences and all), for the console that takes over in a swap
 * to show again (struct console_state's text).  Pure logic, shared by the
 * console modules at build time.
 */
#ifndef PB_RT_TEXTRING_H
#define PB_RT_TEXTRING_H

#include <stddef.h>
#include <stdint.h>

struct rt_textring {
	char *buf;
	uint32_t cap;
	uint64_t total;		/* bytes ever written; next at total % cap */
};

void rt_textring_init(struct rt_textring *r, char *buf, uint32_t cap);
void rt_textring_put(struct rt_textring *r, const char *s, size_t len);
/*
 * Copy the newest bytes, at most max, oldest first, into out (NULL only
 * counts).  When older text was lost (overwritten, or beyond max) the copy
 * starts after the first newline, never inside a line or an escape
 * sequence.  Returns the bytes copied.
 */
size_t rt_textring_copy(const struct rt_textring *r, char *out, size_t max);

#endif
