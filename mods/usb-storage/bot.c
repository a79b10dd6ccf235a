/*
 * bot.c - Bulk-Only Transport 1.0: one command at a time on a stick.
 *
 * A command is three stages, each one usb request (abi/usb.h) completing
 * as our work: the CBW on bulk-OUT (§5.1), the data stage on bulk-IN or
 * bulk-OUT straight from or into the segments the command names (a
 * client's buffers: no copy), and the CSW on bulk-IN (§5.2).  Then:
 *   - a CSW is valid when it is 13 bytes with the signature and our tag,
 *     and meaningful when its status is 0 or 1 with a residue no larger
 *     than the length, or 2 (§6.3); status 1 is the command's failure
 *     (cmd.c asks REQUEST SENSE), anything else wants a reset recovery;
 *   - a STALL on the data stage: clear the endpoint and read the CSW
 *     anyway (§6.7.2, §6.7.3); a STALL on the CSW: clear bulk-IN and read
 *     it once more, then reset recovery (§6.7.2 and Figure 2);
 *   - reset recovery (§5.3.4): the class reset, then CLEAR_FEATURE(HALT)
 *     of bulk-IN and of bulk-OUT; the command fails PB_EIO (cmd.c's
 *     callers may issue it again);
 *   - a reset recovery that fails or times out asks the bus for a port
 *     reset (USB_OP_RESET_DEVICE, `usb` 1.1): some sticks answer nothing,
 *     not even the class reset, until their port is reset (HARDWARE.md).
 *     The bus sets the stick up again, halts cleared, and the command
 *     fails PB_EIO as after a reset recovery.  One port reset until the
 *     stick answers a command again (a CSW);
 *   - a stick that fails the recovery when a port reset was tried since
 *     its last answer, or whose port reset the bus refuses (a 1.0 bus, a
 *     stick behind a hub), fails or does not complete in time, has
 *     stopped answering: PB_ENODEV from then on (dead());
 *   - a request the bus completes PB_ECANCELED or PB_ENODEV (it is
 *     removing the stick) ends the command PB_ECANCELED: the stick went.
 *     The port reset's too: a stick the bus could not bring back is
 *     removed.
 * Every stage has a deadline (T_CMD for the command, T_CTRL for each step
 * of a recovery, T_PORT_RESET for the port reset); at it the request is
 * cancelled and, once it is back, the stick is recovered.  A cancelled
 * request that never comes back in T_CANCEL stays the bus's: the stick is
 * dead.
 */
#include "usbstor.h"

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* --- the wire, pure ------------------------------------------------------ */

void
bot_cbw_build(uint8_t *out, uint32_t tag, uint32_t length, int in,
    uint8_t lun, const uint8_t *cb, uint8_t cb_len)
{
	memset(out, 0, sizeof(struct bot_cbw));
	put_le32(out + offsetof(struct bot_cbw, dCBWSignature), CBW_SIGNATURE);
	put_le32(out + offsetof(struct bot_cbw, dCBWTag), tag);
	put_le32(out + offsetof(struct bot_cbw, dCBWDataTransferLength),
	    length);
	out[offsetof(struct bot_cbw, bmCBWFlags)] = in && length ?
	    CBW_FLAG_IN : 0;
	out[offsetof(struct bot_cbw, bCBWLUN)] = lun & 0x0f;
	if (cb_len > CBW_CB_MAX)
		cb_len = CBW_CB_MAX;
	out[offsetof(struct bot_cbw, bCBWCBLength)] = cb_len;
	memcpy(out + offsetof(struct bot_cbw, CBWCB), cb, cb_len);
}

