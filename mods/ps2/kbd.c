/*
 * kbd.c - the keyboard on port 1: its commands and their answers (IBM
 * PS/2 keyboard; wiki.osdev.org "PS/2 Keyboard", "Commands").
 *
 * At start, with the interrupt still off, everything is polled: scan
 * code set 2, typematic rate, LEDs, scanning on.  Each byte sent must be
 * acknowledged (0xFA) within KBD_ACK_NS; a resend (0xFE) sends it again,
 * a few times at most.  A keyboard that acknowledges scanning on (0xF4)
 * is taken.  The reset and self-test (0xFF) come first only with
 * `ps2-reset=yes`: the keyboards laptops' embedded controllers emulate
 * often answer it wrongly or late, though they type well, so, like
 * Linux's atkbd on x86 (atkbd.reset off), the firmware's keyboard is
 * taken as it is.
 *
 * Set 2 with the controller's translation on: the keyboard speaks set 2
 * (every keyboard must, and resets into it) and the 8042 hands the CPU
 * set 1.  Translation stays on because that is the mode every PC's
 * firmware leaves and every controller implements, including the SMM
 * emulations of a PS/2 keyboard over USB that some do only half-way with
 * it off; it is also what Linux keeps by default.  So the decoder
 * (scancode.c) reads set 1.
 *
 * Once the interrupt delivers, answers arrive through the byte ring with
 * the scan codes: a command (the LEDs, 0xED) is sent a byte at a time,
 * the next one when the work sees the ACK, with a hub timer as the
 * deadline.  A keyboard that stops answering costs a log line, never a
 * wait.
 */
#include "ps2.h"
#include "i8042.h"

#define KBD_ACK_NS	(100ull * 1000 * 1000)	/* the spec's 20 ms, and slack */
#define KBD_BAT_NS	(1000ull * 1000 * 1000)	/* self-test: 500-750 ms on some */
#define KBD_RESENDS	3

/* Commands and answers. */
#define KBD_SET_LEDS	0xed
#define KBD_SCANSET	0xf0
#define KBD_TYPEMATIC	0xf3
#define KBD_SCAN_ON	0xf4
#define KBD_RESET	0xff
#define KBD_BAT_OK	0xaa
#define KBD_BAT_FAIL1	0xfc
#define KBD_BAT_FAIL2	0xfd

#define SCANSET_2	0x02
/* Typematic: bits 6:5 delay (01: 500 ms), bits 4:0 rate (0x04: 20.7/s). */
#define TYPEMATIC_500MS_20CPS	0x24

static char kbd_why[128];

/* *why becomes the formatted text (which may quote the old *why). */
static int
because(int err, const char **why, const char *fmt, ...)
{
	char line[sizeof(kbd_why)];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	memcpy(kbd_why, line, sizeof(kbd_why));
	*why = kbd_why;
	return err;
}

/* The keyboard's next answer among `want` (a NUL-ended list) within ns.
 * Other bytes are keys pressed meanwhile: kept for the decoder when
 * `keep`, else dropped. */
static int
wait_answer(const char *want, uint64_t ns, int keep, uint8_t *v,
    const char **why)
{
	uint64_t deadline = ps2.hub->now_ns() + ns, now;

	for (;;) {
		if ((now = ps2.hub->now_ns()) >= deadline)
			return because(PB_ETIMEDOUT, why, "only other bytes "
			    "came (last 0x%02x)", *v);
		if (i8042_read(deadline - now, v, why) != PB_OK)
			return PB_ETIMEDOUT;
		for (const char *w = want; *w; w++)
			if (*v == (uint8_t)*w)
				return PB_OK;
		if (keep)
			rawq_put(&ps2.raw, *v);
	}
}

/* One byte, polled, acknowledged. */
static int
send_sync(uint8_t b, int keep, const char **why)
{
	static const char ack[] = { (char)KBD_ACK, (char)KBD_RESEND, 0 };
	uint8_t v;

	for (unsigned tries = 0; tries <= KBD_RESENDS; tries++) {
		if (i8042_write_data(b, why) != PB_OK)
			return PB_ETIMEDOUT;
		if (wait_answer(ack, KBD_ACK_NS, keep, &v, why) != PB_OK)
			return because(PB_ETIMEDOUT, why, "no ACK to 0x%02x "
			    "within 100 ms (%s)", b, *why);
		if (v == KBD_ACK)
			return PB_OK;
	}
	return because(PB_EIO, why, "0x%02x: resend (0xfe) asked %u times",
	    b, KBD_RESENDS + 1);
}

/* Reset and self-test (0xFF): ACK, then 0xAA within a second. */
int
kbd_reset(const char **why)
{
	static const char bat[] = { (char)KBD_BAT_OK, (char)KBD_BAT_FAIL1,
	    (char)KBD_BAT_FAIL2, 0 };
	uint8_t v;

	if (send_sync(KBD_RESET, 0, why) != PB_OK)
		return PB_ETIMEDOUT;
	if (wait_answer(bat, KBD_BAT_NS, 0, &v, why) != PB_OK)
		return because(PB_ETIMEDOUT, why, "no self-test result after "
		    "reset within 1 s (%s)", *why);
	if (v != KBD_BAT_OK)
		return because(PB_EIO, why, "self-test failed (0x%02x)", v);
	return PB_OK;
}

