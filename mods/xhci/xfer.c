/*
 * xfer.c - USB_OP_XFER: TDs on an endpoint's transfer ring (xHCI 1.2
 * §4.11.2, §6.4.1), their completion, their errors and their timeouts.
 *
 * A request becomes one TD.  Its segments are cut into TRBs of at most
 * 64 KiB that cross no 64 KiB boundary (§4.11.7.1; a segment without a
 * bus address is walked with hub->dma_addr), chained (CH), with TD Size
 * (§4.11.2.4), Interrupt-on-Short-Packet on IN TRBs and IOC on the last
 * TRB only.  Control transfers are Setup (IDT, TRT), Data (DIR, then
 * Normal TRBs) and Status (the other direction, IOC) stages (§4.11.2.2).
 * An OUT with USB_REQ_ZLP that fills its last packet ends with a zero-
 * length TRB.  The TD's first TRB gets its cycle bit last (ring.c).
 *
 * Completion: the Transfer Event names a TRB (by bus address: checked to
 * be one of the ring's, then of the endpoint's oldest TD).  `actual` is
 * the lengths of the TD's data TRBs before it plus what of its own was
 * moved (its length less the residual): so a Short Packet event on any
 * TRB says how much came.  A bulk or interrupt TD ends there; a later
 * event for its last TRB, which some controllers send (Linux's
 * XHCI_SPURIOUS_SUCCESS), is expected and dropped (`ghost`).  A control
 * TD ends at its Status stage, with the data stage's short length.
 *
 * Errors: Stall -> USB_ESTALL (EP0 is reset at once; another endpoint
 * stays halted until USB_OP_CLEAR_HALT); USB Transaction Error -> retried
 * (bulk/interrupt: soft retry, Reset Endpoint with TSP, §4.6.8.1, not
 * allowed behind a TT; control: the TD run again) XHCI_TRIES times, then
 * PB_EIO; Babble and anything else -> PB_EIO with one line naming the
 * code.  An endpoint halted by an error is reset and the failed TD
 * skipped (fix.c).  A TD at its ring's head longer than T_CONTROL (or
 * T_BULK) is stopped and ends PB_ETIMEDOUT; XHCI_LOST_AFTER timeouts in a
 * row and the device is lost (dev.c).  Interrupt transfers never time
 * out: they wait for the device.
 */
#include "xhci.h"

typedef void piece_fn(void *arg, uint64_t bus, uint32_t len);

/* Each TRB-sized piece of r's buffer, in order: PB_OK, or PB_EINVAL for
 * memory the device cannot reach. */
static int
pieces(struct xhci *a, const struct usb_req *r, piece_fn *fn, void *arg)
{
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct usb_seg *s = &r->segs[i];
		uint32_t off = 0;

		while (off < s->len) {
			uint64_t bus;
			size_t run;
			uint32_t chunk;

			if (s->bus) {
				bus = s->bus + off;
				run = s->len - off;
			} else if (!s->va || a->hub->dma_addr(a->self,
			    (const uint8_t *)s->va + off, s->len - off, &bus,
			    &run) != PB_OK || !run) {
				return PB_EINVAL;
			}
			chunk = TRB_MAX_BUF - (uint32_t)(bus & (TRB_MAX_BUF - 1));
			if (run < chunk)
				chunk = (uint32_t)run;
			if (bus + chunk < bus || bus + chunk - 1 > a->dma_limit)
				return PB_EINVAL;
			fn(arg, bus, chunk);
			off += chunk;
		}
	}
	return PB_OK;
}

static void
count_piece(void *arg, uint64_t bus, uint32_t len)
{
	(*(unsigned *)arg)++;
}

static int
is_control(unsigned dci)
{
	return dci == 1;
}

static int
is_in(const struct usb_req *r, unsigned dci)
{
	return is_control(dci) ? (r->u.setup.bmRequestType & USB_DIR_IN) != 0 :
	    (dci & 1u) != 0;
}

/* An OUT that fills its last packet and asks for a zero-length one. */
static int
wants_zlp(const struct xhci_ep *ep, const struct usb_req *r, unsigned dci)
{
	return !is_control(dci) && !is_in(r, dci) && (r->flags & USB_REQ_ZLP) &&
	    r->length && r->length % ep->mps == 0;
}

