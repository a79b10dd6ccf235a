/*
 * fakehci.h - a fake `usb-hci` provider (abi/usb.h) with chapter-9
 * device models behind it, for host tests of the bus driver (mods/usb).
 *
 * The controller keeps the contract as xhci does: submit refuses what a
 * controller would (PB_EINVAL) and completes everything else exactly once
 * by posting the request's `done` (fakehub.h's fake_work_post: the test
 * runs them with run_posted()).  Data moves through the segments' bus
 * addresses (fakehub.h's fake_dma_va), so a bus driver that hands over a
 * CPU address is caught.  What it does:
 *   WAIT_EVENT   waits for an event (fh_plug, fh_unplug, fh_event); ep=1
 *                first reports every connected root port
 *   ADD          a slot for `dev` on (parent, port): resets the model
 *                there (a port reset: address 0 again) and addresses it;
 *                its default pipe starts at 8/64/512 bytes by speed; with
 *                USB_REQ_ADD_DEFAULT (traced add0:) it stays at address
 *                0 until SET_ADDRESS (addr:), answering control requests
 *   SET_ADDRESS  the address of a device ADDed so
 *   EP0_MPS      the default pipe's max packet
 *   XFER ep 0    the model answers chapter 9 (GET_DESCRIPTOR device,
 *                configuration, string; SET_CONFIGURATION; CLEAR_FEATURE
 *                (ENDPOINT_HALT)); anything else is logged and taken; an
 *                IN longer than the pipe's max packet while the device's
 *                is larger babbles (PB_EIO), as on the wire
 *   XFER ep N    needs EP_ENABLE; stalls when the model says so; else
 *                waits for fh_finish (a keyboard report, a bulk block)
 *   EP_ENABLE    checks the descriptor it points at (and the SuperSpeed
 *                companion of a SuperSpeed device)
 *   CLEAR_HALT, HUB, RESUME, REMOVE, cancel   as abi/usb.h says
 *   PORT_RESET   a root port with a device: the model's port resets
 *                counted, then USB_EVENT_CONNECT (none when the model
 *                says it does not come back)
 * Every operation is appended to `trace` as one word (fh_trace_* below),
 * so a test checks what was sent and in which order.  With `hold` set,
 * requests wait in `pend` until fh_step(); fh_swap() moves a controller's
 * unfinished requests to another one that holds them until RESUME.
 *
 * Models: fm_keyboard (QEMU's usb-kbd), fm_hub (usb-hub, 8 ports),
 * fm_stick (usb-storage, high or SuperSpeed), made by fm_* builders that
 * tests may bend (a wrong length, a zero max packet) before plugging.
 */
#ifndef PB_TESTS_FAKEHCI_H
#define PB_TESTS_FAKEHCI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/usb.h"
#include "fakehub.h"

#define FH_PORTS 8
#define FH_SLOTS 64
#define FH_PEND 128
#define FH_EVQ 32
#define FM_CFG 1024
#define FM_LOG 64

/* ---- device models ------------------------------------------------------ */

struct fmodel {
	uint8_t speed;
	uint8_t dd[18];
	uint8_t cfg[FM_CFG];
	uint16_t cfg_len;
	const char *str[4];		/* 1 manufacturer, 2 product, 3 serial */
	struct fmodel *ports[FH_PORTS + 1];	/* a hub's, from 1 */
	/* state */
	int attached;
	uint8_t config;			/* SET_CONFIGURATION */
	uint8_t halted[32];		/* by endpoint: (addr & 15) | in << 4 */
	/* faults */
	int stall_dev;			/* GET_DESCRIPTOR(device) stalls n times */
	int fail_add;			/* ADD fails n times (PB_EIO) */
	int short_cfg;			/* the whole configuration comes short */
	int stall_ep;			/* this endpoint stalls its next XFER */
	int stall_strings;		/* every string request stalls */
	int hang_dev;			/* GET_DESCRIPTOR(device) never ends */
	int gone_after_reset;		/* PORT_RESET: it does not come back */
	int address_last;		/* SET_ADDRESS before its descriptor
					 * was read: no answer (ADD fails) */
	unsigned port_resets;		/* PORT_RESETs of its port */
	/* control requests other than GET_DESCRIPTOR, in order */
	struct usb_setup log[FM_LOG];
	uint8_t logdata[FM_LOG][8];
	unsigned nlog;
};

