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
 *      USB_OP_PORT_RESET);
 *   4. the port comes back as USB_EVENT_CONNECT, which finds the device
 *      lost (hci.c): enum.c sets it up again, checks it is the same
 *      device, enables the same endpoints, replays, and swap_back ends
 *      the reset: the request completes PB_OK.
 * A step that fails removes the device: the request completes
 * PB_ENODEV.  A device behind a hub is refused (its port is the hub
 * driver's to reset, which `usb` does not ask of it yet).
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

	if (d->parent) {
		bus_log(PB_LOG_ERR, "usb:%s: a reset of a device behind a hub "
		    "refused (the hub's driver owns its port)", f->name);
		return PB_ENOTSUP;
	}
	if (d->hci->minor < 2) {
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

/* The slot is free (enum_rm_done): the port next. */
void
reset_port(struct udev *d)
{
	int e;

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
