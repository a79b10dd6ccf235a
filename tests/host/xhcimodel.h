/*
 * xhcimodel.h - a register- and ring-level xHCI 1.2 controller with USB
 * devices behind it, for mod_xhci.c: the driver's mmio_read32 and
 * mmio_write32 land here, and the model reads and writes the driver's DMA
 * memory through the fake hub's bus addresses (fake_dma_va).
 *
 * What it does, as the spec (and QEMU's hcd-xhci.c) does it:
 *  - capability registers like qemu-xhci (8 ports: USB 3 on 1-4, USB 2 on
 *    5-8; 64 slots), with what QEMU lacks as options: a USB Legacy Support
 *    capability whose BIOS lets go at a time (or never), CSZ=1, scratchpad
 *    buffers, PPC=1, AC64=0, PSI speed IDs;
 *  - USBCMD R/S and HCRST (HCH, HCRST and CNR follow, after a few reads,
 *    or never when told), USBSTS RW1C, CRCR (CA stops the ring), DCBAAP,
 *    CONFIG, PORTSC (PR/WPR reset a port, RW1C change bits, PP);
 *  - interrupter 0: ERSTSZ/ERSTBA/ERDP, IMAN (IP, IE), EHB; events into the
 *    driver's event ring with its cycle bit, an MSI(-X) raised
 *    (model_deliver) as QEMU does (EHB holds further ones back until ERDP
 *    is written with EHB);
 *  - commands from the driver's command ring, run in model_run(): Enable
 *    and Disable Slot, Address Device, Configure Endpoint, Evaluate
 *    Context, Reset/Stop Endpoint, Set TR Dequeue Pointer, No Op; the
 *    input contexts read at the controller's context size;
 *  - transfer rings: TDs fetched by cycle bit through Link TRBs, run
 *    against the device: control requests answered from descriptor blobs,
 *    bulk OUT into a FIFO that bulk IN serves back (or a fixed pattern
 *    length), interrupt IN waiting for model_feed(); Short Packet events
 *    where ISP asks, Success at IOC, Stall, USB Transaction Error, Babble
 *    (the endpoint halts), endpoints that never answer, and a second
 *    event after a short packet (some controllers' spurious one).
 *
 * Every rule the driver must keep is checked and counted in xm.bad with
 * the first reason in xm.why: register widths (only 32-bit accesses exist
 * here: anything else aborts), 64-bit registers written low then high,
 * PED written 1, commands or rings not 64-byte aligned or crossing 64 KiB,
 * contexts misaligned, unused input context dwords not zero, a TRB buffer
 * over 64 KiB or across a 64 KiB boundary, IOC anywhere but a TD's last
 * TRB, IOC or CH missing where due, a Setup TRB without IDT or with the
 * wrong TRT, a Status stage's direction, a TD half written (its first TRB
 * valid before the rest), DMA above 4 GiB with AC64=0, memory the device
 * cannot reach, registers written before CNR cleared.
 */
#ifndef PB_TESTS_XHCIMODEL_H
#define PB_TESTS_XHCIMODEL_H

#define XM_BAR_SIZE	0x4000
#define XM_OP		0x40
#define XM_RT		0x1000
#define XM_DB		0x2000
#define XM_XECP		0x3000
#define XM_PORTS	8	/* 1-4 USB 3, 5-8 USB 2 */
#define XM_SLOTS	64
#define XM_FIFO		(8u << 20)

enum { XM_NAK = -1 };	/* a TD waits for the device */

struct xm_ep {
	int enabled;
	int state;		/* EPS_* */
	uint64_t deq;
	int ccs;
	unsigned type, mps, interval, cerr, avg, burst;
	uint64_t pending;	/* a TD waits here (its first TRB), 0: none */
	/* faults, for the next TDs */
	unsigned stall_next, txerr_next, babble_next;
	int silent;		/* TDs never complete */
	unsigned tsp_resets;	/* Reset Endpoint with TSP */
	unsigned resets, stops, set_deqs;
};

struct xm_dev {
	int present;
	int speed;		/* enum usb_speed */
	int slot;		/* its slot, 0: none */
	unsigned root, route;	/* where it is: root port, route string */
	uint8_t desc[18];
	uint8_t cfg[64];
	unsigned cfg_len;
	uint8_t *fifo;		/* bulk OUT in, bulk IN out */
	size_t fifo_len;
	unsigned serve;		/* bulk IN: this many bytes each TD (0: FIFO) */
	uint8_t intr[64];	/* interrupt IN data, when ready */
	unsigned intr_len;
	int intr_ready;
	unsigned ctrl_reqs, set_config;
	unsigned addresses;	/* SET_ADDRESS (Address Device, BSR=0) */
};

struct xm_port {
	uint32_t portsc;
	int usb3;
	int dev;		/* index in xm.dev, -1: none */
	int reset_fails;	/* PR leaves PED 0 */
	int inactive;		/* USB 3 link stays Inactive until WPR */
	unsigned prs, wprs;
};

struct xm_slot {
	int enabled, addressed;
	int default_state;	/* Address Device with BSR=1: no address */
	uint64_t octx;
	int dev;		/* -1: none */
	uint32_t sctx[4];	/* what the last command said */
	struct xm_ep ep[32];
};

static struct {
	/* capabilities and options */
	uint32_t hcs1, hcs2, hcc1;
	uint16_t version;
	int csz, ppc, ac64;
	unsigned nscratch;
	int legacy;		/* a USB Legacy Support capability */
	uint64_t bios_until;	/* BIOS Owned clears then (~0: never) */
	uint32_t usblegsup, usblegctl;
	int hch_stuck, hcrst_stuck, cnr_stuck, run_stuck;
	int cmd_silent;		/* commands fetched, never completed */
	int short_twice;	/* a 2nd event at IOC after a short packet */
	int sync_cmds;		/* commands run in the doorbell write */
	/* registers */
	uint32_t usbcmd, usbsts, config, crcr_lo, crcr_hi;
	uint64_t dcbaap;
	uint32_t dcbaap_lo;
	int crcr_lo_written, dcbaap_lo_written;
	uint32_t iman, imod, erstsz, erstba_lo, erdp_lo;
	uint64_t erstba, erdp;
	int erstba_lo_written, erdp_lo_written;
	unsigned hcrst_reads, cnr_reads;
	/* the command ring */
	uint64_t cmd_deq;
	int cmd_ccs, crr, cmd_kick;
	/* the event ring */
	uint64_t er_base;
	unsigned er_size, er_enq;
	int er_pcs, er_ready;
	unsigned events, events_lost;
	/* interrupts */
	int msi_on, msix_on, vector, irq_pending;
	unsigned irqs;
	/* the rest */
	struct xm_port port[XM_PORTS];
	struct xm_slot slot[XM_SLOTS + 1];
	struct xm_dev dev[8];
	unsigned ndev;
	uint32_t kicks[XM_SLOTS + 1];	/* doorbells rung, by DCI bit */
	unsigned cmds, hcrsts, order_bad;
	unsigned cmd_count[64];		/* by TRB type */
	unsigned ped_writes;
	int ersz_then_ba_then_dp;	/* the interrupter's setup order */
	unsigned bad;
	char why[200];
	uint32_t reg_writes;
} xm;

static uint8_t xm_bar[XM_BAR_SIZE];

