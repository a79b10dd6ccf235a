/*
 * ps2 - the PS/2 keyboard behind the PC's 8042 controller: provides
 * `keyboard` (keyboard:ps2), interrupt-driven on ISA IRQ 1 through the
 * `irq` provider.
 *
 *   start(NORMAL)	check the FADT, probe port 0x64, bring up the
 *			controller (i8042.c) and the keyboard (kbd.c), route
 *			IRQ 1, turn the keyboard's interrupt on last;
 *			PB_ENODEV when there is no controller or no keyboard
 *			(one that acknowledges scanning on is one)
 *   start(STANDBY)	read the status port (0xff: no controller,
 *			PB_ENODEV), publish keyboard:ps2
 *   quiesce		interrupt off, what the controller holds decoded
 *   export/import	struct keyboard_state (state.c): modifiers, locks,
 *			unread keys; a console's struct console_state is
 *			taken too (its keys)
 *   release		the line unrouted, the vector given back
 *   activate		bring-up as in start, LEDs from the imported locks
 *   resume		serve again after a failed swap
 *
 * The interrupt handler reads port 0x60 while status bit 0 says a byte
 * waits (a bounded number of times), keeps the bytes in a ring and queues
 * the work that decodes them (scancode.c) into key events, which `read`
 * hands out.  Lock keys change the LEDs through a command in flight
 * (kbd.c), acknowledged through the same ring.
 *
 * boot.cfg: `ps2-reset=yes` adds the controller's self-tests (0xAA,
 * 0xAB) and the keyboard's reset (0xFF) to the bring-up, for a machine
 * whose keyboard needs them; by default they are skipped, because the
 * 8042s that laptops' embedded controllers emulate fail them while
 * passing keys along well (Linux skips them on x86 too).
 *
 * QEMU: the q35 machine's i8042 with its keyboard (tools/qemu-run, the
 * monitor's `sendkey`); none with -machine q35,i8042=off.
 */
#include "ps2.h"
#include "../../abi/cpu.h"
#include "../../abi/portio.h"
#include "i8042.h"

#define HANDLER_MAX	16	/* bytes one interrupt reads at most */
#define BACKSTOP_NS	100000000ull	/* 100 ms: the lost-interrupt look */
#define LOOK_BROKEN	10	/* looks in a row that find a byte waiting */
#define DRAIN_MAX	32	/* bytes quiesce reads at most */

struct ps2 ps2;

static int
ps2_read(void *ctx, struct key_event *ev)
{
	(void)ctx;
	if (!ps2.active)
		return PB_EAGAIN;
	return keyq_get(&ps2.keys, ev) ? PB_OK : PB_EAGAIN;
}

/* The client sets the locks, and the LEDs show them. */
static int
ps2_set_leds(void *ctx, uint16_t leds)
{
	(void)ctx;
	if (!ps2.active)
		return PB_EBUSY;
	scan_set_locks(&ps2.scan, leds);
	kbd_set_leds(ps2.scan.locks);
	return PB_OK;
}

static int
ps2_notify(void *ctx, struct pb_module *client, void (*fn)(void *),
    void *arg)
{
	(void)ctx;
	return keyq_set_notify(&ps2.keys, ps2.hub, client, fn, arg);
}

static const struct keyboard_ops ps2_keyboard_ops = {
	.read = ps2_read,		/* from the key queue */
	.set_leds = ps2_set_leds,	/* the locks, and 0xED to the keyboard */
	.notify = ps2_notify,		/* keyq_tell once decoded */
};

