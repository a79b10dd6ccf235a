/*
 * irq.c - how the HBA tells us: MSI-X, else MSI, else our timer.
 *
 * With an `irq` provider, one vector of ours gets MSI-X table entry 0,
 * or else the function's single MSI message (abi/irq.h: msi_message,
 * then the pci provider's msi_enable, which programs the entry and
 * unmasks it).  MSI-X comes first, as OpenBSD's drivers try it (an HBA
 * may offer MSI-X alone; QEMU's ICH9 offers MSI alone).  INTx would need
 * the line's GSI from the ACPI _PRT, which nothing here interprets, so
 * without either the controller's timer polls instead (every 1 ms while
 * anything is under way, 100 ms when idle, for hot plug), said once in
 * the log.  boot.cfg `ahci-msi=no` forces polling, `ahci-msix=no` leaves
 * MSI-X unused (for an HBA whose MSI-X misbehaves).
 *
 * The handler only acknowledges (§5.6.2: PxIS, then IS; PxSERR.DIAG.N/X
 * for PRCS/PCS, which PxIS cannot clear) and posts the port's work item
 * with the bits it took; ahci_port_work does the rest on the event loop,
 * taking the bits with the interrupt held.
 *
 * A swap hands the vector over: the old side leaves the function's
 * MSI-X entry or MSI programmed and its vector registered (held by the
 * hub from its quiesce on), the state names the vector and which of the
 * two, and the new side takes it at activate (irq_adopt: the hub lets a
 * driver take the vectors of the one handing it the device).  No
 * teardown and setup inside the blackout.
 */
#include "ahci.h"
#include "../../abi/cpu.h"

#define SERR_DIAG_N	(1u << 16)	/* PhyRdy change: PxIS.PRCS */
#define SERR_DIAG_X	(1u << 26)	/* exchanged: PxIS.PCS */

/* Take and acknowledge what the HBA raised (handler or poll). */
void
irq_collect(struct ahci *a)
{
	uint32_t is = hba_rd(a, HBA_IS) & a->pi;

	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];
		uint32_t v;

		if (!(a->pi & (1u << i)))
			continue;
		/* Polling looks at every port; an interrupt names its own. */
		if (a->irq_kind && !(is & (1u << i)))
			continue;
		if (!(v = px_rd(p, PX_IS)))
			continue;
		if (v & (PXIS_PCS | PXIS_PRCS))
			px_wr(p, PX_SERR, SERR_DIAG_N | SERR_DIAG_X);
		px_wr(p, PX_IS, v);
		p->pend |= v;
		a->hub->work_post(a->self, &p->work);
	}
	if (is)
		hba_wr(a, HBA_IS, is);
}

static void
ahci_intr(void *arg)
{
	irq_collect(arg);
}

/* The port's work: finish commands, follow the link, dispatch. */
void
ahci_port_work(void *arg)
{
	struct ahci_port *p = arg;
	struct ahci *a = p->a;
	uint64_t held = cpu_irq_save();
	uint32_t is = p->pend;

	p->pend = 0;
	cpu_irq_restore(held);
	if (a->released || a->stopping || a->hstate != HBA_UP)
		return;
	if (p->props_stale) {
		p->props_stale = 0;
		ahci_set_props(p);
	}
	if (is & PXIS_LINK)
		port_link_event(p);
	if (p->issued || ((is & PXIS_FATAL) && p->state == PS_READY))
		io_scan(p, is);
	port_step(p);
	io_dispatch(p);
}

/*
 * Our handler on `vector`, run by the hub on its event loop when it can
 * (PB_IRQ_ON_LOOP): MSI and MSI-X are edge-triggered, and the handler
 * only collects and posts the port's work, which then runs in the same
 * call into us (one protection-domain switch per interrupt instead of
 * two).
 */
static int
irq_take(struct ahci *a, int vector)
{
	int r = a->hub->irq_register(a->self, vector | PB_IRQ_ON_LOOP,
	    ahci_intr, a);

	if (r == PB_EINVAL)	/* a hub without it */
		r = a->hub->irq_register(a->self, vector, ahci_intr, a);
	return r;
}

