/*
 * desc.c - the interface's descriptors as the bus gives them
 * (usb_ops.descriptors: the interface descriptor, then its class
 * descriptors and endpoints up to the next interface): the interrupt-IN
 * endpoint that carries the boot reports (HID 1.11 §7.1 and B.1; USB 2.0
 * §9.6.6).  Everything is checked before it is read: a descriptor that
 * runs past the end or claims fewer bytes than its type has ends the walk.
 */
#include "usbkbd.h"

/* The boot report is 8 bytes: a smaller packet cannot carry it. */
#define BOOT_REPORT_MIN	8

int
desc_find_intr_in(const uint8_t *d, size_t len, uint8_t *ep, uint16_t *mps,
    uint8_t *interval, const char **why)
{
	struct usb_endpoint_desc e;
	int small = 0;

	if (len < sizeof(struct usb_interface_desc) || d[0] < 9 ||
	    d[1] != USB_DT_INTERFACE) {
		*why = "the descriptors do not begin with the interface's";
		return PB_ENODEV;
	}
	for (size_t at = d[0]; at + 2 <= len; at += d[at]) {
		if (d[at] < 2 || d[at] > len - at) {
			*why = "a descriptor runs past the end";
			return PB_ENODEV;
		}
		if (d[at + 1] != USB_DT_ENDPOINT)
			continue;
		if (d[at] < sizeof(e)) {
			*why = "an endpoint descriptor is short";
			return PB_ENODEV;
		}
		memcpy(&e, d + at, sizeof(e));
		if (!(e.bEndpointAddress & USB_DIR_IN) ||
		    (e.bmAttributes & 3) != USB_EP_INTERRUPT)
			continue;
		if ((e.wMaxPacketSize & 0x7ff) < BOOT_REPORT_MIN) {
			small = 1;
			continue;
		}
		*ep = e.bEndpointAddress;
		*mps = e.wMaxPacketSize & 0x7ff;
		*interval = e.bInterval;
		return PB_OK;
	}
	*why = small ? "its interrupt-IN endpoint's max packet is below the "
	    "boot report's 8 bytes" : "no interrupt-IN endpoint";
	return PB_ENODEV;
}