int
xfer_check(struct xhci *a, struct usb_req *r)
{
	struct xhci_dev *d = dev_find(a, r->dev);
	unsigned dci = dci_of(r->ep), n = 0;
	uint64_t sum = 0;
	struct xhci_ep *ep;

	if (!d || !d->addressed || d->gone || d->lost)
		return PB_ENODEV;
	ep = ep_live(d, dci);
	if (!ep || (r->ep & 0x70u) || (is_control(dci) && r->ep))
		return PB_ENODEV;
	if ((r->flags & ~(USB_REQ_SHORT_ERR | USB_REQ_ZLP | USB_REQ_REPLAY)) ||
	    r->length > XHCI_MAX_XFER || r->nseg > XHCI_MAX_SEGS ||
	    (r->nseg && !r->segs))
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++)
		sum += r->segs[i].len;
	if (sum != r->length ||
	    (is_control(dci) && r->u.setup.wLength != r->length))
		return PB_EINVAL;
	if (pieces(a, r, count_piece, &n) != PB_OK)
		return PB_EINVAL;
	if (is_control(dci))
		n += 2;
	else if (!n || wants_zlp(ep, r, dci))
		n++;
	if (n > ep->ring.n - 1)
		return PB_EINVAL;
	rq_of(r)->ntrb = (uint16_t)n;
	return PB_OK;
}

/* --- building a TD ------------------------------------------------------ */

struct tdw {
	struct xhci *a;
	struct xhci_ring *ring;
	uint32_t total, done;	/* bytes of the TD, and so far */
	unsigned n, i;		/* data TRBs, and written */
	unsigned mps;
	int in, control, zlp, hold;
	uint32_t last;		/* index of the last TRB written */
};

/* TD Size (§4.11.2.4): packets left after this TRB, at most 31; 0.96
 * controllers count bytes left in KiB instead. */
static uint32_t
td_size(const struct tdw *w, int last)
{
	uint32_t left;

	if (last)
		return 0;
	if (w->a->version < 0x100)
		left = (w->total - w->done) >> 10;
	else
		left = (w->total + w->mps - 1) / w->mps - w->done / w->mps;
	return left > TRB_TD_SIZE_MAX ? TRB_TD_SIZE_MAX : left;
}

static void
put(struct tdw *w, uint64_t param, uint32_t status, uint32_t control)
{
	if (w->hold) {
		control |= TRB_C;	/* the first TRB: armed last */
		w->hold = 0;
	}
	w->last = ring_put(w->ring, param, status, control);
}

static void
put_piece(void *arg, uint64_t bus, uint32_t len)
{
	struct tdw *w = arg;
	int last = ++w->i == w->n;
	unsigned type = w->control && w->i == 1 ? TRB_DATA : TRB_NORMAL;
	uint32_t ctl = TRB_TYPE_SET(type) | (w->in ? TRB_ISP : 0);

	if (type == TRB_DATA && w->in)
		ctl |= TRB_DIR_IN;
	if (!last || w->zlp)
		ctl |= TRB_CH;
	else if (!w->control)
		ctl |= TRB_IOC;
	w->done += len;
	put(w, bus, len | td_size(w, last && !w->zlp) << TRB_TD_SIZE_SHIFT,
	    ctl);
}

static uint64_t
timeout_of(unsigned type)
{
	switch (type) {
	case EPT_CONTROL: return T_CONTROL;
	case EPT_BULK_IN:
	case EPT_BULK_OUT: return T_BULK;
	default: return 0;
	}
}

/* r is its ring's oldest TD now: its time runs. */
void
xfer_head_started(struct xhci *a, struct xhci_ep *ep, struct usb_req *r)
{
	uint64_t limit = timeout_of(ep->type);
	struct xrq *q = rq_of(r);

	q->deadline = limit ? xhci_now(a) + limit : 0;
	if (q->deadline)
		tick_arm(a, q->deadline);
}

