/*
 * hci.c - the controllers: one record per `usb-hci` connection, whose
 * standing USB_OP_WAIT_EVENT request reports the root ports.
 *
 * The first WAIT_EVENT asks with ep = 1, so the controller reports every
 * port connected already; later ones ask for changes (ep = 0).  After an
 * OVERFLOW the bus asks with ep = 1 again.  One that completes is asked
 * again even while the other slot's is out: after a controller swap the
 * bus asks anew beside the old controller's, which a controller
 * restarted without its state never completes.  A CONNECT on a root port the
 * bus has a configured device on means that device went (the controller
 * reset the port): it is removed and the new one enumerated; during a
 * swap the device waiting there is found again instead (swap.c); one
 * being enumerated goes on (a port reported twice).  A failed
 * WAIT_EVENT is asked again at the next tick, never in a loop.
 */
#include "bus.h"

struct hci bus_hcis[BUS_HCIS];

static void ev_done(void *arg);

struct hci *
hci_of(struct pb_conn *c)
{
	for (unsigned i = 0; c && i < BUS_HCIS; i++)
		if (bus_hcis[i].used && bus_hcis[i].conn == c)
			return &bus_hcis[i];
	return NULL;
}

static struct hci *
hci_named(const char *res)
{
	for (unsigned i = 0; i < BUS_HCIS; i++)
		if (bus_hcis[i].used && strcmp(bus_hcis[i].res, res) == 0)
			return &bus_hcis[i];
	return NULL;
}

int
hci_submit(struct hci *h, struct usb_req *r)
{
	if (!h->conn)
		return PB_ENODEV;
	return PB_CALL(h->conn, usb_hci_ops, submit, r);
}

void
hci_cancel(struct hci *h, uint32_t dev, uint8_t ep)
{
	int r;

	if (!h->conn)
		return;
	r = PB_CALL(h->conn, usb_hci_ops, cancel, dev, ep);
	if (r != PB_OK && r != PB_ENODEV)
		bus_log(PB_LOG_WARN, "%s: cancel of dev %u ep 0x%02x: %s",
		    h->res, dev, ep, status_name(r));
}

/* A class driver went: every request of its on dev leaves the controller
 * now (usb-hci 1.1).  A 1.0 controller can only cancel, whose completions
 * come later: PB_EBUSY, the hub keeps the driver's memory. */
int
hci_forget(struct hci *h, uint32_t dev, const struct pb_module *owner)
{
	if (!h->conn)
		return PB_OK;
	if (h->minor < 1 ||
	    !((const struct usb_hci_ops *)h->conn->ops)->forget) {
		hci_cancel(h, dev, 0xff);
		return PB_EBUSY;
	}
	return PB_CALL(h->conn, usb_hci_ops, forget, dev, 0xff, owner);
}

/* The controller's path=, from the hub's inventory. */
static void
path_of(struct hci *h)
{
	struct pb_res_info ri;
	const char *colon = strchr(h->res, ':');

	rt_strlcpy(h->path, colon ? colon + 1 : h->res, sizeof(h->path));
	for (unsigned i = 0; ; i++) {
		ri = (struct pb_res_info){ .struct_size = sizeof(ri) };
		if (bus_hub->res_info_sized(NULL, i, &ri) != PB_OK)
			return;
		if (ri.name && strcmp(ri.name, h->res) == 0) {
			h->minor = ri.minor;
			if (ri.props && !rt_prop_get(ri.props, "path", h->path,
			    sizeof(h->path)))
				rt_strlcpy(h->path, colon ? colon + 1 : h->res,
				    sizeof(h->path));
			return;
		}
	}
}

static int
info_read(struct hci *h)
{
	int r;

	h->info = (struct usb_hci_info){ .size = sizeof(h->info) };
	r = PB_CALL(h->conn, usb_hci_ops, info, &h->info);
	if (r != PB_OK)
		bus_log(PB_LOG_ERR, "%s: info: %s", h->res, status_name(r));
	else if (!h->info.dma_limit)
		h->info.dma_limit = ~0ull;
	return r;
}

/* Ask for the next event: rescan asks for every connected port; force
 * asks even while the other request is out (the old controller's). */
void
hci_ask(struct hci *h, int rescan, int force)
{
	struct usb_req *e;
	unsigned i;
	int r;

	if (!h->conn || ((h->ev_busy[0] || h->ev_busy[1]) && !force))
		return;
	rescan |= h->ev_retry > 1;	/* a rescan still owed */
	i = h->ev_busy[0] ? 1 : 0;
	if (h->ev_busy[i])
		return;
	e = &h->ev[i];
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->op = USB_OP_WAIT_EVENT;
	e->ep = rescan ? 1 : 0;
	e->client_data = h;
	bus_hub->work_init(bus_self, &e->done, ev_done, e);
	h->ev_busy[i] = 1;
	h->ev_retry = 0;
	if ((r = hci_submit(h, e)) == PB_OK)
		return;
	h->ev_busy[i] = 0;
	h->ev_retry = 1 + (rescan ? 1 : 0);
	if (!h->ev_err_logged++)
		bus_log(PB_LOG_ERR, "%s: WAIT_EVENT: %s; asking again",
		    h->res, status_name(r));
	tick_arm();
}

