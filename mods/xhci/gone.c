/*
 * gone.c - a class driver has gone (the bus heard PB_EV_CLIENT_GONE and
 * calls usb_hci_ops.forget): its requests leave the controller before
 * the hub takes its memory back, and nothing is written into them again.
 *
 * A request is the client's when the hub's work item it completes with
 * (`done`) is the client's.  Each is marked `gone`, so completing it only
 * takes it out of the driver (rq_complete).  Those waiting beside a ring,
 * in the command queue (a CLEAR_HALT) or held over a swap leave at once:
 * the controller never saw their buffers.  Those on a ring are TDs the
 * controller may be moving data for: the endpoint is stopped (fix.c's
 * FIX_CANCEL: Stop Endpoint, xHCI 1.2 §4.6.9, or Reset Endpoint when
 * halted, §4.6.8) with every TD up to the client's last one doomed, as a
 * ring runs in order (another driver's TD ahead of it ends PB_ECANCELED),
 * and Set TR Dequeue Pointer (§4.6.10) moves past them.
 *
 * The client's memory is freed when forget returns, so the commands are
 * waited for here: the event ring is read in a loop, GONE_WAIT at most
 * (QEMU answers within the doorbell write, a controller within a few
 * frames).  A TD still on its ring after that is cut out anyway, its
 * TRBs made Transfer No Ops (§6.4.1.4: a TRB the controller has not
 * fetched yet moves nothing), and PB_EBUSY tells the bus, which tells
 * the hub, that the controller may still write into the client's memory.
 */
#include "xhci.h"

#define GONE_WAIT	(2 * MS)	/* for the endpoints to stop */
#define GONE_PASSES	4096		/* event ring reads, at most */

static int
mine(struct usb_req *r, const struct pb_module *owner, uint8_t ep)
{
	return r->done.owner == owner && (ep == 0xff || r->ep == ep);
}

/* Take the client's requests out of a list that the controller does not
 * read; their number. */
static unsigned
drop_listed(struct xhci *a, struct usb_req **head, struct usb_req **tail,
    const struct pb_module *owner, uint8_t ep)
{
	struct usb_req *keep = NULL, *keep_tail = NULL, *r;
	unsigned n = 0;

	while ((r = rq_list_pop(head, tail))) {
		if (!mine(r, owner, ep)) {
			rq_list_add(&keep, &keep_tail, r);
			continue;
		}
		rq_of(r)->gone = 1;
		rq_complete(a, r, PB_ECANCELED, 0);
		n++;
	}
	*head = keep;
	*tail = keep_tail;
	return n;
}

/* The client's ops in the command queue (one whose command is on the
 * ring is orphaned: its completion finds nobody). */
static unsigned
drop_ops(struct xhci *a, uint32_t dev, const struct pb_module *owner,
    uint8_t ep)
{
	unsigned n = 0;
	struct xop *op = a->ops;

	while (op) {
		struct xop *next = op->next;

		if (op->kind != OP_FIX && op->req && op->dev == dev &&
		    mine(op->req, owner, ep)) {
			op_unlink(a, op);
			rq_of(op->req)->gone = 1;
			rq_complete(a, op->req, PB_ECANCELED, 0);
			n++;
		}
		op = next;
	}
	return n;
}

/* Doom the endpoint's TDs up to the client's last one and have the
 * endpoint stopped; the number of the client's. */
static unsigned
doom_ring(struct xhci *a, struct xhci_dev *d, unsigned dci,
    const struct pb_module *owner)
{
	struct xhci_ep *ep = d->ep[dci];
	struct usb_req *last = NULL, *r;
	unsigned n = 0;

	for (r = ep->head; r; r = rq_of(r)->next)
		if (mine(r, owner, 0xff))
			last = r;
	if (!last)
		return 0;
	for (r = ep->head; r; r = rq_of(r)->next) {
		rq_of(r)->doomed = 1;
		if (mine(r, owner, 0xff)) {
			rq_of(r)->gone = 1;
			n++;
		}
		if (r == last)
			break;
	}
	fix_queue(a, d, dci, FIX_CANCEL);
	return n;
}

