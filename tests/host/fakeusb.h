/*
 * fakeusb.h - a fake `usb` interface (abi/usb.h) for host tests of class
 * drivers (usb-kbd, usb-storage, usb-hub): what the bus driver would give
 * one interface of one device.
 *
 * The test owns the device: it sets the interface's info and descriptors,
 * and a `device` callback that answers each request the driver submits
 * (fill the IN data, set actual and status, return 1 to complete it now,
 * or 0 to keep it held: an interrupt-IN request usually waits until the
 * test has something to report).  fakeusb_complete() finishes a held one
 * later.  The fake keeps the contract a real bus does: submit refuses what
 * the bus refuses (bad size, ops a class driver may not send, endpoints
 * not of this interface, SET_ADDRESS/SET_CONFIGURATION/SET_INTERFACE,
 * segments that do not add up to length) and completes what it takes
 * exactly once by posting `done`; cancel completes the held requests of
 * an endpoint with PB_ECANCELED.  Every request is traced.  Work items are
 * fakehub.h's (run_posted runs the completions).
 *
 * USB_OP_RESET_DEVICE (`usb` 1.1): refused PB_EINVAL unless reset_device
 * is set, as a 1.0 bus refuses an op it does not know.  Taken, it ends
 * what the device has at the controller (held requests PB_ECANCELED),
 * then completes with reset_status, or is held (reset_hold) until the
 * test ends it with fakeusb_reset_done() or a cancel does.  Completed
 * PB_OK, info.resets counts it and port_reset tells the device.
 *
 * USB_OP_HUB_RESET_WAIT (`usb` 1.1, a hub's driver): refused PB_EINVAL
 * unless hub_reset_wait is set; taken, it is held (the test ends it with
 * fakeusb_hub_reset_port) until a cancel of 0xff or
 * USB_EP_HUB_RESET_WAIT.
 */
#ifndef PB_TESTS_FAKEUSB_H
#define PB_TESTS_FAKEUSB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/usb.h"
#include "fakehub.h"

#ifndef FAKE
#define FAKE static __attribute__((unused))
#endif

#define FAKEUSB_HELD 32
#define FAKEUSB_TRACE 256
#define FAKEUSB_DESC 512

struct fakeusb;
/* Answer r: return 1 when it is done (status and actual set), 0 to hold
 * it.  The data of an IN transfer goes into r->segs[...].va. */
typedef int (*fakeusb_device_fn)(struct fakeusb *u, struct usb_req *r);

struct fakeusb {
	struct usb_info info;		/* what info() answers */
	uint8_t desc[FAKEUSB_DESC];	/* what descriptors() answers */
	size_t desc_len;
	fakeusb_device_fn device;	/* NULL: every request completes PB_OK */
	void *device_data;		/* the test's */
	int submit_err;			/* submit() refuses with this */
	int lie_busy;			/* submit() takes the next request
					 * but answers PB_EBUSY (once) */
	int cancel_keeps;		/* cancel() gives nothing back now
					 * (a controller stopping the
					 * endpoint first) */
	int hub;			/* accept HUB_CONFIG, PORT_ON/OFF */
	int reset_device;		/* take USB_OP_RESET_DEVICE (1.1) */
	int reset_refuse;		/* ... but refuse it with this */
	int reset_status;		/* its completion's status */
	int reset_hold;			/* hold it (the test ends it) */
	int hub_reset_wait;		/* take USB_OP_HUB_RESET_WAIT (1.1) */
	unsigned reset_devices;		/* RESET_DEVICE requests taken */
	/* The device was reset and set up again (the bus completes the
	 * RESET_DEVICE PB_OK); NULL: nothing to tell. */
	void (*port_reset)(struct fakeusb *u);

	struct usb_req *held[FAKEUSB_HELD];
	unsigned nheld;
	unsigned submits, refused, completions, cancels;
	struct {
		uint8_t op, ep;
		uint16_t flags;
		struct usb_setup setup;
		uint32_t length;
		uint64_t raw[2];
	} trace[FAKEUSB_TRACE];
	unsigned ntrace;
};