FAKE uint16_t
fm_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

FAKE void
fm_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

FAKE void
fm_device(struct fmodel *m, uint8_t speed, uint16_t vid, uint16_t pid,
    uint8_t cls, uint8_t mps0)
{
	memset(m, 0, sizeof(*m));
	m->speed = speed;
	m->dd[0] = 18;
	m->dd[1] = USB_DT_DEVICE;
	fm_put16(m->dd + 2, speed >= USB_SPEED_SUPER ? 0x0300 : 0x0200);
	m->dd[4] = cls;
	m->dd[7] = mps0;
	fm_put16(m->dd + 8, vid);
	fm_put16(m->dd + 10, pid);
	fm_put16(m->dd + 12, 0x0000);
	m->dd[14] = 1;
	m->dd[15] = 2;
	m->dd[16] = 3;
	m->dd[17] = 1;
	/* configuration 1, interfaces appended by fm_iface */
	m->cfg[0] = 9;
	m->cfg[1] = USB_DT_CONFIG;
	m->cfg[5] = 1;
	m->cfg[7] = 0xa0;
	m->cfg[8] = 50;
	m->cfg_len = 9;
	fm_put16(m->cfg + 2, 9);
	m->attached = 1;
}

FAKE void
fm_raw(struct fmodel *m, const uint8_t *d, size_t n)
{
	memcpy(m->cfg + m->cfg_len, d, n);
	m->cfg_len = (uint16_t)(m->cfg_len + n);
	fm_put16(m->cfg + 2, m->cfg_len);
}

FAKE void
fm_iface(struct fmodel *m, uint8_t num, uint8_t alt, uint8_t nep,
    uint8_t cls, uint8_t sub, uint8_t proto)
{
	const uint8_t d[9] = { 9, USB_DT_INTERFACE, num, alt, nep, cls, sub,
	    proto, 0 };

	fm_raw(m, d, sizeof(d));
	if (alt == 0)
		m->cfg[4]++;
}

FAKE void
fm_ep(struct fmodel *m, uint8_t addr, uint8_t type, uint16_t mps,
    uint8_t interval)
{
	uint8_t d[7] = { 7, USB_DT_ENDPOINT, addr, type, 0, 0, interval };

	fm_put16(d + 4, mps);
	fm_raw(m, d, sizeof(d));
	if (m->speed >= USB_SPEED_SUPER) {
		const uint8_t c[6] = { 6, USB_DT_SS_EP_COMP, 0, 0, 0, 0 };

		fm_raw(m, c, sizeof(c));
	}
}

/* QEMU's usb-kbd: 0627:0001, full speed, HID boot keyboard. */
FAKE void
fm_keyboard(struct fmodel *m)
{
	const uint8_t hid[9] = { 9, USB_DT_HID, 0x11, 0x01, 0, 1, 0x22, 63, 0 };

	fm_device(m, USB_SPEED_FULL, 0x0627, 0x0001, 0, 8);
	fm_iface(m, 0, 0, 1, USB_CLASS_HID, 1, 1);
	fm_raw(m, hid, sizeof(hid));
	fm_ep(m, 0x81, USB_EP_INTERRUPT, 8, 7);
	m->str[1] = "QEMU";
	m->str[2] = "QEMU USB Keyboard";
	m->str[3] = "68284-0000:00:04.0-5";
}

