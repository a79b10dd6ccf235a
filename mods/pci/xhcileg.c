/*
 * xhcileg.c - may the firmware still be running an xHCI controller
 * behind our back?  Asked by client_gone (pci.c) before it turns a USB
 * 3 controller's bus mastering off.
 *
 * A firmware with legacy USB support (a USB keyboard as PS/2, the stick
 * as a BIOS disk) runs its xHCI code in SMM, on the SMIs the controller's
 * USB Legacy Support capability arms (xHCI 1.2 §7.1): while USBLEGSUP
 * says BIOS Owned (§7.1.1) or any SMI enable in USBLEGCTLSTS is set
 * (§7.1.2), that code may run, and some AMD boards hang in SMM when bus
 * mastering goes off under it (HARDWARE.md, PCI).  The xhci driver turns
 * them off at its handoff; one that never got there (xhci-handoff=no, a
 * fault or an unload while the BIOS still held on) leaves them armed.
 *
 * pci reads the capability itself rather than taking the driver's word:
 * the driver may have faulted, and the register is what the firmware
 * sees.  It lives in BAR0, in the extended capability list HCCPARAMS1's
 * xECP points at (§5.3.6, §7), so BAR0 is mapped for the look and
 * unmapped after.  Anything that keeps the answer from us (decode off:
 * turning it on would itself be a COMMAND write, which the SMI on PCI
 * Command enable turns into an SMI; BAR0 unusable; registers all ones; a
 * list that runs off the BAR) counts as armed.  No legacy capability:
 * nothing is armed (QEMU's controller).
 */
#include "pcibus.h"

#define XHCI_HCCPARAMS1		0x10
#define HCC1_XECP(v)		((v) >> 16)		/* in dwords */
#define XECP_ID(v)		((v) & 0xffu)
#define XECP_NEXT(v)		(((v) >> 8) & 0xffu)	/* in dwords */
#define XECP_LEGACY		1
#define XECP_MAX		64	/* capabilities walked at most */
#define USBLEGSUP_BIOS_OWNED	(1u << 16)
#define USBLEGCTLSTS		4
/* USB SMI (0), SMI on Host System Error (4), on OS Ownership Change
 * (13), on PCI Command (14), on BAR (15). */
#define LEGCTL_SMI_ENABLES	0x0000e011u

int
func_is_xhci(const struct func *f)
{
	return f->info.class_code == 0x0c && f->info.subclass == 0x03 &&
	    f->info.prog_if == 0x30;
}

/* Walk the extended capabilities of the mapped BAR0: 1 when no SMI can
 * be armed, 0 else; what was seen goes into why. */
static int
legacy_quiet(volatile uint8_t *bar, uint64_t size, char *why, size_t cap)
{
	uint32_t hcc1 = mmio_read32(bar + XHCI_HCCPARAMS1), v, ctl;
	uint64_t off = HCC1_XECP(hcc1) * 4u;

	if (hcc1 == 0xffffffffu) {
		rt_snprintf(why, cap, "its registers read all ones");
		return 0;
	}
	for (unsigned n = 0; off; n++) {
		if (n == XECP_MAX || off + 8 > size) {
			rt_snprintf(why, cap, "extended capabilities past "
			    "0x%llx unread", (unsigned long long)off);
			return 0;
		}
		v = mmio_read32(bar + off);
		if (v == 0xffffffffu) {
			rt_snprintf(why, cap, "its registers read all ones");
			return 0;
		}
		if (XECP_ID(v) == XECP_LEGACY) {
			ctl = mmio_read32(bar + off + USBLEGCTLSTS);
			rt_snprintf(why, cap, "USBLEGSUP 0x%08x USBLEGCTLSTS "
			    "0x%08x", v, ctl);
			return !(v & USBLEGSUP_BIOS_OWNED) &&
			    !(ctl & LEGCTL_SMI_ENABLES);
		}
		off = XECP_NEXT(v) ? off + XECP_NEXT(v) * 4u : 0;
	}
	rt_snprintf(why, cap, "no legacy support capability");
	return 1;
}

int
xhci_smis_off(const struct func *f, char *why, size_t cap)
{
	const struct pci_bar *b = &f->info.bars[0];
	volatile uint8_t *bar;
	int quiet;

	if (!(cfg_read(f, PCI_COMMAND, 2) & PCI_CMD_MEM)) {
		rt_snprintf(why, cap, "memory decode off: USBLEGCTLSTS "
		    "unread");
		return 0;
	}
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->base || b->size < XHCI_HCCPARAMS1 + 4) {
		rt_snprintf(why, cap, "BAR0 is no usable memory BAR");
		return 0;
	}
	bar = pci.hub->map_mmio(pci.self, b->base, (size_t)b->size,
	    PB_CACHE_UC);
	if (!bar) {
		rt_snprintf(why, cap, "BAR0 cannot be mapped");
		return 0;
	}
	quiet = legacy_quiet(bar, b->size, why, cap);
	pci.hub->unmap_mmio(pci.self, (void *)bar);
	return quiet;
}
