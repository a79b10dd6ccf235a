/*
 * mod_usb_hub.c - the usb-hub module on the host, driving hub models
 * (hubmodel.h) through the fake bus (fakeusb.h): the set-up requests in
 * their order (USB 2 and USB 3), a device connected, debounced, reset
 * and handed to the bus at its speed (low, full, high, super), taken
 * back when unplugged, two plugged at once reset one after the other, a
 * reset that never ends (bounded), over-current, hub descriptors
 * refused, a stalled status endpoint recovered, a hub behind a hub and
 * one too deep, a hub reset after a controller swap, and the module
 * swapped for another instance of itself without losing a device.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#include "../../abi/rt/setting.c"
#include "../../mods/usb-hub/desc.c"
#include "../../mods/usb-hub/hub.c"
#include "../../mods/usb-hub/setup.c"
#include "../../mods/usb-hub/status.c"
#include "../../mods/usb-hub/port.c"
#include "../../mods/usb-hub/swap.c"
#include "../../mods/usb-hub/reset.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo usbhub_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/usb-hub/usbhub.c"

#include "fakehub.h"
#include "hubmodel.h"

/* ---- the fake hub: memory, `usb` resources, connections ------------- */

#define LEDGER 64
static void *ledger[LEDGER];

static void *
fake_alloc(struct pb_module *self, size_t n)
{
	for (unsigned i = 0; i < LEDGER; i++)
		if (!ledger[i])
			return ledger[i] = calloc(1, n ? n : 1);
	return NULL;
}

static void
fake_free(struct pb_module *self, void *p)
{
	for (unsigned i = 0; p && i < LEDGER; i++)
		if (ledger[i] == p) {
			ledger[i] = NULL;
			free(p);
			return;
		}
}

static unsigned
ledger_live(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < LEDGER; i++)
		n += ledger[i] != NULL;
	return n;
}

#define FRES 8
static struct fres {
	int used;
	char name[64], props[256];
	struct hubmodel *m;
	unsigned clients;
} fres[FRES];

static struct fres *
fres_find(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++) {
		if (!fres[i].used || index-- > 0)
			continue;
		*out = (struct pb_res_info){ .struct_size = sizeof(*out),
		    .name = fres[i].name, .iface = "usb", .major = 1,
		    .props = fres[i].props, .owner = "usb",
		    .clients = fres[i].clients };
		return PB_OK;
	}
	return PB_ENOENT;
}

#define FCONNS 8
static struct pb_conn fconn[FCONNS];
static struct fres *fconn_res[FCONNS];
static unsigned connects, disconnects, subscribes;

static struct pb_conn *
conn_new(struct fres *r)
{
	for (unsigned i = 0; i < FCONNS; i++)
		if (!fconn_res[i]) {
			fconn_res[i] = r;
			r->clients++;
			fconn[i] = (struct pb_conn){ &fakeusb_ops, &r->m->u,
			    NULL, r->name };
			return &fconn[i];
		}
	return NULL;
}

/* One client per `usb` resource, as the bus would limit it. */
static struct pb_conn *
fake_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	struct fres *r = resname ? fres_find(resname) : NULL;

	if (!r || r->clients || strcmp(iface, "usb") != 0)
		return NULL;
	connects++;
	return conn_new(r);
}

static void
conn_drop(struct pb_conn *c)
{
	for (unsigned i = 0; i < FCONNS; i++)
		if (c == &fconn[i] && fconn_res[i]) {
			fconn_res[i]->clients--;
			fconn_res[i] = NULL;
		}
}

static void
fake_disconnect(struct pb_module *self, struct pb_conn *c)
{
	disconnects++;
	conn_drop(c);
}

static int
fake_subscribe(struct pb_module *self, const char *iface)
{
	subscribes++;
	return PB_OK;
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.subscribe = fake_subscribe,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
};

/* ---- the test's world ----------------------------------------------- */

static struct hubmodel hm1, hm2;
static int started;

static void
world_end(void)
{
	if (started)
		uh_stop(SELF);
	started = 0;
	for (unsigned i = 0; i < LEDGER; i++) {
		free(ledger[i]);
		ledger[i] = NULL;
	}
	fake_dma_reset();
	fakehub_reset();
	memset(fres, 0, sizeof(fres));
	memset(fconn_res, 0, sizeof(fconn_res));
	connects = disconnects = subscribes = 0;
}

/* A `usb` resource for model m: `usb:1-PORTS-0`, dev=pci:00:04.0/usb:PORTS. */
static struct fres *
add_res(struct hubmodel *m, const char *ports)
{
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			struct fres *r = &fres[i];

			r->used = 1;
			r->m = m;
			snprintf(r->name, sizeof(r->name), "usb:1-%s-0", ports);
			snprintf(r->props, sizeof(r->props), "vid=0409 "
			    "pid=55aa class=%02x subclass=00 protocol=%02x "
			    "if=0 speed=x path=pci:00:04.0/usb:%s/if:0 "
			    "dev=pci:00:04.0/usb:%s", m->u.info.cls,
			    m->u.info.protocol, ports, ports);
			return r;
		}
	return NULL;
}

