/*
 * kbdhold.c - the firmware keyboard's keys when no native keyboard takes
 * them at the exit.
 *
 * boot.c swaps the firmware keyboard (efi-console's ConIn) to the best
 * native keyboard provider loaded then.  That one may decline once the
 * firmware is gone (serial on a PC without COM1, ps2 without an 8042), or
 * there may be none: the keyboard a PC has is then often a USB one, whose
 * driver binds only once xhci and the bus have enumerated it.  The keys
 * typed before the exit must not go with the firmware.  The module that
 * holds them keeps them: it stays after the exit, serving them.
 *
 *  kbd_keep_prepare (before the exit, once the takeover's swaps began):
 *	the firmware keyboard with clients is quiesced, if no swap did, so
 *	that it reads what the firmware still holds (efi-console drains
 *	ConIn into its own queue).
 *  kbd_keep (after the exit and the swaps, before the hub's page tables
 *	and `firmware` goes): if its clients are still on it (no swap took
 *	them), the module is told the firmware is gone.  It reads then the
 *	keys the stub kept from ConIn at the exit; one with no keys waiting
 *	withdraws its keyboard (efi-console does).  If the keyboard
 *	is still there, the module is resumed (a resume never calls the
 *	firmware, abi/pb.h) and not unloaded with the other firmware
 *	modules; its other resources go.  Its clients
 *	read the keys from it as from any keyboard (the shell reads every
 *	keyboard); a client that wants a single keyboard has it swapped for
 *	the first native one that starts (lifecycle.c: a lower-ranked
 *	provider is superseded), which takes the keys with its state.
 *  After boot.cfg kbd-wait=MS (10 s by default) it is unloaded.
 *
 * Each step is one log line, e.g.
 *   takeover: efi-console stays for keyboard:efi's 1 client: the keys
 *   typed before the exit wait there (no native keyboard took them)
 */
#include "hub.h"
#include "swap.h"
#include "../abi/keyboard.h"
#include "../abi/rt/rt.h"

uint64_t kbd_hold_wait_ns = 10000000000ull;

static struct pb_module *kept;	/* the firmware keyboard's module */
static int quiesced_here;

void
kbd_keep_prepare(void)
{
	struct pb_resource *r = firmware_serving(KEYBOARD_IFACE);
	int err;

	kept = r ? r->owner : NULL;
	quiesced_here = 0;
	if (!kept || kept->state != MOD_RUNNING || !kept->ops->quiesce)
		return;
	/* PB_EAGAIN: it still serves while it drains (efi-console lets the
	 * firmware's terminal settle), as in a swap. */
	if ((err = mod_quiesce(kept, hub_now_ns() + swap_drain_ns)) != PB_OK) {
		log_event(LOG_ERROR, "takeover: %s cannot keep its keys: it "
		    "refused to quiesce (%d)", kept->name, err);
		kept = NULL;
		return;
	}
	kept->state = MOD_QUIESCED;
	quiesced_here = 1;
}

/* m, quiesced for the takeover, serves again (park.c's too). */
void
takeover_resume(struct pb_module *m)
{
	struct mod_op c = { 0 };

	if (m->state != MOD_QUIESCED)
		return;
	if (mod_op(m, MOD_OP_RESUME, &c) != PB_OK)
		log_event(LOG_ERROR, "takeover: %s cannot resume", m->name);
	m->state = MOD_RUNNING;
}

/* ExitBootServices failed: the firmware keyboard serves again. */
void
kbd_keep_abort(void)
{
	if (quiesced_here && kept)
		takeover_resume(kept);
	kept = NULL;
	quiesced_here = 0;
}

/* kbd-wait is over: it goes, unless a swap took it over meanwhile (its
 * watch window decides then). */
static void
expire(void *arg)
{
	(void)arg;
	if (kept && kept->state == MOD_RUNNING) {
		log_event(LOG_SWAP, "takeover: %s goes, %llu ms after the exit "
		    "(kbd-wait)", kept->name,
		    (unsigned long long)(kbd_hold_wait_ns / 1000000));
		mod_unload(kept);
	}
	kept = NULL;
}

int
kbd_keep(const struct pb_resource *fw)
{
	struct pb_resource *r = firmware_serving(KEYBOARD_IFACE);

	quiesced_here = 0;	/* past the exit: nothing to resume */
	if (r && r->owner == kept) {
		/* The firmware is gone: it must not call it again. */
		for (unsigned k = 0; k < MAX_CONNS; k++)
			if (conns[k].used && conns[k].client == kept &&
			    conns[k].res == fw) {
				conn_tell(&conns[k], PB_EV_DISCONNECTED);
				conn_close(&conns[k]);
			}
		r = firmware_serving(KEYBOARD_IFACE);	/* gone: no keys waited */
	}
	if (!kept || !r || r->owner != kept) {
		kept = NULL;	/* a swap took its clients, or none typed */
		return 0;
	}
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && resources[i].owner == kept &&
		    &resources[i] != r)
			res_withdraw(&resources[i]);
	takeover_resume(kept);
	log_event(LOG_SWAP, "takeover: %s stays for %s's %u client%s: the keys "
	    "typed before the exit wait there (no native keyboard took them)",
	    kept->name, r->name, res_clients(r), res_clients(r) == 1 ? "" : "s");
	if (timer_add(NULL, kbd_hold_wait_ns, expire, NULL) < 0)
		expire(NULL);
	return kept != NULL;
}

int
kbd_kept(const struct pb_module *m)
{
	return m == kept;
}
