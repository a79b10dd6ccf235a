/*
 * queue.c - the byte ring from the interrupt to the work, and the key
 * queue from the work to the client (see ps2.h).
 */
#include "ps2.h"

void
rawq_init(struct rawq *q)
{
	q->head = q->tail = q->dropped = 0;
}

/* From the interrupt handler.  Full: the byte is lost and counted. */
int
rawq_put(struct rawq *q, uint8_t b)
{
	if (q->tail - q->head == PS2_RAW_SIZE) {
		q->dropped++;
		return 0;
	}
	q->b[q->tail % PS2_RAW_SIZE] = b;
	q->tail++;
	return 1;
}

int
rawq_get(struct rawq *q, uint8_t *b)
{
	if (q->head == q->tail)
		return 0;
	*b = q->b[q->head % PS2_RAW_SIZE];
	q->head++;
	return 1;
}

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

/* Full: the newest key is dropped, since what was typed first matters
 * most to a line editor. */
int
keyq_put(struct keyq *q, const struct key_event *ev)
{
	if (keyq_len(q) == PS2_KEYS) {
		q->dropped++;
		return 0;
	}
	q->ev[q->tail++ % PS2_KEYS] = *ev;
	return 1;
}

int
keyq_get(struct keyq *q, struct key_event *ev)
{
	if (q->head == q->tail)
		return 0;
	*ev = q->ev[q->head++ % PS2_KEYS];
	return 1;
}

unsigned
keyq_peek(const struct keyq *q, struct key_event *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = q->head; i != q->tail && n < max; i++)
		out[n++] = q->ev[i % PS2_KEYS];
	return n;
}
