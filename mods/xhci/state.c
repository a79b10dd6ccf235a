/*
 * state.c - the swap (`update xhci PATH`, `swap usb-hci:xhci0 xhci`).
 *
 * The old side: quiesce starts no new command, waits (PB_EAGAIN) for the
 * one on the ring (bounded by its own timeout), then clears R/S and waits
 * for HCH (50 ms, then handed over anyway with a log line) and reads the
 * events written before it halted.  export_state is abi/usb.h's struct
 * usb_hci_state: the pointers of every request not completed, oldest
 * first (the bus's standing WAIT_EVENT too).  The old side keeps them in
 * its lists, untouched, and neither serves nor completes them from then
 * on (rq_complete checks each is still ours); resume (a failed swap)
 * makes them its own again and runs the controller on.
 *
 * The new side, started in standby, reads the registers, publishes
 * `usb-hci:xhciN` with the same path (the swap pairs them by it) and
 * touches nothing.  import_state only checks the state and notes the
 * pointers: their scratch is the old side's until activate, which takes
 * them after its last step that can fail, and resets the controller:
 * every connected root port is reported again (CONNECT), so the bus
 * enumerates its devices again.  The requests are then
 *   WAIT_EVENT        the new standing request
 *   XFER, CLEAR_HALT  held, each until its `dev` has been added again
 *                     and the bus sends USB_OP_RESUME for it; then run
 *                     in order.  Held 2 s after the controller runs, or
 *                     at USB_OP_REMOVE of their dev: PB_ECANCELED
 *   ADD ... HUB       PB_ECANCELED: the bus sets its devices up again
 *   REMOVE, RESUME    PB_OK: nothing of the old controller is left
 *   any, completed    its completion posted: the old side set its status
 *                     and faulted before the post (a restart from the
 *                     image after a fault exports from the faulted
 *                     instance, hub/replay.c)
 */
#include "xhci.h"

/* --- every request the driver holds ------------------------------------- */

typedef void req_fn(struct xhci *a, struct usb_req *r, void *arg);

static void
each_list(struct xhci *a, struct usb_req *r, req_fn *fn, void *arg)
{
	while (r) {
		struct usb_req *next = rq_of(r)->next;

		fn(a, r, arg);
		r = next;
	}
}

static void
each_request(struct xhci *a, req_fn *fn, void *arg)
{
	for (struct xop *op = a->ops, *next; op; op = next) {
		next = op->next;
		if (op->req)
			fn(a, op->req, arg);
	}
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		struct xhci_dev *d = a->devs[i];

		for (unsigned dci = 1; d && dci < CTX_ENTRIES; dci++) {
			if (!d->ep[dci])
				continue;
			each_list(a, d->ep[dci]->head, fn, arg);
			each_list(a, d->ep[dci]->whead, fn, arg);
		}
	}
	each_list(a, a->waiters, fn, arg);
	each_list(a, a->held, fn, arg);
	/* Completed, but a fault cut its post short (req.c). */
	if (a->posting && rq_of(a->posting)->owner == a &&
	    rq_of(a->posting)->where == RQ_POSTING)
		fn(a, a->posting, arg);
}

struct collect {
	struct usb_req **out;
	uint32_t n;
};

static void
collect(struct xhci *a, struct usb_req *r, void *arg)
{
	struct collect *c = arg;
	uint32_t k = c->n++;

	if (!c->out)
		return;
	/* oldest first: by submission order */
	while (k > 0 && (int32_t)(rq_of(c->out[k - 1])->seq -
	    rq_of(r)->seq) > 0) {
		c->out[k] = c->out[k - 1];
		k--;
	}
	c->out[k] = r;
}

static void
complete_one(struct xhci *a, struct usb_req *r, void *arg)
{
	rq_complete(a, r, *(int *)arg, 0);
}

