/*
 * swap.c - usb-hub replaced under its hubs (`update usb-hub PATH`)
 * without losing a device:
 *
 *   quiesce   no new work, timers stopped, the standing status and
 *             reset requests cancelled; PB_EAGAIN while any request is
 *             the bus's (a PORT_ON waits for its enumeration: its memory
 *             is ours)
 *   export    per hub: its resource, whether it was set up, and per port
 *             whether the bus has a device there (struct uh_state)
 *   release   hubs we connected to by hand are let go, so the next
 *             instance can connect to them (a `usb` resource takes one
 *             client); the bound one the hub hands over itself
 *   import    the table, checked whole first
 *   activate  every hub of the table connected again and adopted
 *             (setup.c: no set-up requests, ports on stay on, every
 *             port read again, the status request armed), then any hub
 *             nobody drives
 *   resume    (a failed swap) the hubs let go connected again, their
 *             ports read again, the status requests armed
 * A port half way through its reset is not handed over: the next
 * instance reads it as connected and not on, and starts again.
 */
#include "usbhub.h"

static struct uh_state_hub imported[UH_HUBS];
static uint32_t nimported;

int
uh_quiesce(struct pb_module *m)
{
	int busy = 0;

	(void)m;
	uh.quiescing = 1;
	hub_timers_stop();
	for (unsigned i = 0; i < UH_HUBS; i++) {
		struct uhub *h = uh.hubs[i];

		if (!h)
			continue;
		if (h->intr_busy && h->conn && !h->cancelled) {
			h->cancelled = 1;
			PB_CALL(h->conn, usb_ops, cancel, h->ep.addr);
		}
		rwait_cancel(h);
		busy |= hub_busy(h);
	}
	return busy ? PB_EAGAIN : PB_OK;
}

static void
export_hub(const struct uhub *h, struct uh_state_hub *s)
{
	memset(s, 0, sizeof(*s));
	rt_strlcpy(s->res, h->res, sizeof(s->res));
	s->configured = h->setup == SETUP_RUNNING && !h->dead;
	s->nports = h->desc.nports;
	s->characteristics = h->desc.characteristics;
	s->pwr_good_ms = h->desc.pwr_good_ms;
	for (unsigned i = 1; i <= h->desc.nports; i++) {
		const struct uport *p = &h->port[i];

		s->flags[i] = (uint8_t)((p->bus_on ? UH_SPORT_ON : 0) |
		    (p->state == PORT_FAILED ? UH_SPORT_FAILED : 0));
		s->speed[i] = p->speed;
		s->oc[i] = p->oc_count;
	}
}

int
uh_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct uh_state st = { 0 };
	struct uh_state_hub *out;

	(void)m;
	for (unsigned i = 0; i < UH_HUBS; i++)
		st.nhubs += uh.hubs[i] && !uh.hubs[i]->gone;
	*version = UH_STATE_VERSION;
	*len = sizeof(st) + st.nhubs * sizeof(*out);
	if (!buf)
		return PB_OK;
	if (cap < *len)
		return PB_EINVAL;
	memcpy(buf, &st, sizeof(st));
	out = (struct uh_state_hub *)(void *)((uint8_t *)buf + sizeof(st));
	for (unsigned i = 0; i < UH_HUBS; i++)
		if (uh.hubs[i] && !uh.hubs[i]->gone)
			export_hub(uh.hubs[i], out++);
	return PB_OK;
}

int
uh_release(struct pb_module *m)
{
	(void)m;
	uh.active = 0;
	for (unsigned i = 0; i < UH_HUBS; i++) {
		struct uhub *h = uh.hubs[i];

		if (h && h->by_hand && h->conn) {
			uh.hub->disconnect(uh.self, h->conn);
			h->conn = NULL;
			h->released = 1;
		}
	}
	return PB_OK;
}

static int
hub_state_valid(const struct uh_state_hub *s)
{
	if (strnlen(s->res, sizeof(s->res)) == sizeof(s->res) || !s->res[0])
		return 0;
	if (s->configured && (s->nports < 1 || s->nports > HUB_PORTS_MAX))
		return 0;
	for (unsigned i = 0; i <= HUB_PORTS_MAX; i++)
		if (s->speed[i] > USB_SPEED_SUPER_PLUS)
			return 0;
	return 1;
}

int
uh_import(struct pb_module *m, const void *buf, size_t len, uint32_t version)
{
	struct uh_state st;
	const uint8_t *at = buf;

	(void)m;
	if (version != UH_STATE_VERSION)
		return PB_ESTATE;
	if (!buf || len < sizeof(st))
		return PB_EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.nhubs > UH_HUBS ||
	    len < sizeof(st) + st.nhubs * sizeof(imported[0]))
		return PB_EINVAL;
	at += sizeof(st);
	for (uint32_t i = 0; i < st.nhubs; i++) {
		memcpy(&imported[i], at + i * sizeof(imported[0]),
		    sizeof(imported[0]));
		if (!hub_state_valid(&imported[i])) {
			nimported = 0;
			return PB_EINVAL;
		}
	}
	nimported = st.nhubs;
	return PB_OK;
}

/* The imported record of hub `res`, while activate adopts them. */
const struct uh_state_hub *
swap_imported(const char *res)
{
	for (uint32_t i = 0; i < nimported; i++)
		if (strcmp(imported[i].res, res) == 0)
			return &imported[i];
	return NULL;
}

int
uh_activate(struct pb_module *m)
{
	(void)m;
	uh.active = 1;
	uh.quiescing = 0;
	for (uint32_t i = 0; i < nimported; i++) {
		const char *res = imported[i].res;
		struct pb_conn *c = NULL;
		int by_hand = 1;

		if (hub_by_res(res))
			continue;
		if (uh.bind && uh.bind->res && strcmp(uh.bind->res, res) == 0) {
			c = uh.bind;	/* handed over by the swap */
			uh.bind = NULL;
			by_hand = 0;
		} else if (!(c = uh.hub->connect(uh.self, USB_IFACE, USB_MAJOR,
		    USBHUB_USB_MINOR, res))) {
			uh_logf(PB_LOG_WARN, "%s: went during the update; the "
			    "bus removes its devices", res);
			continue;
		}
		hub_add(c, by_hand);
	}
	nimported = 0;
	return uh_take_hubs();
}

int
uh_resume(struct pb_module *m)
{
	(void)m;
	uh.active = 1;
	uh.quiescing = 0;
	for (unsigned i = 0; i < UH_HUBS; i++) {
		struct uhub *h = uh.hubs[i];

		if (!h)
			continue;
		h->cancelled = 0;
		h->rwait_cancelled = 0;
		if (h->released) {
			h->released = 0;
			h->conn = uh.hub->connect(uh.self, USB_IFACE,
			    USB_MAJOR, USBHUB_USB_MINOR, h->res);
			if (!h->conn) {
				hub_log(h, PB_LOG_WARN, "went during the "
				    "failed update");
				hub_gone(h);
				continue;
			}
		}
		if (h->setup == SETUP_RUNNING && !h->dead) {
			hub_read_all(h);
			intr_arm(h);
			rwait_arm(h);
		}
	}
	hub_pump_all();
	reset_grant();
	return uh_take_hubs();
}

void
swap_forget(void)
{
	nimported = 0;
}
