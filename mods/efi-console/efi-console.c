/*
 * efi-console - `console` and `keyboard` over the firmware's ConOut and
 * ConIn, for the firmware phase: the user sees a console from the first
 * millisecond.  Requires `firmware` (abi/firmware.h), so it lives only
 * until ExitBootServices; there the hub swaps its console to the best
 * native console (fbcon) and its keyboard to the best native keyboard
 * (serial), and unloads it.  When no native keyboard took the keyboard,
 * the hub tells it the firmware went (eficon_firmware_gone): with keys[]
 * empty its keyboard goes, else the hub resumes it and it stays for
 * kbd-wait, serving keys[] (hub/kbdhold.c).
 *
 * Swap steps, mostly as the old provider:
 *   quiesce	PB_EAGAIN, still serving, until the firmware's terminal
 *		has settled (eficon_settled); then accept nothing new and
 *		read every key ConIn holds into keys[]
 *   export	struct console_state + the recent text (state.c), with
 *		what ConIn holds by then
 *   resume	serve again (a failed swap); never calls the firmware, which
 *		may be gone by then
 *   import	only for a swap back in the firmware phase (swap keyboard
 *		efi-console): the unread keys, served before ConIn's
 * There is no hardware to take or release: no activate or release.
 *
 * ConOut shows characters only: ansi.c removes escape sequences and turns
 * a clear-screen into ConOut's ClearScreen; the text kept for the takeover
 * is exactly what clients wrote, after the lines the stub and the hub
 * wrote on ConOut themselves (read back from `log`, hublines.c).
 */
#include "efi-console.h"

#define OUT_CHUNK 256		/* bytes per con_write */
#define READ_TRIES 8		/* ConIn keys skipped per read at most */
#define DRAIN_TRIES 64		/* ConIn keys read per drain at most */
#define DRAIN_QUIET_NS 25000000ull	/* > TerminalDxe's 20 ms serial poll */
#define DRAIN_QUIET_MAX_NS 100000000ull
#define HUB_LINE_NS 5000000ull		/* a line on ConOut takes < 5 ms */

struct eficon efc;
static char eficon_text[EFICON_TEXT];

static int
eficon_write(void *ctx, const char *s, size_t len)
{
	char out[OUT_CHUNK];
	size_t done = 0, n;
	int act, r;

	if (efc.quiet)
		return PB_EBUSY;
	if (!efc.fw)
		return PB_EIO;
	rt_textring_put(&efc.text, s, len);
	while (done < len || ansi_pending(&efc.ansi)) {
		done += ansi_filter(&efc.ansi, s + done, len - done, out,
		    sizeof(out), &n, &act);
		if (n && (r = PB_CALL(efc.fw, firmware_ops, con_write, out,
		    n)) != PB_OK)
			return r;
		if (act == ANSI_CLEAR && (r = PB_CALL(efc.fw, firmware_ops,
		    con_clear)) != PB_OK)
			return r;
	}
	efc.wrote_ns = efc.hub->now_ns();	/* the firmware may have taken
						 * bytes from the UART */
	return len > 0x7fffffff ? 0x7fffffff : (int)len;
}

static int
eficon_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = efc.cols;
	*rows = efc.rows;
	return PB_OK;
}

static int
eficon_clear(void *ctx)
{
	static const char cls[] = "\033[2J\033[H";	/* ED 2, CUP */

	return eficon_write(ctx, cls, sizeof(cls) - 1) < 0 ? PB_EIO : PB_OK;
}

static const struct console_ops eficon_console_ops = {
	.write = eficon_write,		/* ConOut, escape sequences removed */
	.size = eficon_size,		/* ConOut's mode at start */
	.clear = eficon_clear,		/* ConOut's ClearScreen */
};

/* One key from ConIn: PB_OK, PB_EAGAIN, or the firmware's error. */
static int
eficon_conin_key(struct key_event *ev)
{
	struct firmware_key k;
	int r;

	for (int i = 0; i < READ_TRIES; i++) {
		if ((r = PB_CALL(efc.fw, firmware_ops, con_read_key, &k)) !=
		    PB_OK)
			return r;
		if (efikey_translate(&k, ev))
			return PB_OK;
	}
	return PB_EAGAIN;
}