/* --- the interrupt and its work ----------------------------------------- */

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
ps2_decode(void)
{
	struct key_event ev;
	int locks;
	uint8_t b;

	while (rawq_get(&ps2.raw, &b)) {
		if (kbd_answer(b))
			continue;
		if (scan_feed(&ps2.scan, ps2.map, b, &ev, &locks))
			keyq_put(&ps2.keys, &ev);
		if (locks && ps2.active)
			kbd_set_leds(ps2.scan.locks);
	}
	keyq_tell(&ps2.keys, ps2.hub);
	if (worth_saying(ps2.raw.dropped, &ps2.raw_said))
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "byte ring full: %u "
		    "bytes from port 0x60 lost", (unsigned)ps2.raw.dropped);
	if (worth_saying(ps2.keys.dropped, &ps2.keys_said))
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "key queue full: %u "
		    "keys dropped", (unsigned)ps2.keys.dropped);
}

/*
 * The bytes the handler read and no work decoded yet, into keys, with no
 * command sent and no client told: what a restart after a fault exports,
 * asked without a quiesce (a release among them counts).  The keyboard's
 * answers to a command (ACK, resend) are no keys.
 */
void
ps2_decode_quiet(void)
{
	struct key_event ev;
	int locks;
	uint8_t b;

	while (rawq_get(&ps2.raw, &b))
		if (b != KBD_ACK && b != KBD_RESEND &&
		    scan_feed(&ps2.scan, ps2.map, b, &ev, &locks))
			keyq_put(&ps2.keys, &ev);
}

static void
decode_work(void *arg)
{
	(void)arg;
	ps2.work_queued = 0;
	ps2_decode();
}

/* Read what the controller has.  A byte flagged as port 2's (status bit
 * 5) is dropped: port 2 is off, but one may have been on its way; so is
 * one with a parity or timeout error (bits 7, 6). */
static unsigned
drain(unsigned max)
{
	unsigned n = 0;
	uint8_t st, b;

	while (n < max && ((st = inb(I8042_STATUS)) & ST_OBF)) {
		b = inb(I8042_DATA);
		n++;
		if (!(st & (ST_AUX | ST_TIMEOUT | ST_PARITY)))
			rawq_put(&ps2.raw, b);
	}
	return n;
}

/* ISA IRQ 1, interrupts off: reading 0x60 acknowledges it. */
static void
ps2_irq(void *arg)
{
	(void)arg;
	drain(HANDLER_MAX);
	if (ps2.work_queued || ps2.raw.head == ps2.raw.tail)
		return;
	ps2.work_queued = ps2.hub->queue_work(ps2.self, decode_work,
	    NULL) == PB_OK;
}

/*
 * A lost interrupt: a handler that did not run leaves the byte in the
 * controller and IRQ 1 raised, and the edge-triggered line raises no
 * second interrupt: the keyboard would be deaf for good.  Every
 * BACKSTOP_NS a timer looks at the status port and takes what waits, as
 * the handler would, interrupts held (Linux's 8250 driver keeps such a
 * backup timer for UARTs that lose interrupts).  A byte found there
 * usually means one was lost: counted and logged at 1, 2, 4, 8...  A
 * byte there at LOOK_BROKEN looks in a row is an interrupt path that
 * does not read (ps2's own code or state gone bad): ps2 faults to be
 * restarted from its image, its unread keys handed over.
 */
static void backstop_arm(int on);

static void
backstop(void *arg)
{
	uint64_t held;

	(void)arg;
	ps2.backstop = 0;
	if (!ps2.active)
		return;
	held = cpu_irq_save();
	if (inb(I8042_STATUS) & ST_OBF) {
		ps2.lost++;
		ps2_irq(NULL);
	}
	/* A byte arrives a millisecond after another at most: one there
	 * right after the handler read is one it cannot read. */
	if (!(inb(I8042_STATUS) & ST_OBF))
		ps2.waited = 0;
	else if (++ps2.waited >= LOOK_BROKEN) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "a byte stayed at port "
		    "0x60 through %u looks: the interrupt path is broken",
		    LOOK_BROKEN);
		PB_SELF_CORRUPT();
	}
	cpu_irq_restore(held);
	if (worth_saying(ps2.lost, &ps2.lost_said))
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "a byte waited at port "
		    "0x60 with no interrupt: taken by the %u ms look (%u "
		    "times)", (unsigned)(BACKSTOP_NS / 1000000),
		    (unsigned)ps2.lost);
	backstop_arm(1);
}

