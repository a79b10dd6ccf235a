/*
 * ctrl.c - the controller: found on its PCI function, disabled, enabled,
 * reset after a fault, and shut down (NVMe 1.4 §7.6).
 *
 * Bring-up (§7.6.1), as timer-driven steps after start() returns:
 *   a controller found enabled (the firmware's driver leaves it so) is
 *   first let finish enabling if CSTS.RDY is still 0 (§3.1.5: clearing
 *   CC.EN before RDY is set is undefined on some controllers), then
 *   CC.EN=0 and CSTS.RDY=0 awaited; AQA, ASQ, ACQ (64-bit registers as
 *   two dwords, low first), then CC = EN | IOSQES 6 | IOCQES 4 | MPS 0
 *   (4 KiB pages) | CSS 0 (NVM) | AMS 0 (round robin), and CSTS.RDY=1
 *   awaited; then the admin commands (admin.c).  Each wait is bounded by
 *   CAP.TO (in 500 ms units) and says the register it gave up on.
 * CSTS.CFS (§9.5) at any time, or a command past its deadline, resets
 * the controller (CC.EN=0, the same steps again, the namespaces kept)
 * and every unfinished request is issued again (io.c); NVME_RESETS in a
 * row without a command completing declines the controller.
 * Stop sends the shutdown notification (CC.SHN=01b, then CSTS.SHST=10b,
 * §7.6.2) so that an SSD writes its cache back, then disables it.
 *
 * QEMU: -drive if=none,id=n,file=disk.img,format=raw
 *       -device nvme,serial=N,drive=n  (1b36:0010, class 01.08.02)
 */
#include "nvme.h"

#define PCI_CLASS_STORAGE	0x01
#define PCI_SUBCLASS_NVM	0x08
#define PCI_PROGIF_NVME		0x02

/* The DMA block: admin SQ, admin CQ, I/O SQ, I/O CQ, Identify buffer,
 * a page each, then a PRP list page per command slot. */
#define MEM_ASQ		0
#define MEM_ACQ		1
#define MEM_IOSQ	2
#define MEM_IOCQ	3
#define MEM_ID		4
#define MEM_PAGES	5
#define MEM_SIZE	((MEM_PAGES + NVME_SLOTS) * (size_t)NVME_PAGE)

static uint8_t *mem_of(struct nvme *c);

int
ctrl_attach(struct nvme *c, const char **why)
{
	const struct pci_bar *b;

	if (PB_CALL(c->pci, pci_ops, info, &c->fn) != PB_OK) {
		*why = "pci gives no function info";
		return PB_EIO;
	}
	if (c->fn.class_code != PCI_CLASS_STORAGE ||
	    c->fn.subclass != PCI_SUBCLASS_NVM ||
	    c->fn.prog_if != PCI_PROGIF_NVME) {
		*why = "not an NVMe controller (class 01.08.02)";
		return PB_ENODEV;
	}
	b = &c->fn.bars[0];
	/* Registers and the first two queues' doorbells at the least. */
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->base || b->size < NVME_DBS + 16) {
		*why = "BAR0 is no usable memory BAR";
		return PB_ENODEV;
	}
	c->bar_size = b->size;
	c->regs = PB_CALL(c->pci, pci_ops, map_bar, c->self, 0, PB_CACHE_UC);
	if (!c->regs) {
		*why = "BAR0 cannot be mapped";
		return PB_ENOMEM;
	}
	/* NVMe queues and PRP entries carry 64-bit addresses (§4.3). */
	c->dma_limit = ~0ull;
	return PB_OK;
}

/* Memory decoding and bus mastering on (the firmware may have left
 * them off). */
int
ctrl_enable_pci(struct nvme *c)
{
	return PB_CALL(c->pci, pci_ops, enable, PCI_CMD_MEM | PCI_CMD_MASTER,
	    1);
}