static void
xbad(const char *fmt, ...)
{
	va_list ap;

	if (xm.bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(xm.why, sizeof(xm.why), fmt, ap);
	va_end(ap);
}

/* Memory the controller reaches at bus, checked. */
static void *
xdma(uint64_t bus, size_t len, const char *what)
{
	void *va;

	if (!xm.ac64 && (bus >> 32))
		xbad("%s at 0x%llx: above 4 GiB with AC64=0", what,
		    (unsigned long long)bus);
	if (!(va = fake_dma_va(bus, len)))
		xbad("%s at 0x%llx (+%zu): no memory there", what,
		    (unsigned long long)bus, len);
	return va;
}

static unsigned
xm_ctxsz(void)
{
	return xm.csz ? 64 : 32;
}

/* --- events and interrupts --------------------------------------------- */

static void
xm_raise(void)
{
	xm.iman |= 1;		/* IP */
	xm.usbsts |= 1u << 3;	/* EINT */
	if (xm.erdp_lo & 8)	/* EHB: the driver has not caught up */
		return;
	xm.erdp_lo |= 8;
	if ((xm.iman & 2) && (xm.usbcmd & 4))
		xm.irq_pending = 1;
}

static unsigned
xm_er_deq(void)
{
	uint64_t d = ((uint64_t)xm.erdp & ~0xfull);

	if (d < xm.er_base || d >= xm.er_base + 16ull * xm.er_size)
		return ~0u;
	return (unsigned)((d - xm.er_base) / 16);
}

static void
xm_event_raw(uint64_t param, uint32_t status, uint32_t control)
{
	struct xhci_trb *t;
	unsigned deq = xm_er_deq();

	if (!xm.er_ready || !(xm.usbcmd & 1))
		return;
	if (deq == ~0u) {
		xbad("ERDP 0x%llx outside the event ring",
		    (unsigned long long)xm.erdp);
		return;
	}
	if ((xm.er_enq + 1) % xm.er_size == deq) {
		xm.events_lost++;	/* full: dropped */
		return;
	}
	if ((xm.er_enq + 2) % xm.er_size == deq) {
		param = 0;		/* the last slot: Event Ring Full */
		status = (uint32_t)CC_EVENT_RING_FULL << 24;
		control = TRB_TYPE_SET(TRB_EV_HOST);
		xm.events_lost++;
	}
	if (!(t = xdma(xm.er_base + 16ull * xm.er_enq, 16, "event ring")))
		return;
	t->param = param;
	t->status = status;
	t->control = (control & ~1u) | (uint32_t)xm.er_pcs;
	xm.events++;
	if (++xm.er_enq == xm.er_size) {
		xm.er_enq = 0;
		xm.er_pcs ^= 1;
	}
	xm_raise();
}

static void
xm_cmd_event(uint64_t trb, unsigned cc, unsigned slot)
{
	xm_event_raw(trb, cc << 24, TRB_TYPE_SET(TRB_EV_COMMAND) |
	    slot << 24);
}

static void
xm_xfer_event(uint64_t trb, unsigned cc, uint32_t residual, unsigned slot,
    unsigned dci)
{
	xm_event_raw(trb, cc << 24 | (residual & 0xffffff),
	    TRB_TYPE_SET(TRB_EV_TRANSFER) | slot << 24 | dci << 16);
}

static void
xm_port_notify(unsigned n, uint32_t bits)
{
	struct xm_port *p = &xm.port[n - 1];

	if ((p->portsc & bits) == bits)
		return;		/* QEMU: no event for a bit already set */
	p->portsc |= bits;
	xm_event_raw((uint64_t)n << 24, CC_SUCCESS << 24,
	    TRB_TYPE_SET(TRB_EV_PORT));
}

/* An MSI(-X), if one is due and enabled: the driver's handler runs. */
static unsigned
model_deliver(void)
{
	if (!xm.irq_pending || !(xm.msi_on || xm.msix_on))
		return 0;
	xm.irq_pending = 0;
	if (xm.msix_on)
		xm.iman &= ~1u;	/* MSI-X: IP clears itself */
	if (!fvec[xm.vector].fn)
		return 0;
	xm.irqs++;
	fvec[xm.vector].fn(fvec[xm.vector].arg);
	return 1;
}

/* Garbage: any TRB written into the event ring as if the controller
 * wrote it (its cycle bit made right). */
static void
model_inject(uint64_t param, uint32_t status, uint32_t control)
{
	xm_event_raw(param, status, control);
}

/* --- ports ------------------------------------------------------------------ */

static int
xm_port_powered(const struct xm_port *p)
{
	return !xm.ppc || (p->portsc & PORTSC_PP);
}

/* What PORTSC says of the device there (a connect change raised). */
static void
xm_port_update(unsigned n, int notify)
{
	struct xm_port *p = &xm.port[n - 1];
	struct xm_dev *d = p->dev >= 0 ? &xm.dev[p->dev] : NULL;
	uint32_t keep = p->portsc & (PORTSC_PP | PORTSC_CHANGES);

	p->portsc = keep | (xm.ppc ? 0 : PORTSC_PP);
	if (d && d->present && xm_port_powered(p)) {
		unsigned psiv = d->speed == USB_SPEED_LOW ? 2 :
		    d->speed == USB_SPEED_FULL ? 1 : d->speed ==
		    USB_SPEED_HIGH ? 3 : 4;

		p->portsc |= PORTSC_CCS | psiv << PORTSC_SPEED_SHIFT;
		if (p->usb3 && !p->inactive)
			p->portsc |= PORTSC_PED;	/* trained */
		p->portsc |= (uint32_t)(p->usb3 ? (p->inactive ? PLS_INACTIVE :
		    PLS_U0) : PLS_POLLING) << PORTSC_PLS_SHIFT;
	} else {
		p->portsc |= (uint32_t)PLS_RX_DETECT << PORTSC_PLS_SHIFT;
	}
	if (notify)
		xm_port_notify(n, PORTSC_CSC);
	else
		p->portsc |= PORTSC_CSC;
}

static void
xm_port_reset(unsigned n, int warm)
{
	struct xm_port *p = &xm.port[n - 1];

	if (warm) {
		p->wprs++;
		p->inactive = 0;
	} else {
		p->prs++;
	}
	if (!(p->portsc & PORTSC_CCS))
		return;
	if (!p->reset_fails) {
		p->portsc |= PORTSC_PED;
		p->portsc = (p->portsc & ~PORTSC_PLS_MASK) |
		    (uint32_t)PLS_U0 << PORTSC_PLS_SHIFT;
	}
	if (p->dev >= 0) {
		xm.dev[p->dev].slot = 0;	/* back to the default state */
		for (unsigned s = 1; s <= XM_SLOTS; s++)
			if (xm.slot[s].dev == p->dev)
				xm.slot[s].dev = -1;
	}
	xm_port_notify(n, warm ? (PORTSC_PRC | PORTSC_WRC) : PORTSC_PRC);
}

static void
xm_port_write(unsigned n, uint32_t v)
{
	struct xm_port *p = &xm.port[n - 1];

	if (v & PORTSC_PED) {
		xm.ped_writes++;
		xbad("PORTSC%u written with PED=1 (0x%08x): disables the port",
		    n, v);
	}
	if (v & PORTSC_WPR) {
		xm_port_reset(n, 1);
		return;
	}
	if (v & PORTSC_PR) {
		xm_port_reset(n, 0);
		return;
	}
	p->portsc &= ~(v & PORTSC_CHANGES);
	if (xm.ppc && (v & PORTSC_PP) && !(p->portsc & PORTSC_PP)) {
		p->portsc |= PORTSC_PP;
		xm_port_update(n, 1);
	}
}

/* --- reset ---------------------------------------------------------------- */

static void
xm_hc_reset(void)
{
	xm.hcrsts++;
	xm.usbcmd = 0;
	xm.usbsts = 1 | (xm.cnr_stuck ? 1u << 11 : 0);
	xm.config = 0;
	xm.crcr_lo = xm.crcr_hi = 0;
	xm.dcbaap = 0;
	xm.iman = xm.imod = xm.erstsz = 0;
	xm.erstba = xm.erdp = 0;
	xm.erdp_lo = 0;
	xm.er_ready = 0;
	xm.crr = 0;
	xm.cmd_kick = 0;
	memset(xm.kicks, 0, sizeof(xm.kicks));
	for (unsigned s = 0; s <= XM_SLOTS; s++) {
		memset(&xm.slot[s], 0, sizeof(xm.slot[s]));
		xm.slot[s].dev = -1;
	}
	for (unsigned i = 0; i < xm.ndev; i++)
		xm.dev[i].slot = 0;
	for (unsigned n = 1; n <= XM_PORTS; n++) {
		xm.port[n - 1].portsc = 0;
		xm_port_update(n, 0);
	}
	xm.hcrst_reads = 3;
}

/* --- registers ----------------------------------------------------------- */

static size_t
xm_off(const volatile void *reg)
{
	size_t off = (size_t)((const volatile uint8_t *)reg - xm_bar);

	if (off >= sizeof(xm_bar) || (off & 3)) {
		fprintf(stderr, "xhcimodel: access at BAR0+0x%zx\n", off);
		abort();
	}
	return off;
}

static uint32_t
xm_cap_read(size_t off)
{
	switch (off) {
	case 0x00: return (uint32_t)xm.version << 16 | XM_OP;
	case 0x04: return xm.hcs1;
	case 0x08: return xm.hcs2;
	case 0x0c: return 0;
	case 0x10: return xm.hcc1;
	case 0x14: return XM_DB;
	case 0x18: return XM_RT;
	default: return 0;
	}
}

/* xECP at XM_XECP: [legacy (2 dwords + pad)] USB 2 protocol, USB 3. */
static uint32_t
xm_xecp_read(size_t off)
{
	size_t o = off - XM_XECP;
	size_t p2 = xm.legacy ? 0x10 : 0, p3 = p2 + 0x10;

	if (xm.legacy && o == 0) {
		if ((xm.usblegsup & USBLEGSUP_OS_OWNED) &&
		    fake_ns >= xm.bios_until)
			xm.usblegsup &= ~USBLEGSUP_BIOS_OWNED;
		return xm.usblegsup | 1u | (0x4u << 8);
	}
	if (xm.legacy && o == 4)
		return xm.usblegctl;
	if (o == p2)
		return 0x02000002u | 4u << 8;
	if (o == p2 + 4 || o == p3 + 4)
		return PROTO_NAME_USB;
	if (o == p2 + 8)
		return 4u << 8 | 5u;		/* ports 5-8 */
	if (o == p3)
		return 0x03000002u;		/* the last */
	if (o == p3 + 8)
		return 4u << 8 | 1u;		/* ports 1-4 */
	return 0;
}

static uint32_t
xm_op_read(size_t o)
{
	if (o >= 0x400) {
		unsigned n = (unsigned)((o - 0x400) / 0x10) + 1;

		return n <= XM_PORTS && (o & 0xf) == 0 ?
		    xm.port[n - 1].portsc : 0;
	}
	switch (o) {
	case 0x00:
		if ((xm.usbcmd & USBCMD_HCRST) && !xm.hcrst_stuck &&
		    !--xm.hcrst_reads)
			xm.usbcmd &= ~USBCMD_HCRST;
		return xm.usbcmd;
	case 0x04:
		if ((xm.usbsts & USBSTS_CNR) && !xm.cnr_stuck &&
		    !(xm.usbcmd & USBCMD_HCRST) && !(xm.cnr_reads &&
		    --xm.cnr_reads))
			xm.usbsts &= ~USBSTS_CNR;
		return xm.usbsts;
	case 0x08: return 1;			/* 4 KiB pages */
	case 0x18: return xm.crr ? CRCR_CRR : 0;
	case 0x1c: return 0;
	case 0x30: return (uint32_t)xm.dcbaap;
	case 0x34: return (uint32_t)(xm.dcbaap >> 32);
	case 0x38: return xm.config;
	default: return 0;
	}
}

static void xm_cmd_ring_stopped(void);

static void
xm_usbcmd_write(uint32_t v)
{
	if (v & USBCMD_HCRST) {
		if (!(xm.usbsts & USBSTS_HCH))
			xbad("HCRST written while running");
		xm_hc_reset();
		xm.usbcmd = USBCMD_HCRST;
		xm.usbsts |= USBSTS_CNR;
		return;
	}
	if ((v & USBCMD_RS) && !(xm.usbcmd & USBCMD_RS) && !xm.run_stuck)
		xm.usbsts &= ~USBSTS_HCH;
	if (!(v & USBCMD_RS) && (xm.usbcmd & USBCMD_RS) && !xm.hch_stuck) {
		xm.usbsts |= USBSTS_HCH;
		xm.crr = 0;
	}
	xm.usbcmd = v & 0xf0f;
}

static void
xm_op_write(size_t o, uint32_t v)
{
	if (o != 0x04 && (xm.usbsts & USBSTS_CNR))
		xbad("operational register 0x%zx written before CNR cleared",
		    o);
	if (o >= 0x400) {
		unsigned n = (unsigned)((o - 0x400) / 0x10) + 1;

		if (n <= XM_PORTS && (o & 0xf) == 0)
			xm_port_write(n, v);
		return;
	}
	switch (o) {
	case 0x00:
		xm_usbcmd_write(v);
		break;
	case 0x04:
		xm.usbsts &= ~(v & USBSTS_RW1C);
		break;
	case 0x18:
		xm.crcr_lo = v;
		xm.crcr_lo_written = 1;
		break;
	case 0x1c:
		if (!xm.crcr_lo_written)
			xbad("CRCR high written without its low dword");
		xm.crcr_lo_written = 0;
		xm.crcr_hi = v;
		if (xm.crr && (xm.crcr_lo & (CRCR_CA | CRCR_CS))) {
			xm_cmd_ring_stopped();
			break;
		}
		xm.cmd_deq = ((uint64_t)v << 32 | xm.crcr_lo) & ~0x3full;
		xm.cmd_ccs = xm.crcr_lo & 1;
		break;
	case 0x30:
		xm.dcbaap_lo = v;
		xm.dcbaap_lo_written = 1;
		break;
	case 0x34:
		if (!xm.dcbaap_lo_written)
			xbad("DCBAAP high written without its low dword");
		xm.dcbaap_lo_written = 0;
		xm.dcbaap = (uint64_t)v << 32 | xm.dcbaap_lo;
		if (xm.dcbaap & 0x3f)
			xbad("DCBAAP 0x%llx not 64-byte aligned",
			    (unsigned long long)xm.dcbaap);
		break;
	case 0x38:
		xm.config = v;
		break;
	default:
		break;
	}
}

static void
xm_er_setup(void)
{
	struct xhci_erst *e;

	if (xm.erstsz != 1) {
		xbad("ERSTSZ %u, not 1, when ERSTBA was written", xm.erstsz);
		return;
	}
	if (xm.erstba & 0x3f)
		xbad("ERSTBA not 64-byte aligned");
	if (!(e = xdma(xm.erstba, sizeof(*e), "ERST")))
		return;
	if (e->size < 16 || e->size > 4096 || (e->base & 0x3f) ||
	    (e->base >> 16) != ((e->base + 16ull * e->size - 1) >> 16))
		xbad("event ring segment 0x%llx+%u bad",
		    (unsigned long long)e->base, e->size);
	xm.er_base = e->base;
	xm.er_size = e->size;
	xm.er_enq = 0;
	xm.er_pcs = 1;
	xm.er_ready = xdma(e->base, 16ull * e->size, "event ring") != NULL;
}

static void
xm_rt_write(size_t o, uint32_t v)
{
	if (o < 0x20 || o >= 0x40)
		return;
	switch (o - 0x20) {
	case 0x00:
		if (v & 1)
			xm.iman &= ~1u;
		xm.iman = (xm.iman & ~2u) | (v & 2u);
		break;
	case 0x04:
		xm.imod = v;
		break;
	case 0x08:
		xm.erstsz = v & 0xffff;
		xm.ersz_then_ba_then_dp = 1;
		break;
	case 0x10:
		xm.erstba_lo = v;
		xm.erstba_lo_written = 1;
		break;
	case 0x14:
		if (!xm.erstba_lo_written)
			xbad("ERSTBA high written without its low dword");
		xm.erstba_lo_written = 0;
		xm.erstba = (uint64_t)v << 32 | xm.erstba_lo;
		if (xm.ersz_then_ba_then_dp == 1)
			xm.ersz_then_ba_then_dp = 2;
		xm_er_setup();
		break;
	case 0x18:
		xm.erdp_lo = (v & ~8u) | (xm.erdp_lo & 8u & ~(v & 8u));
		xm.erdp_lo_written = 1;
		break;
	case 0x1c:
		if (!xm.erdp_lo_written)
			xbad("ERDP high written without its low dword");
		xm.erdp_lo_written = 0;
		xm.erdp = (uint64_t)v << 32 | (xm.erdp_lo & ~0xfu);
		if (xm.ersz_then_ba_then_dp == 2)
			xm.ersz_then_ba_then_dp = 3;
		/* More events than the driver read: raise again. */
		if (xm.er_ready && !(xm.erdp_lo & 8) &&
		    xm_er_deq() != xm.er_enq) {
			xm.erdp_lo |= 8;
			if ((xm.iman & 2) && (xm.usbcmd & 4))
				xm.irq_pending = 1;
		}
		break;
	default:
		break;
	}
}

static uint32_t
xm_rt_read(size_t o)
{
	switch (o) {
	case 0x20: return xm.iman;
	case 0x24: return xm.imod;
	case 0x28: return xm.erstsz;
	case 0x30: return (uint32_t)xm.erstba;
	case 0x34: return (uint32_t)(xm.erstba >> 32);
	case 0x38: return xm.erdp_lo;
	case 0x3c: return (uint32_t)(xm.erdp >> 32);
	default: return 0;
	}
}

static void xm_run_commands(void);

static void
xm_doorbell(unsigned n, uint32_t v)
{
	if (!(xm.usbcmd & 1) || (xm.usbsts & 1))
		return;		/* halted: ignored */
	if (n == 0) {
		if (v)
			xbad("doorbell 0 written 0x%x", v);
		xm.cmd_kick = 1;
		xm.crr = 1;
		if (xm.sync_cmds)
			xm_run_commands();
		return;
	}
	if (n > XM_SLOTS || !(v & 0xff) || (v & 0xff) > 31) {
		xbad("doorbell %u written 0x%x", n, v);
		return;
	}
	xm.kicks[n] |= 1u << (v & 0xff);
}

uint32_t
mmio_read32(const volatile void *reg)
{
	size_t off = xm_off(reg);

	if (off < XM_OP)
		return xm_cap_read(off);
	if (off < XM_RT)
		return xm_op_read(off - XM_OP);
	if (off < XM_DB)
		return xm_rt_read(off - XM_RT);
	if (off < XM_XECP)
		return 0;
	return xm_xecp_read(off);
}

void
mmio_write32(volatile void *reg, uint32_t v)
{
	size_t off = xm_off(reg);

	xm.reg_writes++;
	if (off < XM_OP)
		return;
	if (off < XM_RT) {
		xm_op_write(off - XM_OP, v);
		return;
	}
	if (off < XM_DB) {
		xm_rt_write(off - XM_RT, v);
		return;
	}
	if (off < XM_XECP) {
		xm_doorbell((unsigned)(off - XM_DB) / 4, v);
		return;
	}
	if (xm.legacy && off == XM_XECP) {
		xm.usblegsup = (xm.usblegsup & ~(USBLEGSUP_OS_OWNED |
		    USBLEGSUP_BIOS_OWNED)) | (v & (USBLEGSUP_OS_OWNED |
		    USBLEGSUP_BIOS_OWNED));
		if ((v & USBLEGSUP_OS_OWNED) && !xm.bios_until)
			xm.usblegsup &= ~USBLEGSUP_BIOS_OWNED;
	} else if (xm.legacy && off == XM_XECP + 4) {
		/* enables written as given, RW1C status bits cleared */
		xm.usblegctl = (v & ~LEGCTL_RW1C) | (xm.usblegctl & LEGCTL_RW1C &
		    ~v);
	}
}

/* The driver uses 32-bit accesses only: anything else is a bug. */
uint8_t mmio_read8(const volatile void *r) { xm_off(r); abort(); }
uint16_t mmio_read16(const volatile void *r) { xm_off(r); abort(); }
uint64_t mmio_read64(const volatile void *r) { xm_off(r); abort(); }
void mmio_write8(volatile void *r, uint8_t v) { xm_off(r); abort(); }
void mmio_write16(volatile void *r, uint16_t v) { xm_off(r); abort(); }
void mmio_write64(volatile void *r, uint64_t v) { xm_off(r); abort(); }

/* --- contexts ------------------------------------------------------------- */

static uint32_t *
xm_ictx(uint64_t ictx, unsigned index, const char *what)
{
	unsigned sz = xm_ctxsz();

	if (ictx & 0x3f)
		xbad("input context 0x%llx not 64-byte aligned",
		    (unsigned long long)ictx);
	return xdma(ictx + (uint64_t)index * sz, sz, what);
}

static uint32_t *
xm_octx(unsigned s, unsigned dci)
{
	return xdma(xm.slot[s].octx + (uint64_t)dci * xm_ctxsz(), xm_ctxsz(),
	    "output context");
}

/* Intel wants unused input fields zero: dwords the driver has no business
 * writing (HARDWARE.md). */
static void
xm_check_zero(const uint32_t *c, unsigned from, const char *what)
{
	for (unsigned i = from; i < xm_ctxsz() / 4; i++)
		if (c[i])
			xbad("%s dword %u is 0x%x, not 0", what, i, c[i]);
}

static void
xm_ep_write_out(unsigned s, unsigned dci)
{
	struct xm_ep *e = &xm.slot[s].ep[dci];
	uint32_t *o = xm_octx(s, dci);

	if (!o)
		return;
	o[0] = (o[0] & ~7u) | (uint32_t)e->state;
	o[2] = (uint32_t)e->deq | (uint32_t)e->ccs;
	o[3] = (uint32_t)(e->deq >> 32);
}

static unsigned
xm_check_ep_ctx(const uint32_t *c, unsigned dci, struct xm_ep *e)
{
	uint64_t deq = ((uint64_t)c[3] << 32 | c[2]) & ~0xfull;

	e->type = (c[1] >> 3) & 7;
	e->mps = c[1] >> 16;
	e->cerr = (c[1] >> 1) & 3;
	e->burst = (c[1] >> 8) & 0xff;
	e->interval = (c[0] >> 16) & 0xff;
	e->avg = c[4] & 0xffff;
	if (!e->type || !e->mps || (dci == 1) != (e->type == EPT_CONTROL) ||
	    (e->type != EPT_CONTROL && (dci & 1) != (e->type >> 2)))
		return CC_PARAMETER;
	if (e->cerr != 3 || !e->avg || (e->type == EPT_CONTROL && e->avg != 8))
		xbad("endpoint context %u: CErr %u, Average TRB Length %u", dci,
		    e->cerr, e->avg);
	if (!deq || (c[2] & 0xe))
		xbad("endpoint context %u: TR Dequeue 0x%llx", dci,
		    (unsigned long long)deq);
	xm_check_zero(c, 5, "endpoint context");
	e->deq = deq;
	e->ccs = c[2] & 1;
	e->enabled = 1;
	e->state = EPS_RUNNING;
	e->pending = 0;
	return CC_SUCCESS;
}

/* --- commands -------------------------------------------------------------- */

static struct xm_dev *
xm_find(unsigned root, uint32_t route)
{
	for (unsigned i = 0; i < xm.ndev; i++)
		if (xm.dev[i].present && xm.dev[i].root == root &&
		    xm.dev[i].route == route)
			return &xm.dev[i];
	return NULL;
}

/* Address Device (§4.6.5): with BSR the slot goes to Default and the
 * device keeps address 0; without, from Enabled or Default, the device
 * gets SET_ADDRESS.  Again on an Addressed slot: Context State Error. */
static unsigned
xm_address(unsigned s, uint64_t ictx, int bsr)
{
	uint32_t *icc = xm_ictx(ictx, 0, "input control"), *sc, *e0, *o;
	struct xm_dev *d;
	unsigned root, cc;

	if (!icc || !(sc = xm_ictx(ictx, 1, "slot context")) ||
	    !(e0 = xm_ictx(ictx, 2, "EP0 context")))
		return CC_TRB;
	if (icc[0] != 0 || icc[1] != 3)
		return CC_TRB;
	if (xm.slot[s].addressed || (bsr && xm.slot[s].default_state))
		return CC_CONTEXT_STATE;
	xm_check_zero(icc, 2, "input control context");
	xm_check_zero(sc, 4, "slot context");
	root = (sc[1] >> 16) & 0xff;
	if (!root || root > XM_PORTS)
		return CC_TRB;
	d = xm_find(root, sc[0] & 0xfffff);
	if (!d || !(xm.port[root - 1].portsc & PORTSC_PED))
		return CC_TRANSACTION;
	memcpy(xm.slot[s].sctx, sc, 16);
	if ((cc = xm_check_ep_ctx(e0, 1, &xm.slot[s].ep[1])) != CC_SUCCESS)
		return cc;
	xm.slot[s].octx = ((uint64_t *)xdma(xm.dcbaap, 8 * (XM_SLOTS + 1),
	    "DCBAA"))[s];
	if (xm.slot[s].octx & 0x3f)
		xbad("output context of slot %u not 64-byte aligned", s);
	if (!(o = xm_octx(s, 0)))
		return CC_TRB;
	o[0] = sc[0];
	o[1] = sc[1];
	o[2] = sc[2];
	o[3] = bsr ? 1u << 27 :		/* Default, address 0 */
	    2u << 27 | s;		/* Addressed, address = slot */
	if ((o = xm_octx(s, 1)))
		memcpy(o, e0, 20);
	xm_ep_write_out(s, 1);
	xm.slot[s].dev = (int)(d - xm.dev);
	xm.slot[s].addressed = !bsr;
	xm.slot[s].default_state = bsr;
	if (!bsr)
		d->addresses++;
	d->slot = (int)s;
	return CC_SUCCESS;
}

static unsigned
xm_configure(unsigned s, uint64_t ictx, int eval)
{
	uint32_t *icc = xm_ictx(ictx, 0, "input control"), *sc, *c, *o;

	if (!icc || !(sc = xm_ictx(ictx, 1, "slot context")))
		return CC_TRB;
	xm_check_zero(icc, 2, "input control context");
	if (eval) {
		if (icc[0] || (icc[1] & ~3u))
			return CC_TRB;
		if ((icc[1] & 2) && (c = xm_ictx(ictx, 2, "EP0 context"))) {
			xm.slot[s].ep[1].mps = c[1] >> 16;
			if ((o = xm_octx(s, 1)))
				o[1] = (o[1] & 0xffff) | (c[1] & 0xffff0000u);
		}
		return CC_SUCCESS;
	}
	if ((icc[0] & 3) || (icc[1] & 3) != 1 || !xm.slot[s].addressed)
		return CC_TRB;
	memcpy(xm.slot[s].sctx, sc, 16);
	xm_check_zero(sc, 4, "slot context");
	for (unsigned dci = 2; dci < 32; dci++) {
		if (icc[0] & (1u << dci)) {
			xm.slot[s].ep[dci].enabled = 0;
			xm.slot[s].ep[dci].state = EPS_DISABLED;
			xm_ep_write_out(s, dci);
		}
		if (!(icc[1] & (1u << dci)))
			continue;
		if (!(c = xm_ictx(ictx, 1 + dci, "endpoint context")))
			return CC_TRB;
		if (xm_check_ep_ctx(c, dci, &xm.slot[s].ep[dci]) != CC_SUCCESS)
			return CC_PARAMETER;
		if ((sc[0] >> 27) < dci)
			xbad("Context Entries %u below DCI %u", sc[0] >> 27,
			    dci);
		if ((o = xm_octx(s, dci)))
			memcpy(o, c, 20);
		xm_ep_write_out(s, dci);
	}
	if ((o = xm_octx(s, 0))) {
		o[0] = sc[0];
		o[1] = sc[1];
		o[2] = sc[2];
		o[3] = (o[3] & 0xff) | 3u << 27;	/* Configured */
	}
	return CC_SUCCESS;
}

static unsigned
xm_ep_cmd(unsigned s, unsigned type, uint32_t control, uint64_t param)
{
	unsigned dci = TRB_EP(control);
	struct xm_ep *e = &xm.slot[s].ep[dci];

	if (!dci || !e->enabled)
		return CC_EP_NOT_ENABLED;
	switch (type) {
	case TRB_STOP_EP:
		if (e->state != EPS_RUNNING)
			return CC_CONTEXT_STATE;
		e->stops++;
		if (e->pending) {	/* the TD it was on */
			struct xhci_trb *t = xdma(e->pending, 16, "TRB");

			xm_xfer_event(e->pending, CC_STOPPED, t ? t->status &
			    TRB_LEN_MASK : 0, s, dci);
			e->deq = e->pending;
			e->pending = 0;
		}
		e->state = EPS_STOPPED;
		break;
	case TRB_RESET_EP:
		if (e->state != EPS_HALTED)
			return CC_CONTEXT_STATE;
		e->resets++;
		if (control & TRB_TSP)
			e->tsp_resets++;
		e->state = EPS_STOPPED;
		break;
	case TRB_SET_TR_DEQ:
		if (e->state != EPS_STOPPED && e->state != EPS_ERROR)
			return CC_CONTEXT_STATE;
		e->set_deqs++;
		e->deq = param & ~0xfull;
		e->ccs = param & 1;
		if (param & 0xe)
			xbad("Set TR Dequeue with SCT bits 0x%llx",
			    (unsigned long long)param);
		break;
	default:
		break;
	}
	xm_ep_write_out(s, dci);
	return CC_SUCCESS;
}

static unsigned
xm_command(const struct xhci_trb *t, unsigned *slot)
{
	unsigned type = TRB_TYPE(t->control), s = TRB_SLOT(t->control);

	xm.cmd_count[type & 63]++;
	*slot = s;
	if (type == TRB_ENABLE_SLOT) {
		for (s = 1; s <= XM_SLOTS && xm.slot[s].enabled; s++)
			;
		if (s > XM_SLOTS || s > (xm.config & 0xff))
			return CC_NO_SLOTS;
		memset(&xm.slot[s], 0, sizeof(xm.slot[s]));
		xm.slot[s].dev = -1;
		xm.slot[s].enabled = 1;
		*slot = s;
		return CC_SUCCESS;
	}
	if (type == TRB_NOOP_CMD)
		return CC_SUCCESS;
	if (type < TRB_DISABLE_SLOT || type > TRB_SET_TR_DEQ)
		return CC_TRB;
	if (!s || s > XM_SLOTS)
		return CC_TRB;
	if (!xm.slot[s].enabled)
		return CC_SLOT_NOT_ENABLED;
	switch (type) {
	case TRB_DISABLE_SLOT:
		if (xm.slot[s].dev >= 0)
			xm.dev[xm.slot[s].dev].slot = 0;
		memset(&xm.slot[s], 0, sizeof(xm.slot[s]));
		xm.slot[s].dev = -1;
		return CC_SUCCESS;
	case TRB_ADDRESS_DEVICE:
		return xm_address(s, t->param, (t->control & (1u << 9)) != 0);
	case TRB_CONFIGURE_EP:
		return xm_configure(s, t->param, 0);
	case TRB_EVALUATE_CTX:
		return xm_configure(s, t->param, 1);
	default:
		return xm_ep_cmd(s, type, t->control, t->param);
	}
}

/* Fetch the TRB at *deq (following Link TRBs); NULL when not ours yet. */
static struct xhci_trb *
xm_fetch(uint64_t *deq, int *ccs, int command)
{
	for (unsigned links = 0; links < 4; links++) {
		struct xhci_trb *t = xdma(*deq, 16, command ? "command ring" :
		    "transfer ring");

		if (!t || (int)(t->control & 1) != *ccs)
			return NULL;
		if (TRB_TYPE(t->control) != TRB_LINK)
			return t;
		if (t->control & TRB_IOC)
			xbad("a Link TRB with IOC");
		if ((t->param & 0x3f) || ((*deq >> 16) != (t->param >> 16)))
			xbad("a Link TRB to 0x%llx from 0x%llx",
			    (unsigned long long)t->param,
			    (unsigned long long)*deq);
		*deq = t->param & ~0xfull;
		if (t->control & TRB_TC)
			*ccs ^= 1;
	}
	xbad("Link TRBs in a loop");
	return NULL;
}

static void
xm_run_commands(void)
{
	struct xhci_trb *t;

	if (!xm.cmd_kick || !xm.crr)
		return;
	xm.cmd_kick = 0;
	while ((t = xm_fetch(&xm.cmd_deq, &xm.cmd_ccs, 1))) {
		uint64_t at = xm.cmd_deq;
		unsigned cc, slot;

		if (xm.cmd_silent)
			return;		/* fetched: never answered */
		xm.cmds++;
		cc = xm_command(t, &slot);
		xm.cmd_deq += 16;
		xm_cmd_event(at, cc, cc == CC_SUCCESS ||
		    TRB_TYPE(t->control) != TRB_ENABLE_SLOT ? slot : 0);
	}
}

static void
xm_cmd_ring_stopped(void)
{
	/* The command in flight (silent) is aborted, then the ring stops. */
	if (xm.cmd_silent && xm_fetch(&xm.cmd_deq, &xm.cmd_ccs, 1)) {
		xm_cmd_event(xm.cmd_deq, CC_CMD_ABORTED, 0);
		xm.cmd_deq += 16;
	}
	xm.crr = 0;
	xm_cmd_event(xm.cmd_deq, CC_CMD_RING_STOPPED, 0);
}

/* --- transfers -------------------------------------------------------------- */

#define XM_TD_MAX 1100

struct xm_td {
	struct xhci_trb *t[XM_TD_MAX];
	uint64_t at[XM_TD_MAX];
	unsigned n;
	uint64_t next;		/* dequeue after it */
	int next_ccs;
};

/* The TD at the endpoint's dequeue: 1 whole, 0 none (or not whole). */
static int
xm_td_fetch(struct xm_ep *e, int control, struct xm_td *td)
{
	uint64_t deq = e->deq;
	int ccs = e->ccs, setup = 0;

	td->n = 0;
	for (;;) {
		struct xhci_trb *t = xm_fetch(&deq, &ccs, 0);
		unsigned type;

		if (!t) {
			if (td->n)
				xbad("a TD half written at 0x%llx (its first "
				    "TRB valid first)", (unsigned long long)deq);
			return 0;
		}
		if (td->n == XM_TD_MAX) {
			xbad("a TD of more than %u TRBs", XM_TD_MAX);
			return 0;
		}
		type = TRB_TYPE(t->control);
		td->t[td->n] = t;
		td->at[td->n++] = deq;
		deq += 16;
		if (type == TRB_SETUP)
			setup = 1;
		if (control ? (type == TRB_STATUS || (!setup &&
		    !(t->control & TRB_CH))) : !(t->control & TRB_CH))
			break;
	}
	td->next = deq;
	td->next_ccs = ccs;
	return 1;
}

static void
xm_check_td(const struct xm_td *td, int control, int in)
{
	for (unsigned i = 0; i < td->n; i++) {
		const struct xhci_trb *t = td->t[i];
		unsigned type = TRB_TYPE(t->control), len = t->status &
		    TRB_LEN_MASK;
		int last = i + 1 == td->n;

		if ((t->control & TRB_IOC) && !last)
			xbad("IOC on TRB %u of a %u-TRB TD", i, td->n);
		if (last && !(t->control & TRB_IOC))
			xbad("no IOC on a TD's last TRB");
		if (type == TRB_NORMAL || type == TRB_DATA) {
			if (len > 65536 || (len && (t->param >> 16) !=
			    ((t->param + len - 1) >> 16)))
				xbad("a TRB of %u bytes at 0x%llx across 64 "
				    "KiB", len, (unsigned long long)t->param);
			if (in && !(t->control & TRB_ISP))
				xbad("an IN TRB without ISP");
			if (last && ((t->status >> 17) & 31))
				xbad("TD Size %u on the last TRB",
				    (t->status >> 17) & 31);
		}
		if (!control && type != TRB_NORMAL)
			xbad("a TRB of type %u on a non-control ring", type);
		if (control && type == TRB_SETUP && (!(t->control & TRB_IDT) ||
		    len != 8))
			xbad("a Setup TRB without IDT or of %u bytes", len);
		if (control && type == TRB_DATA && i != 1)
			xbad("a Data Stage TRB at %u", i);
	}
}

/* A control request to d: the data for IN (into buf), or taken from buf
 * for OUT.  Returns bytes, or -CC. */
static int
xm_control(struct xm_dev *d, struct xm_ep *e, const uint8_t *setup,
    uint8_t *buf, unsigned len)
{
	unsigned type = setup[1] | (unsigned)setup[0] << 8;
	unsigned value = setup[2] | (unsigned)setup[3] << 8;
	unsigned n = 0;

	d->ctrl_reqs++;
	switch (type) {
	case 0x8006:		/* GET_DESCRIPTOR */
		if (value >> 8 == USB_DT_DEVICE) {
			n = sizeof(d->desc);
			memcpy(buf, d->desc, n < len ? n : len);
		} else if (value >> 8 == USB_DT_CONFIG) {
			n = d->cfg_len;
			memcpy(buf, d->cfg, n < len ? n : len);
		} else {
			return -CC_STALL;
		}
		return (int)(n < len ? n : len);
	case 0x0009:		/* SET_CONFIGURATION */
		d->set_config = value;
		return 0;
	case 0x0201:		/* CLEAR_FEATURE(ENDPOINT_HALT) */
		return 0;
	case 0x4042:		/* vendor: stalls */
		return -CC_STALL;
	case 0x4043:		/* vendor OUT: accepted */
		return (int)len;
	default:
		return -CC_STALL;
	}
}

/* Bytes a bulk or interrupt TD moves, or XM_NAK, or -CC. */
static int
xm_data(struct xm_dev *d, struct xm_ep *e, int in, uint8_t *buf,
    unsigned len)
{
	if (e->type == EPT_INTR_IN) {
		if (!d->intr_ready)
			return XM_NAK;
		d->intr_ready = 0;
		memcpy(buf, d->intr, d->intr_len < len ? d->intr_len : len);
		return (int)(d->intr_len < len ? d->intr_len : len);
	}
	if (!in) {
		if (d->fifo_len + len > XM_FIFO)
			return -CC_BABBLE;
		memcpy(d->fifo + d->fifo_len, buf, len);
		d->fifo_len += len;
		return (int)len;
	}
	if (d->serve) {
		unsigned n = d->serve < len ? d->serve : len;

		for (unsigned i = 0; i < n; i++)
			buf[i] = (uint8_t)(i * 7 + 3);
		return (int)n;
	}
	if (!d->fifo_len)
		return XM_NAK;
	if (d->fifo_len < len)
		len = (unsigned)d->fifo_len;
	memcpy(buf, d->fifo, len);
	memmove(d->fifo, d->fifo + len, d->fifo_len - len);
	d->fifo_len -= len;
	return (int)len;
}

/* Data between the TD's TRBs and a flat buffer. */
static unsigned
xm_move(const struct xm_td *td, uint8_t *flat, unsigned len, int to_trbs)
{
	unsigned off = 0;

	for (unsigned i = 0; i < td->n && off < len; i++) {
		const struct xhci_trb *t = td->t[i];
		unsigned type = TRB_TYPE(t->control), n = t->status &
		    TRB_LEN_MASK;
		uint8_t *p;

		if (type != TRB_NORMAL && type != TRB_DATA)
			continue;
		if (n > len - off)
			n = len - off;
		if (!n)
			continue;
		if (!(p = xdma(t->param, n, "a TRB's buffer")))
			return off;
		if (to_trbs)
			memcpy(p, flat + off, n);
		else
			memcpy(flat + off, p, n);
		off += n;
	}
	return off;
}

static unsigned
xm_td_len(const struct xm_td *td)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < td->n; i++) {
		unsigned type = TRB_TYPE(td->t[i]->control);

		if (type == TRB_NORMAL || type == TRB_DATA)
			sum += td->t[i]->status & TRB_LEN_MASK;
	}
	return sum;
}

