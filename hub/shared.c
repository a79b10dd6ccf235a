/*
 * shared.c - what the hub believes of struct hub_shared (hub.h), the page
 * every module may write.
 *
 * now_ns and work_post run in their caller's protection domain
 * (x86_64/domain.c), so what they write while a module calls them lives
 * where any module may write: the watch over the clock hook now_ns runs,
 * and the ring of posted work items.  (The clock's last time is the
 * hub's own: work.c extrapolates it on the CPU's clock.)  A stray
 * write (a driver's bug, a fault injection) may land on any of it, at any
 * time, so none of it decides alone:
 * - the hook's watch is sealed (a checksum over its deadline and guard
 *   index).  The watchdog uses it only whole, only for a guard that is
 *   still taken and only when its deadline is no further than one
 *   watchdog period away.  It can then only keep the watchdog from
 *   charging the clock for the overrun of the call around the hook; the
 *   deadlines that end a stuck call are the hub's own (work.c: the
 *   watched call's, a handler's and the hub's own hooks').  A damaged
 *   record is ignored and said once, from the hub's code (the NMI only
 *   counts it): its writer is not known, so nobody is charged;
 * - each posted item is checked again as it is taken, and its slot
 *   emptied, so a count set back runs nothing twice (work.c).
 * Ring 0 code can forge a seal as it can rewrite anything: this stops
 * mistakes, not malice.
 */
#include "shared.h"

/* 1: a damaged record was seen, 2: and said; 0 again once one is whole
 * or gone, so each damage is said once. */
static volatile int damaged;

int
shared_hook_whole(uint64_t limit)
{
	uint64_t due = hub_shared.hook_due;

	if (hub_shared.hook_seal == shared_seal(due, hub_shared.hook_depth) &&
	    due <= limit) {
		if (damaged == 2)
			damaged = 0;
		return 1;
	}
	if (!damaged)
		damaged = 1;
	return 0;
}

uint64_t
shared_hook_due(uint64_t now, unsigned depth, unsigned *index)
{
	uint32_t d = hub_shared.hook_depth;

	if (!d) {
		if (damaged == 2)
			damaged = 0;
		return 0;
	}
	if (!shared_hook_whole(now + hub_watchdog_ns) || d > depth)
		return 0;
	*index = d - 1;
	return hub_shared.hook_due;
}

void
shared_hook_unwound(unsigned index)
{
	if (hub_shared.hook_depth > index)
		shared_hook_end();
}

/* From the hub's own code (watch_begin): the NMI only notes it. */
void
shared_say_damage(void)
{
	if (damaged != 1)
		return;
	damaged = 2;
	log_event(LOG_ERROR, "watchdog: the clock hook's watch on the shared "
	    "page was damaged (a stray write): ignored, the hub's own "
	    "deadlines watch");
}
