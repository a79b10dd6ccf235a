/*
 * reset.c - a class driver's USB_OP_RESET_DEVICE (abi/usb.h): the device
 * is reset and set up again under its number, as after a controller swap.
 *
 * A stick that no longer answers even its class's reset (BOT reset
 * recovery) may answer after a port reset, which takes it back to its
 * Default state (USB 2.0 §9.1.1, §11.5.1.5; HARDWARE.md).  The bus:
 *   1. marks the device lost (swap.c's D_LOST): what its class drivers
 *      submit meanwhile waits in the bus, and the deadline of a lost
 *      device (BUS_SWAP_NS) removes it if it is not back in time;
 *   2. cancels what the device has at the controller (PB_ECANCELED to
 *      its class drivers) and frees its slot (USB_OP_REMOVE);
 *   3. asks the controller to reset its root port (usb-hci 1.2
 *      USB_OP_PORT_RESET), or behind a hub its hub's driver, by
 *      completing the driver's standing USB_OP_HUB_RESET_WAIT with the
 *      port;
 *   4. the port comes back as USB_EVENT_CONNECT (the hub's driver: as
 *      USB_OP_PORT_ON), which finds the device lost (hci.c, aux.c):
 *      enum.c sets it up again, checks it is the same device, enables
 *      the same endpoints, replays, and swap_back ends the reset: the
 *      request completes PB_OK.
 * A step that fails removes the device: the request completes
 * PB_ENODEV.  Behind a hub whose driver keeps no HUB_RESET_WAIT (an
 * older usb-hub) the reset is refused.
 */
#include "bus.h"

static void reset_port_done(void *arg);

/* The reset of d ends: its request completes with status. */
void
reset_end(struct udev *d, int status)
{
	struct usb_req *r = d->reset_req;

	d->resetting = 0;
	d->reset_req = NULL;
	if (r)
		req_complete(r, status);
}

/* A step failed: the device goes (dev_remove ends the reset). */
static void
reset_failed(struct udev *d, const char *step, int status)
{
	char why[64];

	rt_snprintf(why, sizeof(why), "(its reset failed: %s: %s)", step,
	    status_name(status));
	dev_remove(d, why);
}

int
reset_start(struct uif *f, struct usb_req *r)
{
	struct udev *d = f->dev;

	if (d->parent && !d->parent->reset_wait) {
		bus_log(PB_LOG_ERR, "usb:%s: a reset refused: its hub's driver "
		    "takes no port resets from the bus", f->name);
		return PB_ENOTSUP;
	}
	if (!d->parent && d->hci->minor < 2) {
		bus_log(PB_LOG_ERR, "usb:%s: a reset refused: %s is usb-hci "
		    "1.%u (port resets came in 1.2)", f->name, d->hci->res,
		    d->hci->minor);
		return PB_ENOTSUP;
	}
	if (d->state != D_READY || d->resetting || d->rm_busy)
		return PB_EBUSY;
	bus_log(PB_LOG_WARN, "%s: reset at its driver's request", d->name);
	d->resetting = 1;
	d->reset_req = r;
	d->state = D_LOST;
	d->deadline = bus_hub->now_ns() + BUS_SWAP_NS;
	d->fault_until = 0;
	tick_arm();
	hci_cancel(d->hci, d->num, 0xff);
	if (dev_unaddress(d) != PB_OK)
		reset_failed(d, "REMOVE", PB_ENODEV);
	return PB_OK;
}

/* The slot is free (enum_rm_done): the port next, the hub driver's or
 * the controller's. */
void
reset_port(struct udev *d)
{
	struct usb_req *w = d->parent ? d->parent->reset_wait : NULL;
	int e;

	if (d->parent) {
		if (!w) {
			reset_failed(d, "its hub's port reset", PB_ENOTSUP);
			return;
		}
		d->parent->reset_wait = NULL;
		w->u.port.port = d->port;
		req_complete(w, PB_OK);
		return;
	}
	req_init(d, &d->rm, reset_port_done);
	d->rm.op = USB_OP_PORT_RESET;
	d->rm.u.port.port = d->port;
	d->rm_busy = 1;
	if ((e = hci_submit(d->hci, &d->rm)) == PB_OK)
		return;
	d->rm_busy = 0;
	reset_failed(d, "PORT_RESET", e);
}

/* The port is being reset: its CONNECT follows (hci.c), or the
 * deadline of a lost device. */
static void
reset_port_done(void *arg)
{
	struct usb_req *r = arg;
	struct udev *d = r->client_data;

	d->rm_busy = 0;
	if (d->state == D_GONE) {
		dev_maybe_free(d);
		return;
	}
	if (r->status != PB_OK && d->resetting)
		reset_failed(d, "PORT_RESET", r->status);
}

/* A hub's driver hands the bus its standing USB_OP_HUB_RESET_WAIT. */
int
reset_wait_take(struct uif *f, struct usb_req *r)
{
	struct udev *d = f->dev;

	if (f->d.cls != USB_CLASS_HUB) {
		bus_log(PB_LOG_ERR, "usb:%s: HUB_RESET_WAIT of an interface "
		    "that is not a hub refused", f->name);
		return PB_EINVAL;
	}
	if (d->reset_wait)
		return PB_EBUSY;
	d->reset_wait = r;
	return PB_OK;
}

/* d's HUB_RESET_WAIT ends without a port (the hub went, a cancel), or
 * is dropped unanswered (status 0: its driver went).  f NULL: whoever's. */
void
reset_wait_end(struct udev *d, const struct uif *f, int status)
{
	struct usb_req *w = d->reset_wait;

	if (!w || (f && bscr(w)->f != f))
		return;
	d->reset_wait = NULL;
	if (status)
		req_complete(w, status);
}