static void
td_put(struct xhci *a, struct xhci_dev *d, unsigned dci, struct usb_req *r)
{
	struct xhci_ep *ep = d->ep[dci];
	struct xrq *q = rq_of(r);
	struct tdw w = { .a = a, .ring = &ep->ring, .total = r->length,
	    .mps = ep->mps ? ep->mps : 8, .in = is_in(r, dci),
	    .control = is_control(dci), .zlp = wants_zlp(ep, r, dci),
	    .hold = 1 };
	uint64_t setup;

	q->first = (uint16_t)ep->ring.enq;
	q->cycle = ep->ring.cycle;
	pieces(a, r, count_piece, &w.n);
	if (w.control) {
		memcpy(&setup, &r->u.setup, sizeof(setup));
		put(&w, setup, 8, TRB_TYPE_SET(TRB_SETUP) | TRB_IDT |
		    (uint32_t)(!r->length ? TRT_NO_DATA : w.in ? TRT_IN :
		    TRT_OUT) << TRB_TRT_SHIFT);
	}
	pieces(a, r, put_piece, &w);
	if (!w.control && (!w.n || w.zlp))
		put(&w, 0, 0, TRB_TYPE_SET(TRB_NORMAL) | TRB_IOC);
	if (w.control)
		put(&w, 0, 0, TRB_TYPE_SET(TRB_STATUS) | TRB_IOC |
		    (r->length && w.in ? 0 : TRB_DIR_IN));
	q->last = (uint16_t)w.last;
	ep->ring.used += q->ntrb;
	q->where = RQ_RING;
	ring_arm_first(&ep->ring, q->first, q->cycle);
	rq_list_add(&ep->head, &ep->tail, r);
	if (ep->head == r)
		xfer_head_started(a, ep, r);
}

/* Waiting TDs onto the ring while the endpoint may take them. */
void
xfer_flush(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	struct xhci_ep *ep = d->ep[dci];
	int put_some = 0;

	while (ep->whead && ep->ring.trb && !ep->fix_queued && !ep->stalled &&
	    !ep->busy &&
	    !a->quiesced && a->hstate == HC_UP && d->slot &&
	    ring_room(&ep->ring) >= rq_of(ep->whead)->ntrb) {
		td_put(a, d, dci, rq_list_pop(&ep->whead, &ep->wtail));
		put_some = 1;
	}
	if (put_some)
		db_ring(a, d->slot, dci);
}

/* The endpoint may run again (recovered, halt cleared): its oldest TD's
 * time starts again, the doorbell rings, the waiting TDs follow. */
void
xfer_restart(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	struct xhci_ep *ep = d->ep[dci];

	if (!ep->ring.trb || ep->stalled || ep->fix_queued || ep->busy ||
	    !d->slot || a->hstate != HC_UP)
		return;
	if (ep->head) {
		xfer_head_started(a, ep, ep->head);
		db_ring(a, d->slot, dci);
	}
	xfer_flush(a, d, dci);
}

void
xfer_take(struct xhci *a, struct usb_req *r)
{
	struct xhci_dev *d = dev_find(a, r->dev);
	unsigned dci = dci_of(r->ep);

	rq_of(r)->where = RQ_WAIT;
	rq_list_add(&d->ep[dci]->whead, &d->ep[dci]->wtail, r);
	xfer_flush(a, d, dci);
}

/* Every endpoint with TDs told again (the controller runs again). */
void
xfer_ring_doorbells(struct xhci *a)
{
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		struct xhci_dev *d = a->devs[i];

		for (unsigned dci = 1; d && d->slot && dci < CTX_ENTRIES; dci++)
			if (d->ep[dci] && d->ep[dci]->head &&
			    !d->ep[dci]->stalled && !d->ep[dci]->fix_queued)
				db_ring(a, d->slot, dci);
	}
}

/* --- completion ------------------------------------------------------------ */

static void
finish(struct xhci *a, struct usb_req *r, int status, uint32_t actual)
{
	if (status == PB_OK && (r->flags & USB_REQ_SHORT_ERR) &&
	    actual < r->length)
		status = PB_EIO;
	rq_complete(a, r, status, actual);
}

/* The oldest TD ends with status; the next one's time starts. */
void
xfer_end_head(struct xhci *a, struct xhci_dev *d, unsigned dci, int status,
    uint32_t actual)
{
	struct xhci_ep *ep = d->ep[dci];
	struct usb_req *r = rq_list_pop(&ep->head, &ep->tail);

	if (!r)
		return;
	ep->ring.used -= rq_of(r)->ntrb;
	finish(a, r, status, actual);
	if (ep->head)
		xfer_head_started(a, ep, ep->head);
	xfer_flush(a, d, dci);
}

/* Everything of the endpoint ends now, in order (it was dropped, or its
 * slot disabled: the controller no longer reads the ring). */
