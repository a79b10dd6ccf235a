/*
 * mod_usb_kbd.c - the usb-kbd module's real code against the shared fake
 * `usb` interface (fakeusb.h: a boot keyboard's interface whose requests
 * the test answers) and a fake hub (fakehub.h: work items run when the
 * test says, timers run as time passes, DMA with bus addresses of their
 * own).  A keyboard's reports are the test completing the held
 * interrupt-IN request with 8 bytes; its client is the test reading the
 * published keyboard_ops.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"
#include "../../abi/console.h"

#include "../../mods/usb-kbd/hidmap.c"
#include "../../mods/usb-kbd/report.c"
#include "../../mods/usb-kbd/desc.c"
#include "../../mods/usb-kbd/ctl.c"
#include "../../mods/usb-kbd/intr.c"
#include "../../mods/usb-kbd/keys.c"
#include "../../mods/usb-kbd/repeat.c"
#include "../../mods/usb-kbd/state.c"
#include "../../abi/rt/keyq.c"
#include "../../abi/rt/keymap.c"
#include "../../abi/rt/keymap_us.c"
#include "../../abi/rt/keymap_gb.c"
#include "../../abi/rt/keymap_de.c"
#include "../../abi/rt/keymap_fr.c"
#include "../../abi/rt/keymap_es.c"
#include "../../abi/rt/keymap_it.c"
#include "../../abi/rt/setting.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo usbkbd_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/usb-kbd/usbkbd.c"

#include "fakehub.h"
#include "fakeusb.h"

#define EP_IN	0x81
#define NDEV	5
#define NPUB	6

/* ---- the usb interfaces: fake resources the hub lists ------------------ */

static struct dev {
	struct fakeusb u;
	struct pb_conn conn;
	char name[32];
	char props[160];
	int listed, connected;
	int stall_idle;		/* SET_IDLE answers USB_ESTALL */
	int stall_leds;		/* SET_REPORT too: a keyboard without LEDs */
} devs[NDEV];

/* Control requests complete at once; interrupt IN waits for the test. */
static int
device(struct fakeusb *u, struct usb_req *r)
{
	struct dev *d = u->device_data;

	if (r->op == USB_OP_XFER && r->ep == EP_IN)
		return 0;
	if (r->op == USB_OP_XFER && r->ep == 0 && ((d->stall_idle &&
	    r->u.setup.bRequest == 0x0a) || (d->stall_leds &&
	    r->u.setup.bRequest == 0x09)))
		r->status = USB_ESTALL;
	r->actual = r->length;
	return 1;
}

/* A boot keyboard's interface: interface, HID, interrupt IN. */
static struct dev *
dev_make(int i, uint8_t cls, uint16_t mps)
{
	static const uint8_t hid[9] = { 9, USB_DT_HID, 0x11, 0x01, 0, 1,
	    0x22, 63, 0 };
	struct dev *d = &devs[i];

	memset(d, 0, sizeof(*d));
	fakeusb_init(&d->u, cls, 1, 1, USB_SPEED_FULL);
	d->u.info.iface = (uint8_t)i;
	d->u.device = device;
	d->u.device_data = d;
	fakeusb_add_interface(&d->u, 1);
	fakeusb_add_desc(&d->u, hid, sizeof(hid));
	fakeusb_add_endpoint(&d->u, EP_IN, USB_EP_INTERRUPT, mps, 10);
	snprintf(d->name, sizeof(d->name), "usb:1-%d-%d", i + 1, i);
	snprintf(d->props, sizeof(d->props), "vid=0627 pid=0001 class=%02x "
	    "subclass=01 protocol=01 if=%d speed=full "
	    "path=pci:00:04.0/usb:%d/if:%d", cls, i, i + 1, i);
	d->conn = (struct pb_conn){ .ops = &fakeusb_ops, .ctx = &d->u,
	    .res = d->name };
	d->listed = 1;
	return d;
}

/* ---- the fake hub -------------------------------------------------------- */

static struct pubres {
	int used;
	char name[48];
	char props[128];
	const struct keyboard_ops *ops;
	void *ctx;
} pubs[NPUB];
static int subscriptions;

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	for (int i = 0; i < NPUB; i++)
		if (!pubs[i].used) {
			pubs[i].used = 1;
			snprintf(pubs[i].name, sizeof(pubs[i].name), "%s:%s",
			    iface, name);
			snprintf(pubs[i].props, sizeof(pubs[i].props), "%s",
			    props);
			pubs[i].ops = ops;
			pubs[i].ctx = ctx;
			return (struct pb_resource *)&pubs[i];
		}
	return NULL;
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	((struct pubres *)r)->used = 0;
	return PB_OK;
}

static struct pubres *
pub(const char *name)
{
	for (int i = 0; i < NPUB; i++)
		if (pubs[i].used && strcmp(pubs[i].name, name) == 0)
			return &pubs[i];
	return NULL;
}

static int
usb_res_info(const char *module, unsigned index, struct pb_res_info *out)
{
	for (int i = 0; i < NDEV; i++) {
		if (!devs[i].listed || index--)
			continue;
		out->name = devs[i].name;
		out->iface = USB_IFACE;
		out->props = devs[i].props;
		out->owner = "usb";
		out->clients = (uint32_t)devs[i].connected;
		return PB_OK;
	}
	return PB_ENOENT;
}

static struct pb_conn *
fake_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *name)
{
	for (int i = 0; i < NDEV; i++)
		if (devs[i].listed && strcmp(devs[i].name, name) == 0 &&
		    !devs[i].connected && strcmp(iface, USB_IFACE) == 0) {
			devs[i].connected = 1;
			return &devs[i].conn;
		}
	return NULL;
}

static void
fake_disconnect(struct pb_module *self, struct pb_conn *c)
{
	for (int i = 0; i < NDEV; i++)
		if (&devs[i].conn == c)
			devs[i].connected = 0;
}

static int
fake_subscribe(struct pb_module *self, const char *iface)
{
	subscriptions += strcmp(iface, USB_IFACE) == 0;
	return PB_OK;
}

/* The module's keyboard slots (kept until the module goes: never freed
 * while it runs). */
static void *
fake_alloc(struct pb_module *self, size_t n)
{
	(void)self;
	return calloc(1, n);
}

static void
fake_free(struct pb_module *self, void *p)
{
	(void)self;
	free(p);
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.publish = fake_publish,
	.withdraw = fake_withdraw,
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.subscribe = fake_subscribe,
	.queue_work = fake_queue_work,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
	.res_info = usb_res_info,
	.alloc = fake_alloc,
	.free = fake_free,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
};

/* ---- the world ----------------------------------------------------------- */

static unsigned notified;

static void
client_told(void *arg)
{
	(void)arg;
	notified++;
}

static void
world(void)
{
	fakehub_reset();
	fake_dma_reset();
	memset(pubs, 0, sizeof(pubs));
	memset(devs, 0, sizeof(devs));
	for (unsigned i = 0; i < USBKBD_MAX; i++)
		free(uk.kbd[i]);	/* the hub takes them back at unload */
	memset(&uk, 0, sizeof(uk));
	subscriptions = 0;
	notified = 0;
}

