/*
 * dev.c - the bus driver setting devices up: USB_OP_ADD, EP0_MPS,
 * EP_ENABLE, EP_DISABLE, HUB, REMOVE and CLEAR_HALT (abi/usb.h), each an
 * op of the command queue (cmd.c) whose steps are commands:
 *
 *   ADD         Enable Slot (the root port's Protocol Slot Type, §4.6.3),
 *               then Address Device (§4.6.5) with the Slot Context (route
 *               string, root port, speed, the TT hub slot and port of a
 *               LS/FS device behind a HS hub, MTT) and EP0's (Control, max
 *               packet 8/64/512 by speed, CErr 3, Average TRB Length 8);
 *               if addressing fails, Disable Slot before the answer.
 *               With USB_REQ_ADD_DEFAULT, BSR=1: the slot goes to the
 *               Default state and no SET_ADDRESS is sent (§4.6.5)
 *   SET_ADDRESS Address Device again, BSR=0, EP0's context at its ring's
 *               place now (what the default pipe carried meanwhile stays
 *               behind it, as Linux copies the dequeue pointer)
 *   EP0_MPS     Evaluate Context of EP0's max packet (§4.6.7)
 *   EP_ENABLE   Configure Endpoint adding it (§4.6.6; dropped and added
 *               again when it was enabled), ctx.c's fields
 *   EP_DISABLE  Configure Endpoint dropping it; its requests PB_ECANCELED
 *   HUB         Configure Endpoint of the Slot Context alone: Hub, Number
 *               of Ports, TTT, MTT (as Linux does)
 *   REMOVE      Disable Slot (§4.6.4): every request PB_ECANCELED, the
 *               slot and its memory given back
 *   CLEAR_HALT  the controller's side of a halt: a Halted endpoint gets
 *               Reset Endpoint and Set TR Dequeue Pointer to the next TD
 *               (past the one that stalled); one not halted gets its
 *               sequence reset by Stop Endpoint and Configure Endpoint
 *               dropping and adding it, so it agrees with a device that
 *               was sent CLEAR_FEATURE(ENDPOINT_HALT).  EP0 needs nothing:
 *               its stalls are recovered at once (xfer.c).
 * Route string (§8.9): each hub tier below the root port adds its port
 * number (15 at most) as the next nibble.
 */
#include "xhci.h"

struct xhci_dev *
dev_find(const struct xhci *a, uint32_t dev)
{
	if (!dev)
		return NULL;
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++)
		if (a->devs[i] && a->devs[i]->dev == dev)
			return a->devs[i];
	return NULL;
}

static int
ep_enabled(const struct xhci_dev *d, unsigned dci)
{
	return dci >= 1 && ep_live(d, dci);
}

static unsigned
ndevs(const struct xhci *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++)
		n += a->devs[i] != NULL;
	return n;
}

/* Can the op run?  What submit checks; the steps check again. */
int
dev_check(struct xhci *a, struct usb_req *r)
{
	struct xhci_dev *d = dev_find(a, r->dev), *p;

	if (r->op == USB_OP_ADD) {
		if (!r->dev || d)
			return PB_EINVAL;
		if (r->u.add.speed < USB_SPEED_LOW ||
		    r->u.add.speed > USB_SPEED_SUPER_PLUS || !r->u.add.port)
			return PB_EINVAL;
		if (!r->u.add.parent && r->u.add.port > a->nports)
			return PB_EINVAL;
		if (r->u.add.parent && (!(p = dev_find(a, r->u.add.parent)) ||
		    !p->addressed || p->depth >= 4))
			return PB_EINVAL;
		return ndevs(a) < a->nslots ? PB_OK : PB_ENOMEM;
	}
	if (r->op == USB_OP_REMOVE)
		return PB_OK;	/* held requests may name a dev we lack */
	if (!d || !d->addressed)
		return PB_ENODEV;
	switch (r->op) {
	case USB_OP_SET_ADDRESS:
		return d->default_only ? PB_OK : PB_ENODEV;
	case USB_OP_EP0_MPS:
		return r->u.mps.mps && r->u.mps.mps <= 1024 ? PB_OK : PB_EINVAL;
	case USB_OP_EP_ENABLE: {
		struct xhci_ep tmp;

		if (!r->u.ep.desc)
			return PB_EINVAL;
		return ctx_ep_params(d, r->u.ep.desc, r->u.ep.ss, &tmp);
	}
	case USB_OP_EP_DISABLE:
		return dci_of(r->ep) > 1 && ep_enabled(d, dci_of(r->ep)) ?
		    PB_OK : PB_ENODEV;
	case USB_OP_HUB:
		return r->u.hub.nports && r->u.hub.ttt <= 3 ? PB_OK : PB_EINVAL;
	case USB_OP_CLEAR_HALT:
		return ep_enabled(d, dci_of(r->ep)) ? PB_OK : PB_ENODEV;
	default:
		return PB_ENOTSUP;
	}
}

