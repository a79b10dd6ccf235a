/*
 * usb.h - USB in two interfaces, shaped like Fuchsia's usb-hci and
 * usb-bus rather than EFI_USB2_HC (whose synchronous transfers keyed by a
 * device address do not fit xHCI, which assigns addresses itself):
 *
 *   `usb-hci` 1.2  a host controller (xhci), one resource per controller,
 *                  `usb-hci:xhci0` with `path=pci:00:04.0 ports=8`.  Its one
 *                  client is the bus driver.
 *   `usb` 1.1      one interface of one attached device, published by the
 *                  bus driver (`usb`), one client each: the class driver
 *                  loaded for it by bind rule (usb-kbd, usb-storage,
 *                  usb-hub), as PCI drivers load for `pci` functions.
 *
 * Who does what:
 *   - the controller driver owns the rings, the slots and the root ports:
 *     it resets a root port when something connects, and tells the bus;
 *     it computes route strings and transaction-translator fields from
 *     the parents the bus names;
 *   - the bus driver numbers devices (`dev`, its own numbers, stable
 *     across a controller swap), reads their descriptors, chooses the
 *     configuration, enables its endpoints, publishes one `usb` resource
 *     per interface, and forwards its class drivers' requests;
 *   - a hub class driver (usb-hub) resets its own ports and tells the bus
 *     what it found there (USB_OP_PORT_ON/OFF); the bus enumerates it.
 *
 * `usb` resource properties (bind rules match them, values in hex):
 *   vid=0627 pid=0001 class=03 subclass=01 protocol=01 if=0 speed=full
 *   path=pci:00:04.0/usb:5.2/if:0 dev=pci:00:04.0/usb:5.2 serial=...
 * `dev` is the device's place: the controller's PCI function, then the
 * root port and each hub port on the way, counted from 1 - the spelling
 * efi/devpath.c gives the firmware's handle, so a disk's `path=` (dev
 * then `/lun:L`) pairs with the firmware's at the takeover.  Resource
 * names: `usb:1-5.2-0` (controller 1, ports 5.2, interface 0).
 *
 * Everything is a request.  Transfers and the commands that set a device
 * up (xHCI's Enable Slot/Address Device, Configure Endpoint, Reset
 * Endpoint ...) take time on the controller, so both are a struct
 * usb_req that completes once, asynchronously, like a block_req:
 *   - the client fills op, ep, the op's arguments, segs/nseg/length and
 *     `done` (its own work item, hub->work_init), and calls submit;
 *   - submit answers PB_OK (the provider owns the request and its
 *     buffers until it completes) or an error (refused, nothing happens);
 *   - the provider completes it exactly once: sets status and actual and
 *     posts `done` (hub->work_post), never calling the client directly.
 * Requests on one endpoint complete in the order they were submitted.
 *
 * Status: PB_OK (a short IN transfer is PB_OK with `actual` < length
 * unless USB_REQ_SHORT_ERR), USB_ESTALL (the endpoint halted: clear it
 * with USB_OP_CLEAR_HALT before using it again), PB_EIO (transaction or
 * babble error, after the provider's bounded retries), PB_ETIMEDOUT (a
 * command the controller never answered), PB_ECANCELED (cancelled, or the
 * device went), PB_ENODEV (no such device or endpoint), PB_EINVAL.
 *
 * Swaps.  A `usb` client never sees a controller swap: the old controller
 * driver exports the requests it has not completed (USB_HCI_STATE_VERSION:
 * a list of pointers, oldest first) and the new one holds them; the bus,
 * told PB_EV_REBOUND, enumerates every device again through the new
 * controller under the same `dev` number (matched by parent and port, and
 * vid/pid/serial), enables the same endpoints, replays the requests its
 * class drivers marked USB_REQ_REPLAY (SET_PROTOCOL, SET_IDLE, the LEDs,
 * a hub's port power), then sends USB_OP_RESUME: the held requests run.
 * Requests a class driver submits meanwhile wait in the bus.  A device
 * that does not come back within 2 s is removed: its held requests
 * complete with PB_ECANCELED and its resources are withdrawn.
 *
 * Concurrency as everywhere (pb.h): one module's handlers and work run one
 * at a time; a provider keeps state shared by its clients consistent.
 */
