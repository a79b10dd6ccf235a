/*
 * nvmemodel.h - a register- and queue-level NVMe 1.4 controller with
 * namespaces on RAM disks, for mod_nvme.c: the driver's mmio_read32 and
 * mmio_write32 land here, and its queues are read and written through
 * the fake hub's bus addresses (fake_dma_va), never its CPU pointers.
 *
 * What it does, as the spec says a controller does: CAP (MQES, CQR, TO,
 * DSTRD, CSS, MPSMIN/MAX configurable), VS, CC and CSTS (RDY follows EN
 * after rdy_delay; CC.EN 1->0 deletes every queue and drops every
 * command; SHN leads to SHST=10b), AQA/ASQ/ACQ taken at CC.EN, the
 * doorbells at 0x1000 with the stride 4 << DSTRD.  A SQ tail doorbell
 * fetches the new entries; model_run() executes them (all, or per_run
 * at a time) and posts completion entries with the phase tag, wrapping,
 * with an MSI-X or MSI message (model_deliver runs the driver's handler)
 * when the CQ has interrupts enabled.  Admin: Identify (CNS 00h, 01h,
 * 02h), Set Features Number of Queues, Create/Delete I/O SQ and CQ.
 * NVM: Read, Write (FUA counted), Flush.
 *
 * Every rule the driver must keep is checked and counted in m.bad with
 * the first reason in m.why: CC's fields at enable, EN set while RDY,
 * EN cleared before RDY came, queue bases not page aligned, doorbells
 * beyond the queue or at no doorbell's offset, a CQ head doorbell past
 * the entries posted, a CID reused while outstanding, a full CQ
 * (completions the host has no room for), PSDT not 0, PRP1 not dword
 * aligned, a PRP2 or PRP list entry not page aligned (a page-crossing
 * violation), memory the controller cannot reach, a transfer over MDTS.
 *
 * Faults: RDY that never comes, CFS (the controller stops processing
 * until reset), a shutdown that never completes, the next N I/O
 * commands never completing (drop_next), the next N failing with a
 * given status, a bad LBA range (media error), no CNS 02h (a 1.0
 * controller).
 */
#ifndef PB_TESTS_NVMEMODEL_H
#define PB_TESTS_NVMEMODEL_H

#define M_BAR_SIZE	0x4000
#define M_MAXQ		4		/* queue IDs 0..3 */
#define M_MAXNS		4		/* NSIDs 1..4 */
#define M_PENDING	512
#define M_TRACE		64

struct mq {			/* a queue pair as the controller has it */
	int sq_live, cq_live;
	uint64_t sq_bus, cq_bus;
	uint16_t sq_size, cq_size;
	uint16_t sq_head, sq_tail;	/* tail: as the doorbell said */
	uint16_t cq_tail, cq_head;	/* head: as the doorbell said */
	uint8_t phase;
	uint16_t cqid;		/* an SQ's CQ */
	uint16_t iv;
	int ien;
};

struct mcmd {
	int used;
	int never;		/* a fault: it never completes */
	uint16_t sqid;
	struct nvme_sqe e;
};

struct mns {
	int active;
	uint8_t *data;
	uint64_t blocks;
	uint32_t bs;
	uint16_t ms;		/* metadata bytes of its format */
	uint64_t bad_from, bad_to;	/* [from, to): media errors */
};