static int
start(void)
{
	started = 1;
	return uh_start(SELF, &fake_hub, PB_START_NORMAL);
}

/* The bus publishes m's hub and the hub binds us to it (before start). */
static void
bind_hub(struct hubmodel *m, const char *ports)
{
	struct fres *r = add_res(m, ports);

	uh_event(SELF, PB_EV_CONNECTED, conn_new(r), PB_REQ_BIND);
}

/* Let ms milliseconds pass, 1 ms at a time, running what is due. */
static void
settle(unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		run_posted();
		hm_poll(&hm1);
		hm_poll(&hm2);
		run_posted();
		time_passes(1000000);
	}
	run_posted();
}

/* World with hub model m bound and started, set up (1 s). */
static int
world_one(struct hubmodel *m, const char *ports)
{
	world_end();
	bind_hub(m, ports);
	if (start() != PB_OK)
		return 0;
	settle(1000);
	return 1;
}

static int
trace_find(const struct fakeusb *u, unsigned from, uint8_t op, uint8_t type,
    uint8_t req, int value, int index)
{
	for (unsigned i = from; i < u->ntrace; i++) {
		const struct usb_setup *s = &u->trace[i].setup;

		if (u->trace[i].op != op)
			continue;
		if (op == USB_OP_XFER && (u->trace[i].ep != 0 ||
		    s->bmRequestType != type || s->bRequest != req ||
		    (value >= 0 && s->wValue != value) ||
		    (index >= 0 && s->wIndex != index)))
			continue;
		return (int)i;
	}
	return -1;
}

#define GET_PORT_STATUS(u, from, port) \
	trace_find(u, from, USB_OP_XFER, 0xa3, 0, 0, port)
#define SET_PORT_FEATURE(u, from, f, port) \
	trace_find(u, from, USB_OP_XFER, 0x23, 3, f, port)

static unsigned
count_intr(const struct fakeusb *u)
{
	unsigned n = 0;

	for (unsigned i = 0; i < u->ntrace; i++)
		n += u->trace[i].op == USB_OP_XFER && u->trace[i].ep == 0x81;
	return n;
}

static unsigned
lines_with(const char *needle)
{
	unsigned n = 0;

	for (const char *p = log_text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- set-up ------------------------------------------------------------ */

TEST(usbhub_setup_usb2_in_order)
{
	struct fakeusb *u = &hm1.u;
	int d, c, pw;

	hm_init_usb2(&hm1, 8, 1, 0x0009, 50);	/* 100 ms power good */
	world_end();
	bind_hub(&hm1, "1");
	REQUIRE(start() == PB_OK);
	settle(60);
	/* Descriptor, HUB_CONFIG, power on all 8: and no status yet. */
	d = trace_find(u, 0, USB_OP_XFER, 0xa0, 6, 0x2900, 0);
	c = trace_find(u, 0, USB_OP_HUB_CONFIG, 0, 0, 0, 0);
	CHECK(d == 0);
	CHECK(c > d);
	for (unsigned p = 1; p <= 8; p++) {
		pw = SET_PORT_FEATURE(u, 0, 8, p);
		CHECK_MSG(pw > c, "port %u powered at %d", p, pw);
		CHECK(u->trace[pw].flags & USB_REQ_REPLAY);
	}
	CHECK_EQ_INT(GET_PORT_STATUS(u, 0, -1), -1);
	CHECK_EQ_INT(count_intr(u), 0);
	CHECK_EQ_INT(hm1.hub_configs, 1);
	CHECK_EQ_INT(hm1.last_config.u.hub.nports, 8);
	CHECK_EQ_INT(hm1.last_config.u.hub.mtt, 0);
	CHECK_EQ_INT(hm1.last_config.u.hub.ttt, 0);
	CHECK_EQ_INT(hm1.depth, -1);
	CHECK_CONTAINS(log_text, "usb:1-1-0: 8 ports, USB 2.0 hub, single TT");
	/* After bPwrOn2PwrGood: every port read once, the bitmap armed. */
	settle(60);
	for (unsigned p = 1; p <= 8; p++)
		CHECK_MSG(GET_PORT_STATUS(u, 0, p) > c, "port %u", p);
	CHECK_EQ_INT(count_intr(u), 1);
	REQUIRE(fakeusb_held(u, 0x81) != NULL);
	CHECK_EQ_INT(fakeusb_held(u, 0x81)->length, 2);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 0), 0);
	world_end();
}

TEST(usbhub_setup_multi_tt_think_time)
{
	/* Protocol 2: several TTs; bits 6:5 = 2 (24 FS bit times). */
	hm_init_usb2(&hm1, 4, 2, 0x0040, 1);
	REQUIRE(world_one(&hm1, "3"));
	CHECK_EQ_INT(hm1.last_config.u.hub.nports, 4);
	CHECK_EQ_INT(hm1.last_config.u.hub.mtt, 1);
	CHECK_EQ_INT(hm1.last_config.u.hub.ttt, 2);
	CHECK_CONTAINS(log_text, "usb:1-3-0: 4 ports, USB 2.0 hub, multi TT");
	world_end();
}

