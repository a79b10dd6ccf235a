/*
 * swap.h - the swap engine's steps, for the boot's takeover and the tests
 * (swap_provider in hub.h runs them all).
 */
#ifndef PB_HUB_SWAP_H
#define PB_HUB_SWAP_H

#include "hub.h"

struct swap {
	struct pb_module *old, *new;
	const char *iface;	/* NULL: every interface old publishes */
	void *buf;		/* the exported state */
	size_t len, cap;	/* its length, its buffer's size */
	uint32_t ver;
	uint64_t t0, t0_ns;	/* start of the blackout */
	uint64_t drain_ns;	/* P drained (PB_EAGAIN) this long before */
	unsigned old_gen;	/* old's generation when it started */
	int draining;		/* old answered PB_EAGAIN at least once */
	int prepared;		/* step 1 done (swap_prepare) */
	int flip;		/* swap_begin runs step 4 too, in P's call
				 * (not the takeover: it exits boot
				 * services between 3 and 4) */
	int imported;		/* step 4 done: P' imported and activated */
	int export_again;	/* swap_finish has P export once more first
				 * (the takeover: what the firmware held
				 * last, boot.c) */
	unsigned record;	/* check_counterparts' record of it (swap.c) */
	uint64_t blackout_ns, blackout_cycles;
};

struct swap_stats {
	unsigned count;
	uint64_t last_ns, worst_ns;
};

extern uint64_t swap_watch_ns;
extern uint64_t swap_drain_ns;	/* how long quiesce may answer PB_EAGAIN */
extern struct swap_stats swap_stats;

int swap_prepare(struct swap *s, char *err, size_t cap);	/* step 1 */
int swap_begin(struct swap *s, char *err, size_t cap);	/* steps 1-3 */
int swap_finish(struct swap *s, char *err, size_t cap);	/* steps 4-6 */
int swap_serve(struct swap *s, char *err, size_t cap);	/* steps 4-5 */
void swap_settle(struct swap *s);	/* after swap_serve: the rest */
void swap_abort(struct swap *s);

#endif