static void
on_connect(struct hci *h, uint8_t port, uint8_t speed)
{
	struct udev *d = dev_at(h, NULL, port);

	if (port == 0 || (h->info.nports && port > h->info.nports) ||
	    speed < USB_SPEED_LOW || speed > USB_SPEED_SUPER_PLUS) {
		bus_log(PB_LOG_ERR, "%s: CONNECT of port %u at speed %u "
		    "ignored", h->res, port, speed);
		return;
	}
	if (d && d->state == D_LOST) {
		enum_start(d, 1, speed);
		return;
	}
	if (d && d->state == D_ENUM) {
		/* Told twice (a controller that reports its ports when it
		 * starts and again when asked): the enumeration goes on; if
		 * the port was reset under it, its step fails and it is
		 * tried again from ADD. */
		bus_log(PB_LOG_WARN, "%s: CONNECT again while being "
		    "enumerated: ignored", d->name);
		return;
	}
	if (d)
		dev_remove(d, "(another device connected there)");
	if (!(d = dev_new(h, NULL, port, speed))) {
		bus_log(PB_LOG_ERR, "%u-%u: no room for another device", h->num,
		    port);
		return;
	}
	enum_start(d, 0, speed);
}

/* One event; 1 when every port must be asked for again. */
static int
on_event(struct hci *h, const struct usb_req *r)
{
	struct udev *d;

	switch (r->u.event.kind) {
	case USB_EVENT_CONNECT:
		on_connect(h, r->u.event.port, r->u.event.speed);
		break;
	case USB_EVENT_DISCONNECT:
		if ((d = dev_at(h, NULL, r->u.event.port)))
			dev_remove(d, NULL);
		break;
	case USB_EVENT_LOST:
		if ((d = dev_by_num(h, r->u.event.dev)))
			dev_remove(d, "(it stopped answering)");
		break;
	case USB_EVENT_OVERFLOW:
		bus_log(PB_LOG_WARN, "%s: events were lost: asking for every "
		    "port", h->res);
		return 1;
	default:
		bus_log(PB_LOG_ERR, "%s: unknown event %u", h->res,
		    r->u.event.kind);
	}
	return 0;
}

static void
ev_done(void *arg)
{
	struct usb_req *r = arg;
	struct hci *h = r->client_data;
	unsigned i = r == &h->ev[1];

	h->ev_busy[i] = 0;
	if (!h->used || !h->conn)
		return;
	if (r->status != PB_OK) {
		if (h->ev_busy[i ^ 1])
			return;		/* the other one stands */
		if (!h->ev_err_logged++)
			bus_log(PB_LOG_ERR, "%s: WAIT_EVENT: %s; asking again",
			    h->res, status_name(r->status));
		h->ev_retry = r->ep ? 2 : 1;
		tick_arm();
		return;
	}
	h->ev_err_logged = 0;
	/* This one is asked again whatever the other does: the other may be
	 * an old controller's, lost with it (a restart without its state). */
	hci_ask(h, on_event(h, r), 1);
}

/* Retries of WAIT_EVENT, at the tick. */
void
hci_tick(void)
{
	for (unsigned i = 0; i < BUS_HCIS; i++) {
		struct hci *h = &bus_hcis[i];

		if (h->used && h->ev_retry)
			hci_ask(h, h->ev_retry > 1, 0);
	}
}

/* --- controllers coming and going ---------------------------------------- */

void
hci_connected(struct pb_conn *c, int by_hand)
{
	struct hci *h = NULL;

	if (!c || hci_of(c))
		return;
	for (unsigned i = 0; i < BUS_HCIS && !h; i++)
		if (!bus_hcis[i].used)
			h = &bus_hcis[i];
	if (!h) {
		bus_log(PB_LOG_ERR, "%s: more than %u controllers: not driven",
		    c->res, BUS_HCIS);
		if (by_hand)
			bus_hub->disconnect(bus_self, c);
		return;
	}
	memset(h, 0, sizeof(*h));
	h->used = 1;
	h->num = (unsigned)(h - bus_hcis) + 1;
	h->conn = c;
	h->by_hand = by_hand;
	rt_strlcpy(h->res, c->res ? c->res : "usb-hci:?", sizeof(h->res));
	path_of(h);
	if (info_read(h) != PB_OK) {
		if (by_hand)
			bus_hub->disconnect(bus_self, c);
		memset(h, 0, sizeof(*h));
		return;
	}
	bus_log(PB_LOG_INFO, "%s (%s): bus %u, %u ports", h->res, h->path,
	    h->num, h->info.nports);
	hci_ask(h, 1, 0);
}

