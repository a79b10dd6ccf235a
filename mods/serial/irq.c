/*
 * irq.c - the receivers, interrupt-driven, and the choice of how to run
 * them.
 *
 * With an `irq` provider (an optional requirement, accepted whenever it
 * appears), each ISA line the present ports use by convention (COM1 and
 * COM3: 4, COM2 and COM4: 3) gets a vector of ours, routed through it,
 * and every present port gets IER.ERBFI.  The handler reads what the
 * ports on its line received (reading RBR is the acknowledgement) into
 * their key queues, a bounded amount, and queues the work that reads
 * any rest, tells losses (port_check) and times out a lone ESC.  Without
 * a provider, or when routing fails, poll.c's 10 ms timer does it all:
 * before the takeover there is no provider, and a PC may have none.
 *
 * Work items run with interrupts open, so what the handler also touches
 * (the decoder, the key queue, IER) is touched by work with the
 * interrupt held.  A key queue that fills up throttles its port: the
 * receive interrupt goes off and the bytes wait in the UART, holding the
 * sender back, until a client's read makes room (rx_unthrottle).
 *
 * Try it: tools/qemu-run, then `irqs` in the shell lists the vector with
 * serial as its owner and a count that grows as you type.
 */
#include "serial.h"
#include "../../abi/cpu.h"
#include "uart.h"
#include "../../abi/irq.h"

#define IRQ_BUDGET	(UART_FIFO_DEPTH * 2)	/* bytes per port per interrupt */
#define WORK_BUDGET	64
#define ESC_TICK_NS	10000000ull	/* 10 ms: port_rx_idle's tick */
#define LOOK_NS		100000000ull	/* 100 ms: the lost-interrupt look */
#define LOOK_BROKEN	10	/* looks in a row that find data waiting */

struct line {
	uint8_t isa;		/* ISA IRQ */
	int vector;		/* ours; -1 none */
	int routed;
};

static struct pb_conn *irqc;	/* the provider, when there is one */
static struct line lines[2] = { { 4, -1, 0 }, { 3, -1, 0 } };
static int by_irq;		/* interrupts deliver: no polling */
static int work_queued;
static int esc_timer;		/* the ESC tick's timer id; 0 none */
static int look_timer;		/* the lost-interrupt look's; 0 none */

static int
line_used(const struct line *l)
{
	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (ser.ports[i].present && ser.ports[i].irq == l->isa)
			return 1;
	return 0;
}

static void esc_tick(void *arg);

/* A lone ESC waits for more bytes: tick until every port's is decided. */
static void
arm_esc(void)
{
	int id;

	for (unsigned i = 0; i < SERIAL_NPORTS && !esc_timer; i++)
		if (ser.ports[i].present && vt_pending(&ser.ports[i].vt)) {
			id = ser.hub->timer_after(ser.self, ESC_TICK_NS,
			    esc_tick, NULL);
			esc_timer = id > 0 ? id : 0;
		}
}

static void
esc_tick(void *arg)
{
	uint64_t held = cpu_irq_save();

	(void)arg;
	esc_timer = 0;
	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (ser.ports[i].present)
			port_rx_idle(&ser.ports[i]);
	cpu_irq_restore(held);
	arm_esc();
}

static void
rx_work(void *arg)
{
	uint64_t held;

	(void)arg;
	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];

		if (!p->present)
			continue;
		held = cpu_irq_save();
		work_queued = 0;
		port_rx(p, WORK_BUDGET);	/* what came after the handler */
		if (by_irq)
			uart_rx_interrupts(p, !p->throttled);
		cpu_irq_restore(held);
		port_check(p);
	}
	arm_esc();
}

/* A read made room: take what waits in the FIFO, interrupts back on.
 * Called with the interrupt held. */
void
rx_unthrottle(struct port *p)
{
	p->throttled = 0;
	if (!work_queued)
		work_queued = ser.hub->queue_work(ser.self, rx_work, NULL) ==
		    PB_OK;
}

/*
 * A lost interrupt: a handler that did not run leaves the received
 * bytes in the FIFO and INTRPT raised, and the edge-triggered ISA line
 * raises no second interrupt: the port would be deaf for good.  Every
 * LOOK_NS a timer reads LSR and, when data waits with no work queued to
 * take it, queues that work, whose reading empties the FIFO and lets the
 * line fall and rise again (Linux's 8250 driver keeps such a backup
 * timer for UARTs that lose interrupts).  Counted per port, told by
 * port_check at 1, 2, 4, 8...  Data waiting at LOOK_BROKEN looks in a
 * row with nothing read in between, the work queued each time, is a
 * receive path that does not read (serial's own code or state gone
 * bad): serial faults to be restarted from its image, its unread keys
 * handed over.
 */
static void look(void *arg);

static void
look_arm(int on)
{
	int id;

	if (on && !look_timer) {
		id = ser.hub->timer_after(ser.self, LOOK_NS, look, NULL);
		look_timer = id > 0 ? id : 0;
	} else if (!on && look_timer) {
		ser.hub->timer_cancel(ser.self, look_timer);
		look_timer = 0;
	}
}

