/*
 * kbdhold.c - the takeover of the keyboard when no native keyboard takes
 * the firmware's over at the exit.
 *
 * boot.c swaps the firmware keyboard (efi-console's ConIn) to the best
 * native keyboard provider loaded then.  That one may decline once the
 * firmware is gone (serial on a PC without COM1, ps2 without an 8042), or
 * there may be none: the keyboard a PC has is then often a USB one, whose
 * driver binds only once xhci and the bus have enumerated it.  The keys
 * typed before the exit would go with the firmware module.  So:
 *
 *  kbd_hold_save (before the exit, once the takeover's swaps are begun):
 *	a copy of the firmware keyboard's state, if it has clients: the one
 *	a swap of its module took (efi-console exports the same whatever
 *	the interface), else exported here (quiesced first); kept when it
 *	says something (keys typed, or a lock on): struct keyboard_state,
 *	or a console's struct console_state without its text (the keys).
 *  kbd_hold_begin (after the exit and the swaps): a swap that took the
 *	keyboard moved its clients; if they are still on the firmware's
 *	resource nobody took the keys: they are held, for boot.cfg
 *	kbd-wait=MS (10 s by default).
 *  kbd_hold_start (lifecycle.c, a module is about to start): the first
 *	native keyboard provider that starts meanwhile starts as the new
 *	side of a swap would: start(STANDBY), import_state(the held state),
 *	activate; its resources are offered after.  One that declines at
 *	activate (ps2 with no 8042) is stopped as a start that declines,
 *	and the state waits for the next; one that refuses the state still
 *	serves, without it.
 *  kbd_hold_expire: nobody came in time: dropped, one line.
 *
 * Each step is one log line, e.g.
 *   takeover: keyboard:efi's 12 keys held for the first native keyboard
 *   takeover: keyboard:efi's 12 keys -> keyboard:usbkbd0 (usb-kbd), held
 *   843 ms
 */
#include "hub.h"
#include "swap.h"
#include "../abi/console.h"
#include "../abi/keyboard.h"
#include "../abi/rt/rt.h"

uint64_t kbd_hold_wait_ns = 10000000000ull;

static struct {
	union {
		struct keyboard_state kbd;
		struct console_state con;
	} st;
	size_t len;			/* 0: nothing saved */
	uint32_t ver;
	unsigned nkeys;
	char res[RES_NAME_MAX];		/* the firmware keyboard's name */
	struct pb_module *from;
	int quiesced_here;		/* kbd_hold_save quiesced `from` */
	int held;			/* after the exit: waiting */
	uint64_t since_ns;
	int timer;
} h;

/* The firmware keyboard whose clients would lose its keys. */
static struct pb_resource *
firmware_keyboard(void)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (r->used && r->owner && (r->owner->desc.flags &
		    PB_MOD_FIRMWARE) && !strcmp(r->iface.iface,
		    KEYBOARD_IFACE) && res_clients(r))
			return r;
	}
	return NULL;
}

/* Keep the keyboard's part of what f exported; 0 if it says nothing. */
static int
keep(const uint8_t *buf, size_t len, uint32_t ver)
{
	h.ver = ver;
	if (ver == KEYBOARD_STATE_VERSION && len >= sizeof(h.st.kbd)) {
		memcpy(&h.st.kbd, buf, sizeof(h.st.kbd));
		h.len = sizeof(h.st.kbd);
		h.nkeys = h.st.kbd.nkeys;
		return h.nkeys <= KEYBOARD_STATE_KEYS && (h.nkeys ||
		    h.st.kbd.mods || h.st.kbd.leds);
	}
	if (ver == CONSOLE_STATE_VERSION && len >= sizeof(h.st.con)) {
		memcpy(&h.st.con, buf, sizeof(h.st.con));
		h.st.con.text_len = 0;	/* the console went elsewhere */
		h.len = sizeof(h.st.con);
		h.nkeys = h.st.con.nkeys;
		return h.nkeys && h.nkeys <= CONSOLE_STATE_KEYS;
	}
	return 0;
}

static void
forget(void)
{
	if (h.timer)
		timer_cancel(NULL, h.timer);
	h.timer = 0;
	h.len = 0;
	h.held = 0;
	h.from = NULL;
	h.quiesced_here = 0;
}

/* What a swap of f took before the exit: no second export. */
static int
from_swap(const struct pb_module *f, const struct swap *sw, unsigned nsw)
{
	for (unsigned i = 0; i < nsw; i++)
		if (sw[i].old == f && sw[i].buf && sw[i].len) {
			if (!keep(sw[i].buf, sw[i].len, sw[i].ver))
				h.len = 0;
			return 1;
		}
	return 0;
}