void
xfer_end_all(struct xhci *a, struct xhci_dev *d, unsigned dci, int status)
{
	struct xhci_ep *ep = d->ep[dci];
	struct usb_req *r;

	while ((r = rq_list_pop(&ep->head, &ep->tail)))
		rq_complete(a, r, status, 0);
	while ((r = rq_list_pop(&ep->whead, &ep->wtail)))
		rq_complete(a, r, status, 0);
	ep->ring.used = 0;
	ep->ghost = 0;
}

/* The requests marked by a cancel end, oldest first: those on the ring
 * (the endpoint is stopped) and the waiting ones marked with them. */
void
xfer_end_doomed(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	struct xhci_ep *ep = d->ep[dci];

	while (ep->head && rq_of(ep->head)->doomed) {
		struct usb_req *r = rq_list_pop(&ep->head, &ep->tail);

		ep->ring.used -= rq_of(r)->ntrb;
		rq_complete(a, r, PB_ECANCELED, 0);
	}
	if (ep->head)
		return;		/* the ring's TDs before the waiting ones */
	while (ep->whead && rq_of(ep->whead)->doomed)
		rq_complete(a, rq_list_pop(&ep->whead, &ep->wtail),
		    PB_ECANCELED, 0);
}

/* Every request of the endpoint now ends PB_ECANCELED: those on the ring
 * once it is stopped (fix.c), the others with them. */
void
xfer_cancel_ep(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	struct xhci_ep *ep = d->ep[dci];

	for (struct usb_req *r = ep->head; r; r = rq_of(r)->next)
		rq_of(r)->doomed = 1;
	for (struct usb_req *r = ep->whead; r; r = rq_of(r)->next)
		rq_of(r)->doomed = 1;
	if (ep->head)
		fix_queue(a, d, dci, FIX_CANCEL);
	else
		xfer_end_doomed(a, d, dci);
}

/* --- events ----------------------------------------------------------------- */

static int
in_td(const struct xhci_ring *ring, const struct xrq *q, uint32_t k)
{
	if (q->first <= q->last)
		return k >= q->first && k <= q->last;
	return k >= q->first || k <= q->last;
}

static int
data_trb(const struct xhci_ring *ring, uint32_t k)
{
	unsigned type = TRB_TYPE(ring->trb[k].control);

	return type == TRB_NORMAL || type == TRB_DATA;
}

/* Bytes of the TD's data TRBs before TRB k. */
static uint32_t
bytes_before(const struct xhci_ring *ring, const struct xrq *q, uint32_t k)
{
	uint32_t sum = 0, i = q->first;

	for (unsigned n = 0; i != k && n < q->ntrb; n++) {
		if (data_trb(ring, i))
			sum += ring->trb[i].status & TRB_LEN_MASK;
		i = ring_next(ring, i);
	}
	return sum;
}

/* What the TD moved up to and with TRB k, which left `residual`. */
static uint32_t
moved(const struct xhci_ring *ring, const struct xrq *q, uint32_t k,
    uint32_t residual)
{
	uint32_t sum = bytes_before(ring, q, k), len;

	if (!data_trb(ring, k))
		return sum;
	len = ring->trb[k].status & TRB_LEN_MASK;
	return sum + (residual < len ? len - residual : 0);
}

static void
td_success(struct xhci *a, struct xhci_dev *d, unsigned dci, uint32_t k,
    unsigned cc, uint32_t residual)
{
	struct xhci_ep *ep = d->ep[dci];
	struct usb_req *r = ep->head;
	struct xrq *q = rq_of(r);
	uint32_t actual = moved(&ep->ring, q, k, residual);

	d->timeouts = 0;
	if (is_control(dci)) {
		if (k != q->last) {
			if (cc == CC_SHORT_PACKET && data_trb(&ep->ring, k)) {
				q->short_seen = 1;
				q->actual = actual;
			}
			return;		/* the Status stage's event ends it */
		}
		xfer_end_head(a, d, dci, PB_OK, q->short_seen ? q->actual :
		    r->length);
		return;
	}
	ep->ghost = k != q->last ? ring_bus(&ep->ring, q->last) : 0;
	xfer_end_head(a, d, dci, PB_OK, actual);
}