FAKE void
fakeusb_init(struct fakeusb *u, uint8_t cls, uint8_t subclass,
    uint8_t protocol, uint8_t speed)
{
	memset(u, 0, sizeof(*u));
	u->info = (struct usb_info){ .size = sizeof(struct usb_info),
	    .vid = 0x1234, .pid = 0x5678, .ep0_mps = 64, .speed = speed,
	    .config = 1, .cls = cls, .subclass = subclass,
	    .protocol = protocol, .max_transfer = 1u << 20,
	    .max_segments = 32, .dma_limit = ~0ull };
}

/* Append one descriptor (bLength is len) to the interface's blob. */
FAKE void
fakeusb_add_desc(struct fakeusb *u, const void *d, size_t len)
{
	if (u->desc_len + len <= sizeof(u->desc)) {
		memcpy(u->desc + u->desc_len, d, len);
		u->desc_len += len;
	}
}

/* An interface descriptor for info's class triple and n endpoints. */
FAKE void
fakeusb_add_interface(struct fakeusb *u, uint8_t nendpoints)
{
	struct usb_interface_desc d = { .bLength = 9,
	    .bDescriptorType = USB_DT_INTERFACE,
	    .bInterfaceNumber = u->info.iface, .bNumEndpoints = nendpoints,
	    .bInterfaceClass = u->info.cls,
	    .bInterfaceSubClass = u->info.subclass,
	    .bInterfaceProtocol = u->info.protocol };

	fakeusb_add_desc(u, &d, sizeof(d));
}

FAKE void
fakeusb_add_endpoint(struct fakeusb *u, uint8_t addr, uint8_t type,
    uint16_t mps, uint8_t interval)
{
	struct usb_endpoint_desc d = { .bLength = 7,
	    .bDescriptorType = USB_DT_ENDPOINT, .bEndpointAddress = addr,
	    .bmAttributes = type, .wMaxPacketSize = mps,
	    .bInterval = interval };

	fakeusb_add_desc(u, &d, sizeof(d));
}

FAKE int
fakeusb_info(void *ctx, struct usb_info *info)
{
	struct fakeusb *u = ctx;
	uint32_t cap;

	if (!info || info->size < sizeof(info->size))
		return PB_EINVAL;
	cap = info->size < sizeof(u->info) ? info->size : sizeof(u->info);
	memcpy(info, &u->info, cap);
	info->size = cap;
	return PB_OK;
}

FAKE int
fakeusb_descriptors(void *ctx, void *buf, size_t cap, size_t *len)
{
	struct fakeusb *u = ctx;

	if (!len || (cap && !buf))
		return PB_EINVAL;
	*len = u->desc_len;
	memcpy(buf, u->desc, cap < u->desc_len ? cap : u->desc_len);
	return PB_OK;
}

/* Is ep one of this interface's endpoints (from its descriptors)? */
FAKE int
fakeusb_has_ep(const struct fakeusb *u, uint8_t ep)
{
	for (size_t at = 0; at + 2 <= u->desc_len && u->desc[at];
	    at += u->desc[at])
		if (u->desc[at + 1] == USB_DT_ENDPOINT && at + 7 <= u->desc_len &&
		    u->desc[at + 2] == ep)
			return 1;
	return 0;
}

