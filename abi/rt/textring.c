/*
 * textring.c - the output ring of console modules (see textring.h).
 */
#include "textring.h"
#include "rt.h"

void
rt_textring_init(struct rt_textring *r, char *buf, uint32_t cap)
{
	r->buf = buf;
	r->cap = cap;
	r->total = 0;
}

void
rt_textring_put(struct rt_textring *r, const char *s, size_t len)
{
	if (!r->cap)
		return;
	if (len > r->cap) {		/* only the tail can survive */
		r->total += len - r->cap;
		s += len - r->cap;
		len = r->cap;
	}
	for (size_t i = 0; i < len; i++)
		r->buf[(r->total + i) % r->cap] = s[i];
	r->total += len;
}

/* Where the copy of the newest n bytes starts: after a newline if cut. */
static uint64_t
textring_start(const struct rt_textring *r, uint64_t n)
{
	uint64_t from = r->total - n;

	if (from == 0)
		return 0;		/* nothing before it was lost */
	for (uint64_t p = from; p < r->total; p++)
		if (r->buf[p % r->cap] == '\n')
			return p + 1;
	return from;			/* one long line: keep it all */
}

size_t
rt_textring_copy(const struct rt_textring *r, char *out, size_t max)
{
	uint64_t held = r->total < r->cap ? r->total : r->cap;
	uint64_t from = textring_start(r, held < max ? held : max);
	uint64_t n = r->total - from;

	for (uint64_t i = 0; out && i < n; i++)
		out[i] = r->buf[(from + i) % r->cap];
	return (size_t)n;
}