static void
look(void *arg)
{
	uint64_t held;

	(void)arg;
	look_timer = 0;
	if (!by_irq)
		return;
	held = cpu_irq_save();
	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];

		if (!p->present || p->throttled)
			continue;
		/* Waiting with nothing read since the last look (a FIFO
		 * below its trigger level waits for its timeout, but is
		 * read then). */
		if (!uart_rx_waiting(p) || p->received != p->received_seen)
			p->waited = 0;
		p->received_seen = p->received;
		if (!uart_rx_waiting(p))
			continue;
		if (++p->waited >= LOOK_BROKEN) {
			pb_logf(ser.hub, ser.self, PB_LOG_ERR, "%s: data waited "
			    "through %u looks: the receive path is broken",
			    p->name, LOOK_BROKEN);
			PB_SELF_CORRUPT();
		}
		if (work_queued)
			continue;
		p->lost++;
		work_queued = ser.hub->queue_work(ser.self, rx_work, NULL) ==
		    PB_OK;
	}
	cpu_irq_restore(held);
	look_arm(1);
}

/* Interrupts off: drain the line's ports, queue the rest of the work. */
static void
uart_irq(void *arg)
{
	const struct line *l = arg;

	for (unsigned i = 0; i < SERIAL_NPORTS; i++) {
		struct port *p = &ser.ports[i];

		if (!p->present || p->irq != l->isa)
			continue;
		port_rx(p, IRQ_BUDGET);
		if (p->throttled)	/* INTRPT stays up: quiet it */
			uart_rx_interrupts(p, 0);
	}
	if (!work_queued)
		work_queued = ser.hub->queue_work(ser.self, rx_work, NULL) ==
		    PB_OK;
}

static void
unroute_all(void)
{
	for (unsigned i = 0; i < 2; i++) {
		struct line *l = &lines[i];

		if (l->routed && irqc)
			PB_CALL(irqc, irq_ops, unroute, l->vector);
		l->routed = 0;
		if (l->vector >= 0)
			ser.hub->irq_unregister(ser.self, l->vector);
		l->vector = -1;
	}
}

static int
route(struct line *l)
{
	int r;

	if ((l->vector = ser.hub->irq_alloc(ser.self)) < 0)
		return l->vector;
	if ((r = ser.hub->irq_register(ser.self, l->vector, uart_irq,
	    l)) != PB_OK)
		return r;
	if ((r = PB_CALL(irqc, irq_ops, route_isa, l->isa, l->vector)) !=
	    PB_OK)
		return r;
	l->routed = 1;
	return PB_OK;
}

static void
ports_interrupt(int on)
{
	for (unsigned i = 0; i < SERIAL_NPORTS; i++)
		if (ser.ports[i].present)
			uart_rx_interrupts(&ser.ports[i], on);
}

/* Route every line in use, then let the ports raise them.  What the
 * FIFOs held before is read by the first work item. */
static int
irq_start(void)
{
	int r;

	for (unsigned i = 0; i < 2; i++) {
		if (!line_used(&lines[i]))
			continue;
		if ((r = route(&lines[i])) != PB_OK) {
			pb_logf(ser.hub, ser.self, PB_LOG_WARN, "ISA IRQ %u "
			    "not routed (%d): polling instead", lines[i].isa,
			    r);
			unroute_all();
			return r;
		}
	}
	ports_interrupt(1);
	by_irq = 1;
	work_queued = ser.hub->queue_work(ser.self, rx_work, NULL) == PB_OK;
	look_arm(1);
	for (unsigned i = 0; i < 2; i++)
		if (lines[i].routed)
			pb_logf(ser.hub, ser.self, PB_LOG_INFO, "receiving by "
			    "interrupt: ISA IRQ %u on vector %d", lines[i].isa,
			    lines[i].vector);
	return PB_OK;
}

static void
irq_stop(void)
{
	look_arm(0);
	ports_interrupt(0);
	unroute_all();
	if (esc_timer)
		ser.hub->timer_cancel(ser.self, esc_timer);
	esc_timer = 0;
	by_irq = 0;
}

int
rx_start(void)
{
	if (by_irq)
		return PB_OK;
	if (irqc && irq_start() == PB_OK)
		return PB_OK;
	return poll_start();
}

void
rx_stop(void)
{
	if (by_irq)
		irq_stop();
	poll_stop();
}

/* The provider came (switch to interrupts) or went (back to polling:
 * its routes went with it, and so did our vectors' meaning). */
void
rx_irq_event(int ev, struct pb_conn *c)
{
	if (ev == PB_EV_CONNECTED) {
		irqc = c;
		if (ser.active && !by_irq) {
			poll_stop();
			rx_start();
		}
	} else if (ev == PB_EV_DISCONNECTED && c == irqc) {
		int was = by_irq;

		if (by_irq) {
			for (unsigned i = 0; i < 2; i++)
				lines[i].routed = 0;
			irq_stop();
		}
		irqc = NULL;
		if (was && ser.active) {
			pb_logf(ser.hub, ser.self, PB_LOG_INFO, "the irq "
			    "provider left: polling");
			poll_start();
		}
	}
}

/* Stopped: the hub closes our connections. */
void
rx_forget(void)
{
	irqc = NULL;
}
