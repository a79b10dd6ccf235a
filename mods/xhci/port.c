/*
 * port.c - the root ports (xHCI 1.2 §4.19, §5.4.8) and the bus driver's
 * USB_OP_WAIT_EVENT.
 *
 * A port is looked at when its Port Status Change event comes, when its
 * step is due, and once when the controller starts (a device attached
 * before the reset raises no event).  Each look reads PORTSC, writes its
 * change bits back to clear them (RW1C; the RO and RWS bits as read, PED,
 * PR, LWS and WPR as 0: a 1 in PED would disable the port), and steps on:
 *
 *   IDLE      CCS=1: a USB 2 port settles 100 ms (TATTDB, DEBOUNCE), a
 *             USB 3 port trains itself (TRAIN); a device found by the
 *             scan at the controller's start was attached before it (the
 *             firmware enumerated it): no contacts bounce, no wait
 *   DEBOUNCE  connected all along: PR=1 (RESET)
 *   RESET     PRC (not PR dropping): PED=1 means enabled (RECOVER), else
 *             reset again; 500 ms without PRC, likewise; three resets
 *             without success and the port is left alone (FAILED)
 *   TRAIN     PED=1: RECOVER; a link in Inactive or Compliance, or no PED
 *             in 1 s: warm reset (WPR, then RESET waits for PRC)
 *   RECOVER   10 ms (TRSTRCY), then ENABLED: USB_EVENT_CONNECT with the
 *             port and its speed (PORTSC Port Speed through the port's
 *             Supported Protocol, caps.c)
 *   ENABLED   CCS=0, a connect change, or PED=0: USB_EVENT_DISCONNECT, the
 *             devices behind the port cancelled (dev.c); a device there
 *             again starts over.  The bus's USB_OP_PORT_RESET (a class
 *             driver asked for its device's reset; the bus removed it
 *             first) takes it back to RESET: no DISCONNECT, and the
 *             CONNECT at the end finds the bus waiting for it.
 * With HCCPARAMS1.PPC the ports are unpowered after the reset: PP is set
 * on all of them and the controller waits 20 ms (hc.c) before the scan.
 *
 * Events for the bus: the standing WAIT_EVENT request completes with the
 * next one; without one waiting they are kept (XHCI_EVQ), and when that
 * overflows the next WAIT_EVENT says USB_EVENT_OVERFLOW.  A WAIT_EVENT
 * with ep = 1 forgets what is kept and reports every enabled port.
 */
#include "xhci.h"

static uint32_t
portsc(const struct xhci *a, const struct xhci_port *p)
{
	return op_rd(a, OP_PORTSC(p->no));
}

/* Write bits (PR, WPR, PP, change bits) with the port as it is. */
static void
port_write(const struct xhci *a, const struct xhci_port *p, uint32_t v,
    uint32_t bits)
{
	op_wr(a, OP_PORTSC(p->no), (v & PORTSC_KEEP) | bits);
}

/* PORTSC, its change bits cleared. */
static uint32_t
port_ack(const struct xhci *a, const struct xhci_port *p)
{
	uint32_t v = portsc(a, p);

	if (v != 0xffffffffu && (v & PORTSC_CHANGES))
		port_write(a, p, v, v & PORTSC_CHANGES);
	return v;
}

static const char *
speed_name(unsigned speed)
{
	static const char *const n[] = { "unknown", "low", "full", "high",
	    "super", "super+" };

	return speed < sizeof(n) / sizeof(n[0]) ? n[speed] : "unknown";
}

void
port_power_on(struct xhci *a)
{
	for (unsigned i = 0; i < a->nports; i++) {
		uint32_t v = portsc(a, &a->port[i]);

		if (v != 0xffffffffu && !(v & PORTSC_PP))
			port_write(a, &a->port[i], v, PORTSC_PP);
	}
}

static void
wait_until(struct xhci_port *p, enum port_state s, uint64_t next,
    uint64_t deadline)
{
	p->state = (uint8_t)s;
	p->next = next;
	p->deadline = deadline;
}

static void
disconnect(struct xhci *a, struct xhci_port *p)
{
	int was = p->state == PORT_ENABLED;

	wait_until(p, PORT_IDLE, 0, 0);
	p->resets = 0;
	if (!was)
		return;
	xlog(a, PB_LOG_INFO, "%s: port %u: disconnected", a->name, p->no);
	dev_gone(a, p->no);
	port_tell(a, USB_EVENT_DISCONNECT, p->no, 0, 0);
}