static int
eficon_read(void *ctx, struct key_event *ev)
{
	if (efc.quiet)
		return PB_EAGAIN;
	if (keybuf_get(&efc.keys, ev))
		return PB_OK;		/* held back by a swap that failed */
	if (!efc.fw)
		return PB_EAGAIN;
	return eficon_conin_key(ev);
}

static int
eficon_set_leds(void *ctx, uint16_t leds)
{
	return PB_ENOTSUP;		/* ConIn has no LEDs to set */
}

static const struct keyboard_ops eficon_keyboard_ops = {
	.read = eficon_read,		/* ConIn's ReadKeyStroke */
	.set_leds = eficon_set_leds,	/* not supported */
};

/* Everything ConIn holds, into keys[] (as much as a state carries).
 * 1 when it read a key. */
int
eficon_drain_conin(void)
{
	struct key_event ev;
	int got = 0;

	for (int i = 0; i < DRAIN_TRIES && efc.fw; i++) {
		if (keybuf_full(&efc.keys) || eficon_conin_key(&ev) != PB_OK)
			break;
		keybuf_put(&efc.keys, &ev);
		got = 1;
	}
	return got;
}

/* The newest line the hub wrote on ConOut itself (the log's lines
 * flagged LOG_F_SHOWN), from where the last look ended: when its writing
 * may have ended, on efc.hub_wrote_ns. */
static void
eficon_hub_wrote(void)
{
	struct log_line l;

	while (efc.log && PB_CALL(efc.log, log_ops, read, efc.settle_seq, &l) ==
	    PB_OK) {
		if ((l.flags & LOG_F_SHOWN) && l.ns + HUB_LINE_NS >
		    efc.hub_wrote_ns)
			efc.hub_wrote_ns = l.ns + HUB_LINE_NS;
		efc.settle_seq = l.seq + 1;
	}
}

/*
 * Has the firmware's terminal settled?  A byte the firmware's serial
 * driver has already taken from the UART (EDK2's takes what has arrived
 * whenever it writes, so every ConOut line may take some) reaches ConIn
 * only at the terminal's next poll of its serial driver, every 20 ms in
 * EDK2's TerminalDxe, and is gone at ExitBootServices if it has not.  So
 * before the takeover quiesces this module, nothing may have been written
 * on ConOut (by clients or by the hub), and no key have come, for longer
 * than that poll: often that time has passed already (the hub writes
 * nothing while it prepares the takeover), else the quiesce waits.
 * Meanwhile the keys read go to keys[] and are served (eficon_read), and
 * clients may write; keys still coming after DRAIN_QUIET_MAX_NS stay the
 * firmware's.  Bytes still in the UART when the firmware goes are the
 * native serial driver's.
 */
static int
eficon_settled(void)
{
	uint64_t now = efc.hub->now_ns(), quiet;

	if (!efc.settle_ns)
		efc.settle_ns = now;
	if (eficon_drain_conin())
		efc.key_ns = now;
	eficon_hub_wrote();
	quiet = efc.wrote_ns > efc.key_ns ? efc.wrote_ns : efc.key_ns;
	if (efc.hub_wrote_ns > quiet)
		quiet = efc.hub_wrote_ns;
	return !efc.fw || keybuf_full(&efc.keys) ||
	    now >= quiet + DRAIN_QUIET_NS ||
	    now - efc.settle_ns >= DRAIN_QUIET_MAX_NS;
}

/*
 * ExitBootServices: ConIn and ConOut are gone.  The keys read before it
 * are still ours to serve: the hub keeps us after the exit while our
 * keyboard has them and clients (hub/kbdhold.c); with none, the keyboard
 * goes now.  The stub read ConIn last thing before the exit and still
 * serves what it found (efi/firmware.c): those keys join ours first.
 */