#ifndef PB_ABI_USB_H
#define PB_ABI_USB_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define USB_HCI_IFACE "usb-hci"
#define USB_HCI_MAJOR 1
#define USB_HCI_MINOR 2

#define USB_IFACE "usb"
#define USB_MAJOR 1
#define USB_MINOR 1

/* The endpoint halted (STALL handshake): USB_OP_CLEAR_HALT clears it. */
#define USB_ESTALL (-64)

/* --- Chapter 9 of USB 2.0 (and 3.2 where it adds) ------------------- */

/* §9.3: the SETUP packet of a control transfer. */
struct usb_setup {
	uint8_t bmRequestType;
	uint8_t bRequest;
	uint16_t wValue;
	uint16_t wIndex;
	uint16_t wLength;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_setup) == 8, "usb_setup layout");

/* bmRequestType (§9.3.1) */
#define USB_DIR_IN		0x80
#define USB_TYPE_STANDARD	0x00
#define USB_TYPE_CLASS		0x20
#define USB_TYPE_VENDOR		0x40
#define USB_RECIP_DEVICE	0x00
#define USB_RECIP_INTERFACE	0x01
#define USB_RECIP_ENDPOINT	0x02
#define USB_RECIP_OTHER		0x03	/* a hub's port */

/* Standard requests (§9.4, Table 9-4). */
enum usb_request {
	USB_REQ_GET_STATUS = 0,
	USB_REQ_CLEAR_FEATURE = 1,
	USB_REQ_SET_FEATURE = 3,
	USB_REQ_SET_ADDRESS = 5,
	USB_REQ_GET_DESCRIPTOR = 6,
	USB_REQ_GET_CONFIGURATION = 8,
	USB_REQ_SET_CONFIGURATION = 9,
	USB_REQ_GET_INTERFACE = 10,
	USB_REQ_SET_INTERFACE = 11,
};

#define USB_FEATURE_ENDPOINT_HALT 0	/* §9.4, Table 9-6 */

/* Descriptor types (§9.4, Table 9-5; USB 3.2 Table 9-6; HID 1.11 §7.1;
 * USB 2.0 §11.23.2.1 and USB 3.2 §10.15.2.1 for hubs). */
enum usb_desc_type {
	USB_DT_DEVICE = 1,
	USB_DT_CONFIG = 2,
	USB_DT_STRING = 3,
	USB_DT_INTERFACE = 4,
	USB_DT_ENDPOINT = 5,
	USB_DT_DEVICE_QUALIFIER = 6,
	USB_DT_BOS = 0x0f,
	USB_DT_HID = 0x21,
	USB_DT_HUB = 0x29,
	USB_DT_SS_HUB = 0x2a,
	USB_DT_SS_EP_COMP = 0x30,
};

/* Class codes the drivers here bind to (usb.org "Defined Class Codes"). */
#define USB_CLASS_HID		0x03
#define USB_CLASS_STORAGE	0x08
#define USB_CLASS_HUB		0x09

/* §9.6.1 */
struct usb_device_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdUSB;
	uint8_t bDeviceClass;
	uint8_t bDeviceSubClass;
	uint8_t bDeviceProtocol;
	uint8_t bMaxPacketSize0;	/* 3.x devices: an exponent of 2 */
	uint16_t idVendor;
	uint16_t idProduct;
	uint16_t bcdDevice;
	uint8_t iManufacturer;
	uint8_t iProduct;
	uint8_t iSerialNumber;
	uint8_t bNumConfigurations;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_device_desc) == 18, "device desc layout");

