/*
 * keyq.c - the key queue (see keyq.h).
 */
#include "keyq.h"

void
keyq_init(struct keyq *q)
{
	q->head = q->tail = q->dropped = 0;
	q->notified = 0;
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
	if (q->head == q->tail) {
		q->notified = 0;	/* the client is told of the next */
		return 0;
	}
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

int
keyq_set_notify(struct keyq *q, const struct pb_hub *hub,
    struct pb_module *client, pb_work_fn fn, void *arg)
{
	q->client = fn ? client : NULL;
	q->notify = fn;
	q->notify_arg = arg;
	q->notified = 0;
	keyq_tell(q, hub);
	return PB_OK;
}

void
keyq_tell(struct keyq *q, const struct pb_hub *hub)
{
	if (!q->notify || q->notified || q->head == q->tail)
		return;
	/* The hub refuses fn unless it is the client's code (a client
	 * gone since): then forget it. */
	switch (hub->queue_work(q->client, q->notify, q->notify_arg)) {
	case PB_OK:
		q->notified = 1;
		break;
	case PB_EINVAL:
		q->notify = NULL;
		break;
	default:		/* the queue is full: tell with the next key */
		break;
	}
}