/* A command and its argument; the first failure's error. */
static int
send2_sync(uint8_t cmd, uint8_t arg, const char **why)
{
	int r;

	if ((r = send_sync(cmd, 1, why)) != PB_OK)
		return r;
	return send_sync(arg, 1, why);
}

/* Scan code set 2, typematic, the LEDs, scanning on.  A keyboard that
 * refuses one of the first three is still usable (it is in set 2 with
 * scanning on after its power-on reset): a warning.  One that answers
 * nothing at all is not asked the rest: scanning on, which must be
 * acknowledged, says whether there is a keyboard. */
int
kbd_setup(uint16_t locks, const char **why)
{
	static const struct {
		uint8_t cmd, arg;
		const char *what;
	} steps[] = {
		{ KBD_SCANSET, SCANSET_2, "scan code set 2" },
		{ KBD_TYPEMATIC, TYPEMATIC_500MS_20CPS, "typematic rate" },
		{ KBD_SET_LEDS, 0, "LEDs" },
	};
	const char *what = NULL;
	int r;

	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint8_t arg = steps[i].cmd == KBD_SET_LEDS ?
		    scan_led_byte(locks) : steps[i].arg;

		if ((r = send2_sync(steps[i].cmd, arg, why)) == PB_OK)
			continue;
		if (r == PB_ETIMEDOUT) {
			what = steps[i].what;
			break;
		}
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "keyboard: %s "
		    "(0x%02x 0x%02x) refused: %s; going on", steps[i].what,
		    steps[i].cmd, arg, *why);
	}
	ps2.leds = locks;
	if ((r = send_sync(KBD_SCAN_ON, 1, why)) != PB_OK)
		return r;
	if (what)
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "keyboard: no answer "
		    "to %s, but scanning on (0xf4) acknowledged: set-up "
		    "skipped from there", what);
	return PB_OK;
}

/* --- commands in flight, once the interrupt delivers ------------------- */

static void ack_timeout(void *arg);

/* Failures are told at 1, 2, 4, 8...: seen, never a flood. */
static void
cmd_failed(const char *what)
{
	struct kbd_cmd *c = &ps2.cmd;
	uint32_t n = ++c->failures;

	c->busy = 0;
	if (n & (n - 1))
		return;
	c->failures_said = n;
	pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "keyboard: 0x%02x %s: LEDs "
	    "not set (%u times)", c->bytes[c->next], what, (unsigned)n);
}

static void
send_next(void)
{
	struct kbd_cmd *c = &ps2.cmd;
	const char *why;
	int id;

	if (i8042_write_data(c->bytes[c->next], &why) != PB_OK) {
		cmd_failed(why);
		return;
	}
	id = ps2.hub->timer_after(ps2.self, KBD_ACK_NS, ack_timeout, NULL);
	c->timer = id > 0 ? id : 0;
	if (id <= 0)
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "keyboard: no timer "
		    "for the ACK deadline (%d)", id);
}

static void
ack_timeout(void *arg)
{
	(void)arg;
	ps2.cmd.timer = 0;
	if (ps2.cmd.busy)
		cmd_failed("not acknowledged within 100 ms");
}

/* The LEDs to show these locks: now, or after the command in flight. */
void
kbd_set_leds(uint16_t locks)
{
	struct kbd_cmd *c = &ps2.cmd;

	ps2.leds = locks;
	if (c->busy) {
		c->again = 1;
		return;
	}
	c->bytes[0] = KBD_SET_LEDS;
	c->bytes[1] = scan_led_byte(locks);
	c->n = 2;
	c->next = 0;
	c->resends = 0;
	c->again = 0;
	c->busy = 1;
	send_next();
}

static void
stop_timer(void)
{
	if (ps2.cmd.timer)
		ps2.hub->timer_cancel(ps2.self, ps2.cmd.timer);
	ps2.cmd.timer = 0;
}

int
kbd_answer(uint8_t b)
{
	struct kbd_cmd *c = &ps2.cmd;

	if (!c->busy || (b != KBD_ACK && b != KBD_RESEND))
		return 0;
	stop_timer();
	if (b == KBD_RESEND) {
		if (++c->resends > KBD_RESENDS)
			cmd_failed("resend (0xfe) asked too often");
		else
			send_next();
		return 1;
	}
	c->resends = 0;
	if (++c->next < c->n) {
		send_next();
		return 1;
	}
	c->busy = 0;
	if (c->again)
		kbd_set_leds(ps2.leds);
	return 1;
}

void
kbd_cancel(void)
{
	stop_timer();
	ps2.cmd.busy = ps2.cmd.again = 0;
}
