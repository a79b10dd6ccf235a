/*
 * desc.h - what usb-hub reads from outside and must not trust: the hub
 * descriptor (USB 2.0 §11.23.2.1, USB 3.2 §10.15.2.1), the interface's
 * descriptors (its status change endpoint) and the port chain of the
 * hub's place (`dev=` of its `usb` resource).  Pure functions, no hub
 * services: the host test and the fuzzer (tests/fuzz/fuzzmod_usb_hub.c)
 * call them directly.
 */
#ifndef PB_USBHUB_DESC_H
#define PB_USBHUB_DESC_H

#include <stddef.h>
#include <stdint.h>

/* 15 ports at most: a port number is one nibble of the route string
 * (xHCI 1.2 §8.9), and USB 3.2 §10.15.2.1 says so for SuperSpeed hubs. */
#define HUB_PORTS_MAX 15
/* Hubs in a row below a root port (USB 2.0 §4.1.1: 7 tiers, the root
 * hub's and the last device's among them). */
#define HUB_CHAIN_MAX 5
/* The longest descriptor asked for: a USB 2.0 hub of 255 ports has
 * 7 + 2 * 32 bytes; anything longer is cut at this. */
#define HUB_DESC_ASK 71
#define HUB_SS_DESC_LEN 12

/* USB 2.0 Table 11-13: the fixed part; DeviceRemovable (one bit per
 * port and bit 0, rounded up to bytes) and the legacy PortPwrCtrlMask
 * follow. */
struct usb_hub_desc {
	uint8_t bDescLength;
	uint8_t bDescriptorType;	/* 0x29 */
	uint8_t bNbrPorts;
	uint16_t wHubCharacteristics;
	uint8_t bPwrOn2PwrGood;		/* 2 ms units */
	uint8_t bHubContrCurrent;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_hub_desc) == 7, "usb 2 hub desc layout");

/* USB 3.2 Table 10-3: always 12 bytes. */
struct usb_ss_hub_desc {
	uint8_t bDescLength;
	uint8_t bDescriptorType;	/* 0x2a */
	uint8_t bNbrPorts;
	uint16_t wHubCharacteristics;
	uint8_t bPwrOn2PwrGood;
	uint8_t bHubContrCurrent;
	uint8_t bHubHdrDecLat;
	uint16_t wHubDelay;
	uint16_t DeviceRemovable;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_ss_hub_desc) == 12, "usb 3 hub desc layout");

/* wHubCharacteristics bits 6:5 (USB 2.0 Table 11-13): the TT think time,
 * in units of 8 full-speed bit times less one. */
#define HUB_CHAR_TTTT(c) (((c) >> 5) & 3u)

/* The hub descriptor, checked. */
struct hub_desc {
	uint8_t nports;		/* 1..HUB_PORTS_MAX */
	uint8_t ttt;		/* 0-3 */
	uint16_t characteristics;
	uint16_t pwr_good_ms;	/* bPwrOn2PwrGood x 2 */
};

/* The status change endpoint (USB 2.0 §11.12.1), from the interface's
 * descriptors. */
struct hub_ep {
	uint8_t addr;		/* bit 7 set: IN */
	uint8_t interval;
	uint16_t mps;
};

/* Check the len bytes a GET_DESCRIPTOR gave (ss: a USB 3 hub's, type
 * 0x2a); PB_OK fills *out, an error writes why in `why` (one phrase). */
int hub_desc_parse(const uint8_t *buf, size_t len, int ss,
    struct hub_desc *out, char *why, size_t cap);

/* The first interrupt IN endpoint among an interface's descriptors (as
 * usb_ops.descriptors gives them); PB_OK or PB_ENOENT with why. */
int hub_find_status_ep(const uint8_t *d, size_t len, struct hub_ep *ep,
    char *why, size_t cap);

/* Ports between the root and the device at `dev` (its `dev=` property,
 * "pci:00:04.0/usb:5.2" -> 2), or in its resource name ("usb:1-5.2-0" ->
 * 2); 0 when it cannot be read. */
unsigned hub_chain_from_dev(const char *dev);
unsigned hub_chain_from_name(const char *name);

#endif