/* The hub's part of a bind: the connection, then start. */
static int
start_on(struct dev *d, int mode)
{
	d->connected = 1;
	ukbd_ops.event(SELF, PB_EV_CONNECTED, &d->conn, PB_REQ_BIND);
	return ukbd_ops.start(SELF, &fake_hub, mode);
}

/* A keyboard on device 0, started, set up, its request held. */
static struct pubres *
one_keyboard(void)
{
	struct pubres *p;

	world();
	dev_make(0, USB_CLASS_HID, 8);
	if (start_on(&devs[0], PB_START_NORMAL) != PB_OK)
		return NULL;
	run_posted();
	p = pub("keyboard:usbkbd0");
	if (p)
		p->ops->notify(p->ctx, SELF, client_told, NULL);
	return p;
}

/* The bus completes r: its status written (PB_OK unless the test set
 * one), as a bus does at completion only. */
static void
bus_complete(struct fakeusb *u, struct usb_req *r)
{
	if (r->status == USBKBD_PENDING)
		r->status = PB_OK;
	fakeusb_complete(u, r);
}

/* The keyboard sends a report: its held request completes with it. */
static int
report(struct dev *d, uint8_t mods, uint8_t k0, uint8_t k1, uint8_t k2)
{
	uint8_t rep[8] = { mods, 0, k0, k1, k2, 0, 0, 0 };
	struct usb_req *r = fakeusb_held(&d->u, EP_IN);

	if (!r || r->op != USB_OP_XFER || r->length != 8)
		return 0;
	fakeusb_reply(r, rep, sizeof(rep));
	bus_complete(&d->u, r);
	run_posted();
	run_work();		/* the client's notify */
	return 1;
}

/* The held interrupt request completes with status st. */
static int
intr_fails(struct dev *d, int st)
{
	struct usb_req *r = fakeusb_held(&d->u, EP_IN);

	if (!r)
		return 0;
	r->status = st;
	bus_complete(&d->u, r);
	run_posted();
	return 1;
}

/* The events the client reads now, as "a+ a- A+(s) ..." */
static const char *
read_all(struct pubres *p)
{
	static char out[512];
	struct key_event ev;
	size_t n = 0;

	out[0] = '\0';
	while (p->ops->read(p->ctx, &ev) == PB_OK && n < sizeof(out) - 40) {
		char name[16];

		if (ev.code >= 0x20 && ev.code < 0x7f)
			snprintf(name, sizeof(name), "%c", (char)ev.code);
		else if (ev.code == '\r')
			snprintf(name, sizeof(name), "CR");
		else if (ev.code >= KEY_F1 && ev.code <= KEY_F12)
			snprintf(name, sizeof(name), "F%u", ev.code - KEY_F1 + 1);
		else
			snprintf(name, sizeof(name), "#%x", ev.code);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s%c",
		    n ? " " : "", name, ev.pressed ? '+' : '-');
		if (ev.mods)
			n += (size_t)snprintf(out + n, sizeof(out) - n,
			    "(%s%s%s%s%s)", ev.mods & KEYMOD_SHIFT ? "s" : "",
			    ev.mods & KEYMOD_CTRL ? "c" : "",
			    ev.mods & KEYMOD_ALT ? "a" : "",
			    ev.mods & KEYMOD_CAPS ? "C" : "",
			    ev.mods & KEYMOD_NUM ? "N" : "");
	}
	return out;
}

/* The last SET_REPORT's LED byte the device got, or -1. */
static int led_byte = -1;

static int
led_device(struct fakeusb *u, struct usb_req *r)
{
	if (r->op == USB_OP_XFER && r->ep == 0 && r->u.setup.bRequest == 0x09) {
		uint8_t b;

		if (fakeusb_out_data(r, &b, 1) == 1)
			led_byte = b;
	}
	return device(u, r);
}

static unsigned
count_trace(const struct fakeusb *u, uint8_t op, uint8_t ep, int breq)
{
	unsigned n = 0;

	for (unsigned i = 0; i < u->ntrace; i++)
		n += u->trace[i].op == op && u->trace[i].ep == ep &&
		    (breq < 0 || u->trace[i].setup.bRequest == breq);
	return n;
}

/* The trace entry of the last SET_REPORT sent. */
static unsigned
last_set_report(const struct fakeusb *u)
{
	for (unsigned i = u->ntrace; i-- > 0;)
		if (u->trace[i].op == USB_OP_XFER && u->trace[i].ep == 0 &&
		    u->trace[i].setup.bRequest == 0x09)
			return i;
	return 0;
}

/* ---- the tests ------------------------------------------------------------ */

TEST(usbkbd_setup_requests_in_order_marked_for_replay)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;

	REQUIRE(p != NULL);
	CHECK_STR(p->props, "path=pci:00:04.0/usb:1/if:0 layout=us");
	REQUIRE(u->ntrace == 4);
	/* SET_PROTOCOL(boot) and SET_IDLE(0), class requests to the
	 * interface, replayed by the bus after a controller swap. */
	CHECK_EQ_INT(u->trace[0].setup.bmRequestType, 0x21);
	CHECK_EQ_INT(u->trace[0].setup.bRequest, 0x0b);
	CHECK_EQ_INT(u->trace[0].setup.wValue, 0);
	CHECK_EQ_INT(u->trace[0].setup.wIndex, 0);
	CHECK_EQ_INT(u->trace[0].flags, USB_REQ_REPLAY);
	CHECK_EQ_INT(u->trace[1].setup.bmRequestType, 0x21);
	CHECK_EQ_INT(u->trace[1].setup.bRequest, 0x0a);
	CHECK_EQ_INT(u->trace[1].setup.wValue, 0);
	CHECK_EQ_INT(u->trace[1].flags, USB_REQ_REPLAY);
	/* Then the standing report request, 8 bytes on the interrupt IN. */
	CHECK_EQ_INT(u->trace[2].op, USB_OP_XFER);
	CHECK_EQ_INT(u->trace[2].ep, EP_IN);
	CHECK_EQ_INT(u->trace[2].length, 8);
	CHECK_EQ_INT(u->trace[2].flags, 0);
	/* And the LEDs as the locks are (none), an output report. */
	CHECK_EQ_INT(u->trace[3].setup.bRequest, 0x09);
	CHECK_EQ_INT(u->trace[3].setup.wValue, 0x0200);
	CHECK_EQ_INT(u->trace[3].setup.wLength, 1);
	CHECK_EQ_INT(u->trace[3].flags, USB_REQ_REPLAY);
	CHECK_EQ_INT(u->refused, 0);
	CHECK_EQ_INT(u->nheld, 1);
	CHECK_EQ_INT(subscriptions, 1);
	CHECK_CONTAINS(log_text, "usbkbd0: boot keyboard on usb:1-1-0 at "
	    "pci:00:04.0/usb:1/if:0: interface 0, interrupt IN 0x81");
	/* Said once its report request is out (test_usbgone waits for it). */
	CHECK_CONTAINS(log_text, "usbkbd0: set up: its reports are read");
	/* The interface's number is the requests' wIndex. */
	world();
	dev_make(2, USB_CLASS_HID, 8);
	REQUIRE(start_on(&devs[2], PB_START_NORMAL) == PB_OK);
	run_posted();
	CHECK_EQ_INT(devs[2].u.trace[0].setup.wIndex, 2);
	CHECK_EQ_INT(devs[2].u.trace[1].setup.wIndex, 2);
}

