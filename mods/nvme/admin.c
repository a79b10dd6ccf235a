/*
 * admin.c - the admin queue and the bring-up's admin commands (§5):
 *   Identify Controller (CNS 01h), Set Features Number of Queues (FID
 *   07h: one I/O queue pair), Create I/O Completion Queue (05h, vector 0:
 *   MSI-X entry 0, MSI, or polled), Create I/O Submission Queue (01h),
 *   Identify active namespace IDs (CNS 02h; controllers before 1.1, or
 *   one that refuses it, are asked for NSIDs 1..NN instead), Identify
 *   Namespace (CNS 00h) for each, then the namespaces are published.
 * A reset or a hand-over (reinit) keeps the namespaces: Number of
 * Queues and the two Create commands only.
 *
 * One admin command is on the queue at a time, in the order above.  It
 * completes like I/O does: the admin CQ shares vector 0 with the I/O CQ
 * (§7.5.1: the admin CQ is always on vector 0), so the interrupt, or the
 * timer when polling, takes its entry (irq.c) and admin_done steps on.
 * A command that does not complete in T_ADMIN resets the controller.
 */
#include "nvme.h"

#define NS_SCAN_MAX	256	/* NSIDs asked one by one, at most */

/* An empty queue pair: zeroed entries, phase 1 (§4.6: the controller
 * writes 1 in its first pass). */
void
queue_reset(struct nvme_queue *q)
{
	if (q->sq)
		memset(q->sq, 0, (size_t)q->size * sizeof(struct nvme_sqe));
	if (q->cq)
		memset((void *)q->cq, 0, (size_t)q->size *
		    sizeof(struct nvme_cqe));
	q->sq_tail = q->sq_head = q->cq_head = 0;
	q->phase = 1;
	q->live = 0;
}

static const char *
step_name(enum admin_step s)
{
	switch (s) {
	case A_ID_CTRL: return "Identify Controller";
	case A_NQUEUES: return "Set Features (Number of Queues)";
	case A_CREATE_CQ: return "Create I/O Completion Queue";
	case A_CREATE_SQ: return "Create I/O Submission Queue";
	case A_NS_LIST: return "Identify (active namespace list)";
	case A_ID_NS: return "Identify Namespace";
	default: return "admin command";
	}
}

/* The command into the admin SQ, its doorbell rung. */
static void
admin_issue(struct nvme *c, struct nvme_sqe *e)
{
	struct nvme_queue *q = &c->aq;

	c->admin_cid = (uint16_t)((c->admin_cid + 1) & 0x7fff);
	e->cid = c->admin_cid;
	q->sq[q->sq_tail] = *e;
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->size);
	c->admin_busy = 1;
	c->admin_deadline = nvme_now(c) + T_ADMIN;
	mmio_wmb();		/* the entry in memory before the doorbell */
	reg_wr(c, DB_SQ(0, c->dstrd), q->sq_tail);
	tick_arm(c, c->admin_deadline);
}

static void
identify(struct nvme *c, uint32_t nsid, uint32_t cns)
{
	struct nvme_sqe e = { .opc = ADM_IDENTIFY, .nsid = nsid,
	    .prp1 = c->idbuf_bus, .cdw10 = cns };

	memset(c->idbuf, 0, ID_DATA_SIZE);
	admin_issue(c, &e);
}

