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
#include "../pb.h"

#define KEYQ_SIZE 128		/* a power of two */

_Static_assert((KEYQ_SIZE & (KEYQ_SIZE - 1)) == 0, "KEYQ_SIZE power of 2");
_Static_assert(sizeof(struct key_event) == 8, "key_event layout");

struct keyq {
	struct key_event ev[KEYQ_SIZE];
	uint32_t head, tail;	/* head: next to read; tail - head queued */
	uint32_t dropped;	/* keys lost to a full queue */
	/* keyboard 1.1's notify: the client's work to queue when keys wait
	 * (kept across keyq_init: the client registered it) */
	struct pb_module *client;
	pb_work_fn notify;
	void *notify_arg;
	int notified;		/* queued, and no read said "none" since */
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
/* The keyboard 1.1 notify op's work: remember (fn NULL forgets) and tell
 * at once if keys wait. */
int keyq_set_notify(struct keyq *q, const struct pb_hub *hub,
    struct pb_module *client, pb_work_fn fn, void *arg);
/* Keys came: queue the client's work unless it is queued already. */
void keyq_tell(struct keyq *q, const struct pb_hub *hub);

#endif