/* §9.6.3 */
struct usb_config_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t wTotalLength;
	uint8_t bNumInterfaces;
	uint8_t bConfigurationValue;
	uint8_t iConfiguration;
	uint8_t bmAttributes;
	uint8_t bMaxPower;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_config_desc) == 9, "config desc layout");

/* §9.6.5 */
struct usb_interface_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint8_t bInterfaceNumber;
	uint8_t bAlternateSetting;
	uint8_t bNumEndpoints;
	uint8_t bInterfaceClass;
	uint8_t bInterfaceSubClass;
	uint8_t bInterfaceProtocol;
	uint8_t iInterface;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_interface_desc) == 9, "interface desc layout");

/* §9.6.6 */
struct usb_endpoint_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint8_t bEndpointAddress;	/* bit 7: IN */
	uint8_t bmAttributes;		/* bits 1:0: enum usb_ep_type */
	uint16_t wMaxPacketSize;	/* bits 10:0 size, 12:11 extra (HS) */
	uint8_t bInterval;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_endpoint_desc) == 7, "endpoint desc layout");

enum usb_ep_type {
	USB_EP_CONTROL = 0,
	USB_EP_ISOCH = 1,
	USB_EP_BULK = 2,
	USB_EP_INTERRUPT = 3,
};

/* USB 3.2 §9.6.7: follows each endpoint descriptor of a SuperSpeed
 * device. */
struct usb_ss_ep_comp_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint8_t bMaxBurst;
	uint8_t bmAttributes;
	uint16_t wBytesPerInterval;
} __attribute__((packed));
_Static_assert(sizeof(struct usb_ss_ep_comp_desc) == 6, "ss comp layout");

/* --- Speeds ---------------------------------------------------------- */

enum usb_speed {
	USB_SPEED_NONE = 0,
	USB_SPEED_LOW = 1,	/* 1.5 Mb/s */
	USB_SPEED_FULL = 2,	/* 12 Mb/s */
	USB_SPEED_HIGH = 3,	/* 480 Mb/s */
	USB_SPEED_SUPER = 4,	/* 5 Gb/s */
	USB_SPEED_SUPER_PLUS = 5,	/* 10 Gb/s and up */
};

/* --- Requests -------------------------------------------------------- */

