/*
 * port.c - one hub port, from connect to the bus and back (USB 2.0
 * §11.5, §11.24.2.7; USB 3.2 §10.3, §10.16.2.6).
 *
 * Each status read (a bit in the status change bitmap, a deadline, the
 * set-up's first look) ends in port_status_in(): the change bits seen
 * are cleared, then the port acts on its state:
 *
 *   connect    IDLE -> DEBOUNCE: 100 ms without a connect change
 *              (USB 2.0 §7.1.7.3; a bounce starts it again, UH_BOUNCES
 *              times at most) -> WAIT_RESET
 *   reset      WAIT_RESET -> RESETTING once the port holds the reset
 *              token: SET_FEATURE(PORT_RESET) (BH_PORT_RESET for a USB 3
 *              link in SS.Inactive or Compliance, §10.3.1.1), then
 *              C_PORT_RESET, looked for every UH_RESET_POLL_NS besides
 *              the bitmap, within UH_RESET_NS, UH_RESET_TRIES times
 *   recovery   -> RECOVERY: 10 ms (TRSTRCY, §7.1.7.5), speed from the
 *              status (USB 2: low/high bits; a USB 3 hub: SuperSpeed)
 *   bus        -> ENUM: USB_OP_PORT_ON(port, speed); the bus enumerates
 *              and completes it -> ON (or FAILED, one line)
 *   disconnect -> IDLE, USB_OP_PORT_OFF(port) if the bus had a device
 *   over-current  -> OC: one line, PORT_OFF, power again after
 *              UH_OC_NS (-> REPOWER, power good -> IDLE and read again);
 *              the UH_OC_TRIES+1th leaves the port off
 *
 * One port of all hubs holds the reset token from its reset until the
 * bus has answered its PORT_ON (or UH_ENUM_NS): ports are reset one
 * after the other (USB 2.0 §11.5.1.5 and the default address; xHCI
 * addresses devices itself, but the rule costs little), in the order
 * they settled.
 *
 * A connect change on a port whose device the bus has (a hub reset after
 * a controller swap reports every port again, with port power replayed
 * by the bus) is not a new device to us: the port is reset and PORT_ON
 * sent again without a PORT_OFF, and the bus matches what it finds to
 * the device it keeps.
 */
#include "usbhub.h"

static uint64_t
now(void)
{
	return uh.hub->now_ns();
}

const char *
speed_name(uint8_t speed)
{
	switch (speed) {
	case USB_SPEED_LOW:
		return "low";
	case USB_SPEED_FULL:
		return "full";
	case USB_SPEED_HIGH:
		return "high";
	case USB_SPEED_SUPER:
		return "super";
	case USB_SPEED_SUPER_PLUS:
		return "super+";
	}
	return "unknown";
}

void
port_init(struct uhub *h, struct uport *p, uint8_t num)
{
	memset(p, 0, sizeof(*p));
	p->hub = h;
	p->num = num;
	uh.hub->work_init(uh.self, &p->onoff.done, onoff_done, p);
}

static void
enter(struct uport *p, int state, uint64_t wait_ns)
{
	p->state = (uint8_t)state;
	p->due = wait_ns ? now() + wait_ns : 0;
}

/* ---- the reset token ------------------------------------------------- */

static void
token_release(struct uport *p)
{
	if (uh.resetting != p)
		return;
	uh.resetting = NULL;
	reset_grant();
}

static void port_reset_start(struct uport *p);

/* The token goes to the port that settled first, if none holds it. */
void
reset_grant(void)
{
	struct uport *best = NULL;

	if (uh.resetting || uh.quiescing || !uh.active)
		return;
	for (unsigned i = 0; i < UH_HUBS; i++) {
		struct uhub *h = uh.hubs[i];

		if (!hub_alive(h) || h->setup != SETUP_RUNNING)
			continue;
		for (unsigned k = 1; k <= h->desc.nports; k++) {
			struct uport *p = &h->port[k];

			if (p->state == PORT_WAIT_RESET &&
			    (!best || (int32_t)(p->seq - best->seq) < 0))
				best = p;
		}
	}
	if (!best)
		return;
	uh.resetting = best;
	port_reset_start(best);
	hub_pump(best->hub);
	hub_timer_update(best->hub);
}

static void
want_reset(struct uport *p)
{
	enter(p, PORT_WAIT_RESET, 0);
	p->seq = ++uh.seq;
	reset_grant();
}