TEST(usbkbd_reports_press_and_release)
{
	struct pubres *p = one_keyboard();

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));	/* a */
	CHECK_STR(read_all(p), "a+");
	CHECK(notified >= 1);
	REQUIRE(report(&devs[0], 0, 0x04, 0x05, 0));	/* a, b */
	REQUIRE(report(&devs[0], 0, 0x05, 0, 0));	/* b */
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "b+ a- b-");
	/* Enter, Esc, Backspace, Tab, F1, F12, arrows, the nav block. */
	REQUIRE(report(&devs[0], 0, 0x28, 0x29, 0x2a));
	REQUIRE(report(&devs[0], 0, 0x2b, 0x3a, 0x45));
	REQUIRE(report(&devs[0], 0, 0x4f, 0x50, 0x51));
	REQUIRE(report(&devs[0], 0, 0x52, 0x4a, 0x4d));
	REQUIRE(report(&devs[0], 0, 0x49, 0x4c, 0x4b));
	REQUIRE(report(&devs[0], 0, 0x4e, 0, 0));
	CHECK_STR(read_all(p), "CR+ #110016+ #8+ CR- #110016- #8- "
	    "#9+ F1+ F12+ #9- F1- F12- "
	    "#110003+ #110002+ #110001+ #110003- #110002- #110001- "
	    "#110000+ #110004+ #110005+ #110000- #110004- #110005- "
	    "#110006+ #110007+ #110008+ #110006- #110007- #110008- #110009+");
	/* The reports themselves came through DMA at a bus address. */
	CHECK(uk.kbd[0]->rseg.bus != (uint64_t)(uintptr_t)uk.kbd[0]->buf);
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_modifiers_and_shifted_letters)
{
	struct pubres *p = one_keyboard();

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0, 0, 0));
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x04, 0, 0));	/* A */
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x04, 0x1e, 0));	/* ! */
	REQUIRE(report(&devs[0], 0, 0, 0, 0));	/* all up together */
	CHECK_STR(read_all(p), "A+(s) !+(s) A-(s) !-(s)");
	REQUIRE(report(&devs[0], HID_MOD_RSHIFT, 0x38, 0, 0));	/* ? */
	REQUIRE(report(&devs[0], HID_MOD_RSHIFT, 0, 0, 0));
	/* shift and the key in the same report: shifted */
	REQUIRE(report(&devs[0], HID_MOD_RSHIFT | HID_MOD_RCTRL, 0x33, 0, 0));
	REQUIRE(report(&devs[0], HID_MOD_LCTRL, 0, 0, 0));
	REQUIRE(report(&devs[0], HID_MOD_LCTRL, 0x06, 0, 0));
	REQUIRE(report(&devs[0], HID_MOD_LALT | HID_MOD_RALT, 0x06, 0, 0));
	REQUIRE(report(&devs[0], HID_MOD_LGUI, 0, 0, 0));
	/* A key goes up with the modifiers it was held with; a modifier
	 * alone gives nothing. */
	CHECK_STR(read_all(p), "?+(s) ?-(s) :+(sc) :-(sc) c+(c) c-(a)");
	/* The non-US keys: # beside Enter types \ (US layout), the ISO
	 * key beside left shift nothing. */
	REQUIRE(report(&devs[0], 0, 0x32, 0, 0));
	REQUIRE(report(&devs[0], 0, 0x64, 0, 0));
	CHECK_STR(read_all(p), "\\+ \\-");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_caps_lock_toggles_with_its_led)
{
	struct pubres *p;

	led_byte = -1;
	world();
	dev_make(0, USB_CLASS_HID, 8);
	devs[0].u.device = led_device;
	REQUIRE(start_on(&devs[0], PB_START_NORMAL) == PB_OK);
	run_posted();
	REQUIRE((p = pub("keyboard:usbkbd0")) != NULL);
	CHECK_EQ_INT(led_byte, 0);
	REQUIRE(report(&devs[0], 0, 0x39, 0, 0));		/* caps down */
	CHECK_EQ_INT(led_byte, 0x02);
	CHECK_EQ_INT(count_trace(&devs[0].u, USB_OP_XFER, 0, 0x09), 2);
	CHECK_EQ_INT(devs[0].u.trace[last_set_report(&devs[0].u)].flags,
	    USB_REQ_REPLAY);
	REQUIRE(report(&devs[0], 0, 0x39, 0x04, 0));	/* held: no toggle */
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));		/* caps up */
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x04, 0x1e, 0));
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x05, 0, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	/* Caps shifts letters only, and shift undoes it. */
	CHECK_STR(read_all(p), "A+(C) !+(sC) a-(sC) !-(sC) b+(sC) b-(sC)");
	CHECK_EQ_INT(count_trace(&devs[0].u, USB_OP_XFER, 0, 0x09), 2);
	REQUIRE(report(&devs[0], 0, 0x39, 0, 0));		/* off again */
	CHECK_EQ_INT(led_byte, 0);
	REQUIRE(report(&devs[0], 0, 0x47, 0, 0));		/* scroll lock */
	CHECK_EQ_INT(led_byte, 0x04);
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "");
	/* The client sets the locks: the LEDs follow. */
	CHECK_EQ_INT(p->ops->set_leds(p->ctx, KEYMOD_CAPS | KEYMOD_NUM),
	    PB_OK);
	run_posted();
	CHECK_EQ_INT(led_byte, 0x03);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "A+(CN)");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_num_lock_and_the_keypad)
{
	struct pubres *p = one_keyboard();

	REQUIRE(p != NULL);
	/* Without num lock: the navigation keys; 5 gives nothing. */
	REQUIRE(report(&devs[0], 0, 0x59, 0x5d, 0x62));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "#110005+ #110006+ #110005- #110006-");
	REQUIRE(report(&devs[0], 0, 0x53, 0, 0));		/* num lock */
	REQUIRE(report(&devs[0], 0, 0x59, 0x5d, 0x63));
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x59, 0x5d, 0x63));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	/* Shift inverts it, as on ps2; the operators and Enter are the
	 * same either way. */
	CHECK_STR(read_all(p), "1+(N) 5+(N) .+(N) #110005-(sN) "
	    "#110007-(sN)");
	REQUIRE(report(&devs[0], 0, 0x54, 0x55, 0x58));
	REQUIRE(report(&devs[0], 0, 0x56, 0x57, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "/+(N) *+(N) CR+(N) /-(N) *-(N) CR-(N) "
	    "-+(N) ++(N) --(N) +-(N)");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_phantom_reports_are_ignored)
{
	struct pubres *p = one_keyboard();
	uint8_t phantom[8] = { HID_MOD_LSHIFT, 0, 1, 1, 1, 1, 1, 1 };
	struct usb_req *r;

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0x05, 0));
	REQUIRE((r = fakeusb_held(&devs[0].u, EP_IN)) != NULL);
	fakeusb_reply(r, phantom, sizeof(phantom));
	bus_complete(&devs[0].u, r);
	run_posted();
	REQUIRE(report(&devs[0], 0, 0x05, 0, 0));	/* a went up */
	CHECK_STR(read_all(p), "a+ b+ a-");
	/* A short report is counted, said once, and changes nothing. */
	REQUIRE((r = fakeusb_held(&devs[0].u, EP_IN)) != NULL);
	fakeusb_reply(r, phantom, 3);
	bus_complete(&devs[0].u, r);
	run_posted();
	CHECK_STR(read_all(p), "");
	CHECK_CONTAINS(log_text, "usbkbd0: 1 reports shorter than the boot "
	    "report's 8 bytes ignored (last 3)");
	CHECK_EQ_INT(devs[0].u.nheld, 1);	/* armed again */
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_repeat_by_timer)
{
	struct pubres *p = one_keyboard();

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+");
	time_passes(REPEAT_DELAY_NS - 1000000);
	CHECK_STR(read_all(p), "");
	time_passes(1000000);
	CHECK_STR(read_all(p), "a+");
	time_passes(REPEAT_EVERY_NS);
	time_passes(REPEAT_EVERY_NS);
	/* Repeats take the modifiers of their moment. */
	REQUIRE(report(&devs[0], HID_MOD_RCTRL, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+ a+");
	/* A modifier going down is the last key: the repeat stopped. */
	time_passes(10 * REPEAT_EVERY_NS);
	CHECK_STR(read_all(p), "");
	CHECK_EQ_INT(timers_armed(), 0);
	/* Another key pressed repeats instead; its release ends it. */
	REQUIRE(report(&devs[0], 0, 0x04, 0x05, 0));
	time_passes(REPEAT_DELAY_NS);
	time_passes(REPEAT_EVERY_NS);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	time_passes(10 * REPEAT_EVERY_NS);
	CHECK_STR(read_all(p), "b+ b+ b+ b-");
	CHECK_EQ_INT(timers_armed(), 0);
	/* The lock keys do not repeat, and stop another's repeat. */
	REQUIRE(report(&devs[0], 0, 0x06, 0, 0));	/* and a is up */
	REQUIRE(report(&devs[0], 0, 0x06, 0x39, 0));
	time_passes(REPEAT_DELAY_NS * 2);
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a- c+ C-(C)");
	CHECK_EQ_INT(timers_armed(), 0);
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_stall_is_cleared_and_reading_goes_on)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;
	struct usb_req *r;

	REQUIRE(p != NULL);
	REQUIRE((r = fakeusb_held(u, EP_IN)) != NULL);
	/* Hold the CLEAR_HALT to look at it. */
	u->device = NULL;
	r->status = USB_ESTALL;
	bus_complete(u, r);
	u->device = device;
	run_posted();
	CHECK_EQ_INT(u->trace[u->ntrace - 2].op, USB_OP_CLEAR_HALT);
	CHECK_EQ_INT(u->trace[u->ntrace - 2].ep, EP_IN);
	CHECK_EQ_INT(u->trace[u->ntrace - 1].op, USB_OP_XFER);
	CHECK_EQ_INT(u->trace[u->ntrace - 1].ep, EP_IN);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+");
	CHECK(!strstr(log_text, "stopped"));
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_errors_backed_off_then_left_with_one_line)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;
	unsigned before;

	REQUIRE(p != NULL);
	/* One error: again after 10 ms, not at once. */
	REQUIRE(intr_fails(&devs[0], PB_EIO));
	CHECK_EQ_INT(u->nheld, 0);
	time_passes(9000000);
	CHECK_EQ_INT(u->nheld, 0);
	time_passes(1000000);
	CHECK_EQ_INT(u->nheld, 1);
	/* A report resets the count. */
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a+ a-");
	/* Failing every time: 10, 20, 40 ... ms, then given up. */
	for (unsigned i = 0; i < INTR_RETRIES; i++) {
		REQUIRE(intr_fails(&devs[0], PB_EIO));
		time_passes(INTR_BACKOFF_NS << i);
		CHECK_MSG(u->nheld == 1, "retry %u not armed", i);
	}
	before = u->submits;
	REQUIRE(intr_fails(&devs[0], PB_ETIMEDOUT));
	time_passes(10000000000ull);
	CHECK_EQ_INT(u->submits, before);
	CHECK_EQ_INT(timers_armed(), 0);
	/* A 1.0 bus (the fake's default) refuses the device reset. */
	CHECK_CONTAINS(log_text, "usbkbd0: interrupt IN 0x81 kept failing "
	    "(-6): the device is reset");
	CHECK_CONTAINS(log_text, "usbkbd0: interrupt IN 0x81 kept failing, "
	    "and its reset was refused (-2): keyboard input stopped");
	CHECK(strstr(strstr(log_text, "stopped") + 1, "stopped") == NULL);
	ukbd_ops.stop(SELF);
}