/* The events of a TD that moved `moved` bytes (§4.10.1.1 short packets:
 * an ISP TRB reports, then the TD is skipped to its end, and the Status
 * stage of a control TD runs). */
static void
xm_td_events(const struct xm_td *td, unsigned s, unsigned dci, unsigned moved)
{
	unsigned left = moved;
	int shortpkt = 0, reported = 0;

	for (unsigned i = 0; i < td->n; i++) {
		const struct xhci_trb *t = td->t[i];
		unsigned type = TRB_TYPE(t->control), len = t->status &
		    TRB_LEN_MASK, chunk = 0;

		if (type == TRB_NORMAL || type == TRB_DATA) {
			chunk = len < left ? len : left;
			left -= chunk;
			if (chunk < len && !shortpkt) {
				shortpkt = 1;
				if (t->control & TRB_ISP) {
					xm_xfer_event(td->at[i],
					    CC_SHORT_PACKET, len - chunk, s,
					    dci);
					reported = 1;
				}
				continue;
			}
		}
		if (type == TRB_STATUS) {
			xm_xfer_event(td->at[i], CC_SUCCESS, 0, s, dci);
			return;
		}
		if (!(t->control & TRB_IOC))
			continue;
		if (!shortpkt)
			xm_xfer_event(td->at[i], CC_SUCCESS, 0, s, dci);
		else if (!reported || xm.short_twice)
			xm_xfer_event(td->at[i], CC_SHORT_PACKET, len - chunk,
			    s, dci);
	}
}

