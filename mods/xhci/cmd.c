/*
 * cmd.c - the command ring (xHCI 1.2 §4.6.1, §4.9.3): commands one at a
 * time, each with a timeout.
 *
 * Work that needs commands is a struct xop in a queue: a request's
 * (ADD is Enable Slot then Address Device, dev.c) or an endpoint's own
 * recovery (fix.c).  Only the head runs: its step function issues one
 * command (cmd_issue) or finishes (op_done); the command's completion
 * event runs the next step.  So commands never overlap, and one input
 * context serves all of them.
 *
 * A command not completed in 5 s is given up: its op's step runs with
 * CC_TIMEOUT (its request completes PB_ETIMEDOUT), the TRB becomes a
 * No Op Command so that running it late does no harm, and if the ring
 * runs (CRCR.CRR) it is aborted (§4.6.1.2): CRCR written with CA and the
 * address of the next TRB (64-byte aligned, with our cycle: should the
 * ring have stopped meanwhile, the controller starts there; the commands
 * before it in that block are No Ops already), and no command goes on
 * until the Command Ring Stopped event, 5 s at most (then the controller
 * is given up).  Completed commands are turned into No Ops too, for the
 * same reason.  A completion for a TRB that is not the command in flight
 * is dropped with one rate-limited line (event.c).
 */
#include "xhci.h"

static const char *const cc_names[] = {
	[CC_INVALID] = "Invalid", [CC_SUCCESS] = "Success",
	[CC_DATA_BUFFER] = "Data Buffer Error", [CC_BABBLE] = "Babble",
	[CC_TRANSACTION] = "USB Transaction Error", [CC_TRB] = "TRB Error",
	[CC_STALL] = "Stall", [CC_RESOURCE] = "Resource Error",
	[CC_BANDWIDTH] = "Bandwidth Error", [CC_NO_SLOTS] = "No Slots",
	[CC_SLOT_NOT_ENABLED] = "Slot Not Enabled",
	[CC_EP_NOT_ENABLED] = "Endpoint Not Enabled",
	[CC_SHORT_PACKET] = "Short Packet", [CC_PARAMETER] = "Parameter Error",
	[CC_CONTEXT_STATE] = "Context State Error",
	[CC_EVENT_RING_FULL] = "Event Ring Full",
	[CC_CMD_RING_STOPPED] = "Command Ring Stopped",
	[CC_CMD_ABORTED] = "Command Aborted", [CC_STOPPED] = "Stopped",
	[CC_STOPPED_LEN_INVALID] = "Stopped - Length Invalid",
	[CC_STOPPED_SHORT] = "Stopped - Short Packet",
	[CC_SPLIT_TRANSACTION] = "Split Transaction Error",
};