enum usb_op {
	/* Both interfaces. */
	USB_OP_XFER = 1,	/* a transfer on `ep` (0: control, with setup) */
	USB_OP_CLEAR_HALT = 2,	/* `usb`: CLEAR_FEATURE(ENDPOINT_HALT) to the
				 * device and the controller's endpoint reset;
				 * `usb-hci`: the controller's side only (xHCI
				 * Reset Endpoint + Set TR Dequeue Pointer) */
	/* `usb`, from a hub class driver about its own ports. */
	USB_OP_HUB_CONFIG = 3,	/* u.hub: this device is a hub with ... */
	USB_OP_PORT_ON = 4,	/* u.port: port was reset and is enabled at
				 * speed; completes once the device there is
				 * enumerated (or not: status) */
	USB_OP_PORT_OFF = 5,	/* u.port: what was on port has gone */
	/* `usb` 1.1, from any class driver: a stick or a device that no
	 * longer answers even its class's own reset (BOT reset recovery)
	 * may answer again after a port reset (HARDWARE.md; Linux's
	 * usb_reset_device).  The bus cancels what the device has at the
	 * controller (PB_ECANCELED), frees its slot, resets its port and
	 * sets it up again under the same dev: address, the same endpoints
	 * (their halts and toggles cleared), SET_CONFIGURATION, the
	 * replayed requests.  Requests submitted meanwhile wait in the bus.
	 * Completes PB_OK once the device is back (usb_info.resets counts
	 * it; what the device kept, such as a stick's pending sense, is
	 * gone), else an error, and the device is removed (it was not
	 * found again within 2 s, or is another device now).  Behind a hub,
	 * the hub's driver resets the port (USB_OP_HUB_RESET_WAIT).  Refused
	 * PB_ENOTSUP behind a hub whose driver keeps no HUB_RESET_WAIT or on
	 * a controller older than usb-hci 1.2, PB_EBUSY while one runs or
	 * the device is not set up. */
	USB_OP_RESET_DEVICE = 6,
	/* `usb` 1.1, from a hub's driver: a standing request that completes
	 * with u.port.port when the bus wants that port reset (a device
	 * there is being reset, USB_OP_RESET_DEVICE); the driver resets the
	 * port and sends USB_OP_PORT_ON again, as after a connect, and
	 * submits this again.  It is on no endpoint: cancel(0xff) ends it
	 * with the rest, cancel(USB_EP_HUB_RESET_WAIT) alone (a driver
	 * quiescing for a swap).  PB_ECANCELED: the hub went, or a cancel. */
	USB_OP_HUB_RESET_WAIT = 7,
	/* `usb-hci` only: the bus setting devices up. */
	USB_OP_ADD = 16,	/* u.add: enable a slot and address `dev` */
	USB_OP_EP0_MPS = 17,	/* u.mps: the default pipe's max packet */
	USB_OP_EP_ENABLE = 18,	/* u.ep: add an endpoint (Configure Endpoint) */
	USB_OP_EP_DISABLE = 19,	/* `ep`: drop it; its requests are cancelled */
	USB_OP_HUB = 20,	/* u.hub: `dev` is a hub (slot context fields) */
	USB_OP_REMOVE = 21,	/* `dev` has gone: cancel all, free the slot */
	USB_OP_RESUME = 22,	/* `dev` is set up again after a swap: run
				 * the requests held for it */
	USB_OP_WAIT_EVENT = 23,	/* a standing request: completes with
				 * u.event when a root port changes or a
				 * device stops answering; re-submit it */
	/* 1.2: u.port.port: reset that root port again (its device was
	 * REMOVEd first: USB_OP_RESET_DEVICE).  Completes PB_OK once the
	 * reset is under way; the port then comes back as USB_EVENT_CONNECT,
	 * as a device plugged in does, or stays silent when it does not
	 * come back (the bus's deadline).  PB_ENODEV: nothing enabled on
	 * that port. */
	USB_OP_PORT_RESET = 24,
	/* 1.2: a device ADDed with USB_REQ_ADD_DEFAULT gets its address
	 * now (xHCI Address Device with BSR=0: the controller sends
	 * SET_ADDRESS).  PB_ENODEV: no such device waiting for it. */
	USB_OP_SET_ADDRESS = 25,
};

#define USB_EP_HUB_RESET_WAIT 0xfe	/* cancel(): the HUB_RESET_WAIT */

#define USB_REQ_SHORT_ERR 0x1u	/* a short IN transfer is PB_EIO */
#define USB_REQ_ZLP	0x2u	/* end an OUT that fills its last packet
				 * with a zero-length packet */
#define USB_REQ_REPLAY	0x4u	/* (control, host to device) state the
				 * device keeps: the bus replays it after
				 * the device is enumerated again */
#define USB_REQ_ADD_DEFAULT 0x8u	/* `usb-hci` 1.2, ADD: the slot and its
				 * default pipe only, no SET_ADDRESS (xHCI
				 * Address Device with BSR=1): the device
				 * answers at address 0, its descriptor may
				 * be read, until USB_OP_SET_ADDRESS.  The
				 * order Windows and Linux's "new scheme"
				 * use; some devices want it, others the
				 * address first */

/* One piece of a request's buffer, as struct block_seg: `bus` from
 * hub->dma_addr (or the allocation), `va` for whoever copies. */
struct usb_seg {
	void *va;
	uint64_t bus;
	uint32_t len;
	uint32_t reserved;
};
_Static_assert(sizeof(struct usb_seg) == 24, "usb_seg layout");