/* Every list of requests emptied (what was in them is dealt with). */
static void
lists_clear(struct xhci *a)
{
	a->ops = a->ops_tail = NULL;
	a->waiters = a->waiters_tail = NULL;
	a->held = a->held_tail = NULL;
	a->held_deadline = 0;
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++) {
		struct xhci_dev *d = a->devs[i];

		for (unsigned dci = 1; d && dci < CTX_ENTRIES; dci++) {
			struct xhci_ep *ep = d->ep[dci];

			if (!ep)
				continue;
			ep->head = ep->tail = ep->whead = ep->wtail = NULL;
			ep->ring.used = 0;
			ep->fix_queued = 0;
			ep->fix_flags = 0;
		}
	}
	cmd_reset_state(a);
}

/* Every request ends with status: the controller was given up, the
 * driver stops, its client went. */
void
xhci_fail_all(struct xhci *a, int status)
{
	each_request(a, complete_one, &status);
	lists_clear(a);
}

/* Let go of every request without a word (they are another driver's:
 * not even looked at, their memory may be gone) and of the devices. */
void
state_forget(struct xhci *a)
{
	lists_clear(a);
	xhci_forget_devices(a);
	a->evq_n = 0;
	a->evq_overflow = 0;
	for (unsigned i = 0; i < XHCI_MAX_PORTS; i++)
		a->port[i].state = PORT_IDLE, a->port[i].next = 0;
}

/* --- the old side ------------------------------------------------------- */

int
state_quiesce(struct xhci *a)
{
	uint64_t t = xhci_now(a);
	uint32_t sts;

	a->quiesced = 1;
	if (a->standby || a->released || a->hstate == HC_DOWN ||
	    a->hstate == HC_DEAD)
		return PB_OK;
	if (a->hstate != HC_UP) {
		a->hstate = HC_DOWN;	/* a bring-up cut short: the next */
		a->h_next = 0;		/* driver resets anyway */
	}
	if (a->cmd_busy || a->aborting)
		return PB_EAGAIN;	/* bounded by its timeout */
	sts = op_rd(a, OP_USBSTS);
	if (!(sts & USBSTS_HCH) && sts != 0xffffffffu) {
		if (!a->q_deadline) {
			op_wr(a, OP_USBCMD, op_rd(a, OP_USBCMD) & ~USBCMD_RS);
			a->q_deadline = t + T_HALT;
			tick_arm(a, a->q_deadline);
		}
		if (t < a->q_deadline)
			return PB_EAGAIN;
		xlog(a, PB_LOG_WARN, "%s: USBSTS.HCH did not set %llu ms after "
		    "R/S=0 (USBSTS 0x%08x): handed over anyway", a->name,
		    (unsigned long long)(T_HALT / MS), sts);
	}
	a->q_deadline = 0;
	if (a->hstate == HC_UP)
		event_drain(a);		/* what it finished before halting */
	return PB_OK;
}

int
state_size(struct xhci *a, size_t *len)
{
	struct collect c = { NULL, 0 };

	each_request(a, collect, &c);
	*len = sizeof(struct usb_hci_state) + c.n * sizeof(struct usb_req *);
	return PB_OK;
}

int
state_export(struct xhci *a, void *buf, size_t cap, size_t *len)
{
	struct usb_hci_state *st = buf;
	struct collect c;

	state_size(a, len);
	if (cap < *len)
		return PB_EINVAL;
	c.out = (struct usb_req **)(void *)(st + 1);
	c.n = 0;
	each_request(a, collect, &c);
	st->nreq = c.n;
	st->reserved = 0;
	a->handed = 1;
	return PB_OK;
}

int
state_release(struct xhci *a)
{
	a->released = 1;
	if (a->standby)
		return PB_OK;
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	a->tick_id = 0;
	hc_halt_now(a);
	return PB_OK;
}

/* Undo quiesce and release: the controller runs on with our memory (a
 * failed swap); after a successor ran it, it starts over. */