/* ---- the bus: PORT_ON and PORT_OFF ----------------------------------- */

static void
send_onoff(struct uport *p, uint8_t op)
{
	struct usb_req *r = &p->onoff;

	req_reset(r);
	r->op = op;
	r->u.port.port = p->num;
	r->u.port.speed = p->speed;
	p->onoff_busy = 1;
	if (op == USB_OP_PORT_OFF)
		p->bus_on = 0;
	if (hub_submit(p->hub, r, op == USB_OP_PORT_ON ? "PORT_ON" :
	    "PORT_OFF") == PB_OK)
		return;
	p->onoff_busy = 0;
	if (op == USB_OP_PORT_ON && p->state == PORT_ENUM) {
		enter(p, PORT_FAILED, 0);
		token_release(p);
	}
}

/* The bus is told the port has nothing (now, or once its PORT_ON is
 * back). */
static void
port_bus_off(struct uport *p)
{
	p->on_wanted = 0;
	if (p->onoff_busy) {
		p->off_wanted = 1;
		return;
	}
	if (p->bus_on)
		send_onoff(p, USB_OP_PORT_OFF);
}

static void
port_on(struct uport *p)
{
	enter(p, PORT_ENUM, UH_ENUM_NS);
	port_log(p, PB_LOG_INFO, "%s-speed device", speed_name(p->speed));
	if (p->onoff_busy) {		/* the last PORT_ON is not back yet */
		p->on_wanted = 1;
		p->off_wanted = 0;
		return;
	}
	send_onoff(p, USB_OP_PORT_ON);
}

static void
on_answered(struct uport *p, int st)
{
	/* Failed, the bus keeps nothing there (what it had it removed). */
	p->bus_on = st == PB_OK;
	if (st != PB_OK && st != PB_ECANCELED)
		port_log(p, PB_LOG_ERR, "the bus did not take the %s-speed "
		    "device (error %d)", speed_name(p->speed), st);
	if (p->state != PORT_ENUM || p->on_wanted)
		return;		/* the port moved on meanwhile */
	if (st == PB_OK) {
		enter(p, PORT_ON, 0);
		p->tries = 0;
	} else {
		enter(p, PORT_FAILED, 0);
	}
	token_release(p);
}

void
onoff_done(void *arg)
{
	struct uport *p = arg;
	struct uhub *h = p->hub;
	int st = p->onoff.status;

	p->onoff_busy = 0;
	if (h->gone) {
		hub_free_if_idle(h);
		return;
	}
	if (p->onoff.op == USB_OP_PORT_ON)
		on_answered(p, st);
	else if (st != PB_OK && st != PB_ECANCELED)
		port_log(p, PB_LOG_ERR, "PORT_OFF failed (error %d)", st);
	if (p->off_wanted) {
		p->off_wanted = 0;
		port_bus_off(p);
	} else if (p->on_wanted) {
		p->on_wanted = 0;
		send_onoff(p, USB_OP_PORT_ON);
	}
	hub_pump(h);
	hub_timer_update(h);
}

/* ---- states ---------------------------------------------------------- */

static void
port_fail(struct uport *p)
{
	enter(p, PORT_FAILED, 0);
	p->want &= (uint8_t)~WANT_RESET;
	port_bus_off(p);
	token_release(p);
}

static void
port_disconnected(struct uport *p)
{
	if (p->bus_on || p->onoff_busy)
		port_log(p, PB_LOG_INFO, "disconnected");
	enter(p, PORT_IDLE, 0);
	p->want &= (uint8_t)~WANT_RESET;
	p->tries = p->bounces = 0;
	port_bus_off(p);
	token_release(p);
}

static const char *reset_why;	/* the last reset's failure, for the log */

/* SET_FEATURE(PORT_RESET) for the token holder, or give up. */
static void
port_reset_start(struct uport *p)
{
	if (p->tries >= UH_RESET_TRIES) {
		port_log(p, PB_LOG_ERR, "reset failed %u times (last: %s, "
		    "wPortStatus 0x%04x); port left alone", p->tries,
		    reset_why ? reset_why : "?", p->status);
		port_fail(p);
		return;
	}
	p->tries++;
	enter(p, PORT_RESETTING, 0);
	p->deadline = 0;
	p->warm = p->hub->ss && (PORT_STAT_SS_LINK(p->status) ==
	    SS_LINK_INACTIVE || PORT_STAT_SS_LINK(p->status) ==
	    SS_LINK_COMPLIANCE);
	p->want |= WANT_RESET;
}