/* An error on the TD: the event at its first data TRB (or Setup), and
 * the endpoint halts with its dequeue there. */
static void
xm_td_error(struct xm_ep *e, const struct xm_td *td, unsigned s,
    unsigned dci, unsigned cc)
{
	unsigned i = td->n > 1 ? 1 : 0;

	if (TRB_TYPE(td->t[0]->control) == TRB_NORMAL)
		i = 0;
	xm_xfer_event(td->at[i], cc, td->t[i]->status & TRB_LEN_MASK, s, dci);
	e->state = EPS_HALTED;
	xm_ep_write_out(s, dci);
}

/* Run the endpoint's TDs until it waits, halts, or has none. */
static int
xm_run_ep(unsigned s, unsigned dci)
{
	struct xm_slot *sl = &xm.slot[s];
	struct xm_ep *e = &sl->ep[dci];
	struct xm_dev *d = sl->dev >= 0 ? &xm.dev[sl->dev] : NULL;
	static struct xm_td td;
	static uint8_t buf[4u << 20];
	int control = dci == 1, did = 0;

	while (e->enabled && e->state == EPS_RUNNING && d && d->present &&
	    xm_td_fetch(e, control, &td)) {
		int in = control ? (td.t[0]->param & 0x80) != 0 : dci & 1;
		unsigned len = xm_td_len(&td);
		int r;

		xm_check_td(&td, control, in);
		if (len > sizeof(buf))
			return did;
		if (e->silent) {
			e->pending = td.at[0];
			return did;
		}
		if (e->stall_next || e->txerr_next || e->babble_next) {
			unsigned cc = e->stall_next ? CC_STALL : e->txerr_next ?
			    CC_TRANSACTION : CC_BABBLE;

			if (e->stall_next)
				e->stall_next--;
			else if (e->txerr_next)
				e->txerr_next--;
			else
				e->babble_next--;
			e->deq = td.at[0];
			xm_td_error(e, &td, s, dci, cc);
			return 1;
		}
		if (control) {
			uint8_t setup[8];

			memcpy(setup, &td.t[0]->param, 8);
			if (!in)
				xm_move(&td, buf, len, 0);
			r = xm_control(d, e, setup, buf, len);
			if (r >= 0 && in)
				xm_move(&td, buf, (unsigned)r, 1);
			if ((unsigned)(td.t[0]->control >> 16 & 3) !=
			    (!len ? 0u : in ? 3u : 2u))
				xbad("a Setup TRB with TRT %u",
				    td.t[0]->control >> 16 & 3);
			if (TRB_TYPE(td.t[td.n - 1]->control) == TRB_STATUS &&
			    ((td.t[td.n - 1]->control & TRB_DIR_IN) != 0) !=
			    !(len && in))
				xbad("a Status stage in the wrong direction");
		} else {
			if (!in)
				xm_move(&td, buf, len, 0);
			r = xm_data(d, e, in, buf, len);
			if (r == XM_NAK) {
				e->pending = td.at[0];
				return did;
			}
			if (r > 0 && in)
				xm_move(&td, buf, (unsigned)r, 1);
		}
		e->pending = 0;
		did = 1;
		if (r < 0) {
			e->deq = td.at[0];
			xm_td_error(e, &td, s, dci, (unsigned)-r);
			return 1;
		}
		e->deq = td.next;
		e->ccs = td.next_ccs;
		xm_td_events(&td, s, dci, (unsigned)r);
		xm_ep_write_out(s, dci);
	}
	return did;
}