static void
backstop_arm(int on)
{
	int id;

	if (on && !ps2.backstop) {
		id = ps2.hub->timer_after(ps2.self, BACKSTOP_NS, backstop,
		    NULL);
		ps2.backstop = id > 0 ? id : 0;
	} else if (!on && ps2.backstop) {
		ps2.hub->timer_cancel(ps2.self, ps2.backstop);
		ps2.backstop = 0;
	}
}

/* --- bring-up -------------------------------------------------------------- */

/*
 * HARDWARE.md: the FADT's IAPC_BOOT_ARCH bit 1 says whether there is an
 * 8042 (ACPI 6.5 §5.2.9.3, Table 5.11).  It is only defined from FADT
 * revision 2, and firmware gets it wrong both ways, so a clear bit is
 * told, not obeyed; the status port has the last word: 0xff there is
 * no controller.
 */
static int
probe(void)
{
	const struct acpi_platform *p = NULL;
	uint8_t st;

	if (ps2.acpi)
		p = PB_CALL(ps2.acpi, acpi_ops, platform);
	if (p && p->have_fadt && p->fadt_revision >= 2 &&
	    !(p->iapc_boot_arch & ACPI_BOOT_8042))
		pb_logf(ps2.hub, ps2.self, PB_LOG_INFO, "FADT (revision %u) "
		    "IAPC_BOOT_ARCH bit 1 (8042) is clear: probing port 0x64 "
		    "anyway", p->fadt_revision);
	if ((st = (uint8_t)i8042_status()) == ST_ABSENT) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_INFO, "no i8042: status "
		    "port 0x64 reads 0xff; declining");
		return PB_ENODEV;
	}
	return PB_OK;
}

static int
set_cfg(uint8_t cfg)
{
	const char *why;

	if (i8042_write_cfg(cfg, &why) != PB_OK) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "i8042: configuration "
		    "byte 0x%02x not written: %s", cfg, why);
		return PB_ETIMEDOUT;
	}
	ps2.cfg = cfg;
	return PB_OK;
}

/* Route IRQ 1 to a vector of ours, then let the controller raise it:
 * the configuration byte's interrupt bit comes last. */
static int
irq_on(void)
{
	int v, r;

	if (ps2.vector < 0) {
		if ((v = ps2.hub->irq_alloc(ps2.self)) < 0) {
			pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "no vector for "
			    "IRQ 1 (%d)", v);
			return v;
		}
		ps2.vector = v;
	}
	if ((r = ps2.hub->irq_register(ps2.self, ps2.vector, ps2_irq,
	    NULL)) != PB_OK) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "vector %d not "
		    "registered (%d)", ps2.vector, r);
		return r;
	}
	if (!ps2.routed && (r = PB_CALL(ps2.irq, irq_ops, route_isa,
	    PS2_ISA_IRQ, ps2.vector)) != PB_OK) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "ISA IRQ 1 not routed "
		    "to vector %d (%d)", ps2.vector, r);
		return r;
	}
	ps2.routed = 1;
	if ((r = set_cfg((uint8_t)(ps2.cfg | CFG_IRQ1))) == PB_OK)
		backstop_arm(1);
	return r;
}

/* The interrupt off at the controller (when there is one to tell). */
static void
cfg_irq_off(void)
{
	if (ps2.present && (ps2.cfg & CFG_IRQ1))
		set_cfg((uint8_t)(ps2.cfg & ~CFG_IRQ1));
}

/* The line unrouted and the vector given back. */
static void
irq_off(void)
{
	backstop_arm(0);
	if (ps2.routed && ps2.irq)
		PB_CALL(ps2.irq, irq_ops, unroute, ps2.vector);
	ps2.routed = 0;
	if (ps2.vector >= 0)
		ps2.hub->irq_unregister(ps2.self, ps2.vector);
	ps2.vector = -1;
}

