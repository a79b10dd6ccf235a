/*
 * test_kbdhold.c - the firmware keyboard's keys kept over the takeover
 * when no native keyboard takes them at the exit (hub/kbdhold.c), with
 * fake modules.
 *
 * The world: `efic`, a firmware-backed module, serves keyboard:efi and
 * exports a console's state with the keys typed (as efi-console does);
 * `cli` reads every keyboard (the shell); `kb0` is the keyboard the
 * takeover swaps to, `kb1` and `kb2` native keyboards that start after
 * the exit (ps2 autostarting, usb-kbd bound to its device), each
 * recording the state it imports.  Each test runs the takeover's steps
 * as boot.c does: the swap begun, kbd_hold_save, the exit, the swap
 * finished, kbd_hold_begin; then starts keyboards as lifecycle.c does.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/console.h"
#include "../../abi/keyboard.h"

static struct fm *efic, *cli, *kb0, *kb1, *kb2;
static struct pb_module_ops efic_ops, kb_ops;
static unsigned typed;			/* keys efic holds */
static int efic_kbd_state;		/* export a keyboard_state instead */
static uint16_t efic_locks;
static struct {
	unsigned n;
	uint32_t ver;
	size_t len;
	uint32_t nkeys, text_len;
	uint16_t leds;
	uint32_t first;
} got[MAX_MODULES];
static int refuse_state;
static unsigned exports;		/* efic's, with a buffer */

static int
efic_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct console_state cs = { .cols = 80, .rows = 25, .text_len = 5,
	    .nkeys = typed };
	struct keyboard_state ks = { .leds = efic_locks, .mods = efic_locks,
	    .nkeys = typed };

	for (unsigned i = 0; i < typed; i++)
		cs.keys[i] = ks.keys[i] = (struct key_event){ .code = 'a' + i,
		    .pressed = 1 };
	*version = efic_kbd_state ? KEYBOARD_STATE_VERSION :
	    CONSOLE_STATE_VERSION;
	*len = efic_kbd_state ? sizeof(ks) : sizeof(cs) + 5;
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	exports++;
	if (efic_kbd_state) {
		memcpy(buf, &ks, sizeof(ks));
	} else {
		memcpy(buf, &cs, sizeof(cs));
		memcpy((char *)buf + sizeof(cs), "hello", 5);
	}
	return PB_OK;
}

static int
kb_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	int i = (int)(m - modules);
	struct console_state cs;
	struct keyboard_state ks;

	fm_ops.import_state(m, NULL, 0, 0);	/* the trace */
	got[i].n++;
	got[i].ver = ver;
	got[i].len = len;
	if (ver == CONSOLE_STATE_VERSION && len >= sizeof(cs)) {
		memcpy(&cs, buf, sizeof(cs));
		got[i].nkeys = cs.nkeys;
		got[i].text_len = cs.text_len;
		got[i].first = cs.keys[0].code;
	} else if (ver == KEYBOARD_STATE_VERSION && len >= sizeof(ks)) {
		memcpy(&ks, buf, sizeof(ks));
		got[i].nkeys = ks.nkeys;
		got[i].leds = ks.leds;
		got[i].first = ks.keys[0].code;
	}
	return refuse_state ? PB_ESTATE : PB_OK;
}

static struct fm *
keyboard(const char *name, const char *res, int rank)
{
	struct fm *f = fm_add(name, rank);

	f->m->ops = &kb_ops;
	fm_provide(f, KEYBOARD_IFACE, 1, 1);
	fm_publish(f, KEYBOARD_IFACE, res, "");
	return f;
}

static int
world(unsigned keys)
{
	fm_setup();
	kbd_hold_abort();	/* anything an earlier test left */
	memset(got, 0, sizeof(got));
	typed = keys;
	efic_kbd_state = 0;
	efic_locks = 0;
	refuse_state = 0;
	exports = 0;
	efic_ops = fm_ops;
	efic_ops.export_state = efic_export;
	kb_ops = fm_ops;
	kb_ops.import_state = kb_import;
	efic = fm_add("efic", 0);
	efic->m->ops = &efic_ops;
	efic->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_provide(efic, KEYBOARD_IFACE, 1, 0);
	fm_publish(efic, KEYBOARD_IFACE, "efi", "via=conin");
	cli = fm_add("cli", 0);
	fm_require(cli, KEYBOARD_IFACE, 1, 0, PB_CARD_ALL, PB_LATER);
	kb0 = keyboard("kb0", "k0", 10);
	kb1 = keyboard("kb1", "k1", 5);
	kb2 = keyboard("kb2", "k2", 5);
	hub_native = 0;
	return fm_start(efic) == PB_OK && fm_start(cli) == PB_OK &&
	    fm_conn_res(cli, 0, 0) == efic->res[0];
}

