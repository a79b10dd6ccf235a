/*
 * hc.c - the controller's bring-up, as timer-driven steps after start()
 * returns, each bounded, each give-up naming its register:
 *
 *   HANDOFF  USBLEGSUP OS Owned set: BIOS Owned to clear (handoff.c, 1 s)
 *   READY    USBSTS.CNR to clear before any operational register is
 *            written (§4.2, 2 s); then Intel's port routing (handoff.c)
 *   HALT     USBCMD.R/S=0: USBSTS.HCH to set (16 ms, §5.4.1; 50 here)
 *   RESET    USBCMD.HCRST=1; 1 ms (Intel's controllers want it before any
 *            access), then HCRST and USBSTS.CNR to clear (§4.2: 2 s)
 *   setup    (§4.2) CONFIG.MaxSlotsEn, the DCBAA with the scratchpad
 *            buffer array in entry 0 (HCSPARAMS2 Max Scratchpad Bufs Hi:Lo,
 *            zeroed pages), CRCR (the command ring, RCS=1), interrupter 0
 *            (ERSTSZ, ERSTBA, ERDP; IMOD; IMAN), interrupts (irq.c),
 *            USBCMD.R/S=1 (and INTE, HSEE)
 *   START    USBSTS.HCH to clear (50 ms)
 *   POWER    with HCCPARAMS1.PPC, PORTSC.PP set on every port: 20 ms
 *   UP       the root ports are looked at (port.c), commands run.
 * The memory the controller reads is allocated at setup below the DMA
 * limit (AC64=0: 4 GiB) and given back when the driver stops.  A give-up
 * (hc_dead) fails every request with PB_EIO and leaves the controller
 * halted with bus mastering off (on while the firmware's SMIs are not
 * known off: hc_halt_now).
 */
#include "xhci.h"

static void
step_later(struct xhci *a, uint64_t t, uint64_t when)
{
	a->h_next = when > t ? when : t + T_STEP;
	tick_arm(a, a->h_next);
}

/* Memory decoding and bus mastering on: firmware may have left them
 * off (HARDWARE.md, UEFI exit). */
int
hc_enable_pci(struct xhci *a)
{
	return PB_CALL(a->pci, pci_ops, enable, PCI_CMD_MEM | PCI_CMD_MASTER,
	    1);
}

void
hc_dead(struct xhci *a, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	xlog(a, PB_LOG_ERR, "%s: %s: no USB on this controller", a->path, why);
	a->hstate = HC_DEAD;
	a->h_next = 0;
	hc_halt_now(a);
	xhci_fail_all(a, PB_EIO);
}

/* Quiet at once, without waiting: R/S and interrupts off, bus mastering
 * off so nothing more reaches memory (stop, a client gone, a give-up).
 * Not bus mastering while the firmware's SMIs may be armed (the handoff
 * not done, skipped, or not taken): some AMD boards hang in SMM when it
 * goes off under the firmware's USB code (HARDWARE.md; handoff.c). */
void
hc_halt_now(struct xhci *a)
{
	if (!a->pci || !a->op)
		return;
	if (!(op_rd(a, OP_USBSTS) & USBSTS_CNR))	/* §4.2: not before */
		op_wr(a, OP_USBCMD, op_rd(a, OP_USBCMD) & ~(USBCMD_RS |
		    USBCMD_INTE | USBCMD_HSEE));
	irq_teardown(a);
	if (!a->smis_off) {
		xlog(a, PB_LOG_WARN, "%s: halted with bus mastering left on: "
		    "the firmware's SMIs are not known off (USBLEGSUP 0x%08x "
		    "USBLEGCTLSTS 0x%08x)", a->path,
		    cap_rd(a, a->legacy), cap_rd(a, a->legacy + USBLEGCTLSTS));
		return;
	}
	PB_CALL(a->pci, pci_ops, enable, PCI_CMD_MASTER, 0);
}

static void
reset_begin(struct xhci *a, uint64_t t)
{
	op_wr(a, OP_USBCMD, USBCMD_HCRST);
	a->hstate = HC_RESET;
	a->h_t0 = t;
	a->h_deadline = t + T_RESET;
	step_later(a, t, t + T_RESET_MIN);
}

static void
halt_begin(struct xhci *a, uint64_t t)
{
	uint32_t cmd = op_rd(a, OP_USBCMD);

	handoff_route_ports(a);
	if (op_rd(a, OP_USBSTS) & USBSTS_HCH) {
		reset_begin(a, t);
		return;
	}
	op_wr(a, OP_USBCMD, cmd & ~(USBCMD_RS | USBCMD_INTE | USBCMD_HSEE));
	a->hstate = HC_HALT;
	a->h_deadline = t + T_HALT;
	step_later(a, t, t + T_STEP);
}

/* No operational register is written while USBSTS.CNR says the
 * controller is not ready (§4.2, §5.4.2). */
