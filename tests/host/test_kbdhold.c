/*
 * test_kbdhold.c - the firmware keyboard kept over the takeover with the
 * keys typed before the exit, when no native keyboard takes them
 * (hub/kbdhold.c), with fake modules.
 *
 * The world: `efic`, a firmware-backed module needing `firmware` (fwp's),
 * serves keyboard:efi and console:efi, exports a console's state with
 * the keys typed and, told the firmware went with none typed, withdraws
 * its keyboard (as efi-console does); `cli` reads every keyboard (the
 * shell); `kb0` is the keyboard the takeover swaps to, `kb1` and `kb2`
 * native keyboards that start after the exit (ps2 autostarting, usb-kbd
 * bound to its device), each recording the state it imports.  Each test
 * runs the takeover's steps as boot.c does: the swap begun,
 * kbd_keep_prepare, the exit, the swap finished, kbd_keep, `firmware`
 * withdrawn and the firmware modules not kept unloaded.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/console.h"
#include "../../abi/keyboard.h"

static struct fm *fwp, *efic, *cli, *kb0, *kb1, *kb2;
static struct pb_module_ops efic_ops, kb_ops;
static unsigned typed;			/* keys efic holds */
static struct {
	unsigned n;
	uint32_t ver;
	uint32_t nkeys;
} got[MAX_MODULES];
static unsigned exports;		/* efic's, with a buffer */

static int
efic_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct console_state cs = { .cols = 80, .rows = 25, .text_len = 5,
	    .nkeys = typed };

	for (unsigned i = 0; i < typed; i++)
		cs.keys[i] = (struct key_event){ .code = 'a' + i, .pressed = 1 };
	*version = CONSOLE_STATE_VERSION;
	*len = sizeof(cs) + 5;
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	exports++;
	memcpy(buf, &cs, sizeof(cs));
	memcpy((char *)buf + sizeof(cs), "hello", 5);
	return PB_OK;
}

/* efic hears the firmware go: with no keys, its keyboard goes. */
static void
efic_event(struct fm *f, int event, struct pb_conn *c, int req)
{
	if (f == efic && event == PB_EV_DISCONNECTED && req == 0 && !typed &&
	    efic->res[0])
		hub_services.withdraw(efic->m, efic->res[0]);
}

static int
kb_import(struct pb_module *m, const void *buf, size_t len, uint32_t ver)
{
	int i = (int)(m - modules);
	struct console_state cs;

	fm_ops.import_state(m, NULL, 0, 0);	/* the trace */
	got[i].n++;
	got[i].ver = ver;
	if (ver == CONSOLE_STATE_VERSION && len >= sizeof(cs)) {
		memcpy(&cs, buf, sizeof(cs));
		got[i].nkeys = cs.nkeys;
	}
	return PB_OK;
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
	kbd_keep_abort();	/* anything an earlier test left */
	memset(got, 0, sizeof(got));
	typed = keys;
	exports = 0;
	efic_ops = fm_ops;
	efic_ops.export_state = efic_export;
	kb_ops = fm_ops;
	kb_ops.import_state = kb_import;
	fwp = fm_add("fwp", 0);
	fm_provide(fwp, FIRMWARE_IFACE, FIRMWARE_MAJOR, FIRMWARE_MINOR);
	fm_publish(fwp, FIRMWARE_IFACE, "uefi", "");
	efic = fm_add("efic", 0);
	efic->m->ops = &efic_ops;
	efic->m->desc.flags |= PB_MOD_FIRMWARE;
	fm_require(efic, FIRMWARE_IFACE, FIRMWARE_MAJOR, 0, PB_CARD_ONE,
	    PB_AT_START);
	fm_provide(efic, KEYBOARD_IFACE, 1, 0);
	fm_provide(efic, CONSOLE_IFACE, 1, 0);
	fm_publish(efic, KEYBOARD_IFACE, "efi", "via=conin");
	fm_publish(efic, CONSOLE_IFACE, "efi", "via=conout");
	cli = fm_add("cli", 0);
	fm_require(cli, KEYBOARD_IFACE, 1, 0, PB_CARD_ALL, PB_LATER);
	kb0 = keyboard("kb0", "k0", 10);
	kb1 = keyboard("kb1", "k1", 5);
	kb2 = keyboard("kb2", "k2", 5);
	hub_native = 0;
	fm_event_hook = efic_event;
	return fm_start(fwp) == PB_OK && fm_start(efic) == PB_OK &&
	    fm_start(cli) == PB_OK && fm_conn_res(cli, 0, 0) == efic->res[0];
}

/* boot.c's takeover of efic's keyboard: swapped to `to` (NULL: none),
 * which may fail after the exit; 1 when efic was kept. */
static int
takeover(struct fm *to)
{
	struct swap s = { .old = efic->m, .new = to ? to->m : NULL,
	    .iface = KEYBOARD_IFACE };
	char err[160];
	int begun = to && swap_begin(&s, err, sizeof(err)) == PB_OK, kept;

	kbd_keep_prepare();
	hub_native = 1;
	if (begun)
		swap_finish(&s, err, sizeof(err));
	kept = kbd_keep(fwp->res[0]);
	res_withdraw(fwp->res[0]);
	if (!kbd_kept(efic->m))
		mod_unload(efic->m);
	fm_run_work();
	return kept;
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
	kbd_keep_abort();
	hub_native = 0;
	fm_teardown();
}

