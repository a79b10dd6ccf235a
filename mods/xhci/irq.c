/*
 * irq.c - how the controller tells us: MSI-X, MSI, or our timer.
 *
 * Interrupter 0's message goes to one vector of ours: MSI-X entry 0 first
 * (QEMU's qemu-xhci offers MSI-X only), then MSI (abi/irq.h: the irq
 * provider's msi_message, then the pci provider's msi_enable).  INTx would
 * need the line's GSI from the ACPI _PRT, which nothing here interprets,
 * so without either the event ring is read from a periodic timer every
 * 4 ms (hub->timer_every), said in the controller's log line.  boot.cfg
 * `xhci-msi=no` forces polling (a test proves the fallback with it), as
 * do controllers known to offer messages they never send (msi_broken).
 *
 * The handler only acknowledges, USBSTS.EINT (and the other RW1C bits it
 * saw) and IMAN.IP (§4.17.5), and posts the event work with the USBSTS
 * bits it took; the work reads the event ring (event.c) on the event loop.
 *
 * A lost interrupt, or an event work that never ran (a handler or work
 * item skipped: the campaign's `skip`), leaves ERDP's Event Handler Busy
 * set, and while it is the controller raises no further interrupt
 * (§4.17.2; QEMU holds them back the same way): the driver would be deaf
 * for good.  With interrupts, a timer looks every T_LOOK: an event
 * waiting at the same place as at the last look is taken as the handler
 * would (one line, then at 2, 4, 8 ... looks), as Linux's 8250 backup
 * timer does for a UART.
 */
#include "xhci.h"
#include "../../abi/cpu.h"

/* Take and acknowledge what the controller raised (handler or poll). */
void
irq_collect(struct xhci *a)
{
	uint32_t sts;

	if (!a->op || a->released || a->standby)
		return;
	sts = op_rd(a, OP_USBSTS);
	if (sts != 0xffffffffu && (sts & USBSTS_RW1C))
		op_wr(a, OP_USBSTS, sts & USBSTS_RW1C);
	if (sts != 0xffffffffu && a->irq != IRQ_POLL)
		ir_wr(a, IR_IMAN, IMAN_IE | IMAN_IP);
	a->pend |= sts;
	a->hub->work_post(a->self, &a->ev_work);
}

void
xhci_intr(void *arg)
{
	irq_collect(arg);
}

/* The event work: the controller's health, then its events. */
void
xhci_event_work(void *arg)
{
	struct xhci *a = arg;
	uint64_t held = cpu_irq_save();
	uint32_t sts = a->pend;

	a->pend = 0;
	cpu_irq_restore(held);
	if (a->released || a->stopping || a->standby ||
	    a->hstate == HC_DOWN || a->hstate == HC_DEAD)
		return;
	if (sts == 0xffffffffu) {
		hc_dead(a, "USBSTS reads all ones (the controller went)");
		return;
	}
	if (sts & (USBSTS_HSE | USBSTS_HCE)) {
		hc_dead(a, "%s (USBSTS 0x%08x)", sts & USBSTS_HCE ?
		    "Host Controller Error" : "Host System Error", sts);
		return;
	}
	event_drain(a);
}

/* Is an event written and not taken at the ring's dequeue? */
static int
event_waiting(const struct xhci *a)
{
	const struct xhci_evring *e = &a->ev;

	return e->trb && (e->trb[e->deq].control & TRB_C) == e->cycle;
}

static void
lost_look(void *arg)
{
	struct xhci *a = arg;
	uint32_t deq = a->ev.deq;

	if (a->released || a->stopping || a->standby || a->hstate != HC_UP)
		return;
	if (event_waiting(a) && deq == a->look_deq) {
		a->looks++;
		if (!(a->looks & (a->looks - 1)))
			xlog(a, PB_LOG_WARN, "%s: events waited with no "
			    "interrupt: taken by the %llu ms look (%u times)",
			    a->name, (unsigned long long)(T_LOOK / MS),
			    a->looks);
		irq_collect(a);
	}
	a->look_deq = deq;
}

static void
poll(void *arg)
{
	struct xhci *a = arg;

	if (a->released || a->stopping || a->irq != IRQ_POLL)
		return;
	irq_collect(a);
}