/* --- memory ------------------------------------------------------------ */

static struct xhci_dev *
dev_new(struct xhci *a, const struct usb_req *r)
{
	struct xhci_dev *d, *p = r->u.add.parent ?
	    dev_find(a, r->u.add.parent) : NULL;
	unsigned i;

	for (i = 0; i < XHCI_MAX_SLOTS && a->devs[i]; i++)
		;
	if (i == XHCI_MAX_SLOTS || (r->u.add.parent && !p) ||
	    !(d = a->hub->alloc(a->self, sizeof(*d))))
		return NULL;
	memset(d, 0, sizeof(*d));
	d->dev = r->dev;
	d->parent = r->u.add.parent;
	d->port = r->u.add.port;
	d->speed = r->u.add.speed;
	d->entries = 1;
	if (!p) {
		const struct xhci_port *rp = &a->port[d->port - 1];

		d->root_port = d->port;
		d->psiv = rp->state == PORT_ENABLED && rp->speed == d->speed ?
		    rp->psiv : (uint8_t)caps_psiv(d->speed);
	} else {
		unsigned port = d->port > 15 ? 15 : d->port;

		d->root_port = p->root_port;
		d->depth = (uint8_t)(p->depth + 1);
		d->route = p->route | (uint32_t)port << (4 * p->depth);
		d->psiv = (uint8_t)caps_psiv(d->speed);
		if (d->speed <= USB_SPEED_FULL && p->speed == USB_SPEED_HIGH) {
			d->tt_slot = p->slot;
			d->tt_port = d->port;
			d->mtt = p->hub_mtt;
		} else if (d->speed <= USB_SPEED_FULL) {
			d->tt_slot = p->tt_slot;	/* the same TT */
			d->tt_port = p->tt_port;
			d->mtt = p->mtt;
		}
	}
	a->devs[i] = d;
	return d;
}

/* Endpoint dci's record, made the first time it is enabled. */
static struct xhci_ep *
ep_get(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	if (!d->ep[dci] && (d->ep[dci] = a->hub->alloc(a->self,
	    sizeof(struct xhci_ep))))
		memset(d->ep[dci], 0, sizeof(struct xhci_ep));
	return d->ep[dci];
}

/* The slot's memory: output context and EP0's ring. */
static int
dev_slot_memory(struct xhci *a, struct xhci_dev *d)
{
	struct xhci_ep *ep0;

	d->out = a->hub->dma_alloc(a->self, CTX_ENTRIES * a->ctxsz, CTX_ALIGN,
	    PAGE_BOUNDARY, a->dma_limit, &d->out_bus);
	if (!d->out || !(ep0 = ep_get(a, d, 1)) ||
	    ring_alloc(a, &ep0->ring, EP0_RING_TRBS) != PB_OK)
		return PB_ENOMEM;
	ep0->type = EPT_CONTROL;
	ep0->mps = (uint16_t)ctx_ep0_mps(d->speed);
	ep0->avg = 8;
	a->by_slot[d->slot] = d;
	a->dcbaa[d->slot] = d->out_bus;
	return PB_OK;
}

/* Every request of d is cancelled: each endpoint stopped first (fix.c),
 * or, `now`, ended at once (the slot is disabled). */