/* A controller appeared after the bus started: connect to it by hand. */
void
hci_offered(const char *resname)
{
	struct pb_conn *c;

	if (hci_named(resname))
		return;
	/* Any 1.x: what came later (1.1's forget, 1.2's port reset) is
	 * asked of h->minor when used. */
	c = bus_hub->connect(bus_self, USB_HCI_IFACE, USB_HCI_MAJOR, 0,
	    resname);
	if (!c) {
		bus_log(PB_LOG_ERR, "%s: cannot connect", resname);
		return;
	}
	hci_connected(c, 1);
}

/* The controllers published before the bus started (the bind gave one). */
void
hci_scan(void)
{
	struct pb_res_info ri;
	char name[BUS_RES_MAX];

	for (unsigned i = 0; ; i++) {
		ri = (struct pb_res_info){ .struct_size = sizeof(ri) };
		if (bus_hub->res_info_sized(NULL, i, &ri) != PB_OK)
			return;
		if (!ri.iface || !ri.name ||
		    strcmp(ri.iface, USB_HCI_IFACE) != 0 || ri.clients)
			continue;
		rt_strlcpy(name, ri.name, sizeof(name));
		hci_offered(name);
	}
}

/* Forget h: its devices go with it (no completion will come). */
static void
hci_drop(struct hci *h, const char *why)
{
	h->conn = NULL;		/* nothing more is sent to it */
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->hci == h && !d->parent)
			dev_remove(d, why);
	}
	for (unsigned i = 0; i < BUS_DEVS; i++)
		if (bus_devs[i] && bus_devs[i]->hci == h)
			dev_free_now(bus_devs[i]);
	for (unsigned i = 0; i < 2; i++)
		if (h->ev_busy[i] || h->ev[i].done.fn)
			bus_hub->work_cancel(bus_self, &h->ev[i].done);
	memset(h, 0, sizeof(*h));
}

void
hci_gone(struct pb_conn *c)
{
	struct hci *h = hci_of(c);

	if (!h)
		return;
	bus_log(PB_LOG_INFO, "%s: controller gone", h->res);
	hci_drop(h, "(its controller went)");
}

/* The new controller did not take over what the old one held
 * (USB_HCI_FRESH): no completion will come for it, the class drivers'
 * requests included.  Its devices go, as unplugged (their drivers let
 * go), and are found afresh on its ports. */
static void
hci_fresh(struct hci *h)
{
	bus_log(PB_LOG_WARN, "%s: the controller restarted without the "
	    "requests it held: its devices are found afresh", h->res);
	/* It has no slot of theirs to free: no REMOVE, whose request (in
	 * the device's record, freed below) it would write into later. */
	for (unsigned i = 0; i < BUS_DEVS; i++)
		if (bus_devs[i] && bus_devs[i]->hci == h)
			bus_devs[i]->removed = 1;
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->hci == h && !d->parent)
			dev_remove(d, "(its controller restarted without its "
			    "requests)");
	}
	for (unsigned i = 0; i < BUS_DEVS; i++)
		if (bus_devs[i] && bus_devs[i]->hci == h)
			dev_free_now(bus_devs[i]);
	for (unsigned i = 0; i < 2; i++)
		h->ev_busy[i] = 0;	/* the old controller's: lost */
	hci_ask(h, 1, 0);
}

void
hci_rebound(struct pb_conn *c)
{
	struct hci *h = hci_of(c);

	if (!h)
		return;
	if (c->res)
		rt_strlcpy(h->res, c->res, sizeof(h->res));
	path_of(h);		/* and its minor: the new one may be older */
	if (info_read(h) != PB_OK)
		bus_log(PB_LOG_WARN, "%s: keeping the old controller's limits",
		    h->res);
	else if (h->info.flags & USB_HCI_FRESH) {
		hci_fresh(h);
		return;
	}
	swap_rebound(h);
}

/* The bus stops: the hub takes everything back. */
void
hci_forget_all(void)
{
	for (unsigned i = 0; i < BUS_HCIS; i++) {
		struct hci *h = &bus_hcis[i];

		if (!h->used)
			continue;
		for (unsigned k = 0; k < BUS_DEVS; k++) {
			struct udev *d = bus_devs[k];

			if (d && d->hci == h) {
				held_fail_all(d, PB_ECANCELED);
				d->state = D_GONE;
				dev_free_now(d);
			}
		}
		for (unsigned k = 0; k < 2; k++)
			if (h->ev[k].done.fn)
				bus_hub->work_cancel(bus_self, &h->ev[k].done);
		memset(h, 0, sizeof(*h));
	}
}
