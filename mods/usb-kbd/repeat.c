/*
 * repeat.c - typematic repeat.  A PS/2 keyboard repeats the last key
 * pressed by itself; a USB keyboard after SET_IDLE(0) reports a held key
 * once, so the driver repeats it: the same press event again after
 * REPEAT_DELAY_NS, then every REPEAT_EVERY_NS (ps2's 500 ms and 20.7 a
 * second), with the modifiers and locks of that moment, until the key is
 * released or another goes down.  A hub timer, re-armed each time.
 *
 * A key is held until the device reports it up, but a device reset
 * under the driver (its controller swapped or restarted: usb_info's
 * resets grew) forgets the keys it held without a word, and the report
 * that said one went up may be lost with the controller: the repeat
 * would go on for good (an Enter typed into every line).  Each repeat
 * first asks whether the device was reset since its key went down; then
 * every key is taken as up, as the device now has it.
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

/* The device's count of resets (usb_info); `was` when it cannot say. */
static uint32_t
resets_of(struct ukbd *k, uint32_t was)
{
	struct usb_info info = { .size = sizeof(info) };

	if (!k->usb || PB_CALL(k->usb, usb_ops, info, &info) != PB_OK ||
	    info.size < offsetof(struct usb_info, resets) + sizeof(info.resets))
		return was;
	return info.resets;
}

static void
repeat_fire(void *arg)
{
	static const uint8_t none[sizeof(struct hid_boot_report)];
	struct ukbd *k = arg;

	k->rep_timer = 0;
	if (!k->rep_usage || !k->active || k->quiescing || k->gone)
		return;
	if (resets_of(k, k->rep_resets) != k->rep_resets) {
		KLOG(k, PB_LOG_INFO, "the keyboard was reset with keys down: "
		    "taken as released");
		keys_report(k, none, sizeof(none));
		repeat_stop(k);
		return;
	}
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
	k->rep_resets = resets_of(k, 0);
	repeat_arm(k, REPEAT_DELAY_NS);
}