/* boot.c's takeover of efic's keyboard: swapped to `to` (NULL: none),
 * which may fail after the exit; 1 when the swap went through. */
static int
takeover(struct fm *to)
{
	struct swap s = { .old = efic->m, .new = to ? to->m : NULL,
	    .iface = KEYBOARD_IFACE };
	char err[160];
	int begun = to && swap_begin(&s, err, sizeof(err)) == PB_OK, ok = 0;

	kbd_hold_save(&s, begun);
	hub_native = 1;
	if (begun)
		ok = swap_finish(&s, err, sizeof(err)) == PB_OK;
	kbd_hold_begin();
	fm_run_work();
	return ok;
}

/* A keyboard starts after the exit, as lifecycle.c starts one. */
static int
start(struct fm *f)
{
	char err[160];
	int r = hub_start_module(f->m, err, sizeof(err));

	fm_run_work();
	return r;
}

static int
cli_has(const struct pb_resource *r)
{
	for (unsigned i = 0; i < 4; i++)
		if (fm_conn_res(cli, 0, i) == r)
			return 1;
	return 0;
}

static void
done(void)
{
	kbd_hold_abort();
	hub_native = 0;
	fm_teardown();
}

TEST(kbdhold_no_native_keyboard_keys_go_to_the_first_that_starts)
{
	REQUIRE(world(3));
	CHECK_EQ_INT(takeover(NULL), 0);
	/* efic was quiesced for its keys (no swap did it). */
	CHECK(efic->quiesced);
	CHECK(fm_log_has("takeover: keyboard:efi's 3 keys held for the first "
	    "native keyboard (none took them at the exit)"));
	fm_advance(843000000ull);
	REQUIRE(start(kb1) == PB_OK);
	/* Started as the new side of a swap: standby, import, activate. */
	CHECK_CONTAINS(fm_trace, "kb1.start(standby) kb1.import kb1.activate");
	CHECK_EQ_INT(kb1->m->state, MOD_RUNNING);
	/* The keys, without the console's text. */
	CHECK_EQ_INT(got[kb1->m - modules].n, 1);
	CHECK_EQ_INT(got[kb1->m - modules].ver, CONSOLE_STATE_VERSION);
	CHECK_EQ_INT(got[kb1->m - modules].len, sizeof(struct console_state));
	CHECK_EQ_INT(got[kb1->m - modules].nkeys, 3);
	CHECK_EQ_INT(got[kb1->m - modules].text_len, 0);
	CHECK_EQ_INT(got[kb1->m - modules].first, 'a');
	CHECK(fm_log_has("takeover: keyboard:efi's 3 keys -> keyboard:k1 (kb1), "
	    "held 843 ms"));
	/* Its resource is offered: the shell reads it. */
	CHECK(!kb1->res[0]->standby);
	CHECK(cli_has(kb1->res[0]));
	/* Handed once: the next keyboard starts as usual; no deadline. */
	fm_trace_clear();
	REQUIRE(start(kb2) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb2.start(normal)");
	CHECK_EQ_INT(got[kb2->m - modules].n, 0);
	CHECK(cli_has(kb2->res[0]));
	fm_advance(kbd_hold_wait_ns);
	CHECK(!fm_log_has("dropped"));
	done();
}

TEST(kbdhold_the_takeovers_keyboard_declines_after_the_exit)
{
	/* serial on a PC without COM1: the swap fails once the firmware
	 * is gone; efic resumes, its clients stay on keyboard:efi. */
	REQUIRE(world(2));
	kb0->fail_at = FM_ACTIVATE;
	kb0->fail_err = PB_ENODEV;
	CHECK_EQ_INT(takeover(kb0), 0);
	CHECK(fm_log_has("takeover: keyboard:efi's 2 keys held"));
	/* The swap's state was kept: efic was asked once (its export
	 * waits for ConIn to stay quiet). */
	CHECK_EQ_INT(exports, 1);
	REQUIRE(start(kb1) == PB_OK);
	CHECK_EQ_INT(got[kb1->m - modules].nkeys, 2);
	CHECK(fm_log_has("-> keyboard:k1 (kb1)"));
	done();
}

TEST(kbdhold_a_swap_that_took_the_keyboard_leaves_nothing_held)
{
	REQUIRE(world(2));
	CHECK_EQ_INT(takeover(kb0), 1);
	CHECK(cli_has(kb0->res[0]));
	CHECK(!fm_log_has("held"));
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(normal)");
	CHECK_EQ_INT(got[kb1->m - modules].n, 0);
	done();
}

TEST(kbdhold_nothing_typed_nothing_held)
{
	REQUIRE(world(0));
	takeover(NULL);
	CHECK(!fm_log_has("held"));
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(normal)");
	done();
}

TEST(kbdhold_a_keyboard_without_its_device_leaves_them_for_the_next)
{
	/* ps2 on a machine without an 8042: it declines at activate. */
	REQUIRE(world(4));
	takeover(NULL);
	kb1->fail_at = FM_ACTIVATE;
	kb1->fail_err = PB_ENODEV;
	CHECK_EQ_INT(start(kb1), PB_ENODEV);
	CHECK_EQ_INT(kb1->m->state, MOD_FAILED);
	CHECK_CONTAINS(fm_log(), "kb1: activate failed (-10): no device, "
	    "declined; keyboard:efi's keys wait for the next keyboard");
	CHECK_EQ_INT(fm_nres(kb1), 0);
	CHECK(!cli_has(kb1->res[0]));
	REQUIRE(start(kb2) == PB_OK);
	CHECK_EQ_INT(got[kb2->m - modules].nkeys, 4);
	CHECK(fm_log_has("takeover: keyboard:efi's 4 keys -> keyboard:k2 "
	    "(kb2)"));
	done();
}

TEST(kbdhold_a_refused_state_waits_and_the_keyboard_serves)
{
	REQUIRE(world(1));
	takeover(NULL);
	refuse_state = 1;
	REQUIRE(start(kb1) == PB_OK);
	CHECK_EQ_INT(kb1->m->state, MOD_RUNNING);
	CHECK(cli_has(kb1->res[0]));
	CHECK(fm_log_has("error: takeover: kb1 refused keyboard:efi's keys "
	    "(-8); they wait for the next keyboard"));
	refuse_state = 0;
	REQUIRE(start(kb2) == PB_OK);
	CHECK_EQ_INT(got[kb2->m - modules].nkeys, 1);
	done();
}

TEST(kbdhold_a_keyboard_that_faults_taking_them_leaves_them)
{
	REQUIRE(world(2));
	takeover(NULL);
	kb1->fault_at = FM_IMPORT;
	CHECK_EQ_INT(start(kb1), PB_EFAULT);
	CHECK(kb1->m->state != MOD_RUNNING);
	REQUIRE(start(kb2) == PB_OK);
	CHECK_EQ_INT(got[kb2->m - modules].nkeys, 2);
	CHECK(fm_log_has("-> keyboard:k2 (kb2)"));
	done();
}

TEST(kbdhold_the_deadline_drops_them_with_one_line)
{
	REQUIRE(world(3));
	takeover(NULL);
	fm_advance(kbd_hold_wait_ns - 1);
	CHECK(!fm_log_has("dropped"));
	fm_advance(1);
	CHECK(fm_log_has("takeover: keyboard:efi's 3 keys dropped: no native "
	    "keyboard came in 10000 ms"));
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(normal)");
	done();
}

TEST(kbdhold_a_keyboard_state_keeps_the_locks)
{
	REQUIRE(world(0));
	efic_kbd_state = 1;
	efic_locks = KEYMOD_CAPS;
	takeover(NULL);
	CHECK(fm_log_has("takeover: keyboard:efi's 0 keys held"));
	REQUIRE(start(kb1) == PB_OK);
	CHECK_EQ_INT(got[kb1->m - modules].ver, KEYBOARD_STATE_VERSION);
	CHECK_EQ_INT(got[kb1->m - modules].leds, KEYMOD_CAPS);
	done();
}

TEST(kbdhold_exit_failure_resumes_the_firmware_keyboard)
{
	REQUIRE(world(2));
	kbd_hold_save(NULL, 0);
	CHECK_EQ_INT(efic->m->state, MOD_QUIESCED);
	kbd_hold_abort();
	CHECK_EQ_INT(efic->m->state, MOD_RUNNING);
	CHECK_EQ_INT(efic->nresume, 1);
	/* Nothing held once it serves again. */
	hub_native = 1;
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(normal)");
	done();
}
