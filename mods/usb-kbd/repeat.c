/*
 * repeat.c - typematic repeat.  A PS/2 keyboard repeats the last key
 * pressed by itself; a USB keyboard after SET_IDLE(0) reports a held key
 * once, so the driver repeats it: the same press event again after
 * REPEAT_DELAY_NS, then every REPEAT_EVERY_NS (ps2's 500 ms and 20.7 a
 * second), with the modifiers and locks of that moment, until the key is
 * released or another goes down.  A hub timer, re-armed each time.
 */
#include "usbkbd.h"

static void repeat_fire(void *arg);

static void
repeat_arm(struct ukbd *k, uint64_t ns)
{
	int id = uk.hub->timer_after(uk.self, ns, repeat_fire, k);

	k->rep_timer = id > 0 ? id : 0;
	if (id <= 0)
		k->rep_usage = 0;	/* no timer: no repeat, nothing worse */
}

static void
repeat_fire(void *arg)
{
	struct ukbd *k = arg;

	k->rep_timer = 0;
	if (!k->rep_usage || !k->active || k->quiescing || k->gone)
		return;
	keys_put(k, hidmap_code(k->rep_usage, keys_mods(k), uk.map), 1);
	keyq_tell(&k->keys, uk.hub);
	repeat_arm(k, REPEAT_EVERY_NS);
}

void
repeat_stop(struct ukbd *k)
{
	if (k->rep_timer)
		uk.hub->timer_cancel(uk.self, k->rep_timer);
	k->rep_timer = 0;
	k->rep_usage = 0;
}

void
repeat_start(struct ukbd *k, uint8_t usage)
{
	repeat_stop(k);
	k->rep_usage = usage;
	repeat_arm(k, REPEAT_DELAY_NS);
}