/* CAP and VS, checked: what the driver needs of the controller. */
int
ctrl_read_caps(struct nvme *c, const char **why)
{
	unsigned qsize;

	c->cap_lo = reg_rd(c, NVME_CAP);
	c->cap_hi = reg_rd(c, NVME_CAP + 4);
	c->vs = reg_rd(c, NVME_VS);
	if (c->cap_lo == 0xffffffffu && c->cap_hi == 0xffffffffu) {
		*why = "its registers read all ones (no controller there)";
		return PB_ENODEV;
	}
	if (!CAP_CSS_NVM(c->cap_hi)) {
		*why = "CAP.CSS lacks the NVM command set";
		return PB_ENOTSUP;
	}
	if (CAP_MPSMIN(c->cap_hi) != 0) {
		*why = "CAP.MPSMIN excludes 4 KiB memory pages";
		return PB_ENOTSUP;
	}
	if (CAP_MQES(c->cap_lo) == 0) {
		*why = "CAP.MQES is 0 (a queue needs two entries)";
		return PB_ENOTSUP;
	}
	c->dstrd = CAP_DSTRD(c->cap_hi);
	if (DB_CQ(1, c->dstrd) + 4 > c->bar_size) {
		*why = "BAR0 is too small for the I/O queue's doorbells";
		return PB_ENODEV;
	}
	c->t_ready = (CAP_TO(c->cap_lo) ? CAP_TO(c->cap_lo) : 1) * T_TO_UNIT;
	qsize = CAP_MQES(c->cap_lo) + 1u;
	c->ioq.size = (uint16_t)(qsize < NVME_IO_Q ? qsize : NVME_IO_Q);
	c->nslots = c->ioq.size - 1u < NVME_SLOTS ? c->ioq.size - 1u :
	    NVME_SLOTS;
	c->aq.size = NVME_ADMIN_Q;
	c->aq.qid = 0;
	c->ioq.qid = 1;
	return PB_OK;
}

/* --- memory -------------------------------------------------------------- */

static uint8_t *
mem_of(struct nvme *c)
{
	return (uint8_t *)c->aq.sq;
}

/* The queues, the Identify page and the PRP lists: allocated for the
 * most the driver uses, before the registers are read (a standby start
 * makes them, so that activate allocates nothing). */
int
ctrl_alloc(struct nvme *c)
{
	uint64_t bus;
	uint8_t *m;

	if (c->aq.sq)
		return PB_OK;
	m = c->hub->dma_alloc(c->self, MEM_SIZE, NVME_PAGE, 0, c->dma_limit,
	    &bus);
	if (!m || (bus & NVME_PAGE_MASK)) {
		if (m)
			c->hub->dma_free(c->self, m);
		nlog(c, PB_LOG_ERR, "no DMA memory for the queues");
		return PB_ENOMEM;
	}
	c->ns_list = c->hub->alloc(c->self, NS_LIST_MAX * sizeof(uint32_t));
	if (!c->ns_list) {
		c->hub->dma_free(c->self, m);
		nlog(c, PB_LOG_ERR, "no memory for the namespace list");
		return PB_ENOMEM;
	}
	c->aq.sq = (struct nvme_sqe *)(void *)(m + MEM_ASQ * NVME_PAGE);
	c->aq.cq = (volatile struct nvme_cqe *)(void *)(m + MEM_ACQ *
	    NVME_PAGE);
	c->ioq.sq = (struct nvme_sqe *)(void *)(m + MEM_IOSQ * NVME_PAGE);
	c->ioq.cq = (volatile struct nvme_cqe *)(void *)(m + MEM_IOCQ *
	    NVME_PAGE);
	c->aq.sq_bus = bus + MEM_ASQ * NVME_PAGE;
	c->aq.cq_bus = bus + MEM_ACQ * NVME_PAGE;
	c->ioq.sq_bus = bus + MEM_IOSQ * NVME_PAGE;
	c->ioq.cq_bus = bus + MEM_IOCQ * NVME_PAGE;
	c->idbuf = m + MEM_ID * NVME_PAGE;
	c->idbuf_bus = bus + MEM_ID * NVME_PAGE;
	c->prp_pages = m + MEM_PAGES * NVME_PAGE;
	c->prp_bus = bus + MEM_PAGES * NVME_PAGE;
	for (unsigned s = 0; s < NVME_SLOTS; s++) {
		c->slot[s].prp = (uint64_t *)(void *)(c->prp_pages +
		    (size_t)s * NVME_PAGE);
		c->slot[s].prp_bus = c->prp_bus + (uint64_t)s * NVME_PAGE;
	}
	return PB_OK;
}

void
ctrl_free(struct nvme *c)
{
	if (c->aq.sq)
		c->hub->dma_free(c->self, mem_of(c));
	if (c->ns_list)
		c->hub->free(c->self, c->ns_list);
	c->ns_list = NULL;
	c->aq.sq = c->ioq.sq = NULL;
	c->aq.cq = c->ioq.cq = NULL;
	c->idbuf = c->prp_pages = NULL;
	for (unsigned s = 0; s < NVME_SLOTS; s++)
		c->slot[s].prp = NULL;
}

/* --- the steps ------------------------------------------------------------ */

int
ctrl_waiting(const struct nvme *c)
{
	return c->state == C_WAIT_ON || c->state == C_DISABLING ||
	    c->state == C_ENABLING;
}