TEST(usbhub_setup_usb3_depth)
{
	struct fakeusb *u = &hm1.u;
	int d, dp, c;

	hm_init_usb3(&hm1, 4, 10);
	REQUIRE(world_one(&hm1, "2.3"));
	d = trace_find(u, 0, USB_OP_XFER, 0xa0, 6, 0x2a00, 0);
	dp = trace_find(u, 0, USB_OP_XFER, 0x20, 12, 1, 0);
	c = trace_find(u, 0, USB_OP_HUB_CONFIG, 0, 0, 0, 0);
	CHECK(d >= 0 && dp > d && c > dp);
	CHECK(dp >= 0 && (u->trace[dp].flags & USB_REQ_REPLAY));
	CHECK_EQ_INT(hm1.depth, 1);	/* two ports from the root */
	CHECK_EQ_INT(hm1.last_config.u.hub.nports, 4);
	CHECK_EQ_INT(hm1.last_config.u.hub.mtt, 0);
	CHECK_CONTAINS(log_text, "usb:1-2.3-0: 4 ports, USB 3 hub, depth 1");
	CHECK_EQ_INT(count_intr(u), 1);
	world_end();
}

TEST(usbhub_refuses_255_ports)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm1.desc[2] = 255;
	hm1.desc[0] = hm1.desc_len = 71;
	REQUIRE(world_one(&hm1, "1"));
	CHECK_EQ_INT(hm1.hub_configs, 0);
	CHECK_EQ_INT(SET_PORT_FEATURE(&hm1.u, 0, 8, -1), -1);
	CHECK_EQ_INT(lines_with("hub descriptor refused"), 1);
	CHECK_CONTAINS(log_text, "255 ports (a hub has 1 to 15)");
	CHECK_EQ_INT(timers_armed(), 0);
	world_end();
}

TEST(usbhub_refuses_short_descriptor)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm1.desc_len = 5;
	REQUIRE(world_one(&hm1, "1"));
	CHECK_EQ_INT(hm1.hub_configs, 0);
	CHECK_EQ_INT(lines_with("hub descriptor refused: short hub "
	    "descriptor (5 bytes)"), 1);
	/* And one whose length leaves out DeviceRemovable. */
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm1.desc[0] = hm1.desc_len = 8;
	REQUIRE(world_one(&hm1, "1"));
	CHECK_EQ_INT(hm1.hub_configs, 0);
	CHECK_CONTAINS(log_text, "bDescLength 8 is short of the 9 bytes");
	world_end();
}

TEST(usbhub_refuses_a_sixth_hub)
{
	hm_init_usb2(&hm1, 4, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1.2.3.4.1.2"));
	CHECK_EQ_INT(hm1.u.ntrace, 0);
	CHECK_CONTAINS(log_text, "a hub 6 ports below the root: USB allows "
	    "5 hubs in a row");
	/* The fifth in a row is fine. */
	hm_init_usb2(&hm1, 4, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1.2.3.4.1"));
	CHECK_EQ_INT(hm1.hub_configs, 1);
	world_end();
}

/* ---- ports ------------------------------------------------------------- */

/* Plug a device of `speed` on port n of m and follow it to the bus. */
static void
check_connect(struct hubmodel *m, unsigned n, uint8_t speed)
{
	unsigned ev0 = m->nev;
	uint64_t t0 = fake_ns;
	int rs, on;

	hm_plug(m, n, speed);
	settle(90);
	CHECK_MSG(hm_find(m, ev0, HM_EV_RESET, (uint8_t)n) < 0,
	    "port %u reset before 100 ms of debounce", n);
	settle(200);
	rs = hm_find(m, ev0, HM_EV_RESET, (uint8_t)n);
	on = hm_find(m, ev0, USB_OP_PORT_ON, (uint8_t)n);
	REQUIRE(rs >= 0 && on > rs);
	/* USB 2.0 §7.1.7.3: 100 ms of debounce; the reset, then 10 ms of
	 * recovery (§7.1.7.5). */
	CHECK(m->ev[rs].ns - t0 >= 100 * MS);
	CHECK(m->ev[on].ns - m->ev[rs].ns >= m->reset_ns + 10 * MS);
	CHECK_EQ_INT(m->ev[on].speed, speed);
	CHECK_EQ_INT(m->port[n].change, 0);	/* every change cleared */
}

TEST(usbhub_connect_full_and_low_speed)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 2, USB_SPEED_FULL);
	check_connect(&hm1, 5, USB_SPEED_LOW);
	CHECK_CONTAINS(log_text, "usb:1-1-0: port 2: full-speed device");
	CHECK_CONTAINS(log_text, "usb:1-1-0: port 5: low-speed device");
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 0), 2);
	CHECK_EQ_INT(uh.hubs[0]->port[2].state, PORT_ON);
	world_end();
}

