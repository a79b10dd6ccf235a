/*
 * hub.c - one driven hub: its slot, its control pipe and its timer.
 *
 * The control pipe carries one request at a time (a hub answers them in
 * order anyway): hub_pump() picks what goes next from what the set-up,
 * the hub and each port want (usbhub.h WANT_* and change bits to clear),
 * ports taken round-robin.  A request that fails is sent once more (a
 * STALL on the default pipe clears with the next SETUP, USB 2.0 §8.5.3.4);
 * a second failure is one log line and its handler's business.
 * PB_ECANCELED or PB_ENODEV means the device went: the hub stops, and
 * the bus removes its children itself.
 *
 * Waits are deadlines (`due`) per port and per hub, served by one timer
 * per hub set to the earliest.  A hub whose resource went keeps its
 * memory until the bus has given back every request it held.
 */
#include "usbhub.h"

void
uh_logf(int level, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uh.hub->log(uh.self, level, line);
}

/* Serving, and its device there to be driven. */
int
hub_alive(const struct uhub *h)
{
	return h && h->conn && !h->gone && !h->dead && uh.active &&
	    !uh.quiescing;
}

int
hub_busy(const struct uhub *h)
{
	if (h->ctl_busy || h->intr_busy || h->halt_busy || h->rwait_busy)
		return 1;
	for (unsigned i = 1; i <= HUB_PORTS_MAX; i++)
		if (h->port[i].onoff_busy)
			return 1;
	return 0;
}

int
hub_submit(struct uhub *h, struct usb_req *r, const char *what)
{
	int err;

	if (!h->conn)
		return PB_ENODEV;
	r->size = sizeof(*r);
	r->actual = 0;
	r->status = 0;
	if ((err = PB_CALL(h->conn, usb_ops, submit, r)) != PB_OK)
		hub_log(h, PB_LOG_ERR, "%s refused (error %d)", what, err);
	return err;
}

/* Everything but the completion work and the client's word. */
void
req_reset(struct usb_req *r)
{
	struct pb_work done = r->done;
	void *data = r->client_data;

	memset(r, 0, sizeof(*r));
	r->done = done;
	r->client_data = data;
}

/* ---- the control pipe ------------------------------------------------ */

static const char *
ctl_what(const struct uhub *h, char *buf, size_t cap)
{
	const struct usb_setup *s = &h->ctl.u.setup;

	switch (h->ctl_kind) {
	case CTL_DESC:
		return "GET_DESCRIPTOR(hub)";
	case CTL_DEPTH:
		return "SET_HUB_DEPTH";
	case CTL_CONFIG:
		return "HUB_CONFIG";
	case CTL_HUB_STATUS:
		return "GET_STATUS(hub)";
	case CTL_HUB_CLEAR:
		rt_snprintf(buf, cap, "CLEAR_FEATURE(hub, %u)", s->wValue);
		return buf;
	case CTL_POWER:
		rt_snprintf(buf, cap, "port %u: SET_FEATURE(PORT_POWER)",
		    h->ctl_port);
		return buf;
	case CTL_RESET:
		rt_snprintf(buf, cap, "port %u: SET_FEATURE(%s)", h->ctl_port,
		    s->wValue == FEAT_BH_PORT_RESET ? "BH_PORT_RESET" :
		    "PORT_RESET");
		return buf;
	case CTL_STATUS:
		rt_snprintf(buf, cap, "port %u: GET_STATUS", h->ctl_port);
		return buf;
	case CTL_CLEAR:
		rt_snprintf(buf, cap, "port %u: CLEAR_FEATURE(%u)", h->ctl_port,
		    s->wValue);
		return buf;
	}
	return "a control request";
}

/* Send h->ctl as set up by ctl_begin. */
static void
ctl_go(struct uhub *h)
{
	char what[48];

	h->ctl_busy = 1;
	h->ctl_retried = 0;
	if (hub_submit(h, &h->ctl, ctl_what(h, what, sizeof(what))) != PB_OK) {
		/* The bus refused what it takes from every hub driver: this
		 * one is not to be driven. */
		h->ctl_busy = 0;
		hub_fail(h);
	}
}

static struct usb_req *
ctl_begin(struct uhub *h, int kind, uint8_t port)
{
	req_reset(&h->ctl);
	h->ctl_kind = (uint8_t)kind;
	h->ctl_port = port;
	return &h->ctl;
}

/* A control transfer on the default pipe; IN data lands in h->buf. */
void
ctl_xfer(struct uhub *h, int kind, uint8_t port, uint8_t type, uint8_t req,
    uint16_t value, uint16_t index, uint16_t length, uint16_t flags)
{
	struct usb_req *r = ctl_begin(h, kind, port);

	r->op = USB_OP_XFER;
	r->flags = flags;
	r->u.setup = (struct usb_setup){ type, req, value, index, length };
	r->length = length;
	if (length) {
		h->ctl_seg = (struct usb_seg){ .va = h->buf, .bus = h->buf_bus,
		    .len = length };
		r->segs = &h->ctl_seg;
		r->nseg = 1;
	}
	ctl_go(h);
}