static void
dev_end_all(struct xhci *a, struct xhci_dev *d, int now)
{
	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++) {
		if (!ep_live(d, dci))
			continue;
		if (now)
			xfer_end_all(a, d, dci, PB_ECANCELED);
		else
			xfer_cancel_ep(a, d, dci);
	}
}

void
dev_free(struct xhci *a, struct xhci_dev *d)
{
	for (unsigned dci = 1; dci < CTX_ENTRIES; dci++) {
		struct xhci_ep *ep = d->ep[dci];

		if (!ep)
			continue;
		if (ep->fix_queued)
			op_unlink(a, &ep->fix);
		ring_free(a, &ep->ring);
		a->hub->free(a->self, ep);
	}
	if (d->slot) {
		if (a->dcbaa)
			a->dcbaa[d->slot] = 0;
		a->by_slot[d->slot] = NULL;
	}
	if (d->out)
		a->hub->dma_free(a->self, (void *)d->out);
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++)
		if (a->devs[i] == d)
			a->devs[i] = NULL;
	a->hub->free(a->self, d);
}

/* --- the device's port went, or it stopped answering ----------------- */

/* Every device behind root port `root_port`: its requests are cancelled;
 * the bus removes it (USB_EVENT_DISCONNECT of the port). */
void
dev_gone(struct xhci *a, unsigned root_port)
{
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		struct xhci_dev *d = a->devs[i];

		if (!d || d->root_port != root_port || d->gone)
			continue;
		d->gone = 1;
		dev_end_all(a, d, 0);
	}
}

void
dev_lost(struct xhci *a, struct xhci_dev *d, const char *why)
{
	if (d->lost || d->gone)
		return;
	d->lost = 1;
	xlog(a, PB_LOG_WARN, "%s: device %u (slot %u, root port %u): %s: its "
	    "requests are cancelled", a->name, d->dev, d->slot, d->root_port,
	    why);
	dev_end_all(a, d, 0);
	port_tell(a, USB_EVENT_LOST, d->root_port, d->speed, d->dev);
}

/* --- the ops ------------------------------------------------------------ */

static int
cc_status(int cc)
{
	switch (cc) {
	case CC_SUCCESS: return PB_OK;
	case CC_TIMEOUT: return PB_ETIMEDOUT;
	case CC_NO_SLOTS:
	case CC_RESOURCE: return PB_ENOMEM;
	default: return PB_EIO;
	}
}

static void
failed(struct xhci *a, struct xop *op, const struct xhci_dev *d, int cc)
{
	xlog(a, PB_LOG_WARN, "%s: %s of device %u (slot %u): %s (%d)",
	    a->name, op_name(op->kind), op->dev, d ? d->slot : 0, cc_name(
	    (unsigned)cc), cc);
}

static uint32_t
slot_cmd(unsigned type, const struct xhci_dev *d)
{
	return TRB_TYPE_SET(type) | (uint32_t)d->slot << TRB_SLOT_SHIFT;
}

static uint32_t
ep_cmd(unsigned type, const struct xhci_dev *d, unsigned dci)
{
	return slot_cmd(type, d) | (uint32_t)dci << TRB_EP_SHIFT;
}

/* The TR Dequeue Pointer an endpoint restarts at: its first TD not done,
 * else where the next goes. */
static void
restart_point(const struct xhci_ep *ep, uint64_t *deq, uint8_t *dcs)
{
	if (ep->head) {
		struct xrq *q = rq_of(ep->head);

		*deq = ring_bus(&ep->ring, q->first);
		*dcs = q->cycle;
	} else {
		*deq = ring_bus(&ep->ring, ep->ring.enq);
		*dcs = ep->ring.cycle;
	}
}

static void
input_slot_ep0(struct xhci *a, struct xhci_dev *d)
{
	ctx_input_clear(a);
	ctx_input(a, 0)[ICC_ADD] = 0x3;		/* A0 slot, A1 EP0 */
	ctx_slot(a, d);
	ctx_ep(a, d, 1, d->ep[1]->ring.bus, 1);
}