static void
reset(struct xhci *a, struct xhci_port *p, uint32_t v, uint64_t t, int warm)
{
	if (++p->resets > XHCI_TRIES) {
		xlog(a, PB_LOG_WARN, "%s: port %u: not enabled after %u resets "
		    "(PORTSC 0x%08x): left alone until it disconnects",
		    a->name, p->no, XHCI_TRIES, v);
		wait_until(p, PORT_FAILED, 0, 0);
		return;
	}
	p->warm = (uint8_t)warm;
	port_write(a, p, v, warm ? PORTSC_WPR : PORTSC_PR);
	wait_until(p, PORT_RESET, t + T_STEP, t + T_PORT_RESET);
}

static void
enabled(struct xhci *a, struct xhci_port *p, uint32_t v)
{
	unsigned psiv = PORTSC_SPEED(v);
	int speed = caps_speed(a, p, psiv);

	if (speed == USB_SPEED_NONE) {
		xlog(a, PB_LOG_WARN, "%s: port %u: speed ID %u is no speed we "
		    "know (PORTSC 0x%08x): left alone", a->name, p->no, psiv, v);
		wait_until(p, PORT_FAILED, 0, 0);
		return;
	}
	wait_until(p, PORT_ENABLED, 0, 0);
	p->speed = (uint8_t)speed;
	p->psiv = (uint8_t)psiv;
	xlog(a, PB_LOG_INFO, "%s: port %u: connected, %s speed", a->name,
	    p->no, speed_name((unsigned)speed));
	port_tell(a, USB_EVENT_CONNECT, p->no, (unsigned)speed, 0);
}

static int scanning;	/* port_scan looks: attached before the start */

/* A device is there and the port is not (yet) ours to report. */
static void
connected(struct xhci *a, struct xhci_port *p, uint32_t v, uint64_t t)
{
	int csc = (v & PORTSC_CSC) != 0, ped = (v & PORTSC_PED) != 0;
	unsigned pls = PORTSC_PLS(v);

	switch (p->state) {
	case PORT_FAILED:
		if (!csc)
			return;
		/* fall through: something new was plugged in */
	case PORT_IDLE:
		p->resets = 0;
		if (p->usb3)
			wait_until(p, PORT_TRAIN, t + T_STEP, t + T_TRAIN);
		else
			wait_until(p, PORT_DEBOUNCE, scanning ? t :
			    t + T_DEBOUNCE, 0);
		if (!p->usb3 || !ped)
			return;
		/* fall through: trained already */
	case PORT_TRAIN:
		if (ped)
			wait_until(p, PORT_RECOVER, t + T_RSTRCY, 0);
		else if (pls == PLS_INACTIVE || pls == PLS_COMPLIANCE ||
		    t >= p->deadline)
			reset(a, p, v, t, 1);
		else
			p->next = t + T_SLOW;
		return;
	case PORT_DEBOUNCE:
		if (csc)
			p->next = t + T_DEBOUNCE;
		else if (t >= p->next)
			reset(a, p, v, t, 0);
		return;
	case PORT_RESET:
		if (v & (PORTSC_PRC | PORTSC_WRC)) {
			if (ped)
				wait_until(p, PORT_RECOVER, t + T_RSTRCY, 0);
			else
				reset(a, p, v, t, p->warm);
		} else if (t >= p->deadline) {
			xlog(a, PB_LOG_WARN, "%s: port %u: no PRC %llu ms after "
			    "%s (PORTSC 0x%08x)", a->name, p->no,
			    (unsigned long long)(T_PORT_RESET / MS),
			    p->warm ? "WPR" : "PR", v);
			reset(a, p, v, t, p->warm);
		} else {
			p->next = t + (t + T_PORT_RESET - p->deadline < 20 * MS ?
			    T_STEP : T_SLOW);
		}
		return;
	case PORT_RECOVER:
		if (!ped)
			reset(a, p, v, t, p->usb3);
		else if (t >= p->next)
			enabled(a, p, v);
		return;
	default:
		return;
	}
}

static void
look(struct xhci *a, struct xhci_port *p, uint64_t t)
{
	uint32_t v = port_ack(a, p);

	if (v == 0xffffffffu)
		return;
	if (v & PORTSC_OCC)
		xlog(a, PB_LOG_WARN, "%s: port %u: over-current %s (PORTSC "
		    "0x%08x)", a->name, p->no, v & PORTSC_OCA ? "now" : "gone",
		    v);
	if (!(v & PORTSC_CCS)) {
		disconnect(a, p);
		return;
	}
	if (p->state == PORT_ENABLED) {
		if (!(v & PORTSC_CSC) && (v & PORTSC_PED))
			return;
		disconnect(a, p);	/* replaced, or disabled under it */
	}
	connected(a, p, v, t);
}

void
port_event(struct xhci *a, unsigned no)
{
	struct xhci_port *p = &a->port[no - 1];

	if (a->hstate != HC_UP || a->quiesced)
		return;
	look(a, p, xhci_now(a));
	if (p->next)
		tick_arm(a, p->next);
}