int
bot_csw_check(const uint8_t *csw, uint32_t actual, uint32_t tag,
    uint32_t length, uint32_t *residue, const char **why)
{
	uint32_t sig, got_tag;
	uint8_t status;

	*residue = 0;
	if (actual != sizeof(struct bot_csw)) {
		*why = "the CSW is not 13 bytes";
		return BOT_V_INVALID;
	}
	sig = le32(csw + offsetof(struct bot_csw, dCSWSignature));
	got_tag = le32(csw + offsetof(struct bot_csw, dCSWTag));
	status = csw[offsetof(struct bot_csw, bCSWStatus)];
	if (sig != CSW_SIGNATURE) {
		*why = "the CSW has a wrong signature";
		return BOT_V_INVALID;
	}
	if (got_tag != tag) {
		*why = "the CSW has another command's tag";
		return BOT_V_INVALID;
	}
	if (status == CSW_PHASE_ERROR) {
		*why = "phase error";
		return BOT_V_PHASE;
	}
	if (status > CSW_PHASE_ERROR) {
		*why = "the CSW has an unknown status";
		return BOT_V_INVALID;
	}
	*residue = le32(csw + offsetof(struct bot_csw, dCSWDataResidue));
	if (*residue > length) {
		*why = "the CSW's residue is larger than the length";
		*residue = 0;
		return BOT_V_INVALID;
	}
	return status == CSW_PASSED ? BOT_V_PASSED : BOT_V_FAILED;
}

/* --- requests ------------------------------------------------------------ */

static void stage_done(struct usbstor_dev *d);

static const char *
stage_name(enum bot_state st)
{
	switch (st) {
	case BS_CBW: return "the CBW";
	case BS_DATA: return "the data stage";
	case BS_CLEAR_DATA: return "clearing the data endpoint";
	case BS_CSW: return "the CSW";
	case BS_CLEAR_CSW: return "clearing bulk-IN";
	case BS_RESET: return "the class reset";
	case BS_RESET_IN:
	case BS_RESET_OUT: return "clearing a halt";
	case BS_PORT_RESET: return "the port reset";
	default: return "a control request";
	}
}

int
bot_busy(const struct usbstor_dev *d)
{
	return d->bot.state != BS_IDLE || d->bot.in_flight;
}

/* One stage's request, fresh but for its work item and the providers'
 * scratch (theirs: should a provider still hold the request, its links
 * there stay whole, and it can tell it is submitted twice). */
static struct usb_req *
fresh_req(struct usbstor_dev *d, uint8_t op, uint8_t ep)
{
	struct usb_req *r = &d->bot.req;
	struct pb_work done = r->done;

	memset(r, 0, offsetof(struct usb_req, bus_scratch));
	r->done = done;
	r->size = sizeof(*r);
	r->op = op;
	r->ep = ep;
	r->client_data = d;
	return r;
}

/* Hand the request to the bus, with the stage's deadline.  A refusal
 * is the stage's status, as if it had completed so. */
static void
submit(struct usbstor_dev *d, uint64_t deadline)
{
	struct usb_req *r = &d->bot.req;
	uint64_t now = us.hub->now_ns();
	int err;

	if (!d->conn) {
		r->status = PB_ENODEV;
		stage_done(d);
		return;
	}
	d->bot.in_flight = 1;
	r->status = BOT_PENDING;
	err = PB_CALL(d->conn, usb_ops, submit, r);
	if (err == PB_EBUSY && r->op != USB_OP_RESET_DEVICE) {
		/* "Still ours", says the bus: it holds the request (a refusal
		 * was not one); its completion ends the stage, or the
		 * deadline does.  Filled afresh and sent again, it would be
		 * linked twice.  (A port reset's PB_EBUSY is a refusal: one
		 * runs already, or the stick is not set up; abi/usb.h.) */
		slog(PB_LOG_WARN, "usb%u: %s: the bus still holds the request: "
		    "waiting for it", d->no, stage_name(d->bot.state));
		dev_timer(d, deadline > now ? deadline - now : 0, TK_BOT);
		return;
	}
	if (err != PB_OK) {
		d->bot.in_flight = 0;
		r->status = err;
		r->actual = 0;
		stage_done(d);
		return;
	}
	dev_timer(d, deadline > now ? deadline - now : 0, TK_BOT);
}

static void
xfer(struct usbstor_dev *d, enum bot_state st, uint8_t ep,
    const struct usb_seg *segs, uint16_t nseg, uint32_t len)
{
	struct usb_req *r = fresh_req(d, USB_OP_XFER, ep);

	r->segs = segs;
	r->nseg = nseg;
	r->length = len;
	d->bot.state = st;
	submit(d, d->bot.deadline);
}