static struct {
	uint32_t cap_lo, cap_hi, vs, cc, aqa;
	uint32_t asq_lo, asq_hi, acq_lo, acq_hi;
	int ready;		/* RDY as last computed */
	uint64_t en_at, dis_at, shn_at;	/* fake_ns of the transitions */
	int enabling, disabling, shutting;
	uint32_t shst;
	uint64_t rdy_delay;	/* ns from CC.EN to RDY (and back) */
	int rdy_never;		/* RDY never comes */
	int cfs;		/* fatal status: nothing is processed */
	int cfs_sticky;		/* ... not even after a reset */
	int shn_never;		/* SHST never reaches 10b */
	uint8_t mdts, vwc;
	uint32_t nn;
	int no_ns_list;		/* CNS 02h: invalid field (a 1.0 one) */
	struct mq q[M_MAXQ];
	struct mcmd pend[M_PENDING];
	struct mns ns[M_MAXNS + 1];
	/* interrupts, from the fake pci function */
	int msix_on, msi_on, vector, irq_pending;
	unsigned irqs;
	/* behaviour */
	unsigned per_run;	/* commands finished per model_run (0: all) */
	unsigned drop_next;	/* the next N I/O commands never complete */
	unsigned fail_next;	/* the next N I/O commands fail with: */
	uint16_t fail_status;	/* (SCT << 8 | SC) */
	/* what it saw */
	unsigned enables, disables, shutdowns, identifies, admin_cmds;
	unsigned reads, writes, flushes, fua_writes, io_cmds, inflight;
	unsigned max_inflight;
	uint8_t admin_ops[M_TRACE];	/* opcodes, in order */
	unsigned nadmin_ops;
	uint32_t trace_off[M_TRACE], trace_val[M_TRACE];	/* register
					 * writes below 0x1000, in order */
	unsigned ntrace;
	uint32_t reg_writes;
	unsigned bad;
	char why[200];
} m;

static uint8_t bar0[M_BAR_SIZE];