static void
ready_begin(struct xhci *a, uint64_t t)
{
	if (!(op_rd(a, OP_USBSTS) & USBSTS_CNR)) {
		halt_begin(a, t);
		return;
	}
	a->hstate = HC_READY;
	a->h_deadline = t + T_RESET;
	step_later(a, t, t + T_STEP);
}

void
hc_begin(struct xhci *a)
{
	uint64_t t = xhci_now(a);

	a->said_up = 0;
	if (handoff_begin(a)) {
		a->hstate = HC_HANDOFF;
		a->h_deadline = t + T_HANDOFF;
		step_later(a, t, t + T_STEP);
		return;
	}
	ready_begin(a, t);
}

/* --- memory ------------------------------------------------------------ */

static void *
dma(struct xhci *a, size_t len, size_t align, uint64_t boundary,
    uint64_t *bus)
{
	return a->hub->dma_alloc(a->self, len, align, boundary, a->dma_limit,
	    bus);
}

static int
scratch_alloc(struct xhci *a)
{
	unsigned n = a->nscratch;

	if (!n)
		return PB_OK;
	/* The array may not cross a page (Table 6-1): 512 entries. */
	if (n > PAGE_BOUNDARY / 8)
		return PB_ENOTSUP;
	a->spa = dma(a, n * 8u, CTX_ALIGN, PAGE_BOUNDARY, &a->spa_bus);
	a->sp = a->hub->alloc(a->self, n * sizeof(void *));
	if (!a->spa || !a->sp)
		return PB_ENOMEM;
	memset(a->sp, 0, n * sizeof(void *));
	for (unsigned i = 0; i < n; i++) {
		uint64_t bus;

		if (!(a->sp[i] = dma(a, 4096, 4096, PAGE_BOUNDARY, &bus)))
			return PB_ENOMEM;
		a->spa[i] = bus;
	}
	a->dcbaa[0] = a->spa_bus;
	return PB_OK;
}

void
hc_free_memory(struct xhci *a)
{
	const struct pb_hub *h = a->hub;

	xhci_forget_devices(a);
	if (a->sp) {
		for (unsigned i = 0; i < a->nscratch; i++)
			if (a->sp[i])
				h->dma_free(a->self, a->sp[i]);
		h->free(a->self, a->sp);
	}
	if (a->spa)
		h->dma_free(a->self, a->spa);
	if (a->dcbaa)
		h->dma_free(a->self, a->dcbaa);
	if (a->ictx)
		h->dma_free(a->self, a->ictx);
	a->sp = NULL;
	a->spa = NULL;
	a->dcbaa = NULL;
	a->ictx = NULL;
	ring_free(a, &a->cmd);
	evring_free(a);
}

static int
memory_alloc(struct xhci *a, const char **why)
{
	int err;

	hc_free_memory(a);
	*why = "no DMA memory for the rings and contexts";
	a->dcbaa = dma(a, (a->nslots + 1) * 8u, CTX_ALIGN, PAGE_BOUNDARY,
	    &a->dcbaa_bus);
	a->ictx = dma(a, (CTX_ENTRIES + 1) * a->ctxsz, CTX_ALIGN,
	    PAGE_BOUNDARY, &a->ictx_bus);
	if (!a->dcbaa || !a->ictx)
		return PB_ENOMEM;
	if ((err = scratch_alloc(a)) != PB_OK) {
		if (err == PB_ENOTSUP)
			*why = "more than 512 scratchpad buffers asked for";
		return err;
	}
	if (ring_alloc(a, &a->cmd, CMD_RING_TRBS) != PB_OK ||
	    evring_alloc(a) != PB_OK)
		return PB_ENOMEM;
	return PB_OK;
}

/* §4.2: everything the controller reads, then run. */
static void
setup(struct xhci *a, uint64_t t)
{
	const char *why;
	uint32_t cmd;

	if (!(op_rd(a, OP_PAGESIZE) & PAGESIZE_4K)) {
		hc_dead(a, "PAGESIZE 0x%08x has no 4 KiB pages",
		    op_rd(a, OP_PAGESIZE));
		return;
	}
	if (memory_alloc(a, &why) != PB_OK) {
		hc_dead(a, "%s", why);
		return;
	}
	if (hc_enable_pci(a) != PB_OK) {
		hc_dead(a, "bus mastering cannot be enabled");
		return;
	}
	op_wr(a, OP_CONFIG, (op_rd(a, OP_CONFIG) & ~CONFIG_MAX_SLOTS_EN) |
	    a->nslots);
	op_wr64(a, OP_DCBAAP, a->dcbaa_bus);
	cmd_reset_state(a);
	op_wr64(a, OP_CRCR, a->cmd.bus | CRCR_RCS);
	ir_wr(a, IR_ERSTSZ, 1);
	ir_wr64(a, IR_ERSTBA, a->erst_bus);
	evring_done(a);				/* ERDP */
	ir_wr(a, IR_IMOD, 160);			/* 40 us, in 250 ns */
	irq_setup(a);
	ir_wr(a, IR_IMAN, IMAN_IP | (a->irq != IRQ_POLL ? IMAN_IE : 0));
	op_wr(a, OP_USBSTS, USBSTS_RW1C);
	cmd = USBCMD_RS | USBCMD_HSEE | (a->irq != IRQ_POLL ? USBCMD_INTE : 0);
	op_wr(a, OP_USBCMD, cmd);
	a->hstate = HC_START;
	a->h_deadline = t + T_RUN;
	step_later(a, t, t + T_STEP);
}