/* QEMU's usb-hub: 0409:55aa, full speed, 8 ports. */
FAKE void
fm_hub(struct fmodel *m)
{
	fm_device(m, USB_SPEED_FULL, 0x0409, 0x55aa, USB_CLASS_HUB, 8);
	m->dd[16] = 0;			/* no serial number */
	fm_iface(m, 0, 0, 1, USB_CLASS_HUB, 0, 0);
	fm_ep(m, 0x81, USB_EP_INTERRUPT, 2, 0xff);
	m->str[1] = "QEMU";
	m->str[2] = "QEMU USB Hub";
}

/* QEMU's usb-storage: 46f4:0001, bulk-only SCSI. */
FAKE void
fm_stick(struct fmodel *m, uint8_t speed)
{
	int ss = speed >= USB_SPEED_SUPER;

	fm_device(m, speed, 0x46f4, 0x0001, 0, ss ? 9 : 64);
	fm_iface(m, 0, 0, 2, USB_CLASS_STORAGE, 0x06, 0x50);
	fm_ep(m, 0x81, USB_EP_BULK, ss ? 1024 : 512, 0);
	fm_ep(m, 0x02, USB_EP_BULK, ss ? 1024 : 512, 0);
	m->str[1] = "QEMU";
	m->str[2] = "QEMU USB HARDDRIVE";
	m->str[3] = "1-0000:00:04.0-1";
}

/* ---- the controller ----------------------------------------------------- */

struct fslot {
	int used;
	struct fmodel *m;
	uint32_t parent;
	uint8_t port, speed;
	uint16_t mps0;
	uint8_t default_only;		/* ADD_DEFAULT: no address yet */
	uint8_t enabled[32];		/* EP_ENABLE'd, by index as halted[] */
	uint8_t halted[32];		/* the controller's side */
	uint8_t hub_ports;
};

struct fakehci {
	struct usb_hci_info info;
	struct fmodel *root[FH_PORTS + 1];
	struct fslot slots[FH_SLOTS + 1];	/* by dev */
	struct usb_req *pend[FH_PEND];	/* taken, not completed */
	uint8_t pend_held[FH_PEND];	/* handed over: wait for RESUME */
	unsigned npend;
	struct usb_req *waiter[4];	/* WAIT_EVENTs */
	struct usb_req_event {
		uint8_t kind, port, speed;
		uint32_t dev;
	} evq[FH_EVQ];
	unsigned nev;
	int hold;			/* requests wait for fh_step() */
	int refuse_submit;		/* submit answers this */
	int forget_answer;		/* forget answers this (PB_OK) */
	char trace[16384];
	unsigned completions;
};

FAKE unsigned
fh_ep_index(uint8_t ep)
{
	return (ep & 15) | (ep & 0x80 ? 16 : 0);
}