static void
issue_step(struct nvme *c)
{
	struct nvme_sqe e = { 0 };
	uint32_t qsize = (uint32_t)c->ioq.size - 1u;

	switch (c->astep) {
	case A_ID_CTRL:
		identify(c, 0, CNS_CTRL);
		return;
	case A_NQUEUES:
		e.opc = ADM_SET_FEATURES;
		e.cdw10 = FID_NQUEUES;
		e.cdw11 = 0;		/* one SQ, one CQ (0-based) */
		break;
	case A_CREATE_CQ:
		e.opc = ADM_CREATE_CQ;
		e.prp1 = c->ioq.cq_bus;
		e.cdw10 = qsize << 16 | c->ioq.qid;
		/* Vector 0 (MSI-X entry 0, or MSI); enabled even when
		 * polling: nothing routes INTx, and a later irq provider
		 * then needs no new queue. */
		e.cdw11 = 0u << 16 | CQ_IEN | CQ_PC;
		break;
	case A_CREATE_SQ:
		e.opc = ADM_CREATE_SQ;
		e.prp1 = c->ioq.sq_bus;
		e.cdw10 = qsize << 16 | c->ioq.qid;
		e.cdw11 = (uint32_t)c->ioq.qid << 16 | SQ_PC;
		break;
	case A_NS_LIST:
		identify(c, 0, CNS_NS_LIST);
		return;
	case A_ID_NS:
		identify(c, c->ns_by_list ? c->ns_list[c->ns_next] :
		    c->ns_next + 1, CNS_NS);
		return;
	default:
		return;
	}
	admin_issue(c, &e);
}

/* The bring-up's admin commands begin (CSTS.RDY is 1). */
void
admin_begin(struct nvme *c)
{
	c->aq.live = 1;
	c->astep = c->reinit ? A_NQUEUES : A_ID_CTRL;
	issue_step(c);
}

/* Every namespace the bring-up found is published (or given its
 * properties); those a hand-over named that are not there any more go,
 * their requests failed. */
static void
publish_all(struct nvme *c)
{
	for (unsigned i = 0; i < c->nns; i++) {
		struct nvme_ns *ns = &c->ns[i];

		if (!ns->seen || !ns_known(ns)) {
			if (ns->res)
				nlog(c, PB_LOG_WARN, "%s: namespace %u is gone",
				    ns->name, ns->g.nsid);
			io_fail_ns(c, ns, PB_EIO);
			nvme_withdraw(ns);
			continue;
		}
		if (nvme_publish(ns) == PB_OK)
			nlog(c, PB_LOG_INFO, "%s: %llu blocks of %u bytes%s",
			    ns->name, (unsigned long long)ns->g.block_count,
			    ns->g.block_size, ns->g.flags & BLOCK_FLUSHES ?
			    ", volatile write cache" : "");
	}
}

static unsigned
known_count(const struct nvme *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nns; i++)
		n += c->ns[i].seen && ns_known(&c->ns[i]);
	return n;
}

/* The bring-up is done: serve. */
static void
ready(struct nvme *c)
{
	unsigned n;

	c->state = C_READY;
	c->astep = A_NONE;
	if (c->reinit) {
		for (unsigned i = 0; i < c->nns; i++)
			nvme_set_props(&c->ns[i]);
		io_dispatch(c);
		return;
	}
	n = known_count(c);
	nlog(c, PB_LOG_INFO, "%s: %s: NVMe %u.%u, '%s' serial %s, firmware %s, "
	    "%u namespace%s, %s", c->name, c->pci->res, VS_MJR(c->vs),
	    VS_MNR(c->vs), c->id.model, c->id.serial, c->id.firmware, n,
	    n == 1 ? "" : "s", irq_name(c));
	publish_all(c);
	c->reinit = 1;		/* from now on a reset keeps them */
	io_dispatch(c);
}

/* The next namespace to identify, or the end of the list. */
static void
next_ns(struct nvme *c)
{
	uint32_t end = c->ns_by_list ? c->ns_count :
	    (c->id.nn < NS_SCAN_MAX ? c->id.nn : NS_SCAN_MAX);

	if (c->ns_next >= end) {
		ready(c);
		return;
	}
	c->astep = A_ID_NS;
	issue_step(c);
}

static void
took_ctrl(struct nvme *c)
{
	const char *why;

	mmio_rmb();		/* the completion before the data */
	if (ident_ctrl(c->idbuf, &c->id, &why) != PB_OK) {
		ctrl_decline(c, "Identify Controller: %s", why);
		return;
	}
	for (unsigned i = 0; i < c->nns; i++)
		c->ns[i].seen = 0;
	c->astep = A_NQUEUES;
	issue_step(c);
}