static void
clear_halt(struct usbstor_dev *d, enum bot_state st, uint8_t ep,
    uint64_t deadline)
{
	fresh_req(d, USB_OP_CLEAR_HALT, ep);
	d->bot.state = st;
	submit(d, deadline);
}

/* A class request to the interface (§3.1, §3.2) on the default pipe. */
static void
class_request(struct usbstor_dev *d, enum bot_state st, uint8_t request,
    uint32_t len)
{
	struct usb_req *r = fresh_req(d, USB_OP_XFER, 0);
	struct bot_cmd *c = &d->bot.cmd;

	r->u.setup = (struct usb_setup){
		.bmRequestType = (len ? USB_DIR_IN : 0) | USB_TYPE_CLASS |
		    USB_RECIP_INTERFACE,
		.bRequest = request, .wIndex = d->iface,
		.wLength = (uint16_t)len };
	if (len) {
		c->seg[0] = (struct usb_seg){ d->dma + DMA_DATA,
		    d->dma_bus + DMA_DATA, len, 0 };
		r->segs = c->seg;
		r->nseg = 1;
		r->length = len;
	}
	d->bot.state = st;
	submit(d, us.hub->now_ns() + T_CTRL);
}

static void
finish(struct usbstor_dev *d, int result)
{
	if (d->timer_kind == TK_BOT)
		dev_timer_off(d);
	d->bot.state = BS_IDLE;
	d->bot.cmd.result = result;
	d->bot.done(d);
}

/* --- the command --------------------------------------------------------- */

/* Is the CBW at cbw the one bot_cbw_build was asked for?  Our own code
 * damaged would send the stick garbage, which it stalls for ever. */
static int
cbw_as_meant(const uint8_t *cbw, uint32_t tag, const struct bot_cmd *c)
{
	uint8_t n = c->cdb_len > CBW_CB_MAX ? CBW_CB_MAX : c->cdb_len;

	return le32(cbw + offsetof(struct bot_cbw, dCBWSignature)) ==
	    CBW_SIGNATURE &&
	    le32(cbw + offsetof(struct bot_cbw, dCBWTag)) == tag &&
	    le32(cbw + offsetof(struct bot_cbw, dCBWDataTransferLength)) ==
	    c->length && cbw[offsetof(struct bot_cbw, bCBWCBLength)] == n &&
	    memcmp(cbw + offsetof(struct bot_cbw, CBWCB), c->cdb, n) == 0;
}

void
bot_start(struct usbstor_dev *d, void (*done)(struct usbstor_dev *d))
{
	struct bot *b = &d->bot;
	struct bot_cmd *c = &b->cmd;
	struct usb_seg *cbw = &b->wrap;

	b->done = done;
	b->csw_again = 0;
	c->actual = c->residue = 0;
	if (d->state == DEV_DEAD || b->lost) {
		finish(d, PB_ENODEV);
		return;
	}
	b->deadline = us.hub->now_ns() + T_CMD;
	bot_cbw_build(d->dma + DMA_CBW, ++b->tag, c->length, c->in, c->lun,
	    c->cdb, c->cdb_len);
	if (!cbw_as_meant(d->dma + DMA_CBW, b->tag, c)) {
		usbstor_damaged(d, "the CBW built is not the command's");
		finish(d, PB_EIO);
		return;
	}
	*cbw = (struct usb_seg){ d->dma + DMA_CBW, d->dma_bus + DMA_CBW,
	    sizeof(struct bot_cbw), 0 };
	xfer(d, BS_CBW, d->ep_out, cbw, 1, sizeof(struct bot_cbw));
}

void
bot_control(struct usbstor_dev *d, uint8_t request, uint32_t len,
    void (*done)(struct usbstor_dev *d))
{
	d->bot.done = done;
	d->bot.cmd.actual = 0;
	class_request(d, BS_CONTROL, request, len);
}

