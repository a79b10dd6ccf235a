/*
 * names.c - how the bus spells a device and its interfaces (abi/usb.h):
 *   name    1-5.2          controller 1, root port 5, hub port 2
 *   dev=    pci:00:04.0/usb:5.2   the controller's path=, then the ports
 *   path=   pci:00:04.0/usb:5.2/if:0
 *   props   vid=0627 pid=0001 class=03 subclass=01 protocol=01 if=0
 *           speed=full path=... dev=... [serial=...]
 * Ports count from 1, the root port first, as efi/devpath.c spells the
 * firmware's handles.  The interface number is decimal, as in if:N.
 */
#include "bus.h"

static size_t
chain_fmt(char *buf, size_t cap, size_t n, const uint8_t *chain,
    unsigned len)
{
	for (unsigned i = 0; i < len && n < cap; i++)
		n += (size_t)rt_snprintf(buf + n, cap - n, "%s%u", i ? "." : "",
		    chain[i]);
	return n;
}

size_t
dev_name_fmt(char *buf, size_t cap, unsigned hci, const uint8_t *chain,
    unsigned n)
{
	size_t k = (size_t)rt_snprintf(buf, cap, "%u-", hci);

	return chain_fmt(buf, cap, k, chain, n);
}

size_t
dev_place_fmt(char *buf, size_t cap, const char *hci_path,
    const uint8_t *chain, unsigned n)
{
	size_t k = (size_t)rt_snprintf(buf, cap, "%s/usb:", hci_path);

	return chain_fmt(buf, cap, k, chain, n);
}

size_t
if_props_fmt(char *buf, size_t cap, const struct usb_device_desc *dd,
    const struct desc_if *f, int speed, const char *place,
    const char *serial)
{
	size_t n = (size_t)rt_snprintf(buf, cap, "vid=%04x pid=%04x class=%02x "
	    "subclass=%02x protocol=%02x if=%u speed=%s path=%s/if:%u dev=%s",
	    dd->idVendor, dd->idProduct, f->cls, f->subclass, f->protocol,
	    f->num, desc_speed_name(speed), place, f->num, place);

	if (serial && serial[0] && n < cap)
		n += (size_t)rt_snprintf(buf + n, cap - n, " serial=%s", serial);
	return n;
}
