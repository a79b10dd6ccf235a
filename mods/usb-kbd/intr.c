/*
 * intr.c - the standing interrupt-IN request: 8 bytes (a boot report),
 * always one with the bus while the keyboard is read, submitted again at
 * each completion (HID 1.11 §4.4: the interrupt pipe carries the input
 * reports; SET_IDLE(0) makes the keyboard send one only on a change, so
 * the request may wait for minutes).
 *
 * Completions:
 *   PB_OK		a report (keys.c), and the request goes again;
 *   USB_ESTALL		the endpoint halted: USB_OP_CLEAR_HALT (the device's
 *			halt feature and the controller's endpoint), then
 *			the request goes again;
 *   PB_EIO, others	the bus's own retries are spent: tried again after
 *			10, 20, 40 ... ms, INTR_RETRIES times in a row at
 *			most; then the bus resets the device
 *			(USB_OP_RESET_DEVICE, as Linux's usbhid does for a
 *			device that keeps failing) and reading starts over,
 *			once until a report comes; then one line and the
 *			keyboard is left alone (a report that comes resets
 *			the count);
 *   PB_ECANCELED	our cancel (a swap), or the device went: no more.
 * A submit the bus refuses counts as a failed transfer (the same tries,
 * then the reset); a refused CLEAR_HALT or reset stops input at once.
 *
 * A completion that runs with an argument that is none of our keyboards
 * (its work item damaged: the campaign's regbit) would leave the request
 * taken for good and the keyboard silent without a fault: every keyboard
 * whose request the bus has completed (its status no longer
 * USBKBD_PENDING) is then served instead.
 */
#include "usbkbd.h"

static void intr_done(void *arg);
static void intr_backoff(struct ukbd *k, int err);

static void
intr_give_up(struct ukbd *k, const char *what, int err)
{
	if (k->stopped)
		return;
	k->stopped = 1;
	repeat_stop(k);
	KLOG(k, PB_LOG_ERR, "interrupt IN 0x%02x %s (%d): keyboard input "
	    "stopped", k->ep, what, err);
}

/* Submit k->intr as it is filled. */
static void
intr_submit(struct ukbd *k)
{
	int r;

	if (!k->intr.done.fn)
		uk.hub->work_init(uk.self, &k->intr.done, intr_done, k);
	k->intr.status = USBKBD_PENDING;
	r = PB_CALL(k->usb, usb_ops, submit, &k->intr);
	if (r != PB_OK && !k->intr_halt && !k->intr_reset) {
		/* The report request refused: tried again as a failed one
		 * is, then a reset, before input stops.  One refusal is no
		 * reason to leave the user without a keyboard (campaign
		 * usbonly seed 5150 #195: xhci answered -16 once). */
		intr_backoff(k, r);
		return;
	}
	if (r != PB_OK) {
		intr_give_up(k, k->intr_halt ? "CLEAR_HALT refused" :
		    "kept failing, and its reset was refused", r);
		return;
	}
	k->intr_busy = 1;
}

static void
intr_fill(struct ukbd *k, uint8_t op)
{
	struct usb_req *r = &k->intr;

	ukbd_req_reset(r);
	r->op = op;
	r->ep = op == USB_OP_RESET_DEVICE ? 0 : k->ep;
	k->intr_halt = op == USB_OP_CLEAR_HALT;
	k->intr_reset = op == USB_OP_RESET_DEVICE;
	if (op == USB_OP_XFER) {
		r->length = sizeof(struct hid_boot_report);
		r->segs = &k->rseg;
		r->nseg = 1;
	}
}

/* The report request, unless one is out or reading is not ours now. */
void
intr_arm(struct ukbd *k)
{
	if (!k->active || !k->setup_done || k->quiescing || k->released ||
	    k->gone || !k->usb || k->intr_busy || k->stopped ||
	    k->retry_timer)
		return;
	intr_fill(k, USB_OP_XFER);
	intr_submit(k);
}

static void
intr_retry(void *arg)
{
	struct ukbd *k = arg;

	k->retry_timer = 0;
	intr_arm(k);
}

void
intr_stop_timer(struct ukbd *k)
{
	if (k->retry_timer)
		uk.hub->timer_cancel(uk.self, k->retry_timer);
	k->retry_timer = 0;
}

/* A failed transfer: again after a while, a few times. */
static void
intr_backoff(struct ukbd *k, int err)
{
	int id;

	if (++k->failures > INTR_RETRIES && !k->reset_tried) {
		KLOG(k, PB_LOG_WARN, "interrupt IN 0x%02x kept failing (%d): "
		    "the device is reset", k->ep, err);
		k->reset_tried = 1;
		intr_fill(k, USB_OP_RESET_DEVICE);
		intr_submit(k);
		return;
	}
	if (k->failures > INTR_RETRIES) {
		intr_give_up(k, "kept failing", err);
		return;
	}
	id = uk.hub->timer_after(uk.self, INTR_BACKOFF_NS << (k->failures - 1),
	    intr_retry, k);
	if (id <= 0)
		intr_give_up(k, "failed, and no timer to try again", err);
	else
		k->retry_timer = id;
}

static void
intr_done(void *arg)
{
	struct ukbd *k = ukbd_of(arg, "a report's completion");

	/* Still pending: posted twice (a controller restarted as it
	 * posted, mods/xhci/state.c), the request out again since. */
	if (k && k->intr.status != USBKBD_PENDING)
		intr_completed(k);
}

/* The device is back from its reset (the bus set it up again and
 * replayed SET_PROTOCOL, SET_IDLE and the LEDs): reading starts over. */
static void
reset_completed(struct ukbd *k, int st)
{
	if (st != PB_OK) {
		intr_give_up(k, "kept failing, and its reset failed", st);
		return;
	}
	KLOG(k, PB_LOG_INFO, "back after its reset: reading again");
	k->failures = 0;
	intr_arm(k);
}

void
intr_completed(struct ukbd *k)
{
	int st = k->intr.status, halt = k->intr_halt;

	k->intr_busy = 0;
	if (k->gone) {
		ukbd_idle_check(k);
		return;
	}
	if (st == PB_ECANCELED || st == PB_ENODEV || k->quiescing ||
	    k->released) {
		ukbd_rebound_check(k);	/* the old bus's cancel */
		return;		/* a swap's cancel, or the device went */
	}
	k->rebound = 0;		/* handed over and answered: no start over */
	if (k->intr_reset) {
		reset_completed(k, st);
		return;
	}
	if (st == USB_ESTALL && !halt) {
		intr_fill(k, USB_OP_CLEAR_HALT);
		intr_submit(k);
		return;
	}
	if (st != PB_OK) {
		intr_backoff(k, st);
		return;
	}
	if (!halt) {
		k->failures = 0;
		k->reset_tried = 0;
		keys_report(k, k->buf, k->intr.actual);
	}
	intr_arm(k);
}

/* A swap: the standing request ends (its completion says when). */
void
intr_cancel(struct ukbd *k)
{
	int r;

	intr_stop_timer(k);
	if (!k->intr_busy || k->cancelled || !k->usb)
		return;
	k->cancelled = 1;
	if ((r = PB_CALL(k->usb, usb_ops, cancel, k->ep)) != PB_OK)
		KLOG(k, PB_LOG_WARN, "cancel of interrupt IN 0x%02x refused "
		    "(%d)", k->ep, r);
}