static void
read_csw(struct usbstor_dev *d)
{
	struct usb_seg *s = &d->bot.wrap;

	*s = (struct usb_seg){ d->dma + DMA_CSW, d->dma_bus + DMA_CSW,
	    sizeof(struct bot_csw), 0 };
	xfer(d, BS_CSW, d->ep_in, s, 1, sizeof(struct bot_csw));
}

/* §5.3.4: the class reset, then both halts cleared. */
static void
recover(struct usbstor_dev *d, const char *what, int status)
{
	slog(PB_LOG_WARN, "usb%u: %s %s (%d): reset recovery", d->no, what,
	    status == PB_ETIMEDOUT ? "timed out" : "failed", status);
	class_request(d, BS_RESET, BOT_REQ_RESET, 0);
}

/* §5.3.4 before our first command on a stick another driver used since
 * (it may have left a command half way): the class reset, both halts
 * cleared; then done(d), whatever the result (a failed recovery goes on
 * to the port reset, or leaves the stick dead, as after a command). */
void
bot_reset_recovery(struct usbstor_dev *d, void (*done)(struct usbstor_dev *d))
{
	d->bot.done = done;
	class_request(d, BS_RESET, BOT_REQ_RESET, 0);
}

/*
 * The reset recovery failed (its stage and status), and the port reset
 * did not help: the bus refused it or could not complete it, or it was
 * tried already since the stick's last answer.  A stick that answered
 * this instance before may be fine, and our own state what broke (a
 * stray write through one of our pointers leaves commands the stick
 * never sees: seed 2003 usbonly 238): the driver has itself restarted
 * once (sane.c), and the new instance, which has had no answer yet,
 * probes the stick afresh and calls it dead only if it still does not
 * answer.  The requests out go to the new instance (the hub's shadow).
 * Not when the bus is removing the stick (`removed`: the port reset ran
 * and did not bring it back): no instance would find it.
 */
static void
dead(struct usbstor_dev *d, enum bot_state stage, int status, int removed)
{
	if (d->bot.answered && !removed)
		usbstor_damaged(d, "reset recovery failed on a stick that "
		    "answered before");
	slog(PB_LOG_ERR, "usb%u: reset recovery failed (%s, %d): the stick "
	    "has stopped answering%s", d->no, stage_name(stage), status,
	    removed ? "; the bus removes it" : "");
	d->state = DEV_DEAD;
	finish(d, PB_ENODEV);
}

/*
 * A stage of the reset recovery failed or timed out: the stick does not
 * answer even the class reset (§5.3.4).  Some sticks answer again only
 * once their port is reset (HARDWARE.md), which the bus does for a class
 * driver (abi/usb.h USB_OP_RESET_DEVICE: the stick set up again under
 * the same endpoints, halts and toggles cleared).  Asked once until the
 * stick answers a command again: a stick the port reset does not cure
 * costs one reset, then is dead as before.
 */
static void
recovery_failed(struct usbstor_dev *d, int status)
{
	struct bot *b = &d->bot;

	if (b->port_reset) {
		dead(d, b->state, status, 0);
		return;
	}
	b->port_reset = 1;
	b->rr_stage = b->state;
	b->rr_status = status;
	slog(PB_LOG_WARN, "usb%u: reset recovery failed (%s, %d): port reset",
	    d->no, stage_name(b->state), status);
	fresh_req(d, USB_OP_RESET_DEVICE, 0);
	b->state = BS_PORT_RESET;
	submit(d, us.hub->now_ns() + T_PORT_RESET);
}

/* The bus set the stick up again: fresh endpoints, no halt to clear.  The
 * command failed, as after a reset recovery, and cmd.c's callers may
 * issue it again; what the stick kept (a pending sense) is gone. */
static void
port_reset_done(struct usbstor_dev *d)
{
	struct usb_info ui = { .size = sizeof(ui) };

	if (d->conn && PB_CALL(d->conn, usb_ops, info, &ui) == PB_OK &&
	    ui.size >= offsetof(struct usb_info, resets) + sizeof(ui.resets))
		slog(PB_LOG_INFO, "usb%u: the port reset brought the stick "
		    "back (resets %u)", d->no, ui.resets);
	else
		slog(PB_LOG_INFO, "usb%u: the port reset brought the stick "
		    "back", d->no);
	finish(d, PB_EIO);
}