/* The bus refuses the report request once (campaign usbonly seed 5150
 * #195: xhci answered a nonsense -16): tried again after the backoff's
 * first wait, as a failed transfer is, and keys still come.  A bus that
 * keeps refusing ends as one that keeps failing: one line. */
TEST(usbkbd_refused_report_request_tried_again)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;

	REQUIRE(p != NULL);
	u->submit_err = PB_ENOTDIR;
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));	/* goes again: refused */
	CHECK_STR(read_all(p), "a+");
	CHECK(fakeusb_held(u, EP_IN) == NULL);
	CHECK(!strstr(log_text, "stopped"));
	u->submit_err = 0;
	time_passes(INTR_BACKOFF_NS);
	CHECK(fakeusb_held(u, EP_IN) != NULL);
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a-");
	/* Refused every time: the tries, then the (refused) reset. */
	u->submit_err = PB_EIO;
	REQUIRE(report(&devs[0], 0, 0x05, 0, 0));
	for (unsigned i = 0; i < INTR_RETRIES; i++)
		time_passes(INTR_BACKOFF_NS << i);
	time_passes(10000000000ull);
	CHECK_CONTAINS(log_text, "usbkbd0: interrupt IN 0x81 kept failing, "
	    "and its reset was refused (-5): keyboard input stopped");
	CHECK(strstr(strstr(log_text, "stopped") + 1, "stopped") == NULL);
	CHECK_EQ_INT(timers_armed(), 0);
	ukbd_ops.stop(SELF);
}

/* The bus under the keyboard started over after its fault, without its
 * state (campaign usb seed 8086 #308): it cancelled the report request,
 * then the hub rebound the connection (PB_EV_REBOUND).  The set-up goes
 * again and reading starts over.  A rebound while the request is out (a
 * swap that handed it over) waits for its answer, and an answer means the
 * bus kept it: nothing is sent again. */
