/*
 * ops.c - struct pci_ops: what the one driver bound to a function may do
 * with it (abi/pci.h).  ctx is the struct func.  Arguments are checked
 * here; the registers are touched through cfg_read/cfg_write only.
 */
#include "pcibus.h"

/* COMMAND bits a driver may turn on or off (PCI 3.0 §6.2.2): I/O, memory,
 * bus master, special cycles, MWI, palette snoop, parity, SERR#, fast
 * back-to-back, INTx disable. */
#define CMD_DRIVER_BITS	0x07ffu

static int
op_info(void *ctx, struct pci_func_info *info)
{
	const struct func *f = ctx;

	if (!info)
		return PB_EINVAL;
	*info = f->info;
	return PB_OK;
}

static int
cfg_args_ok(const struct func *f, uint16_t off, unsigned width)
{
	return (width == 1 || width == 2 || width == 4) &&
	    (off & (width - 1)) == 0 && off + width <= f->seg->cfg_size;
}

static int
op_cfg_read(void *ctx, uint16_t off, unsigned width, uint32_t *v)
{
	const struct func *f = ctx;

	if (!v || !cfg_args_ok(f, off, width))
		return PB_EINVAL;
	*v = cfg_read(f, off, width);
	return PB_OK;
}

static int
op_cfg_write(void *ctx, uint16_t off, unsigned width, uint32_t v)
{
	const struct func *f = ctx;

	if (!cfg_args_ok(f, off, width))
		return PB_EINVAL;
	cfg_write(f, off, width, v);
	return PB_OK;
}

static int
op_enable(void *ctx, uint16_t bits, int on)
{
	const struct func *f = ctx;
	uint16_t cmd;

	if (!bits || (bits & ~CMD_DRIVER_BITS))
		return PB_EINVAL;
	cmd = cfg_read(f, PCI_COMMAND, 2);
	cmd = on ? cmd | bits : cmd & ~bits;
	cfg_write(f, PCI_COMMAND, 2, cmd);
	return PB_OK;
}

/* A usable memory BAR, mapped into the client's ledger. */
static void *
op_map_bar(void *ctx, struct pb_module *client, unsigned bar, int cache)
{
	const struct func *f = ctx;
	const struct pci_bar *b;

	if (bar >= 6 || !client)
		return NULL;
	b = &f->info.bars[bar];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    !b->size || !b->base) {
		pci_log(PB_LOG_WARN, "%s: bar%u is no assigned memory BAR: "
		    "not mapped", f->name, bar);
		return NULL;
	}
	if (cache != PB_CACHE_UC && cache != PB_CACHE_WC &&
	    cache != PB_CACHE_WB)
		return NULL;
	return pci.hub->map_mmio(client, b->base, (size_t)b->size, cache);
}

static int
op_msi_enable(void *ctx, int kind, unsigned entry, uint64_t addr,
    uint32_t data)
{
	return msi_enable(ctx, kind, entry, addr, data);
}

static int
op_msi_disable(void *ctx)
{
	return msi_disable(ctx);
}

const struct pci_ops pci_func_ops = {
	.info = op_info,		/* what enumeration found */
	.cfg_read = op_cfg_read,	/* width 1/2/4, aligned, in range */
	.cfg_write = op_cfg_write,
	.enable = op_enable,		/* COMMAND bits on/off */
	.map_bar = op_map_bar,		/* into the caller's ledger */
	.msi_enable = op_msi_enable,	/* msi.c */
	.msi_disable = op_msi_disable,
};
