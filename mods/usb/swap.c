/*
 * swap.c - a controller swapped under the bus (PB_EV_REBOUND on its
 * `usb-hci` connection; abi/usb.h "Swaps").
 *
 * The new controller has reset everything and holds the requests the
 * old one had not completed.  Every configured device of it is marked
 * lost and keeps its number, its interfaces and its class drivers; what
 * they submit meanwhile waits in the bus (fwd.c).  The bus asks the new
 * controller for every connected port (WAIT_EVENT, ep = 1); a root port
 * that connects finds its device again by port (hci.c), a hub's
 * PORT_ON finds its child (aux.c).  enum.c runs it again under the old
 * number: the same vid:pid (and serial) or it is another device (the old
 * one unplugged, the new one enumerated afresh), the same endpoints,
 * SET_CONFIGURATION, the hub's slot fields, the replay list, then
 * USB_OP_RESUME, and what waited in the bus goes.  A device not found
 * within BUS_SWAP_NS (2 s; a hub's children from when their hub is back)
 * is removed: the controller cancels what it held (USB_OP_REMOVE).  A
 * device that was still being enumerated is removed and found afresh.
 *
 * The replay list: per device, the last host-to-device control request
 * class drivers marked USB_REQ_REPLAY for each (bmRequestType, bRequest,
 * wValue, wIndex), with its data (at most 8 bytes), in the order first
 * sent: SET_PROTOCOL, SET_IDLE, the keyboard LEDs, a hub's port power.
 *
 * A controller driver that faults inside a submit (the call answers
 * PB_EFAULT) is restarted by the hub from its image, with its state, and
 * the bus is told PB_EV_REBOUND as after a swap: the request waits in
 * the bus meanwhile, as one submitted during a swap does, instead of
 * failing (a keyboard's driver would stop reading it for good).  If no
 * PB_EV_REBOUND comes within BUS_SWAP_NS (the driver left stopped, or a
 * PB_EFAULT that was no fault), what waits fails PB_EIO and its class
 * drivers' own retries take over.
 */
#include "bus.h"

void
swap_rebound(struct hci *h)
{
	uint64_t now = bus_hub->now_ns();
	unsigned n = 0;

	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->hci == h && d->state == D_ENUM)
			dev_remove(d, "(a controller swap came)");
	}
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (!d || d->hci != h ||
		    (d->state != D_READY && d->state != D_LOST))
			continue;
		d->state = D_LOST;
		d->deadline = d->parent ? 0 : now + BUS_SWAP_NS;
		d->fault_until = 0;
		n++;
	}
	bus_log(PB_LOG_INFO, "%s: controller swapped: finding %u device%s "
	    "again", h->res, n, n == 1 ? "" : "s");
	hci_ask(h, 1, 1);
	tick_arm();
}

/* d is configured again: what waited for it goes. */
void
swap_back(struct udev *d)
{
	uint64_t deadline = bus_hub->now_ns() + BUS_SWAP_NS;

	d->state = D_READY;
	d->again = 0;
	d->fault_until = 0;
	d->resets++;
	bus_log(PB_LOG_INFO, "%s: back after %s", d->name,
	    d->resetting ? "its reset" : "the controller swap");
	reset_end(d, PB_OK);
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *c = bus_devs[i];

		if (c && c->parent == d && c->state == D_LOST)
			c->deadline = deadline;
	}
	held_release(d);
	aux_pump(d);
}

/* Another device is where d was: d's drivers let go, and d is
 * enumerated afresh under its number (RESUME at the end still). */
void
swap_replaced(struct udev *d, const char *why)
{
	for (unsigned i = 0; i < BUS_DEVS; i++)
		if (bus_devs[i] && bus_devs[i]->parent == d)
			dev_remove(bus_devs[i], "(its hub went)");
	if_withdraw_all(d);
	held_fail_all(d, PB_ECANCELED);
	reset_end(d, PB_ENODEV);
	reset_wait_end(d, NULL, PB_ECANCELED);
	hci_cancel(d->hci, d->num, 0xff);
	bus_log(PB_LOG_INFO, "%s: unplugged %s", d->name, why);
	d->announced = 0;
	dev_forget_config(d);
	d->again = 0;
	d->need_resume = 1;
}

/* r's controller faulted in its submit: r waits for the restart. */
void
swap_fault_hold(struct udev *d, struct usb_req *r)
{
	if (!d->fault_until)
		bus_log(PB_LOG_WARN, "%s: its controller faulted: requests "
		    "wait for its restart", d->name);
	d->fault_until = bus_hub->now_ns() + BUS_SWAP_NS;
	held_add(d, r);
	tick_arm();
}

/* What waited for a restart that did not come fails. */
static void
fault_wait_over(struct udev *d)
{
	struct usb_req *r = d->held_head;

	d->fault_until = 0;
	d->held_head = d->held_tail = NULL;
	bus_log(PB_LOG_ERR, "%s: its controller was not restarted within "
	    "2 s: the requests that waited fail", d->name);
	while (r) {
		struct usb_req *next = bscr(r)->next;

		req_complete(r, PB_EIO);
		r = next;
	}
}

/* Devices not found again in time go. */
void
swap_tick(uint64_t now)
{
	for (unsigned i = 0; i < BUS_DEVS; i++) {
		struct udev *d = bus_devs[i];

		if (d && d->state == D_LOST && d->deadline &&
		    now >= d->deadline)
			dev_remove(d, d->resetting ?
			    "(not back 2 s after its reset)" :
			    "(not back 2 s after the controller swap)");
		else if (d && d->state == D_READY && d->fault_until &&
		    now >= d->fault_until)
			fault_wait_over(d);
	}
}

/* Copy up to n bytes of r's data (its segments' CPU side). */
static void
data_copy(uint8_t *out, const struct usb_req *r, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->nseg && k < n; i++) {
		unsigned m = r->segs[i].len < n - k ? r->segs[i].len : n - k;

		memcpy(out + k, r->segs[i].va, m);
		k += m;
	}
}

int
replay_note(struct udev *d, const struct usb_req *r)
{
	const struct usb_setup *s = &r->u.setup;
	struct replay *p = NULL;

	for (unsigned i = 0; i < d->nrp && !p; i++) {
		const struct usb_setup *k = &d->rp[i].setup;

		if (k->bmRequestType == s->bmRequestType &&
		    k->bRequest == s->bRequest && k->wValue == s->wValue &&
		    k->wIndex == s->wIndex)
			p = &d->rp[i];
	}
	if (!p && d->nrp == BUS_REPLAY) {
		bus_log(PB_LOG_WARN, "%s: more than %u requests to replay: "
		    "%02x/%02x is not kept", d->name, BUS_REPLAY,
		    s->bmRequestType, s->bRequest);
		return PB_ENOSPC;
	}
	if (!p)
		p = &d->rp[d->nrp++];
	memset(p, 0, sizeof(*p));
	p->setup = *s;
	data_copy(p->data, r, s->wLength);
	return PB_OK;
}
