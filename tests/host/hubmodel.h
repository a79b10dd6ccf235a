/*
 * hubmodel.h - a USB hub behind the fake bus (fakeusb.h), for usb-hub's
 * host tests: what a hub device answers on its default pipe and on its
 * status change endpoint, USB 2.0 (chapter 11) or USB 3 (chapter 10)
 * flavoured, and what the bus is told about its ports.
 *
 *   - hub requests: GET_DESCRIPTOR(0x29 or 0x2a) answers m->desc (a test
 *     may put anything there), SET_HUB_DEPTH (USB 3 only), GET_STATUS
 *     and SET/CLEAR_FEATURE for the hub and its ports; anything else,
 *     and a port out of range, STALLs;
 *   - ports start unpowered; SET_FEATURE(PORT_POWER) powers one and
 *     shows a plugged device (connection and its change bit); a reset
 *     takes m->reset_ns of fake time (hm_poll ends it: enabled, speed
 *     bits, C_PORT_RESET), or never (m->reset_never);
 *   - the test plugs, unplugs, overloads ports (hm_plug, hm_unplug,
 *     hm_over_current) and resets the whole hub (hm_hub_reset: what the
 *     bus's re-enumeration after a controller swap does to it);
 *   - the interrupt endpoint (0x81) is held until hm_poll finds a change
 *     pending (once per call, as an endpoint answers once per interval:
 *     a driver that never clears a change loops no faster than the
 *     test's clock); it can be made to STALL (m->intr_stalls) until
 *     USB_OP_CLEAR_HALT;
 *   - USB_OP_HUB_CONFIG/PORT_ON/PORT_OFF are recorded with the resets in
 *     m->ev (op, port, speed, time); PORT_ON of a port not enabled fails
 *     (PB_EIO) as the bus's enumeration would, and m->hold_port_on keeps
 *     them held until the test completes them;
 *   - m->max_resetting: the most ports seen in reset at once.
 */
#ifndef PB_TESTS_HUBMODEL_H
#define PB_TESTS_HUBMODEL_H

#include "fakeusb.h"

#define HM_PORTS 15
#define HM_EVENTS 128
#define HM_EV_RESET 0x80	/* m->ev op of a port reset (SET_FEATURE) */
#define HM_EV_WARM 0x81		/* ... of a warm one (BH_PORT_RESET) */

struct hm_port {
	int attached;		/* a device is plugged in */
	uint8_t speed;		/* its speed */
	uint16_t status, change;
	uint64_t reset_done_at;	/* fake_ns; 0: not in reset */
	int warm;		/* the reset is a warm one (USB 3) */
	int powers;		/* SET_FEATURE(PORT_POWER)s */
	int oc_on_power;	/* over-current again each time it is powered */
};

struct hm_event {
	uint8_t op;		/* USB_OP_*, HM_EV_RESET */
	uint8_t port, speed;
	uint64_t ns;
};

struct hubmodel {
	struct fakeusb u;	/* first: the device callback finds us */
	int ss;
	uint8_t nports;
	uint8_t desc[96];
	size_t desc_len;
	uint16_t hub_status, hub_change;
	struct hm_port port[HM_PORTS + 1];
	uint64_t reset_ns;
	int reset_never;
	int depth;		/* SET_HUB_DEPTH's value; -1: none */
	int intr_stalls;	/* interrupt requests still to STALL */
	int halted;		/* the interrupt endpoint, until CLEAR_HALT */
	int hold_port_on;
	int ctl_fail;		/* control transfers still to fail ... */
	int ctl_fail_status;	/* ... with this ... */
	int ctl_fail_req;	/* ... when of this bRequest (-1: any) */
	unsigned resetting, max_resetting;
	unsigned hub_configs;
	struct usb_req last_config;
	struct hm_event ev[HM_EVENTS];
	unsigned nev;
};

static uint16_t
hm_power_bit(const struct hubmodel *m)
{
	return m->ss ? 0x0200 : 0x0100;
}

static void
hm_event(struct hubmodel *m, uint8_t op, uint8_t port, uint8_t speed)
{
	if (m->nev < HM_EVENTS)
		m->ev[m->nev++] = (struct hm_event){ op, port, speed, fake_ns };
}

/* The index of the first event of op (on port, 0: any) at or after
 * `from`, or -1. */