static void
add_step(struct xhci *a, struct xop *op, int cc, const struct xhci_trb *ev)
{
	struct usb_req *r = op->req;
	struct xhci_dev *d = dev_find(a, op->dev);
	unsigned slot;

	switch (op->step) {
	case 0: {
		const struct xhci_port *rp;

		if (d || !(d = dev_new(a, r))) {
			op_done(a, op, d ? PB_EINVAL : PB_ENOMEM);
			return;
		}
		rp = &a->port[d->root_port - 1];
		op->step = 1;
		cmd_issue(a, 0, 0, TRB_TYPE_SET(TRB_ENABLE_SLOT) |
		    (uint32_t)(rp->proto >= 0 ? a->proto[rp->proto].slot_type :
		    0) << TRB_SLOT_TYPE_SHIFT);
		return;
	}
	case 1:
		slot = ev ? TRB_SLOT(ev->control) : 0;
		if (cc == CC_SUCCESS && (!slot || slot > a->nslots ||
		    a->by_slot[slot])) {
			event_junk(a, ev, "Enable Slot gave a slot in use");
			cc = CC_TRB;
		}
		if (cc != CC_SUCCESS) {
			failed(a, op, d, cc);
			if (d)
				dev_free(a, d);
			op_done(a, op, cc_status(cc));
			return;
		}
		d->slot = (uint8_t)slot;
		if (dev_slot_memory(a, d) != PB_OK) {
			op->status = PB_ENOMEM;
			op->step = 3;
			cmd_issue(a, 0, 0, slot_cmd(TRB_DISABLE_SLOT, d));
			return;
		}
		input_slot_ep0(a, d);
		op->step = 2;
		d->default_only = (r->flags & USB_REQ_ADD_DEFAULT) != 0;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_ADDRESS_DEVICE, d) |
		    (d->default_only ? TRB_BSR : 0));
		return;
	case 2:
		if (cc == CC_SUCCESS) {
			d->addressed = 1;
			op_done(a, op, PB_OK);
			return;
		}
		failed(a, op, d, cc);
		op->status = cc_status(cc);
		op->step = 3;
		cmd_issue(a, 0, 0, slot_cmd(TRB_DISABLE_SLOT, d));
		return;
	default:
		if (d)
			dev_free(a, d);
		op_done(a, op, op->status);
		return;
	}
}

/* SET_ADDRESS: Address Device, BSR=0, from the Default state (§4.6.5). */
static void
address_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	struct xhci_ep *ep0 = d->ep[1];

	if (op->step == 0) {
		ctx_input_clear(a);
		ctx_input(a, 0)[ICC_ADD] = 0x3;		/* A0 slot, A1 EP0 */
		ctx_slot(a, d);
		ctx_ep(a, d, 1, ring_bus(&ep0->ring, ep0->ring.enq),
		    ep0->ring.cycle);
		op->step = 1;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_ADDRESS_DEVICE, d));
		return;
	}
	if (cc == CC_SUCCESS)
		d->default_only = 0;
	else
		failed(a, op, d, cc);
	op_done(a, op, cc_status(cc));
}

static void
mps_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	struct xhci_ep *ep0 = d->ep[1];

	if (op->step == 0) {
		op->status = ep0->mps;		/* to go back to */
		ep0->mps = op->req->u.mps.mps;
		ctx_input_clear(a);
		ctx_input(a, 0)[ICC_ADD] = 0x2;	/* A1: EP0 */
		ctx_ep(a, d, 1, ring_bus(&ep0->ring, ep0->ring.enq),
		    ep0->ring.cycle);
		op->step = 1;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_EVALUATE_CTX, d));
		return;
	}
	if (cc != CC_SUCCESS) {
		failed(a, op, d, cc);
		ep0->mps = (uint16_t)op->status;
	}
	op_done(a, op, cc_status(cc));
}

static unsigned
last_dci(const struct xhci_dev *d, unsigned without)
{
	unsigned last = 1;

	for (unsigned dci = 2; dci < CTX_ENTRIES; dci++)
		if (dci != without && ep_live(d, dci))
			last = dci;
	return last;
}