static void
up(struct xhci *a)
{
	a->hstate = HC_UP;
	a->h_next = 0;
	hc_log_up(a);
	port_scan(a);
	state_held_up(a);
	cmd_kick(a);
}

static void
power_begin(struct xhci *a, uint64_t t)
{
	if (!(a->hcc1 & HCC1_PPC)) {
		up(a);
		return;
	}
	port_power_on(a);
	a->hstate = HC_POWER;
	step_later(a, t, t + T_POWER);
}

/* One look at the bring-up; the timer brings us back. */
void
hc_step(struct xhci *a)
{
	uint64_t t = xhci_now(a);
	uint32_t sts = a->op ? op_rd(a, OP_USBSTS) : 0;

	if (a->hstate == HC_DOWN || a->hstate == HC_UP ||
	    a->hstate == HC_DEAD || t < a->h_next)
		return;
	if (sts == 0xffffffffu) {
		hc_dead(a, "USBSTS reads all ones (the controller went)");
		return;
	}
	switch (a->hstate) {
	case HC_HANDOFF:
		if (handoff_step(a, t))
			ready_begin(a, t);
		else
			step_later(a, t, t + T_SLOW);
		return;
	case HC_READY:
		if (!(sts & USBSTS_CNR))
			halt_begin(a, t);
		else if (t >= a->h_deadline)
			hc_dead(a, "USBSTS.CNR did not clear in %llu ms "
			    "(USBSTS 0x%08x)", (unsigned long long)(T_RESET /
			    MS), sts);
		else
			step_later(a, t, t + T_SLOW);
		return;
	case HC_HALT:
		if (sts & USBSTS_HCH)
			reset_begin(a, t);
		else if (t >= a->h_deadline)
			hc_dead(a, "USBSTS.HCH did not set %llu ms after R/S=0 "
			    "(USBSTS 0x%08x)", (unsigned long long)(T_HALT / MS),
			    sts);
		else
			step_later(a, t, t + T_STEP);
		return;
	case HC_RESET:
		if (!(op_rd(a, OP_USBCMD) & USBCMD_HCRST) &&
		    !(sts & USBSTS_CNR))
			setup(a, t);
		else if (t >= a->h_deadline)
			hc_dead(a, "USBCMD.HCRST or USBSTS.CNR did not clear in "
			    "%llu ms (USBCMD 0x%08x USBSTS 0x%08x)",
			    (unsigned long long)(T_RESET / MS),
			    op_rd(a, OP_USBCMD), sts);
		else
			step_later(a, t, t + (t - a->h_t0 < 20 * MS ? T_STEP :
			    T_SLOW));
		return;
	case HC_START:
		if (!(sts & USBSTS_HCH))
			power_begin(a, t);
		else if (t >= a->h_deadline)
			hc_dead(a, "USBSTS.HCH did not clear %llu ms after "
			    "R/S=1 (USBSTS 0x%08x)",
			    (unsigned long long)(T_RUN / MS), sts);
		else
			step_later(a, t, t + T_STEP);
		return;
	case HC_POWER:
		up(a);
		return;
	default:
		return;
	}
}

/* The one line a controller gets when it runs (at most 160 bytes). */
void
hc_log_up(struct xhci *a)
{
	char u2[20], u3[20], sp[24] = "";

	if (a->said_up)
		return;
	a->said_up = 1;
	caps_port_range(a, 0, u2, sizeof(u2));
	caps_port_range(a, 1, u3, sizeof(u3));
	if (a->nscratch)
		rt_snprintf(sp, sizeof(sp), ", %u scratchpads", a->nscratch);
	xlog(a, PB_LOG_INFO, "%s: %s: xHCI %x.%02x, %u ports (usb2 %s, usb3 "
	    "%s), %u slots, %u-byte contexts%s, %s, %s", a->name, a->path,
	    a->version >> 8, a->version & 0xff, a->nports, u2, u3, a->nslots,
	    a->ctxsz, sp, a->dma_limit == ~0ull ? "64-bit DMA" :
	    "DMA below 4 GiB", irq_name(a));
}