FAKE int
hm_find(const struct hubmodel *m, unsigned from, uint8_t op, uint8_t port)
{
	for (unsigned i = from; i < m->nev; i++)
		if (m->ev[i].op == op && (!port || m->ev[i].port == port))
			return (int)i;
	return -1;
}

FAKE unsigned
hm_count(const struct hubmodel *m, uint8_t op, uint8_t port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nev; i++)
		n += m->ev[i].op == op && (!port || m->ev[i].port == port);
	return n;
}

static int
hm_changes(const struct hubmodel *m)
{
	for (unsigned i = 1; i <= m->nports; i++)
		if (m->port[i].change)
			return 1;
	return m->hub_change != 0;
}

/* Resets that are over by now end. */
static void
hm_update(struct hubmodel *m)
{
	for (unsigned i = 1; i <= m->nports; i++) {
		struct hm_port *p = &m->port[i];

		if (!p->reset_done_at || fake_ns < p->reset_done_at)
			continue;
		p->reset_done_at = 0;
		m->resetting--;
		p->status &= (uint16_t)~0x0010;
		p->status |= 0x0002;		/* enabled */
		if (m->ss)
			p->status &= (uint16_t)~0x01e0;	/* link in U0 */
		else if (p->speed == USB_SPEED_HIGH)
			p->status |= 0x0400;
		/* C_BH_PORT_RESET, or C_PORT_RESET */
		p->change |= p->warm ? 0x0020 : 0x0010;
	}
}

static void
hm_bitmap(struct hubmodel *m, struct usb_req *r)
{
	uint8_t map[4] = { 0 };

	if (m->hub_change)
		map[0] |= 1;
	for (unsigned i = 1; i <= m->nports; i++)
		if (m->port[i].change)
			map[i / 8] |= (uint8_t)(1u << (i % 8));
	fakeusb_reply(r, map, (m->nports + 1u + 7u) / 8u);
	r->status = PB_OK;
}

/* Let fake time act: resets end, a held status request completes. */
FAKE void
hm_poll(struct hubmodel *m)
{
	struct usb_req *r;

	hm_update(m);
	if (hm_changes(m) && (r = fakeusb_held(&m->u, 0x81))) {
		hm_bitmap(m, r);
		fakeusb_complete(&m->u, r);
	}
}

static void
hm_show_device(struct hubmodel *m, struct hm_port *p)
{
	p->status |= 0x0001;
	if (!m->ss && p->speed == USB_SPEED_LOW)
		p->status |= 0x0200;
	p->change |= 0x0001;
}

static void
hm_drop_device(struct hubmodel *m, struct hm_port *p)
{
	if (p->reset_done_at) {
		p->reset_done_at = 0;
		m->resetting--;
	}
	if (p->status & 0x0001)
		p->change |= 0x0001;
	p->status &= (uint16_t)~(m->ss ? 0x0013 : 0x0613);
}

FAKE void
hm_plug(struct hubmodel *m, unsigned port, uint8_t speed)
{
	struct hm_port *p = &m->port[port];

	p->attached = 1;
	p->speed = speed;
	if (p->status & hm_power_bit(m))
		hm_show_device(m, p);
}

FAKE void
hm_unplug(struct hubmodel *m, unsigned port)
{
	m->port[port].attached = 0;
	hm_drop_device(m, &m->port[port]);
}

/* The port draws too much: its power is cut (USB 2.0 §11.12.5). */
FAKE void
hm_over_current(struct hubmodel *m, unsigned port)
{
	struct hm_port *p = &m->port[port];

	hm_drop_device(m, p);
	p->status &= (uint16_t)~hm_power_bit(m);
	p->status |= 0x0008;
	p->change |= 0x0008;
}

/* A USB 3 link falls to SS.Inactive (USB 3.2 §7.5.2): disabled, until
 * a warm reset. */
FAKE void
hm_link_inactive(struct hubmodel *m, unsigned port)
{
	struct hm_port *p = &m->port[port];

	p->status = (uint16_t)((p->status & ~0x01e2) | 0x6 << 5);
	p->change |= 0x0040;		/* C_PORT_LINK_STATE */
}

/* The hub was reset (the bus enumerated it again after a controller
 * swap) and the bus replayed its port power: every device shows again,
 * not enabled. */
