/*
 * status.c - the hub's status change endpoint (USB 2.0 §11.12.4, USB 3.2
 * §10.14.2.5): one standing interrupt-IN request for the bitmap (bit 0
 * the hub, bit N port N; (nports + 1) bits rounded up to bytes), armed
 * again at each completion.  Each bit set has its port's status read
 * (port.c); bit 0 the hub's.
 *
 * A STALL is cleared (USB_OP_CLEAR_HALT) and the request sent again, and
 * since changes may have been missed meanwhile every port is read; a
 * second STALL in a row gives up, as do UH_INTR_ERRORS other errors in a
 * row (each retried after UH_INTR_RETRY_NS), with one line: the hub's
 * ports then change unseen.  PB_ECANCELED (quiesce, or the device went)
 * or PB_ENODEV stop it quietly.
 */
#include "usbhub.h"

void
intr_arm(struct uhub *h)
{
	struct usb_req *r = &h->intr;

	if (!hub_alive(h) || h->intr_busy || h->halt_busy || h->intr_stopped ||
	    h->setup != SETUP_RUNNING)
		return;
	req_reset(r);
	r->op = USB_OP_XFER;
	r->ep = h->ep.addr;
	r->length = h->intr_len;
	h->intr_seg = (struct usb_seg){ .va = h->buf + UH_CTL_BUF,
	    .bus = h->buf_bus + UH_CTL_BUF, .len = h->intr_len };
	r->segs = &h->intr_seg;
	r->nseg = 1;
	h->intr_busy = 1;
	if (hub_submit(h, r, "the status change request") != PB_OK) {
		h->intr_busy = 0;
		h->intr_stopped = 1;
	}
}

/* Every port (and the hub) read again: changes may have gone unseen. */
void
hub_read_all(struct uhub *h)
{
	h->want |= WANT_HUB_STATUS;
	for (unsigned i = 1; i <= h->desc.nports; i++)
		h->port[i].want |= WANT_STATUS;
}

static void
take_bitmap(struct uhub *h, const uint8_t *map, uint32_t len)
{
	if (len > h->intr_len)
		len = h->intr_len;
	if (len && (map[0] & 1))
		h->want |= WANT_HUB_STATUS;
	for (unsigned i = 1; i <= h->desc.nports; i++)
		if (i / 8 < len && (map[i / 8] >> (i % 8) & 1))
			h->port[i].want |= WANT_STATUS;
}

static void
intr_give_up(struct uhub *h, const char *what, int status)
{
	hub_log(h, PB_LOG_ERR, "the status change endpoint %s (error %d); "
	    "port changes are no longer seen", what, status);
	h->intr_stopped = 1;
}

static void
clear_halt(struct uhub *h)
{
	struct usb_req *r = &h->halt;

	req_reset(r);
	r->op = USB_OP_CLEAR_HALT;
	r->ep = h->ep.addr;
	h->halt_busy = 1;
	if (hub_submit(h, r, "CLEAR_HALT of the status change endpoint") !=
	    PB_OK) {
		h->halt_busy = 0;
		h->intr_stopped = 1;
	}
}

void
intr_done(void *arg)
{
	struct uhub *h = arg;
	int st = h->intr.status;

	h->intr_busy = 0;
	if (h->gone) {
		hub_free_if_idle(h);
		return;
	}
	if (!hub_alive(h))
		return;		/* quiesced: the ports are read again after */
	switch (st) {
	case PB_OK:
		h->intr_stalls = h->intr_errors = 0;
		take_bitmap(h, h->buf + UH_CTL_BUF, h->intr.actual);
		intr_arm(h);
		break;
	case USB_ESTALL:
		if (h->intr_stalls++)
			intr_give_up(h, "stalls again after CLEAR_HALT", st);
		else
			clear_halt(h);
		break;
	case PB_ECANCELED:
	case PB_ENODEV:
		h->intr_stopped = 1;	/* the device went */
		break;
	default:
		if (++h->intr_errors >= UH_INTR_ERRORS)
			intr_give_up(h, "keeps failing", st);
		else
			h->intr_due = uh.hub->now_ns() + UH_INTR_RETRY_NS;
		break;
	}
	hub_pump(h);
	hub_timer_update(h);
}

void
halt_done(void *arg)
{
	struct uhub *h = arg;
	int st = h->halt.status;

	h->halt_busy = 0;
	if (h->gone) {
		hub_free_if_idle(h);
		return;
	}
	if (!hub_alive(h))
		return;
	if (st != PB_OK) {
		intr_give_up(h, "cannot be cleared", st);
		return;
	}
	hub_read_all(h);
	intr_arm(h);
	hub_pump(h);
	hub_timer_update(h);
}

/* GET_STATUS(hub): clear what changed; an over-current is one line. */
void
hub_status_in(struct uhub *h, uint16_t status, uint16_t change)
{
	change &= HUB_CHG_LOCAL_POWER | HUB_CHG_OVER_CURRENT;
	h->hub_clear |= change;
	if ((change & HUB_CHG_OVER_CURRENT) && (status & HUB_STAT_OVER_CURRENT))
		hub_log(h, PB_LOG_WARN, "over-current on the hub (wHubStatus "
		    "0x%04x)", status);
}