TEST(usbhub_connect_high_and_super_speed)
{
	hm_init_usb2(&hm1, 4, 1, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 4, USB_SPEED_HIGH);
	check_connect(&hm1, 1, USB_SPEED_FULL);		/* behind the TT */
	hm_init_usb3(&hm1, 4, 1);
	REQUIRE(world_one(&hm1, "4"));
	check_connect(&hm1, 3, USB_SPEED_SUPER);
	world_end();
}

TEST(usbhub_usb3_link_inactive_warm_reset)
{
	unsigned ev0;
	int warm, on;

	hm_init_usb3(&hm1, 4, 1);
	REQUIRE(world_one(&hm1, "2"));
	check_connect(&hm1, 2, USB_SPEED_SUPER);
	ev0 = hm1.nev;
	hm_link_inactive(&hm1, 2);
	settle(100);
	warm = hm_find(&hm1, ev0, HM_EV_WARM, 2);
	on = hm_find(&hm1, ev0, USB_OP_PORT_ON, 2);
	CHECK(warm >= 0 && on > warm);
	CHECK_EQ_INT(hm_find(&hm1, ev0, HM_EV_RESET, 2), -1);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 0), 0);
	CHECK_EQ_INT(lines_with("port 2: link in SS.Inactive"), 1);
	CHECK_EQ_INT(hm1.port[2].change, 0);
	world_end();
}

TEST(usbhub_device_there_at_setup)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm_plug(&hm1, 7, USB_SPEED_FULL);
	REQUIRE(world_one(&hm1, "1"));
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 7), 1);
	CHECK_EQ_INT(hm_count(&hm1, HM_EV_RESET, 0), 1);
	world_end();
}

TEST(usbhub_disconnect_port_off)
{
	int off;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 3, USB_SPEED_FULL);
	hm_unplug(&hm1, 3);
	settle(20);
	off = hm_find(&hm1, 0, USB_OP_PORT_OFF, 3);
	REQUIRE(off >= 0);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 0), 1);
	CHECK_EQ_INT(uh.hubs[0]->port[3].state, PORT_IDLE);
	CHECK_CONTAINS(log_text, "port 3: disconnected");
	/* Plugged again: a new device, through debounce and reset. */
	check_connect(&hm1, 3, USB_SPEED_LOW);
	world_end();
}

TEST(usbhub_two_at_once_reset_one_after_the_other)
{
	struct usb_req *r;
	int on1, rs2;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	hm1.hold_port_on = 1;
	hm_plug(&hm1, 2, USB_SPEED_FULL);
	hm_plug(&hm1, 6, USB_SPEED_LOW);
	settle(400);
	/* One was reset and handed to the bus; the other waits for the
	 * bus to answer (the device at address 0). */
	CHECK_EQ_INT(hm1.max_resetting, 1);
	CHECK_EQ_INT(hm_count(&hm1, HM_EV_RESET, 0), 1);
	REQUIRE(hm_count(&hm1, USB_OP_PORT_ON, 0) == 1);
	r = fakeusb_held(&hm1.u, 0);
	REQUIRE(r && r->op == USB_OP_PORT_ON);
	on1 = hm_find(&hm1, 0, USB_OP_PORT_ON, 0);
	hm1.hold_port_on = 0;
	fakeusb_complete(&hm1.u, r);
	settle(100);
	rs2 = hm_find(&hm1, (unsigned)on1, HM_EV_RESET, 0);
	CHECK(rs2 > on1);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 0), 2);
	CHECK(hm_count(&hm1, USB_OP_PORT_ON, 2) == 1 &&
	    hm_count(&hm1, USB_OP_PORT_ON, 6) == 1);
	CHECK_EQ_INT(hm1.max_resetting, 1);
	world_end();
}

TEST(usbhub_reset_never_completes)
{
	uint64_t t0;
	unsigned resets;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	hm1.reset_never = 1;
	hm_plug(&hm1, 4, USB_SPEED_FULL);
	t0 = fake_ns;
	settle(200 + UH_RESET_TRIES * 520);
	resets = hm_count(&hm1, HM_EV_RESET, 4);
	CHECK_EQ_INT(resets, UH_RESET_TRIES);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 0), 0);
	CHECK_EQ_INT(lines_with("port 4: reset failed"), 1);
	CHECK_CONTAINS(log_text, "no C_PORT_RESET in 500 ms");
	CHECK_EQ_INT(uh.hubs[0]->port[4].state, PORT_FAILED);
	CHECK(uh.resetting == NULL);
	CHECK(fake_ns - t0 < 2500 * MS);
	/* Nothing more is tried on that port, and the next one works. */
	settle(1000);
	CHECK_EQ_INT(hm_count(&hm1, HM_EV_RESET, 4), resets);
	hm1.reset_never = 0;
	check_connect(&hm1, 5, USB_SPEED_FULL);
	world_end();
}