static void
wait_in(struct nvme *c, enum ctrl_state s)
{
	uint64_t t = nvme_now(c);

	c->state = s;
	c->step_t0 = t;
	c->deadline = t + c->t_ready;
	c->next_poll = t + T_POLL;
}

static void
disable(struct nvme *c)
{
	reg_wr(c, NVME_CC, reg_rd(c, NVME_CC) & ~(CC_EN | CC_SHN_MASK));
	wait_in(c, C_DISABLING);
}

/* The admin queue into the registers, then enabled (§7.6.1 steps 3-5);
 * bus mastering on first (a resume leaves it off until here). */
static void
enable(struct nvme *c)
{
	ctrl_enable_pci(c);
	queue_reset(&c->aq);
	queue_reset(&c->ioq);
	reg_wr(c, NVME_AQA, AQA(c->aq.size, c->aq.size));
	reg_wr64(c, NVME_ASQ, c->aq.sq_bus);
	reg_wr64(c, NVME_ACQ, c->aq.cq_bus);
	mmio_wmb();		/* the queues' memory before CC.EN */
	reg_wr(c, NVME_CC, CC_ENABLE);
	wait_in(c, C_ENABLING);
}

/* From whatever state the controller is in, to enabled with our
 * queues; reinit: a reset or a hand-over, the namespaces known. */
void
ctrl_begin(struct nvme *c, int reinit)
{
	uint32_t cc = reg_rd(c, NVME_CC), csts = reg_rd(c, NVME_CSTS);

	c->reinit = reinit;
	c->astep = A_NONE;
	c->admin_busy = 0;
	if (csts == 0xffffffffu) {
		ctrl_decline(c, "CSTS reads all ones: the controller is gone");
		return;
	}
	if ((cc & CC_EN) && !(csts & (CSTS_RDY | CSTS_CFS)))
		wait_in(c, C_WAIT_ON);
	else if ((cc & CC_EN) || (csts & CSTS_RDY))
		disable(c);
	else
		enable(c);
	ctrl_step(c);
}

/* A reset's enable that failed: again while resets are left. */
static int
retry_reset(struct nvme *c, const char *why, uint32_t csts)
{
	if (!c->reinit || ++c->resets > NVME_RESETS)
		return 0;
	nlog(c, PB_LOG_WARN, "%s (CSTS 0x%08x): resetting again", why, csts);
	disable(c);
	return 1;
}

static uint64_t
poll_again(const struct nvme *c, uint64_t t)
{
	return t + (t - c->step_t0 < T_POLL_FAST ? T_POLL : T_POLL_SLOW);
}

/* One look at the register the controller's step waits on. */
void
ctrl_step(struct nvme *c)
{
	uint32_t csts = reg_rd(c, NVME_CSTS);
	uint64_t t = nvme_now(c);
	unsigned ms = (unsigned)(c->t_ready / MS);

	switch (c->state) {
	case C_WAIT_ON:
		if ((csts & (CSTS_RDY | CSTS_CFS)) || t >= c->deadline) {
			if (!(csts & (CSTS_RDY | CSTS_CFS)))
				nlog(c, PB_LOG_WARN, "found enabled, CSTS.RDY "
				    "not 1 within %u ms (CSTS 0x%08x): "
				    "disabled anyway", ms, csts);
			disable(c);
		}
		break;
	case C_DISABLING:
		if (!(csts & CSTS_RDY)) {
			enable(c);
			break;
		}
		if (t >= c->deadline)
			ctrl_decline(c, "CSTS.RDY not 0 within %u ms of "
			    "CC.EN=0 (CSTS 0x%08x)", ms, csts);
		break;
	case C_ENABLING:
		if (csts & CSTS_CFS) {
			if (!retry_reset(c, "CSTS.CFS while enabling", csts))
				ctrl_decline(c, "CSTS.CFS (fatal status) while "
				    "enabling (CSTS 0x%08x)", csts);
			break;
		}
		if (csts & CSTS_RDY) {
			c->state = C_ADMIN;
			c->next_poll = 0;
			admin_begin(c);
			return;
		}
		if (t >= c->deadline && !retry_reset(c, "CSTS.RDY not 1 after "
		    "a reset", csts))
			ctrl_decline(c, "CSTS.RDY not 1 within %u ms of "
			    "CC.EN=1 (CSTS 0x%08x)", ms, csts);
		break;
	default:
		return;
	}
	if (ctrl_waiting(c)) {
		t = nvme_now(c);
		if (c->next_poll <= t)
			c->next_poll = poll_again(c, t);
		tick_arm(c, c->next_poll);
	}
}

