/*
 * pci.c - the `pci` module: the PCI bus enumerator.  It finds every
 * function of every segment (ECAM from the acpi module's MCFG, else
 * configuration mechanism #1 through ports 0xCF8/0xCFC), sizes their BARs,
 * reads their capabilities, and publishes one `pci` resource per function
 * (`pci:00:1f.2`), for one client: the driver a bind rule loads for it.
 *
 * Started at boot (PB_MOD_AUTOSTART) once the firmware is gone
 * (PB_MOD_HARDWARE): the firmware's drivers may still be using the
 * devices before.  QEMU: `tools/qemu-run --config default` (q35: MCFG at
 * 0xb0000000, AHCI at 00:1f.2), `--config usb` adds qemu-xhci with MSI-X.
 */
#include "pcibus.h"

struct pcibus pci;

enum { REQ_ACPI = 0 };

uint32_t
cfg_read(const struct func *f, unsigned off, unsigned width)
{
	const struct segment *s = f->seg;

	return s->ops->read(s->ctx, f->info.bus, f->info.dev, f->info.fn, off,
	    width);
}

void
cfg_write(const struct func *f, unsigned off, unsigned width, uint32_t v)
{
	const struct segment *s = f->seg;

	s->ops->write(s->ctx, f->info.bus, f->info.dev, f->info.fn, off,
	    width, v);
}

/* The segments MCFG describes, when the acpi module is there. */
static void
open_ecam(void)
{
	const struct acpi_platform *p;

	if (!pci.acpi) {
		pci_log(PB_LOG_INFO, "no acpi module: configuration through "
		    "ports 0xcf8/0xcfc");
		return;
	}
	p = PB_CALL(pci.acpi, acpi_ops, platform);
	if (!p || !p->necam) {
		pci_log(PB_LOG_INFO, "no MCFG: configuration through ports "
		    "0xcf8/0xcfc");
		return;
	}
	for (unsigned i = 0; i < p->necam && i < ACPI_MAX_ECAM; i++)
		if (ecam_open(&pci.seg[pci.nseg], &p->ecam[i]) == PB_OK)
			pci.nseg++;
}

static void
close_segments(void)
{
	for (unsigned i = 0; i < pci.nseg; i++)
		ecam_close(&pci.seg[i]);
	pci.nseg = 0;
}

static void
tell(const struct func *f)
{
	const struct pci_func_info *i = &f->info;

	pci_log(PB_LOG_INFO, "%s %04x:%04x class %02x.%02x.%02x%s", f->name,
	    i->vendor, i->device, i->class_code, i->subclass, i->prog_if,
	    (i->header_type & PCI_HDR_TYPE_MASK) == PCI_HDR_BRIDGE ?
	    " (bridge)" : "");
	bars_report(f);
}

void
func_publish(struct func *f)
{
	char props[PCI_PROPS_MAX];
	unsigned cut = props_format(f, props, sizeof(props));

	if (cut)
		pci_log(PB_LOG_WARN, "%s: %u BAR%s left out of the properties "
		    "(256 bytes)", f->name, cut, cut == 1 ? "" : "s");
	f->res = pci.hub->publish(pci.self, PCI_IFACE, f->name, props,
	    &pci_func_ops, f);
	if (!f->res) {
		pci_log(PB_LOG_ERR, "%s: cannot publish pci:%s", f->name,
		    f->name);
		return;
	}
	/* Config space, BARs and MSI belong to the one bound driver. */
	if (pci.hub->size >= offsetof(struct pb_hub, res_limit) +
	    sizeof(pci.hub->res_limit))
		pci.hub->res_limit(pci.self, f->res, 1);
}

static int
pci_start(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	rt_use_hub(hub);
	pci.self = self;
	pci.hub = hub;
	if (mode == PB_START_STANDBY)
		return PB_ENOTSUP;	/* nothing to swap: no state */
	funcs_free();
	pci.nseg = pci.dropped = 0;
	open_ecam();
	if (!pci.nseg && portcfg_open(&pci.seg[0]) == PB_OK)
		pci.nseg = 1;
	if (!pci.nseg) {
		pci_log(PB_LOG_INFO, "no way to reach configuration space: "
		    "no PCI");
		return PB_ENODEV;
	}
	for (unsigned i = 0; i < pci.nseg; i++)
		enum_segment(&pci.seg[i]);
	for (unsigned i = 0; i < pci.nseg; i++)
		pci_log(PB_LOG_INFO, "segment %u buses %02x-%02x through %s",
		    pci.seg[i].number, pci.seg[i].bus_start,
		    pci.seg[i].bus_end, pci.seg[i].how);
	for (unsigned i = 0; i < pci.nfuncs; i++)
		tell(&pci.funcs[i]);
	if (pci.dropped)
		pci_log(PB_LOG_WARN, "%u functions beyond the first %u left "
		    "out", pci.dropped, pci.nfuncs);
	for (unsigned i = 0; i < pci.nfuncs; i++)
		func_publish(&pci.funcs[i]);
	return PB_OK;
}