FAKE void
hm_hub_reset(struct hubmodel *m)
{
	for (unsigned i = 1; i <= m->nports; i++) {
		struct hm_port *p = &m->port[i];

		hm_drop_device(m, p);
		p->change = 0;
		if (p->attached && (p->status & hm_power_bit(m)))
			hm_show_device(m, p);
	}
}

static void
hm_set_power(struct hubmodel *m, struct hm_port *p)
{
	p->powers++;
	if (p->oc_on_power) {
		hm_over_current(m, (unsigned)(p - m->port));
		return;
	}
	if (p->status & 0x0008) {	/* the over-current is over */
		p->status &= (uint16_t)~0x0008;
		p->change |= 0x0008;
	}
	if (p->status & hm_power_bit(m))
		return;
	p->status |= hm_power_bit(m);
	if (p->attached)
		hm_show_device(m, p);
}

static void
hm_set_reset(struct hubmodel *m, struct hm_port *p, int warm)
{
	hm_event(m, warm ? HM_EV_WARM : HM_EV_RESET,
	    (uint8_t)(p - m->port), 0);
	if (!(p->status & 0x0001) || p->reset_done_at)
		return;
	p->status |= 0x0010;
	p->status &= (uint16_t)~0x0002;
	p->warm = warm;
	if (++m->resetting > m->max_resetting)
		m->max_resetting = m->resetting;
	if (m->reset_never)
		p->reset_done_at = ~0ull;
	else
		p->reset_done_at = fake_ns + (m->reset_ns ? m->reset_ns : 1);
}

/* SET_FEATURE / CLEAR_FEATURE on a port: 0, or -1 to STALL. */
static int
hm_port_feature(struct hubmodel *m, struct hm_port *p, int set, uint16_t f)
{
	static const uint16_t change_of[] = {
		[16] = 0x0001, [17] = 0x0002, [18] = 0x0004, [19] = 0x0008,
		[20] = 0x0010, [25] = 0x0040, [26] = 0x0080, [29] = 0x0020,
	};

	if (set) {
		if (f == 8)
			hm_set_power(m, p);
		else if (f == 4 || (f == 28 && m->ss))
			hm_set_reset(m, p, f == 28);
		else
			return -1;
		return 0;
	}
	if (f == 1 && !m->ss) {
		p->status &= (uint16_t)~0x0002;
		return 0;
	}
	if (f >= sizeof(change_of) / sizeof(change_of[0]) || !change_of[f])
		return -1;
	if ((m->ss ? 0x00f9 : 0x001f) & change_of[f]) {
		p->change &= (uint16_t)~change_of[f];
		return 0;
	}
	return -1;
}

static int
hm_control(struct hubmodel *m, struct usb_req *r)
{
	const struct usb_setup *s = &r->u.setup;
	unsigned n = s->wIndex & 0xff;
	struct hm_port *p = n >= 1 && n <= m->nports ? &m->port[n] : NULL;
	uint8_t reply[4];

	r->status = PB_OK;
	if (m->ctl_fail && (m->ctl_fail_req < 0 ||
	    m->ctl_fail_req == s->bRequest)) {
		m->ctl_fail--;
		r->status = m->ctl_fail_status;
		return 1;
	}
	switch (s->bmRequestType << 8 | s->bRequest) {
	case 0xa006:		/* GET_DESCRIPTOR(hub) */
		if ((s->wValue >> 8) != (m->ss ? 0x2a : 0x29))
			goto stall;
		fakeusb_reply(r, m->desc, m->desc_len);
		return 1;
	case 0x200c:		/* SET_HUB_DEPTH */
		if (!m->ss)
			goto stall;
		m->depth = s->wValue;
		return 1;
	case 0xa000:		/* GET_STATUS(hub) */
		memcpy(reply, (uint16_t[]){ m->hub_status, m->hub_change }, 4);
		fakeusb_reply(r, reply, 4);
		return 1;
	case 0x2001:		/* CLEAR_FEATURE(hub) */
		if (s->wValue > 1)
			goto stall;
		m->hub_change &= (uint16_t)~(1u << s->wValue);
		return 1;
	case 0xa300:		/* GET_STATUS(port) */
		if (!p)
			goto stall;
		hm_update(m);
		memcpy(reply, (uint16_t[]){ p->status, p->change }, 4);
		fakeusb_reply(r, reply, 4);
		return 1;
	case 0x2303:		/* SET_FEATURE(port) */
	case 0x2301:		/* CLEAR_FEATURE(port) */
		if (!p || hm_port_feature(m, p, s->bRequest == 3, s->wValue))
			goto stall;
		return 1;
	}
stall:
	r->status = USB_ESTALL;
	return 1;
}