/* One vector, the message programmed as `kind`: NULL, or why not. */
static const char *
msg_setup(struct xhci *a, int kind)
{
	uint64_t addr;
	uint32_t data;

	if (a->vector < 0 && (a->vector = a->hub->irq_alloc(a->self)) < 0) {
		a->vector = -1;
		return "no free vector";
	}
	if (a->hub->irq_register(a->self, a->vector, xhci_intr, a) != PB_OK) {
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

/* Fresco Logic's FL1000 and FL1400 list MSI and send no message
 * (OpenBSD's xhci_pci.c turns MSI off for them): read from the timer. */
static const char *
msi_broken(const struct pci_func_info *f)
{
	if (f->vendor == 0x1b73 && (f->device == 0x1000 || f->device == 0x1400))
		return "a Fresco FL1000/FL1400 sends no MSI";
	return NULL;
}

static const char *
msi_setup(struct xhci *a)
{
	const char *why = NULL;

	if (!a->irqc)
		return "no irq provider";
	if (pb_setting_off(a->hub, "xhci-msi"))
		return "boot.cfg xhci-msi=no";
	if ((why = msi_broken(&a->fn)))
		return why;
	if (a->fn.cap_msix && !(why = msg_setup(a, PCI_IRQ_MSIX))) {
		a->irq = IRQ_MSIX;
		return NULL;
	}
	if (a->fn.cap_msi && !(why = msg_setup(a, PCI_IRQ_MSI))) {
		a->irq = IRQ_MSI;
		return NULL;
	}
	return why ? why : "no MSI-X or MSI capability";
}

/* A periodic timer's id, 0: none (a hub without timer_every). */
static int
every(struct xhci *a, uint64_t ns, pb_work_fn fn)
{
	int id = a->hub->size > offsetof(struct pb_hub, timer_every) &&
	    a->hub->timer_every ? a->hub->timer_every(a->self, ns, fn, a) : 0;

	return id > 0 ? id : 0;
}

/* MSI-X, MSI, else polling. */
void
irq_setup(struct xhci *a)
{
	irq_teardown(a);
	a->irq_why = msi_setup(a);
	if (a->irq != IRQ_POLL) {
		a->look_id = every(a, T_LOOK, lost_look);
		return;
	}
	a->poll_id = every(a, T_POLL, poll);
	if (!a->poll_id)
		xlog(a, PB_LOG_ERR, "no periodic timer: events are read only "
		    "when a step runs");
}

const char *
irq_name(const struct xhci *a)
{
	static char buf[96];

	switch (a->irq) {
	case IRQ_MSIX:
		rt_snprintf(buf, sizeof(buf), "MSI-X on vector %d", a->vector);
		break;
	case IRQ_MSI:
		rt_snprintf(buf, sizeof(buf), "MSI on vector %d", a->vector);
		break;
	default:
		rt_snprintf(buf, sizeof(buf), "polling (%s)",
		    a->irq_why ? a->irq_why : "no interrupt");
		break;
	}
	return buf;
}

/* Let go of the interrupt (or the polling timer). */
void
irq_teardown(struct xhci *a)
{
	if (a->poll_id)
		a->hub->timer_cancel(a->self, a->poll_id);
	if (a->look_id)
		a->hub->timer_cancel(a->self, a->look_id);
	a->poll_id = a->look_id = 0;
	if (a->irq != IRQ_POLL) {
		if (a->pci)
			PB_CALL(a->pci, pci_ops, msi_disable);
		a->hub->irq_unregister(a->self, a->vector);
		a->vector = -1;
	}
	a->irq = IRQ_POLL;
}

/* The irq provider came or went while running: interrupts or polling,
 * and the controller told (IMAN.IE, USBCMD.INTE). */
void
irq_reconsider(struct xhci *a)
{
	enum irq_kind was = a->irq;

	irq_setup(a);
	ir_wr(a, IR_IMAN, IMAN_IP | (a->irq != IRQ_POLL ? IMAN_IE : 0));
	op_wr(a, OP_USBCMD, (op_rd(a, OP_USBCMD) & ~USBCMD_INTE) |
	    (a->irq != IRQ_POLL ? USBCMD_INTE : 0));
	if (a->irq != was)
		xlog(a, PB_LOG_INFO, "%s: now %s", a->name, irq_name(a));
}