static void
mbad(const char *fmt, ...)
{
	va_list ap;

	if (m.bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(m.why, sizeof(m.why), fmt, ap);
	va_end(ap);
}

static void *
mdma(uint64_t bus, size_t len, const char *what)
{
	void *va = fake_dma_va(bus, len);

	if (!va)
		mbad("%s at 0x%llx (+%zu): no memory there", what,
		    (unsigned long long)bus, len);
	return va;
}

static unsigned
m_stride(void)
{
	return 4u << (m.cap_hi & 0xf);
}

/* --- state --------------------------------------------------------------- */

static void
m_update(void)
{
	if (m.enabling && !m.rdy_never && fake_ns >= m.en_at + m.rdy_delay) {
		m.enabling = 0;
		m.ready = 1;
	}
	if (m.disabling && fake_ns >= m.dis_at + m.rdy_delay) {
		m.disabling = 0;
		m.ready = 0;
	}
	if (m.shutting && !m.shn_never && fake_ns >= m.shn_at + m.rdy_delay) {
		m.shutting = 0;
		m.shst = 2;
	}
}

static uint32_t
m_csts(void)
{
	m_update();
	return (uint32_t)m.ready | (m.cfs ? 2u : 0) | m.shst << 2;
}

/* CC.EN 1->0 (§7.6.1): every queue deleted, every command dropped. */
static void
m_controller_reset(void)
{
	memset(m.q, 0, sizeof(m.q));
	memset(m.pend, 0, sizeof(m.pend));
	m.inflight = 0;
	m.irq_pending = 0;
	m.enabling = 0;
	m.shutting = 0;
	m.shst = 0;
	if (!m.cfs_sticky)
		m.cfs = 0;
}

static void
m_enable(uint32_t v)
{
	uint64_t asq = (uint64_t)m.asq_hi << 32 | m.asq_lo;
	uint64_t acq = (uint64_t)m.acq_hi << 32 | m.acq_lo;

	if (m_csts() & 1)
		mbad("CC.EN set while CSTS.RDY is 1");
	if (((v >> 16) & 0xf) != 6 || ((v >> 20) & 0xf) != 4)
		mbad("CC 0x%08x: IOSQES/IOCQES not 6/4", v);
	if (((v >> 7) & 0xf) != 0 || ((v >> 4) & 7) != 0 ||
	    ((v >> 11) & 7) != 0)
		mbad("CC 0x%08x: MPS/CSS/AMS not 0", v);
	if (!asq || !acq || (asq & 4095) || (acq & 4095))
		mbad("ASQ 0x%llx / ACQ 0x%llx: not set or not page aligned",
		    (unsigned long long)asq, (unsigned long long)acq);
	if ((m.aqa & 0xfff) == 0 || ((m.aqa >> 16) & 0xfff) == 0)
		mbad("AQA 0x%08x: a queue of one entry", m.aqa);
	m.q[0] = (struct mq){ .sq_live = 1, .cq_live = 1, .sq_bus = asq,
	    .cq_bus = acq, .sq_size = (uint16_t)((m.aqa & 0xfff) + 1),
	    .cq_size = (uint16_t)(((m.aqa >> 16) & 0xfff) + 1), .phase = 1,
	    .ien = 1 };
	m.enables++;
	m.enabling = 1;
	m.en_at = fake_ns;
}

static void
m_cc_write(uint32_t v)
{
	uint32_t was = m.cc;

	m.cc = v;
	if ((v & 1) && !(was & 1))
		m_enable(v);
	if (!(v & 1) && (was & 1)) {
		if (m.enabling && !m.rdy_never && !(m_csts() & 1))
			mbad("CC.EN cleared before CSTS.RDY came");
		m.disables++;
		m_controller_reset();
		m.disabling = 1;
		m.dis_at = fake_ns;
		m.cc &= ~(3u << 14);
	}
	if ((v & (3u << 14)) == (1u << 14) && !(was & (3u << 14)) &&
	    (v & 1)) {
		if (!(m_csts() & 1))
			mbad("shutdown notification while not ready");
		m.shutdowns++;
		m.shutting = 1;
		m.shst = 1;
		m.shn_at = fake_ns;
	}
}

/* --- PRPs (§4.3), checked --------------------------------------------- */

static int
m_move(uint64_t bus, uint8_t *buf, size_t n, int to_device)
{
	uint8_t *va = mdma(bus, n, "PRP data");

	if (!va)
		return -1;
	if (to_device)
		memcpy(buf, va, n);
	else
		memcpy(va, buf, n);
	return 0;
}

/* Move len bytes between buf and the command's PRPs: 0, or -1. */
static int
m_prp_move(const struct nvme_sqe *e, uint8_t *buf, size_t len,
    int to_device)
{
	uint64_t list;
	size_t first, done, left;
	unsigned idx;

	if (e->prp1 & 3) {
		mbad("PRP1 0x%llx not dword aligned",
		    (unsigned long long)e->prp1);
		return -1;
	}
	first = 4096 - (e->prp1 & 4095);
	first = first < len ? first : len;
	if (m_move(e->prp1, buf, first, to_device))
		return -1;
	done = first;
	if (done == len)
		return 0;
	left = len - done;
	if (left <= 4096) {
		if (e->prp2 & 4095) {
			mbad("PRP2 0x%llx: a data page not page aligned",
			    (unsigned long long)e->prp2);
			return -1;
		}
		return m_move(e->prp2, buf + done, left, to_device);
	}
	list = e->prp2;
	if (list & 7) {
		mbad("PRP list 0x%llx not qword aligned",
		    (unsigned long long)list);
		return -1;
	}
	for (idx = (unsigned)((list & 4095) / 8); done < len; idx++) {
		uint64_t *ent = mdma(list, 8, "PRP list");
		size_t n;

		if (!ent)
			return -1;
		if (idx == 511 && len - done > 4096) {
			list = *ent;	/* the next list page */
			idx = (unsigned)-1;
			if (list & 7)
				mbad("chained PRP list 0x%llx misaligned",
				    (unsigned long long)list);
			continue;
		}
		if (*ent & 4095) {
			mbad("PRP entry 0x%llx not page aligned (a page "
			    "crossing the PRP rules forbid)",
			    (unsigned long long)*ent);
			return -1;
		}
		n = len - done < 4096 ? len - done : 4096;
		if (m_move(*ent, buf + done, n, to_device))
			return -1;
		done += n;
		list += 8;
	}
	return 0;
}

/* --- Identify data -------------------------------------------------------- */

static void
m_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void
m_put64(uint8_t *p, uint64_t v)
{
	m_put32(p, (uint32_t)v);
	m_put32(p + 4, (uint32_t)(v >> 32));
}

static void
m_ascii(uint8_t *p, size_t n, const char *s)
{
	memset(p, ' ', n);
	memcpy(p, s, strlen(s) < n ? strlen(s) : n);
}

static void
m_id_ctrl(uint8_t *d)
{
	d[0] = 0x36, d[1] = 0x1b;
	m_ascii(d + 4, 20, "NVME0001");
	m_ascii(d + 24, 40, "QEMU NVMe Ctrl");
	m_ascii(d + 64, 8, "7.2.0");
	d[77] = m.mdts;
	m_put32(d + 80, m.vs);
	d[512] = 0x66;
	d[513] = 0x44;
	m_put32(d + 516, m.nn);
	d[525] = m.vwc;
}

static void
m_id_ns(uint8_t *d, uint32_t nsid)
{
	const struct mns *ns = &m.ns[nsid];
	unsigned lbads = 0;

	if (!ns->active)
		return;
	while ((1u << lbads) < ns->bs)
		lbads++;
	m_put64(d + 0, ns->blocks);
	m_put64(d + 8, ns->blocks);
	m_put64(d + 16, ns->blocks);
	d[25] = 1;			/* two formats */
	d[26] = 1;			/* the second in use */
	m_put32(d + 128, 9u << 16);	/* format 0: 512, no metadata */
	m_put32(d + 132, lbads << 16 | ns->ms);
}

static uint16_t
m_identify(const struct nvme_sqe *e)
{
	uint8_t d[4096];
	unsigned cns = e->cdw10 & 0xff, n = 0;

	memset(d, 0, sizeof(d));
	m.identifies++;
	switch (cns) {
	case 0x01:
		m_id_ctrl(d);
		break;
	case 0x00:
		if (!e->nsid || e->nsid > m.nn || e->nsid > M_MAXNS)
			return 0x0b;
		m_id_ns(d, e->nsid);
		break;
	case 0x02:
		if (m.no_ns_list)
			return 0x02;
		for (uint32_t i = e->nsid + 1; i <= M_MAXNS && i <= m.nn; i++)
			if (m.ns[i].active)
				m_put32(d + 4 * n++, i);
		break;
	default:
		return 0x02;
	}
	return m_prp_move(e, d, sizeof(d), 0) ? 0x02 : 0;
}

/* --- admin commands ---------------------------------------------------- */

static uint16_t
m_admin(const struct nvme_sqe *e, uint32_t *dw0)
{
	unsigned qid = e->cdw10 & 0xffff, size = (e->cdw10 >> 16) + 1;
	unsigned mqes = (m.cap_lo & 0xffff) + 1;
	struct mq *q = qid < M_MAXQ ? &m.q[qid] : NULL;

	m.admin_cmds++;
	if (m.nadmin_ops < M_TRACE)
		m.admin_ops[m.nadmin_ops++] = e->opc;
	switch (e->opc) {
	case 0x06:
		return m_identify(e);
	case 0x09:
		if ((e->cdw10 & 0xff) != 0x07)
			return 0x02;
		*dw0 = (M_MAXQ - 2) << 16 | (M_MAXQ - 2);
		return 0;
	case 0x05:			/* Create I/O CQ */
		if (!q || qid == 0 || q->cq_live)
			return 0x101;	/* invalid queue identifier */
		if (size > mqes || size < 2)
			return 0x102;	/* invalid queue size */
		if (!(e->cdw11 & 1) || (e->prp1 & 4095))
			mbad("CQ %u: not contiguous or base 0x%llx not page "
			    "aligned", qid, (unsigned long long)e->prp1);
		q->cq_live = 1;
		q->cq_bus = e->prp1;
		q->cq_size = (uint16_t)size;
		q->cq_tail = q->cq_head = 0;
		q->phase = 1;
		q->ien = (e->cdw11 >> 1) & 1;
		q->iv = (uint16_t)(e->cdw11 >> 16);
		return 0;
	case 0x01:			/* Create I/O SQ */
		if (!q || qid == 0 || q->sq_live)
			return 0x101;
		if (size > mqes || size < 2)
			return 0x102;
		if ((e->cdw11 >> 16) >= M_MAXQ ||
		    !m.q[e->cdw11 >> 16].cq_live)
			return 0x100;	/* completion queue invalid */
		if (!(e->cdw11 & 1) || (e->prp1 & 4095))
			mbad("SQ %u: not contiguous or base not page aligned",
			    qid);
		q->sq_live = 1;
		q->sq_bus = e->prp1;
		q->sq_size = (uint16_t)size;
		q->sq_head = q->sq_tail = 0;
		q->cqid = (uint16_t)(e->cdw11 >> 16);
		return 0;
	case 0x00:			/* Delete I/O SQ */
		if (!q || qid == 0 || !q->sq_live)
			return 0x101;
		q->sq_live = 0;
		return 0;
	case 0x04:			/* Delete I/O CQ */
		if (!q || qid == 0 || !q->cq_live)
			return 0x101;
		q->cq_live = 0;
		return 0;
	default:
		return 0x01;		/* invalid opcode */
	}
}

/* --- NVM commands -------------------------------------------------------- */

static uint16_t
m_io(const struct nvme_sqe *e)
{
	struct mns *ns = e->nsid && e->nsid <= M_MAXNS ? &m.ns[e->nsid] : NULL;
	uint64_t slba = (uint64_t)e->cdw11 << 32 | e->cdw10;
	uint32_t nlb = (e->cdw12 & 0xffff) + 1;
	uint64_t len;

	if (!ns || !ns->active)
		return 0x0b;
	if (m.fail_next && e->opc != 0x00) {
		m.fail_next--;
		return m.fail_status;
	}
	switch (e->opc) {
	case 0x00:
		m.flushes++;
		return 0;
	case 0x01:
	case 0x02:
		len = (uint64_t)nlb * ns->bs;
		if (m.mdts && len > (4096ull << m.mdts)) {
			mbad("a transfer of %llu bytes over MDTS (%llu)",
			    (unsigned long long)len,
			    (unsigned long long)(4096ull << m.mdts));
			return 0x02;
		}
		if (slba >= ns->blocks || nlb > ns->blocks - slba)
			return 0x80;
		if (slba < ns->bad_to && slba + nlb > ns->bad_from)
			return 0x281;	/* unrecovered read error */
		if (e->opc == 0x01) {
			m.writes++;
			if (e->cdw12 & (1u << 30))
				m.fua_writes++;
		} else {
			m.reads++;
		}
		return m_prp_move(e, ns->data + slba * ns->bs, (size_t)len,
		    e->opc == 0x01) ? 0x02 : 0;
	default:
		return 0x01;
	}
}

/* --- completion ---------------------------------------------------------- */

static void
m_post(struct mq *sq, uint16_t sqid, uint16_t cid, uint16_t status,
    uint32_t dw0)
{
	struct mq *cq = &m.q[sq->cqid];
	struct nvme_cqe *c;

	if (!cq->cq_live)
		return;
	if ((uint16_t)((cq->cq_tail + 1) % cq->cq_size) == cq->cq_head) {
		mbad("CQ %u full: a completion the host left no room for",
		    sq->cqid);
		return;
	}
	c = mdma(cq->cq_bus + (uint64_t)cq->cq_tail * 16, 16, "CQ entry");
	if (!c)
		return;
	c->dw0 = dw0;
	c->dw1 = 0;
	c->sqhd = sq->sq_head;
	c->sqid = sqid;
	c->cid = cid;
	c->status = (uint16_t)(status << 1 | cq->phase);
	if (++cq->cq_tail == cq->cq_size) {
		cq->cq_tail = 0;
		cq->phase ^= 1;
	}
	if (cq->ien)
		m.irq_pending = 1;
}

/* Fetch the SQ's new entries up to its tail. */
static void
m_fetch(unsigned y)
{
	struct mq *q = &m.q[y];

	while (q->sq_head != q->sq_tail) {
		struct nvme_sqe *e = mdma(q->sq_bus + (uint64_t)q->sq_head * 64,
		    64, "SQ entry");
		struct mcmd *c = NULL;

		if (!e)
			return;
		if (e->flags & 0xc0)
			mbad("SQ %u: PSDT %u (SGLs)", y, e->flags >> 6);
		for (unsigned i = 0; i < M_PENDING; i++) {
			if (m.pend[i].used && m.pend[i].sqid == y &&
			    m.pend[i].e.cid == e->cid)
				mbad("SQ %u: CID %u reused while outstanding",
				    y, e->cid);
			if (!m.pend[i].used && !c)
				c = &m.pend[i];
		}
		if (!c) {
			mbad("model: too many commands");
			return;
		}
		*c = (struct mcmd){ 1, 0, (uint16_t)y, *e };
		if (y && m.drop_next) {
			m.drop_next--;
			c->never = 1;
		}
		if (y && ++m.inflight > m.max_inflight)
			m.max_inflight = m.inflight;
		q->sq_head = (uint16_t)((q->sq_head + 1) % q->sq_size);
	}
}

/* The controller works: finish commands (all, or per_run), oldest
 * first; nothing while CFS or not ready. */
static unsigned
model_run(void)
{
	unsigned n = 0;

	if (m.cfs || !(m_csts() & 1))
		return 0;
	for (unsigned i = 0; i < M_PENDING; i++) {
		struct mcmd *c = &m.pend[i];
		uint32_t dw0 = 0;
		uint16_t st;

		if (!c->used || c->never)
			continue;
		if (m.per_run && n >= m.per_run)
			break;
		c->used = 0;
		if (c->sqid) {
			m.inflight--;
			m.io_cmds++;
			st = m_io(&c->e);
		} else {
			st = m_admin(&c->e, &dw0);
		}
		m_post(&m.q[c->sqid], c->sqid, c->e.cid, st, dw0);
		n++;
	}
	return n;
}

/* An MSI-X or MSI message, if one is due: the driver's handler runs. */
static unsigned
model_deliver(void)
{
	if (!m.irq_pending || !(m.msix_on || m.msi_on))
		return 0;
	m.irq_pending = 0;
	if (!fvec[m.vector].fn)
		return 0;
	m.irqs++;
	fvec[m.vector].fn(fvec[m.vector].arg);
	return 1;
}

/* --- registers ------------------------------------------------------------ */

static void
m_doorbell(size_t off, uint32_t v)
{
	unsigned idx, y;
	struct mq *q;

	if ((off - 0x1000) % m_stride()) {
		mbad("doorbell write at 0x%zx: not on the stride", off);
		return;
	}
	idx = (unsigned)((off - 0x1000) / m_stride());
	y = idx / 2;
	if (y >= M_MAXQ) {
		mbad("doorbell of queue %u", y);
		return;
	}
	q = &m.q[y];
	if (!(idx & 1)) {
		if (!q->sq_live || !(m_csts() & 1)) {
			mbad("SQ %u tail doorbell: no such queue", y);
			return;
		}
		if (v >= q->sq_size) {
			mbad("SQ %u tail %u beyond %u entries", y, v,
			    q->sq_size);
			return;
		}
		q->sq_tail = (uint16_t)v;
		if (!m.cfs)
			m_fetch(y);
		return;
	}
	if (!q->cq_live) {
		mbad("CQ %u head doorbell: no such queue", y);
		return;
	}
	if (v >= q->cq_size ||
	    (v + q->cq_size - q->cq_head) % q->cq_size >
	    (unsigned)(q->cq_tail + q->cq_size - q->cq_head) % q->cq_size) {
		mbad("CQ %u head %u past the entries posted (tail %u)", y, v,
		    q->cq_tail);
		return;
	}
	q->cq_head = (uint16_t)v;
}

static size_t
m_bar_off(const volatile void *reg)
{
	size_t off = (size_t)((const volatile uint8_t *)reg - bar0);

	if (off >= sizeof(bar0) || (off & 3)) {
		fprintf(stderr, "nvmemodel: access at BAR0+0x%zx\n", off);
		abort();
	}
	return off;
}

uint32_t
mmio_read32(const volatile void *reg)
{
	switch (m_bar_off(reg)) {
	case 0x00: return m.cap_lo;
	case 0x04: return m.cap_hi;
	case 0x08: return m.vs;
	case 0x14: return m.cc;
	case 0x1c: return m_csts();
	case 0x24: return m.aqa;
	case 0x28: return m.asq_lo;
	case 0x2c: return m.asq_hi;
	case 0x30: return m.acq_lo;
	case 0x34: return m.acq_hi;
	default: return 0;
	}
}

void
mmio_write32(volatile void *reg, uint32_t v)
{
	size_t off = m_bar_off(reg);

	m.reg_writes++;
	if (off >= 0x1000) {
		m_doorbell(off, v);
		return;
	}
	if (m.ntrace < M_TRACE) {
		m.trace_off[m.ntrace] = (uint32_t)off;
		m.trace_val[m.ntrace++] = v;
	}
	if ((m.cc & 1) && off >= 0x24 && off < 0x38)
		mbad("AQA/ASQ/ACQ written while CC.EN is 1");
	switch (off) {
	case 0x0c: case 0x10:
		if (m.msix_on)
			mbad("INTMS/INTMC written with MSI-X on");
		break;
	case 0x14: m_cc_write(v); break;
	case 0x24: m.aqa = v; break;
	case 0x28: m.asq_lo = v; break;
	case 0x2c: m.asq_hi = v; break;
	case 0x30: m.acq_lo = v; break;
	case 0x34: m.acq_hi = v; break;
	default: break;
	}
}

/* The driver uses 32-bit accesses only: anything else is a bug. */
uint8_t mmio_read8(const volatile void *r) { m_bar_off(r); abort(); }
uint16_t mmio_read16(const volatile void *r) { m_bar_off(r); abort(); }
uint64_t mmio_read64(const volatile void *r) { m_bar_off(r); abort(); }
void mmio_write8(volatile void *r, uint8_t v) { m_bar_off(r); abort(); }
void mmio_write16(volatile void *r, uint16_t v) { m_bar_off(r); abort(); }
void mmio_write64(volatile void *r, uint64_t v) { m_bar_off(r); abort(); }

/* --- building a machine --------------------------------------------------- */

/* Namespace nsid: `blocks` of `bs` bytes with a pattern. */
static void
model_ns(uint32_t nsid, uint64_t blocks, uint32_t bs)
{
	struct mns *ns = &m.ns[nsid];

	free(ns->data);
	memset(ns, 0, sizeof(*ns));
	ns->active = 1;
	ns->blocks = blocks;
	ns->bs = bs;
	ns->data = malloc((size_t)(blocks * bs));
	for (uint64_t i = 0; i < blocks * bs; i++)
		ns->data[i] = (uint8_t)(i * 131 + i / bs + nsid);
}

/* QEMU's controller: NVMe 1.4, MQES 2047, CQR, TO 15 s, DSTRD 0, NVM,
 * MPSMIN 0, MDTS 7 (512 KiB), NN 1, no volatile write cache. */
static void
model_reset(void)
{
	for (unsigned i = 0; i <= M_MAXNS; i++)
		free(m.ns[i].data);
	memset(&m, 0, sizeof(m));
	m.cap_lo = 2047 | 1u << 16 | 30u << 24;
	m.cap_hi = 1u << 5 | 4u << 20;
	m.vs = 0x00010400;
	m.rdy_delay = 2 * 1000000ull;
	m.mdts = 7;
	m.nn = 1;
}

#endif