static void
eficon_firmware_gone(void)
{
	eficon_drain_conin();
	efc.fw = NULL;
	if (!efc.keys.n && efc.kbd &&
	    efc.hub->withdraw(efc.self, efc.kbd) == PB_OK)
		efc.kbd = NULL;
}

static void
eficon_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (ev == PB_EV_CONNECTED && req == 0)
		efc.fw = c;
	else if (ev == PB_EV_DISCONNECTED && c == efc.fw)
		eficon_firmware_gone();
	else if (ev == PB_EV_CONNECTED && req == 1)
		efc.log = c;
	else if (ev == PB_EV_DISCONNECTED && c == efc.log)
		efc.log = NULL;
}

static int
eficon_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char props[64];

	rt_use_hub(h);
	efc.hub = h;
	efc.self = m;
	if (!efc.fw)
		return PB_ENOENT;
	if (PB_CALL(efc.fw, firmware_ops, con_size, &efc.cols, &efc.rows) !=
	    PB_OK || !efc.cols || !efc.rows) {
		efc.cols = 80;		/* UEFI's mode 0 */
		efc.rows = 25;
	}
	ansi_init(&efc.ansi, efc.cols, efc.rows);
	rt_textring_init(&efc.text, eficon_text, sizeof(eficon_text));
	rt_snprintf(props, sizeof(props), "via=conout cols=%u rows=%u",
	    efc.cols, efc.rows);
	if (!h->publish(m, CONSOLE_IFACE, "efi", props, &eficon_console_ops,
	    NULL) || !(efc.kbd = h->publish(m, KEYBOARD_IFACE, "efi",
	    "via=conin", &eficon_keyboard_ops, NULL)))
		return PB_ENOMEM;
	return PB_OK;
}

/* PB_EAGAIN, serving, until the firmware's terminal has settled (the
 * swap engine does not count that in the blackout), and once more after
 * the hub's lines are read for the exports; then only what ConIn holds
 * already is read, here and in each export. */
static int
eficon_quiesce(struct pb_module *m)
{
	if (!eficon_settled()) {
		eficon_hub_lines_keep(0);
		efc.kept = 0;
		return PB_EAGAIN;
	}
	if (!efc.kept) {
		eficon_hub_lines_keep(1);
		efc.kept = 1;
		return PB_EAGAIN;
	}
	efc.settle_ns = 0;
	efc.kept = 0;
	efc.quiet = 1;
	eficon_drain_conin();
	return PB_OK;
}

static int
eficon_export_state(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	return eficon_export(buf, cap, len, version);
}

static int
eficon_import_state(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return eficon_import(buf, len, version);
}

static int
eficon_resume(struct pb_module *m)
{
	efc.quiet = 0;
	efc.settle_ns = 0;
	efc.kept = 0;
	eficon_hub_lines_keep(0);
	return PB_OK;
}

static const struct pb_module_ops eficon_ops = {
	.start = eficon_start,
	.event = eficon_event,
	.quiesce = eficon_quiesce,
	.export_state = eficon_export_state,
	.import_state = eficon_import_state,
	.resume = eficon_resume,
};

PB_MODULE(.name = "efi-console", .version = "1.0",
    .desc = "console and keyboard over UEFI ConOut/ConIn",
    .flags = PB_MOD_BOOT | PB_MOD_FIRMWARE, .rank = 0, .ops = &eficon_ops,
    .nprovides = 2,
    /* keyboard 1.0: ConIn raises nothing we could notify with. */
    .provides = { PB_PROVIDE(CONSOLE_IFACE, CONSOLE_MAJOR, CONSOLE_MINOR),
	PB_PROVIDE(KEYBOARD_IFACE, KEYBOARD_MAJOR, 0) },
    .nrequires = 2,
    .requires = { PB_REQUIRE(FIRMWARE_IFACE, FIRMWARE_MAJOR, FIRMWARE_MINOR,
	PB_CARD_ONE, PB_AT_START),
	/* The hub's lines on ConOut go with the text (hublines.c). */
	PB_REQUIRE(LOG_IFACE, LOG_MAJOR, LOG_MINOR, PB_CARD_OPTIONAL,
	PB_AT_START) });