static void
took_ns_list(struct nvme *c)
{
	mmio_rmb();
	c->ns_count = ident_ns_list(c->idbuf, c->ns_list, NS_LIST_MAX);
	c->ns_by_list = 1;
	c->ns_next = 0;
	next_ns(c);
}

static void
took_ns(struct nvme *c)
{
	uint32_t nsid = c->ns_by_list ? c->ns_list[c->ns_next] :
	    c->ns_next + 1;
	struct nvme_geom g;
	struct nvme_ns *ns;
	const char *why;
	int err;

	mmio_rmb();
	c->ns_next++;
	err = ident_ns(c->idbuf, nsid, &c->id, &g, &why);
	if (err == PB_ENOENT && !c->ns_by_list) {
		next_ns(c);	/* 1..NN: an inactive NSID, nothing to say */
		return;
	}
	if (err != PB_OK) {
		nlog(c, PB_LOG_WARN, "%s: namespace %u: %s: declined", c->name,
		    nsid, why);
		next_ns(c);
		return;
	}
	if (!(ns = nvme_ns_by_id(c, nsid)) && !(ns = nvme_ns_add(c, nsid))) {
		nlog(c, PB_LOG_WARN, "%s: namespace %u: more than %u "
		    "namespaces: not published", c->name, nsid, NVME_MAX_NS);
		next_ns(c);
		return;
	}
	ns->g = g;
	ns->seen = 1;
	next_ns(c);
}

/* A failed admin command: where the bring-up can go on without it, it
 * does; otherwise the controller is declined with the status. */
static void
admin_failed(struct nvme *c, uint16_t status)
{
	if (c->astep == A_NS_LIST) {
		/* A 1.0 controller's Invalid Field: ask 1..NN instead. */
		c->ns_by_list = 0;
		c->ns_next = 0;
		next_ns(c);
		return;
	}
	if (c->astep == A_ID_NS) {
		nlog(c, PB_LOG_WARN, "%s: Identify Namespace %u failed: status "
		    "0x%03x (%s)", c->name, c->ns_by_list ?
		    c->ns_list[c->ns_next] : c->ns_next + 1, status,
		    io_status_name(status));
		c->ns_next++;
		next_ns(c);
		return;
	}
	ctrl_decline(c, "%s failed: status 0x%03x (%s)", step_name(c->astep),
	    status, io_status_name(status));
}

/* An admin completion the handler took (irq.c). */
void
admin_done(struct nvme *c, const struct nvme_done *d)
{
	if (!c->admin_busy || d->cid != c->admin_cid) {
		nlog(c, PB_LOG_WARN, "admin completion for CID %u, none "
		    "outstanding: ignored", d->cid);
		return;
	}
	c->admin_busy = 0;
	if (c->state != C_ADMIN)
		return;
	if (d->status) {
		admin_failed(c, d->status);
		return;
	}
	switch (c->astep) {
	case A_ID_CTRL:
		took_ctrl(c);
		break;
	case A_NQUEUES:
		/* DW0: queues allocated, 0-based (§5.21.1.7): at least one
		 * of each, which is all we asked. */
		c->astep = A_CREATE_CQ;
		issue_step(c);
		break;
	case A_CREATE_CQ:
		c->astep = A_CREATE_SQ;
		issue_step(c);
		break;
	case A_CREATE_SQ:
		c->ioq.live = 1;
		if (c->reinit) {
			ready(c);
		} else if (c->vs >= VS_1_1) {
			c->astep = A_NS_LIST;
			issue_step(c);
		} else {
			c->ns_by_list = 0;
			c->ns_next = 0;
			next_ns(c);
		}
		break;
	case A_NS_LIST:
		took_ns_list(c);
		break;
	case A_ID_NS:
		took_ns(c);
		break;
	default:
		break;
	}
}

/* The admin command past its deadline: the controller is reset. */
void
admin_timeouts(struct nvme *c, uint64_t now)
{
	char why[96];

	if (!c->admin_busy || now < c->admin_deadline)
		return;
	rt_snprintf(why, sizeof(why), "%s (CID %u) timed out",
	    step_name(c->astep), c->admin_cid);
	ctrl_reset(c, why);
}
