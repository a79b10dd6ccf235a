/*
 * hba.c - the controller: found on its PCI function, taken from the
 * BIOS, reset, enabled, and made quiet again.
 *
 * Bring-up (AHCI 1.3.1), as timer-driven steps after start() returns:
 *   GHC.AE=1; with VS >= 1.2 and CAP2.BOH, BOHC.OOS=1 and wait for
 *   BOHC.BOS=0, 25 ms, or 2 s more while BOHC.BB says the BIOS is busy
 *   (§10.6.3; taken anyway after that, with a log line); GHC.HR=1 and
 *   wait for it to clear, 1 s (§10.4.3); GHC.AE=1 again, CAP and PI
 *   written back as they were before the reset, IS cleared, GHC.IE=1;
 *   then every implemented port probes (port.c).
 * CAP and PI are HwInit (§3.1.1, §3.1.4): the firmware writes them once
 * (Intel's write-once bits: CAP.SSS, CAP.SMPS, ...; PI), and §10.4.3
 * lets GHC.HR reset HwInit registers, which some Intel chipsets do.
 * Linux saves them before its reset and restores them after; so do we,
 * and a value that does not stick is said in the log.
 * QEMU's ICH9 AHCI is 1.0 without CAP2 and keeps CAP and PI read-only,
 * so only the host tests walk the handoff and the loss.  boot.cfg:
 * `ahci-handoff=no` skips the handoff, `ahci-ncq=no` leaves NCQ unused.
 */
#include "ahci.h"

#define PCI_CLASS_STORAGE	0x01
#define PCI_SUBCLASS_SATA	0x06
#define PCI_PROGIF_AHCI		0x01
#define ABAR			5

/* The port structures, up to the highest port PI (or, with PI 0,
 * CAP.NP) names, within the registers ABAR has room for. */
static int
hba_ports_alloc(struct ahci *a, const char **why)
{
	uint64_t size = a->fn.bars[ABAR].size;
	uint32_t pi = hba_rd(a, HBA_PI), cap = hba_rd(a, HBA_CAP);
	unsigned fit = size >= HBA_SIZE ? AHCI_MAX_PORTS :
	    (unsigned)((size - HBA_PORT(0)) / 0x80);
	unsigned n = pi && pi != 0xffffffffu ?
	    32u - (unsigned)__builtin_clz(pi) : (cap & CAP_NP_MASK) + 1;

	n = n < fit ? n : fit;
	if (!n || !(a->port = a->hub->alloc(a->self, n * sizeof(*a->port)))) {
		*why = n ? "no memory for its ports" : "no ports";
		return n ? PB_ENOMEM : PB_ENODEV;
	}
	memset(a->port, 0, n * sizeof(*a->port));
	a->nports = n;
	for (unsigned i = 0; i < n; i++) {
		a->port[i].a = a;
		a->port[i].no = i;
		a->port[i].regs = a->abar + HBA_PORT(i);
	}
	return PB_OK;
}

int
hba_attach(struct ahci *a, const char **why)
{
	const struct pci_bar *b;

	if (PB_CALL(a->pci, pci_ops, info, &a->fn) != PB_OK) {
		*why = "pci gives no function info";
		return PB_EIO;
	}
	if (a->fn.class_code != PCI_CLASS_STORAGE ||
	    a->fn.subclass != PCI_SUBCLASS_SATA ||
	    a->fn.prog_if != PCI_PROGIF_AHCI) {
		*why = "not an AHCI controller (class 01.06.01)";
		return PB_ENODEV;
	}
	b = &a->fn.bars[ABAR];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->base || b->size < HBA_PORT(1)) {
		*why = "BAR5 (ABAR) is no usable memory BAR";
		return PB_ENODEV;
	}
	a->abar = PB_CALL(a->pci, pci_ops, map_bar, a->self, ABAR,
	    PB_CACHE_UC);
	if (!a->abar) {
		*why = "BAR5 (ABAR) cannot be mapped";
		return PB_ENOMEM;
	}
	return hba_ports_alloc(a, why);
}

/* Memory decoding and bus mastering on (the firmware may have left
 * them off: HARDWARE.md, UEFI exit). */
int
hba_enable_pci(struct ahci *a)
{
	return PB_CALL(a->pci, pci_ops, enable, PCI_CMD_MEM | PCI_CMD_MASTER,
	    1);
}

/* CAP, PI, VS and CAP2; PB_ENODEV when they read all ones (no
 * controller answers there). */
int
hba_read_caps(struct ahci *a)
{
	a->cap = hba_rd(a, HBA_CAP);
	a->vs = hba_rd(a, HBA_VS);
	a->pi = hba_rd(a, HBA_PI);
	if (a->cap == 0xffffffffu || a->pi == 0xffffffffu ||
	    hba_rd(a, HBA_GHC) == 0xffffffffu)
		return PB_ENODEV;
	a->cap2 = a->vs >= VS_1_2 ? hba_rd(a, HBA_CAP2) : 0;
	if (a->pi == 0) {
		/* Some HBAs leave PI to the BIOS: believe CAP.NP. */
		unsigned np = (a->cap & CAP_NP_MASK) + 1;

		a->pi = np >= 32 ? 0xffffffffu : (1u << np) - 1;
		alog(a, PB_LOG_WARN, "PI is 0: using CAP.NP (%u ports)", np);
	}
	/* Ports beyond the structures (registers beyond ABAR, or PI
	 * changed since attach) are left alone. */
	if (a->nports < AHCI_MAX_PORTS)
		a->pi &= (1u << a->nports) - 1;
	a->nslots = ((a->cap >> CAP_NCS_SHIFT) & CAP_NCS_MASK) + 1;
	a->dma_limit = (a->cap & CAP_S64A) ? ~0ull : 0xffffffffull;
	if ((a->cap & CAP_SNCQ) && pb_setting_off(a->hub, "ahci-ncq")) {
		a->cap &= ~CAP_SNCQ;
		alog(a, PB_LOG_INFO, "NCQ off (boot.cfg ahci-ncq=no)");
	}
	return PB_OK;
}