/*
 * The controller's step 4 dropped `n` bytes while modifiers are held (a
 * state taken over after a fault, whose instance was not quiesced: the
 * bytes it had not read stayed in the controller).  A release may have
 * been among them, and a modifier whose release is lost stays down for
 * good (every letter typed as a capital): they are let go.  A swap's
 * quiesce leaves nothing behind, and a boot holds nothing.
 */
static void
release_after_drop(unsigned n)
{
	uint16_t mods = scan_mods(&ps2.scan, ps2.map);
	uint16_t locks = mods & (KEYMOD_CAPS | KEYMOD_NUM);

	if (!n || mods == locks)
		return;
	scan_set_mods(&ps2.scan, locks);
	pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "%u bytes left in the "
	    "controller were dropped: the modifiers held (0x%x) are let go",
	    n, (unsigned)(mods & ~locks));
}

/*
 * The whole bring-up: the controller, the keyboard (reset with
 * ps2-reset=yes, set 2, typematic, LEDs showing the locks held now,
 * scanning), then the interrupt.  A missing controller or keyboard
 * declines (PB_ENODEV) with one log line, leaving the controller with its
 * interrupts off.
 */
static int
take(void)
{
	const char *why = "";
	unsigned dropped;
	uint8_t cfg;
	int r;

	ps2.present = 0;
	if ((r = probe()) != PB_OK)
		return r;
	if ((r = i8042_init(ps2.full_reset, &cfg, &dropped, &why)) != PB_OK) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_ERR, "i8042: %s; declining",
		    why);
		return PB_ENODEV;
	}
	release_after_drop(dropped);
	ps2.cfg = cfg;
	ps2.present = 1;
	if ((ps2.full_reset && kbd_reset(&why) != PB_OK) ||
	    kbd_setup(ps2.scan.locks, &why) != PB_OK) {
		pb_logf(ps2.hub, ps2.self, PB_LOG_INFO, "no keyboard on port "
		    "1: %s; declining", why);
		return PB_ENODEV;
	}
	if ((r = irq_on()) != PB_OK) {
		cfg_irq_off();
		irq_off();
		return r;
	}
	ps2.active = 1;
	/* Keys pressed during the set-up wait in the ring. */
	if (ps2.raw.head != ps2.raw.tail && !ps2.work_queued)
		ps2.work_queued = ps2.hub->queue_work(ps2.self, decode_work,
		    NULL) == PB_OK;
	pb_logf(ps2.hub, ps2.self, PB_LOG_INFO, "keyboard on i8042 port 1: "
	    "set 2, translated to set 1; IRQ 1 on vector %d; layout %s%s",
	    ps2.vector, ps2.map->name, ps2.full_reset ? "; controller and "
	    "keyboard self-tested (ps2-reset=yes)" : "");
	return PB_OK;
}

/* --- the module ------------------------------------------------------------ */

static int
publish(void)
{
	char props[80];

	rt_snprintf(props, sizeof(props), "port=0x60 irq=%u layout=%s",
	    PS2_ISA_IRQ, ps2.map->name);
	ps2.res = ps2.hub->publish(ps2.self, KEYBOARD_IFACE, "ps2", props,
	    &ps2_keyboard_ops, NULL);
	return ps2.res ? PB_OK : PB_ENOMEM;
}

static int
ps2_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char v[8];
	int r;

	rt_use_hub(h);
	ps2.hub = h;
	ps2.self = m;
	ps2.map = keymap_chosen(h, m);
	ps2.full_reset = pb_setting(h, "ps2-reset", v, sizeof(v)) &&
	    strcmp(v, "yes") == 0;
	ps2.active = ps2.present = ps2.routed = ps2.work_queued = 0;
	ps2.vector = -1;
	ps2.cmd = (struct kbd_cmd){ 0 };
	rawq_init(&ps2.raw);
	keyq_init(&ps2.keys);
	scan_init(&ps2.scan);
	if (!ps2.irq) {
		pb_logf(h, m, PB_LOG_ERR, "no irq provider");
		return PB_ENOENT;
	}
	/* Reading the status port is harmless while the firmware drives
	 * the controller: a PC without one declines before the takeover,
	 * so the hub knows it would have no keyboard here. */
	if (mode == PB_START_STANDBY)
		return probe() == PB_OK ? publish() : PB_ENODEV;
	if ((r = take()) != PB_OK)
		return r;
	return publish();
}