void
port_reset_sent(struct uport *p, int status)
{
	if (p->state != PORT_RESETTING)
		return;
	if (status != PB_OK) {		/* logged by the control pipe */
		port_fail(p);
		return;
	}
	p->deadline = now() + UH_RESET_NS;
	p->due = now() + UH_RESET_POLL_NS;
}

static uint8_t
port_speed(const struct uport *p, uint16_t st)
{
	if (p->hub->ss)
		return USB_SPEED_SUPER;
	if (st & PORT_STAT_LOW_SPEED)
		return USB_SPEED_LOW;
	return st & PORT_STAT_HIGH_SPEED ? USB_SPEED_HIGH : USB_SPEED_FULL;
}

static void
port_reset_done(struct uport *p, uint16_t st)
{
	if (!(st & PORT_STAT_CONNECTION)) {
		port_disconnected(p);
		return;
	}
	if (!(st & PORT_STAT_ENABLE)) {
		reset_why = "the port stayed disabled";
		port_reset_start(p);
		return;
	}
	p->speed = port_speed(p, st);
	p->deadline = 0;
	enter(p, PORT_RECOVERY, UH_RECOVERY_NS);
}

/* (Re)connected, or gone: a connect change.  A device the bus has is
 * not told off: the bus matches the PORT_ON to come (see above). */
static void
port_connect_change(struct uport *p, uint16_t st)
{
	int mid_reset = p->state == PORT_RESETTING ||
	    p->state == PORT_RECOVERY;

	if (!(st & PORT_STAT_CONNECTION)) {
		port_disconnected(p);
		return;
	}
	if (p->state == PORT_DEBOUNCE && ++p->bounces > UH_BOUNCES) {
		port_log(p, PB_LOG_ERR, "the connection did not settle in %u "
		    "tries of %u ms", UH_BOUNCES,
		    (unsigned)(UH_DEBOUNCE_NS / MS));
		port_fail(p);
		return;
	}
	if (p->state != PORT_DEBOUNCE)
		p->bounces = 0;
	if (!mid_reset)		/* one that drops out in reset counts */
		p->tries = 0;
	else
		reset_why = "the device reconnected during the reset";
	enter(p, PORT_DEBOUNCE, UH_DEBOUNCE_NS);
	p->want &= (uint8_t)~WANT_RESET;
	token_release(p);
}

static void
port_over_current(struct uport *p)
{
	port_bus_off(p);	/* the hub cut its power: the device is gone */
	if (++p->oc_count > UH_OC_TRIES) {
		port_log(p, PB_LOG_ERR, "over-current again (%u times); the "
		    "port stays off", p->oc_count);
		enter(p, PORT_FAILED, 0);
	} else {
		port_log(p, PB_LOG_WARN, "over-current; powered again in %u "
		    "ms", (unsigned)(UH_OC_NS / MS));
		enter(p, PORT_OC, UH_OC_NS);
	}
	p->want &= (uint8_t)~WANT_RESET;
	token_release(p);
}

/* The device there stopped working: reset it and PORT_ON again (the
 * bus matches or replaces what it had). */
static void
port_restart(struct uport *p, const char *why, uint16_t st)
{
	port_log(p, PB_LOG_WARN, "%s (wPortStatus 0x%04x); reset again", why,
	    st);
	p->tries = 0;
	if (uh.resetting == p)
		port_reset_start(p);
	else
		want_reset(p);
}

/* The bus resets the device here for its driver (reset.c): as one that
 * stopped working, without a word to the bus, which keeps it lost until
 * this port's PORT_ON. */
void
port_reset_for_bus(struct uport *p)
{
	if (p->state != PORT_ON && p->state != PORT_ENUM) {
		port_log(p, PB_LOG_WARN, "the bus asked a reset of a port with "
		    "no device it has: not done");
		return;
	}
	port_log(p, PB_LOG_INFO, "reset for its device's driver");
	p->tries = 0;
	if (uh.resetting == p)
		port_reset_start(p);
	else
		want_reset(p);
}