enum usb_event_kind {
	USB_EVENT_CONNECT = 1,	/* root port `port` connected and enabled at
				 * `speed` (the controller reset it) */
	USB_EVENT_DISCONNECT = 2,	/* root port `port` lost its device */
	USB_EVENT_LOST = 3,	/* device `dev` stopped answering; the
				 * controller disabled it (one log line) */
	USB_EVENT_OVERFLOW = 4,	/* events were dropped: ask no more, scan
				 * the ports again (USB_OP_WAIT_EVENT with
				 * ep = 1 reports every connected port) */
};

#define USB_SCRATCH_BUS 32	/* bytes of the bus driver's scratch */
#define USB_SCRATCH_HCI 96	/* bytes of the controller driver's */

struct usb_req {
	uint32_t size;		/* sizeof(struct usb_req) as built */
	uint8_t op;		/* enum usb_op */
	uint8_t ep;		/* endpoint address, bit 7 IN; 0: default pipe */
	uint16_t flags;		/* USB_REQ_* */
	uint32_t dev;		/* `usb-hci`: the bus's device number; set by
				 * the bus, 0 from class drivers */
	uint32_t length;	/* data bytes, the sum of segs' len */
	union {
		struct usb_setup setup;	/* USB_OP_XFER on ep 0 */
		struct {		/* USB_OP_ADD */
			uint32_t parent;	/* hub's dev, 0: a root port */
			uint8_t port;		/* on that hub, from 1 */
			uint8_t speed;		/* enum usb_speed */
		} add;
		struct {		/* USB_OP_EP0_MPS */
			uint16_t mps;
		} mps;
		struct {		/* USB_OP_EP_ENABLE */
			const struct usb_endpoint_desc *desc;
			const struct usb_ss_ep_comp_desc *ss; /* or NULL */
		} ep;
		struct {		/* USB_OP_HUB_CONFIG, USB_OP_HUB */
			uint8_t nports;
			uint8_t mtt;	/* multiple transaction translators */
			uint8_t ttt;	/* TT think time, 0-3 (x 8 FS bit times) */
		} hub;
		struct {		/* USB_OP_PORT_ON/OFF */
			uint8_t port;	/* from 1 */
			uint8_t speed;	/* enum usb_speed */
		} port;
		struct {		/* USB_OP_WAIT_EVENT, as completed */
			uint8_t kind;	/* enum usb_event_kind */
			uint8_t port;
			uint8_t speed;
			uint8_t reserved;
			uint32_t dev;
		} event;
		uint64_t raw[2];
	} u;
	const struct usb_seg *segs;	/* the client's, until completion */
	uint16_t nseg;
	uint16_t reserved;
	uint32_t actual;	/* bytes transferred, set at completion */
	int32_t status;		/* set by the provider before `done` */
	uint32_t reserved2;
	struct pb_work done;	/* the client's completion work */
	void *client_data;	/* free for the client */
	/* The providers', from submit to completion: the bus driver's while
	 * it holds or forwards the request, the controller driver's while
	 * the controller has it.  8-byte aligned. */
	uint64_t bus_scratch[USB_SCRATCH_BUS / 8];
	uint64_t hci_scratch[USB_SCRATCH_HCI / 8];
};
_Static_assert(offsetof(struct usb_req, u) == 16, "usb_req layout");
_Static_assert(offsetof(struct usb_req, done) == 56, "usb_req layout");
_Static_assert(sizeof(struct usb_req) == 232, "usb_req layout");

/* --- `usb-hci` ------------------------------------------------------- */

struct usb_hci_info {
	uint32_t size;		/* set by the caller: the bytes it has */
	uint16_t nports;	/* root ports, numbered from 1 */
	uint16_t max_devices;	/* slots */
	uint32_t max_transfer;	/* bytes per request */
	uint16_t max_segments;	/* per request */
	uint16_t flags;		/* USB_HCI_FRESH (0 before it was defined) */
	uint64_t dma_limit;	/* highest bus address a segment may use */
};
_Static_assert(sizeof(struct usb_hci_info) == 24, "usb_hci_info layout");