static void
ps2_stop(struct pb_module *m)
{
	(void)m;
	kbd_cancel();
	cfg_irq_off();
	irq_off();
	ps2.active = ps2.present = 0;
	/* The hub closes our connections: a new start gets new ones. */
	ps2.irq = ps2.acpi = NULL;
	ps2.res = NULL;
}

/* Accept nothing new: the interrupt off, what the controller holds and
 * the ring decoded into keys (for the export), the LED command dropped. */
static int
ps2_quiesce(struct pb_module *m)
{
	(void)m;
	cfg_irq_off();
	if (ps2.present)
		drain(DRAIN_MAX);
	kbd_cancel();
	ps2.active = 0;
	ps2_decode();
	return PB_OK;
}

static int
ps2_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	(void)m;
	return state_export(buf, cap, len, version);
}

static int
ps2_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	(void)m;
	return state_import(buf, len, version);
}

/* Let go: the line and the vector.  The next driver brings the
 * controller up itself. */
static int
ps2_release(struct pb_module *m)
{
	(void)m;
	irq_off();
	ps2.present = 0;
	return PB_OK;
}

static int
ps2_activate(struct pb_module *m)
{
	(void)m;
	return take();
}

/* After a failed swap.  Released, the keyboard may have been touched by
 * the other driver: brought up anew (keys and locks are kept); only
 * quiesced, its interrupt is turned back on. */
static int
ps2_resume(struct pb_module *m)
{
	(void)m;
	if (!ps2.present)
		return take();
	if (irq_on() != PB_OK)
		return PB_EIO;
	ps2.active = 1;
	return PB_OK;
}

static void
ps2_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	struct pb_conn **slot = req == REQ_IRQ ? &ps2.irq :
	    req == REQ_ACPI ? &ps2.acpi : NULL;

	(void)m;
	if (!slot)
		return;
	if (ev == PB_EV_CONNECTED)
		*slot = c;
	else if (ev == PB_EV_DISCONNECTED && *slot == c) {
		*slot = NULL;
		if (req == REQ_IRQ && ps2.routed) {
			ps2.routed = 0;
			pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "the irq "
			    "provider left: IRQ 1 no longer delivers");
		}
	}
}

static const struct pb_module_ops ps2_ops = {
	.start = ps2_start,
	.stop = ps2_stop,
	.quiesce = ps2_quiesce,
	.export_state = ps2_export,
	.import_state = ps2_import,
	.release = ps2_release,
	.activate = ps2_activate,
	.resume = ps2_resume,
	.event = ps2_event,
};

/* Ranked below serial (10): the takeover keeps handing the firmware's
 * keyboard (ConIn) and its unread keys to serial; the shell reads every
 * keyboard, so this one joins it after the takeover. */
PB_MODULE(.name = "ps2", .version = "1.0",
    .desc = "PS/2 keyboard on the i8042, interrupt-driven",
    .flags = PB_MOD_HARDWARE | PB_MOD_AUTOSTART | PB_MOD_RESTATE, .rank = 5, .ops = &ps2_ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(KEYBOARD_IFACE, KEYBOARD_MAJOR, KEYBOARD_MINOR) },
    .nrequires = 2,
    .requires = {
	[REQ_IRQ] = PB_REQUIRE(IRQ_IFACE, IRQ_MAJOR, IRQ_MINOR, PB_CARD_ONE,
	    PB_AT_START),
	[REQ_ACPI] = PB_REQUIRE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR,
	    PB_CARD_OPTIONAL, PB_AT_START),
    });