static void
pci_stop(struct pb_module *self)
{
	(void)self;
	for (unsigned i = 0; i < pci.nfuncs; i++) {
		msix_unmap(&pci.funcs[i]);
		if (pci.funcs[i].res)
			pci.hub->withdraw(pci.self, pci.funcs[i].res);
		pci.funcs[i].res = NULL;
	}
	funcs_free();
	close_segments();
}

/*
 * ABI 1.2: the driver behind c is going (unloaded, faulted), and the hub
 * is about to reuse its memory and vectors.  The function stops mastering
 * the bus (PCI 3.0 §6.2.2, COMMAND bit 2) and raising interrupts: MSI and
 * MSI-X off (§6.8), INTx disabled (COMMAND bit 10).  Decode stays on:
 * BARs do nothing by themselves, and the next driver sets COMMAND anyway.
 * COMMAND is read back: a function that still masters the bus (or no
 * longer answers: all ones) is reported to the hub by conn->ops NULL, so
 * the driver's memory is never handed to anyone else.  When the driver
 * faulted (PB_EV_CLIENT_FAULTED came first) and the function can be reset
 * on its own, it is reset too (flr.c): whatever the dead driver left it
 * doing, the next one finds it as after power-on.
 *
 * Not an xHCI whose firmware SMIs may still be armed (xhcileg.c; xHCI 1.2
 * §7.1 USB Legacy Support Capability): some AMD boards hang in SMM when
 * its bus mastering goes off under the firmware's USB code (HARDWARE.md).
 * Its COMMAND is not written at all (the SMI on PCI Command enable makes
 * any write an SMI), nor is it reset; MSI and MSI-X go off, and the hub
 * is told by conn->ops NULL, as for a function that still masters.
 */
static struct func *
func_of(const struct pb_conn *c)
{
	struct func *f = c->ctx;

	if (c->ops != &pci_func_ops || f < pci.funcs ||
	    f >= pci.funcs + pci.nfuncs)
		return NULL;
	return f;
}

static void
client_gone(struct pb_conn *c)
{
	struct func *f = func_of(c);
	char why[64];
	uint32_t cmd;
	int faulted;

	if (!f)
		return;
	faulted = f->client_faulted;
	f->client_faulted = 0;
	if (func_is_xhci(f) && !xhci_smis_off(f, why, sizeof(why))) {
		msi_disable(f);
		pci_log(PB_LOG_WARN, "%s: its driver is gone, but the "
		    "firmware's SMIs may be armed (%s): bus mastering left on, "
		    "its memory kept", f->name, why);
		c->ops = NULL;
		return;
	}
	cfg_write(f, PCI_COMMAND, 2, (cfg_read(f, PCI_COMMAND, 2) &
	    ~PCI_CMD_MASTER) | PCI_CMD_INTX_DISABLE);
	msi_disable(f);
	cmd = cfg_read(f, PCI_COMMAND, 2);
	if (cmd == 0xffff || (cmd & PCI_CMD_MASTER)) {
		pci_log(PB_LOG_ERR, "%s: its driver is gone but COMMAND reads "
		    "0x%04x: bus mastering not off", f->name, cmd);
		c->ops = NULL;
		return;
	}
	pci_log(PB_LOG_INFO, "%s: its driver is gone: bus mastering and "
	    "interrupts off (COMMAND 0x%04x)", f->name, cmd);
	if (faulted && f->flr)
		flr_start(f);
}

static void
pci_event(struct pb_module *self, int ev, struct pb_conn *c, int req)
{
	(void)self;
	if (ev == PB_EV_CLIENT_FAULTED && func_of(c)) {
		func_of(c)->client_faulted = 1;
		return;
	}
	if (ev == PB_EV_CLIENT_GONE) {
		client_gone(c);
		return;
	}
	if (req != REQ_ACPI)
		return;
	if (ev == PB_EV_CONNECTED || ev == PB_EV_REBOUND)
		pci.acpi = c;
	else if (ev == PB_EV_DISCONNECTED && pci.acpi == c)
		pci.acpi = NULL;
}

static const struct pb_module_ops pci_mod_ops = {
	.start = pci_start,
	.stop = pci_stop,
	.event = pci_event,
};

PB_MODULE(.name = "pci", .version = "1.0",
    .desc = "PCI bus: ECAM or port I/O, one resource per function",
    .flags = PB_MOD_HARDWARE | PB_MOD_AUTOSTART,
    .ops = &pci_mod_ops,
    .nprovides = 1, .provides = { PB_PROVIDE(PCI_IFACE, PCI_MAJOR,
	PCI_MINOR) },
    .nrequires = 1,
    .requires = { PB_REQUIRE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR,
	PB_CARD_OPTIONAL, PB_AT_START) });
