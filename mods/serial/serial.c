/*
 * serial - the native 16550 driver: provides `console` and `keyboard` on
 * every COM port present (console:com1, keyboard:com1 ...).
 *
 * Output goes straight to THR ("\n" as "\r\n"); input is decoded from the
 * terminal's bytes into key events and queued until the client reads it,
 * received by interrupt once an `irq` provider appears, polled before
 * (irq.c, poll.c).
 * Fully swappable:
 *   start(NORMAL)	probe COM1-4, publish each present, start receiving;
 *			PB_ENODEV when there is none
 *   start(STANDBY)	publish COM1's resources only, touch no port but to
 *			read the LSRs (PB_ENODEV when all read 0xff: no
 *			port); activate probes, and moves them to the first
 *			port present if COM1 is not
 *   quiesce		stop receiving (IER off, lines unrouted, or the poll
 *			stopped), keep what the FIFO held as keys
 *   export/import	struct console_state (state.c)
 *   release		let go (writes and reads refused)
 *   event		the irq provider came or went (irq.c)
 *   activate		probe and take the ports present (PB_ENODEV: none)
 *   resume		serve again after a failed swap; after a release, every
 *			present port set up again first (the next driver may
 *			have left it its way)
 *
 * QEMU: tools/qemu-run gives COM1 on stdio; the QEMU lines for COM2 and
 * for no port at all are in uart.c.
 */
#include "serial.h"
#include "../../abi/cpu.h"
#include "uart.h"
#include "../../abi/irq.h"

static char serial_text[SERIAL_TEXT];

static int
serial_write(void *ctx, const char *s, size_t len)
{
	struct port *p = ctx;

	if (!ser.active || !p->present)
		return PB_EBUSY;
	if (p == ser.primary)
		rt_textring_put(&ser.text, s, len);
	return uart_write(p, s, len);
}

/* What is on the other end of the wire is not known: a VT100's size. */
static int
serial_size(void *ctx, uint32_t *cols, uint32_t *rows)
{
	*cols = 80;
	*rows = 24;
	return PB_OK;
}

static int
serial_clear(void *ctx)
{
	static const char cls[] = "\033[2J\033[H";	/* ED 2, CUP */

	return serial_write(ctx, cls, sizeof(cls) - 1) < 0 ? PB_EIO : PB_OK;
}

const struct console_ops serial_console_ops = {
	.write = serial_write,		/* to THR, bounded by LSR.THRE */
	.size = serial_size,		/* 80x24: unknown terminal */
	.clear = serial_clear,		/* ANSI clear and home */
};

static int
serial_read(void *ctx, struct key_event *ev)
{
	struct port *p = ctx;
	uint64_t held;
	int got;

	if (!ser.active)
		return PB_EAGAIN;
	/* The receive interrupt fills the queue: held while we take. */
	held = cpu_irq_save();
	got = keyq_get(p->keys, ev);
	if (p->throttled && keyq_len(p->keys) <= KEYQ_SIZE / 2)
		rx_unthrottle(p);
	cpu_irq_restore(held);
	return got ? PB_OK : PB_EAGAIN;
}

static int
serial_set_leds(void *ctx, uint16_t leds)
{
	return PB_ENOTSUP;		/* a terminal has none we can reach */
}

static int
serial_notify(void *ctx, struct pb_module *client, void (*fn)(void *),
    void *arg)
{
	struct port *p = ctx;
	uint64_t held = cpu_irq_save();
	int r = keyq_set_notify(p->keys, ser.hub, client, fn, arg);

	cpu_irq_restore(held);
	return r;
}

const struct keyboard_ops serial_keyboard_ops = {
	.read = serial_read,		/* from the port's key queue */
	.set_leds = serial_set_leds,	/* not supported */
	.notify = serial_notify,	/* keyq_tell when bytes become keys */
};

/* Keys handed over to a port that turned out absent go to the primary. */
static void
move_keys(struct port *from, struct port *to)
{
	struct key_event ev;

	while (from != to && from->keys && keyq_get(from->keys, &ev))
		keyq_put(to->keys, &ev);
}

/*
 * Probe every port, publish those present and make the first of them the
 * primary (its keys and text are what a swap hands over).  A resource
 * published in standby for a port that is absent is withdrawn: its
 * clients get the primary's at the rebind, which goes by position.
 */
