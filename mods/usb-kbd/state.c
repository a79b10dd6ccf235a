/*
 * state.c - the swap entry points.
 *
 *   quiesce	nothing new is submitted; the standing interrupt-IN
 *		request is cancelled (usb_ops.cancel) and PB_EAGAIN is the
 *		answer until it and any class request have completed
 *   export	struct keyboard_state (abi/keyboard.h) per keyboard, in
 *		slot order, one after the other: the modifiers held and
 *		the locks on, what the LEDs show, the unread keys, oldest
 *		first (copies: a failed swap resumes with them)
 *   import	the same (ps2's, or another usb-kbd's: the i-th state to
 *		the i-th keyboard, any beyond to the last), or a console's
 *		struct console_state (efi-console's at the takeover: its
 *		keys); checked whole before anything is taken
 *   release	the device is the next driver's: nothing more is sent
 *   activate	set-up requests with the locks imported, then reading
 *   resume	after a failed swap: reading again (set up again first if
 *		the device had been released)
 */
#include "usbkbd.h"
#include "../../abi/console.h"

#define FOR_EACH_KBD(k) \
	for (struct ukbd **kp_ = uk.kbd, *k; kp_ < uk.kbd + USBKBD_MAX; \
	    kp_++) \
		if ((k = *kp_) && k->used && !k->gone)

int
state_quiesce(struct pb_module *m)
{
	int busy = 0;

	FOR_EACH_KBD(k) {
		k->quiescing = 1;
		repeat_stop(k);
		intr_cancel(k);
		busy |= k->intr_busy || k->ctl_busy;
	}
	return busy ? PB_EAGAIN : PB_OK;
}

static unsigned
nkbds(void)
{
	unsigned n = 0;

	FOR_EACH_KBD(k)
		n++;
	return n;
}

static void
export_one(struct ukbd *k, struct keyboard_state *st)
{
	unsigned left;

	memset(st, 0, sizeof(*st));
	st->mods = keys_mods(k);
	st->leds = k->locks;
	st->nkeys = keyq_peek(&k->keys, st->keys, KEYBOARD_STATE_KEYS);
	if ((left = keyq_len(&k->keys) - st->nkeys))
		KLOG(k, PB_LOG_WARN, "%u unread keys beyond the state's %u are "
		    "not handed over", left, KEYBOARD_STATE_KEYS);
}

int
state_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct keyboard_state st;
	unsigned n = nkbds(), i = 0;

	*version = KEYBOARD_STATE_VERSION;
	*len = (n ? n : 1) * sizeof(st);
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	memset(buf, 0, sizeof(st));	/* no keyboard: an empty state */
	FOR_EACH_KBD(k) {
		export_one(k, &st);
		memcpy((uint8_t *)buf + i++ * sizeof(st), &st, sizeof(st));
	}
	return PB_OK;
}

/* The keyboard the i-th state goes to: the i-th, or the last. */
static struct ukbd *
kbd_for_state(unsigned i)
{
	struct ukbd *last = NULL;

	FOR_EACH_KBD(k) {
		last = k;
		if (i-- == 0)
			break;
	}
	return last;
}

static void
take_keys(struct ukbd *k, const struct key_event *keys, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		keyq_put(&k->keys, &keys[i]);
	if (n)
		KLOG(k, PB_LOG_INFO, "%u unread keys taken over", (unsigned)n);
}

static int
import_console(const void *buf, size_t len)
{
	struct console_state cs;
	struct ukbd *k = kbd_for_state(0);

	if (len < sizeof(cs))
		return PB_ESTATE;
	memcpy(&cs, buf, sizeof(cs));
	if (cs.nkeys > CONSOLE_STATE_KEYS || cs.text_len > len - sizeof(cs))
		return PB_ESTATE;
	if (k)
		take_keys(k, cs.keys, cs.nkeys);
	return PB_OK;
}

int
state_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	struct keyboard_state st;
	size_t n = len / sizeof(st);
	struct ukbd *k;

	if (!buf)
		return PB_ESTATE;
	if (version == CONSOLE_STATE_VERSION)
		return import_console(buf, len);
	if (version != KEYBOARD_STATE_VERSION || n == 0)
		return PB_ESTATE;
	for (size_t i = 0; i < n; i++) {
		memcpy(&st, (const uint8_t *)buf + i * sizeof(st), sizeof(st));
		if (st.nkeys > KEYBOARD_STATE_KEYS)
			return PB_ESTATE;
	}
	for (size_t i = 0; i < n && (k = kbd_for_state((unsigned)i)); i++) {
		memcpy(&st, (const uint8_t *)buf + i * sizeof(st), sizeof(st));
		if (i == 0 || k != kbd_for_state((unsigned)i - 1)) {
			/* a key held across the swap is released here */
			k->prev.mods = hidmap_modbyte(st.mods);
			k->locks = (uint16_t)((st.mods & (KEYMOD_CAPS |
			    KEYMOD_NUM)) | (st.leds & LOCK_SCROLL));
		}
		take_keys(k, st.keys, st.nkeys);
	}
	return PB_OK;
}

int
state_release(struct pb_module *m)
{
	FOR_EACH_KBD(k) {
		k->released = 1;
		k->active = 0;
		k->ctl_pending = 0;
	}
	return PB_OK;
}

int
state_activate(struct pb_module *m)
{
	uk.standby = 0;
	FOR_EACH_KBD(k)
		ukbd_start_io(k);
	ukbd_take_others();
	return PB_OK;
}

int
state_resume(struct pb_module *m)
{
	FOR_EACH_KBD(k) {
		if (k->released && !k->usb)
			continue;	/* its device went meanwhile */
		if (k->released) {
			ukbd_start_io(k);
			continue;
		}
		k->quiescing = k->cancelled = 0;
		ctl_next(k);
		intr_arm(k);
	}
	return PB_OK;
}
