/*
 * keys.c - boot reports into key events (report.c, hidmap.c), as ps2
 * gives them: a press and a release for every key that has a code, with
 * the modifiers held and the locks on at that moment; modifiers and lock
 * keys give none of their own.  A lock toggles when its key goes down
 * and the LEDs follow (ctl.c).  The last key pressed repeats (repeat.c)
 * until it is released or another key goes down.
 *
 * Events wait in the keyboard's queue until its client reads them; the
 * client's notify work is queued once per batch.
 */
#include "usbkbd.h"

uint16_t
keys_mods(const struct ukbd *k)
{
	return (uint16_t)(hidmap_mods(k->prev.mods, uk.map) |
	    (k->locks & (KEYMOD_CAPS | KEYMOD_NUM)));
}

/* Counts that grow are logged at 1, 2, 4, 8...: seen, never a flood. */
static int
worth_saying(uint32_t now, uint32_t *said)
{
	if (now == *said || (now & (now - 1)))
		return 0;
	*said = now;
	return 1;
}

void
keys_put(struct ukbd *k, uint32_t code, int down)
{
	struct key_event ev = { .code = code, .mods = keys_mods(k),
	    .pressed = (uint8_t)down };

	if (!code)
		return;
	keyq_put(&k->keys, &ev);
	if (worth_saying(k->keys.dropped, &k->drops_said))
		KLOG(k, PB_LOG_WARN, "key queue full: %u keys dropped",
		    (unsigned)k->keys.dropped);
}

/* A key went down: a lock toggles (1), another gives its code. */
static int
key_down(struct ukbd *k, uint8_t usage)
{
	uint16_t lock = hidmap_lock(usage);
	uint32_t code;

	if (lock) {
		k->locks ^= lock;
		repeat_stop(k);
		return 1;
	}
	code = hidmap_code(usage, keys_mods(k), uk.map);
	keys_put(k, code, 1);
	if (code)
		repeat_start(k, usage);
	else
		repeat_stop(k);		/* the last key down is this one */
	return 0;
}

void
keys_report(struct ukbd *k, const uint8_t *rep, uint32_t len)
{
	struct hid_boot_report now;
	struct report_diff d;
	int locks = 0;

	if (len < sizeof(now)) {
		if (worth_saying(++k->short_reports, &k->short_said))
			KLOG(k, PB_LOG_WARN, "%u reports shorter than the "
			    "boot report's 8 bytes ignored (last %u)",
			    (unsigned)k->short_reports, (unsigned)len);
		return;
	}
	memcpy(&now, rep, sizeof(now));
	if (report_phantom(&now))
		return;		/* too many keys down: nothing to learn */
	report_diff(&k->prev, &now, &d);
	/* Released with the modifiers they were held with. */
	for (unsigned i = 0; i < d.nup; i++) {
		if (d.up[i] == k->rep_usage)
			repeat_stop(k);
		keys_put(k, hidmap_code(d.up[i], keys_mods(k), uk.map), 0);
	}
	k->prev.mods = now.mods;
	if (d.mods_down)
		repeat_stop(k);		/* a modifier is the last key down */
	for (unsigned i = 0; i < d.ndown; i++)
		locks |= key_down(k, d.down[i]);
	memcpy(k->prev.keys, now.keys, sizeof(now.keys));
	if (locks)
		ctl_leds(k);
	keyq_tell(&k->keys, uk.hub);
}