/* What the bus refuses at submit. */
FAKE int
fakeusb_check(const struct fakeusb *u, const struct usb_req *r)
{
	uint64_t total = 0;

	if (r->size < sizeof(*r))
		return PB_EINVAL;
	switch (r->op) {
	case USB_OP_XFER:
		break;
	case USB_OP_CLEAR_HALT:
		return r->ep && fakeusb_has_ep(u, r->ep) ? PB_OK : PB_EINVAL;
	case USB_OP_HUB_CONFIG:
	case USB_OP_PORT_ON:
	case USB_OP_PORT_OFF:
		return u->hub ? PB_OK : PB_EINVAL;
	case USB_OP_RESET_DEVICE:
		if (!u->reset_device || r->ep || r->length || r->nseg)
			return PB_EINVAL;
		return u->reset_refuse;
	case USB_OP_HUB_RESET_WAIT:
		return u->hub_reset_wait && u->hub && !r->length ? PB_OK :
		    PB_EINVAL;
	default:
		return PB_EINVAL;
	}
	if (r->ep && !fakeusb_has_ep(u, r->ep))
		return PB_EINVAL;
	if (r->ep == 0) {
		uint8_t req = r->u.setup.bRequest;

		if ((r->u.setup.bmRequestType & 0x60) == USB_TYPE_STANDARD &&
		    (req == USB_REQ_SET_ADDRESS ||
		    req == USB_REQ_SET_CONFIGURATION ||
		    req == USB_REQ_SET_INTERFACE))
			return PB_EINVAL;
		if (r->u.setup.wLength != r->length)
			return PB_EINVAL;
	}
	if (r->length && (!r->segs || !r->nseg))
		return PB_EINVAL;
	for (unsigned i = 0; i < r->nseg; i++) {
		if (!r->segs[i].va || !r->segs[i].len)
			return PB_EINVAL;
		total += r->segs[i].len;
	}
	return total == r->length ? PB_OK : PB_EINVAL;
}

FAKE void
fakeusb_complete(struct fakeusb *u, struct usb_req *r)
{
	for (unsigned i = 0; i < u->nheld; i++)
		if (u->held[i] == r) {
			memmove(&u->held[i], &u->held[i + 1],
			    (u->nheld - i - 1) * sizeof(u->held[0]));
			u->nheld--;
			break;
		}
	u->completions++;
	fake_work_post(NULL, &r->done);
}

/* The oldest held request on ep (any op), or NULL. */
FAKE struct usb_req *
fakeusb_held(const struct fakeusb *u, uint8_t ep)
{
	for (unsigned i = 0; i < u->nheld; i++)
		if (u->held[i]->ep == ep)
			return u->held[i];
	return NULL;
}

/* The RESET_DEVICE r ends with status: PB_OK, the device is back. */
FAKE void
fakeusb_reset_done(struct fakeusb *u, struct usb_req *r, int status)
{
	r->status = status;
	r->actual = 0;
	if (status == PB_OK) {
		u->info.resets++;
		if (u->port_reset)
			u->port_reset(u);
	}
	fakeusb_complete(u, r);
}

/* A RESET_DEVICE taken: what the device has at the controller ends
 * first, as the bus cancels it. */
FAKE void
fakeusb_reset(struct fakeusb *u, struct usb_req *r)
{
	u->reset_devices++;
	while (u->nheld) {
		u->held[0]->status = PB_ECANCELED;
		fakeusb_complete(u, u->held[0]);
	}
	if (!u->reset_hold) {
		fakeusb_reset_done(u, r, u->reset_status);
		return;
	}
	if (u->nheld == FAKEUSB_HELD) {
		fprintf(stderr, "fakeusb: more than %d held\n", FAKEUSB_HELD);
		abort();
	}
	u->held[u->nheld++] = r;	/* its status as submitted */
}

/* Requests of op traced (submitted, taken or refused). */
FAKE unsigned
fakeusb_traced(const struct fakeusb *u, uint8_t op)
{
	unsigned n = 0;

	for (unsigned i = 0; i < u->ntrace; i++)
		n += u->trace[i].op == op;
	return n;
}

/* What submit answers for a request it took. */
FAKE int
fakeusb_answer(struct fakeusb *u)
{
	if (!u->lie_busy)
		return PB_OK;
	u->lie_busy = 0;
	return PB_EBUSY;
}

