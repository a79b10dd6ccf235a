/*
 * setup.c - a hub set up (USB 2.0 §11.12, USB 3.2 §10.14.2):
 *
 *   1. its place and its status change endpoint, from the bus (no
 *      transfer): a hub more than HUB_CHAIN_MAX ports below the root is
 *      refused, as USB allows 5 hubs in a row;
 *   2. GET_DESCRIPTOR(hub), 0x29 (USB 2) or 0x2a (USB 3), checked;
 *   3. USB 3: SET_HUB_DEPTH, its place in the chain less one (the bus
 *      replays it after a controller swap, with the port power);
 *   4. USB_OP_HUB_CONFIG to the bus: ports, multi-TT (interface protocol
 *      2: the bus refuses SET_INTERFACE, so alternate setting 0 is what
 *      there is), TT think time (wHubCharacteristics bits 6:5, HS only);
 *   5. SET_FEATURE(PORT_POWER) on every port, marked USB_REQ_REPLAY;
 *   6. bPwrOn2PwrGood x 2 ms on the hub's timer;
 *   7. running: the status change request armed, every port's status
 *      read once (a connected port goes through port.c like a new one).
 * A hub the previous instance had set up (an update) skips 2-6: its
 * ports already on stay on, and their status is read again.
 */
#include "usbhub.h"

/* Ports from the root to the hub: its `dev=` property, else its name. */
static unsigned
hub_chain(const struct uhub *h)
{
	char props[UH_PROPS_MAX], dev[UH_PROPS_MAX];
	unsigned n = 0;

	if (uh_props_of(h->res, props, sizeof(props)) &&
	    rt_prop_get(props, "dev", dev, sizeof(dev)))
		n = hub_chain_from_dev(dev);
	return n ? n : hub_chain_from_name(h->res);
}

/* What a hub is and where, from the bus alone; 0 when not to drive. */
static int
setup_check(struct uhub *h)
{
	static uint8_t d[512];
	size_t len = 0;
	char why[64];

	if (h->info.cls != USB_CLASS_HUB) {
		hub_log(h, PB_LOG_ERR, "class %02x is not a hub's; left alone",
		    h->info.cls);
		return 0;
	}
	h->ss = h->info.protocol == 3 || h->info.speed >= USB_SPEED_SUPER;
	h->mtt = !h->ss && h->info.protocol == 2;
	h->chain = (uint8_t)hub_chain(h);
	if (!h->chain) {
		hub_log(h, PB_LOG_ERR, "its place (dev=) cannot be read; left "
		    "alone");
		return 0;
	}
	if (h->chain > HUB_CHAIN_MAX) {
		hub_log(h, PB_LOG_ERR, "a hub %u ports below the root: USB "
		    "allows %u hubs in a row; left alone", h->chain,
		    HUB_CHAIN_MAX);
		return 0;
	}
	if (PB_CALL(h->conn, usb_ops, descriptors, d, sizeof(d), &len) !=
	    PB_OK || hub_find_status_ep(d, len < sizeof(d) ? len : sizeof(d),
	    &h->ep, why, sizeof(why)) != PB_OK) {
		hub_log(h, PB_LOG_ERR, "no status change endpoint (%s); left "
		    "alone", len ? why : "no descriptors");
		return 0;
	}
	return 1;
}

static void
take_desc(struct uhub *h, const struct hub_desc *d)
{
	h->desc = *d;
	/* Only a high-speed hub has transaction translators. */
	if (h->ss || h->info.speed != USB_SPEED_HIGH)
		h->desc.ttt = 0;
	h->intr_len = (uint16_t)((d->nports + 1u + 7u) / 8u);
}

/* The previous instance set this hub up: take its ports as they were. */
static int
setup_adopt(struct uhub *h)
{
	const struct uh_state_hub *st = swap_imported(h->res);
	struct hub_desc d = { 0 };
	unsigned on = 0;

	if (!st || !st->configured)
		return 0;
	d.nports = st->nports;
	d.characteristics = st->characteristics;
	d.ttt = (uint8_t)HUB_CHAR_TTTT(st->characteristics);
	d.pwr_good_ms = st->pwr_good_ms;
	take_desc(h, &d);
	for (unsigned i = 1; i <= d.nports; i++) {
		struct uport *p = &h->port[i];

		p->speed = st->speed[i];
		p->oc_count = st->oc[i];
		if (st->flags[i] & UH_SPORT_ON) {
			p->bus_on = 1;
			p->state = PORT_ON;
			on++;
		} else if (st->flags[i] & UH_SPORT_FAILED) {
			p->state = PORT_FAILED;
		}
	}
	h->imported = 1;
	hub_log(h, PB_LOG_INFO, "%u ports, %u devices on them: taken over",
	    d.nports, on);
	setup_running(h);
	return 1;
}