TEST(usbkbd_bus_started_over_sets_up_again)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;
	unsigned protocols;

	REQUIRE(p != NULL);
	protocols = count_trace(u, USB_OP_XFER, 0, 0x0b);
	REQUIRE(intr_fails(&devs[0], PB_ECANCELED));	/* the old bus's */
	CHECK(fakeusb_held(u, EP_IN) == NULL);
	ukbd_ops.event(SELF, PB_EV_REBOUND, &devs[0].conn, PB_REQ_BIND);
	run_posted();
	CHECK_CONTAINS(log_text, "usbkbd0: its bus started over: set up "
	    "again");
	CHECK_EQ_INT(count_trace(u, USB_OP_XFER, 0, 0x0b), protocols + 1);
	CHECK(fakeusb_held(u, EP_IN) != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a+ a-");
	/* Rebound with the request out, then answered: kept by the bus. */
	ukbd_ops.event(SELF, PB_EV_REBOUND, &devs[0].conn, PB_REQ_BIND);
	run_posted();
	REQUIRE(report(&devs[0], 0, 0x05, 0, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "b+ b-");
	CHECK_EQ_INT(count_trace(u, USB_OP_XFER, 0, 0x0b), protocols + 1);
	CHECK(strstr(strstr(log_text, "started over") + 1, "started over") ==
	    NULL);
	ukbd_ops.stop(SELF);
}

/* Fail INTR_RETRIES + 1 times in a row, the backoff's waits passing. */
static int
keeps_failing(struct dev *d)
{
	for (unsigned i = 0; i <= INTR_RETRIES; i++) {
		if (!intr_fails(d, PB_EIO))
			return 0;
		if (i < INTR_RETRIES)
			time_passes(INTR_BACKOFF_NS << i);
	}
	run_posted();
	return 1;
}

/* A keyboard that keeps failing is reset by the bus once, and read
 * again; once more only after a report came. */
TEST(usbkbd_keeps_failing_then_reset_and_read_again)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;

	REQUIRE(p != NULL);
	u->reset_device = 1;
	REQUIRE(keeps_failing(&devs[0]));
	CHECK_EQ_INT(u->reset_devices, 1);
	CHECK_EQ_INT(u->info.resets, 1);
	CHECK_CONTAINS(log_text, "usbkbd0: back after its reset: reading "
	    "again");
	CHECK(!strstr(log_text, "stopped"));
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a+ a-");

	/* Again after that report: a second reset. */
	REQUIRE(keeps_failing(&devs[0]));
	CHECK_EQ_INT(u->reset_devices, 2);
	/* Failing again with no report between: left alone. */
	REQUIRE(keeps_failing(&devs[0]));
	CHECK_EQ_INT(u->reset_devices, 2);
	CHECK_CONTAINS(log_text, "usbkbd0: interrupt IN 0x81 kept failing "
	    "(-5): keyboard input stopped");
	CHECK(fakeusb_held(u, EP_IN) == NULL);
	CHECK_EQ_INT(timers_armed(), 0);
	ukbd_ops.stop(SELF);
}

/* A reset the bus could not complete: input stops, one line. */
TEST(usbkbd_reset_failed_input_stopped)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;

	REQUIRE(p != NULL);
	u->reset_device = 1;
	u->reset_status = PB_ETIMEDOUT;
	REQUIRE(keeps_failing(&devs[0]));
	CHECK_EQ_INT(u->reset_devices, 1);
	CHECK_EQ_INT(u->info.resets, 0);
	CHECK_CONTAINS(log_text, "usbkbd0: interrupt IN 0x81 kept failing, "
	    "and its reset failed (-6): keyboard input stopped");
	CHECK(fakeusb_held(u, EP_IN) == NULL);
	CHECK_EQ_INT(timers_armed(), 0);
	ukbd_ops.stop(SELF);
}

/* The report's completion runs with a damaged argument (a regbit
 * injection into its work item): the keyboard whose request the bus
 * completed is found and served, and reading goes on. */
TEST(usbkbd_completion_with_a_damaged_argument)
{
	struct pubres *p = one_keyboard();
	struct usb_req *r;
	uint8_t rep[8] = { 0, 0, 0x04, 0, 0, 0, 0, 0 };

	REQUIRE(p != NULL);
	REQUIRE((r = fakeusb_held(&devs[0].u, EP_IN)) != NULL);
	CHECK_EQ_INT(r->status, USBKBD_PENDING);
	fakeusb_reply(r, rep, sizeof(rep));
	r->status = PB_OK;
	r->done.arg = (char *)r->done.arg + 0x40;	/* the flipped bit */
	bus_complete(&devs[0].u, r);
	run_posted();
	run_work();
	CHECK_CONTAINS(log_text, "a report's completion ran with ");
	CHECK_CONTAINS(log_text, "none of our keyboards: 1 completed "
	    "request served");
	CHECK_STR(read_all(p), "a+");
	/* The request went again, with its own argument: keys still come. */
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a-");
	ukbd_ops.stop(SELF);
}

/* A report's completion posted twice: xhci, restarted after a fault as it
 * posted, posts again what the faulted instance may already have
 * (mods/xhci/state.c, take).  The second finds the request out again,
 * pending, and leaves it: no error, no retry, keys still come. */
