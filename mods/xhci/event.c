/*
 * event.c - the event ring read out (xHCI 1.2 §4.9.4, §6.4.2).
 *
 * Each event TRB is taken while its cycle bit is ours and handed to the
 * part it concerns: transfers (xfer.c), commands (cmd.c), root ports
 * (port.c).  Every field that names something (a slot, an endpoint, a
 * TRB address, a port) is checked against what the driver holds before
 * it is used; nothing is looked up at an address an event gives unless
 * it lies in one of our rings.  An event that fits nothing is dropped
 * with one log line a second at most, counting the others, so a
 * controller (or a fuzzer) filling the ring with garbage costs a line a
 * second and no hang: one pass reads at most one ring's worth, then the
 * work is posted again.  ERDP is written after every pass (evring_done).
 */
#include "xhci.h"

void
event_junk(struct xhci *a, const struct xhci_trb *t, const char *why)
{
	uint64_t now = xhci_now(a);

	if (a->junk_t0 && now - a->junk_t0 < T_JUNK) {
		a->junk_n++;
		return;
	}
	xlog(a, PB_LOG_WARN, "event dropped: %s (type %u slot %u ep %u cc %u "
	    "ptr 0x%llx)%s", why, TRB_TYPE(t->control), TRB_SLOT(t->control),
	    TRB_EP(t->control), EV_CC(t->status),
	    (unsigned long long)t->param, a->junk_n ? "; more since" : "");
	a->junk_t0 = now ? now : 1;
	a->junk_n = 0;
}

static void
host_event(struct xhci *a, const struct xhci_trb *t)
{
	if (EV_CC(t->status) == CC_EVENT_RING_FULL)
		event_junk(a, t, "the event ring was full: events were lost");
	else
		event_junk(a, t, "a host controller event");
}

static void
one(struct xhci *a, const struct xhci_trb *t)
{
	unsigned port;

	switch (TRB_TYPE(t->control)) {
	case TRB_EV_TRANSFER:
		xfer_event(a, t);
		break;
	case TRB_EV_COMMAND:
		cmd_event(a, t);
		break;
	case TRB_EV_PORT:
		port = EV_PORT(t->param);
		if (port >= 1 && port <= a->nports)
			port_event(a, port);
		else
			event_junk(a, t, "a port status change of no port");
		break;
	case TRB_EV_HOST:
		host_event(a, t);
		break;
	default:
		event_junk(a, t, "an event of a type never asked for");
		break;
	}
}

/* Read what the controller wrote; a lap of the ring at most per pass. */
void
event_drain(struct xhci *a)
{
	struct xhci_trb t;
	unsigned n = 0;

	while (n < a->ev.n && a->hstate != HC_DEAD && evring_take(a, &t)) {
		n++;
		one(a, &t);
	}
	if (a->hstate == HC_DEAD)
		return;
	evring_done(a);
	if (n == a->ev.n)
		a->hub->work_post(a->self, &a->ev_work);
}