static int
hm_intr(struct hubmodel *m, struct usb_req *r)
{
	if (m->intr_stalls) {
		m->intr_stalls--;
		m->halted = 1;
	}
	if (m->halted) {
		r->status = USB_ESTALL;
		return 1;
	}
	return 0;	/* NAK: hm_poll answers, once per (fake) frame */
}

static int
hm_device(struct fakeusb *u, struct usb_req *r)
{
	struct hubmodel *m = u->device_data;
	struct hm_port *p = r->u.port.port <= m->nports ?
	    &m->port[r->u.port.port] : NULL;

	r->status = PB_OK;
	switch (r->op) {
	case USB_OP_HUB_CONFIG:
		m->hub_configs++;
		m->last_config = *r;
		hm_event(m, r->op, 0, 0);
		return 1;
	case USB_OP_PORT_ON:
		hm_event(m, r->op, r->u.port.port, r->u.port.speed);
		if (!p || !r->u.port.port || !(p->status & 0x0002))
			r->status = PB_EIO;
		return !m->hold_port_on;
	case USB_OP_PORT_OFF:
		hm_event(m, r->op, r->u.port.port, r->u.port.speed);
		return 1;
	case USB_OP_CLEAR_HALT:
		m->halted = 0;
		return 1;
	}
	return r->ep == 0 ? hm_control(m, r) : hm_intr(m, r);
}

/* The interface's descriptors: the hub interface and its endpoint. */
static void
hm_interface(struct hubmodel *m, uint8_t cls, uint8_t protocol,
    uint8_t speed)
{
	fakeusb_init(&m->u, cls, 0, protocol, speed);
	m->u.hub = 1;
	m->u.device = hm_device;
	m->u.device_data = m;
	fakeusb_add_interface(&m->u, 1);
	fakeusb_add_endpoint(&m->u, 0x81, USB_EP_INTERRUPT,
	    (uint16_t)((m->nports + 1 + 7) / 8), m->ss ? 8 : 12);
}

/* A USB 2.0 hub: protocol 0 (full speed), 1 or 2 (high speed, one or
 * several TTs); characteristics as wHubCharacteristics. */
FAKE void
hm_init_usb2(struct hubmodel *m, uint8_t nports, uint8_t protocol,
    uint16_t characteristics, uint8_t pwr_good_2ms)
{
	unsigned bytes = (nports + 1u + 7u) / 8u;

	memset(m, 0, sizeof(*m));
	m->nports = nports;
	m->depth = -1;
	m->reset_ns = 10000000;
	m->ctl_fail_req = -1;
	hm_interface(m, USB_CLASS_HUB, protocol,
	    protocol ? USB_SPEED_HIGH : USB_SPEED_FULL);
	m->desc_len = 7 + 2 * bytes;
	m->desc[0] = (uint8_t)m->desc_len;
	m->desc[1] = USB_DT_HUB;
	m->desc[2] = nports;
	m->desc[3] = (uint8_t)characteristics;
	m->desc[4] = (uint8_t)(characteristics >> 8);
	m->desc[5] = pwr_good_2ms;
	memset(m->desc + 7 + bytes, 0xff, bytes);	/* PortPwrCtrlMask */
}

/* A USB 3 hub's SuperSpeed half (protocol 3). */
FAKE void
hm_init_usb3(struct hubmodel *m, uint8_t nports, uint8_t pwr_good_2ms)
{
	memset(m, 0, sizeof(*m));
	m->ss = 1;
	m->nports = nports;
	m->depth = -1;
	m->reset_ns = 10000000;
	m->ctl_fail_req = -1;
	hm_interface(m, USB_CLASS_HUB, 3, USB_SPEED_SUPER);
	m->desc_len = 12;
	m->desc[0] = 12;
	m->desc[1] = USB_DT_SS_HUB;
	m->desc[2] = nports;
	m->desc[3] = 0x09;	/* individual power, per-port over-current */
	m->desc[5] = pwr_good_2ms;
	m->desc[7] = 0x04;	/* bHubHdrDecLat */
}

#endif