FAKE void
fh_trace(struct fakehci *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

FAKE void
fh_trace(struct fakehci *h, const char *fmt, ...)
{
	size_t n = strlen(h->trace);
	va_list ap;

	if (n + 64 >= sizeof(h->trace))
		return;
	if (n)
		h->trace[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(h->trace + n, sizeof(h->trace) - n, fmt, ap);
	va_end(ap);
}

FAKE void
fh_complete(struct fakehci *h, struct usb_req *r, int status,
    uint32_t actual)
{
	r->status = status;
	r->actual = actual;
	h->completions++;
	fake_work_post(NULL, &r->done);
}

FAKE void
fh_pend(struct fakehci *h, struct usb_req *r, int held)
{
	if (h->npend < FH_PEND) {
		h->pend_held[h->npend] = (uint8_t)held;
		h->pend[h->npend++] = r;
	}
}

FAKE void
fh_unpend(struct fakehci *h, unsigned i)
{
	memmove(h->pend + i, h->pend + i + 1,
	    (h->npend - i - 1) * sizeof(h->pend[0]));
	memmove(h->pend_held + i, h->pend_held + i + 1, h->npend - i - 1);
	h->npend--;
}

FAKE void fh_run(struct fakehci *h, struct usb_req *r);

/* RESUME: what was handed over for dev runs, in order (a transfer on an
 * endpoint then waits for fh_finish as any other). */
FAKE void
fh_resume(struct fakehci *h, uint32_t dev)
{
	for (unsigned i = 0; i < h->npend; ) {
		struct usb_req *r = h->pend[i];

		if (r->dev != dev || !h->pend_held[i]) {
			i++;
			continue;
		}
		fh_unpend(h, i);
		fh_run(h, r);
	}
}

/* ---- events ---- */

FAKE void
fh_deliver(struct fakehci *h)
{
	while (h->nev && h->waiter[0]) {
		struct usb_req *w = h->waiter[0];

		memmove(h->waiter, h->waiter + 1, sizeof(h->waiter) -
		    sizeof(h->waiter[0]));
		h->waiter[3] = NULL;
		w->u.event.kind = h->evq[0].kind;
		w->u.event.port = h->evq[0].port;
		w->u.event.speed = h->evq[0].speed;
		w->u.event.dev = h->evq[0].dev;
		memmove(h->evq, h->evq + 1, --h->nev * sizeof(h->evq[0]));
		fh_complete(h, w, PB_OK, 0);
	}
}

FAKE void
fh_event(struct fakehci *h, uint8_t kind, uint8_t port, uint8_t speed,
    uint32_t dev)
{
	if (h->nev < FH_EVQ)
		h->evq[h->nev++] = (struct usb_req_event){ kind, port, speed,
		    dev };
	fh_deliver(h);
}

FAKE void
fh_plug(struct fakehci *h, uint8_t port, struct fmodel *m)
{
	h->root[port] = m;
	m->attached = 1;
	fh_event(h, USB_EVENT_CONNECT, port, m->speed, 0);
}

FAKE void
fh_unplug(struct fakehci *h, uint8_t port)
{
	if (h->root[port])
		h->root[port]->attached = 0;
	h->root[port] = NULL;
	fh_event(h, USB_EVENT_DISCONNECT, port, 0, 0);
}

FAKE void
fh_wait(struct fakehci *h, struct usb_req *r)
{
	unsigned i;

	if (r->ep == 1)
		for (unsigned p = 1; p <= FH_PORTS; p++)
			if (h->root[p] && h->nev < FH_EVQ)
				h->evq[h->nev++] = (struct usb_req_event){
				    USB_EVENT_CONNECT, (uint8_t)p,
				    h->root[p]->speed, 0 };
	for (i = 0; i < 4 && h->waiter[i]; i++)
		;
	if (i < 4)
		h->waiter[i] = r;
	fh_deliver(h);
}

/* ---- the default pipe ---- */

FAKE struct fmodel *
fh_model_at(struct fakehci *h, uint32_t parent, uint8_t port)
{
	struct fmodel *hub;

	if (parent == 0)
		return port <= FH_PORTS ? h->root[port] : NULL;
	if (parent > FH_SLOTS || !h->slots[parent].used)
		return NULL;
	hub = h->slots[parent].m;
	return hub && port <= FH_PORTS ? hub->ports[port] : NULL;
}

/* A string descriptor of s in out; its length. */
FAKE uint32_t
fh_string(const char *s, uint8_t *out)
{
	uint32_t n = 2;

	for (; *s && n + 2 <= 254; s++, n += 2)
		fm_put16(out + n, (uint8_t)*s);
	out[0] = (uint8_t)n;
	out[1] = USB_DT_STRING;
	return n;
}

/* The IN data of a GET_DESCRIPTOR; -1: stall. */
FAKE int
fh_get_desc(struct fmodel *m, const struct usb_setup *s, uint8_t *out)
{
	unsigned type = s->wValue >> 8, index = s->wValue & 0xff;
	uint32_t n;

	switch (type) {
	case USB_DT_DEVICE:
		if (m->stall_dev > 0) {
			m->stall_dev--;
			return -1;
		}
		memcpy(out, m->dd, 18);
		return 18;
	case USB_DT_CONFIG:
		if (index != 0)
			return -1;
		memcpy(out, m->cfg, m->cfg_len);
		return s->wLength > 9 && m->short_cfg ? m->cfg_len - 4 :
		    m->cfg_len;
	case USB_DT_STRING:
		if (m->stall_strings)
			return -1;
		if (index == 0) {
			out[0] = 4;
			out[1] = USB_DT_STRING;
			fm_put16(out + 2, 0x0409);
			return 4;
		}
		if (index > 3 || !m->str[index] || s->wIndex != 0x0409)
			return -1;
		n = fh_string(m->str[index], out);
		return (int)n;
	}
	return -1;
}

/* Where the data of r lies, device side; NULL: not one piece. */
FAKE uint8_t *
fh_data(struct usb_req *r)
{
	if (!r->length)
		return NULL;
	if (r->nseg != 1 || !r->segs || r->segs[0].len != r->length)
		return NULL;
	return fake_dma_va(r->segs[0].bus, r->length);
}

FAKE void
fh_control(struct fakehci *h, struct fslot *sl, struct usb_req *r)
{
	const struct usb_setup *s = &r->u.setup;
	struct fmodel *m = sl->m;
	uint8_t tmp[1200], *data = fh_data(r);
	unsigned real_mps = m->speed >= USB_SPEED_SUPER ? 512 : m->dd[7];
	int n;

	if (s->wLength != r->length || (r->length && !data)) {
		fh_complete(h, r, PB_EINVAL, 0);
		return;
	}
	if (s->bmRequestType == 0x80 && s->bRequest == USB_REQ_GET_DESCRIPTOR) {
		fh_trace(h, "get:%u:%02x.%02x/%u", r->dev, s->wValue >> 8,
		    s->wValue & 0xff, s->wLength);
		if (!m->attached) {
			fh_complete(h, r, PB_EIO, 0);
			return;
		}
		if (m->hang_dev && s->wValue >> 8 == USB_DT_DEVICE) {
			fh_pend(h, r, 1);	/* no fh_step runs it */
			return;
		}
		if ((n = fh_get_desc(m, s, tmp)) < 0) {
			fh_complete(h, r, USB_ESTALL, 0);
			return;
		}
		if ((uint32_t)n > s->wLength)
			n = s->wLength;
		if ((uint32_t)n > sl->mps0 && real_mps > sl->mps0) {
			fh_complete(h, r, PB_EIO, 0);	/* babble */
			return;
		}
		memcpy(data, tmp, (size_t)n);
		fh_complete(h, r, PB_OK, (uint32_t)n);
		return;
	}
	fh_trace(h, "ctl:%u:%02x.%02x.%04x.%04x", r->dev, s->bmRequestType,
	    s->bRequest, s->wValue, s->wIndex);
	if (!m->attached) {
		fh_complete(h, r, PB_EIO, 0);
		return;
	}
	if (m->nlog < FM_LOG) {
		m->log[m->nlog] = *s;
		if (data && !(s->bmRequestType & USB_DIR_IN))
			memcpy(m->logdata[m->nlog], data,
			    r->length < 8 ? r->length : 8);
		m->nlog++;
	}
	if (s->bmRequestType == 0 && s->bRequest == USB_REQ_SET_CONFIGURATION) {
		if (s->wValue != 0 && s->wValue != m->cfg[5]) {
			fh_complete(h, r, USB_ESTALL, 0);
			return;
		}
		m->config = (uint8_t)s->wValue;
	}
	if (s->bmRequestType == USB_RECIP_ENDPOINT &&
	    s->bRequest == USB_REQ_CLEAR_FEATURE && s->wValue == 0)
		m->halted[fh_ep_index((uint8_t)s->wIndex)] = 0;
	fh_complete(h, r, PB_OK, (s->bmRequestType & USB_DIR_IN) ? 0 :
	    r->length);
}

/* ---- running one request ---- */

FAKE struct fslot *
fh_slot(struct fakehci *h, uint32_t dev)
{
	if (dev == 0 || dev > FH_SLOTS || !h->slots[dev].used)
		return NULL;
	return &h->slots[dev];
}

FAKE void
fh_add(struct fakehci *h, struct usb_req *r)
{
	struct fmodel *m = fh_model_at(h, r->u.add.parent, r->u.add.port);
	struct fslot *sl;

	fh_trace(h, "add%s:%u@%u.%u", r->flags & USB_REQ_ADD_DEFAULT ? "0" :
	    "", r->dev, r->u.add.parent, r->u.add.port);
	if (r->dev == 0 || r->dev > FH_SLOTS || h->slots[r->dev].used ||
	    !m || !m->attached || (m->fail_add && m->fail_add--) ||
	    (m->address_last && !(r->flags & USB_REQ_ADD_DEFAULT))) {
		fh_complete(h, r, PB_EIO, 0);
		return;
	}
	sl = &h->slots[r->dev];
	memset(sl, 0, sizeof(*sl));
	sl->used = 1;
	sl->m = m;
	sl->parent = r->u.add.parent;
	sl->port = r->u.add.port;
	sl->speed = r->u.add.speed;
	sl->mps0 = r->u.add.speed >= USB_SPEED_SUPER ? 512 :
	    r->u.add.speed == USB_SPEED_HIGH ? 64 : 8;
	sl->default_only = (r->flags & USB_REQ_ADD_DEFAULT) != 0;
	m->config = 0;			/* the port reset */
	memset(m->halted, 0, sizeof(m->halted));
	fh_complete(h, r, PB_OK, 0);
}

/* Does the descriptor EP_ENABLE points at look like one? */
FAKE int
fh_ep_ok(struct fslot *sl, struct usb_req *r)
{
	const uint8_t *d = (const uint8_t *)r->u.ep.desc;
	const uint8_t *c = (const uint8_t *)r->u.ep.ss;

	if (!d || d[0] != 7 || d[1] != USB_DT_ENDPOINT || d[2] != r->ep)
		return 0;
	if (sl->speed >= USB_SPEED_SUPER)
		return c && c[0] == 6 && c[1] == USB_DT_SS_EP_COMP;
	return c == NULL;
}

FAKE void
fh_remove_slot(struct fakehci *h, uint32_t dev)
{
	for (unsigned i = 0; i < h->npend; ) {
		struct usb_req *p = h->pend[i];

		if (p->dev == dev) {
			fh_unpend(h, i);
			fh_complete(h, p, PB_ECANCELED, 0);
			continue;
		}
		i++;
	}
	if (dev && dev <= FH_SLOTS)
		memset(&h->slots[dev], 0, sizeof(h->slots[dev]));
}


/* A transfer on a device's endpoint other than 0. */
FAKE void
fh_xfer(struct fakehci *h, struct fslot *sl, struct usb_req *r)
{
	unsigned i = fh_ep_index(r->ep);

	fh_trace(h, "xfer:%u:%02x", r->dev, r->ep);
	if (!sl->enabled[i]) {
		fh_complete(h, r, PB_ENODEV, 0);
		return;
	}
	if (sl->halted[i] || sl->m->stall_ep == r->ep) {
		sl->m->stall_ep = 0;
		sl->halted[i] = sl->m->halted[i] = 1;
		fh_complete(h, r, USB_ESTALL, 0);
		return;
	}
	fh_pend(h, r, 0);
}

/* PORT_RESET of a root port: the device there answers at address 0
 * again (ADD addresses it) and the port comes back. */
FAKE void
fh_port_reset(struct fakehci *h, struct usb_req *r)
{
	uint8_t port = r->u.port.port;
	struct fmodel *m = port && port <= FH_PORTS ? h->root[port] : NULL;

	fh_trace(h, "preset:%u", port);
	if (!m || !m->attached) {
		fh_complete(h, r, PB_ENODEV, 0);
		return;
	}
	m->port_resets++;
	fh_complete(h, r, PB_OK, 0);
	if (!m->gone_after_reset)
		fh_event(h, USB_EVENT_CONNECT, port, m->speed, 0);
}

FAKE void
fh_run(struct fakehci *h, struct usb_req *r)
{
	struct fslot *sl = fh_slot(h, r->dev);

	switch (r->op) {
	case USB_OP_WAIT_EVENT:
		fh_wait(h, r);
		return;
	case USB_OP_ADD:
		fh_add(h, r);
		return;
	case USB_OP_REMOVE:
		fh_trace(h, "rm:%u", r->dev);
		fh_remove_slot(h, r->dev);
		fh_complete(h, r, sl ? PB_OK : PB_ENODEV, 0);
		return;
	case USB_OP_PORT_RESET:
		fh_port_reset(h, r);
		return;
	}
	if (!sl) {
		fh_complete(h, r, PB_ENODEV, 0);
		return;
	}
	switch (r->op) {
	case USB_OP_SET_ADDRESS:
		fh_trace(h, "addr:%u", r->dev);
		fh_complete(h, r, sl->default_only ? PB_OK : PB_ENODEV, 0);
		sl->default_only = 0;
		return;
	case USB_OP_EP0_MPS:
		fh_trace(h, "mps:%u=%u", r->dev, r->u.mps.mps);
		sl->mps0 = r->u.mps.mps;
		fh_complete(h, r, PB_OK, 0);
		return;
	case USB_OP_EP_ENABLE:
		fh_trace(h, "ep:%u:%02x", r->dev, r->ep);
		if (!fh_ep_ok(sl, r)) {
			fh_complete(h, r, PB_EINVAL, 0);
			return;
		}
		sl->enabled[fh_ep_index(r->ep)] = 1;
		fh_complete(h, r, PB_OK, 0);
		return;
	case USB_OP_HUB:
		fh_trace(h, "hub:%u:%u", r->dev, r->u.hub.nports);
		sl->hub_ports = r->u.hub.nports;
		fh_complete(h, r, PB_OK, 0);
		return;
	case USB_OP_CLEAR_HALT:
		fh_trace(h, "halt:%u:%02x", r->dev, r->ep);
		sl->halted[fh_ep_index(r->ep)] = 0;
		fh_complete(h, r, PB_OK, 0);
		return;
	case USB_OP_RESUME:
		fh_trace(h, "resume:%u", r->dev);
		fh_complete(h, r, PB_OK, 0);
		fh_resume(h, r->dev);
		return;
	case USB_OP_XFER:
		if (r->ep == 0)
			fh_control(h, sl, r);
		else
			fh_xfer(h, sl, r);
		return;
	}
	fh_complete(h, r, PB_EINVAL, 0);
}

/* ---- the usb-hci operations ---- */

FAKE int
fh_info(void *ctx, struct usb_hci_info *info)
{
	struct fakehci *h = ctx;
	uint32_t size = info->size;

	memcpy(info, &h->info, size < sizeof(*info) ? size : sizeof(*info));
	info->size = size;
	return PB_OK;
}

FAKE int
fh_submit(void *ctx, struct usb_req *r)
{
	struct fakehci *h = ctx;

	if (h->refuse_submit)
		return h->refuse_submit;
	if (r->size != sizeof(*r))
		return PB_EINVAL;
	for (unsigned i = 0; i < h->npend; i++)
		if (h->pend[i] == r)
			return PB_EBUSY;	/* ours already, as xhci says */
	if (h->hold && r->op != USB_OP_WAIT_EVENT) {
		fh_pend(h, r, 0);
		return PB_OK;
	}
	fh_run(h, r);
	return PB_OK;
}

FAKE int
fh_cancel(void *ctx, uint32_t dev, uint8_t ep)
{
	struct fakehci *h = ctx;

	fh_trace(h, "cancel:%u:%02x", dev, ep);
	for (unsigned i = 0; i < h->npend; ) {
		struct usb_req *p = h->pend[i];

		if (p->dev == dev && (ep == 0xff || p->ep == ep)) {
			fh_unpend(h, i);
			fh_complete(h, p, PB_ECANCELED, 0);
			continue;
		}
		i++;
	}
	return PB_OK;
}

/* usb-hci 1.1: the owner's requests leave without completing. */
FAKE int
fh_forget(void *ctx, uint32_t dev, uint8_t ep, const struct pb_module *owner)
{
	struct fakehci *h = ctx;

	fh_trace(h, "forget:%u:%02x", dev, ep);
	for (unsigned i = 0; i < h->npend; ) {
		struct usb_req *p = h->pend[i];

		if (p->dev == dev && (ep == 0xff || p->ep == ep) &&
		    p->done.owner == owner) {
			fh_unpend(h, i);
			continue;
		}
		i++;
	}
	return h->forget_answer;
}

FAKE const struct usb_hci_ops fakehci_ops = {
	.info = fh_info,
	.submit = fh_submit,
	.cancel = fh_cancel,
	.forget = fh_forget,
};

FAKE void
fh_init(struct fakehci *h)
{
	memset(h, 0, sizeof(*h));
	h->info = (struct usb_hci_info){ .size = sizeof(h->info),
	    .nports = FH_PORTS, .max_devices = FH_SLOTS,
	    .max_transfer = 65536, .max_segments = 16,
	    .dma_limit = ~0ull };
}

/* Run what waits (hold): oldest first, each once. */
FAKE unsigned
fh_step(struct fakehci *h)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->npend; ) {
		struct usb_req *r = h->pend[i];
		struct fslot *sl = fh_slot(h, r->dev);

		if (h->pend_held[i] || (r->op == USB_OP_XFER && r->ep && sl &&
		    sl->enabled[fh_ep_index(r->ep)])) {
			i++;	/* waits for RESUME, or for fh_finish */
			continue;
		}
		fh_unpend(h, i);
		fh_run(h, r);
		n++;
	}
	return n;
}

