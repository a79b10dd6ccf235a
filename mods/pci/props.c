/*
 * props.c - the property line of a function's resource, as abi/pci.h
 * lists it:
 *   bdf=00:1f.2 seg=0 vendor=8086 device=2922 class=01.06.01
 *   subsys=1af4:1100 rev=02 irq-pin=1 bar0=mem32:0xfebd1000+0x1000
 *   bar2=mem64p:0x800000000+0x4000 caps=msi,msix,pcie
 * (caps may end in `flr`: pci can reset the function on its own, flr.c);
 * subsys only for header type 0 (the others have no such register),
 * barN only for implemented, usable BARs, caps only when there are some.
 * The line must fit the hub's 256 bytes: the identity and caps always
 * do; a BAR that would not is left out (info() still has it).
 */
#include "pcibus.h"

static const char *
kind_text(const struct pci_bar *b)
{
	switch (b->kind) {
	case PCI_BAR_IO:
		return "io";
	case PCI_BAR_MEM32:
		return b->prefetchable ? "mem32p" : "mem32";
	default:
		return b->prefetchable ? "mem64p" : "mem64";
	}
}

static void
caps_text(const struct func *f, char *buf, size_t cap)
{
	const struct pci_func_info *i = &f->info;
	size_t n = 0;

	buf[0] = '\0';
	if (i->cap_msi)
		n += rt_snprintf(buf + n, cap - n, ",msi");
	if (i->cap_msix)
		n += rt_snprintf(buf + n, cap - n, ",msix");
	if (i->cap_pcie)
		n += rt_snprintf(buf + n, cap - n, ",pcie");
	if (f->flr)
		n += rt_snprintf(buf + n, cap - n, ",flr");
}

unsigned
props_format(const struct func *f, char *buf, size_t cap)
{
	const struct pci_func_info *i = &f->info;
	char caps[24], bar[64];
	size_t n, room;
	unsigned left_out = 0;

	n = rt_snprintf(buf, cap, "bdf=%02x:%02x.%x seg=%x vendor=%04x "
	    "device=%04x class=%02x.%02x.%02x", i->bus, i->dev, i->fn,
	    i->segment, i->vendor, i->device, i->class_code, i->subclass,
	    i->prog_if);
	if ((i->header_type & PCI_HDR_TYPE_MASK) == PCI_HDR_NORMAL)
		n += rt_snprintf(buf + n, cap - n, " subsys=%04x:%04x",
		    i->subsys_vendor, i->subsys_device);
	n += rt_snprintf(buf + n, cap - n, " rev=%02x irq-pin=%u", i->revision,
	    i->irq_pin);
	caps_text(f, caps, sizeof(caps));
	room = cap - 1 - (caps[0] ? strlen(caps) + 5 : 0);	/* " caps=" */
	for (unsigned k = 0; k < 6; k++) {
		const struct pci_bar *b = &i->bars[k];
		size_t len;

		if (b->kind == PCI_BAR_NONE || !b->size)
			continue;
		len = rt_snprintf(bar, sizeof(bar), " bar%u=%s:0x%llx+0x%llx",
		    k, kind_text(b), (unsigned long long)b->base,
		    (unsigned long long)b->size);
		if (n + len > room) {
			left_out++;
			continue;
		}
		memcpy(buf + n, bar, len + 1);
		n += len;
	}
	if (caps[0])
		rt_snprintf(buf + n, cap - n, " caps=%s", caps + 1);
	return left_out;
}