FAKE int
fakeusb_submit(void *ctx, struct usb_req *r)
{
	struct fakeusb *u = ctx;
	int err, held_status;

	if (u->ntrace < FAKEUSB_TRACE) {
		u->trace[u->ntrace].op = r->op;
		u->trace[u->ntrace].ep = r->ep;
		u->trace[u->ntrace].flags = r->flags;
		u->trace[u->ntrace].setup = r->u.setup;
		u->trace[u->ntrace].length = r->length;
		memcpy(u->trace[u->ntrace].raw, r->u.raw, sizeof(r->u.raw));
		u->ntrace++;
	}
	if ((err = u->submit_err) || (err = fakeusb_check(u, r))) {
		u->refused++;
		return err;
	}
	u->submits++;
	if (r->op == USB_OP_RESET_DEVICE) {
		fakeusb_reset(u, r);
		return fakeusb_answer(u);
	}
	if (r->op == USB_OP_HUB_RESET_WAIT) {
		if (u->nheld == FAKEUSB_HELD)
			abort();
		u->held[u->nheld++] = r;
		return fakeusb_answer(u);
	}
	r->actual = 0;
	held_status = r->status;
	r->status = PB_OK;
	if (u->device && !u->device(u, r)) {
		if (u->nheld == FAKEUSB_HELD) {
			fprintf(stderr, "fakeusb: more than %d held\n",
			    FAKEUSB_HELD);
			abort();
		}
		/* As a bus: the status is written at completion only. */
		r->status = held_status;
		u->held[u->nheld++] = r;
		return fakeusb_answer(u);
	}
	if (!u->device)
		r->actual = r->length;
	fakeusb_complete(u, r);
	return fakeusb_answer(u);
}

FAKE int
fakeusb_cancel(void *ctx, uint8_t ep)
{
	struct fakeusb *u = ctx;
	struct usb_req *r;

	u->cancels++;
	if (u->cancel_keeps)
		return PB_OK;
	for (unsigned i = 0; i < u->nheld;) {
		r = u->held[i];
		if (ep != 0xff && (r->op == USB_OP_HUB_RESET_WAIT ?
		    ep != USB_EP_HUB_RESET_WAIT : r->ep != ep)) {
			i++;
			continue;
		}
		r->status = PB_ECANCELED;
		fakeusb_complete(u, r);
	}
	return PB_OK;
}

/* The bus asks the hub's driver to reset `port`: its held
 * HUB_RESET_WAIT completes with it.  0: none held. */
FAKE int
fakeusb_hub_reset_port(struct fakeusb *u, uint8_t port)
{
	for (unsigned i = 0; i < u->nheld; i++) {
		struct usb_req *r = u->held[i];

		if (r->op != USB_OP_HUB_RESET_WAIT)
			continue;
		r->u.port.port = port;
		r->status = PB_OK;
		fakeusb_complete(u, r);
		return 1;
	}
	return 0;
}

FAKE const struct usb_ops fakeusb_ops = {
	.info = fakeusb_info,
	.descriptors = fakeusb_descriptors,
	.submit = fakeusb_submit,
	.cancel = fakeusb_cancel,
};

/* Copy len bytes of src into r's IN buffer (at most r->length), set
 * actual; the helper a device callback uses to answer. */
FAKE void
fakeusb_reply(struct usb_req *r, const void *src, size_t len)
{
	size_t done = 0;

	if (len > r->length)
		len = r->length;
	for (unsigned i = 0; i < r->nseg && done < len; i++) {
		size_t n = r->segs[i].len < len - done ? r->segs[i].len :
		    len - done;

		memcpy(r->segs[i].va, (const uint8_t *)src + done, n);
		done += n;
	}
	r->actual = (uint32_t)done;
}

/* Gather r's OUT data into dst (at most cap bytes); returns the bytes. */
FAKE size_t
fakeusb_out_data(const struct usb_req *r, void *dst, size_t cap)
{
	size_t done = 0;

	for (unsigned i = 0; i < r->nseg && done < cap; i++) {
		size_t n = r->segs[i].len < cap - done ? r->segs[i].len :
		    cap - done;

		memcpy((uint8_t *)dst + done, r->segs[i].va, n);
		done += n;
	}
	return done;
}

#endif