/* A status read while the bus has, or is getting, the device. */
static void
port_check_on(struct uport *p, uint16_t st, uint16_t ch)
{
	if (!(st & PORT_STAT_CONNECTION))
		port_disconnected(p);
	else if (p->hub->ss && (ch & PORT_CHG_LINK_STATE) &&
	    PORT_STAT_SS_LINK(st) == SS_LINK_INACTIVE)
		/* USB 3.2 §10.3.1.1: only a warm reset brings it back. */
		port_restart(p, "link in SS.Inactive", st);
	else if (!p->hub->ss && (ch & PORT_CHG_ENABLE) &&
	    !(st & PORT_STAT_ENABLE))
		/* USB 2.0 §11.24.2.7.2.2: disabled by an error (babble). */
		port_restart(p, "disabled by the hub", st);
}

void
port_status_in(struct uport *p, uint16_t st, uint16_t ch)
{
	ch &= p->hub->ss ? PORT_CHG_USB3 : PORT_CHG_USB2;
	p->status = st;
	p->change = ch;
	p->clear |= ch;
	if ((ch & PORT_CHG_OVER_CURRENT) && (st & PORT_STAT_OVER_CURRENT)) {
		port_over_current(p);
		return;
	}
	if (ch & PORT_CHG_CONFIG_ERROR) {
		port_log(p, PB_LOG_ERR, "link configuration failed "
		    "(wPortStatus 0x%04x); port left alone", st);
		port_fail(p);
		return;
	}
	if (p->state == PORT_OC || p->state == PORT_REPOWER)
		return;		/* read again once powered */
	if (ch & PORT_CHG_CONNECTION) {
		port_connect_change(p, st);
		return;
	}
	switch (p->state) {
	case PORT_IDLE:
		if (st & PORT_STAT_CONNECTION)
			enter(p, PORT_DEBOUNCE, UH_DEBOUNCE_NS);
		break;
	case PORT_DEBOUNCE:
		if (p->due)
			break;		/* still settling */
		if (st & PORT_STAT_CONNECTION)
			want_reset(p);
		else
			port_disconnected(p);
		break;
	case PORT_RESETTING:
		if (ch & (PORT_CHG_RESET | PORT_CHG_BH_RESET))
			port_reset_done(p, st);
		break;
	case PORT_RECOVERY:
	case PORT_ENUM:
	case PORT_ON:
		port_check_on(p, st, ch);
		break;
	case PORT_WAIT_RESET:
	case PORT_FAILED:
		if (!(st & PORT_STAT_CONNECTION))
			port_disconnected(p);
		break;
	}
}

void
port_status_failed(struct uport *p, int status)
{
	(void)status;		/* logged by the control pipe */
	if (p->state != PORT_DEBOUNCE || p->due)
		return;		/* a later look or deadline decides */
	if (++p->bounces > UH_BOUNCES)
		port_fail(p);
	else
		p->due = now() + UH_DEBOUNCE_NS;
}

void
port_power_sent(struct uport *p, int status)
{
	if (p->state != PORT_REPOWER)
		return;
	if (status != PB_OK) {
		port_fail(p);
		return;
	}
	p->due = now() + (p->hub->desc.pwr_good_ms ?
	    p->hub->desc.pwr_good_ms * MS : 1);
}

/* A deadline passed. */
void
port_due(struct uport *p)
{
	switch (p->state) {
	case PORT_DEBOUNCE:
		p->want |= WANT_STATUS;		/* settled? */
		break;
	case PORT_RESETTING:
		if (!p->deadline)
			break;
		if (now() < p->deadline) {
			p->want |= WANT_STATUS;
			p->due = now() + UH_RESET_POLL_NS;
			break;
		}
		reset_why = "no C_PORT_RESET in 500 ms";
		port_reset_start(p);
		break;
	case PORT_RECOVERY:
		port_on(p);
		break;
	case PORT_ENUM:
		port_log(p, PB_LOG_WARN, "the bus has not answered PORT_ON in "
		    "%u ms; the next port is reset",
		    (unsigned)(UH_ENUM_NS / MS));
		token_release(p);
		break;
	case PORT_OC:
		p->state = PORT_REPOWER;
		p->want |= WANT_POWER;
		break;
	case PORT_REPOWER:
		enter(p, PORT_IDLE, 0);
		p->want |= WANT_STATUS;
		break;
	}
}

/* The hub is no longer driven: the port is dropped as it is. */
void
port_forget(struct uport *p)
{
	p->due = 0;
	p->want = 0;
	p->clear = 0;
	if (uh.resetting == p)
		uh.resetting = NULL;
}