static uint32_t
ring_trbs(unsigned type)
{
	return type == EPT_BULK_IN || type == EPT_BULK_OUT ? BULK_RING_TRBS :
	    INTR_RING_TRBS;
}

static void
enable_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	struct xhci_ep *ep = d->ep[op->dci], params;
	int again = ep && ep->ring.trb;
	volatile uint32_t *icc;

	if (op->step == 0) {
		if (ctx_ep_params(d, op->req->u.ep.desc, op->req->u.ep.ss,
		    &params) != PB_OK) {
			op_done(a, op, PB_EINVAL);
			return;
		}
		if (!(ep = ep_get(a, d, op->dci)) || (!again &&
		    ring_alloc(a, &ep->ring, ring_trbs(params.type)) != PB_OK)) {
			op_done(a, op, PB_ENOMEM);
			return;
		}
		ep->type = params.type;
		ep->mps = params.mps;
		ep->burst = params.burst;
		ep->mult = params.mult;
		ep->interval = params.interval;
		ep->esit = params.esit;
		ep->avg = params.avg;
		ep->stalled = 0;
		ep->busy = 1;		/* nothing new on the ring meanwhile */
		ctx_input_clear(a);
		icc = ctx_input(a, 0);
		icc[ICC_DROP] = again ? 1u << op->dci : 0;
		icc[ICC_ADD] = 1u | 1u << op->dci;
		d->entries = (uint8_t)(op->dci > last_dci(d, 0) ? op->dci :
		    last_dci(d, 0));
		ctx_slot(a, d);
		/* Enabled again: what it had ends, it starts past it. */
		ctx_ep(a, d, op->dci, ring_bus(&ep->ring, ep->ring.enq),
		    ep->ring.cycle);
		op->step = again ? 2 : 1;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_CONFIGURE_EP, d));
		return;
	}
	ep->busy = 0;
	if (op->step == 2)
		xfer_end_all(a, d, op->dci, PB_ECANCELED);
	if (cc != CC_SUCCESS) {
		failed(a, op, d, cc);
		if (op->step == 1)
			ring_free(a, &ep->ring);
		d->entries = (uint8_t)last_dci(d, 0);
	}
	if (ep->ring.trb)
		xfer_restart(a, d, op->dci);
	op_done(a, op, cc_status(cc));
}

static void
disable_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	struct xhci_ep *ep = ep_live(d, op->dci);

	if (!ep) {
		op_done(a, op, PB_ENODEV);
		return;
	}
	if (op->step == 0) {
		ctx_input_clear(a);
		ctx_input(a, 0)[ICC_DROP] = 1u << op->dci;
		ctx_input(a, 0)[ICC_ADD] = 1u;
		d->entries = (uint8_t)last_dci(d, op->dci);
		ctx_slot(a, d);
		op->step = 1;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_CONFIGURE_EP, d));
		return;
	}
	/* Dropped: the controller stopped it; its TDs end here. */
	xfer_end_all(a, d, op->dci, PB_ECANCELED);
	if (cc != CC_SUCCESS) {
		failed(a, op, d, cc);	/* the ring stays: it may be read */
		d->entries = (uint8_t)last_dci(d, 0);
	} else {
		if (ep->fix_queued)
			op_unlink(a, &ep->fix);
		ep->fix_queued = 0;
		ring_free(a, &ep->ring);
	}
	op_done(a, op, cc_status(cc));
}

static void
hub_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	if (op->step == 0) {
		d->hub = 1;
		d->nports = op->req->u.hub.nports;
		d->ttt = op->req->u.hub.ttt;
		d->hub_mtt = op->req->u.hub.mtt ? 1 : 0;
		ctx_input_clear(a);
		ctx_input(a, 0)[ICC_ADD] = 1u;	/* A0: the Slot Context */
		ctx_slot(a, d);
		op->step = 1;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_CONFIGURE_EP, d));
		return;
	}
	if (cc != CC_SUCCESS) {
		failed(a, op, d, cc);
		d->hub = 0;
	}
	op_done(a, op, cc_status(cc));
}