static int
take_ports(void)
{
	struct port *primary = NULL;

	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (port_bringup(&ser.ports[i]) == PB_OK && !primary)
			primary = &ser.ports[i];
	if (!primary) {
		pb_logf(ser.hub, ser.self, PB_LOG_INFO, "no 16550 at 0x3f8, "
		    "0x2f8, 0x3e8 or 0x2e8");
		return PB_ENODEV;
	}
	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];

		if (p->present) {
			if (port_publish(p) != PB_OK)
				return PB_ENOMEM;
			continue;
		}
		move_keys(p, primary);
		if (p->con)
			port_withdraw(p);
	}
	ser.primary = primary;
	ser.active = 1;
	rx_start();		/* a failure is logged; output still works */
	return PB_OK;
}

/*
 * Standby publishes COM1's resources and touches no port but to read each
 * LSR: a PC with no serial port at all declines now, before the takeover,
 * so the hub knows it would have no keyboard here (HARDWARE.md: many PCs
 * have no COM1).  The ports are probed for real at activate.
 */
static int
standby_ports(void)
{
	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (uart_maybe_present(ser.ports[i].base))
			return port_publish(ser.primary);
	pb_logf(ser.hub, ser.self, PB_LOG_INFO, "no 16550 at 0x3f8, 0x2f8, "
	    "0x3e8 or 0x2e8 (their LSRs read 0xff)");
	return PB_ENODEV;
}

static int
serial_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	rt_use_hub(h);
	ser.hub = h;
	ser.self = m;
	ser.active = 0;
	ser.released = 0;
	rt_textring_init(&ser.text, serial_text, sizeof(serial_text));
	port_init_table();
	ser.primary = &ser.ports[0];
	if (mode == PB_START_STANDBY)
		return standby_ports();
	return take_ports();
}

static void
serial_stop(struct pb_module *m)
{
	rx_stop();
	rx_forget();
	ser.active = 0;
}

/* Stop receiving; what the FIFOs hold now is keys, for the export. */
static int
serial_quiesce(struct pb_module *m)
{
	rx_stop();
	port_drain_all(UART_FIFO_DEPTH * 4);
	ser.active = 0;
	return PB_OK;
}

static int
serial_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	return state_export(buf, cap, len, version);
}

static int
serial_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version)
{
	return state_import(buf, len, version);
}

/* Quiesced, the ports raise no interrupt and no line is routed: nothing
 * to hand back but a timer. */
static int
serial_release(struct pb_module *m)
{
	rx_stop();
	ser.active = 0;
	ser.released = 1;
	return PB_OK;
}

static int
serial_activate(struct pb_module *m)
{
	return take_ports();
}

/* After a release the next driver may have programmed the ports its
 * way and left them so (it faulted in its watch window, or part way
 * through activate: another divisor, DLAB or loopback still on): each
 * present port is set up as we had it, its receiver FIFO kept. */
static int
serial_resume(struct pb_module *m)
{
	if (ser.released)
		for (unsigned i = 0; i < SERIAL_NPORTS; i++)
			if (ser.ports[i].present)
				uart_setup(&ser.ports[i], SERIAL_BAUD);
	ser.released = 0;
	ser.active = 1;
	return rx_start();
}

static void
serial_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	if (req == REQ_IRQ)
		rx_irq_event(ev, c);
}

static const struct pb_module_ops serial_ops = {
	.start = serial_start,
	.stop = serial_stop,
	.quiesce = serial_quiesce,
	.export_state = serial_export,
	.import_state = serial_import,
	.release = serial_release,
	.activate = serial_activate,
	.resume = serial_resume,
	.event = serial_event,
};

PB_MODULE(.name = "serial", .version = "1.0",
    .desc = "16550 UART: console and keyboard on COM1-COM4",
    .flags = PB_MOD_HARDWARE | PB_MOD_RESTATE, .rank = 10, .ops = &serial_ops,
    .nprovides = 2,
    .provides = { PB_PROVIDE(CONSOLE_IFACE, CONSOLE_MAJOR, CONSOLE_MINOR),
	PB_PROVIDE(KEYBOARD_IFACE, KEYBOARD_MAJOR, KEYBOARD_MINOR) },
    .nrequires = 1,
    .requires = { [REQ_IRQ] = PB_REQUIRE(IRQ_IFACE, IRQ_MAJOR, IRQ_MINOR,
	PB_CARD_OPTIONAL, PB_LATER) });