TEST(usbhub_over_current_powers_again_bounded)
{
	int off;
	unsigned powers;

	hm_init_usb2(&hm1, 8, 0, 0x0008, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 2, USB_SPEED_FULL);
	powers = (unsigned)hm1.port[2].powers;
	hm_over_current(&hm1, 2);
	settle(50);
	off = hm_find(&hm1, 0, USB_OP_PORT_OFF, 2);
	CHECK(off >= 0);
	CHECK_EQ_INT(lines_with("port 2: over-current; powered again in "
	    "500 ms"), 1);
	CHECK_EQ_INT(hm1.port[2].powers, powers);	/* not yet */
	settle(500);
	CHECK_EQ_INT(hm1.port[2].powers, powers + 1);
	/* The device comes back: debounce, reset, PORT_ON again. */
	settle(300);
	CHECK(hm_find(&hm1, (unsigned)off, USB_OP_PORT_ON, 2) > off);
	CHECK_EQ_INT(uh.hubs[0]->port[2].state, PORT_ON);
	/* A port that over-currents whenever powered: given up. */
	hm1.port[2].oc_on_power = 1;
	hm_over_current(&hm1, 2);
	settle(5000);
	CHECK_EQ_INT(hm1.port[2].powers, powers + UH_OC_TRIES);
	CHECK_EQ_INT(lines_with("port 2: over-current again"), 1);
	CHECK(uh.hubs[0]->port[2].state != PORT_ON);
	settle(2000);
	CHECK_EQ_INT(hm1.port[2].powers, powers + UH_OC_TRIES);
	world_end();
}

TEST(usbhub_status_endpoint_stall_recovered)
{
	struct fakeusb *u = &hm1.u;
	unsigned n;
	int ch;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	hm1.intr_stalls = 1;
	/* The held request is answered with a STALL now. */
	REQUIRE(fakeusb_held(u, 0x81));
	hm1.halted = 1;
	hm1.intr_stalls = 0;
	fakeusb_held(u, 0x81)->status = USB_ESTALL;
	fakeusb_complete(u, fakeusb_held(u, 0x81));
	settle(5);
	ch = trace_find(u, 0, USB_OP_CLEAR_HALT, 0, 0, 0, 0);
	REQUIRE(ch >= 0);
	CHECK_EQ_INT(u->trace[ch].ep, 0x81);
	CHECK(fakeusb_held(u, 0x81) != NULL);	/* armed again */
	/* Every port was read again after the halt. */
	for (unsigned p = 1; p <= 8; p++)
		CHECK_MSG(GET_PORT_STATUS(u, (unsigned)ch, p) > ch, "port %u",
		    p);
	check_connect(&hm1, 1, USB_SPEED_FULL);
	/* Stalling again right after the clear: given up, one line, no
	 * loop. */
	n = count_intr(u);
	REQUIRE(fakeusb_held(u, 0x81));
	hm1.intr_stalls = 2;
	fakeusb_held(u, 0x81)->status = USB_ESTALL;
	hm1.halted = 1;
	fakeusb_complete(u, fakeusb_held(u, 0x81));
	settle(50);
	CHECK_EQ_INT(lines_with("stalls again after CLEAR_HALT"), 1);
	CHECK(fakeusb_held(u, 0x81) == NULL);
	CHECK_EQ_INT(count_intr(u), n + 1);
	world_end();
}

TEST(usbhub_control_stall_retried_once)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	hm1.ctl_fail = 1;
	hm1.ctl_fail_status = USB_ESTALL;
	hm1.ctl_fail_req = 0;		/* one GET_STATUS stalls */
	check_connect(&hm1, 3, USB_SPEED_FULL);
	CHECK(strstr(log_text, "failed") == NULL);
	/* Twice in a row: one line, and the port's device is not lost. */
	hm1.ctl_fail = 2;
	hm_plug(&hm1, 6, USB_SPEED_FULL);
	settle(400);
	CHECK_EQ_INT(lines_with("port 6: GET_STATUS failed (error -64)"), 1);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_ON, 6), 1);
	world_end();
}

TEST(usbhub_device_gone_stops)
{
	struct fakeusb *u = &hm1.u;
	unsigned n;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 2, USB_SPEED_FULL);
	/* The hub is unplugged: the bus cancels everything. */
	hm1.ctl_fail = 1000;
	hm1.ctl_fail_status = PB_ECANCELED;
	fakeusb_cancel(u, 0xff);
	hm_unplug(&hm1, 2);
	settle(100);
	n = u->ntrace;
	settle(1000);
	CHECK_EQ_INT(u->ntrace, n);		/* nothing more sent */
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 0), 0);	/* the bus's */
	CHECK_EQ_INT(timers_armed(), 0);
	/* The resource goes: the hub's memory with it. */
	uh_event(SELF, PB_EV_DISCONNECTED, &fconn[0], PB_REQ_BIND);
	CHECK(uh.hubs[0] == NULL);
	CHECK_EQ_INT(ledger_live(), 0);
	world_end();
}