static void
remove_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	if (op->step == 0) {
		state_drop_held(a, op->dev, 0xff, PB_ECANCELED);
		if (!d) {
			op_done(a, op, PB_OK);
			return;
		}
		d->gone = 1;
		op->step = 1;
		cmd_issue(a, 0, 0, slot_cmd(TRB_DISABLE_SLOT, d));
		return;
	}
	if (cc != CC_SUCCESS)
		failed(a, op, d, cc);
	dev_end_all(a, d, 1);
	dev_free(a, d);
	op_done(a, op, PB_OK);
}

/*
 * CLEAR_HALT: steps 1-2 for a Halted endpoint (Reset Endpoint, Set TR
 * Dequeue Pointer), 3-4 for one that is not (Stop Endpoint if it runs,
 * Configure Endpoint dropping and adding it).
 */
static void
clear_step(struct xhci *a, struct xop *op, int cc, struct xhci_dev *d)
{
	struct xhci_ep *ep = d->ep[op->dci];
	volatile uint32_t *icc;
	uint64_t deq;
	uint8_t dcs;
	unsigned st;

	switch (op->step) {
	case 0:
		st = ep_state(a, d, op->dci);
		if (st == EPS_HALTED) {
			op->step = 1;
			cmd_issue(a, 0, 0, ep_cmd(TRB_RESET_EP, d, op->dci));
		} else if (op->dci == 1 || st == EPS_DISABLED) {
			ep->stalled = 0;
			xfer_restart(a, d, op->dci);
			op_done(a, op, PB_OK);
		} else if (st == EPS_RUNNING) {
			op->step = 3;
			cmd_issue(a, 0, 0, ep_cmd(TRB_STOP_EP, d, op->dci));
		} else {
			op->step = 3;
			clear_step(a, op, CC_SUCCESS, d);
		}
		return;
	case 1:
		if (cc != CC_SUCCESS)
			break;
		restart_point(ep, &deq, &dcs);
		op->step = 2;
		cmd_issue(a, deq | dcs, 0, ep_cmd(TRB_SET_TR_DEQ, d, op->dci));
		return;
	case 3:
		if (cc != CC_SUCCESS && cc != CC_CONTEXT_STATE)
			break;
		ctx_input_clear(a);
		icc = ctx_input(a, 0);
		icc[ICC_DROP] = 1u << op->dci;
		icc[ICC_ADD] = 1u | 1u << op->dci;
		ctx_slot(a, d);
		restart_point(ep, &deq, &dcs);
		ctx_ep(a, d, op->dci, deq, dcs);
		op->step = 2;
		cmd_issue(a, a->ictx_bus, 0, slot_cmd(TRB_CONFIGURE_EP, d));
		return;
	default:		/* 2: the endpoint restarts */
		break;
	}
	if (cc != CC_SUCCESS)
		failed(a, op, d, cc);
	ep->stalled = 0;
	xfer_restart(a, d, op->dci);
	op_done(a, op, cc_status(cc));
}

void
dev_op_step(struct xhci *a, struct xop *op, int cc, const struct xhci_trb *ev)
{
	struct xhci_dev *d = dev_find(a, op->dev);

	if (op->kind == OP_ADD) {
		add_step(a, op, cc, ev);
		return;
	}
	if (op->kind == OP_REMOVE) {
		remove_step(a, op, cc, d);
		return;
	}
	if (!d || (op->step == 0 && (d->gone || d->lost) &&
	    op->kind != OP_EP_DISABLE)) {
		op_done(a, op, PB_ENODEV);
		return;
	}
	switch (op->kind) {
	case OP_SET_ADDRESS: address_step(a, op, cc, d); return;
	case OP_MPS: mps_step(a, op, cc, d); return;
	case OP_EP_ENABLE: enable_step(a, op, cc, d); return;
	case OP_EP_DISABLE: disable_step(a, op, cc, d); return;
	case OP_HUB: hub_step(a, op, cc, d); return;
	case OP_CLEAR_HALT:
		if (!ep_live(d, op->dci)) {
			op_done(a, op, PB_ENODEV);
			return;
		}
		clear_step(a, op, cc, d);
		return;
	default:
		op_done(a, op, PB_EINVAL);
		return;
	}
}
