/*
 * caps.c - the capability list (PCI 3.0 §6.7): when STATUS bit 4 is set,
 * the byte at 0x34 (0x14 for CardBus) points at the first entry; each
 * entry is an ID byte and a next-pointer byte.  Pointers are dword
 * aligned (the low two bits are reserved and masked off) and point above
 * the 64-byte header; 0 ends the list.
 *
 * The walk is bounded: at most CAPS_MAX entries (192 bytes hold no more
 * than 48 dword-aligned ones), and an entry visited twice is a loop,
 * reported once.  Found: MSI (§6.8.1), MSI-X (§6.8.2: table size, table
 * BIR and offset), PCI Express (PCIe 5.0 §7.5.3) and Advanced Features
 * (PCI AF ECN: function-level reset on conventional PCI).
 */
#include "pcibus.h"

#define CAPS_MAX	48
#define CAP_FIRST	0x40		/* below is the header */
#define MSIX_CTRL	0x02		/* Message Control */
#define MSIX_TABLE	0x04		/* Table Offset / BIR */
#define MSIX_SIZE_MASK	0x07ff		/* table size - 1 */
#define MSIX_BIR_MASK	0x7
#define PCI_CAP_AF	0x13		/* Advanced Features */

static void
found(struct func *f, unsigned id, unsigned at)
{
	struct pci_func_info *i = &f->info;
	uint32_t t;

	switch (id) {
	case PCI_CAP_MSI:
		if (!i->cap_msi)
			i->cap_msi = (uint8_t)at;
		break;
	case PCI_CAP_MSIX:
		if (i->cap_msix)
			break;
		i->cap_msix = (uint8_t)at;
		i->msix_entries = (cfg_read(f, at + MSIX_CTRL, 2) &
		    MSIX_SIZE_MASK) + 1;
		t = cfg_read(f, at + MSIX_TABLE, 4);
		f->msix_bir = t & MSIX_BIR_MASK;
		f->msix_offset = t & ~(uint32_t)MSIX_BIR_MASK;
		break;
	case PCI_CAP_PCIE:
		if (!i->cap_pcie)
			i->cap_pcie = (uint8_t)at;
		break;
	case PCI_CAP_AF:
		if (!f->cap_af)
			f->cap_af = (uint8_t)at;
		break;
	}
}

void
caps_read(struct func *f)
{
	uint8_t visited[256 / 4 / 8] = { 0 };	/* one bit per dword */
	unsigned ptr, n;

	if (!(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAPS))
		return;
	ptr = cfg_read(f, (f->info.header_type & PCI_HDR_TYPE_MASK) ==
	    PCI_HDR_CARDBUS ? PCI_CARDBUS_CAP_PTR : PCI_CAP_PTR, 1) & 0xfc;
	for (n = 0; ptr && n < CAPS_MAX; n++) {
		unsigned d = ptr / 4;
		uint16_t hdr;

		if (ptr < CAP_FIRST) {
			pci_log(PB_LOG_WARN, "%s: capability pointer 0x%02x "
			    "points into the header: list ends there", f->name,
			    ptr);
			return;
		}
		if (visited[d / 8] >> (d % 8) & 1) {
			pci_log(PB_LOG_WARN, "%s: capability list loops back "
			    "to 0x%02x: list ends there", f->name, ptr);
			return;
		}
		visited[d / 8] |= 1u << (d % 8);
		hdr = cfg_read(f, ptr, 2);
		found(f, hdr & 0xff, ptr);
		ptr = hdr >> 8 & 0xfc;
	}
	if (ptr)
		pci_log(PB_LOG_WARN, "%s: capability list longer than %u "
		    "entries: cut", f->name, CAPS_MAX);
}
