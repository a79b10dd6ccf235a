/*
 * msi.c - Message Signaled Interrupts for the bound driver (PCI 3.0
 * §6.8): the driver brings the message (address, data) its irq provider
 * gave it; we program the function and turn INTx off.
 *
 * MSI (§6.8.1): Message Control at +2 (bit 0 enable, bits 6:4 Multiple
 * Message Enable, bit 7 64-bit capable, bit 8 per-vector masking), the
 * address at +4 (and +8 for the upper half when 64-bit capable), the data
 * at +8 or +0xC, the mask bits after the data.  Only one vector (entry
 * 0) is used.
 *
 * MSI-X (§6.8.2): Message Control bit 15 enable, bit 14 Function Mask;
 * the table lives in a memory BAR (BIR + offset), 16 bytes per entry:
 * address low, address high, data, vector control (bit 0 masked).  Entry
 * programming follows §6.8.2.9: the function is masked while the entry
 * is written, then unmasked.  The table is mapped into our own ledger on
 * first use and stays mapped until stop(); memory decode must be on to
 * reach it, so it is turned on here when the driver has not.
 */
#include "pcibus.h"

#define MSI_CTRL		0x02
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_MME		0x0070	/* Multiple Message Enable */
#define MSI_CTRL_64BIT		0x0080
#define MSI_CTRL_MASKING	0x0100
#define MSI_ADDR_LO		0x04
#define MSI_ADDR_HI		0x08	/* 64-bit capable only */
#define MSI_DATA_32		0x08
#define MSI_DATA_64		0x0c
#define MSI_MASK_32		0x0c
#define MSI_MASK_64		0x10

#define MSIX_CTRL		0x02
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_FMASK		0x4000	/* Function Mask */
#define MSIX_ENTRY_SIZE		16
#define MSIX_ADDR_LO		0	/* dwords within an entry */
#define MSIX_ADDR_HI		1
#define MSIX_DATA		2
#define MSIX_VCTRL		3
#define MSIX_VCTRL_MASKED	0x1

static void
intx_off(const struct func *f)
{
	cfg_write(f, PCI_COMMAND, 2, cfg_read(f, PCI_COMMAND, 2) |
	    PCI_CMD_INTX_DISABLE);
}

static void
msix_off(const struct func *f)
{
	unsigned c = f->info.cap_msix;

	if (c)
		cfg_write(f, c + MSIX_CTRL, 2, cfg_read(f, c + MSIX_CTRL, 2) &
		    ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK));
}

static void
msi_off(const struct func *f)
{
	unsigned c = f->info.cap_msi;

	if (c)
		cfg_write(f, c + MSI_CTRL, 2, cfg_read(f, c + MSI_CTRL, 2) &
		    ~MSI_CTRL_ENABLE);
}

static int
msi_program(struct func *f, uint64_t addr, uint32_t data)
{
	unsigned c = f->info.cap_msi;
	uint16_t ctrl;
	int wide;

	if (!c)
		return PB_ENOTSUP;
	ctrl = cfg_read(f, c + MSI_CTRL, 2);
	wide = !!(ctrl & MSI_CTRL_64BIT);
	if ((addr >> 32) && !wide)
		return PB_EINVAL;	/* it cannot send that address */
	msix_off(f);
	cfg_write(f, c + MSI_CTRL, 2, ctrl & ~(MSI_CTRL_ENABLE |
	    MSI_CTRL_MME));
	cfg_write(f, c + MSI_ADDR_LO, 4, (uint32_t)addr);
	if (wide)
		cfg_write(f, c + MSI_ADDR_HI, 4, (uint32_t)(addr >> 32));
	cfg_write(f, c + (wide ? MSI_DATA_64 : MSI_DATA_32), 2, data & 0xffff);
	if (ctrl & MSI_CTRL_MASKING) {
		unsigned m = c + (wide ? MSI_MASK_64 : MSI_MASK_32);

		cfg_write(f, m, 4, cfg_read(f, m, 4) & ~1u);
	}
	intx_off(f);
	cfg_write(f, c + MSI_CTRL, 2, (ctrl & ~MSI_CTRL_MME) |
	    MSI_CTRL_ENABLE);
	return PB_OK;
}