/* ---- several hubs -------------------------------------------------------- */

TEST(usbhub_second_hub_taken_by_hand)
{
	struct fres *r;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm_init_usb2(&hm2, 4, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	CHECK_EQ_INT(subscribes, 1);
	check_connect(&hm1, 3, USB_SPEED_FULL);
	/* The bus found a hub on port 3: published, and we are told. */
	r = add_res(&hm2, "1.3");
	uh_event(SELF, PB_EV_RESOURCE, &(struct pb_conn){ .res = r->name },
	    PB_REQ_NONE);
	settle(500);
	CHECK_EQ_INT(r->clients, 1);
	CHECK_EQ_INT(hm2.hub_configs, 1);
	CHECK_CONTAINS(log_text, "usb:1-1.3-0: 4 ports, full-speed hub");
	/* Devices on both reset one at a time. */
	hm1.hold_port_on = 1;
	hm_plug(&hm1, 1, USB_SPEED_FULL);
	hm_plug(&hm2, 2, USB_SPEED_LOW);
	settle(400);
	CHECK_EQ_INT(hm_count(&hm1, HM_EV_RESET, 1) +
	    hm_count(&hm2, HM_EV_RESET, 2), 1);
	hm1.hold_port_on = 0;
	REQUIRE(fakeusb_held(&hm1.u, 0));
	fakeusb_complete(&hm1.u, fakeusb_held(&hm1.u, 0));
	settle(100);
	CHECK_EQ_INT(hm_count(&hm2, USB_OP_PORT_ON, 2), 1);
	CHECK_EQ_INT(hm2.ev[hm_find(&hm2, 0, USB_OP_PORT_ON, 2)].speed,
	    USB_SPEED_LOW);
	/* A hub that is not ours to take is left alone. */
	r = add_res(&hm2, "1.4");
	r->clients = 1;
	uh_event(SELF, PB_EV_RESOURCE, &(struct pb_conn){ .res = r->name },
	    PB_REQ_NONE);
	CHECK_EQ_INT(connects, 1);
	world_end();
}

TEST(usbhub_hubs_there_before_start)
{
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm_init_usb2(&hm2, 2, 0, 0, 1);
	world_end();
	bind_hub(&hm1, "1");
	add_res(&hm2, "1.1");
	REQUIRE(start() == PB_OK);
	settle(100);
	CHECK_EQ_INT(hm1.hub_configs, 1);
	CHECK_EQ_INT(hm2.hub_configs, 1);
	world_end();
}

/* ---- swaps --------------------------------------------------------------- */

TEST(usbhub_controller_swap_ports_on_again)
{
	unsigned ev0;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 2, USB_SPEED_FULL);
	check_connect(&hm1, 5, USB_SPEED_LOW);
	ev0 = hm1.nev;
	/* The bus enumerated the hub again and replayed its port power. */
	hm_hub_reset(&hm1);
	settle(600);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 0), 0);
	CHECK(hm_find(&hm1, ev0, USB_OP_PORT_ON, 2) >= 0);
	CHECK(hm_find(&hm1, ev0, USB_OP_PORT_ON, 5) >= 0);
	CHECK_EQ_INT(hm1.ev[hm_find(&hm1, ev0, USB_OP_PORT_ON, 5)].speed,
	    USB_SPEED_LOW);
	world_end();
}

