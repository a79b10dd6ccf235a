/*
 * tpci - test module: a PCI driver in miniature, for tests/scenario/
 * test_pci.py.  A bind rule loads it for a virtio-rng (1af4:1044, which
 * offers MSI-X and nothing any real driver here claims); it maps the BAR
 * holding the MSI-X table, asks the pci module to program entry 1, reads
 * the entry back through its own mapping, turns MSI-X off again and
 * checks a second client is refused.  Each step logs one line.
 *
 * The message is built here (x86 MSI format, Intel SDM vol. 3 §11.11:
 * 0xFEE00000 to local APIC 0, data = the vector) with a vector from the
 * hub: the test needs no interrupt to arrive, only the registers right.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/pci.h"

#define MSIX_CTRL	2
#define MSIX_TABLE	4

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *dev;

static void
tpci_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	if (req == PB_REQ_BIND && ev == PB_EV_CONNECTED)
		dev = c;
}

static uint32_t
cfg(unsigned off, unsigned width)
{
	uint32_t v = 0;

	PB_CALL(dev, pci_ops, cfg_read, off, width, &v);
	return v;
}

static void
try_msix(const struct pci_func_info *fi)
{
	uint32_t table = cfg(fi->cap_msix + MSIX_TABLE, 4);
	volatile uint32_t *bar, *e;
	int vector = hub->irq_alloc(self), r;

	bar = PB_CALL(dev, pci_ops, map_bar, self, table & 7, PB_CACHE_UC);
	if (!bar || vector < 0) {
		pb_logf(hub, self, PB_LOG_ERR, "no BAR %u mapping (%p) or no "
		    "vector (%d)", table & 7, (void *)bar, vector);
		return;
	}
	e = bar + (table & ~7u) / 4 + 4;	/* entry 1 */
	r = PB_CALL(dev, pci_ops, msi_enable, PCI_IRQ_MSIX, 1, 0xfee00000,
	    (uint32_t)vector);
	pb_logf(hub, self, PB_LOG_INFO, "msix entry 1: r=%d addr=%08x:%08x "
	    "data=0x%x vector=0x%x masked=%u enabled=%u fmask=%u intx-off=%u",
	    r, e[1], e[0], e[2], vector, e[3] & 1,
	    cfg(fi->cap_msix + MSIX_CTRL, 2) >> 15 & 1,
	    cfg(fi->cap_msix + MSIX_CTRL, 2) >> 14 & 1,
	    cfg(PCI_COMMAND, 2) >> 10 & 1);
	r = PB_CALL(dev, pci_ops, msi_enable, PCI_IRQ_MSIX, fi->msix_entries,
	    0xfee00000, (uint32_t)vector);
	pb_logf(hub, self, PB_LOG_INFO, "entry %u: %d", fi->msix_entries, r);
	r = PB_CALL(dev, pci_ops, msi_disable);
	pb_logf(hub, self, PB_LOG_INFO, "msi_disable: r=%d enabled=%u "
	    "masked=%u", r, cfg(fi->cap_msix + MSIX_CTRL, 2) >> 15 & 1,
	    e[3] & 1);
}

static int
tpci_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct pci_func_info fi;
	struct pb_conn *second;

	(void)mode;
	self = m;
	hub = h;
	if (!dev || PB_CALL(dev, pci_ops, info, &fi) != PB_OK)
		return PB_ENODEV;
	pb_logf(hub, self, PB_LOG_INFO, "bound to %s: %04x:%04x msix=%u "
	    "entries", dev->res, fi.vendor, fi.device, fi.msix_entries);
	if (fi.cap_msix)
		try_msix(&fi);
	second = hub->connect(self, PCI_IFACE, PCI_MAJOR, PCI_MINOR,
	    dev->res);
	pb_logf(hub, self, PB_LOG_INFO, "second connection %s",
	    second ? "accepted" : "refused");
	if (second)
		hub->disconnect(self, second);
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tpci_start,
	.event = tpci_event,
};

PB_MODULE(.name = "tpci", .version = "1.0",
    .desc = "test: a PCI driver's calls into the pci module",
    .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nbinds = 1, .binds = { PB_BIND("pci", "vendor=1af4 device=1044") });