/* Why the bus did not bring the stick back (abi/usb.h's answers). */
static const char *
port_reset_failure(int status)
{
	switch (status) {
	case PB_EINVAL: return "the bus does not offer it (usb 1.0)";
	case PB_ENOTSUP: return "not offered for this stick (behind a hub, "
	    "or an older controller)";
	case PB_EBUSY: return "refused: the bus is busy with the stick";
	case PB_ETIMEDOUT: return "no answer in time";
	default: return "the stick did not come back";
	}
}

/* Did the bus take the port reset and fail it (then it removes the stick,
 * abi/usb.h), rather than refuse it at submit or not answer in time? */
static int
port_reset_ran(int status)
{
	return status != PB_EINVAL && status != PB_ENOTSUP &&
	    status != PB_EBUSY && status != PB_ETIMEDOUT;
}

static void
csw_arrived(struct usbstor_dev *d)
{
	struct bot *b = &d->bot;
	const char *why = "";
	uint32_t residue;
	int v;

	v = bot_csw_check(d->dma + DMA_CSW, b->req.actual, b->tag,
	    b->cmd.length, &residue, &why);
	b->cmd.residue = residue;
	if (v == BOT_V_PASSED || v == BOT_V_FAILED) {
		b->recovered = 0;
		b->answered = 1;
		b->port_reset = 0;
		finish(d, v == BOT_V_PASSED ? CMD_GOOD : CMD_CHECK);
		return;
	}
	slog(PB_LOG_WARN, "usb%u: command 0x%02x (tag %u): %s: reset "
	    "recovery", d->no, b->cmd.cdb[0], b->tag, why);
	class_request(d, BS_RESET, BOT_REQ_RESET, 0);
}

/* After the CBW: the data stage, or the CSW when there is none. */
static void
data_stage(struct usbstor_dev *d)
{
	struct bot_cmd *c = &d->bot.cmd;

	if (!c->length) {
		read_csw(d);
		return;
	}
	xfer(d, BS_DATA, c->in ? d->ep_in : d->ep_out, c->seg, c->nseg,
	    c->length);
}

static void
stage_ok(struct usbstor_dev *d)
{
	struct bot *b = &d->bot;

	switch (b->state) {
	case BS_CBW:
		data_stage(d);
		break;
	case BS_DATA:
		b->cmd.actual = b->req.actual;
		/* fall through */
	case BS_CLEAR_DATA:
		read_csw(d);
		break;
	case BS_CSW:
		csw_arrived(d);
		break;
	case BS_CLEAR_CSW:
		b->csw_again = 1;
		read_csw(d);
		break;
	case BS_RESET:
		clear_halt(d, BS_RESET_IN, d->ep_in, us.hub->now_ns() + T_CTRL);
		break;
	case BS_RESET_IN:
		clear_halt(d, BS_RESET_OUT, d->ep_out,
		    us.hub->now_ns() + T_CTRL);
		break;
	case BS_RESET_OUT:
		/* Recovered; the command failed.  Again and again, with a
		 * stick that answers every step of the recovery: the fault
		 * is ours. */
		if (++b->recovered >= USBSTOR_TRIES)
			usbstor_damaged(d, "the stick answers every reset "
			    "recovery, yet each command fails again");
		finish(d, PB_EIO);
		break;
	case BS_CONTROL:
		b->cmd.actual = b->req.actual;
		finish(d, PB_OK);
		break;
	case BS_PORT_RESET:
		port_reset_done(d);
		break;
	default:
		break;
	}
}