TEST(usbhub_update_keeps_devices)
{
	static uint8_t state[4096];
	struct fakeusb *u = &hm1.u;
	size_t len = 0;
	uint32_t ver = 0;
	unsigned n0, ev0;
	struct fres *r2;
	struct pb_conn *bound;
	int q;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	hm_init_usb2(&hm2, 4, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	r2 = add_res(&hm2, "1.3");
	check_connect(&hm1, 3, USB_SPEED_FULL);
	uh_event(SELF, PB_EV_RESOURCE, &(struct pb_conn){ .res = r2->name },
	    PB_REQ_NONE);
	settle(300);
	check_connect(&hm2, 4, USB_SPEED_LOW);
	/* Quiesce: the status requests are cancelled, then it is done. */
	q = uh_quiesce(SELF);
	CHECK(q == PB_EAGAIN || q == PB_OK);
	run_posted();
	CHECK_EQ_INT(uh_quiesce(SELF), PB_OK);
	CHECK(fakeusb_held(u, 0x81) == NULL);
	CHECK(fakeusb_held(&hm2.u, 0x81) == NULL);
	CHECK_EQ_INT(uh_export(SELF, NULL, 0, &len, &ver), PB_OK);
	REQUIRE(len <= sizeof(state));
	CHECK_EQ_INT(uh_export(SELF, state, sizeof(state), &len, &ver),
	    PB_OK);
	CHECK_EQ_INT(uh_release(SELF), PB_OK);
	CHECK_EQ_INT(r2->clients, 0);	/* let go for the next instance */
	/* The old instance goes (its bound hub handed over by the hub). */
	bound = &fconn[0];
	uh_stop(SELF);
	REQUIRE(ledger_live() == 0);
	n0 = u->ntrace;
	ev0 = hm1.nev;
	/* The new one: standby with the bound hub, import, activate. */
	uh_event(SELF, PB_EV_CONNECTED, bound, PB_REQ_BIND);
	REQUIRE(uh_start(SELF, &fake_hub, PB_START_STANDBY) == PB_OK);
	CHECK_EQ_INT(u->ntrace, n0);	/* no request in standby */
	CHECK_EQ_INT(uh_import(SELF, state, len, ver), PB_OK);
	CHECK_EQ_INT(uh_activate(SELF), PB_OK);
	settle(500);
	CHECK_EQ_INT(r2->clients, 1);
	/* No set-up again, no device lost or told again. */
	CHECK_EQ_INT(hm1.hub_configs, 1);
	CHECK_EQ_INT(hm2.hub_configs, 1);
	CHECK_EQ_INT(SET_PORT_FEATURE(u, n0, 8, -1), -1);
	CHECK_EQ_INT(hm_find(&hm1, ev0, USB_OP_PORT_ON, 0), -1);
	CHECK_EQ_INT(hm_find(&hm1, ev0, HM_EV_RESET, 0), -1);
	CHECK_EQ_INT(hm_count(&hm2, USB_OP_PORT_ON, 0), 1);
	for (unsigned p = 1; p <= 8; p++)
		CHECK_MSG(GET_PORT_STATUS(u, n0, p) >= 0, "port %u", p);
	CHECK(fakeusb_held(u, 0x81) && fakeusb_held(&hm2.u, 0x81));
	CHECK_CONTAINS(log_text, "usb:1-1-0: 8 ports, 1 devices on them: "
	    "taken over");
	/* The new instance knows port 3 is on: unplugged, PORT_OFF. */
	hm_unplug(&hm1, 3);
	settle(20);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 3), 1);
	hm_unplug(&hm2, 4);
	settle(20);
	CHECK_EQ_INT(hm_count(&hm2, USB_OP_PORT_OFF, 4), 1);
	world_end();
}

TEST(usbhub_quiesce_waits_for_port_on_then_resumes)
{
	struct fakeusb *u = &hm1.u;
	struct usb_req *r;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	hm1.hold_port_on = 1;
	hm_plug(&hm1, 2, USB_SPEED_FULL);
	settle(300);
	r = fakeusb_held(u, 0);
	REQUIRE(r && r->op == USB_OP_PORT_ON);
	CHECK_EQ_INT(uh_quiesce(SELF), PB_EAGAIN);
	run_posted();
	CHECK_EQ_INT(uh_quiesce(SELF), PB_EAGAIN);	/* PORT_ON is out */
	fakeusb_complete(u, r);
	run_posted();
	CHECK_EQ_INT(uh_quiesce(SELF), PB_OK);
	CHECK_EQ_INT(timers_armed(), 0);
	/* The swap failed: serve again, every port read again. */
	hm1.hold_port_on = 0;
	u->ntrace = 0;
	CHECK_EQ_INT(uh_resume(SELF), PB_OK);
	settle(50);
	CHECK(fakeusb_held(u, 0x81) != NULL);
	CHECK(GET_PORT_STATUS(u, 0, 8) >= 0);
	CHECK_EQ_INT(uh.hubs[0]->port[2].state, PORT_ON);
	hm_unplug(&hm1, 2);
	settle(20);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 2), 1);
	world_end();
}

/* The bus asks for a port's reset (a device there reset for its own
 * driver, reset.c): the port is reset and PORT_ON sent again without a
 * PORT_OFF, and the standing request goes again; a port with nothing is
 * left alone; quiesce cancels the request and waits for it; a 1.0 bus,
 * which refuses it, is not asked again. */