void
kbd_hold_save(const struct swap *sw, unsigned nsw)
{
	struct pb_resource *r = firmware_keyboard();
	struct pb_module *f = r ? r->owner : NULL;
	struct mod_op c = { 0 };
	int err;

	forget();
	if (!f || !f->ops->quiesce || !f->ops->export_state)
		return;
	h.from = f;
	rt_strlcpy(h.res, r->name, sizeof(h.res));
	if (from_swap(f, sw, nsw))
		return;
	/* PB_EAGAIN: it still serves while it drains (efi-console lets the
	 * firmware's terminal settle), as in a swap. */
	if (f->state == MOD_RUNNING) {
		err = mod_quiesce(f, hub_now_ns() + swap_drain_ns);
		if (err != PB_OK) {
			log_event(LOG_ERROR, "takeover: %s cannot hand its keys "
			    "over: it refused to quiesce (%d)", f->name, err);
			return;
		}
		f->state = MOD_QUIESCED;
		h.quiesced_here = 1;
	}
	if ((err = mod_export(f, &c)) != PB_OK || !c.len)
		log_event(LOG_ERROR, "takeover: %s's keys cannot be kept: its "
		    "state (%d, %u bytes)", f->name, err, (unsigned)c.len);
	else if (!keep(c.buf, c.len, c.ver))
		h.len = 0;	/* nothing typed: nothing to hold */
	if (c.buf)
		mem_free(NULL, c.buf);
}

/* ExitBootServices failed: the firmware module serves again. */
void
kbd_hold_abort(void)
{
	struct mod_op c = { 0 };

	if (h.quiesced_here && h.from->state == MOD_QUIESCED) {
		if (mod_op(h.from, MOD_OP_RESUME, &c) != PB_OK)
			log_event(LOG_ERROR, "takeover: %s cannot resume",
			    h.from->name);
		h.from->state = MOD_RUNNING;
	}
	forget();
}

static void
expire(void *arg)
{
	(void)arg;
	h.timer = 0;
	if (!h.held)
		return;
	log_event(LOG_SWAP, "takeover: %s's %u keys dropped: no native "
	    "keyboard came in %llu ms", h.res, h.nkeys,
	    (unsigned long long)((hub_now_ns() - h.since_ns) / 1000000));
	forget();
}

void
kbd_hold_begin(void)
{
	struct pb_resource *r = h.len ? res_find(h.res) : NULL;
	int id;

	h.quiesced_here = 0;
	if (!r || r->owner != h.from || !res_clients(r)) {
		forget();	/* a native keyboard took them (or none typed) */
		return;
	}
	h.held = 1;
	h.since_ns = hub_now_ns();
	log_event(LOG_SWAP, "takeover: %s's %u keys held for the first native "
	    "keyboard (none took them at the exit)", h.res, h.nkeys);
	if ((id = timer_add(NULL, kbd_hold_wait_ns, expire, NULL)) < 0)
		expire(NULL);
	else
		h.timer = id;
}

/* m's keyboard resource (for the log), made visible; its others too. */
static const char *
show(struct pb_module *m)
{
	const char *name = "?";

	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (!r->used || r->owner != m)
			continue;
		r->standby = 0;
		if (!strcmp(r->iface.iface, KEYBOARD_IFACE) && name[0] == '?')
			name = r->name;
	}
	return name;
}

int
kbd_hold_start(struct pb_module *m)
{
	struct mod_op c = { .buf = &h.st, .len = h.len, .ver = h.ver };
	int err, took;

	if (!h.held || !hub_native || !mod_provides(m, KEYBOARD_IFACE) ||
	    (m->desc.flags & PB_MOD_FIRMWARE) || !m->ops->import_state)
		return PB_ENOENT;
	if ((err = mod_start(m, PB_START_STANDBY)) != PB_OK)
		return err;		/* declined, said and stopped there */
	if ((err = mod_op(m, MOD_OP_IMPORT, &c)) == PB_EFAULT)
		return err;		/* the fault handler has it now */
	if (!(took = err == PB_OK))
		log_event(LOG_ERROR, "takeover: %s refused %s's keys (%d); they "
		    "wait for the next keyboard", m->name, h.res, err);
	if ((err = mod_activate(m)) != PB_OK) {
		if (err == PB_EFAULT)
			return err;	/* the fault handler cleaned up */
		log_event(err == PB_ENODEV ? LOG_START : LOG_ERROR, "%s: "
		    "activate failed (%d)%s; %s's keys wait for the next "
		    "keyboard", m->name, err, err == PB_ENODEV ? ": no device, "
		    "declined" : "", h.res);
		mod_stop(m);
		m->state = MOD_FAILED;
		return err;
	}
	if (took) {
		log_event(LOG_SWAP, "takeover: %s's %u keys -> %s (%s), held "
		    "%llu ms", h.res, h.nkeys, show(m), m->name,
		    (unsigned long long)((hub_now_ns() - h.since_ns) / 1000000));
		forget();
	} else {
		show(m);
	}
	res_offer_module(m);
	return PB_OK;
}