TEST(usbkbd_completion_posted_twice_is_served_once)
{
	struct pubres *p = one_keyboard();
	struct usb_req *r;
	size_t said;

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+");
	REQUIRE((r = fakeusb_held(&devs[0].u, EP_IN)) != NULL);
	said = strlen(log_text);
	fake_work_post(NULL, &r->done);		/* the second post */
	run_posted();
	run_work();
	time_passes(8 * INTR_BACKOFF_NS);	/* no retry comes either */
	CHECK(fakeusb_held(&devs[0].u, EP_IN) == r);
	CHECK_EQ_INT(devs[0].u.nheld, 1);	/* not submitted again */
	CHECK_EQ_INT(r->status, USBKBD_PENDING);
	CHECK_STR(read_all(p), "");
	CHECK_STR(log_text + said, "");		/* not a word */
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a-");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_device_gone_withdraws_and_frees)
{
	struct pubres *p = one_keyboard();
	struct fakeusb *u = &devs[0].u;

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));	/* repeating */
	CHECK_EQ_INT(fdma_allocs, 1);
	/* The bus completes what it held, cancelled, then withdraws. */
	fakeusb_cancel(u, 0xff);
	ukbd_ops.event(SELF, PB_EV_DISCONNECTED, &devs[0].conn, PB_REQ_BIND);
	CHECK(pub("keyboard:usbkbd0") == NULL);
	CHECK(uk.kbd[0]->used);		/* its completion is still due */
	run_posted();
	CHECK(!uk.kbd[0]->used);
	CHECK_EQ_INT(fdma_allocs, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(u->nheld, 0);
	CHECK_CONTAINS(log_text, "usbkbd0: the keyboard went; 1 unread keys "
	    "dropped");
	/* A cancelled request while the keyboard runs is not re-armed. */
	p = one_keyboard();
	REQUIRE(p != NULL);
	fakeusb_cancel(&devs[0].u, EP_IN);
	run_posted();
	CHECK_EQ_INT(devs[0].u.nheld, 0);
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_bad_descriptors_are_declined_with_one_line)
{
	static const struct {
		const char *why;
		uint8_t addr, type;
		uint16_t mps;
	} bad[] = {
		{ "no interrupt-IN endpoint", 0x01, USB_EP_INTERRUPT, 8 },
		{ "no interrupt-IN endpoint", 0x81, USB_EP_BULK, 8 },
		{ "max packet is below", 0x81, USB_EP_INTERRUPT, 0 },
		{ "max packet is below", 0x81, USB_EP_INTERRUPT, 4 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dev *d;

		world();
		d = dev_make(0, USB_CLASS_HID, 8);
		d->u.desc_len = 9 + 9;		/* interface, HID */
		fakeusb_add_endpoint(&d->u, bad[i].addr, bad[i].type,
		    bad[i].mps, 10);
		CHECK_EQ_INT(start_on(d, PB_START_NORMAL), PB_ENODEV);
		CHECK_MSG(strstr(log_text, bad[i].why) != NULL, "case %u: %s",
		    i, log_text);
		CHECK_MSG(strchr(log_text, '\n') == log_text +
		    strlen(log_text) - 1, "case %u: more than one line: %s", i,
		    log_text);
		CHECK(pub("keyboard:usbkbd0") == NULL);
		CHECK_EQ_INT(d->u.submits, 0);
		CHECK_EQ_INT(fdma_allocs, 0);
	}
	/* A descriptor that runs past the end; one that is not an
	 * interface's first. */
	world();
	dev_make(0, USB_CLASS_HID, 8);
	devs[0].u.desc[9] = 200;
	CHECK_EQ_INT(start_on(&devs[0], PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(log_text, "declined: a descriptor runs past the end");
	world();
	dev_make(0, USB_CLASS_HID, 8);
	devs[0].u.desc[1] = USB_DT_ENDPOINT;
	CHECK_EQ_INT(start_on(&devs[0], PB_START_NORMAL), PB_ENODEV);
	CHECK_CONTAINS(log_text, "declined: the descriptors do not begin");
	/* A second endpoint that fits is found after one that does not. */
	world();
	dev_make(0, USB_CLASS_HID, 4);
	fakeusb_add_endpoint(&devs[0].u, 0x82, USB_EP_INTERRUPT, 16, 8);
	CHECK_EQ_INT(start_on(&devs[0], PB_START_NORMAL), PB_OK);
	CHECK_EQ_INT(uk.kbd[0]->ep, 0x82);
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_stalled_set_idle_and_leds_are_no_failure)
{
	struct pubres *p;
	struct dev *d;

	world();
	d = dev_make(0, USB_CLASS_HID, 8);
	d->stall_idle = d->stall_leds = 1;
	REQUIRE(start_on(d, PB_START_NORMAL) == PB_OK);
	run_posted();
	REQUIRE((p = pub("keyboard:usbkbd0")) != NULL);
	CHECK_CONTAINS(log_text, "SET_IDLE stalled");
	REQUIRE(report(d, 0, 0x39, 0, 0));
	REQUIRE(report(d, 0, 0, 0, 0));
	REQUIRE(report(d, 0, 0x39, 0, 0));
	REQUIRE(report(d, 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+");
	CHECK_EQ_INT(count_trace(&d->u, USB_OP_XFER, 0, 0x09), 3);
	/* A keyboard without LEDs: said once, not at every lock. */
	CHECK_CONTAINS(log_text, "SET_REPORT(LEDs) failed (-64); not said "
	    "again");
	CHECK(strstr(strstr(log_text, "SET_REPORT") + 1, "SET_REPORT") ==
	    NULL);
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_several_keyboards_one_resource_each)
{
	world();
	dev_make(0, USB_CLASS_HID, 8);
	dev_make(1, USB_CLASS_HID, 8);		/* there at start */
	dev_make(2, USB_CLASS_STORAGE, 64);	/* not a keyboard */
	devs[3].listed = devs[4].listed = 0;
	REQUIRE(start_on(&devs[0], PB_START_NORMAL) == PB_OK);
	run_posted();
	CHECK(pub("keyboard:usbkbd0") != NULL);
	CHECK(pub("keyboard:usbkbd1") != NULL);
	CHECK_STR(pub("keyboard:usbkbd1")->props,
	    "path=pci:00:04.0/usb:2/if:1 layout=us");
	CHECK(!devs[2].connected);
	/* A later one comes by the subscription. */
	dev_make(3, USB_CLASS_HID, 8);
	ukbd_ops.event(SELF, PB_EV_RESOURCE, &(struct pb_conn){
	    .res = devs[3].name }, PB_REQ_NONE);
	run_posted();
	CHECK(pub("keyboard:usbkbd2") != NULL);
	CHECK(devs[3].connected);
	/* Offered twice (a second subscription): taken once. */
	ukbd_ops.event(SELF, PB_EV_RESOURCE, &(struct pb_conn){
	    .res = devs[3].name }, PB_REQ_NONE);
	CHECK(pub("keyboard:usbkbd3") == NULL);
	/* One the hub binds to it while it runs is taken too. */
	dev_make(4, USB_CLASS_HID, 8);
	devs[4].connected = 1;
	ukbd_ops.event(SELF, PB_EV_CONNECTED, &devs[4].conn, PB_REQ_BIND);
	run_posted();
	CHECK(pub("keyboard:usbkbd3") != NULL);
	CHECK_EQ_INT(devs[4].u.nheld, 1);
	/* Each keyboard its own keys. */
	REQUIRE(report(&devs[1], 0, 0x05, 0, 0));
	REQUIRE(report(&devs[3], 0, 0x06, 0, 0));
	CHECK_STR(read_all(pub("keyboard:usbkbd0")), "");
	CHECK_STR(read_all(pub("keyboard:usbkbd1")), "b+");
	CHECK_STR(read_all(pub("keyboard:usbkbd2")), "c+");
	/* One goes: the others stay. */
	fakeusb_cancel(&devs[1].u, 0xff);
	ukbd_ops.event(SELF, PB_EV_DISCONNECTED, &devs[1].conn, PB_REQ_NONE);
	run_posted();
	CHECK(pub("keyboard:usbkbd1") == NULL);
	REQUIRE(report(&devs[3], 0, 0, 0, 0));
	CHECK_STR(read_all(pub("keyboard:usbkbd2")), "c-");
	ukbd_ops.stop(SELF);
}

/* Quiesce as the hub does: ask, run the loop, ask again. */
static int
quiesce(void)
{
	int r;

	for (int i = 0; i < 8; i++) {
		if ((r = ukbd_ops.quiesce(SELF)) != PB_EAGAIN)
			return r;
		run_posted();
	}
	return PB_ETIMEDOUT;
}

TEST(usbkbd_swap_out_and_in_loses_nothing)
{
	struct pubres *p = one_keyboard();
	struct keyboard_state st[2];
	size_t len = 0;
	uint32_t ver = 0;
	unsigned cancels;

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x39, 0, 0));		/* caps */
	REQUIRE(report(&devs[0], HID_MOD_LSHIFT, 0x04, 0x05, 0));
	/* Quiesce: the standing request is cancelled, and PB_EAGAIN the
	 * answer until its completion came; reads wait meanwhile. */
	cancels = devs[0].u.cancels;
	devs[0].u.device = NULL;	/* completions held back */
	CHECK_EQ_INT(ukbd_ops.quiesce(SELF), PB_EAGAIN);
	CHECK_EQ_INT(devs[0].u.cancels, cancels + 1);
	CHECK_EQ_INT(ukbd_ops.quiesce(SELF), PB_EAGAIN);
	CHECK_EQ_INT(devs[0].u.cancels, cancels + 1);	/* once */
	devs[0].u.device = device;
	CHECK_EQ_INT(quiesce(), PB_OK);
	CHECK_EQ_INT(devs[0].u.nheld, 0);
	CHECK_EQ_INT(timers_armed(), 0);
	CHECK_EQ_INT(p->ops->read(p->ctx, &(struct key_event){ 0 }),
	    PB_EAGAIN);
	REQUIRE(ukbd_ops.export_state(SELF, NULL, 0, &len, &ver) == PB_OK);
	CHECK_EQ_INT(ver, KEYBOARD_STATE_VERSION);
	REQUIRE(len == sizeof(st[0]));
	REQUIRE(ukbd_ops.export_state(SELF, st, sizeof(st), &len, &ver) ==
	    PB_OK);
	CHECK_EQ_INT(st[0].nkeys, 2);
	CHECK_EQ_INT(st[0].keys[0].code, 'a');	/* caps and shift */
	CHECK_EQ_INT(st[0].keys[1].code, 'b');
	CHECK_EQ_INT(st[0].mods, KEYMOD_SHIFT | KEYMOD_CAPS);
	CHECK_EQ_INT(st[0].leds, KEYMOD_CAPS);
	REQUIRE(ukbd_ops.release(SELF) == PB_OK);
	/* The next instance: standby on the same interface, the state,
	 * then the device. */
	ukbd_ops.stop(SELF);
	memset(pubs, 0, sizeof(pubs));
	devs[0].u.ntrace = 0;
	led_byte = -1;
	devs[0].u.device = led_device;
	REQUIRE(start_on(&devs[0], PB_START_STANDBY) == PB_OK);
	run_posted();
	CHECK_EQ_INT(devs[0].u.ntrace, 0);	/* nothing before activate */
	REQUIRE((p = pub("keyboard:usbkbd0")) != NULL);
	REQUIRE(ukbd_ops.import_state(SELF, st, len, ver) == PB_OK);
	REQUIRE(ukbd_ops.activate(SELF) == PB_OK);
	run_posted();
	CHECK_EQ_INT(devs[0].u.trace[0].setup.bRequest, 0x0b);
	CHECK_EQ_INT(led_byte, 0x02);		/* caps, as imported */
	/* Shift was held across: its release is seen, the keys typed
	 * meanwhile come after the imported ones. */
	REQUIRE(report(&devs[0], 0, 0x06, 0, 0));
	CHECK_STR(read_all(p), "a+(sC) b+(sC) C+(C)");
	CHECK_CONTAINS(log_text, "usbkbd0: 2 unread keys taken over");
	ukbd_ops.stop(SELF);
}

/* A device that holds every request until the test completes it. */
static int
hold_all(struct fakeusb *u, struct usb_req *r)
{
	(void)u;
	(void)r;
	return 0;
}

TEST(usbkbd_quiesce_waits_for_a_class_request)
{
	struct pubres *p = one_keyboard();
	struct usb_req *leds;

	REQUIRE(p != NULL);
	devs[0].u.device = hold_all;
	REQUIRE(p->ops->set_leds(p->ctx, KEYMOD_NUM) == PB_OK);
	REQUIRE((leds = fakeusb_held(&devs[0].u, 0)) != NULL);
	CHECK_EQ_INT(ukbd_ops.quiesce(SELF), PB_EAGAIN);
	run_posted();			/* the report request's cancel */
	CHECK_EQ_INT(ukbd_ops.quiesce(SELF), PB_EAGAIN);
	bus_complete(&devs[0].u, leds);
	run_posted();
	CHECK_EQ_INT(ukbd_ops.quiesce(SELF), PB_OK);
	/* A failed swap: it reads again. */
	devs[0].u.device = device;
	REQUIRE(ukbd_ops.resume(SELF) == PB_OK);
	CHECK_EQ_INT(devs[0].u.nheld, 1);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+(N)");
	ukbd_ops.stop(SELF);
}

/* The set-up's class request completes, but its work runs with a
 * damaged argument (a regbit injection at the keyboard's first work
 * item): the request the bus completed is found and served, the set-up
 * goes on and the keyboard reads. */
TEST(usbkbd_class_completion_with_a_damaged_argument)
{
	struct pubres *p;
	struct usb_req *r;

	world();
	dev_make(0, USB_CLASS_HID, 8);
	devs[0].u.device = hold_all;
	REQUIRE(start_on(&devs[0], PB_START_NORMAL) == PB_OK);
	run_posted();
	REQUIRE((r = fakeusb_held(&devs[0].u, 0)) != NULL);
	CHECK_EQ_INT(r->status, USBKBD_PENDING);
	devs[0].u.device = device;
	r->status = PB_OK;
	r->done.arg = (char *)r->done.arg + 8;	/* the flipped bit */
	fakeusb_complete(&devs[0].u, r);
	run_posted();
	CHECK_CONTAINS(log_text, "a class request's completion ran with ");
	CHECK_CONTAINS(log_text, "none of our keyboards: 1 completed "
	    "request served");
	REQUIRE((p = pub("keyboard:usbkbd0")) != NULL);
	p->ops->notify(p->ctx, SELF, client_told, NULL);
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	CHECK_STR(read_all(p), "a+");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_imports_ps2_and_console_states_checked_first)
{
	struct keyboard_state ks = { .mods = KEYMOD_NUM | KEYMOD_CTRL,
	    .leds = KEYMOD_NUM | LOCK_SCROLL, .nkeys = 2,
	    .keys = { { 'x', 0, 1, 0 }, { 'x', 0, 0, 0 } } };
	struct console_state cs = { .nkeys = 1, .keys = { { 'q', 0, 1, 0 } } };
	struct pubres *p;

	world();
	dev_make(0, USB_CLASS_HID, 8);
	REQUIRE(start_on(&devs[0], PB_START_STANDBY) == PB_OK);
	REQUIRE((p = pub("keyboard:usbkbd0")) != NULL);
	/* Bad ones change nothing. */
	ks.nkeys = KEYBOARD_STATE_KEYS + 1;
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &ks, sizeof(ks),
	    KEYBOARD_STATE_VERSION), PB_ESTATE);
	ks.nkeys = 2;
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &ks, sizeof(ks) - 1,
	    KEYBOARD_STATE_VERSION), PB_ESTATE);
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &ks, sizeof(ks), 77),
	    PB_ESTATE);
	cs.text_len = 5;
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &cs, sizeof(cs),
	    CONSOLE_STATE_VERSION), PB_ESTATE);
	cs.text_len = 0;
	CHECK_EQ_INT(keyq_len(&uk.kbd[0]->keys), 0);
	CHECK_EQ_INT(uk.kbd[0]->locks, 0);
	/* The firmware console's keys (the takeover), then ps2's. */
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &cs, sizeof(cs),
	    CONSOLE_STATE_VERSION), PB_OK);
	CHECK_EQ_INT(ukbd_ops.import_state(SELF, &ks, sizeof(ks),
	    KEYBOARD_STATE_VERSION), PB_OK);
	CHECK_EQ_INT(uk.kbd[0]->locks, KEYMOD_NUM | LOCK_SCROLL);
	REQUIRE(ukbd_ops.activate(SELF) == PB_OK);
	run_posted();
	REQUIRE(report(&devs[0], 0, 0x59, 0, 0));	/* keypad 1 */
	/* ctrl was held at the export: released with the first report */
	CHECK_STR(read_all(p), "q+ x+ x- 1+(N)");
	ukbd_ops.stop(SELF);
}

