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
 * Intel's chipsets with both xHCI and EHCI controllers (7-series Panther
 * Point on, through 8/9-series, Lynx and Wildcat Point) share ports
 * between them, routed to EHCI until told otherwise: a BIOS left in
 * "Auto" mode leaves them there, and without an EHCI driver the stick
 * and the keyboard vanish at the takeover.  USB3_PSSEN (config 0xd8)
 * written from USB3PRM (0xdc) switches the SuperSpeed terminations on,
 * then XUSB2PR (0xd0) from XUSB2PRM (0xd4) hands the USB 2 lines over;
 * each mask register says which bits of its routing register the OS may
 * set, so its value is written as read.  As Linux does, this is done on
 * any Intel xHCI, but only when an Intel EHCI (class 0c.03.20) is on the
 * bus: chipsets without one have nothing to route (pci publishes every
 * function, the EHCI's too, so the inventory tells).
 *
 * Until the firmware's SMIs are known off (no legacy capability, or BIOS
 * Owned clear and every SMI enable in USBLEGCTLSTS reading clear:
 * a->smis_off), hc_halt_now leaves bus mastering on: some AMD boards hang
 * in SMM when it goes off under the firmware's USB code (HARDWARE.md).
 *
 * boot.cfg: `xhci-handoff=no` skips the handoff, `xhci-route=no` the
 * routing (both kill switches for bare-metal triage).
 */
#include "xhci.h"

#define INTEL_XUSB2PR	0xd0
#define INTEL_XUSB2PRM	0xd4
#define INTEL_USB3_PSSEN 0xd8
#define INTEL_USB3PRM	0xdc
#define PCI_VENDOR_INTEL 0x8086

static void
cap_wr(const struct xhci *a, unsigned off, uint32_t v)
{
	mmio_write32(a->bar + off, v);
}

/* Are the firmware's SMIs known off?  No legacy capability: it has none.
 * Else the BIOS must have let go (USBLEGSUP BIOS Owned clear, §7.1.1) and
 * every SMI enable in USBLEGCTLSTS read clear (§7.1.2); a register that
 * reads all ones says neither.  Looked at when the driver attaches (the
 * firmware may have left them off; a driver before us turned them off)
 * and after smi_off. */
void
handoff_note_smis(struct xhci *a)
{
	uint32_t sup, ctl;

	if (!a->legacy) {
		a->smis_off = 1;
		return;
	}
	sup = cap_rd(a, a->legacy);
	ctl = cap_rd(a, a->legacy + USBLEGCTLSTS);
	a->smis_off = sup != 0xffffffffu && !(sup & USBLEGSUP_BIOS_OWNED) &&
	    !(ctl & LEGCTL_SMI_ENABLES);
}

/* No SMIs: the enables off, the SMI status bits cleared (§7.1.2). */
static void
smi_off(struct xhci *a)
{
	uint32_t c = cap_rd(a, a->legacy + USBLEGCTLSTS);

	cap_wr(a, a->legacy + USBLEGCTLSTS, (c & LEGCTL_KEEP) | LEGCTL_RW1C);
	handoff_note_smis(a);
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

/* Did pci publish an Intel EHCI function, the shared ports' other owner?
 * 1 and its resource's name ("pci:00:1d.0") in name, else 0. */
static int
intel_ehci(const struct xhci *a, char *name, size_t cap)
{
	struct pb_res_info info;
	char vendor[8], class[12];

	for (unsigned i = 0; a->hub->res_info_sized; i++) {
		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (a->hub->res_info_sized(NULL, i, &info) != PB_OK)
			return 0;
		if (!info.name || strncmp(info.name, PCI_IFACE ":",
		    sizeof(PCI_IFACE)) != 0 || !info.props ||
		    !rt_prop_get(info.props, "vendor", vendor, sizeof(vendor)) ||
		    !rt_prop_get(info.props, "class", class, sizeof(class)) ||
		    strcmp(vendor, "8086") != 0 || strcmp(class, "0c.03.20") != 0)
			continue;
		rt_strlcpy(name, info.name, cap);
		return 1;
	}
	return 0;
}

/* One routing register from its mask register, read back; PB_OK or the
 * pci call's error. */
static int
cfg_copy(struct xhci *a, uint16_t from, uint16_t to, uint32_t *now)
{
	uint32_t v = 0;
	int err;

	if ((err = PB_CALL(a->pci, pci_ops, cfg_read, from, 4, &v)) != PB_OK ||
	    (err = PB_CALL(a->pci, pci_ops, cfg_write, to, 4, v)) != PB_OK ||
	    (err = PB_CALL(a->pci, pci_ops, cfg_read, to, 4, now)) != PB_OK)
		return err;
	return PB_OK;
}

/* Intel's shared ports to xHCI: SuperSpeed first, then USB 2. */
void
handoff_route_ports(struct xhci *a)
{
	char ehci[XHCI_PATH_MAX];
	uint32_t ss = 0, hs = 0;
	int err;

	if (a->fn.vendor != PCI_VENDOR_INTEL ||
	    !intel_ehci(a, ehci, sizeof(ehci)))
		return;
	if (pb_setting_off(a->hub, "xhci-route")) {
		xlog(a, PB_LOG_INFO, "Intel port routing left as the BIOS set "
		    "it (boot.cfg xhci-route=no)");
		return;
	}
	if ((err = cfg_copy(a, INTEL_USB3PRM, INTEL_USB3_PSSEN, &ss)) !=
	    PB_OK || (err = cfg_copy(a, INTEL_XUSB2PRM, INTEL_XUSB2PR,
	    &hs)) != PB_OK) {
		xlog(a, PB_LOG_ERR, "Intel %04x: port routing through "
		    "config 0xd0-0xdc failed (%d): the shared ports may stay "
		    "with the EHCI", a->fn.device, err);
		return;
	}
	xlog(a, PB_LOG_INFO, "Intel %04x: ports shared with the EHCI at %s "
	    "routed to xHCI (USB3_PSSEN 0x%x, XUSB2PR 0x%x)", a->fn.device,
	    ehci, ss, hs);
}
