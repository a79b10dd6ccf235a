/*
 * desc.h - checking what a device says of itself (USB 2.0 §9.6, USB 3.2
 * §9.6), with no I/O and no hub: the enumeration (enum.c) hands it the
 * bytes it read, the host tests and the fuzzer hand it anything.
 *
 * desc_config() walks a whole configuration (the blob GET_DESCRIPTOR
 * (CONFIGURATION) returned, wTotalLength bytes) and keeps, for alternate
 * setting 0 of every interface, where its descriptors lie and which
 * endpoints it has.  It refuses, naming what it found:
 *   - a descriptor whose bLength is below 2, or runs past the blob;
 *   - a standard descriptor shorter than its type's minimum
 *     (configuration 9, interface 9, endpoint 7, SuperSpeed companion 6,
 *     interface association 8; class-specific types are the class
 *     driver's to check), a device, string, qualifier or BOS descriptor
 *     inside it;
 *   - wTotalLength that is not the blob's length, a second configuration;
 *   - no interface at all, bNumInterfaces that is not the number of
 *     interfaces found, an interface without alternate setting 0,
 *     alternate setting 0 twice;
 *   - bNumEndpoints that is not the number of endpoint descriptors up to
 *     the next interface (or the end: an interface pointing past it);
 *   - an endpoint outside an interface, numbered 0, with reserved bits
 *     set, twice in one setting, a maximum packet size of 0 (but an
 *     isochronous one of alternate setting 0: §5.6.3 wants those empty;
 *     it is kept but not enabled) or above its type's limit at the
 *     device's speed (USB 2.0 §5.5.3, §5.6.3, §5.7.3, §5.8.3; USB 3.2
 *     §9.6.6), bulk or isochronous at low speed;
 *   - a SuperSpeed companion that does not follow an endpoint;
 *   - more interfaces or endpoints than the bus keeps (DESC_IFS, DESC_EPS).
 */
#ifndef PB_USB_DESC_H
#define PB_USB_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "../../abi/usb.h"

#define DESC_IFS 16		/* interfaces of one configuration */
#define DESC_EPS 30		/* endpoints of their alternate settings 0 */
#define DESC_CONFIG_MAX 4096	/* wTotalLength the bus reads, at most */
#define DESC_WHY 96		/* the reason, for one log line */

#define USB_DT_INTERFACE_ASSOC 0x0b	/* Interface Association ECN */

/* One endpoint of an alternate setting 0. */
struct desc_ep {
	uint16_t off;		/* its endpoint descriptor in the blob */
	uint16_t ss_off;	/* its SuperSpeed companion, 0: none */
	uint8_t addr;		/* bEndpointAddress */
	uint8_t type;		/* enum usb_ep_type */
	uint16_t mps;		/* bits 10:0 of wMaxPacketSize */
	uint8_t iface;		/* index into desc_cfg.ifs */
	uint8_t enable;		/* 0: a zero-bandwidth isochronous one */
};

/* Alternate setting 0 of one interface. */
struct desc_if {
	uint8_t num;		/* bInterfaceNumber */
	uint8_t cls, subclass, protocol;
	uint8_t iinterface;
	uint8_t nep;		/* its endpoints: eps[ep_first..+nep) */
	uint8_t ep_first;
	uint16_t off, len;	/* its interface descriptor up to the next
				 * interface (or association) descriptor */
};

struct desc_cfg {
	uint8_t value;		/* bConfigurationValue */
	uint8_t attributes;
	uint8_t nif;
	uint8_t nep;
	struct desc_if ifs[DESC_IFS];
	struct desc_ep eps[DESC_EPS];
};

/* The first 8 bytes of a device descriptor: PB_OK and the default pipe's
 * maximum packet size for `speed`, or PB_EINVAL with the reason. */
int desc_ep0_mps(const uint8_t *buf, size_t len, int speed, uint16_t *mps,
    char *why, size_t cap);

/* A whole device descriptor (len bytes read): PB_OK with *dd filled, or
 * PB_EINVAL with the reason. */
int desc_device(const uint8_t *buf, size_t len, int speed,
    struct usb_device_desc *dd, char *why, size_t cap);

/* The first 9 bytes of a configuration: PB_OK and wTotalLength, which is
 * at least 9 and at most DESC_CONFIG_MAX, or PB_EINVAL. */
int desc_config_head(const uint8_t *buf, size_t len, uint16_t *total,
    char *why, size_t cap);

/* A whole configuration of len bytes for a device at `speed`. */
int desc_config(const uint8_t *blob, size_t len, int speed,
    struct desc_cfg *cfg, char *why, size_t cap);

/* String descriptor 0 (§9.6.7): the language to ask for, 0x0409 when the
 * device lists it, else its first; PB_EINVAL when it lists none. */
int desc_langid(const uint8_t *buf, size_t len, uint16_t *langid);

/* A string descriptor as printable ASCII (anything else becomes '?',
 * and with `word` set, spaces and '=' become '_', so it is one property
 * value); PB_EINVAL when it is not a string descriptor. */
int desc_string(const uint8_t *buf, size_t len, char *out, size_t cap,
    int word);

/* "low", "full", "high", "super", "super+" ("?" for anything else). */
const char *desc_speed_name(int speed);

#endif