/* The oldest pending transfer of dev on ep completes with data. */
FAKE int
fh_finish(struct fakehci *h, uint32_t dev, uint8_t ep, const void *data,
    uint32_t len, int status)
{
	for (unsigned i = 0; i < h->npend; i++) {
		struct usb_req *r = h->pend[i];
		uint8_t *to;

		if (r->dev != dev || r->ep != ep || h->pend_held[i])
			continue;
		fh_unpend(h, i);
		if (len > r->length)
			len = r->length;
		to = fh_data(r);
		if (len && to)
			memcpy(to, data, len);
		fh_complete(h, r, status, len);
		return PB_OK;
	}
	return PB_ENOENT;
}

FAKE unsigned
fh_pending(struct fakehci *h, uint32_t dev, uint8_t ep)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->npend; i++)
		n += h->pend[i]->dev == dev && h->pend[i]->ep == ep;
	return n;
}

/* A swap: `to` takes over from `from`, having reset the controller (every
 * model back to its default state, no slots) and holding what `from` had
 * not completed: the WAIT_EVENTs stand, the rest waits for RESUME of its
 * device (or REMOVE, or cancel). */
FAKE void
fh_swap(struct fakehci *from, struct fakehci *to)
{
	memcpy(to->root, from->root, sizeof(to->root));
	for (unsigned i = 0; i < 4 && from->waiter[i]; i++)
		to->waiter[i] = from->waiter[i];
	for (unsigned i = 0; i < from->npend; i++)
		fh_pend(to, from->pend[i], 1);
	memset(from->waiter, 0, sizeof(from->waiter));
	from->npend = 0;
	for (unsigned p = 1; p <= FH_PORTS; p++) {
		struct fmodel *m = to->root[p];

		if (m) {
			m->config = 0;
			for (unsigned k = 1; k <= FH_PORTS; k++)
				if (m->ports[k])
					m->ports[k]->config = 0;
		}
	}
}

#endif
