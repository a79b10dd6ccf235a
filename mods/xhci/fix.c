/*
 * fix.c - an endpoint's own recovery, one op of the command queue per
 * endpoint (struct xhci_ep.fix), for whatever was asked meanwhile
 * (FIX_* flags, gathered until it runs):
 *
 *   CANCEL   the TDs marked by a cancel end PB_ECANCELED (cancel(), a
 *            device gone or lost)
 *   TIMEOUT  the oldest TD, too long at the head, ends PB_ETIMEDOUT
 *   RESET    the endpoint halted on an error whose TD has ended
 *   RETRY    soft retry of the oldest TD after a transaction error
 *   RERUN    a control TD runs again from its Setup stage
 *
 * Steps: a Running endpoint is stopped (Stop Endpoint, §4.6.9), a Halted
 * one reset (Reset Endpoint, §4.6.8; with TSP for a soft retry, after
 * which a doorbell makes it retry where it failed, §4.6.8.1); then the
 * TDs that must end end, and Set TR Dequeue Pointer (§4.6.10) restarts it
 * at its oldest TD left (or where the next will go), and the doorbell
 * rings.  An endpoint halted by a STALL is not reset here: its TDs end as
 * asked, and it waits for USB_OP_CLEAR_HALT (dev.c).  While a fix is
 * queued, new TDs wait beside the ring (xfer.c).
 */
#include "xhci.h"

void
fix_queue(struct xhci *a, struct xhci_dev *d, unsigned dci, uint8_t flags)
{
	struct xhci_ep *ep = d->ep[dci];

	ep->fix_flags |= flags;
	if (ep->fix_queued)
		return;
	ep->fix_queued = 1;
	memset(&ep->fix, 0, sizeof(ep->fix));
	ep->fix.kind = OP_FIX;
	ep->fix.dev = d->dev;
	ep->fix.dci = (uint8_t)dci;
	op_queue(a, &ep->fix);
}

static uint32_t
fix_cmd(unsigned type, const struct xhci_dev *d, unsigned dci)
{
	return TRB_TYPE_SET(type) | (uint32_t)d->slot << TRB_SLOT_SHIFT |
	    (uint32_t)dci << TRB_EP_SHIFT;
}

/* The TDs end that must (the endpoint no longer runs them). */
static void
settle(struct xhci *a, struct xhci_dev *d, unsigned dci, unsigned flags)
{
	struct xhci_ep *ep = d->ep[dci];
	struct xrq *q;

	xfer_end_doomed(a, d, dci);
	if (ep->head && rq_of(ep->head)->timed_out)
		xfer_end_head(a, d, dci, d->lost ? PB_ECANCELED : PB_ETIMEDOUT,
		    0);
	if (ep->head && (flags & (FIX_RERUN | FIX_RETRY))) {
		q = rq_of(ep->head);
		q->short_seen = 0;
		q->actual = 0;
	}
}

static void
set_dequeue(struct xhci *a, struct xop *op, struct xhci_dev *d)
{
	struct xhci_ep *ep = d->ep[op->dci];
	uint64_t deq;
	uint8_t dcs;

	if (ep->head) {
		deq = ring_bus(&ep->ring, rq_of(ep->head)->first);
		dcs = rq_of(ep->head)->cycle;
	} else {
		deq = ring_bus(&ep->ring, ep->ring.enq);
		dcs = ep->ring.cycle;
	}
	op->step = 2;
	cmd_issue(a, deq | dcs, 0, fix_cmd(TRB_SET_TR_DEQ, d, op->dci));
}

static void
fix_failed(struct xhci *a, struct xop *op, const struct xhci_dev *d,
    const char *what, int cc)
{
	xlog(a, PB_LOG_WARN, "%s: device %u endpoint %u: %s: %s (%d)", a->name,
	    d->dev, op->dci, what, cc_name((unsigned)cc), cc);
}

static void
start(struct xhci *a, struct xop *op, struct xhci_dev *d)
{
	struct xhci_ep *ep = d->ep[op->dci];
	unsigned flags = ep->fix_flags;

	op->status |= (int32_t)flags;	/* what this run does */
	ep->fix_flags = 0;
	op->st = (uint8_t)ep_state(a, d, op->dci);
	if (op->st == EPS_HALTED && (op->status & FIX_RETRY) &&
	    !(op->status & ~FIX_RETRY) && ep->head) {
		op->step = 10;
		cmd_issue(a, 0, 0, fix_cmd(TRB_RESET_EP, d, op->dci) | TRB_TSP);
		return;
	}
	if (op->st == EPS_RUNNING) {
		op->step = 1;
		cmd_issue(a, 0, 0, fix_cmd(TRB_STOP_EP, d, op->dci));
		return;
	}
	if (op->st == EPS_HALTED && !ep->stalled) {
		op->step = 1;
		cmd_issue(a, 0, 0, fix_cmd(TRB_RESET_EP, d, op->dci));
		return;
	}
	settle(a, d, op->dci, (unsigned)op->status);
	if (op->st == EPS_HALTED || op->st == EPS_DISABLED) {
		op_done(a, op, PB_OK);	/* a STALL waits for CLEAR_HALT */
		return;
	}
	set_dequeue(a, op, d);		/* Stopped or Error */
}

void
fix_step(struct xhci *a, struct xop *op, int cc)
{
	struct xhci_dev *d = dev_find(a, op->dev);

	if (!d || !ep_live(d, op->dci)) {
		op_done(a, op, PB_ENODEV);
		return;
	}
	switch (op->step) {
	case 0:
		start(a, op, d);
		return;
	case 1:		/* stopped or reset */
		if (cc == CC_CONTEXT_STATE && op->loops++ < XHCI_TRIES) {
			op->step = 0;	/* it changed state meanwhile */
			start(a, op, d);
			return;
		}
		if (cc != CC_SUCCESS)
			fix_failed(a, op, d, op->st == EPS_RUNNING ?
			    "Stop Endpoint" : "Reset Endpoint", cc);
		settle(a, d, op->dci, (unsigned)op->status);
		set_dequeue(a, op, d);
		return;
	case 10:	/* soft retry: the doorbell (fix_ended) retries it */
		if (cc == CC_SUCCESS) {
			op_done(a, op, PB_OK);
			return;
		}
		fix_failed(a, op, d, "Reset Endpoint (soft retry)", cc);
		op->status |= FIX_RERUN;
		settle(a, d, op->dci, (unsigned)op->status);
		set_dequeue(a, op, d);
		return;
	default:	/* 2: Set TR Dequeue Pointer done */
		if (cc != CC_SUCCESS)
			fix_failed(a, op, d, "Set TR Dequeue Pointer", cc);
		op_done(a, op, PB_OK);
		return;
	}
}

/* The fix left the queue: the endpoint runs again, or fixes again if
 * more was asked meanwhile. */
void
fix_ended(struct xhci *a, struct xop *op)
{
	struct xhci_dev *d = dev_find(a, op->dev);
	struct xhci_ep *ep;

	if (!d || !(ep = d->ep[op->dci]))
		return;
	ep->fix_queued = 0;
	if (!ep->ring.trb)
		return;
	if (ep->fix_flags) {
		fix_queue(a, d, op->dci, 0);
		return;
	}
	xfer_restart(a, d, op->dci);
}
