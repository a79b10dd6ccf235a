/*
 * reset.c - the bus asks for one of our ports to be reset (abi/usb.h
 * USB_OP_HUB_RESET_WAIT): a device behind the hub is being reset for its
 * own driver (USB_OP_RESET_DEVICE).  Each hub that runs keeps the
 * standing request with the bus; its completion names the port, which is
 * reset as one whose device stopped working is (port.c: the reset token,
 * then PORT_ON again without PORT_OFF, which the bus matches to the
 * device it keeps), and the request goes again.  A bus that does not
 * know the request (usb 1.0) refuses it: it is not asked again.  Quiesce
 * cancels it alone (swap.c).
 */
#include "usbhub.h"

/* The standing request, if h runs and has none out. */
void
rwait_arm(struct uhub *h)
{
	struct usb_req *r = &h->rwait;

	if (!hub_alive(h) || h->rwait_busy || h->rwait_refused ||
	    h->setup != SETUP_RUNNING)
		return;
	req_reset(r);
	r->size = sizeof(*r);
	r->op = USB_OP_HUB_RESET_WAIT;
	h->rwait_busy = 1;
	if (PB_CALL(h->conn, usb_ops, submit, r) != PB_OK) {
		h->rwait_busy = 0;
		h->rwait_refused = 1;		/* a usb 1.0 bus */
	}
}

void
rwait_done(void *arg)
{
	struct uhub *h = arg;
	unsigned port = h->rwait.u.port.port;

	h->rwait_busy = 0;
	if (h->gone) {
		hub_free_if_idle(h);
		return;
	}
	if (h->rwait.status != PB_OK || !hub_alive(h))
		return;		/* cancelled: a swap, or the hub went */
	if (port >= 1 && port <= h->desc.nports)
		port_reset_for_bus(&h->port[port]);
	else
		hub_log(h, PB_LOG_ERR, "the bus asked a reset of port %u, "
		    "which the hub does not have", port);
	rwait_arm(h);
	hub_pump(h);
	hub_timer_update(h);
}

/* Quiesce: the standing request comes back (its completion says when). */
void
rwait_cancel(struct uhub *h)
{
	if (h->rwait_busy && h->conn && !h->rwait_cancelled) {
		h->rwait_cancelled = 1;
		PB_CALL(h->conn, usb_ops, cancel, USB_EP_HUB_RESET_WAIT);
	}
}