void
setup_start(struct uhub *h)
{
	if (!setup_check(h)) {
		hub_fail(h);
		return;
	}
	if (setup_adopt(h))
		return;
	h->setup = SETUP_DESC;
	hub_pump(h);
	hub_timer_update(h);
}

#define HUB_IN (USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_DEVICE)
#define HUB_OUT (USB_TYPE_CLASS | USB_RECIP_DEVICE)

/* The set-up request of the current step (the control pipe is free). */
void
setup_send(struct uhub *h)
{
	switch (h->setup) {
	case SETUP_DESC:
		ctl_xfer(h, CTL_DESC, 0, HUB_IN, USB_REQ_GET_DESCRIPTOR,
		    (uint16_t)((h->ss ? USB_DT_SS_HUB : USB_DT_HUB) << 8), 0,
		    h->ss ? HUB_SS_DESC_LEN : HUB_DESC_ASK, 0);
		break;
	case SETUP_DEPTH:	/* USB 3.2 §10.16.2.9 */
		ctl_xfer(h, CTL_DEPTH, 0, HUB_OUT, HUB_REQ_SET_HUB_DEPTH,
		    (uint16_t)(h->chain - 1), 0, 0, USB_REQ_REPLAY);
		break;
	case SETUP_CONFIG:
		ctl_bus_op(h, CTL_CONFIG, USB_OP_HUB_CONFIG);
		break;
	}
}

static const char *
hub_kind(const struct uhub *h, char *buf, size_t cap)
{
	if (h->ss)
		rt_snprintf(buf, cap, "USB 3 hub, depth %u", h->chain - 1u);
	else if (h->info.speed == USB_SPEED_HIGH)
		rt_snprintf(buf, cap, "USB 2.0 hub, %s TT",
		    h->mtt ? "multi" : "single");
	else
		rt_snprintf(buf, cap, "full-speed hub");
	return buf;
}

void
setup_done(struct uhub *h, int kind, int status, uint32_t actual)
{
	struct hub_desc d;
	char why[80];

	if (status != PB_OK) {		/* logged by the control pipe */
		hub_fail(h);
		return;
	}
	switch (kind) {
	case CTL_DESC:
		if (hub_desc_parse(h->buf, actual, h->ss, &d, why,
		    sizeof(why)) != PB_OK) {
			hub_log(h, PB_LOG_ERR, "hub descriptor refused: %s", why);
			hub_fail(h);
			return;
		}
		take_desc(h, &d);
		h->setup = h->ss ? SETUP_DEPTH : SETUP_CONFIG;
		break;
	case CTL_DEPTH:
		h->setup = SETUP_CONFIG;
		break;
	case CTL_CONFIG:
		hub_log(h, PB_LOG_INFO, "%u ports, %s", h->desc.nports,
		    hub_kind(h, why, sizeof(why)));
		h->setup = SETUP_POWER;
		for (unsigned i = 1; i <= h->desc.nports; i++)
			h->port[i].want |= WANT_POWER;
		break;
	}
}

/* Every port was sent its power: wait for it to be good (USB 2.0
 * §11.23.2.1 bPwrOn2PwrGood). */
void
setup_powered(struct uhub *h)
{
	h->setup = SETUP_PWRGOOD;
	if (!h->desc.pwr_good_ms) {
		setup_running(h);
		return;
	}
	h->due = uh.hub->now_ns() + h->desc.pwr_good_ms * MS;
	hub_timer_update(h);
}

void
setup_due(struct uhub *h)
{
	if (h->setup == SETUP_PWRGOOD)
		setup_running(h);
}

/* Serve: read every port once and hear of changes from now on. */
void
setup_running(struct uhub *h)
{
	h->setup = SETUP_RUNNING;
	hub_read_all(h);
	intr_arm(h);
	rwait_arm(h);
	hub_pump(h);
	hub_timer_update(h);
}
