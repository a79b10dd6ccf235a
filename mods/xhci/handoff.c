/*
 * handoff.c - taking the controller from the firmware.
 *
 * USB Legacy Support (xHCI 1.2 §7.1, §4.22.1): set USBLEGSUP's OS Owned
 * semaphore and wait (a timer step, up to 1 s as Linux's pci-quirks.c
 * waits) for the BIOS to clear BIOS Owned; a BIOS that never lets go
 * loses it anyway, with one log line naming USBLEGSUP.  Then every SMI
 * enable in USBLEGCTLSTS is cleared and its RW1C status bits are written
 * 1, so no SMI handler touches the controller behind our back.  QEMU's
 * controller has no legacy capability: the host tests walk this.
 *
 * Intel 7- and 8-series chipsets (Panther Point 1e31, Lynx Point 8c31 and
 * Lynx Point LP 9c31, as Linux's usb_is_intel_switchable_xhci lists them)
 * route the ports they share with the EHCI controllers to EHCI until told
 * otherwise: USB3_PSSEN (config 0xd8) from USB3PRM (0xdc) switches the
 * SuperSpeed terminations on, then XUSB2PR (0xd0) from XUSB2PRM (0xd4)
 * hands the USB 2 lines over.  Without an EHCI driver those ports would be
 * dead.  Linux also checks an Intel EHCI exists first; routing to xHCI is
 * what we want either way.
 *
 * boot.cfg: `xhci-handoff=no` skips the handoff, `xhci-route=no` the
 * routing (both kill switches for bare-metal triage).
 */
#include "xhci.h"

#define INTEL_XUSB2PR	0xd0
#define INTEL_XUSB2PRM	0xd4
#define INTEL_USB3_PSSEN 0xd8
#define INTEL_USB3PRM	0xdc

static void
cap_wr(const struct xhci *a, unsigned off, uint32_t v)
{
	mmio_write32(a->bar + off, v);
}

/* No SMIs: the enables off, the SMI status bits cleared (§7.1.2). */
static void
smi_off(struct xhci *a)
{
	uint32_t c = cap_rd(a, a->legacy + USBLEGCTLSTS);

	cap_wr(a, a->legacy + USBLEGCTLSTS, (c & LEGCTL_KEEP) | LEGCTL_RW1C);
}

/* Ask the BIOS for the controller: 1 when there is something to wait
 * for (HC_HANDOFF), 0 when it is ours already. */
int
handoff_begin(struct xhci *a)
{
	uint32_t v;

	if (!a->legacy)
		return 0;
	if (pb_setting_off(a->hub, "xhci-handoff")) {
		xlog(a, PB_LOG_INFO, "BIOS handoff skipped (boot.cfg "
		    "xhci-handoff=no)");
		return 0;
	}
	v = cap_rd(a, a->legacy);
	cap_wr(a, a->legacy, v | USBLEGSUP_OS_OWNED);
	if (!(v & USBLEGSUP_BIOS_OWNED)) {
		smi_off(a);
		return 0;
	}
	return 1;
}

/* One look: 1 once the controller is ours (taken by force at the
 * deadline), 0 to look again. */
int
handoff_step(struct xhci *a, uint64_t t)
{
	uint32_t v = cap_rd(a, a->legacy);

	if (!(v & USBLEGSUP_BIOS_OWNED)) {
		smi_off(a);
		return 1;
	}
	if (t < a->h_deadline)
		return 0;
	xlog(a, PB_LOG_WARN, "the BIOS keeps the controller (USBLEGSUP "
	    "0x%08x after %llu ms): taken anyway", v,
	    (unsigned long long)(T_HANDOFF / MS));
	cap_wr(a, a->legacy, (v & ~USBLEGSUP_BIOS_OWNED) | USBLEGSUP_OS_OWNED);
	smi_off(a);
	return 1;
}

static int
intel_switchable(const struct pci_func_info *f)
{
	return f->vendor == 0x8086 && (f->device == 0x1e31 ||
	    f->device == 0x8c31 || f->device == 0x9c31);
}

static uint32_t
cfg_copy(struct xhci *a, uint16_t from, uint16_t to)
{
	uint32_t v = 0;

	if (PB_CALL(a->pci, pci_ops, cfg_read, from, 4, &v) != PB_OK ||
	    PB_CALL(a->pci, pci_ops, cfg_write, to, 4, v) != PB_OK)
		return 0;
	PB_CALL(a->pci, pci_ops, cfg_read, to, 4, &v);
	return v;
}

/* Intel's shared ports to xHCI: SuperSpeed first, then USB 2. */
void
handoff_route_ports(struct xhci *a)
{
	uint32_t ss, hs;

	if (!intel_switchable(&a->fn))
		return;
	if (pb_setting_off(a->hub, "xhci-route")) {
		xlog(a, PB_LOG_INFO, "Intel port routing left as the BIOS set "
		    "it (boot.cfg xhci-route=no)");
		return;
	}
	ss = cfg_copy(a, INTEL_USB3PRM, INTEL_USB3_PSSEN);
	hs = cfg_copy(a, INTEL_XUSB2PRM, INTEL_XUSB2PR);
	xlog(a, PB_LOG_INFO, "Intel %04x: ports routed to xHCI (USB3_PSSEN "
	    "0x%x, XUSB2PR 0x%x)", a->fn.device, ss, hs);
}