/* The driver did not take over its predecessor's requests (started
 * afresh: a restart whose state could not be exported): after
 * PB_EV_REBOUND, what the old driver held will never complete. */
#define USB_HCI_FRESH 0x1u

struct usb_hci_ops {
	int (*info)(void *ctx, struct usb_hci_info *info);
	/* Take a request (above). */
	int (*submit)(void *ctx, struct usb_req *req);
	/* Every request of `dev` on `ep` (0xff: on all its endpoints)
	 * completes, PB_ECANCELED for those not done; the completions
	 * follow (the controller stops the endpoint first). */
	int (*cancel)(void *ctx, uint32_t dev, uint8_t ep);
	/* 1.1: the class driver whose `done` items `owner` owns has gone
	 * (PB_EV_CLIENT_GONE): its requests of `dev` on `ep` (0xff: all)
	 * leave the controller without completing (nothing is written into
	 * them, nothing posted), their endpoints stopped first (other
	 * requests on them ahead of its own end PB_ECANCELED).  PB_OK: the
	 * controller no longer reads or writes its buffers; PB_EBUSY: it
	 * could not be stopped in time (the caller tells the hub, which
	 * then keeps the client's memory). */
	int (*forget)(void *ctx, uint32_t dev, uint8_t ep,
	    const struct pb_module *owner);
};

/* The state a controller driver exports on a swap. */
#define USB_HCI_STATE_VERSION 0x05b0c001u

struct usb_hci_state {
	uint32_t nreq;
	uint32_t reserved;
	/* Followed by nreq pointers (struct usb_req *), oldest first. */
};

/* --- `usb` ----------------------------------------------------------- */

struct usb_info {
	uint32_t size;		/* set by the caller: the bytes it has */
	uint16_t vid, pid;
	uint16_t bcd_device;
	uint16_t ep0_mps;
	uint8_t speed;		/* enum usb_speed */
	uint8_t iface;		/* bInterfaceNumber */
	uint8_t alt;		/* bAlternateSetting */
	uint8_t config;		/* bConfigurationValue */
	uint8_t cls, subclass, protocol;	/* the interface's */
	uint8_t reserved;
	uint32_t max_transfer;	/* bytes per request */
	uint16_t max_segments;
	uint16_t reserved2;
	uint64_t dma_limit;
	/* Sized: present when size says so (a bus before it answers 40). */
	uint32_t resets;	/* times the device was reset and set up
				 * again under the same dev (its controller
				 * swapped or restarted): what it kept, such
				 * as keys held down, is gone */
	uint32_t reserved3;
};
_Static_assert(sizeof(struct usb_info) == 48, "usb_info layout");

struct usb_ops {
	int (*info)(void *ctx, struct usb_info *info);
	/* The interface's descriptors as the device gave them: its interface
	 * descriptor, then all up to the next interface descriptor (class
	 * descriptors, endpoints, SuperSpeed companions).  *len is the whole
	 * length even when cap is smaller; PB_OK copies min(cap, *len). */
	int (*descriptors)(void *ctx, void *buf, size_t cap, size_t *len);
	/* Take a request: USB_OP_XFER on ep 0 or on one of this interface's
	 * endpoints (enabled by the bus with the configuration), CLEAR_HALT,
	 * and from a hub's driver HUB_CONFIG, PORT_ON, PORT_OFF.  The bus
	 * refuses SET_ADDRESS, SET_CONFIGURATION and SET_INTERFACE. */
	int (*submit)(void *ctx, struct usb_req *req);
	/* As usb_hci_ops.cancel, for this interface's endpoints. */
	int (*cancel)(void *ctx, uint8_t ep);
};

#endif