TEST(usbkbd_hidmap_matches_the_layout_positions)
{
	/* Every letter and digit usage types what the US layout has at
	 * its position: a-z, 1-0. */
	for (uint8_t u = 0x04; u <= 0x1d; u++)
		CHECK_MSG(hidmap_code(u, 0, &keymap_us) == (uint32_t)('a' + u - 4),
		    "usage 0x%02x", u);
	for (uint8_t u = 0x1e; u <= 0x26; u++)
		CHECK_MSG(hidmap_code(u, 0, &keymap_us) == (uint32_t)('1' + u -
		    0x1e), "usage 0x%02x", u);
	CHECK_EQ_INT(hidmap_code(0x27, 0, &keymap_us), '0');
	CHECK_EQ_INT(hidmap_code(0x2c, KEYMOD_SHIFT, &keymap_us), ' ');
	CHECK_EQ_INT(hidmap_code(0x35, KEYMOD_SHIFT, &keymap_us), '~');
	CHECK_EQ_INT(hidmap_code(0x34, KEYMOD_SHIFT, &keymap_us), '"');
	/* Modifiers, Print Screen, Pause, Application, beyond: nothing. */
	CHECK_EQ_INT(hidmap_code(0x46, 0, &keymap_us), 0);
	CHECK_EQ_INT(hidmap_code(0x48, 0, &keymap_us), 0);
	CHECK_EQ_INT(hidmap_code(0x65, 0, &keymap_us), 0);
	CHECK_EQ_INT(hidmap_code(0xe1, 0, &keymap_us), 0);
	CHECK_EQ_INT(hidmap_code(0xff, 0, &keymap_us), 0);
	CHECK_EQ_INT(hidmap_leds(KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL), 7);
}

