/*
 * irq.c - how the controller tells us: MSI-X entry 0, else MSI, else
 * our timer polls.
 *
 * Both completion queues use interrupt vector 0 (the admin CQ always
 * does, §3.1.1 and §7.5; the I/O CQ is created so, admin.c): MSI-X table
 * entry 0 or the function's single MSI message, with one vector of ours
 * (abi/irq.h: msi_message, then the pci provider's msi_enable).  INTx
 * would need the line's GSI from the ACPI _PRT, which nothing here
 * interprets, so without either the timer polls every millisecond while
 * commands are out.  boot.cfg `nvme-msi=no` forces polling.
 *
 * The handler acknowledges (§7.5.1, §4.6): it takes each new completion
 * entry by its phase tag, notes the SQ head the entry reports, rings the
 * CQ head doorbell, and keeps the entries in a ring for the work item,
 * which it posts.  nvme_work (on the event loop) takes them from the
 * ring with the interrupt held, finishes the commands (admin.c, io.c)
 * and dispatches more.
 */
#include "nvme.h"

/* New entries of q into the ring; the CQ head doorbell rung. */
static unsigned
take_queue(struct nvme *c, struct nvme_queue *q)
{
	unsigned n = 0;

	for (;;) {
		volatile struct nvme_cqe *e = &q->cq[q->cq_head];
		uint16_t st = e->status;
		struct nvme_done *d;

		if ((st & CQE_PHASE) != q->phase)
			break;
		mmio_rmb();	/* the phase tag before the rest of it */
		if (c->ring_put - c->ring_get >= NVME_DONE_RING) {
			c->ring_lost++;	/* the work takes it after */
			break;
		}
		d = &c->ring[c->ring_put % NVME_DONE_RING];
		d->cid = e->cid;
		d->status = STATUS(st);
		d->qid = q->qid;
		d->dw0 = e->dw0;
		c->ring_put++;
		if (e->sqhd < q->size)
			q->sq_head = e->sqhd;
		if (++q->cq_head == q->size) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		n++;
	}
	if (n)
		reg_wr(c, DB_CQ(q->qid, c->dstrd), q->cq_head);
	return n;
}

/* Take and acknowledge what the controller finished (handler or poll). */
void
irq_collect(struct nvme *c)
{
	unsigned n = 0;

	if (c->released || c->stopping || !c->aq.cq ||
	    (c->state != C_ADMIN && c->state != C_READY))
		return;
	if (c->aq.live)
		n += take_queue(c, &c->aq);
	if (c->ioq.live)
		n += take_queue(c, &c->ioq);
	if (n)
		c->hub->work_post(c->self, &c->work);
}

static void
nvme_intr(void *arg)
{
	irq_collect(arg);
}

/* The ring's completions finished, oldest first. */
void
irq_drain(struct nvme *c)
{
	for (;;) {
		uint64_t held = cpu_irq_save();
		struct nvme_done d;

		if (c->ring_get == c->ring_put) {
			if (c->ring_lost) {
				/* entries left in a CQ for lack of room */
				c->ring_lost = 0;
				irq_collect(c);
				cpu_irq_restore(held);
				continue;
			}
			cpu_irq_restore(held);
			return;
		}
		d = c->ring[c->ring_get % NVME_DONE_RING];
		c->ring_get++;
		cpu_irq_restore(held);
		if (c->released || c->stopping)
			return;
		if (d.qid == 0)
			admin_done(c, &d);
		else
			io_done(c, &d);
	}
}

/* The work: finish commands, dispatch more. */
void
nvme_work(void *arg)
{
	struct nvme *c = arg;

	if (c->released || c->stopping || c->standby)
		return;
	irq_drain(c);
	io_dispatch(c);
	tick_rearm(c);
}

/*
 * Our handler on `vector`, run by the hub on its event loop when it can
 * (PB_IRQ_ON_LOOP): MSI and MSI-X are edge-triggered, and the handler
 * only acknowledges and posts the work, which then runs in the same call.
 */
static int
irq_take(struct nvme *c, int vector)
{
	int r = c->hub->irq_register(c->self, vector | PB_IRQ_ON_LOOP,
	    nvme_intr, c);

	if (r == PB_EINVAL)	/* a hub without it */
		r = c->hub->irq_register(c->self, vector, nvme_intr, c);
	return r;
}

/* One vector, its message programmed as `kind`: NULL, or why not. */
static const char *
msg_setup(struct nvme *c, int kind)
{
	uint64_t addr;
	uint32_t data;

	if (c->vector < 0 && (c->vector = c->hub->irq_alloc(c->self)) < 0) {
		c->vector = -1;
		return "no free vector";
	}
	if (irq_take(c, c->vector) != PB_OK)
		return "vector not registered";
	if (PB_CALL(c->irqc, irq_ops, msi_message, c->vector, &addr,
	    &data) != PB_OK ||
	    PB_CALL(c->pci, pci_ops, msi_enable, kind, 0, addr, data) !=
	    PB_OK) {
		c->hub->irq_unregister(c->self, c->vector);
		c->vector = -1;
		return kind == PCI_IRQ_MSIX ? "MSI-X not programmed" :
		    "MSI not programmed";
	}
	return NULL;
}

static const char *
msi_setup(struct nvme *c)
{
	const char *why = NULL;

	if (!c->irqc)
		return "no irq provider";
	if (pb_setting_off(c->hub, "nvme-msi"))
		return "boot.cfg nvme-msi=no";
	if (c->fn.cap_msix && !(why = msg_setup(c, PCI_IRQ_MSIX))) {
		c->irq = IRQ_MSIX;
		return NULL;
	}
	if (c->fn.cap_msi && !(why = msg_setup(c, PCI_IRQ_MSI))) {
		c->irq = IRQ_MSI;
		return NULL;
	}
	return why ? why : "no MSI-X or MSI capability";
}

/* MSI-X, MSI, else polling by the timer (tick_rearm). */
void
irq_setup(struct nvme *c)
{
	irq_teardown(c);
	c->irq_why = msi_setup(c);
}

/* The old side's vector, its message still in the function: ours now,
 * or PB_EBUSY (then irq_setup).  Inside a swap's blackout: one call. */
int
irq_adopt(struct nvme *c, int vector, int kind)
{
	if (vector < 0 || (kind != IRQ_MSIX && kind != IRQ_MSI) ||
	    (kind == IRQ_MSIX ? !c->fn.cap_msix : !c->fn.cap_msi) ||
	    irq_take(c, vector) != PB_OK)
		return PB_EBUSY;
	c->vector = vector;
	c->irq = kind;
	c->irq_why = NULL;
	return PB_OK;
}

const char *
irq_name(const struct nvme *c)
{
	static char buf[80];

	switch (c->irq) {
	case IRQ_MSIX:
		rt_snprintf(buf, sizeof(buf), "MSI-X on vector %d", c->vector);
		break;
	case IRQ_MSI:
		rt_snprintf(buf, sizeof(buf), "MSI on vector %d", c->vector);
		break;
	default:
		rt_snprintf(buf, sizeof(buf), "polling (%s)",
		    c->irq_why ? c->irq_why : "no interrupt");
		break;
	}
	return buf;
}

/* Let go of the interrupt: MSI/MSI-X off, the vector given back. */
void
irq_teardown(struct nvme *c)
{
	if (c->irq == IRQ_POLL)
		return;
	if (c->pci)
		PB_CALL(c->pci, pci_ops, msi_disable);
	c->hub->irq_unregister(c->self, c->vector);
	c->vector = -1;
	c->irq = IRQ_POLL;
}