TEST(kbdhold_keys_typed_keep_the_firmware_keyboard)
{
	struct pb_resource *efi;

	REQUIRE(world(3));
	efi = efic->res[0];
	CHECK_EQ_INT(takeover(NULL), 1);
	/* Quiesced for its keys before the exit (no swap did it), told the
	 * firmware went, and serving again. */
	CHECK_CONTAINS(fm_trace, "efic.quiesce efic.disconnected(firmware:uefi) "
	    "efic.resume");
	CHECK_EQ_INT(efic->nresume, 1);
	CHECK_EQ_INT(efic->m->state, MOD_RUNNING);
	CHECK(fm_log_has("takeover: efic stays for keyboard:efi's 1 client: "
	    "the keys typed before the exit wait there (no native keyboard "
	    "took them)"));
	/* Its keyboard keeps its client; its console went. */
	CHECK(cli_has(efi));
	CHECK(!res_find("console:efi"));
	/* A native keyboard starts as usual, beside it: the shell reads
	 * both. */
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(normal)");
	CHECK_EQ_INT(got[kb1->m - modules].n, 0);
	CHECK(cli_has(kb1->res[0]) && cli_has(efi));
	/* kbd-wait later it goes; the client is told. */
	fm_advance(kbd_hold_wait_ns - 1);
	CHECK_EQ_INT(efic->m->state, MOD_RUNNING);
	fm_advance(1);
	CHECK(fm_log_has("takeover: efic goes, 10000 ms after the exit "
	    "(kbd-wait)"));
	CHECK_EQ_INT(efic->m->state, MOD_UNLOADED);
	CHECK(!cli_has(efi));
	CHECK(cli_has(kb1->res[0]));
	CHECK(!kbd_kept(efic->m));
	done();
}

TEST(kbdhold_the_takeovers_keyboard_declines_after_the_exit)
{
	/* serial on a PC without COM1: the swap fails once the firmware
	 * is gone; efic resumes and is kept, its clients stay on it. */
	REQUIRE(world(2));
	kb0->fail_at = FM_ACTIVATE;
	kb0->fail_err = PB_ENODEV;
	CHECK_EQ_INT(takeover(kb0), 1);
	CHECK(fm_log_has("takeover: efic stays for keyboard:efi's 1 client"));
	CHECK(cli_has(efic->res[0]));
	CHECK_EQ_INT(efic->m->state, MOD_RUNNING);
	done();
}

TEST(kbdhold_a_swap_that_took_the_keyboard_keeps_nothing)
{
	REQUIRE(world(2));
	CHECK_EQ_INT(takeover(kb0), 0);
	CHECK(cli_has(kb0->res[0]));
	CHECK(!fm_log_has("stays"));
	CHECK(!kbd_kept(efic->m));
	done();
}

TEST(kbdhold_nothing_typed_nothing_kept)
{
	REQUIRE(world(0));
	CHECK_EQ_INT(takeover(NULL), 0);
	CHECK(!fm_log_has("stays"));
	CHECK_EQ_INT(efic->m->state, MOD_UNLOADED);
	/* Told the firmware went, it withdrew its keyboard. */
	CHECK_EQ_INT(efic->ndisconnected, 1);
	CHECK_EQ_INT(cli->ndisconnected, 1);
	done();
}

TEST(kbdhold_a_client_of_one_keyboard_gets_the_keys_by_a_swap)
{
	struct fm *one;

	REQUIRE(world(4));
	one = fm_add("one", 0);
	fm_require(one, KEYBOARD_IFACE, 1, 0, PB_CARD_ONE, PB_LATER);
	REQUIRE(fm_start(one) == PB_OK);
	REQUIRE(fm_conn_res(one, 0, 0) == efic->res[0]);
	CHECK_EQ_INT(takeover(NULL), 1);
	/* The first native keyboard supersedes efic through a swap: the
	 * keys go with its state. */
	REQUIRE(start(kb1) == PB_OK);
	CHECK_CONTAINS(fm_trace, "kb1.start(standby) efic.quiesce efic.release "
	    "kb1.import kb1.activate");
	CHECK_EQ_INT(got[kb1->m - modules].nkeys, 4);
	CHECK(fm_conn_res(one, 0, 0) == kb1->res[0]);
	CHECK(cli_has(kb1->res[0]));
	/* The deadline finds it gone (retired after the watch window). */
	fm_advance(kbd_hold_wait_ns);
	CHECK_EQ_INT(efic->m->state, MOD_UNLOADED);
	done();
}

TEST(kbdhold_exit_failure_resumes_the_firmware_keyboard)
{
	REQUIRE(world(2));
	kbd_keep_prepare();
	CHECK_EQ_INT(efic->m->state, MOD_QUIESCED);
	kbd_keep_abort();
	CHECK_EQ_INT(efic->m->state, MOD_RUNNING);
	CHECK_EQ_INT(efic->nresume, 1);
	done();
}