/* One vector, its message programmed as `kind` (MSI-X: entry 0): NULL,
 * or why not. */
static const char *
msg_setup(struct ahci *a, int kind)
{
	uint64_t addr;
	uint32_t data;

	if (a->vector < 0 && (a->vector = a->hub->irq_alloc(a->self)) < 0) {
		a->vector = -1;
		return "no free vector";
	}
	if (irq_take(a, a->vector) != PB_OK) {
		a->vector = -1;
		return "vector not registered";
	}
	if (PB_CALL(a->irqc, irq_ops, msi_message, a->vector, &addr,
	    &data) != PB_OK ||
	    PB_CALL(a->pci, pci_ops, msi_enable, kind, 0, addr, data) !=
	    PB_OK) {
		a->hub->irq_unregister(a->self, a->vector);
		a->vector = -1;
		return kind == PCI_IRQ_MSIX ? "MSI-X not programmed" :
		    "MSI not programmed";
	}
	return NULL;
}

/* MSI-X, else MSI: the kind now programmed, or 0 and why not. */
static int
msg_choose(struct ahci *a, const char **why)
{
	*why = NULL;
	if (!a->irqc) {
		*why = "no irq provider";
		return 0;
	}
	if (pb_setting_off(a->hub, "ahci-msi")) {
		*why = "boot.cfg ahci-msi=no";
		return 0;
	}
	if (a->fn.cap_msix && !pb_setting_off(a->hub, "ahci-msix") &&
	    !(*why = msg_setup(a, PCI_IRQ_MSIX)))
		return PCI_IRQ_MSIX;
	if (a->fn.cap_msi && !(*why = msg_setup(a, PCI_IRQ_MSI)))
		return PCI_IRQ_MSI;
	if (!*why)
		*why = a->fn.cap_msix ? "no MSI capability, boot.cfg "
		    "ahci-msix=no" : "no MSI-X or MSI capability";
	return 0;
}

/* The old side's vector, its message (`kind`) already in the function
 * (so ahci-msi was not off): ours now, or PB_EBUSY (then irq_setup).
 * Inside the blackout: one hub call, the step timer armed after it. */
int
irq_adopt(struct ahci *a, int vector, int kind)
{
	if (vector < 0 || (kind != PCI_IRQ_MSIX && kind != PCI_IRQ_MSI) ||
	    (kind == PCI_IRQ_MSIX ? !a->fn.cap_msix : !a->fn.cap_msi) ||
	    irq_take(a, vector) != PB_OK)
		return PB_EBUSY;
	a->vector = vector;
	a->irq_kind = kind;
	a->irq_why = NULL;
	a->notes |= NOTE_IRQ;	/* said with the takeover's note */
	return PB_OK;
}

/* MSI-X, MSI, else polling (one log line each way, said soon after). */
int
irq_setup(struct ahci *a)
{
	a->irq_kind = msg_choose(a, &a->irq_why);
	ahci_note(a, NOTE_IRQ);
	tick_arm(a, ahci_now(a) + T_POLL);
	return PB_OK;
}

void
irq_say(struct ahci *a)
{
	if (a->irq_kind)
		alog(a, PB_LOG_INFO, "interrupts by %s on vector %d",
		    a->irq_kind == PCI_IRQ_MSIX ? "MSI-X" : "MSI", a->vector);
	else if (!a->irqc)
		alog(a, PB_LOG_INFO, "polling every %llu ms until an irq "
		    "provider comes", (unsigned long long)(T_POLL / MS));
	else
		alog(a, PB_LOG_INFO, "polling every %llu ms (%s; INTx would "
		    "need ACPI _PRT routing)", (unsigned long long)(T_POLL /
		    MS), a->irq_why);
}

/* Let go of the interrupt: MSI-X and MSI off, the vector given back. */
void
irq_teardown(struct ahci *a)
{
	if (!a->irq_kind)
		return;
	if (a->pci)
		PB_CALL(a->pci, pci_ops, msi_disable);
	a->hub->irq_unregister(a->self, a->vector);
	a->vector = -1;
	a->irq_kind = 0;
}