static void
td_error(struct xhci *a, struct xhci_dev *d, unsigned dci, unsigned cc)
{
	struct xhci_ep *ep = d->ep[dci];
	struct xrq *q = rq_of(ep->head);
	int bulk_intr = !is_control(dci);

	switch (cc) {
	case CC_STALL:
		xfer_end_head(a, d, dci, USB_ESTALL, 0);
		if (is_control(dci))
			fix_queue(a, d, dci, FIX_RESET);
		else
			ep->stalled = 1;
		return;
	case CC_TRANSACTION:
		if (q->tries < XHCI_TRIES && (!bulk_intr || !d->tt_slot)) {
			q->tries++;
			fix_queue(a, d, dci, bulk_intr ? FIX_RETRY : FIX_RERUN);
			return;
		}
		xlog(a, PB_LOG_WARN, "%s: device %u endpoint %u: USB "
		    "Transaction Error%s: PB_EIO", a->name, d->dev, dci,
		    q->tries ? " again" : " behind a TT");
		break;
	default:
		xlog(a, PB_LOG_WARN, "%s: device %u endpoint %u: %s (%u): "
		    "PB_EIO", a->name, d->dev, dci, cc_name(cc), cc);
		break;
	}
	xfer_end_head(a, d, dci, PB_EIO, 0);
	fix_queue(a, d, dci, FIX_RESET);
}

static int
stopped_cc(unsigned cc)
{
	return cc == CC_STOPPED || cc == CC_STOPPED_LEN_INVALID ||
	    cc == CC_STOPPED_SHORT;
}

void
xfer_event(struct xhci *a, const struct xhci_trb *t)
{
	unsigned slot = TRB_SLOT(t->control), dci = TRB_EP(t->control);
	unsigned cc = EV_CC(t->status);
	struct xhci_dev *d = slot <= a->nslots ? a->by_slot[slot] : NULL;
	struct xhci_ep *ep;
	uint32_t k;

	if (!d || !slot) {
		event_junk(a, t, "a transfer event of no slot of ours");
		return;
	}
	ep = ep_live(d, dci);
	if (!dci || !ep || (t->control & TRB_ED)) {
		event_junk(a, t, "a transfer event of no endpoint of ours");
		return;
	}
	if (!ring_index(&ep->ring, t->param, &k)) {
		if (!stopped_cc(cc))
			event_junk(a, t, "a transfer event off the ring");
		return;
	}
	if (!ep->head || !in_td(&ep->ring, rq_of(ep->head), k)) {
		if (t->param == ep->ghost && ep->ghost) {
			ep->ghost = 0;	/* after a short packet: expected */
			return;
		}
		if (!stopped_cc(cc))
			event_junk(a, t, "a transfer event of no TD in flight");
		return;
	}
	ep->ghost = 0;
	if (stopped_cc(cc))
		return;		/* a Stop Endpoint's: fix.c goes on */
	if (cc == CC_SUCCESS || cc == CC_SHORT_PACKET)
		td_success(a, d, dci, k, cc, EV_LEN(t->status));
	else
		td_error(a, d, dci, cc);
}

/* --- timeouts ------------------------------------------------------------- */

static void
timed_out(struct xhci *a, struct xhci_dev *d, unsigned dci)
{
	struct xrq *q = rq_of(d->ep[dci]->head);

	q->deadline = 0;
	q->timed_out = 1;
	d->timeouts++;
	xlog(a, PB_LOG_WARN, "%s: device %u endpoint %u: a transfer not done "
	    "in %llu ms: stopped", a->name, d->dev, dci,
	    (unsigned long long)(timeout_of(d->ep[dci]->type) / MS));
	if (d->timeouts >= XHCI_LOST_AFTER)
		dev_lost(a, d, "its transfers keep timing out");
	else
		fix_queue(a, d, dci, FIX_TIMEOUT);
}

void
xfer_timeouts(struct xhci *a, uint64_t t)
{
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		struct xhci_dev *d = a->devs[i];

		for (unsigned dci = 1; d && dci < CTX_ENTRIES; dci++) {
			struct xhci_ep *ep = d->ep[dci];

			if (ep && ep->head && !ep->fix_queued &&
			    rq_of(ep->head)->deadline &&
			    t >= rq_of(ep->head)->deadline)
				timed_out(a, d, dci);
		}
	}
}

uint64_t
xfer_next_deadline(const struct xhci *a)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		const struct xhci_dev *d = a->devs[i];

		for (unsigned dci = 1; d && dci < CTX_ENTRIES; dci++) {
			const struct xhci_ep *ep = d->ep[dci];
			uint64_t dl;

			if (!ep || !ep->head || ep->fix_queued)
				continue;
			dl = rq_of(ep->head)->deadline;
			if (dl && (!next || dl < next))
				next = dl;
		}
	}
	return next;
}
