/*
 * keyq.h - a keyboard provider's queue of key events, oldest first,
 * until the client reads them or a swap exports them (serial, ps2).  Pure
 * logic; tested on the host.
 *
 * When full, the newest key is dropped and counted: what was typed first
 * is what a line editor most needs.
 */
#ifndef PB_RT_KEYQ_H
#define PB_RT_KEYQ_H

#include <stdint.h>

#include "../keyboard.h"

#define KEYQ_SIZE 128		/* a power of two */

_Static_assert((KEYQ_SIZE & (KEYQ_SIZE - 1)) == 0, "KEYQ_SIZE power of 2");
_Static_assert(sizeof(struct key_event) == 8, "key_event layout");

struct keyq {
	struct key_event ev[KEYQ_SIZE];
	uint32_t head, tail;	/* head: next to read; tail - head queued */
	uint32_t dropped;	/* keys lost to a full queue */
};

void keyq_init(struct keyq *q);
unsigned keyq_len(const struct keyq *q);
/* 1 when queued, 0 when the queue was full (counted in dropped). */
int keyq_put(struct keyq *q, const struct key_event *ev);
/* 1 with the oldest key, 0 when empty. */
int keyq_get(struct keyq *q, struct key_event *ev);
/* Forget the newest keys beyond the first len. */
void keyq_trim(struct keyq *q, unsigned len);
/* Copy up to max keys, oldest first, leaving them queued. */
unsigned keyq_peek(const struct keyq *q, struct key_event *out, unsigned max);

#endif
