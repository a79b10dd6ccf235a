/*
 * aux.c - class drivers' requests that take a step of the bus first, one
 * at a time per device through its `aux` request, and a hub driver's
 * ports.
 *
 *   CLEAR_HALT    CLEAR_FEATURE(ENDPOINT_HALT) to the device (USB 2.0
 *                 §9.4.1), then the driver's own request goes to the
 *                 controller (its Reset Endpoint and Set TR Dequeue
 *                 Pointer): it completes when both have.  On the default
 *                 pipe only the controller's step (a control endpoint's
 *                 stall ends with the next SETUP, §8.5.3.4).
 *   HUB_CONFIG    USB_OP_HUB to the controller; kept, so it is told
 *                 again after a swap.
 *   PORT_ON       a new device on the hub's port, enumerated (enum.c);
 *                 the request completes when that has ended.  After a
 *                 swap, the device that was there is found again.
 *   PORT_OFF      the device on the port and everything below it go.
 *                 During a swap a device waiting to be found again
 *                 stays (the hub driver sees its port come back
 *                 powered and may say PORT_OFF before PORT_ON).
 */
#include "bus.h"

void
aux_enqueue(struct udev *d, struct usb_req *r)
{
	bscr(r)->next = NULL;
	if (d->auxq_tail)
		bscr(d->auxq_tail)->next = r;
	else
		d->auxq_head = r;
	d->auxq_tail = r;
	aux_pump(d);
}

static struct usb_req *
auxq_pop(struct udev *d)
{
	struct usb_req *r = d->auxq_head;

	if (r && !(d->auxq_head = bscr(r)->next))
		d->auxq_tail = NULL;
	return r;
}

/* The driver's own CLEAR_HALT goes to the controller. */
static void
halt_at_hci(struct udev *d, struct usb_req *o)
{
	int e;

	o->dev = d->num;
	if ((e = hci_submit(d->hci, o)) != PB_OK)
		req_complete(o, e);
}

/* Start the next waiting request's step; 0 when none was started. */
static int
aux_start(struct udev *d, struct usb_req *o)
{
	struct usb_req *a = &d->aux;

	if (o->op == USB_OP_CLEAR_HALT && o->ep == 0) {
		halt_at_hci(d, o);
		return 0;
	}
	req_init(d, a, aux_done);
	if (o->op == USB_OP_CLEAR_HALT) {
		a->op = USB_OP_XFER;
		a->u.setup = (struct usb_setup){ USB_TYPE_STANDARD |
		    USB_RECIP_ENDPOINT, USB_REQ_CLEAR_FEATURE,
		    USB_FEATURE_ENDPOINT_HALT, o->ep, 0 };
	} else {
		a->op = USB_OP_HUB;
		a->u.hub.nports = o->u.hub.nports;
		a->u.hub.mtt = o->u.hub.mtt;
		a->u.hub.ttt = o->u.hub.ttt;
	}
	d->aux_outer = o;
	d->aux_busy = 1;
	return 1;
}

void
aux_pump(struct udev *d)
{
	struct usb_req *o;
	int e;

	while (!d->aux_busy && d->state == D_READY && (o = auxq_pop(d))) {
		if (!aux_start(d, o))
			continue;
		if ((e = hci_submit(d->hci, &d->aux)) == PB_OK)
			return;
		d->aux_busy = 0;
		d->aux_outer = NULL;
		req_complete(o, e);
	}
}

void
aux_done(void *arg)
{
	struct usb_req *a = arg;
	struct udev *d = a->client_data;
	struct usb_req *o = d->aux_outer;

	d->aux_busy = 0;
	d->aux_outer = NULL;
	if (d->state == D_GONE) {
		dev_maybe_free(d);
		return;
	}
	if (o && a->op == USB_OP_XFER) {
		if (a->status == PB_OK)
			halt_at_hci(d, o);
		else
			req_complete(o, a->status);
	} else if (o) {
		if (a->status == PB_OK) {
			d->hub.set = 1;
			d->hub.nports = a->u.hub.nports;
			d->hub.mtt = a->u.hub.mtt;
			d->hub.ttt = a->u.hub.ttt;
		}
		req_complete(o, a->status);
	}
	aux_pump(d);
}

/* Let go of f's requests waiting for the aux step (all of them: f NULL):
 * completed with status, or dropped without a word (status 0: their
 * driver has gone). */
void
aux_forget(struct udev *d, struct uif *f, int status)
{
	struct usb_req *r = d->auxq_head, *keep = NULL, *tail = NULL;

	d->auxq_head = d->auxq_tail = NULL;
	while (r) {
		struct usb_req *next = bscr(r)->next;

		if (!f || bscr(r)->f == f) {
			if (status)
				req_complete(r, status);
		} else {
			bscr(r)->next = NULL;
			if (tail)
				bscr(tail)->next = r;
			else
				keep = r;
			tail = r;
		}
		r = next;
	}
	d->auxq_head = keep;
	d->auxq_tail = tail;
	if (d->aux_outer && (!f || bscr(d->aux_outer)->f == f)) {
		if (status)
			req_complete(d->aux_outer, status);
		d->aux_outer = NULL;
	}
}

/* --- a hub driver's ports ------------------------------------------------- */

void
port_on(struct uif *f, struct usb_req *r)
{
	struct udev *hubd = f->dev, *d;
	uint8_t port = r->u.port.port, speed = r->u.port.speed;

	if (!hubd->hub.set || port > hubd->hub.nports) {
		bus_log(PB_LOG_ERR, "usb:%s: PORT_ON of port %u refused (%s)",
		    f->name, port, hubd->hub.set ? "no such port" :
		    "no HUB_CONFIG yet");
		req_complete(r, PB_EINVAL);
		return;
	}
	d = dev_at(hubd->hci, hubd, port);
	if (d && d->state == D_LOST) {
		if (d->port_on)
			req_complete(d->port_on, PB_ECANCELED);
		d->port_on = r;
		enum_start(d, 1, speed);
		return;
	}
	if (d)
		dev_remove(d, "(its hub port was reset)");
	if (!(d = dev_new(hubd->hci, hubd, port, speed))) {
		bus_log(PB_LOG_ERR, "%s.%u: %s", hubd->name, port,
		    hubd->depth + 1 >= BUS_TIERS ? "too many hubs deep" :
		    "no room for another device");
		req_complete(r, hubd->depth + 1 >= BUS_TIERS ? PB_EINVAL :
		    PB_ENOMEM);
		return;
	}
	d->port_on = r;
	enum_start(d, 0, speed);
}

void
port_off(struct uif *f, struct usb_req *r)
{
	struct udev *d = dev_at(f->dev->hci, f->dev, r->u.port.port);

	if (d && d->state != D_LOST)
		dev_remove(d, NULL);
	req_complete(r, PB_OK);
}