/* Commands and transfers until nothing moves; 1 if something did. */
static unsigned
model_run(void)
{
	unsigned did = 0, before = xm.events;

	if (!(xm.usbcmd & 1) || (xm.usbsts & 1))
		return 0;
	xm_run_commands();
	for (unsigned s = 1; s <= XM_SLOTS; s++) {
		uint32_t k = xm.kicks[s];

		xm.kicks[s] = 0;
		for (unsigned dci = 1; dci < 32; dci++) {
			struct xm_ep *e = &xm.slot[s].ep[dci];

			/* A doorbell restarts a Stopped endpoint (§4.8.3). */
			if ((k & (1u << dci)) && e->enabled &&
			    e->state == EPS_STOPPED) {
				e->state = EPS_RUNNING;
				xm_ep_write_out(s, dci);
			}
			if ((k & (1u << dci)) || e->pending)
				did |= (unsigned)xm_run_ep(s, dci);
		}
	}
	return did || xm.events != before;
}

/* --- building a machine ---------------------------------------------------- */

static void
model_feed(int dev, const void *data, unsigned len)
{
	struct xm_dev *d = &xm.dev[dev];

	memcpy(d->intr, data, len);
	d->intr_len = len;
	d->intr_ready = 1;
}

/* A device (descriptors like a USB stick: one configuration, bulk IN 1
 * and OUT 2, interrupt IN 3) at root port `root` (route 0) or behind a
 * hub (route). */