int
state_resume(struct xhci *a)
{
	a->quiesced = 0;
	a->q_deadline = 0;
	if (a->standby) {
		a->released = 0;
		return PB_OK;
	}
	if (!a->pci)
		return PB_ENODEV;
	a->handed = 0;
	if (a->superseded) {
		state_forget(a);
		a->superseded = 0;
		a->released = 0;
		hc_begin(a);
		return PB_OK;
	}
	if (a->released) {
		a->released = 0;
		hc_enable_pci(a);
	}
	if (a->hstate != HC_UP) {
		hc_begin(a);
		return PB_OK;
	}
	irq_setup(a);
	ir_wr(a, IR_IMAN, IMAN_IP | (a->irq != IRQ_POLL ? IMAN_IE : 0));
	op_wr(a, OP_USBCMD, USBCMD_RS | USBCMD_HSEE |
	    (a->irq != IRQ_POLL ? USBCMD_INTE : 0));
	xfer_ring_doorbells(a);
	cmd_kick(a);
	a->hub->work_post(a->self, &a->ev_work);
	tick_arm(a, xhci_now(a) + T_STEP);
	return PB_OK;
}

/* --- the new side ------------------------------------------------------- */

static void
drop_imported(struct xhci *a)
{
	if (a->imported)
		a->hub->free(a->self, a->imported);
	a->imported = NULL;
	a->nimported = 0;
}

int
state_import(struct xhci *a, const void *buf, size_t len, uint32_t version)
{
	const struct usb_hci_state *st = buf;
	struct usb_req *const *reqs;

	drop_imported(a);
	if (!buf || !len)
		return PB_OK;
	if (version != USB_HCI_STATE_VERSION) {
		xlog(a, PB_LOG_WARN, "refusing a state of version 0x%x",
		    version);
		return PB_ESTATE;
	}
	if (len < sizeof(*st) || st->nreq > 4096 ||
	    len < sizeof(*st) + st->nreq * sizeof(struct usb_req *)) {
		xlog(a, PB_LOG_WARN, "refusing a state of %zu bytes for %u "
		    "requests", len, len >= sizeof(*st) ? st->nreq : 0);
		return PB_ESTATE;
	}
	reqs = (struct usb_req *const *)(const void *)(st + 1);
	for (uint32_t k = 0; k < st->nreq; k++)
		if (!reqs[k] || reqs[k]->size < sizeof(struct usb_req)) {
			xlog(a, PB_LOG_WARN, "refusing the state: request %u "
			    "is not one", k);
			return PB_ESTATE;
		}
	if (st->nreq && !(a->imported = a->hub->alloc(a->self,
	    st->nreq * sizeof(struct usb_req *))))
		return PB_ENOMEM;
	for (uint32_t k = 0; k < st->nreq; k++)
		a->imported[k] = reqs[k];
	a->nimported = st->nreq;
	a->took_over = 1;
	return PB_OK;
}

/* An imported request, ours from now on. */
static void
take(struct xhci *a, struct usb_req *r, unsigned *held)
{
	struct xrq *q = rq_of(r);
	int completed = q->where == RQ_POSTING;

	memset(q, 0, sizeof(*q));
	q->owner = a;
	q->seq = ++a->seq;
	if (completed) {	/* its status is set: only the post is left */
		rq_complete(a, r, r->status, r->actual);
		return;
	}
	switch (r->op) {
	case USB_OP_WAIT_EVENT:
		q->where = RQ_EVENT;
		rq_list_add(&a->waiters, &a->waiters_tail, r);
		return;
	case USB_OP_XFER:
	case USB_OP_CLEAR_HALT:
		q->where = RQ_HELD;
		rq_list_add(&a->held, &a->held_tail, r);
		(*held)++;
		return;
	default:
		rq_complete(a, r, rq_is_setup_op(r->op) ? PB_ECANCELED :
		    r->op == USB_OP_REMOVE || r->op == USB_OP_RESUME ? PB_OK :
		    PB_EINVAL, 0);
		return;
	}
}