/* Every port, once (the controller just started). */
void
port_scan(struct xhci *a)
{
	uint64_t t = xhci_now(a);

	scanning = 1;
	for (unsigned i = 0; i < a->nports; i++) {
		a->port[i].state = PORT_IDLE;
		a->port[i].next = 0;
		look(a, &a->port[i], t);
		if (a->port[i].next)
			tick_arm(a, a->port[i].next);
	}
	scanning = 0;
}

void
port_steps(struct xhci *a, uint64_t t)
{
	for (unsigned i = 0; i < a->nports; i++) {
		struct xhci_port *p = &a->port[i];

		if (p->next && p->next <= t)
			look(a, p, t);
	}
}

uint64_t
port_next(const struct xhci *a)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < a->nports; i++)
		if (a->port[i].next && (!next || a->port[i].next < next))
			next = a->port[i].next;
	return next;
}

/*
 * USB_OP_PORT_RESET: reset an enabled root port again, PR on USB 2 and
 * USB 3 ports alike (PORTSC, §5.4.8: PR is a Hot Reset on a USB 3 port;
 * WPR, a Warm Reset, is for a link that does not train, and this one
 * did).  The device goes back to its Default state, address 0.  Its
 * slot went with the bus's REMOVE; the port steps on as after a
 * connection, to USB_EVENT_CONNECT.
 */
int
port_reset_again(struct xhci *a, unsigned no)
{
	struct xhci_port *p;
	uint64_t t = xhci_now(a);
	uint32_t v;

	if (a->hstate != HC_UP || a->quiesced)
		return PB_EAGAIN;
	if (no == 0 || no > a->nports)
		return PB_EINVAL;
	p = &a->port[no - 1];
	v = port_ack(a, p);
	if (p->state != PORT_ENABLED || v == 0xffffffffu ||
	    !(v & PORTSC_CCS))
		return PB_ENODEV;
	xlog(a, PB_LOG_INFO, "%s: port %u: reset again for its device's "
	    "driver", a->name, p->no);
	p->resets = 0;
	reset(a, p, v, t, 0);
	tick_arm(a, p->next);
	return PB_OK;
}

/* --- the bus's events -------------------------------------------------- */

static void
deliver(struct xhci *a, struct usb_req *r, const struct xev *e)
{
	r->u.event.kind = e->kind;
	r->u.event.port = e->port;
	r->u.event.speed = e->speed;
	r->u.event.reserved = 0;
	r->u.event.dev = e->dev;
	rq_complete(a, r, PB_OK, 0);
}

static void
evq_push(struct xhci *a, const struct xev *e)
{
	if (a->evq_n == XHCI_EVQ) {
		a->evq_overflow = 1;
		return;
	}
	a->evq[(a->evq_head + a->evq_n++) % XHCI_EVQ] = *e;
}

/* Waiting WAIT_EVENTs get what is kept, oldest first on both sides. */
static void
dispatch(struct xhci *a)
{
	struct xev e;

	while (a->waiters && (a->evq_overflow || a->evq_n)) {
		struct usb_req *r = rq_list_pop(&a->waiters, &a->waiters_tail);

		if (a->evq_overflow) {
			a->evq_overflow = 0;
			a->evq_n = 0;
			e = (struct xev){ USB_EVENT_OVERFLOW, 0, 0, 0 };
		} else {
			e = a->evq[a->evq_head];
			a->evq_head = (a->evq_head + 1) % XHCI_EVQ;
			a->evq_n--;
		}
		deliver(a, r, &e);
	}
}

void
port_tell(struct xhci *a, uint8_t kind, unsigned port, unsigned speed,
    uint32_t dev)
{
	struct xev e = { kind, (uint8_t)port, (uint8_t)speed, dev };

	evq_push(a, &e);
	dispatch(a);
}

/* Every enabled port again (a WAIT_EVENT with ep = 1). */
void
port_report_all(struct xhci *a)
{
	a->evq_n = 0;
	a->evq_head = 0;
	a->evq_overflow = 0;
	for (unsigned i = 0; i < a->nports; i++) {
		const struct xhci_port *p = &a->port[i];
		struct xev e = { USB_EVENT_CONNECT, p->no, p->speed, 0 };

		if (p->state == PORT_ENABLED)
			evq_push(a, &e);
	}
}

void
port_wait_event(struct xhci *a, struct usb_req *r)
{
	if (r->ep == 1)
		port_report_all(a);
	rq_of(r)->where = RQ_EVENT;
	rq_list_add(&a->waiters, &a->waiters_tail, r);
	dispatch(a);
}