/* The layouts through USB usages: fr's AZERTY and shifted digits, and
 * AltGr from the right Alt bit of the modifier byte, on fr and not on
 * us; the ISO key beside left shift (usage 0x64) on gb. */
TEST(usbkbd_hidmap_layouts_and_altgr)
{
	uint16_t altgr = hidmap_mods(HID_MOD_RALT, &keymap_fr);

	CHECK_EQ_INT(altgr, KEYMOD_ALTGR);
	CHECK_EQ_INT(hidmap_mods(HID_MOD_RALT, &keymap_us), KEYMOD_ALT);
	CHECK_EQ_INT(hidmap_mods(HID_MOD_LALT, &keymap_fr), KEYMOD_ALT);
	CHECK_EQ_INT(hidmap_modbyte(KEYMOD_ALTGR), HID_MOD_RALT);
	CHECK_EQ_INT(hidmap_code(0x14, 0, &keymap_fr), 'a');	/* US q */
	CHECK_EQ_INT(hidmap_code(0x04, 0, &keymap_fr), 'q');	/* US a */
	CHECK_EQ_INT(hidmap_code(0x33, 0, &keymap_fr), 'm');	/* US ; */
	CHECK_EQ_INT(hidmap_code(0x1f, 0, &keymap_fr), 0xe9);	/* é */
	CHECK_EQ_INT(hidmap_code(0x1f, KEYMOD_SHIFT, &keymap_fr), '2');
	CHECK_EQ_INT(hidmap_code(0x27, altgr, &keymap_fr), '@');
	CHECK_EQ_INT(hidmap_code(0x08, altgr, &keymap_fr), 0x20ac);	/* € */
	CHECK_EQ_INT(hidmap_code(0x04, altgr, &keymap_fr), 0);	/* none */
	CHECK_EQ_INT(hidmap_code(0x04, KEYMOD_CAPS, &keymap_fr), 'Q');
	CHECK_EQ_INT(hidmap_code(0x64, 0, &keymap_gb), '\\');
	CHECK_EQ_INT(hidmap_code(0x32, KEYMOD_SHIFT, &keymap_gb), '~');
	CHECK_EQ_INT(hidmap_code(0x20, KEYMOD_SHIFT, &keymap_gb), 0xa3);
	CHECK(keymap_named("de") == &keymap_de);
	CHECK(keymap_named("dvorak") == NULL);
}

/* Every layout's tables agree with themselves: each key that types has
 * a shifted character too (but fr's ² key), caps lock is on letters
 * only, whose shifted character is their capital (Latin-1 letters are
 * 0x20 apart), and space is space. */
TEST(usbkbd_keymaps_are_consistent)
{
	const struct keymap *all[] = { &keymap_us, &keymap_gb, &keymap_de,
	    &keymap_fr, &keymap_es, &keymap_it };

	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const struct keymap *km = all[i];

		CHECK_EQ_INT(keymap_named(km->name) == km, 1);
		CHECK_EQ_INT(km->plain[0x39], ' ');
		for (unsigned p = 0; p < KEYMAP_SIZE; p++) {
			uint16_t c = km->plain[p], up = km->shifted[p];

			if (c && !up && !(km == &keymap_fr && p == 0x29))
				CHECK_MSG(0, "%s 0x%02x: no shifted", km->name,
				    p);
			if (!km->caps[p])
				continue;
			CHECK_MSG((c >= 'a' && c <= 'z') || (c >= 0xe0 &&
			    c <= 0xfe && c != 0xf7), "%s 0x%02x: caps on "
			    "U+%04x", km->name, p, c);
			CHECK_MSG(up == c - 0x20, "%s 0x%02x: U+%04x shifts "
			    "to U+%04x", km->name, p, c, up);
		}
	}
}

/* kbdheal: Enter was down when the controller was restarted and the
 * device reset with it; the report that it went up was lost with the
 * old controller, and the new device state has no key down: the repeat
 * sees the reset (usb_info's resets) and ends with the key's release,
 * instead of typing Enter for good (seed 2003 usb 112, usbonly 213). */
TEST(usbkbd_kbdheal_reset_ends_a_repeat)
{
	struct pubres *p = one_keyboard();

	REQUIRE(p != NULL);
	REQUIRE(report(&devs[0], 0, 0x28, 0, 0));
	time_passes(REPEAT_DELAY_NS);
	CHECK_STR(read_all(p), "CR+ CR+");
	devs[0].u.info.resets = 1;	/* the bus set it up again */
	time_passes(REPEAT_EVERY_NS);
	CHECK_STR(read_all(p), "CR-");
	CHECK_EQ_INT(timers_armed(), 0);
	time_passes(10 * REPEAT_EVERY_NS);
	CHECK_STR(read_all(p), "");
	/* A key held across no reset repeats as before. */
	REQUIRE(report(&devs[0], 0, 0x04, 0, 0));
	time_passes(REPEAT_DELAY_NS);
	time_passes(REPEAT_EVERY_NS);
	CHECK_STR(read_all(p), "a+ a+ a+");
	REQUIRE(report(&devs[0], 0, 0, 0, 0));
	CHECK_STR(read_all(p), "a-");
	ukbd_ops.stop(SELF);
}
