/*
 * req.c - `usb-hci` 1.0 (abi/usb.h): info, submit, cancel, and the one
 * way a request leaves the driver (rq_complete: status and actual set,
 * the client's `done` posted; never the client called from here).
 * Until the post is made the request is noted in a->posting: a fault in
 * between (this driver's, or its memory written over) would otherwise
 * lose it, in no list and never completed, and the driver restarted from
 * its image would not know it.  The faulted instance's export lists it,
 * and the next instance posts its completion (state.c, take).
 *
 * submit checks what the request says and answers an error without
 * keeping it, or PB_OK and keeps it until it completes, once:
 *   XFER        a TD (xfer.c)
 *   WAIT_EVENT  the bus's standing request for root port events (port.c)
 *   RESUME      a device set up again after a swap: its held requests
 *               run (state.c); completes at once
 *   ADD ... CLEAR_HALT  an op of the command queue (dev.c)
 * Requests are accepted while the controller is still being brought up
 * (they wait), refused PB_EIO once it is given up.
 */
#include "xhci.h"

void
rq_complete(struct xhci *a, struct usb_req *r, int status, uint32_t actual)
{
	struct xrq *q = rq_of(r);

	/* A request handed to the next driver is not ours to complete. */
	if (q->owner != a)
		return;
	q->where = RQ_NONE;
	q->next = NULL;
	q->deadline = 0;
	if (q->gone || (a->bus_going && r->done.owner == a->bus_mod))
		return;		/* its client went: nobody to tell */
	q->where = RQ_POSTING;
	a->posting = r;
	r->status = status;
	r->actual = actual;
	a->hub->work_post(a->self, &r->done);
	a->posting = NULL;
	q->where = RQ_NONE;
}