static void
stage_failed(struct usbstor_dev *d, int st)
{
	struct bot *b = &d->bot;

	switch (b->state) {
	case BS_DATA:
		b->cmd.actual = b->req.actual;
		if (st == USB_ESTALL) {		/* §6.7.2/§6.7.3 */
			clear_halt(d, BS_CLEAR_DATA, b->req.ep, b->deadline);
			return;
		}
		break;
	case BS_CSW:
		if (st == USB_ESTALL && !b->csw_again) {
			clear_halt(d, BS_CLEAR_CSW, d->ep_in, b->deadline);
			return;
		}
		break;
	case BS_RESET:
	case BS_RESET_IN:
	case BS_RESET_OUT:
		recovery_failed(d, st);
		return;
	case BS_PORT_RESET:
		slog(PB_LOG_WARN, "usb%u: port reset: %s (%d)", d->no,
		    port_reset_failure(st), st);
		dead(d, b->rr_stage, b->rr_status, port_reset_ran(st));
		return;
	case BS_CONTROL:
		b->cmd.actual = b->req.actual;
		finish(d, st);
		return;
	default:
		break;
	}
	recover(d, stage_name(b->state), st);
}

static void
stage_done(struct usbstor_dev *d)
{
	struct bot *b = &d->bot;
	int st = b->req.status;

	if (b->cancelled) {
		b->cancelled = 0;
		st = PB_ETIMEDOUT;
	} else if (st == PB_ECANCELED || st == PB_ENODEV) {
		finish(d, PB_ECANCELED);	/* the bus removes the stick */
		return;
	}
	if (d->state == DEV_GONE) {
		finish(d, PB_ECANCELED);
		return;
	}
	if (st == PB_OK)
		stage_ok(d);
	else
		stage_failed(d, st);
}

/* The usb request's completion (its `done` work item). */
void
bot_req_done(void *arg)
{
	struct usbstor_dev *d = dev_of(arg, "a usb completion");

	if (!d) {
		sweep_completions();
		return;
	}
	if (!d->bot.in_flight)
		return;		/* not ours to see (a stale post) */
	if (d->bot.req.status == BOT_PENDING)
		return;		/* posted twice (a controller restarted as it
				 * posted): this stage is not answered yet */
	d->bot.in_flight = 0;
	if (d->state == DEV_FREE) {	/* forgotten while it was out */
		if (d->dma)
			us.hub->dma_free(us.self, d->dma);
		d->dma = NULL;
		return;
	}
	if (d->timer_kind == TK_BOT || d->timer_kind == TK_CANCEL)
		dev_timer_off(d);
	if (d->bot.lost) {
		d->bot.lost = 0;	/* it came back after all: unusable */
		dev_maybe_free(d);
		return;
	}
	stage_done(d);
	dev_maybe_free(d);
}

/* A stage's deadline passed: cancel its request and wait for it. */
void
bot_timeout(struct usbstor_dev *d)
{
	struct bot *b = &d->bot;

	if (!b->in_flight)
		return;
	if (b->req.status != BOT_PENDING) {
		slog(PB_LOG_WARN, "usb%u: %s of command 0x%02x (tag %u) was "
		    "answered but its completion never ran: taken now", d->no,
		    stage_name(b->state), b->cmd.cdb[0], b->tag);
		bot_req_done(d);
		return;
	}
	slog(PB_LOG_WARN, "usb%u: %s of command 0x%02x (tag %u) got no answer "
	    "in time: cancelled", d->no, stage_name(b->state), b->cmd.cdb[0],
	    b->tag);
	b->cancelled = 1;
	dev_timer(d, T_CANCEL, TK_CANCEL);
	if (d->conn)
		PB_CALL(d->conn, usb_ops, cancel, b->req.ep);
}

/* The cancelled request did not come back: the bus keeps it. */
void
bot_cancel_wait_over(struct usbstor_dev *d)
{
	struct bot *b = &d->bot;

	if (!b->in_flight)
		return;
	if (b->req.status != BOT_PENDING) {	/* back, its work astray */
		bot_req_done(d);
		return;
	}
	slog(PB_LOG_ERR, "usb%u: the bus did not give back a cancelled "
	    "request in %llu ms: the stick is not used any more", d->no,
	    (unsigned long long)(T_CANCEL / MS));
	b->lost = 1;
	b->cancelled = 0;
	d->state = d->state == DEV_GONE ? DEV_GONE : DEV_DEAD;
	finish(d, PB_ENODEV);
}