static int
model_device(unsigned root, uint32_t route, int speed)
{
	struct xm_dev *d = &xm.dev[xm.ndev];
	static const uint8_t cfg[] = {
		9, 2, 39, 0, 1, 1, 0, 0x80, 50,
		9, 4, 0, 0, 3, 8, 6, 0x50, 0,
		7, 5, 0x81, 2, 0x00, 0x02, 0,
		7, 5, 0x02, 2, 0x00, 0x02, 0,
		7, 5, 0x83, 3, 0x08, 0x00, 10,
	};

	memset(d, 0, sizeof(*d));
	d->present = 1;
	d->speed = speed;
	d->root = root;
	d->route = route;
	d->desc[0] = 18;
	d->desc[1] = USB_DT_DEVICE;
	d->desc[2] = 0x00;
	d->desc[3] = speed >= USB_SPEED_SUPER ? 3 : 2;
	d->desc[7] = speed >= USB_SPEED_SUPER ? 9 : 64;
	d->desc[8] = 0x27;
	d->desc[9] = 0x06;
	d->desc[10] = 0x01;
	d->desc[17] = 1;
	memcpy(d->cfg, cfg, sizeof(cfg));
	d->cfg_len = sizeof(cfg);
	d->fifo = malloc(XM_FIFO);
	if (!route) {
		xm.port[root - 1].dev = (int)xm.ndev;
		xm_port_update(root, 1);
	}
	return (int)xm.ndev++;
}