/* A request to the bus about this hub (USB_OP_HUB_CONFIG). */
void
ctl_bus_op(struct uhub *h, int kind, uint8_t op)
{
	struct usb_req *r = ctl_begin(h, kind, 0);

	r->op = op;
	r->u.hub.nports = h->desc.nports;
	r->u.hub.mtt = h->mtt;
	r->u.hub.ttt = h->desc.ttt;
	ctl_go(h);
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
ctl_dispatch(struct uhub *h, int kind, int st, uint32_t actual)
{
	struct uport *p = h->ctl_port <= h->desc.nports && h->ctl_port ?
	    &h->port[h->ctl_port] : NULL;

	switch (kind) {
	case CTL_DESC:
	case CTL_DEPTH:
	case CTL_CONFIG:
		setup_done(h, kind, st, actual);
		break;
	case CTL_POWER:
		if (p)
			port_power_sent(p, st);
		break;
	case CTL_RESET:
		if (p)
			port_reset_sent(p, st);
		break;
	case CTL_STATUS:
		if (p && st == PB_OK && actual >= 4)
			port_status_in(p, le16(h->buf), le16(h->buf + 2));
		else if (p)
			port_status_failed(p, st == PB_OK ? PB_EIO : st);
		break;
	case CTL_HUB_STATUS:
		if (st == PB_OK && actual >= 4)
			hub_status_in(h, le16(h->buf), le16(h->buf + 2));
		break;
	}
}

static void
ctl_done(void *arg)
{
	struct uhub *h = arg;
	int st = h->ctl.status, kind = h->ctl_kind;
	char what[48];

	h->ctl_busy = 0;
	if (h->gone) {
		hub_free_if_idle(h);
		return;
	}
	if (st == PB_ECANCELED || st == PB_ENODEV) {
		hub_fail(h);	/* the device went: the bus says so */
		return;
	}
	if (st != PB_OK && !h->ctl_retried && hub_alive(h)) {
		h->ctl_retried = 1;
		h->ctl_busy = 1;
		if (hub_submit(h, &h->ctl, ctl_what(h, what, sizeof(what))) ==
		    PB_OK)
			return;
		h->ctl_busy = 0;
	}
	if (st != PB_OK)
		hub_log(h, PB_LOG_ERR, "%s failed (error %d)",
		    ctl_what(h, what, sizeof(what)), st);
	ctl_dispatch(h, kind, st, h->ctl.actual);
	hub_pump(h);
	hub_timer_update(h);
}

/* The change bit's clear feature (USB 2.0 Table 11-17, USB 3.2 10-9). */
static uint16_t
change_feature(uint16_t bit)
{
	switch (bit) {
	case PORT_CHG_CONNECTION:
		return FEAT_C_PORT_CONNECTION;
	case PORT_CHG_ENABLE:
		return FEAT_C_PORT_ENABLE;
	case PORT_CHG_SUSPEND:
		return FEAT_C_PORT_SUSPEND;
	case PORT_CHG_OVER_CURRENT:
		return FEAT_C_PORT_OVER_CURRENT;
	case PORT_CHG_RESET:
		return FEAT_C_PORT_RESET;
	case PORT_CHG_BH_RESET:
		return FEAT_C_BH_PORT_RESET;
	case PORT_CHG_LINK_STATE:
		return FEAT_C_PORT_LINK_STATE;
	}
	return FEAT_C_PORT_CONFIG_ERROR;
}

#define TO_PORT (USB_TYPE_CLASS | USB_RECIP_OTHER)
#define TO_HUB (USB_TYPE_CLASS | USB_RECIP_DEVICE)

/* Send what port p wants first, if anything: 1 if something went. */
static int
port_send(struct uhub *h, struct uport *p)
{
	uint16_t bit;

	if (p->clear) {
		bit = p->clear & (uint16_t)-p->clear;
		p->clear &= (uint16_t)~bit;
		ctl_xfer(h, CTL_CLEAR, p->num, TO_PORT, USB_REQ_CLEAR_FEATURE,
		    change_feature(bit), p->num, 0, 0);
	} else if (p->want & WANT_POWER) {
		/* Device state the bus replays after a controller swap. */
		p->want &= (uint8_t)~WANT_POWER;
		ctl_xfer(h, CTL_POWER, p->num, TO_PORT, USB_REQ_SET_FEATURE,
		    FEAT_PORT_POWER, p->num, 0, USB_REQ_REPLAY);
	} else if (p->want & WANT_RESET) {
		p->want &= (uint8_t)~WANT_RESET;
		ctl_xfer(h, CTL_RESET, p->num, TO_PORT, USB_REQ_SET_FEATURE,
		    p->warm ? FEAT_BH_PORT_RESET : FEAT_PORT_RESET, p->num, 0,
		    0);
	} else if (p->want & WANT_STATUS) {
		p->want &= (uint8_t)~WANT_STATUS;
		ctl_xfer(h, CTL_STATUS, p->num, USB_DIR_IN | TO_PORT,
		    USB_REQ_GET_STATUS, 0, p->num, 4, 0);
	} else {
		return 0;
	}
	return 1;
}

/* Send the next thing h wants on its control pipe, if it is free. */
void
hub_pump(struct uhub *h)
{
	unsigned n = h->desc.nports;

	if (!hub_alive(h) || h->ctl_busy)
		return;
	if (h->setup < SETUP_POWER) {
		setup_send(h);
		return;
	}
	if (h->hub_clear) {
		uint16_t bit = h->hub_clear & (uint16_t)-h->hub_clear;

		h->hub_clear &= (uint16_t)~bit;
		ctl_xfer(h, CTL_HUB_CLEAR, 0, TO_HUB, USB_REQ_CLEAR_FEATURE,
		    bit == HUB_CHG_LOCAL_POWER ? FEAT_C_HUB_LOCAL_POWER :
		    FEAT_C_HUB_OVER_CURRENT, 0, 0, 0);
		return;
	}
	if (h->want & WANT_HUB_STATUS) {
		h->want &= (uint8_t)~WANT_HUB_STATUS;
		ctl_xfer(h, CTL_HUB_STATUS, 0, USB_DIR_IN | TO_HUB,
		    USB_REQ_GET_STATUS, 0, 0, 4, 0);
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		struct uport *p = &h->port[(h->next_port + k) % n + 1];

		if (port_send(h, p)) {
			h->next_port = (uint8_t)(p->num % n);
			return;
		}
	}
	if (h->setup == SETUP_POWER)
		setup_powered(h);
}

/* ---- the timer ------------------------------------------------------- */

static void
hub_tick(void *arg)
{
	struct uhub *h = arg;
	uint64_t now = uh.hub->now_ns();

	h->timer = 0;
	h->timer_at = 0;
	if (!hub_alive(h))
		return;
	for (unsigned i = 1; i <= h->desc.nports; i++) {
		struct uport *p = &h->port[i];

		if (p->due && p->due <= now) {
			p->due = 0;
			port_due(p);
		}
	}
	if (h->due && h->due <= now) {
		h->due = 0;
		setup_due(h);
	}
	if (h->intr_due && h->intr_due <= now) {
		h->intr_due = 0;
		intr_arm(h);
	}
	hub_pump(h);
	hub_timer_update(h);
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

static void
timer_stop(struct uhub *h)
{
	if (h->timer)
		uh.hub->timer_cancel(uh.self, h->timer);
	h->timer = 0;
	h->timer_at = 0;
}

/* Arm h's timer for its earliest deadline (none: no timer). */
void
hub_timer_update(struct uhub *h)
{
	uint64_t next = 0, now;
	int id;

	if (hub_alive(h)) {
		for (unsigned i = 1; i <= h->desc.nports; i++)
			next = earliest(next, h->port[i].due);
		next = earliest(next, h->due);
		next = earliest(next, h->intr_due);
	}
	if (next == h->timer_at && (h->timer || !next))
		return;
	timer_stop(h);
	if (!next)
		return;
	now = uh.hub->now_ns();
	id = uh.hub->timer_after(uh.self, next > now ? next - now : 0,
	    hub_tick, h);
	if (id <= 0) {
		hub_log(h, PB_LOG_ERR, "no timer (error %d); stopped", id);
		hub_fail(h);
		return;
	}
	h->timer = id;
	h->timer_at = next;
}

void
hub_timers_stop(void)
{
	for (unsigned i = 0; i < UH_HUBS; i++)
		if (uh.hubs[i])
			timer_stop(uh.hubs[i]);
}

void
hub_pump_all(void)
{
	for (unsigned i = 0; i < UH_HUBS; i++)
		if (uh.hubs[i]) {
			hub_pump(uh.hubs[i]);
			hub_timer_update(uh.hubs[i]);
		}
}

/* ---- slots ----------------------------------------------------------- */

struct uhub *
hub_by_conn(const struct pb_conn *c)
{
	for (unsigned i = 0; c && i < UH_HUBS; i++)
		if (uh.hubs[i] && uh.hubs[i]->conn == c)
			return uh.hubs[i];
	return NULL;
}

/* The hub of that resource that is still there. */
struct uhub *
hub_by_res(const char *res)
{
	for (unsigned i = 0; res && i < UH_HUBS; i++)
		if (uh.hubs[i] && !uh.hubs[i]->gone &&
		    strcmp(uh.hubs[i]->res, res) == 0)
			return uh.hubs[i];
	return NULL;
}

/* Drive the hub behind c: set it up (setup.c). */
struct uhub *
hub_add(struct pb_conn *c, int by_hand)
{
	struct uhub *h;
	unsigned i;

	for (i = 0; i < UH_HUBS && uh.hubs[i]; i++)
		;
	if (i == UH_HUBS || !(h = uh.hub->alloc(uh.self, sizeof(*h)))) {
		uh_logf(PB_LOG_ERR, "%s: more than %u hubs, or no memory; left "
		    "alone", c->res, UH_HUBS);
		if (by_hand)	/* for a driver that may come */
			uh.hub->disconnect(uh.self, c);
		return NULL;
	}
	memset(h, 0, sizeof(*h));
	h->conn = c;
	h->by_hand = by_hand;
	rt_strlcpy(h->res, c->res ? c->res : "usb:?", sizeof(h->res));
	uh.hub->work_init(uh.self, &h->ctl.done, ctl_done, h);
	uh.hub->work_init(uh.self, &h->intr.done, intr_done, h);
	uh.hub->work_init(uh.self, &h->halt.done, halt_done, h);
	uh.hub->work_init(uh.self, &h->rwait.done, rwait_done, h);
	for (unsigned k = 1; k <= HUB_PORTS_MAX; k++)
		port_init(h, &h->port[k], (uint8_t)k);
	uh.hubs[i] = h;
	h->info.size = sizeof(h->info);
	if (PB_CALL(c, usb_ops, info, &h->info) != PB_OK) {
		hub_log(h, PB_LOG_ERR, "no information from the bus; left "
		    "alone");
		hub_fail(h);
		return h;
	}
	h->buf = uh.hub->dma_alloc(uh.self, UH_CTL_BUF + UH_INTR_BUF, 64, 0,
	    h->info.dma_limit ? h->info.dma_limit : ~0ull, &h->buf_bus);
	if (!h->buf) {
		hub_log(h, PB_LOG_ERR, "no DMA memory; left alone");
		hub_fail(h);
		return h;
	}
	setup_start(h);
	return h;
}

/* Stop driving h: its ports are forgotten (not told to the bus: it
 * removes a hub's children itself when the hub goes). */
static void
hub_stop(struct uhub *h)
{
	for (unsigned k = 1; k <= HUB_PORTS_MAX; k++)
		port_forget(&h->port[k]);
	timer_stop(h);
}

/* h failed (logged): it stays connected, and idle. */
void
hub_fail(struct uhub *h)
{
	h->dead = 1;
	hub_stop(h);
	if (h->intr_busy && h->conn)
		PB_CALL(h->conn, usb_ops, cancel, h->ep.addr);
	rwait_cancel(h);
	reset_grant();
}

/* h's resource went (the hub was unplugged, or the bus went). */
void
hub_gone(struct uhub *h)
{
	h->gone = 1;
	h->conn = NULL;
	hub_stop(h);
	reset_grant();
	hub_free_if_idle(h);
}

/* Nothing of h's runs any more; it is out of our table. */
static void
hub_quiet(struct uhub *h)
{
	for (unsigned i = 0; i < UH_HUBS; i++)
		if (uh.hubs[i] == h)
			uh.hubs[i] = NULL;
	timer_stop(h);
	uh.hub->work_cancel(uh.self, &h->ctl.done);
	uh.hub->work_cancel(uh.self, &h->intr.done);
	uh.hub->work_cancel(uh.self, &h->halt.done);
	uh.hub->work_cancel(uh.self, &h->rwait.done);
	for (unsigned k = 1; k <= HUB_PORTS_MAX; k++)
		uh.hub->work_cancel(uh.self, &h->port[k].onoff.done);
}

static void
hub_free(struct uhub *h)
{
	hub_quiet(h);
	if (h->buf)
		uh.hub->dma_free(uh.self, h->buf);
	uh.hub->free(uh.self, h);
}

/* A gone hub's memory goes once the bus has given back its requests. */
void
hub_free_if_idle(struct uhub *h)
{
	if (h->gone && !hub_busy(h))
		hub_free(h);
}

/* The module stops.  A hub with requests at the bus keeps its memory:
 * the bus and the controller hear PB_EV_CLIENT_GONE after this stop and
 * drop those requests then, and only after that does the hub take our
 * memory back (freed here, the controller would still write into it). */
void
hub_forget_all(void)
{
	for (unsigned i = 0; i < UH_HUBS; i++) {
		struct uhub *h = uh.hubs[i];

		if (h && hub_busy(h))
			hub_quiet(h);
		else if (h)
			hub_free(h);
	}
}
