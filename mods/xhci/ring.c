/*
 * ring.c - the rings the controller reads and writes (xHCI 1.2 §4.9).
 *
 * A producer ring (the command ring, each endpoint's transfer ring) is one
 * segment of n TRBs whose last is a Link TRB back to the first with Toggle
 * Cycle set (§4.9.2.2, §6.4.4.1).  The driver writes TRBs at `enq` with
 * its cycle state; passing the Link TRB it gives the Link the current
 * cycle (and the Chain bit when a TD goes on across it, §4.11.5.1) and
 * toggles its state.  A TD's first TRB may be written with the wrong
 * cycle and armed last (ring_arm_first), so the controller never starts
 * on a TD half written.  Transfer rings count the TRBs of TDs
 * not completed (`used`), so a TD goes on only when it fits.
 *
 * The event ring (§4.9.4) is one segment in a one-entry Event Ring
 * Segment Table; the driver consumes TRBs while their cycle bit matches
 * its consumer cycle state, and tells the controller how far it got by
 * writing ERDP with EHB (evring_done).  Every segment is 64-byte aligned
 * and crosses no 64 KiB boundary (§6.1, Table 6-1), below the DMA limit.
 */
#include "xhci.h"

int
ring_alloc(struct xhci *a, struct xhci_ring *r, uint32_t n)
{
	uint64_t bus;
	volatile struct xhci_trb *t;

	t = a->hub->dma_alloc(a->self, (size_t)n * sizeof(*t), RING_ALIGN,
	    RING_BOUNDARY, a->dma_limit, &bus);
	if (!t)
		return PB_ENOMEM;
	r->trb = t;
	r->bus = bus;
	r->n = n;
	ring_reset(r);
	return PB_OK;
}

void
ring_free(struct xhci *a, struct xhci_ring *r)
{
	if (r->trb)
		a->hub->dma_free(a->self, (void *)r->trb);
	memset(r, 0, sizeof(*r));
}

/* Empty again: every TRB zero (no cycle bit set), the Link TRB at the
 * end, the producer cycle 1 (the controller's starts at 1 too). */
void
ring_reset(struct xhci_ring *r)
{
	volatile struct xhci_trb *t = r->trb;

	for (uint32_t i = 0; i < r->n; i++) {
		t[i].param = 0;
		t[i].status = 0;
		t[i].control = 0;
	}
	t[r->n - 1].param = r->bus;
	t[r->n - 1].control = TRB_TYPE_SET(TRB_LINK) | TRB_TC;
	r->enq = 0;
	r->used = 0;
	r->cycle = 1;
}

/* TRBs a new TD may still take. */
uint32_t
ring_room(const struct xhci_ring *r)
{
	return r->n - 1 - r->used;
}

uint64_t
ring_bus(const struct xhci_ring *r, uint32_t index)
{
	return r->bus + (uint64_t)index * sizeof(struct xhci_trb);
}

uint32_t
ring_next(const struct xhci_ring *r, uint32_t index)
{
	return index + 1 >= r->n - 1 ? 0 : index + 1;
}

/* Is bus the address of one of the ring's TRBs (not its Link)?  Checked
 * before anything is looked up there: events name TRBs by bus address. */
int
ring_index(const struct xhci_ring *r, uint64_t bus, uint32_t *index)
{
	uint64_t off;

	if (!r->trb || bus < r->bus)
		return 0;
	off = bus - r->bus;
	if (off % sizeof(struct xhci_trb) ||
	    off / sizeof(struct xhci_trb) >= r->n - 1)
		return 0;
	*index = (uint32_t)(off / sizeof(struct xhci_trb));
	return 1;
}

/*
 * Write one TRB at enq and step past it (and past the Link TRB).  The
 * control word goes last, with the cycle bit (TRB_C in `control` asks
 * for the opposite one: a TD's first TRB, armed later).  The TRB's index.
 */
uint32_t
ring_put(struct xhci_ring *r, uint64_t param, uint32_t status,
    uint32_t control)
{
	volatile struct xhci_trb *t = &r->trb[r->enq];
	uint32_t at = r->enq, cycle = r->cycle;

	if (control & TRB_C)
		cycle ^= 1u;
	t->param = param;
	t->status = status;
	t->control = (control & ~TRB_C) | cycle;
	if (++r->enq == r->n - 1) {
		volatile struct xhci_trb *link = &r->trb[r->n - 1];

		link->control = TRB_TYPE_SET(TRB_LINK) | TRB_TC |
		    (control & TRB_CH) | r->cycle;
		r->cycle ^= 1u;
		r->enq = 0;
	}
	return at;
}

/* The TD from `index` on is whole: its first TRB gets its cycle. */
void
ring_arm_first(struct xhci_ring *r, uint32_t index, uint8_t cycle)
{
	volatile struct xhci_trb *t = &r->trb[index];

	mmio_wmb();		/* the rest of the TD before its first TRB */
	t->control = (t->control & ~TRB_C) | cycle;
}

/* --- the event ring ------------------------------------------------------ */

int
evring_alloc(struct xhci *a)
{
	struct xhci_evring *e = &a->ev;
	uint64_t bus;
	void *v;

	v = a->hub->dma_alloc(a->self, EV_RING_TRBS * sizeof(struct xhci_trb),
	    RING_ALIGN, RING_BOUNDARY, a->dma_limit, &bus);
	if (!v)
		return PB_ENOMEM;
	e->trb = v;
	e->bus = bus;
	e->n = EV_RING_TRBS;
	e->deq = 0;
	e->cycle = 1;
	a->erst = a->hub->dma_alloc(a->self, sizeof(struct xhci_erst),
	    CTX_ALIGN, 0, a->dma_limit, &a->erst_bus);
	if (!a->erst) {
		evring_free(a);
		return PB_ENOMEM;
	}
	a->erst->base = e->bus;
	a->erst->size = e->n;
	a->erst->reserved = 0;
	return PB_OK;
}

void
evring_free(struct xhci *a)
{
	if (a->ev.trb)
		a->hub->dma_free(a->self, (void *)a->ev.trb);
	if (a->erst)
		a->hub->dma_free(a->self, a->erst);
	memset(&a->ev, 0, sizeof(a->ev));
	a->erst = NULL;
}

/* The next event the controller wrote, into *out: 1, or 0 when there is
 * none (its cycle bit is not ours yet). */
int
evring_take(struct xhci *a, struct xhci_trb *out)
{
	struct xhci_evring *e = &a->ev;
	volatile struct xhci_trb *t;
	uint32_t c;

	if (!e->trb)
		return 0;
	t = &e->trb[e->deq];
	c = t->control;
	if ((c & TRB_C) != e->cycle)
		return 0;
	mmio_rmb();		/* the cycle bit before the rest of the TRB */
	out->param = t->param;
	out->status = t->status;
	out->control = c;
	if (++e->deq == e->n) {
		e->deq = 0;
		e->cycle ^= 1u;
	}
	return 1;
}

/* Tell the controller how far the driver read: ERDP, EHB cleared by
 * writing it 1 (§5.5.2.3.3, §4.9.4). */
void
evring_done(struct xhci *a)
{
	struct xhci_evring *e = &a->ev;

	if (!e->trb)
		return;
	ir_wr64(a, IR_ERDP, (e->bus + (uint64_t)e->deq *
	    sizeof(struct xhci_trb)) | ERDP_EHB);
}