/* Hot plug: the device at a root port comes back or goes. */
static void
model_plug(unsigned root, int present)
{
	struct xm_port *p = &xm.port[root - 1];

	if (p->dev >= 0) {
		xm.dev[p->dev].present = present;
		if (!present)
			for (unsigned s = 1; s <= XM_SLOTS; s++)
				if (xm.slot[s].dev == p->dev)
					for (unsigned e = 0; e < 32; e++)
						xm.slot[s].ep[e].pending = 0;
	}
	xm_port_update(root, 1);
}

/* qemu-xhci as QEMU 7.2 makes it: 1.00, 8 ports, 64 slots, 64-bit, 32-byte
 * contexts, no scratchpads, no legacy capability, PPC=0. */
static void
model_reset(void)
{
	for (unsigned i = 0; i < xm.ndev; i++)
		free(xm.dev[i].fifo);
	memset(&xm, 0, sizeof(xm));
	xm.version = 0x100;
	xm.hcs1 = (uint32_t)XM_PORTS << 24 | 16u << 8 | XM_SLOTS;
	xm.hcs2 = 0xf;
	xm.hcc1 = (uint32_t)(XM_XECP / 4) << 16 | 7u << 12 | 1u;
	xm.ac64 = 1;
	xm.bios_until = 0;
	for (unsigned i = 0; i < XM_PORTS; i++) {
		xm.port[i].usb3 = i < 4;
		xm.port[i].dev = -1;
	}
	xm_hc_reset();
	xm.hcrsts = 0;
	xm.usbsts = USBSTS_HCH;
}

/* Options that change the capability registers, after model_reset. */
static void
model_caps(int csz, int ppc, int ac64, unsigned nscratch)
{
	xm.csz = csz;
	xm.ppc = ppc;
	xm.ac64 = ac64;
	xm.nscratch = nscratch;
	xm.hcc1 = (xm.hcc1 & ~(HCC1_AC64 | HCC1_CSZ | HCC1_PPC)) |
	    (ac64 ? HCC1_AC64 : 0) | (csz ? HCC1_CSZ : 0) | (ppc ? HCC1_PPC : 0);
	xm.hcs2 = (xm.hcs2 & 0x03ffffffu & ~(0x1fu << 21)) |
	    ((nscratch >> 5) & 0x1f) << 21 | (nscratch & 0x1f) << 27;
	for (unsigned n = 1; n <= XM_PORTS; n++) {
		xm.port[n - 1].portsc = 0;
		xm_port_update(n, 0);
	}
}

#endif