static void
reset_begin(struct ahci *a)
{
	uint64_t t = ahci_now(a);

	/* What the firmware wrote, before the reset may lose it. */
	a->cap_fw = hba_rd(a, HBA_CAP);
	a->pi_fw = hba_rd(a, HBA_PI);
	hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) | GHC_AE | GHC_HR);
	a->hstate = HBA_RESET;
	a->h_deadline = t + T_HBA_RESET;
	a->h_next = t + T_POLL;
}

/* CAP and PI as the firmware left them (§10.4.3 may have reset them):
 * written back, and read back.  The driver goes on with the values it
 * read before the reset either way. */
static void
hwinit_restore(struct ahci *a)
{
	uint32_t cap, pi;

	hba_wr(a, HBA_CAP, a->cap_fw);
	hba_wr(a, HBA_PI, a->pi_fw);
	cap = hba_rd(a, HBA_CAP);
	pi = hba_rd(a, HBA_PI);
	if (cap != a->cap_fw || pi != a->pi_fw)
		alog(a, PB_LOG_WARN, "CAP 0x%08x PI 0x%08x after the HBA "
		    "reset, not the firmware's CAP 0x%08x PI 0x%08x: written "
		    "back, did not stick", cap, pi, a->cap_fw, a->pi_fw);
}

/* Reset done: enabled again, every implemented port probes. */
static void
hba_up(struct ahci *a)
{
	hba_wr(a, HBA_GHC, GHC_AE);
	hwinit_restore(a);
	hba_wr(a, HBA_IS, 0xffffffffu);
	hba_wr(a, HBA_GHC, GHC_AE | GHC_IE);
	a->hstate = HBA_UP;
	a->h_next = 0;
	for (unsigned i = 0; i < a->nports; i++)
		if (a->pi & (1u << i))
			port_probe(&a->port[i]);
}

void
hba_begin(struct ahci *a)
{
	uint64_t t = ahci_now(a);

	hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) | GHC_AE);
	if (a->vs >= VS_1_2 && (a->cap2 & CAP2_BOH) &&
	    !pb_setting_off(a->hub, "ahci-handoff")) {
		hba_wr(a, HBA_BOHC, hba_rd(a, HBA_BOHC) | BOHC_OOS);
		a->hstate = HBA_HANDOFF;
		a->handoff_busy = 0;
		a->h_deadline = t + T_HANDOFF;
		a->h_next = t + T_POLL;
	} else {
		reset_begin(a);
	}
	hba_step(a);
}

static void
handoff_step(struct ahci *a, uint64_t t)
{
	uint32_t bohc = hba_rd(a, HBA_BOHC);

	if (!(bohc & BOHC_BOS)) {
		reset_begin(a);
		return;
	}
	if ((bohc & BOHC_BB) && !a->handoff_busy) {
		a->handoff_busy = 1;	/* the BIOS finishes what it does */
		a->h_deadline = t + T_HANDOFF_BUSY;
	}
	if (t < a->h_deadline) {
		a->h_next = t + T_POLL;
		return;
	}
	alog(a, PB_LOG_WARN, "the BIOS keeps the HBA (BOHC 0x%08x): taken "
	    "anyway", bohc);
	reset_begin(a);
}

/* One look at the bring-up; the timer brings us back. */
void
hba_step(struct ahci *a)
{
	uint64_t t = ahci_now(a);

	if (a->hstate == HBA_HANDOFF)
		handoff_step(a, t);
	if (a->hstate != HBA_RESET)
		goto out;
	if (!(hba_rd(a, HBA_GHC) & GHC_HR)) {
		hba_up(a);
		return;
	}
	if (t >= a->h_deadline) {
		alog(a, PB_LOG_ERR, "GHC.HR did not clear in %llu ms (GHC "
		    "0x%08x): no disks", (unsigned long long)(T_HBA_RESET / MS),
		    hba_rd(a, HBA_GHC));
		a->hstate = HBA_DOWN;
		a->h_next = 0;
		return;
	}
	a->h_next = t + T_POLL;
out:
	if (a->h_next)
		tick_arm(a, a->h_next);
}

/* The device quiet: lists and FIS receive stopped, interrupts and bus
 * mastering off (stop, and a failed start). */
void
hba_quiet(struct ahci *a)
{
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];

		if (!(a->pi & (1u << i)))
			continue;
		if (px_rd(p, PX_CMD) & (PXCMD_ST | PXCMD_FRE | PXCMD_CR |
		    PXCMD_FR))
			port_stop_now(p);
		px_wr(p, PX_IE, 0);
	}
	hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) & ~GHC_IE);
	irq_teardown(a);
	PB_CALL(a->pci, pci_ops, enable, PCI_CMD_MASTER, 0);
}
