/*
 * keyq.c - the key queue (see keyq.h).
 */
#include "keyq.h"

void
keyq_init(struct keyq *q)
{
	q->head = q->tail = q->dropped = 0;
}

unsigned
keyq_len(const struct keyq *q)
{
	return q->tail - q->head;
}

int
keyq_put(struct keyq *q, const struct key_event *ev)
{
	if (keyq_len(q) == KEYQ_SIZE) {
		q->dropped++;
		return 0;
	}
	q->ev[q->tail++ % KEYQ_SIZE] = *ev;
	return 1;
}

int
keyq_get(struct keyq *q, struct key_event *ev)
{
	if (q->head == q->tail)
		return 0;
	*ev = q->ev[q->head++ % KEYQ_SIZE];
	return 1;
}

unsigned
keyq_peek(const struct keyq *q, struct key_event *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = q->head; i != q->tail && n < max; i++)
		out[n++] = q->ev[i % KEYQ_SIZE];
	return n;
}

void
keyq_trim(struct keyq *q, unsigned len)
{
	if (len < keyq_len(q))
		q->tail = q->head + len;
}