/* Give up on the controller: its requests fail, its disks go, and it is
 * disabled and kept off the bus so nothing it still does reaches our
 * memory. */
void
ctrl_decline(struct nvme *c, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nlog(c, PB_LOG_ERR, "%s: %s: declined", c->pci ? c->pci->res :
	    "nvme", why);
	c->state = C_DEAD;
	c->next_poll = c->deadline = 0;
	c->admin_busy = 0;
	c->aq.live = c->ioq.live = 0;
	io_fail_all(c, PB_EIO);
	for (unsigned i = 0; i < c->nns; i++)
		nvme_withdraw(&c->ns[i]);
	if (c->regs && reg_rd(c, NVME_CC) != 0xffffffffu)
		reg_wr(c, NVME_CC, reg_rd(c, NVME_CC) & ~CC_EN);
	if (c->pci)
		PB_CALL(c->pci, pci_ops, enable, PCI_CMD_MASTER, 0);
}

/* Reset after a timeout or a fatal status: what was on the device goes
 * back to the queue (io.c counts its tries), the queues are rebuilt.  A
 * bring-up not yet past Identify starts over; a running one keeps its
 * namespaces. */
void
ctrl_reset(struct nvme *c, const char *why)
{
	uint32_t csts = reg_rd(c, NVME_CSTS);
	uint64_t held;

	if (c->state == C_DEAD || c->state == C_DOWN)
		return;
	if (++c->resets > NVME_RESETS) {
		ctrl_decline(c, "%s, %u resets in a row (CSTS 0x%08x)", why,
		    c->resets - 1, csts);
		return;
	}
	nlog(c, PB_LOG_WARN, "%s: resetting the controller (CSTS 0x%08x)",
	    why, csts);
	c->reinit = c->reinit || c->state == C_READY;
	c->admin_busy = 0;
	c->aq.live = c->ioq.live = 0;
	held = cpu_irq_save();
	c->ring_get = c->ring_put;	/* completions of the old queues */
	cpu_irq_restore(held);
	io_requeue_inflight(c);
	if (c->state == C_DEAD)
		return;
	disable(c);
	ctrl_step(c);
}

/* CSTS looked at while commands are out: a fatal status, or a
 * controller that fell off the bus, resets. */
void
ctrl_check_fatal(struct nvme *c)
{
	uint32_t csts = reg_rd(c, NVME_CSTS);

	if (csts == 0xffffffffu)
		ctrl_reset(c, "CSTS reads all ones");
	else if (csts & CSTS_CFS)
		ctrl_reset(c, "CSTS.CFS: controller fatal status");
}

static int
spin_until(struct nvme *c, uint32_t mask, uint32_t want, uint64_t limit,
    uint32_t *csts)
{
	uint64_t end = nvme_now(c) + limit;

	while (((*csts = reg_rd(c, NVME_CSTS)) & mask) != want)
		if (*csts == 0xffffffffu || nvme_now(c) > end)
			return PB_ETIMEDOUT;
	return PB_OK;
}

/* The shutdown notification, then disabled (§7.6.2): for stop, which
 * cannot wait on the timer, so each wait is a bounded spin. */
void
ctrl_shutdown(struct nvme *c)
{
	uint32_t cc = reg_rd(c, NVME_CC), csts = reg_rd(c, NVME_CSTS);

	if (cc == 0xffffffffu || !(cc & CC_EN))
		return;
	if ((csts & CSTS_RDY) && !(csts & CSTS_CFS)) {
		reg_wr(c, NVME_CC, (cc & ~CC_SHN_MASK) | CC_SHN_NORMAL);
		if (spin_until(c, CSTS_SHST_MASK, CSTS_SHST_DONE, T_SHUTDOWN,
		    &csts) != PB_OK)
			nlog(c, PB_LOG_WARN, "CSTS.SHST not 10b within %llu ms "
			    "of the shutdown notification (CSTS 0x%08x)",
			    (unsigned long long)(T_SHUTDOWN / MS), csts);
	}
	reg_wr(c, NVME_CC, reg_rd(c, NVME_CC) & ~(CC_EN | CC_SHN_MASK));
	if (spin_until(c, CSTS_RDY, 0, T_DISABLE_SPIN, &csts) != PB_OK)
		nlog(c, PB_LOG_WARN, "CSTS.RDY not 0 within %llu ms of CC.EN=0 "
		    "(CSTS 0x%08x)", (unsigned long long)(T_DISABLE_SPIN / MS),
		    csts);
	c->aq.live = c->ioq.live = 0;
	c->state = C_DOWN;
}
