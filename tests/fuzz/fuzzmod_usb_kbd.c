/*
 * fuzzmod_usb_kbd.c - libFuzzer target for what usb-kbd takes from a
 * device (mods/usb-kbd: desc.c, report.c, hidmap.c, keys.c, repeat.c).
 *
 * Input: a mode byte, then
 *   mode & 1 == 0: an interface's descriptors, as usb_ops.descriptors
 *	gives them, for desc_find_intr_in: an endpoint it finds must lie
 *	inside the blob, be an interrupt IN one, and fit a boot report;
 *   mode & 1 == 1: reports, one after the other, each a length byte (a
 *	transfer's `actual`, at most 8) and 8 bytes, fed to keys_report as
 *	completions would, with time passing between some (the repeat
 *	timer firing): every event has a code and a press or release, the
 *	locks stay locks, the queue never holds more than it can.
 * Copies of exactly the bytes given, so ASan sees any read past them.
 *
 * No seeds: the inputs are a few bytes; libFuzzer finds the shapes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mods/usb-kbd/usbkbd.h"
#include "../../mods/usb-kbd/desc.c"
#include "../../mods/usb-kbd/report.c"
#include "../../mods/usb-kbd/hidmap.c"
#include "../../mods/usb-kbd/keys.c"
#include "../../mods/usb-kbd/repeat.c"
#include "../../abi/rt/keyq.c"
#include "../../abi/rt/setting.c"
#include "../../abi/rt/keymap.c"
#include "../../abi/rt/keymap_us.c"
#include "../../abi/rt/keymap_gb.c"
#include "../../abi/rt/keymap_de.c"
#include "../../abi/rt/keymap_fr.c"
#include "../../abi/rt/keymap_es.c"
#include "../../abi/rt/keymap_it.c"

struct usbkbd uk;
static unsigned led_changes;
static pb_work_fn timer_fn;
static void *timer_arg;
static int timer_id;

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

void
ukbd_log(const struct ukbd *k, int level, const char *fmt, ...)
{
	(void)k;
	must(level >= PB_LOG_ERR && level <= PB_LOG_DEBUG && fmt && *fmt);
}

void
ctl_leds(struct ukbd *k)
{
	(void)k;
	led_changes++;
}

static int
fz_timer_after(struct pb_module *self, uint64_t ns, pb_work_fn fn, void *arg)
{
	(void)self;
	must(ns > 0 && !timer_id);	/* one repeat timer at a time */
	timer_fn = fn;
	timer_arg = arg;
	return timer_id = 7;
}

static void
fz_timer_cancel(struct pb_module *self, int id)
{
	(void)self;
	if (id == timer_id)
		timer_id = 0;
}

static int
fz_queue_work(struct pb_module *self, pb_work_fn fn, void *arg)
{
	(void)self;
	(void)fn;
	(void)arg;
	return PB_OK;
}

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub),
	.timer_after = fz_timer_after,
	.timer_cancel = fz_timer_cancel,
	.queue_work = fz_queue_work,
};

static void
fuzz_descriptors(const uint8_t *d, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1), ep = 0, interval = 0;
	uint16_t mps = 0;
	const char *why = NULL;

	memcpy(copy, d, len);
	if (desc_find_intr_in(copy, len, &ep, &mps, &interval, &why) == PB_OK) {
		int found = 0;

		must((ep & USB_DIR_IN) && mps >= 8 && mps <= 0x7ff);
		for (size_t at = copy[0]; at + 7 <= len && copy[at] >= 2;
		    at += copy[at])
			found |= copy[at + 1] == USB_DT_ENDPOINT &&
			    copy[at + 2] == ep && (copy[at + 3] & 3) ==
			    USB_EP_INTERRUPT;
		must(found);
	} else {
		must(why && *why);
	}
	free(copy);
}

/* Reports typed on the layout km (AltGr on all but us). */
static void
fuzz_reports(const uint8_t *d, size_t len, const struct keymap *km)
{
	static struct ukbd k;
	struct key_event ev;

	memset(&k, 0, sizeof(k));
	memset(&uk, 0, sizeof(uk));
	uk.hub = &fz_hub;
	uk.map = km;
	k.active = 1;
	keyq_init(&k.keys);
	timer_id = 0;
	for (size_t at = 0; at + 9 <= len; at += 9) {
		uint8_t n = d[at] & 0x0f, *rep = malloc(8);

		memcpy(rep, d + at + 1, 8);
		keys_report(&k, rep, n > 8 ? 8 : n);
		free(rep);
		if ((d[at] & 0x10) && timer_id) {	/* the repeat is due */
			timer_id = 0;
			timer_fn(timer_arg);
		}
		must(!(k.locks & ~(KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL)));
		must(keyq_len(&k.keys) <= KEYQ_SIZE);
		must(!k.rep_usage == !timer_id);
	}
	while (keyq_get(&k.keys, &ev))
		must(ev.code && ev.pressed <= 1 && !(ev.mods & ~(KEYMOD_SHIFT |
		    KEYMOD_CTRL | KEYMOD_ALT | KEYMOD_CAPS | KEYMOD_NUM |
		    KEYMOD_ALTGR)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct keymap *const maps[8] = { &keymap_us,
	    &keymap_gb, &keymap_de, &keymap_fr, &keymap_es, &keymap_it,
	    &keymap_us, &keymap_de };

	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_reports(data + 1, size - 1, maps[(data[0] >> 1) & 7]);
	else
		fuzz_descriptors(data + 1, size - 1);
	return 0;
}