void
rq_list_add(struct usb_req **head, struct usb_req **tail, struct usb_req *r)
{
	rq_of(r)->next = NULL;
	if (*tail)
		rq_of(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

struct usb_req *
rq_list_pop(struct usb_req **head, struct usb_req **tail)
{
	struct usb_req *r = *head;

	if (!r)
		return NULL;
	*head = rq_of(r)->next;
	if (!*head)
		*tail = NULL;
	rq_of(r)->next = NULL;
	return r;
}

/* Ops that set a device up: after a swap the bus does them again. */
int
rq_is_setup_op(uint8_t op)
{
	return op == USB_OP_ADD || op == USB_OP_SET_ADDRESS ||
	    op == USB_OP_EP0_MPS || op == USB_OP_EP_ENABLE ||
	    op == USB_OP_EP_DISABLE || op == USB_OP_HUB;
}

static uint8_t
op_kind(uint8_t op)
{
	switch (op) {
	case USB_OP_ADD: return OP_ADD;
	case USB_OP_SET_ADDRESS: return OP_SET_ADDRESS;
	case USB_OP_EP0_MPS: return OP_MPS;
	case USB_OP_EP_ENABLE: return OP_EP_ENABLE;
	case USB_OP_EP_DISABLE: return OP_EP_DISABLE;
	case USB_OP_HUB: return OP_HUB;
	case USB_OP_REMOVE: return OP_REMOVE;
	default: return OP_CLEAR_HALT;
	}
}

/* A checked set-up request into the command queue. */
void
rq_start_op(struct xhci *a, struct usb_req *r)
{
	struct xrq *q = rq_of(r);

	q->where = RQ_OP;
	memset(&q->op, 0, sizeof(q->op));
	q->op.req = r;
	q->op.dev = r->dev;
	q->op.kind = op_kind(r->op);
	q->op.dci = (uint8_t)dci_of(r->op == USB_OP_EP_ENABLE ?
	    r->u.ep.desc->bEndpointAddress : r->ep);
	op_queue(a, &q->op);
}

static int
hci_info(void *ctx, struct usb_hci_info *info)
{
	struct xhci *a = ctx;
	struct usb_hci_info hi;
	uint32_t size;

	if (!info || info->size < sizeof(uint32_t))
		return PB_EINVAL;
	size = info->size < sizeof(hi) ? info->size : (uint32_t)sizeof(hi);
	hi = (struct usb_hci_info){
		.size = size,
		.nports = (uint16_t)a->nports,
		.max_devices = (uint16_t)a->nslots,
		.max_transfer = XHCI_MAX_XFER,
		.max_segments = XHCI_MAX_SEGS,
		.dma_limit = a->dma_limit,
		.flags = a->took_over ? 0 : USB_HCI_FRESH,
	};
	memcpy(info, &hi, size);
	return PB_OK;
}

/* Is r on one of dev's endpoint lists?  A client that wiped a request
 * we hold (its scratch too) and submits it again would otherwise link it
 * twice: a cycle, walked for ever.  Bounded: a list longer than any ring
 * holds is taken as r's. */
static int
on_a_list(struct xhci *a, const struct usb_req *r)
{
	const struct xhci_dev *d = dev_find(a, r->dev);

	for (unsigned dci = 1; d && dci < CTX_ENTRIES; dci++) {
		const struct xhci_ep *ep = d->ep[dci];
		const struct usb_req *lists[2] = { ep ? ep->head : NULL,
		    ep ? ep->whead : NULL };

		for (unsigned l = 0; l < 2; l++) {
			unsigned n = 0;

			for (const struct usb_req *k = lists[l]; k;
			    k = rq_of((struct usb_req *)k)->next)
				if (k == r || ++n > 4 * BULK_RING_TRBS)
					return 1;
		}
	}
	return 0;
}

static int
hci_submit(void *ctx, struct usb_req *r)
{
	struct xhci *a = ctx;
	struct xrq *q;
	int err;

	if (!r || r->size < sizeof(*r))
		return PB_EINVAL;
	if (a->released || a->stopping || a->handed || a->standby)
		return PB_EAGAIN;
	if (a->hstate == HC_DEAD)
		return PB_EIO;
	q = rq_of(r);
	if ((q->owner == a && q->where != RQ_NONE) || on_a_list(a, r)) {
		xlog(a, PB_LOG_ERR, "%s: device %u endpoint 0x%02x: a request "
		    "submitted while it is still ours: refused", a->name,
		    r->dev, r->ep);
		return PB_EBUSY;	/* submitted twice: ours already */
	}
	memset(q, 0, sizeof(*q));
	q->owner = a;
	q->seq = ++a->seq;
	if (r->op == USB_OP_WAIT_EVENT || rq_is_setup_op(r->op))
		a->bus_mod = r->done.owner;	/* only the bus asks these */
	switch (r->op) {
	case USB_OP_XFER:
		if ((err = xfer_check(a, r)) != PB_OK)
			return err;
		xfer_take(a, r);
		return PB_OK;
	case USB_OP_WAIT_EVENT:
		port_wait_event(a, r);
		return PB_OK;
	case USB_OP_PORT_RESET:
		if ((err = port_reset_again(a, r->u.port.port)) != PB_OK)
			return err;
		rq_complete(a, r, PB_OK, 0);
		return PB_OK;
	case USB_OP_RESUME:
		if (!dev_find(a, r->dev))
			return PB_ENODEV;
		state_resume_dev(a, r->dev);
		rq_complete(a, r, PB_OK, 0);
		return PB_OK;
	case USB_OP_ADD:
	case USB_OP_SET_ADDRESS:
	case USB_OP_EP0_MPS:
	case USB_OP_EP_ENABLE:
	case USB_OP_EP_DISABLE:
	case USB_OP_HUB:
	case USB_OP_REMOVE:
	case USB_OP_CLEAR_HALT:
		if ((err = dev_check(a, r)) != PB_OK)
			return err;
		rq_start_op(a, r);
		return PB_OK;
	default:
		return PB_ENOTSUP;
	}
}

/* Every request of dev on ep (0xff: all) ends PB_ECANCELED; those on a
 * ring once it is stopped (fix.c). */
static int
hci_cancel(void *ctx, uint32_t dev, uint8_t ep)
{
	struct xhci *a = ctx;
	struct xhci_dev *d = dev_find(a, dev);
	unsigned held = state_drop_held(a, dev, ep, PB_ECANCELED);

	if (!d)
		return held ? PB_OK : PB_ENODEV;
	if (ep != 0xff) {
		if (!ep_live(d, dci_of(ep)))
			return held ? PB_OK : PB_ENODEV;
		xfer_cancel_ep(a, d, dci_of(ep));
		return PB_OK;
	}
	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++)
		if (ep_live(d, dci))
			xfer_cancel_ep(a, d, dci);
	return PB_OK;
}

const struct usb_hci_ops xhci_hci_ops = {
	.info = hci_info,	/* ports, slots, limits */
	.submit = hci_submit,	/* kept, completed once by posted work */
	.cancel = hci_cancel,	/* endpoints stopped, PB_ECANCELED */
	.forget = gone_forget,	/* a client gone: stopped, dropped */
};