const char *
op_name(unsigned kind)
{
	static const char *const names[] = { "?", "ADD", "EP0_MPS",
	    "EP_ENABLE", "EP_DISABLE", "HUB", "REMOVE", "CLEAR_HALT",
	    "endpoint recovery", "SET_ADDRESS" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *
cc_name(unsigned cc)
{
	if (cc == CC_TIMEOUT)
		return "no answer";
	if (cc < sizeof(cc_names) / sizeof(cc_names[0]) && cc_names[cc])
		return cc_names[cc];
	return "code";
}

/* --- the queue ------------------------------------------------------- */

void
op_queue(struct xhci *a, struct xop *op)
{
	op->next = NULL;
	op->step = 0;
	op->loops = 0;
	if (a->ops_tail)
		a->ops_tail->next = op;
	else
		a->ops = op;
	a->ops_tail = op;
	cmd_kick(a);
}

/* Out of the queue; if its command is on the ring, its completion will
 * find nobody (cmd_orphan) and is dropped. */
void
op_unlink(struct xhci *a, struct xop *op)
{
	struct xop **at = &a->ops, *prev = NULL;

	while (*at && *at != op) {
		prev = *at;
		at = &(*at)->next;
	}
	if (!*at)
		return;
	if (op == a->ops && a->cmd_busy)
		a->cmd_orphan = 1;
	if (op == a->abort_op)
		a->abort_op = NULL;
	*at = op->next;
	if (a->ops_tail == op)
		a->ops_tail = prev;
	op->next = NULL;
}

/* The op is over: out of the queue, its request completed. */
void
op_done(struct xhci *a, struct xop *op, int status)
{
	op_unlink(a, op);
	if (op->kind == OP_FIX) {
		fix_ended(a, op);
		return;
	}
	if (op->req)
		rq_complete(a, op->req, status, 0);
}

static void
op_run(struct xhci *a, struct xop *op, int cc, const struct xhci_trb *ev)
{
	if (op->kind == OP_FIX)
		fix_step(a, op, cc);
	else
		dev_op_step(a, op, cc, ev);
}

/* Start the head op when nothing is on the ring. */
void
cmd_kick(struct xhci *a)
{
	unsigned guard = 0;

	while (a->hstate == HC_UP && !a->quiesced && !a->cmd_busy &&
	    !a->aborting && a->ops && guard++ < 256) {
		struct xop *op = a->ops;

		op_run(a, op, CC_START, NULL);
		/* A step that neither issued nor finished is a bug: the
		 * op would block the queue for ever. */
		if (!a->cmd_busy && a->ops == op) {
			xlog(a, PB_LOG_ERR, "op %u step %u stalled the command "
			    "queue: ended", op->kind, op->step);
			op_done(a, op, PB_EIO);
		}
	}
}

/* --- the ring -------------------------------------------------------- */

void
cmd_reset_state(struct xhci *a)
{
	a->cmd_busy = 0;
	a->cmd_orphan = 0;
	a->aborting = 0;
	a->abort_op = NULL;
	a->cmd_bus = 0;
	a->cmd_deadline = 0;
	a->abort_deadline = 0;
}

void
cmd_issue(struct xhci *a, uint64_t param, uint32_t status, uint32_t control)
{
	uint32_t at = ring_put(&a->cmd, param, status, control);

	a->cmd_index = at;
	a->cmd_bus = ring_bus(&a->cmd, at);
	a->cmd_busy = 1;
	a->cmd_deadline = xhci_now(a) + T_CMD;
	db_ring(a, 0, 0);
	tick_arm(a, a->cmd_deadline);
}

/* A command the controller is done with (or that we gave up) becomes a
 * No Op Command: running it again does nothing. */
static void
cmd_neuter(struct xhci *a, uint32_t index)
{
	volatile struct xhci_trb *t = &a->cmd.trb[index];

	t->control = (t->control & TRB_C) | TRB_TYPE_SET(TRB_NOOP_CMD);
}

void
cmd_event(struct xhci *a, const struct xhci_trb *t)
{
	unsigned cc = EV_CC(t->status);
	uint32_t index;
	struct xop *op;

	if (cc == CC_CMD_RING_STOPPED) {
		if (!a->aborting) {
			event_junk(a, t, "Command Ring Stopped, not asked for");
			return;
		}
		a->aborting = 0;
		op = a->abort_op;
		a->abort_op = NULL;
		if (op)
			op_run(a, op, CC_TIMEOUT, NULL);
		cmd_kick(a);
		return;
	}
	if (!a->cmd_busy || t->param != a->cmd_bus) {
		/* A command we gave up, done late, or one run again after an
		 * abort: ours, but nobody waits for it. */
		if (ring_index(&a->cmd, t->param, &index))
			return;
		event_junk(a, t, "a command completion for no command of ours");
		return;
	}
	a->cmd_busy = 0;
	cmd_neuter(a, a->cmd_index);
	if (a->cmd_orphan) {
		a->cmd_orphan = 0;
		cmd_kick(a);
		return;
	}
	if ((op = a->ops))
		op_run(a, op, (int)cc, t);
	cmd_kick(a);
}

/* Abort the command ring if it runs: 1 when the Command Ring Stopped
 * event is to come. */
static int
cmd_abort(struct xhci *a, uint64_t t)
{
	uint32_t crcr = op_rd(a, OP_CRCR);
	uint64_t next = ring_bus(&a->cmd, a->cmd.enq) & CRCR_PTR_MASK;

	if (!(crcr & CRCR_CRR))
		return 0;	/* not running: the No Op waits there */
	op_wr64(a, OP_CRCR, next | CRCR_CA | a->cmd.cycle);
	a->aborting = 1;
	a->abort_deadline = t + T_ABORT;
	tick_arm(a, a->abort_deadline);
	return 1;
}

void
cmd_timeouts(struct xhci *a, uint64_t t)
{
	struct xop *op;

	if (a->aborting && t >= a->abort_deadline) {
		hc_dead(a, "CRCR.CRR did not clear %llu ms after CRCR.CA "
		    "(CRCR 0x%08x)", (unsigned long long)(T_ABORT / MS),
		    op_rd(a, OP_CRCR));
		return;
	}
	if (!a->cmd_busy || t < a->cmd_deadline)
		return;
	op = a->cmd_orphan ? NULL : a->ops;
	xlog(a, PB_LOG_WARN, "command %u (%s) not completed in %llu ms "
	    "(CRCR 0x%08x USBSTS 0x%08x): aborted",
	    TRB_TYPE(a->cmd.trb[a->cmd_index].control),
	    op ? op_name(op->kind) : "none",
	    (unsigned long long)(T_CMD / MS), op_rd(a, OP_CRCR),
	    op_rd(a, OP_USBSTS));
	cmd_neuter(a, a->cmd_index);
	a->cmd_busy = 0;
	a->cmd_orphan = 0;
	/* The op steps on (its next command, or its answer) once the ring
	 * has stopped, not while it stops. */
	if (cmd_abort(a, t)) {
		a->abort_op = op;
		return;
	}
	if (op)
		op_run(a, op, CC_TIMEOUT, NULL);
	cmd_kick(a);
}

uint64_t
cmd_next_deadline(const struct xhci *a)
{
	if (a->aborting)
		return a->abort_deadline;
	return a->cmd_busy ? a->cmd_deadline : 0;
}