TEST(usbhub_port_reset_asked_by_the_bus)
{
	struct fakeusb *u = &hm1.u;
	unsigned ev0;
	int rs, on;

	hm_init_usb2(&hm1, 8, 0, 0, 1);
	u->hub_reset_wait = 1;
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 3, USB_SPEED_FULL);
	CHECK_EQ_INT(fakeusb_traced(u, USB_OP_HUB_RESET_WAIT), 1);
	ev0 = hm1.nev;
	REQUIRE(fakeusb_hub_reset_port(u, 3));
	settle(200);
	rs = hm_find(&hm1, ev0, HM_EV_RESET, 3);
	on = hm_find(&hm1, ev0, USB_OP_PORT_ON, 3);
	CHECK(rs >= 0 && on > rs);
	CHECK_EQ_INT(hm_count(&hm1, USB_OP_PORT_OFF, 0), 0);
	CHECK_CONTAINS(log_text, "usb:1-1-0: port 3: reset for its device's "
	    "driver");
	CHECK_EQ_INT(uh.hubs[0]->port[3].state, PORT_ON);
	CHECK_EQ_INT(fakeusb_traced(u, USB_OP_HUB_RESET_WAIT), 2);
	/* nothing on port 6: not reset */
	ev0 = hm1.nev;
	REQUIRE(fakeusb_hub_reset_port(u, 6));
	settle(200);
	CHECK(hm_find(&hm1, ev0, HM_EV_RESET, 6) < 0);
	CHECK_CONTAINS(log_text, "port 6: the bus asked a reset of a port "
	    "with no device it has: not done");
	CHECK_EQ_INT(fakeusb_traced(u, USB_OP_HUB_RESET_WAIT), 3);
	/* quiesce: cancelled alone, and waited for */
	CHECK_EQ_INT(uh_quiesce(SELF), PB_EAGAIN);
	run_posted();
	CHECK_EQ_INT(uh_quiesce(SELF), PB_OK);
	CHECK(!uh.hubs[0]->rwait_busy);
	CHECK_EQ_INT(uh_resume(SELF), PB_OK);
	settle(20);
	CHECK_EQ_INT(fakeusb_traced(u, USB_OP_HUB_RESET_WAIT), 4);
	world_end();
	/* a usb 1.0 bus refuses it once */
	hm_init_usb2(&hm1, 8, 0, 0, 1);
	REQUIRE(world_one(&hm1, "1"));
	check_connect(&hm1, 3, USB_SPEED_FULL);
	CHECK_EQ_INT(fakeusb_traced(u, USB_OP_HUB_RESET_WAIT), 1);
	CHECK(uh.hubs[0]->rwait_refused);
	CHECK(!strstr(log_text, "HUB_RESET_WAIT"));
	world_end();
}

TEST(usbhub_import_refuses_bad_state)
{
	struct {
		struct uh_state st;
		struct uh_state_hub h;
	} s;

	memset(&s, 0, sizeof(s));
	s.st.nhubs = 1;
	memset(s.h.res, 'x', sizeof(s.h.res));		/* no NUL */
	CHECK_EQ_INT(uh_import(SELF, &s, sizeof(s), UH_STATE_VERSION),
	    PB_EINVAL);
	strcpy(s.h.res, "usb:1-1-0");
	s.h.configured = 1;
	s.h.nports = 200;
	CHECK_EQ_INT(uh_import(SELF, &s, sizeof(s), UH_STATE_VERSION),
	    PB_EINVAL);
	s.h.nports = 8;
	CHECK_EQ_INT(uh_import(SELF, &s, sizeof(s) - 1, UH_STATE_VERSION),
	    PB_EINVAL);
	CHECK_EQ_INT(uh_import(SELF, &s, sizeof(s), 1), PB_ESTATE);
	CHECK_EQ_INT(uh_import(SELF, &s, sizeof(s), UH_STATE_VERSION), PB_OK);
	swap_forget();
}

/* ---- the descriptor parsers directly ------------------------------------- */

TEST(usbhub_desc_parse)
{
	/* QEMU's usb-hub: 8 ports, one PortPwrCtrlMask byte short. */
	static const uint8_t qemu[] = { 10, 0x29, 8, 0x0a, 0, 1, 0, 0, 0,
	    0xff };
	static const uint8_t ss[] = { 12, 0x2a, 4, 0x09, 0, 50, 0, 4, 0, 0,
	    0, 0 };
	struct hub_desc d;
	char why[80];

	CHECK_EQ_INT(hub_desc_parse(qemu, sizeof(qemu), 0, &d, why,
	    sizeof(why)), PB_OK);
	CHECK_EQ_INT(d.nports, 8);
	CHECK_EQ_INT(d.pwr_good_ms, 2);
	CHECK_EQ_INT(hub_desc_parse(ss, sizeof(ss), 1, &d, why, sizeof(why)),
	    PB_OK);
	CHECK_EQ_INT(d.pwr_good_ms, 100);
	CHECK_EQ_INT(hub_desc_parse(ss, sizeof(ss), 0, &d, why, sizeof(why)),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "type 0x2a, not 0x29");
	CHECK_EQ_INT(hub_desc_parse(ss, 11, 1, &d, why, sizeof(why)),
	    PB_EINVAL);
	CHECK_EQ_INT(hub_desc_parse(NULL, 0, 1, &d, why, sizeof(why)),
	    PB_EINVAL);
	CHECK_EQ_INT(hub_chain_from_dev("pci:00:04.0/usb:5.2"), 2);
	CHECK_EQ_INT(hub_chain_from_dev("pci:00:04.0/usb:5.2/if:0"), 0);
	CHECK_EQ_INT(hub_chain_from_dev("pci:00:04.0/usb:5..2"), 0);
	CHECK_EQ_INT(hub_chain_from_dev("pci:00:04.0/usb:0"), 0);
	CHECK_EQ_INT(hub_chain_from_name("usb:1-5.2.1-0"), 3);
	CHECK_EQ_INT(hub_chain_from_name("usb:1-5.2.1"), 0);
}