/* Map the MSI-X table (our ledger), once. */
static int
msix_map(struct func *f)
{
	const struct pci_bar *b;
	uint64_t len = (uint64_t)f->info.msix_entries * MSIX_ENTRY_SIZE;

	if (f->msix_table)
		return PB_OK;
	if (f->msix_bir >= 6) {
		pci_log(PB_LOG_WARN, "%s: MSI-X table in BIR %u, no BAR",
		    f->name, f->msix_bir);
		return PB_EIO;
	}
	b = &f->info.bars[f->msix_bir];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->base || f->msix_offset + len > b->size) {
		pci_log(PB_LOG_WARN, "%s: MSI-X table at bar%u+0x%x (%u "
		    "entries) is not inside a usable memory BAR", f->name,
		    f->msix_bir, f->msix_offset, f->info.msix_entries);
		return PB_EIO;
	}
	f->msix_table = pci.hub->map_mmio(pci.self, b->base + f->msix_offset,
	    (size_t)len, PB_CACHE_UC);
	if (!f->msix_table)
		return PB_ENOMEM;
	f->msix_mapped = (uint32_t)len;
	return PB_OK;
}

static int
msix_program(struct func *f, unsigned entry, uint64_t addr, uint32_t data)
{
	unsigned c = f->info.cap_msix;
	volatile uint32_t *e;
	uint16_t ctrl;
	int r;

	if (!c)
		return PB_ENOTSUP;
	if (entry >= f->info.msix_entries)
		return PB_EINVAL;
	if ((r = msix_map(f)) != PB_OK)
		return r;
	cfg_write(f, PCI_COMMAND, 2, cfg_read(f, PCI_COMMAND, 2) |
	    PCI_CMD_MEM);
	msi_off(f);
	intx_off(f);
	/* Enabled but masked as a whole while the entry is written. */
	ctrl = cfg_read(f, c + MSIX_CTRL, 2);
	cfg_write(f, c + MSIX_CTRL, 2, ctrl | MSIX_CTRL_ENABLE |
	    MSIX_CTRL_FMASK);
	e = f->msix_table + entry * (MSIX_ENTRY_SIZE / 4);
	e[MSIX_VCTRL] |= MSIX_VCTRL_MASKED;
	e[MSIX_ADDR_LO] = (uint32_t)addr;
	e[MSIX_ADDR_HI] = (uint32_t)(addr >> 32);
	e[MSIX_DATA] = data;
	e[MSIX_VCTRL] &= ~MSIX_VCTRL_MASKED;
	cfg_write(f, c + MSIX_CTRL, 2, (ctrl | MSIX_CTRL_ENABLE) &
	    ~MSIX_CTRL_FMASK);
	return PB_OK;
}

int
msi_enable(struct func *f, int kind, unsigned entry, uint64_t addr,
    uint32_t data)
{
	switch (kind) {
	case PCI_IRQ_MSI:
		return entry ? PB_EINVAL : msi_program(f, addr, data);
	case PCI_IRQ_MSIX:
		return msix_program(f, entry, addr, data);
	default:
		return PB_EINVAL;
	}
}

/* Both off; MSI-X entries are masked again so a later enable starts
 * clean.  INTx stays as it is: the driver turns it on (enable()) if it
 * wants it. */
int
msi_disable(struct func *f)
{
	if (!f->info.cap_msi && !f->info.cap_msix)
		return PB_ENOTSUP;
	msi_off(f);
	msix_off(f);
	if (f->msix_table)
		for (unsigned i = 0; i < f->info.msix_entries; i++)
			f->msix_table[i * (MSIX_ENTRY_SIZE / 4) + MSIX_VCTRL] |=
			    MSIX_VCTRL_MASKED;
	return PB_OK;
}

void
msix_unmap(struct func *f)
{
	if (f->msix_table)
		pci.hub->unmap_mmio(pci.self, (void *)f->msix_table);
	f->msix_table = NULL;
	f->msix_mapped = 0;
}