static unsigned
left_on(const struct xhci_ep *ep)
{
	unsigned n = 0;

	for (struct usb_req *r = ep->head; r; r = rq_of(r)->next)
		n += rq_of(r)->gone;
	return n;
}

/* The client's TDs still on d's rings. */
static unsigned
left(const struct xhci_dev *d)
{
	unsigned n = 0;

	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++)
		n += d->ep[dci] ? left_on(d->ep[dci]) : 0;
	return n;
}

/* A TD the endpoint did not give up in time: its TRBs move nothing from
 * here on (those the controller has not fetched), and it leaves. */
static void
cut_out(struct xhci_ep *ep, struct usb_req *r)
{
	struct xrq *q = rq_of(r);
	uint32_t k = q->first;

	for (unsigned i = 0; i < q->ntrb; i++) {
		volatile struct xhci_trb *t = &ep->ring.trb[k];

		t->param = 0;
		t->status = 0;
		t->control = (t->control & (TRB_C | TRB_CH)) |
		    TRB_TYPE_SET(TRB_NOOP);
		k = ring_next(&ep->ring, k);
	}
	ep->ring.used -= q->ntrb;
	q->where = RQ_NONE;
	q->next = NULL;
}

static void
cut_all(struct xhci_dev *d)
{
	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++) {
		struct xhci_ep *ep = d->ep[dci];
		struct usb_req *keep = NULL, *keep_tail = NULL, *r;

		if (!ep)
			continue;
		while ((r = rq_list_pop(&ep->head, &ep->tail))) {
			if (rq_of(r)->gone)
				cut_out(ep, r);
			else
				rq_list_add(&keep, &keep_tail, r);
		}
		ep->head = keep;
		ep->tail = keep_tail;
	}
}

/* Read events until the client's TDs have left d's rings, bounded. */
static void
wait_stopped(struct xhci *a, const struct xhci_dev *d)
{
	uint64_t t0 = xhci_now(a);

	for (unsigned pass = 0; left(d) && a->hstate == HC_UP &&
	    pass < GONE_PASSES && xhci_now(a) - t0 < GONE_WAIT; pass++)
		event_drain(a);
}

static int
halted(struct xhci *a)
{
	return !a->op || (op_rd(a, OP_USBSTS) & USBSTS_HCH) != 0;
}

int
gone_forget(void *ctx, uint32_t dev, uint8_t ep,
    const struct pb_module *owner)
{
	struct xhci *a = ctx;
	struct xhci_dev *d = dev_find(a, dev);
	unsigned queued, on_ring = 0, stuck;

	if (!owner)
		return PB_EINVAL;
	queued = drop_listed(a, &a->held, &a->held_tail, owner, ep);
	if (!a->held)
		a->held_deadline = 0;
	queued += drop_ops(a, dev, owner, ep);
	if (!d)
		return PB_OK;
	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++) {
		struct xhci_ep *e = ep_live(d, dci);

		if (!e || (ep != 0xff && dci != dci_of(ep)))
			continue;
		queued += drop_listed(a, &e->whead, &e->wtail, owner, 0xff);
		on_ring += doom_ring(a, d, dci, owner);
	}
	if (on_ring)
		wait_stopped(a, d);
	if (!(stuck = left(d))) {
		if (on_ring || queued)
			xlog(a, PB_LOG_INFO, "%s: device %u: its driver went; "
			    "dropped: %u on its rings (stopped first), %u "
			    "waiting", a->name, d->dev, on_ring, queued);
		return PB_OK;
	}
	cut_all(d);
	if (halted(a))
		return PB_OK;
	xlog(a, PB_LOG_ERR, "%s: device %u: its driver went but %u of its "
	    "transfers were not stopped in %llu ms: cut out, the controller "
	    "may still write into its memory", a->name, d->dev, stuck,
	    (unsigned long long)(GONE_WAIT / MS));
	return PB_EBUSY;
}