int
state_activate(struct xhci *a)
{
	unsigned held = 0;

	if (!a->pci || (!a->standby && !a->released))
		return PB_EINVAL;
	if (hc_enable_pci(a) != PB_OK)
		return PB_EIO;
	if (cap_rd(a, CAP_LENGTH_VERSION) == 0xffffffffu) {
		xlog(a, PB_LOG_ERR, "%s: the registers read all ones", a->path);
		return PB_ENODEV;
	}
	/* Nothing below fails: the requests are ours from here. */
	if (!a->standby)
		state_forget(a);	/* taking back after a successor */
	a->standby = a->released = a->handed = a->superseded = 0;
	a->quiesced = 0;
	for (uint32_t k = 0; k < a->nimported; k++)
		take(a, a->imported[k], &held);
	a->note_reqs = a->nimported;
	a->note_held = held;
	a->hub->work_post(a->self, &a->note_work);	/* after the blackout */
	drop_imported(a);
	hc_begin(a);
	return PB_OK;
}

/* What activate took, said after the swap's blackout. */
void
state_note(void *arg)
{
	struct xhci *a = arg;

	xlog(a, PB_LOG_INFO, "%s: took over %u request%s (%u held for their "
	    "devices); the controller is reset", a->name, a->note_reqs,
	    a->note_reqs == 1 ? "" : "s", a->note_held);
}

/* The controller runs: held requests wait T_HELD for their devices. */
void
state_held_up(struct xhci *a)
{
	if (!a->held)
		return;
	a->held_deadline = xhci_now(a) + T_HELD;
	tick_arm(a, a->held_deadline);
}

void
state_held_timeout(struct xhci *a, uint64_t t)
{
	unsigned n = 0;
	struct usb_req *r;

	if (!a->held_deadline || t < a->held_deadline)
		return;
	while ((r = rq_list_pop(&a->held, &a->held_tail))) {
		rq_complete(a, r, PB_ECANCELED, 0);
		n++;
	}
	a->held_deadline = 0;
	if (n)
		xlog(a, PB_LOG_WARN, "%s: %u held request%s of devices not "
		    "resumed in %llu ms: cancelled", a->name, n,
		    n == 1 ? "" : "s", (unsigned long long)(T_HELD / MS));
}

/* Take the held requests matching (dev, ep; 0xff: all endpoints) out, in
 * order, into *out (a list). */
static void
held_take(struct xhci *a, uint32_t dev, uint8_t ep, struct usb_req **out,
    struct usb_req **out_tail)
{
	struct usb_req *keep = NULL, *keep_tail = NULL, *r;

	while ((r = rq_list_pop(&a->held, &a->held_tail))) {
		if (r->dev == dev && (ep == 0xff || r->ep == ep))
			rq_list_add(out, out_tail, r);
		else
			rq_list_add(&keep, &keep_tail, r);
	}
	a->held = keep;
	a->held_tail = keep_tail;
	if (!a->held)
		a->held_deadline = 0;
}

/* USB_OP_RESUME: dev's held requests run, in order. */
void
state_resume_dev(struct xhci *a, uint32_t dev)
{
	struct usb_req *list = NULL, *tail = NULL, *r;
	int err;

	held_take(a, dev, 0xff, &list, &tail);
	while ((r = rq_list_pop(&list, &tail))) {
		rq_of(r)->where = RQ_NONE;
		if (r->op == USB_OP_XFER) {
			if ((err = xfer_check(a, r)) == PB_OK)
				xfer_take(a, r);
			else
				rq_complete(a, r, err, 0);
		} else if ((err = dev_check(a, r)) == PB_OK) {
			rq_start_op(a, r);
		} else {
			rq_complete(a, r, err, 0);
		}
	}
}

unsigned
state_drop_held(struct xhci *a, uint32_t dev, uint8_t ep, int status)
{
	struct usb_req *list = NULL, *tail = NULL, *r;
	unsigned n = 0;

	held_take(a, dev, ep, &list, &tail);
	while ((r = rq_list_pop(&list, &tail))) {
		rq_complete(a, r, status, 0);
		n++;
	}
	return n;
}
