/*
 * mod_usb.c - the usb bus driver on the host: its descriptor checks
 * (desc.c) on good and broken configurations, its names and properties,
 * and the module itself against a fake hub and a fake controller with
 * device models (fakehci.h): enumeration of a keyboard, a hub and a
 * stick at each speed, the published properties, forwarding, refusals,
 * CLEAR_HALT in its two steps, plug and unplug of a subtree, a hub's
 * PORT_ON/PORT_OFF, a controller swap with replay, RESUME and requests
 * queued meanwhile, a device that does not come back, and devices that
 * lie about themselves or go away mid-enumeration.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#include "../../abi/rt/setting.c"
#include "../../mods/usb/desc.c"
#include "../../mods/usb/names.c"
#include "../../mods/usb/hci.c"
#include "../../mods/usb/dev.c"
#include "../../mods/usb/enum.c"
#include "../../mods/usb/publish.c"
#include "../../mods/usb/fwd.c"
#include "../../mods/usb/aux.c"
#include "../../mods/usb/swap.c"
#include "../../mods/usb/reset.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo usb_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/usb/usb.c"

#include "fakehub.h"
#include "fakehci.h"

/* ---- the fake hub: memory with a ledger, resources, connections -------- */

#define LEDGER 256
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

FAKE unsigned
ledger_live(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < LEDGER; i++)
		n += ledger[i] != NULL;
	return n;
}

#define FRES 48
static struct fres {
	int used;
	char name[64], iface[16], owner[24], props[256];
	const void *ops;
	void *ctx;
	unsigned limit;
	unsigned clients;
} fres[FRES];
static char withdrawn[1024];	/* "usb:1-5-0 usb:1-1-0 ..." */

static struct fres *
fres_add(const char *owner, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return NULL;
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			struct fres *r = &fres[i];

			memset(r, 0, sizeof(*r));
			r->used = 1;
			snprintf(r->name, sizeof(r->name), "%s", name);
			snprintf(r->iface, sizeof(r->iface), "%s", iface);
			snprintf(r->owner, sizeof(r->owner), "%s", owner);
			snprintf(r->props, sizeof(r->props), "%s", props);
			r->ops = ops;
			r->ctx = ctx;
			return r;
		}
	return NULL;
}

static struct fres *
fres_find(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

FAKE const char *
props_of(const char *name)
{
	struct fres *r = fres_find(name);

	return r ? r->props : "(none)";
}

FAKE unsigned
usb_published(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FRES; i++)
		n += fres[i].used && strcmp(fres[i].iface, "usb") == 0;
	return n;
}

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[64];

	snprintf(full, sizeof(full), "%s:%s", iface, name);
	return (struct pb_resource *)fres_add("usb", iface, full, props, ops,
	    ctx);
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	struct fres *f = (struct fres *)r;
	size_t n = strlen(withdrawn);

	if (!f || !f->used)
		return PB_EINVAL;
	snprintf(withdrawn + n, sizeof(withdrawn) - n, "%s%s", n ? " " : "",
	    f->name);
	f->used = 0;
	return PB_OK;
}

static int
fake_res_limit(struct pb_module *self, struct pb_resource *r, unsigned max)
{
	((struct fres *)r)->limit = max;
	return PB_OK;
}

static unsigned hci_minor = USB_HCI_MINOR;	/* the controller's */

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++) {
		if (!fres[i].used || index-- > 0)
			continue;
		*out = (struct pb_res_info){ .struct_size = sizeof(*out),
		    .name = fres[i].name, .iface = fres[i].iface,
		    .major = 1, .minor = strcmp(fres[i].iface, "usb-hci") ? 1 :
		    hci_minor, .props = fres[i].props,
		    .owner = fres[i].owner, .clients = fres[i].clients };
		return PB_OK;
	}
	return PB_ENOENT;
}

#define FCONNS 8
static struct pb_conn fconn[FCONNS];
static int fconn_used[FCONNS];
static unsigned connects, disconnects;

static struct pb_conn *
fake_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	struct fres *r = resname ? fres_find(resname) : NULL;

	for (unsigned i = 0; r && i < FCONNS; i++)
		if (!fconn_used[i]) {
			fconn_used[i] = 1;
			fconn[i] = (struct pb_conn){ r->ops, r->ctx, NULL,
			    r->name };
			r->clients++;
			connects++;
			return &fconn[i];
		}
	return NULL;
}

static void
fake_disconnect(struct pb_module *self, struct pb_conn *c)
{
	for (unsigned i = 0; i < FCONNS; i++)
		if (c == &fconn[i])
			fconn_used[i] = 0;
	disconnects++;
}

static int
fake_subscribe(struct pb_module *self, const char *iface)
{
	return PB_OK;
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.publish = fake_publish,
	.withdraw = fake_withdraw,
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.subscribe = fake_subscribe,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
	.res_limit = fake_res_limit,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
	.res_info = fake_res_info,		/* boot.cfg (fakehub.h) */
};

/* ---- the test's world: a controller, the bus started on it --------------- */

static struct fakehci hc, hc2;
static struct pb_conn hc_conn;
static int started;

static void
world_end(void)
{
	if (started)
		bus_stop(SELF);
	started = 0;
	fake_work_reset();
	fake_dma_reset();
	fakehub_reset();
	for (unsigned i = 0; i < LEDGER; i++) {
		free(ledger[i]);
		ledger[i] = NULL;
	}
	memset(fres, 0, sizeof(fres));
	memset(fconn_used, 0, sizeof(fconn_used));
	withdrawn[0] = '\0';
	connects = disconnects = 0;
	hci_minor = USB_HCI_MINOR;
	fake_boot_cfg = "";
	bus_hub = NULL;
	bus_self = NULL;
}

/* Run the posted work until nothing is left. */
static void
pump(void)
{
	while (run_posted())
		;
}

static int
world_start(void)
{
	struct fres *r;
	int e;

	world_end();
	fh_init(&hc);
	fh_init(&hc2);
	r = fres_add("xhci", "usb-hci", "usb-hci:xhci0",
	    "path=pci:00:04.0 ports=8", &fakehci_ops, &hc);
	r->clients = 1;
	hc_conn = (struct pb_conn){ &fakehci_ops, &hc, NULL, r->name };
	bus_event(SELF, PB_EV_CONNECTED, &hc_conn, PB_REQ_BIND);
	e = bus_start(SELF, &fake_hub, PB_START_NORMAL);
	started = e == PB_OK;
	pump();
	return e;
}

/* ---- a class driver's side -------------------------------------------- */

struct creq {
	struct usb_req r;
	struct usb_seg seg;
	uint8_t buf[64];
	int done, status;
	uint32_t actual;
};

static void
creq_done(void *arg)
{
	struct creq *c = arg;

	c->done++;
	c->status = c->r.status;
	c->actual = c->r.actual;
}

static void
creq_init(struct creq *c, uint8_t op, uint8_t ep, uint32_t len)
{
	memset(c, 0, sizeof(*c));
	c->r.size = sizeof(c->r);
	c->r.op = op;
	c->r.ep = ep;
	c->r.length = len;
	if (len) {
		c->seg = (struct usb_seg){ .va = c->buf,
		    .bus = fake_dma_map(c->buf, sizeof(c->buf), 0, 0),
		    .len = len };
		c->r.segs = &c->seg;
		c->r.nseg = 1;
	}
	c->status = 1;
	fake_work_init(SELF, &c->r.done, creq_done, c);
}

FAKE void
creq_setup(struct creq *c, uint8_t bm, uint8_t req, uint16_t val,
    uint16_t idx, uint16_t len)
{
	creq_init(c, USB_OP_XFER, 0, len);
	c->r.u.setup = (struct usb_setup){ bm, req, val, idx, len };
}

FAKE int
submit_on(const char *res, struct creq *c)
{
	struct fres *r = fres_find(res);

	if (!r)
		return PB_ENOENT;
	return ((const struct usb_ops *)r->ops)->submit(r->ctx, &c->r);
}

FAKE struct pb_conn
conn_of(const char *res)
{
	struct fres *r = fres_find(res);

	return (struct pb_conn){ r ? r->ops : NULL, r ? r->ctx : NULL, NULL,
	    r ? r->name : NULL };
}

/* ---- descriptors by hand ------------------------------------------------- */

/* A configuration: header, then the bytes given; wTotalLength and
 * bNumInterfaces as given (-1: the true ones). */
static size_t
config_of(uint8_t *out, int nif, int total, const uint8_t *body, size_t n)
{
	out[0] = 9;
	out[1] = USB_DT_CONFIG;
	out[4] = (uint8_t)(nif < 0 ? 1 : nif);
	out[5] = 1;
	out[6] = 0;
	out[7] = 0x80;
	out[8] = 50;
	if (n)
		memcpy(out + 9, body, n);
	fm_put16(out + 2, (uint16_t)(total < 0 ? (int)(n + 9) : total));
	return n + 9;
}

static int
parse(const uint8_t *body, size_t n, int speed, struct desc_cfg *c,
    char *why)
{
	uint8_t blob[512];
	size_t len = config_of(blob, -1, -1, body, n);

	why[0] = '\0';
	return desc_config(blob, len, speed, c, why, DESC_WHY);
}

#define IFACE(num, alt, nep, cls) 9, USB_DT_INTERFACE, num, alt, nep, cls, 0, 0, 0
#define EP(addr, type, lo, hi) 7, USB_DT_ENDPOINT, addr, type, lo, hi, 1

TEST(usb_desc_keyboard_config)
{
	struct fmodel m;
	struct desc_cfg c;
	char why[DESC_WHY];

	fm_keyboard(&m);
	REQUIRE(desc_config(m.cfg, m.cfg_len, USB_SPEED_FULL, &c, why,
	    sizeof(why)) == PB_OK);
	CHECK_EQ_INT(c.value, 1);
	CHECK_EQ_INT(c.nif, 1);
	CHECK_EQ_INT(c.nep, 1);
	CHECK_EQ_INT(c.ifs[0].cls, USB_CLASS_HID);
	CHECK_EQ_INT(c.ifs[0].off, 9);
	CHECK_EQ_INT(c.ifs[0].len, 9 + 9 + 7);	/* interface, HID, endpoint */
	CHECK_EQ_INT(c.eps[0].addr, 0x81);
	CHECK_EQ_INT(c.eps[0].type, USB_EP_INTERRUPT);
	CHECK_EQ_INT(c.eps[0].mps, 8);
	CHECK_EQ_INT(c.eps[0].ss_off, 0);
	CHECK(c.eps[0].enable);
}

TEST(usb_desc_superspeed_companions_and_alternates)
{
	struct fmodel m;
	struct desc_cfg c;
	char why[DESC_WHY];
	const uint8_t alt1[] = { IFACE(0, 1, 1, 8), EP(0x83, 2, 0, 4),
	    6, USB_DT_SS_EP_COMP, 0, 0, 0, 0 };

	fm_stick(&m, USB_SPEED_SUPER);
	fm_raw(&m, alt1, sizeof(alt1));
	REQUIRE(desc_config(m.cfg, m.cfg_len, USB_SPEED_SUPER, &c, why,
	    sizeof(why)) == PB_OK);
	CHECK_EQ_INT(c.nif, 1);
	CHECK_EQ_INT(c.nep, 2);			/* alt 1's is not kept */
	CHECK_EQ_INT(c.eps[0].addr, 0x81);
	CHECK_EQ_INT(c.eps[1].addr, 0x02);
	CHECK_EQ_INT(c.eps[0].mps, 1024);
	CHECK_EQ_INT(c.eps[0].ss_off, 9 + 9 + 7);
	CHECK_EQ_INT(c.eps[1].ss_off, 9 + 9 + 7 + 6 + 7);
	CHECK_EQ_INT(c.ifs[0].len, 9 + 2 * (7 + 6));	/* to alt 1 */
	/* The same bytes from a high-speed device: bulk 1024 is too big. */
	CHECK_EQ_INT(desc_config(m.cfg, m.cfg_len, USB_SPEED_HIGH, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "endpoint 0x81: max packet 1024, over 512 at high "
	    "speed");
}

TEST(usb_desc_lengths)
{
	struct desc_cfg c;
	char why[DESC_WHY];
	const uint8_t zero[] = { IFACE(0, 0, 0, 3), 0, 0x21 };
	const uint8_t past[] = { IFACE(0, 0, 0, 3), 9, 0x21, 1, 1 };
	const uint8_t odd[] = { IFACE(0, 0, 0, 3), 1 };
	const uint8_t shortep[] = { IFACE(0, 0, 1, 3),
	    6, USB_DT_ENDPOINT, 0x81, 3, 8, 0 };
	const uint8_t shortif[] = { 8, USB_DT_INTERFACE, 0, 0, 0, 3, 0, 0 };
	const uint8_t dev[] = { IFACE(0, 0, 0, 3), 2, USB_DT_DEVICE };
	uint8_t blob[64];
	size_t n;

	CHECK_EQ_INT(parse(zero, sizeof(zero), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "offset 18: bLength 0");
	CHECK_EQ_INT(parse(past, sizeof(past), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "offset 18: bLength 9 runs past the end (4 left)");
	CHECK_EQ_INT(parse(odd, sizeof(odd), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "offset 18: 1 byte left");
	CHECK_EQ_INT(parse(shortep, sizeof(shortep), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "type 0x05 at offset 18: bLength 6, below 7");
	CHECK_EQ_INT(parse(shortif, sizeof(shortif), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "bLength 8, below 9");
	CHECK_EQ_INT(parse(dev, sizeof(dev), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "type 0x01 at offset 18 inside the configuration");
	/* wTotalLength that is not what came */
	n = config_of(blob, 1, 30, (const uint8_t[]){ IFACE(0, 0, 0, 3) }, 9);
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "wTotalLength 30, but 18 bytes came");
	n = config_of(blob, 1, 5000, (const uint8_t[]){ IFACE(0, 0, 0, 3) }, 9);
	CHECK_EQ_INT(desc_config_head(blob, n, &(uint16_t){ 0 }, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "wTotalLength 5000, over 4096");
	CHECK_EQ_INT(desc_config_head(blob, 8, &(uint16_t){ 0 }, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "short: 8 of 9 bytes");
}

TEST(usb_desc_counts)
{
	struct desc_cfg c;
	char why[DESC_WHY];
	const uint8_t fewer[] = { IFACE(0, 0, 2, 3), EP(0x81, 3, 8, 0),
	    IFACE(1, 0, 0, 3) };
	const uint8_t more[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 8, 0),
	    EP(0x82, 3, 8, 0) };
	const uint8_t past[] = { IFACE(0, 0, 3, 3), EP(0x81, 3, 8, 0) };
	const uint8_t two[] = { IFACE(0, 0, 0, 3), IFACE(1, 0, 0, 3) };
	const uint8_t noalt0[] = { IFACE(0, 0, 0, 3), IFACE(1, 1, 0, 3) };
	const uint8_t twice[] = { IFACE(0, 0, 0, 3), IFACE(0, 0, 0, 3) };
	uint8_t blob[64];
	size_t n;

	CHECK_EQ_INT(parse(fewer, sizeof(fewer), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "interface 0 alt 0: bNumEndpoints 2, found 1");
	CHECK_EQ_INT(parse(more, sizeof(more), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "bNumEndpoints 1, found more");
	CHECK_EQ_INT(parse(past, sizeof(past), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "interface 0 alt 0: bNumEndpoints 3, the "
	    "configuration ends after 1");
	n = config_of(blob, 1, -1, two, sizeof(two));
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "bNumInterfaces 1, found 2");
	n = config_of(blob, 2, -1, noalt0, sizeof(noalt0));
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "without alternate setting 0");
	CHECK_EQ_INT(parse(twice, sizeof(twice), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "interface 0 alt 0 twice");
	n = config_of(blob, 2, -1, two, sizeof(two));
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_OK);
	n = config_of(blob, 0, -1, NULL, 0);
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "no interfaces");
}

TEST(usb_desc_endpoints)
{
	struct desc_cfg c;
	char why[DESC_WHY];
	const uint8_t zero[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 0, 0) };
	const uint8_t big[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 65, 0) };
	const uint8_t lsbulk[] = { IFACE(0, 0, 1, 8), EP(0x81, 2, 8, 0) };
	const uint8_t hsmult[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 0, 0x14) };
	const uint8_t fsmult[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 8, 0x08) };
	const uint8_t ep0[] = { IFACE(0, 0, 1, 3), EP(0x80, 3, 8, 0) };
	const uint8_t outside[] = { EP(0x81, 3, 8, 0), IFACE(0, 0, 0, 3) };
	const uint8_t dup[] = { IFACE(0, 0, 1, 3), EP(0x81, 3, 8, 0),
	    IFACE(1, 0, 1, 3), EP(0x81, 3, 8, 0) };
	const uint8_t comp[] = { IFACE(0, 0, 0, 3), 6, USB_DT_SS_EP_COMP, 0,
	    0, 0, 0 };
	const uint8_t iso0[] = { IFACE(0, 0, 1, 1), EP(0x81, 1, 0, 0) };
	uint8_t blob[64];
	size_t n;

	CHECK_EQ_INT(parse(zero, sizeof(zero), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "endpoint 0x81: max packet 0");
	CHECK_EQ_INT(parse(big, sizeof(big), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "endpoint 0x81: max packet 65, over 64 at full "
	    "speed");
	CHECK_EQ_INT(parse(lsbulk, sizeof(lsbulk), USB_SPEED_LOW, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "type 2 at low speed");
	CHECK_EQ_INT(parse(hsmult, sizeof(hsmult), USB_SPEED_HIGH, &c, why),
	    PB_OK);			/* 1024 x 3 per microframe */
	CHECK_EQ_INT(parse(fsmult, sizeof(fsmult), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "wMaxPacketSize 0x0808 has reserved bits set");
	CHECK_EQ_INT(parse(ep0, sizeof(ep0), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "endpoint address 0x80");
	CHECK_EQ_INT(parse(outside, sizeof(outside), USB_SPEED_FULL, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "outside an interface");
	n = config_of(blob, 2, -1, dup, sizeof(dup));
	CHECK_EQ_INT(desc_config(blob, n, USB_SPEED_FULL, &c, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "endpoint 0x81 twice");
	CHECK_EQ_INT(parse(comp, sizeof(comp), USB_SPEED_SUPER, &c, why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "follows no endpoint");
	/* USB 2.0 §5.6.3: a default setting's isochronous endpoint is
	 * empty; it is kept but not enabled. */
	REQUIRE(parse(iso0, sizeof(iso0), USB_SPEED_FULL, &c, why) == PB_OK);
	CHECK_EQ_INT(c.nep, 1);
	CHECK(!c.eps[0].enable);
}

TEST(usb_desc_device_and_strings)
{
	struct fmodel m;
	struct usb_device_desc dd;
	uint16_t mps = 0, lang = 0;
	char why[DESC_WHY], s[16];
	const uint8_t langs[] = { 6, USB_DT_STRING, 0x07, 0x04, 0x09, 0x04 };
	const uint8_t other[] = { 4, USB_DT_STRING, 0x07, 0x04 };
	const uint8_t str[] = { 12, USB_DT_STRING, 'a', 0, ' ', 0, '=', 0,
	    0xe9, 0, 'z', 0 };

	fm_keyboard(&m);
	CHECK_EQ_INT(desc_ep0_mps(m.dd, 8, USB_SPEED_FULL, &mps, why,
	    sizeof(why)), PB_OK);
	CHECK_EQ_INT(mps, 8);
	CHECK_EQ_INT(desc_device(m.dd, 18, USB_SPEED_FULL, &dd, why,
	    sizeof(why)), PB_OK);
	CHECK_EQ_INT(dd.idVendor, 0x0627);
	CHECK_EQ_INT(desc_device(m.dd, 17, USB_SPEED_FULL, &dd, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "short: 17 of 18 bytes");
	CHECK_EQ_INT(desc_device(m.dd, 18, USB_SPEED_HIGH, &dd, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "bMaxPacketSize0 8 at high speed");
	m.dd[7] = 9;
	CHECK_EQ_INT(desc_ep0_mps(m.dd, 8, USB_SPEED_SUPER, &mps, why,
	    sizeof(why)), PB_OK);
	CHECK_EQ_INT(mps, 512);
	m.dd[7] = 12;
	CHECK_EQ_INT(desc_ep0_mps(m.dd, 8, USB_SPEED_FULL, &mps, why,
	    sizeof(why)), PB_EINVAL);
	m.dd[7] = 8;
	m.dd[17] = 0;
	CHECK_EQ_INT(desc_device(m.dd, 18, USB_SPEED_FULL, &dd, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "bNumConfigurations 0");
	m.dd[0] = 12;
	CHECK_EQ_INT(desc_ep0_mps(m.dd, 8, USB_SPEED_FULL, &mps, why,
	    sizeof(why)), PB_EINVAL);
	CHECK_CONTAINS(why, "bLength 12, below 18");

	CHECK_EQ_INT(desc_langid(langs, sizeof(langs), &lang), PB_OK);
	CHECK_EQ_INT(lang, 0x0409);
	CHECK_EQ_INT(desc_langid(other, sizeof(other), &lang), PB_OK);
	CHECK_EQ_INT(lang, 0x0407);
	CHECK_EQ_INT(desc_langid(str, 2, &lang), PB_EINVAL);
	CHECK_EQ_INT(desc_string(str, sizeof(str), s, sizeof(s), 0), PB_OK);
	CHECK_STR(s, "a =?z");
	CHECK_EQ_INT(desc_string(str, sizeof(str), s, sizeof(s), 1), PB_OK);
	CHECK_STR(s, "a__?z");
	CHECK_EQ_INT(desc_string(str, 7, s, sizeof(s), 0), PB_OK);
	CHECK_STR(s, "a ");		/* what came, not bLength */
	CHECK_EQ_INT(desc_string(str, sizeof(str), s, 3, 0), PB_OK);
	CHECK_STR(s, "a ");
}

TEST(usb_names_and_props)
{
	const uint8_t chain[] = { 5, 2, 3 };
	struct usb_device_desc dd = { .idVendor = 0x0627, .idProduct = 0x1 };
	struct desc_if f = { .num = 1, .cls = 3, .subclass = 1,
	    .protocol = 2 };
	char buf[256];

	dev_name_fmt(buf, sizeof(buf), 1, chain, 1);
	CHECK_STR(buf, "1-5");
	dev_name_fmt(buf, sizeof(buf), 2, chain, 3);
	CHECK_STR(buf, "2-5.2.3");
	dev_place_fmt(buf, sizeof(buf), "pci:00:04.0", chain, 2);
	CHECK_STR(buf, "pci:00:04.0/usb:5.2");
	if_props_fmt(buf, sizeof(buf), &dd, &f, USB_SPEED_FULL,
	    "pci:00:04.0/usb:5.2", "42");
	CHECK_STR(buf, "vid=0627 pid=0001 class=03 subclass=01 protocol=02 "
	    "if=1 speed=full path=pci:00:04.0/usb:5.2/if:1 "
	    "dev=pci:00:04.0/usb:5.2 serial=42");
	if_props_fmt(buf, sizeof(buf), &dd, &f, USB_SPEED_SUPER_PLUS,
	    "x/usb:1", "");
	CHECK_STR(buf, "vid=0627 pid=0001 class=03 subclass=01 protocol=02 "
	    "if=1 speed=super+ path=x/usb:1/if:1 dev=x/usb:1");
}

/* ---- the module: enumeration ------------------------------------------- */

TEST(usb_bus_enumerates_a_keyboard)
{
	struct fmodel kbd;
	struct fres *r;

	REQUIRE(world_start() == PB_OK);
	CHECK_CONTAINS(log_text, "usb-hci:xhci0 (pci:00:04.0): bus 1, 8 ports");
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	CHECK_STR(hc.trace, "add:1@0.5 get:1:01.00/8 get:1:01.00/18 "
	    "get:1:02.00/9 get:1:02.00/34 get:1:03.00/255 get:1:03.02/255 "
	    "get:1:03.03/255 ep:1:81 ctl:1:00.09.0001.0000");
	REQUIRE((r = fres_find("usb:1-5-0")) != NULL);
	CHECK_STR(r->props, "vid=0627 pid=0001 class=03 subclass=01 "
	    "protocol=01 if=0 speed=full path=pci:00:04.0/usb:5/if:0 "
	    "dev=pci:00:04.0/usb:5 serial=68284-0000:00:04.0-5");
	CHECK_EQ_INT(r->limit, 1);
	CHECK_EQ_INT(kbd.config, 1);
	CHECK_CONTAINS(log_text, "1-5: 0627:0001 QEMU USB Keyboard "
	    "(full speed) plugged");
	/* One interface, one record for it, not DESC_IFS (memdiet). */
	REQUIRE(bus_devs[0] != NULL);
	CHECK_EQ_INT(bus_devs[0]->nifs, 1);
	CHECK(r->ctx == &bus_devs[0]->ifs[0]);
	CHECK_EQ_INT(timers_armed() <= 1, 1);
	world_end();
}

TEST(usb_bus_full_speed_default_pipe_grows)
{
	struct fmodel kbd;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	kbd.dd[7] = 64;
	fh_plug(&hc, 2, &kbd);
	pump();
	CHECK_CONTAINS(hc.trace, "add:1@0.2 get:1:01.00/8 mps:1=64 "
	    "get:1:01.00/18 get:1:02.00/9");
	CHECK(fres_find("usb:1-2-0") != NULL);
	world_end();
}

TEST(usb_bus_superspeed_stick_with_companions)
{
	struct fmodel stick;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_SUPER);
	fh_plug(&hc, 1, &stick);
	pump();
	CHECK_STR(hc.trace, "add:1@0.1 get:1:01.00/18 get:1:02.00/9 "
	    "get:1:02.00/44 get:1:03.00/255 get:1:03.02/255 get:1:03.03/255 "
	    "ep:1:81 ep:1:02 ctl:1:00.09.0001.0000");
	CHECK_STR(props_of("usb:1-1-0"), "vid=46f4 pid=0001 class=08 "
	    "subclass=06 protocol=50 if=0 speed=super "
	    "path=pci:00:04.0/usb:1/if:0 dev=pci:00:04.0/usb:1 "
	    "serial=1-0000:00:04.0-1");
	CHECK_CONTAINS(log_text, "1-1: 46f4:0001 QEMU USB HARDDRIVE (super "
	    "speed) plugged");
	world_end();
}

TEST(usb_bus_high_speed_stick_info_and_descriptors)
{
	struct fmodel stick;
	struct usb_info info = { .size = sizeof(info) };
	struct pb_conn c;
	uint8_t buf[64];
	size_t len = 0;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 7, &stick);
	pump();
	CHECK_CONTAINS(hc.trace, "ep:1:81 ep:1:02 ctl:1:00.09.0001.0000");
	c = conn_of("usb:1-7-0");
	REQUIRE(c.ops != NULL);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, info, &info), PB_OK);
	CHECK_EQ_INT(info.vid, 0x46f4);
	CHECK_EQ_INT(info.speed, USB_SPEED_HIGH);
	CHECK_EQ_INT(info.ep0_mps, 64);
	CHECK_EQ_INT(info.cls, USB_CLASS_STORAGE);
	CHECK_EQ_INT(info.config, 1);
	CHECK_EQ_INT(info.max_transfer, 65536);
	CHECK_EQ_INT(info.max_segments, 16);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, descriptors, buf, sizeof(buf),
	    &len), PB_OK);
	CHECK_EQ_INT(len, 9 + 7 + 7);
	CHECK_EQ_INT(buf[1], USB_DT_INTERFACE);
	CHECK_EQ_INT(buf[9 + 2], 0x81);
	CHECK_EQ_INT(buf[16 + 2], 0x02);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, descriptors, buf, 4, &len), PB_OK);
	CHECK_EQ_INT(len, 23);
	/* An info struct of an older, shorter size is filled that far. */
	memset(&info, 0xee, sizeof(info));
	info.size = offsetof(struct usb_info, speed);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, info, &info), PB_OK);
	CHECK_EQ_INT(info.size, offsetof(struct usb_info, speed));
	CHECK_EQ_INT(info.speed, 0xee);
	world_end();
}

/* ---- forwarding ---------------------------------------------------------- */

TEST(usb_bus_forwards_and_refuses)
{
	struct fmodel kbd;
	struct creq in, ctl, bad;
	const uint8_t report[8] = { 0, 0, 4 };

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	hc.trace[0] = '\0';
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	CHECK_EQ_INT(in.r.dev, 1);
	CHECK_EQ_INT(fh_pending(&hc, 1, 0x81), 1);
	CHECK_EQ_INT(fh_finish(&hc, 1, 0x81, report, 8, PB_OK), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_OK);
	CHECK_EQ_INT(in.actual, 8);
	CHECK_EQ_INT(in.buf[2], 4);
	/* a class request on the default pipe */
	creq_setup(&ctl, 0x21, 0x0a, 0, 0, 0);		/* SET_IDLE */
	CHECK_EQ_INT(submit_on("usb:1-5-0", &ctl), PB_OK);
	pump();
	CHECK_EQ_INT(ctl.done, 1);
	CHECK_EQ_INT(ctl.status, PB_OK);
	CHECK_STR(hc.trace, "xfer:1:81 ctl:1:21.0a.0000.0000");
	/* what only the bus may do */
	creq_setup(&bad, 0x00, USB_REQ_SET_CONFIGURATION, 0, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	CHECK_CONTAINS(log_text, "usb:1-5-0: SET_CONFIGURATION refused");
	creq_setup(&bad, 0x00, USB_REQ_SET_ADDRESS, 9, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	CHECK_CONTAINS(log_text, "usb:1-5-0: SET_ADDRESS refused");
	creq_setup(&bad, 0x01, USB_REQ_SET_INTERFACE, 1, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	CHECK_CONTAINS(log_text, "usb:1-5-0: SET_INTERFACE refused");
	creq_init(&bad, USB_OP_XFER, 0x82, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	CHECK_CONTAINS(log_text, "endpoint 0x82 (not its own) refused");
	creq_init(&bad, USB_OP_ADD, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	creq_setup(&bad, 0x21, 0x09, 0x200, 0, 16);
	bad.r.flags = USB_REQ_REPLAY;
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	creq_setup(&bad, 0xa1, 0x01, 0x100, 0, 8);
	bad.r.length = 4;
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	creq_init(&bad, USB_OP_HUB_CONFIG, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &bad), PB_EINVAL);
	CHECK_STR(hc.trace, "xfer:1:81 ctl:1:21.0a.0000.0000");
	CHECK_EQ_INT(bad.done, 0);
	world_end();
}

/* CLEAR_HALT: CLEAR_FEATURE to the device, then the controller's side;
 * the driver's request completes once both have, not before. */
TEST(usb_bus_clear_halt_in_two_steps)
{
	struct fmodel stick;
	struct creq x, ch;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 1, &stick);
	pump();
	hc.trace[0] = '\0';
	stick.stall_ep = 0x81;
	creq_init(&x, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &x), PB_OK);
	pump();
	CHECK_EQ_INT(x.status, USB_ESTALL);
	hc.hold = 1;
	creq_init(&ch, USB_OP_CLEAR_HALT, 0x81, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &ch), PB_OK);
	pump();
	CHECK_EQ_INT(hc.npend, 1);		/* CLEAR_FEATURE */
	fh_step(&hc);
	pump();
	CHECK_EQ_INT(ch.done, 0);
	CHECK_EQ_INT(hc.npend, 1);		/* the controller's step */
	CHECK(hc.pend[0] == &ch.r);
	fh_step(&hc);
	pump();
	CHECK_EQ_INT(ch.done, 1);
	CHECK_EQ_INT(ch.status, PB_OK);
	CHECK_STR(hc.trace, "xfer:1:81 ctl:1:02.01.0000.0081 halt:1:81");
	CHECK_EQ_INT(stick.halted[fh_ep_index(0x81)], 0);
	hc.hold = 0;
	creq_init(&x, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &x), PB_OK);
	CHECK_EQ_INT(fh_pending(&hc, 1, 0x81), 1);	/* runs again */
	world_end();
}

TEST(usb_bus_clear_halt_refused_by_the_device)
{
	struct fmodel stick;
	struct creq ch;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 1, &stick);
	pump();
	hc.trace[0] = '\0';
	stick.attached = 0;	/* it answers nothing now */
	creq_init(&ch, USB_OP_CLEAR_HALT, 0x02, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &ch), PB_OK);
	pump();
	CHECK_EQ_INT(ch.done, 1);
	CHECK_EQ_INT(ch.status, PB_EIO);
	CHECK_STR(hc.trace, "ctl:1:02.01.0000.0002");
	creq_init(&ch, USB_OP_CLEAR_HALT, 0x83, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &ch), PB_EINVAL);
	world_end();
}

/* ---- plug, unplug, hubs ---------------------------------------------------- */

TEST(usb_bus_unplug_cancels_and_withdraws)
{
	struct fmodel kbd;
	struct creq in;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	fh_unplug(&hc, 5);
	pump();
	CHECK_STR(withdrawn, "usb:1-5-0");
	CHECK_EQ_INT(usb_published(), 0);
	CHECK_CONTAINS(hc.trace, "xfer:1:81 rm:1");
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_ECANCELED);
	CHECK_CONTAINS(log_text, "1-5: unplugged\n");
	CHECK(!bus_devs[0]);
	CHECK_EQ_INT(fdma_allocs, 0);
	/* plugged again: the number is free again */
	fh_plug(&hc, 5, &kbd);
	pump();
	CHECK(fres_find("usb:1-5-0") != NULL);
	CHECK_CONTAINS(hc.trace, "rm:1 add:1@0.5");
	world_end();
}

/* The hub driver's side: HUB_CONFIG, then PORT_ON for what it found. */
static void
hub_config(const char *res, uint8_t nports)
{
	struct creq hcfg;

	creq_init(&hcfg, USB_OP_HUB_CONFIG, 0, 0);
	hcfg.r.u.hub.nports = nports;
	CHECK_EQ_INT(submit_on(res, &hcfg), PB_OK);
	pump();
	CHECK_EQ_INT(hcfg.status, PB_OK);
}

static void
port_req(struct creq *c, uint8_t op, uint8_t port, uint8_t speed)
{
	creq_init(c, op, 0, 0);
	c->r.u.port.port = port;
	c->r.u.port.speed = speed;
}

TEST(usb_bus_hub_ports)
{
	struct fmodel hub, kbd, stick;
	struct creq on, on2, off, early;

	REQUIRE(world_start() == PB_OK);
	fm_hub(&hub);
	fm_keyboard(&kbd);
	fm_stick(&stick, USB_SPEED_HIGH);
	hub.ports[2] = &kbd;
	hub.ports[1] = &stick;
	fh_plug(&hc, 1, &hub);
	pump();
	CHECK_CONTAINS(props_of("usb:1-1-0"), "class=09 subclass=00 "
	    "protocol=00");
	CHECK_CONTAINS(log_text, "1-1: 0409:55aa QEMU USB Hub (full speed) "
	    "plugged");
	port_req(&early, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &early), PB_OK);
	pump();
	CHECK_EQ_INT(early.status, PB_EINVAL);
	CHECK_CONTAINS(log_text, "PORT_ON of port 2 refused (no HUB_CONFIG "
	    "yet)");
	hub_config("usb:1-1-0", 8);
	CHECK_CONTAINS(hc.trace, "hub:1:8");
	hc.hold = 1;
	port_req(&on, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	CHECK_EQ_INT(on.done, 0);	/* until enumerated */
	while (fh_step(&hc))
		pump();
	CHECK_EQ_INT(on.done, 1);
	CHECK_EQ_INT(on.status, PB_OK);
	hc.hold = 0;
	CHECK_CONTAINS(hc.trace, "add:2@1.2 get:2:01.00/8");
	CHECK_STR(props_of("usb:1-1.2-0"), "vid=0627 pid=0001 class=03 "
	    "subclass=01 protocol=01 if=0 speed=full "
	    "path=pci:00:04.0/usb:1.2/if:0 dev=pci:00:04.0/usb:1.2 "
	    "serial=68284-0000:00:04.0-5");
	CHECK_CONTAINS(log_text, "1-1.2: 0627:0001 QEMU USB Keyboard (full "
	    "speed) plugged");
	port_req(&on2, USB_OP_PORT_ON, 1, USB_SPEED_HIGH);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on2), PB_OK);
	pump();
	CHECK_EQ_INT(on2.status, PB_OK);
	CHECK(fres_find("usb:1-1.1-0") != NULL);
	/* PORT_OFF: that device goes, the other stays */
	port_req(&off, USB_OP_PORT_OFF, 2, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &off), PB_OK);
	pump();
	CHECK_EQ_INT(off.status, PB_OK);
	CHECK_STR(withdrawn, "usb:1-1.2-0");
	CHECK_CONTAINS(hc.trace, "rm:2");
	CHECK_CONTAINS(log_text, "1-1.2: unplugged");
	CHECK(fres_find("usb:1-1.1-0") != NULL);
	/* the hub goes: its subtree with it, children first */
	withdrawn[0] = '\0';
	fh_unplug(&hc, 1);
	pump();
	CHECK_STR(withdrawn, "usb:1-1.1-0 usb:1-1-0");
	CHECK_CONTAINS(hc.trace, "rm:3 rm:1");
	CHECK_CONTAINS(log_text, "1-1.1: unplugged (its hub went)");
	CHECK_EQ_INT(usb_published(), 0);
	world_end();
}

TEST(usb_bus_devices_are_addressed_one_at_a_time)
{
	struct fmodel a, b;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&a);
	fm_keyboard(&b);
	hc.hold = 1;
	fh_plug(&hc, 5, &a);
	fh_plug(&hc, 6, &b);
	pump();
	CHECK_EQ_INT(hc.npend, 1);		/* one ADD, the other waits */
	CHECK(hc.pend[0]->op == USB_OP_ADD && hc.pend[0]->dev == 1);
	fh_step(&hc);
	pump();
	CHECK_EQ_INT(hc.npend, 2);		/* 1 reads, 2 is addressed */
	CHECK(hc.pend[1]->op == USB_OP_ADD && hc.pend[1]->dev == 2);
	while (fh_step(&hc))
		pump();
	CHECK(fres_find("usb:1-5-0") && fres_find("usb:1-6-0"));
	world_end();
}

/* ---- devices that lie, stall or go ------------------------------------- */

/* One plug of model m at root port 5: the device gives up after two
 * attempts with `why`, leaves nothing published and nothing addressed. */
static void
gives_up(struct fmodel *m, const char *why)
{
	char line[160];

	REQUIRE(world_start() == PB_OK);
	fh_plug(&hc, 5, m);
	pump();
	CHECK_EQ_INT(usb_published(), 0);
	snprintf(line, sizeof(line), "1-5: %s; trying again", why);
	CHECK_CONTAINS(log_text, line);
	snprintf(line, sizeof(line), "1-5: %s; giving up", why);
	CHECK_CONTAINS(log_text, line);
	/* the second attempt, in two steps */
	CHECK_CONTAINS(hc.trace, "rm:1 add0:1@0.5 get:1:01.00/8");
	CHECK(strstr(hc.trace, "ctl:1:00.09") == NULL);
	CHECK(!hc.slots[1].used);			/* REMOVE'd */
	CHECK(!bus_devs[0]);
	CHECK_EQ_INT(fdma_allocs, 0);
	CHECK(strstr(log_text, "plugged") == NULL);
	world_end();
}

TEST(usb_bus_bad_endpoint_length)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.cfg[9 + 9 + 9] = 6;		/* the endpoint's bLength */
	gives_up(&m, "configuration: descriptor type 0x05 at offset 27: "
	    "bLength 6, below 7");
}

TEST(usb_bus_zero_max_packet)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.cfg[9 + 9 + 9 + 4] = 0;
	gives_up(&m, "configuration: endpoint 0x81: max packet 0");
}

TEST(usb_bus_oversized_max_packet)
{
	struct fmodel m;

	fm_stick(&m, USB_SPEED_HIGH);
	fm_put16(m.cfg + 9 + 9 + 4, 1024);
	gives_up(&m, "configuration: endpoint 0x81: max packet 1024, over 512 "
	    "at high speed");
}

TEST(usb_bus_interface_past_the_end)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.cfg[9 + 4] = 2;		/* bNumEndpoints: one more than there */
	gives_up(&m, "configuration: interface 0 alt 0: bNumEndpoints 2, the "
	    "configuration ends after 1");
}

TEST(usb_bus_total_length_too_big)
{
	struct fmodel m;

	fm_keyboard(&m);
	fm_put16(m.cfg + 2, 9000);
	gives_up(&m, "configuration descriptor: wTotalLength 9000, over 4096");
}

TEST(usb_bus_short_configuration)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.short_cfg = 1;
	gives_up(&m, "configuration: wTotalLength 34, but 30 bytes came");
}

TEST(usb_bus_bad_default_pipe)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.dd[7] = 12;
	gives_up(&m, "device descriptor: bMaxPacketSize0 12 at full speed");
}

TEST(usb_bus_device_descriptor_stalls_once)
{
	struct fmodel m;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	m.stall_dev = 1;
	fh_plug(&hc, 5, &m);
	pump();
	CHECK_CONTAINS(log_text, "1-5: device descriptor: stall; trying "
	    "again, its descriptor read before its address");
	CHECK_CONTAINS(hc.trace, "add:1@0.5 get:1:01.00/8 rm:1 add0:1@0.5 "
	    "get:1:01.00/8 addr:1 get:1:01.00/18");
	CHECK(fres_find("usb:1-5-0") != NULL);
	CHECK(strstr(log_text, "giving up") == NULL);
	world_end();
}

TEST(usb_bus_device_descriptor_always_stalls)
{
	struct fmodel m;

	fm_keyboard(&m);
	m.stall_dev = 99;
	gives_up(&m, "device descriptor: stall");
}

TEST(usb_bus_address_fails)
{
	struct fmodel m;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	m.fail_add = 2;
	fh_plug(&hc, 5, &m);
	pump();
	CHECK_CONTAINS(log_text, "1-5: address: transaction error; giving up");
	CHECK_EQ_INT(usb_published(), 0);
	CHECK(!bus_devs[0]);
	world_end();
}

TEST(usb_bus_strings_failing_are_tolerated)
{
	struct fmodel m;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	m.stall_strings = 1;
	fh_plug(&hc, 5, &m);
	pump();
	CHECK_CONTAINS(log_text, "1-5: 0627:0001 (full speed) plugged");
	CHECK(strstr(props_of("usb:1-5-0"), "serial=") == NULL);
	CHECK(strstr(hc.trace, "get:1:03.02") == NULL);	/* no language */
	world_end();
}

/* A device that goes while its configuration is being read: removed,
 * nothing published, nothing left waiting. */
TEST(usb_bus_disconnect_mid_enumeration)
{
	struct fmodel m;
	unsigned i;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	hc.hold = 1;
	fh_plug(&hc, 5, &m);
	pump();
	for (i = 0; i < 4; i++) {	/* ADD, DEV8, DEV, CFG9 */
		fh_step(&hc);
		pump();
	}
	CHECK(strstr(hc.trace, "get:1:02.00/9") != NULL);
	REQUIRE(hc.npend == 1);		/* the whole configuration */
	m.attached = 0;
	fh_unplug(&hc, 5);
	pump();
	CHECK_CONTAINS(log_text, "1-5: gone while being enumerated\n");
	while (fh_step(&hc))
		pump();
	CHECK_EQ_INT(usb_published(), 0);
	CHECK(!bus_devs[0]);
	CHECK(strstr(log_text, "trying again") == NULL);
	CHECK_EQ_INT(hc.npend, 0);
	world_end();
}

/* A device that never answers: the deadline cancels, once more, then
 * gives up. */
TEST(usb_bus_enumeration_deadline)
{
	struct fmodel m;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	m.hang_dev = 1;
	fh_plug(&hc, 5, &m);
	pump();
	CHECK(bus_devs[0] && bus_devs[0]->state == D_ENUM);
	time_passes(BUS_ENUM_NS + BUS_TICK_NS);
	pump();
	CHECK_CONTAINS(hc.trace, "cancel:1:ff");
	CHECK_CONTAINS(log_text, "1-5: device descriptor: no answer within "
	    "10 s; trying again");
	time_passes(BUS_ENUM_NS + BUS_TICK_NS);
	pump();
	CHECK_CONTAINS(log_text, "1-5: device descriptor: no answer within "
	    "10 s; giving up");
	CHECK(!bus_devs[0]);
	CHECK_EQ_INT(hc.npend, 0);
	time_passes(BUS_TICK_NS);	/* the last tick finds nothing to do */
	CHECK_EQ_INT(timers_armed(), 0);
	world_end();
}

/* ---- controllers ----------------------------------------------------------- */

TEST(usb_bus_second_controller_by_subscription)
{
	struct fmodel m;
	struct pb_conn note;
	struct fres *r;

	REQUIRE(world_start() == PB_OK);
	r = fres_add("xhci", "usb-hci", "usb-hci:xhci1",
	    "path=pci:00:05.0 ports=8", &fakehci_ops, &hc2);
	note = (struct pb_conn){ .res = r->name };
	bus_event(SELF, PB_EV_RESOURCE, &note, PB_REQ_NONE);
	pump();
	CHECK_EQ_INT(connects, 1);
	CHECK_CONTAINS(log_text, "usb-hci:xhci1 (pci:00:05.0): bus 2, 8 ports");
	fm_keyboard(&m);
	fh_plug(&hc2, 3, &m);
	pump();
	CHECK_CONTAINS(props_of("usb:2-3-0"), "path=pci:00:05.0/usb:3/if:0");
	/* the first controller is offered too (the bind's): nothing new */
	note.res = "usb-hci:xhci0";
	bus_event(SELF, PB_EV_RESOURCE, &note, PB_REQ_NONE);
	CHECK_EQ_INT(connects, 1);
	world_end();
}

TEST(usb_bus_controller_gone)
{
	struct fmodel a, b;
	struct creq in;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&a);
	fm_stick(&b, USB_SPEED_HIGH);
	fh_plug(&hc, 5, &a);
	fh_plug(&hc, 1, &b);
	pump();
	REQUIRE(usb_published() == 2);
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	hc.trace[0] = '\0';
	bus_event(SELF, PB_EV_DISCONNECTED, &hc_conn, PB_REQ_BIND);
	pump();
	CHECK_EQ_INT(usb_published(), 0);
	CHECK_STR(hc.trace, "");	/* nothing more sent to it */
	CHECK_CONTAINS(log_text, "1-5: unplugged (its controller went)");
	CHECK_CONTAINS(log_text, "1-1: unplugged (its controller went)");
	CHECK_EQ_INT(ledger_live(), 0);
	CHECK_EQ_INT(fdma_allocs, 0);
	CHECK(!bus_hcis[0].used);
	world_end();
}

TEST(usb_bus_lost_device_and_wait_event_retry)
{
	struct fmodel m;

	world_end();
	fh_init(&hc);
	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&m);
	fh_plug(&hc, 5, &m);
	pump();
	fh_event(&hc, USB_EVENT_LOST, 0, 0, 1);
	pump();
	CHECK_CONTAINS(log_text, "1-5: unplugged (it stopped answering)");
	CHECK_EQ_INT(usb_published(), 0);
	/* The standing request fails: asked again at the tick, not at once. */
	hc.refuse_submit = PB_EBUSY;
	fh_event(&hc, USB_EVENT_OVERFLOW, 0, 0, 0);
	pump();
	CHECK_CONTAINS(log_text, "events were lost: asking for every port");
	CHECK_CONTAINS(log_text, "usb-hci:xhci0: WAIT_EVENT: busy; asking "
	    "again");
	CHECK(!bus_hcis[0].ev_busy[0] && !bus_hcis[0].ev_busy[1]);
	hc.refuse_submit = 0;
	time_passes(BUS_TICK_NS);
	pump();
	CHECK(bus_hcis[0].ev_busy[0] || bus_hcis[0].ev_busy[1]);
	/* ... with ep=1: the keyboard (still there) is reported again */
	CHECK(fres_find("usb:1-5-0") != NULL);
	world_end();
}

TEST(usb_bus_client_gone)
{
	struct fmodel m;
	struct creq in;
	struct pb_conn c;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&m, USB_SPEED_HIGH);
	fh_plug(&hc, 1, &m);
	pump();
	creq_init(&in, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &in), PB_OK);
	hc.trace[0] = '\0';
	c = conn_of("usb:1-1-0");
	bus_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK_STR(hc.trace, "forget:1:ff");
	CHECK_EQ_INT(fh_pending(&hc, 1, 0x81), 0);
	pump();
	CHECK_EQ_INT(in.done, 0);		/* nothing posted to it */
	CHECK(c.ops != NULL);			/* the controller could */
	CHECK(fres_find("usb:1-1-0") != NULL);	/* for the next driver */
	/* a driver that never sent anything: nothing to ask */
	hc.trace[0] = '\0';
	c = conn_of("usb:1-1-0");
	bus_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK_STR(hc.trace, "");
	/* the controller could not stop it: the hub is told */
	creq_init(&in, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &in), PB_OK);
	hc.forget_answer = PB_EBUSY;
	c = conn_of("usb:1-1-0");
	bus_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK(c.ops == NULL);
	CHECK_CONTAINS(log_text, "usb:1-1-0: its driver went but the "
	    "controller did not drop its requests");
	hc.forget_answer = PB_OK;
	world_end();
}

/* ---- controller swaps ------------------------------------------------------ */

/* The words of a controller's trace about device dev, in order. */
static const char *
trace_of(const struct fakehci *h, unsigned dev)
{
	static char out[4096];
	char copy[sizeof(h->trace)], *save = NULL;

	out[0] = '\0';
	snprintf(copy, sizeof(copy), "%s", h->trace);
	for (char *w = strtok_r(copy, " ", &save); w;
	    w = strtok_r(NULL, " ", &save)) {
		const char *colon = strchr(w, ':');
		size_t n = strlen(out);

		if (!colon || strtoul(colon + 1, NULL, 10) != dev)
			continue;
		snprintf(out + n, sizeof(out) - n, "%s%s", n ? " " : "", w);
	}
	return out;
}

/* The bus's connection leads to hc2 now, which took over from hc
 * (fakehci's swap: it reset everything and holds what hc had not
 * completed): the bus is told. */
static void
rebound_to_hc2(void)
{
	fres_find("usb-hci:xhci0")->ctx = &hc2;
	hc_conn.ctx = &hc2;
	bus_event(SELF, PB_EV_REBOUND, &hc_conn, PB_REQ_BIND);
}

static void
swap_to_hc2(void)
{
	fh_swap(&hc, &hc2);
	rebound_to_hc2();
}

static void
replayed(struct creq *c, const char *res, uint8_t bm, uint8_t req,
    uint16_t val, uint16_t idx, uint16_t len, uint8_t data)
{
	creq_setup(c, bm, req, val, idx, len);
	c->r.flags = USB_REQ_REPLAY;
	c->buf[0] = data;
	CHECK_EQ_INT(submit_on(res, c), PB_OK);
	pump();
	CHECK_EQ_INT(c->status, PB_OK);
}

TEST(usb_bus_swap_finds_devices_again)
{
	struct fmodel kbd, hub, kbd2;
	struct creq proto, idle, leds, leds2, pwr1, pwr2, in, in2, on, off,
	    hin;
	const uint8_t report[8] = { 0, 0, 5 };

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fm_hub(&hub);
	fm_keyboard(&kbd2);
	kbd2.str[3] = "other";
	hub.ports[2] = &kbd2;
	fh_plug(&hc, 5, &kbd);
	pump();
	fh_plug(&hc, 1, &hub);
	pump();
	/* the keyboard's driver */
	replayed(&proto, "usb:1-5-0", 0x21, 0x0b, 0, 0, 0, 0);
	replayed(&idle, "usb:1-5-0", 0x21, 0x0a, 0, 0, 0, 0);
	replayed(&leds, "usb:1-5-0", 0x21, 0x09, 0x200, 0, 1, 0x01);
	replayed(&leds2, "usb:1-5-0", 0x21, 0x09, 0x200, 0, 1, 0x02);
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	/* the hub's driver */
	hub_config("usb:1-1-0", 8);
	replayed(&pwr1, "usb:1-1-0", 0x23, 0x03, 8, 1, 0, 0);
	replayed(&pwr2, "usb:1-1-0", 0x23, 0x03, 8, 2, 0, 0);
	creq_init(&hin, USB_OP_XFER, 0x81, 1);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &hin), PB_OK);
	port_req(&on, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	REQUIRE(fres_find("usb:1-1.2-0") != NULL);
	REQUIRE(bus_devs[0] && bus_devs[1] && bus_devs[2]);

	hc2.hold = 1;		/* to see what waits where */
	swap_to_hc2();
	CHECK_CONTAINS(log_text, "usb-hci:xhci0: controller swapped: finding "
	    "3 devices again");
	CHECK(bus_devs[0]->state == D_LOST && bus_devs[2]->state == D_LOST);
	/* a request now waits in the bus, not at the controller */
	creq_init(&in2, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in2), PB_OK);
	CHECK(bus_devs[0]->held_head == &in2.r);
	hc2.hold = 0;
	fh_step(&hc2);
	pump();

	/* the hub and the keyboard came back under their numbers */
	CHECK_STR(trace_of(&hc2, 2), "add:2@0.1 get:2:01.00/8 get:2:01.00/18 "
	    "ep:2:81 ctl:2:00.09.0001.0000 hub:2:8 ctl:2:23.03.0008.0001 "
	    "ctl:2:23.03.0008.0002 resume:2 xfer:2:81");
	CHECK_STR(trace_of(&hc2, 1), "add:1@0.5 get:1:01.00/8 get:1:01.00/18 "
	    "get:1:03.03/255 ep:1:81 ctl:1:00.09.0001.0000 "
	    "ctl:1:21.0b.0000.0000 ctl:1:21.0a.0000.0000 "
	    "ctl:1:21.09.0200.0000 resume:1 xfer:1:81 xfer:1:81");
	/* 5 before (SET_CONFIGURATION, the 4 requests), 4 after it */
	CHECK_EQ_INT(kbd.nlog, 9);
	CHECK_EQ_INT(kbd.log[8].bRequest, 0x09);
	CHECK_EQ_INT(kbd.logdata[8][0], 0x02);	/* the last LEDs */
	CHECK_CONTAINS(log_text, "1-5: back after the controller swap");
	CHECK_CONTAINS(log_text, "1-1: back after the controller swap");
	/* the held report request, then the one that waited in the bus */
	CHECK_EQ_INT(fh_finish(&hc2, 1, 0x81, report, 8, PB_OK), PB_OK);
	CHECK_EQ_INT(fh_finish(&hc2, 1, 0x81, report, 8, PB_OK), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_OK);
	CHECK_EQ_INT(in2.done, 1);
	CHECK_EQ_INT(in2.buf[2], 5);

	/* the hub driver sees its port come back: OFF (kept), then ON */
	CHECK(bus_devs[2]->state == D_LOST);
	port_req(&off, USB_OP_PORT_OFF, 2, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &off), PB_OK);
	pump();
	CHECK_EQ_INT(off.status, PB_OK);
	CHECK(bus_devs[2] && bus_devs[2]->state == D_LOST);
	port_req(&on, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	CHECK_EQ_INT(on.status, PB_OK);
	CHECK_STR(trace_of(&hc2, 3), "add:3@2.2 get:3:01.00/8 "
	    "get:3:01.00/18 get:3:03.03/255 ep:3:81 ctl:3:00.09.0001.0000 "
	    "resume:3");
	CHECK_CONTAINS(log_text, "1-1.2: back after the controller swap");
	CHECK_STR(withdrawn, "");
	CHECK(strstr(log_text, "unplugged") == NULL);
	CHECK_EQ_INT(usb_published(), 3);
	time_passes(BUS_SWAP_NS + BUS_TICK_NS);	/* nothing more happens */
	pump();
	CHECK_EQ_INT(usb_published(), 3);
	world_end();
}

TEST(usb_bus_swap_device_not_back)
{
	struct fmodel kbd, stick;
	struct creq held, queued;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 5, &kbd);
	fh_plug(&hc, 6, &stick);
	pump();
	creq_init(&held, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &held), PB_OK);
	fh_swap(&hc, &hc2);
	hc2.root[6] = NULL;		/* gone during the swap */
	rebound_to_hc2();
	pump();
	CHECK(fres_find("usb:1-5-0") != NULL);
	CHECK(bus_devs[1] && bus_devs[1]->state == D_LOST);
	creq_init(&queued, USB_OP_XFER, 0x02, 31);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &queued), PB_OK);
	time_passes(BUS_SWAP_NS / 2);
	pump();
	CHECK(fres_find("usb:1-6-0") != NULL);	/* not yet */
	time_passes(BUS_SWAP_NS / 2 + BUS_TICK_NS);
	pump();
	CHECK(fres_find("usb:1-6-0") == NULL);
	CHECK_STR(withdrawn, "usb:1-6-0");
	CHECK_CONTAINS(log_text, "1-6: unplugged (not back 2 s after the "
	    "controller swap)");
	CHECK_CONTAINS(hc2.trace, "rm:2");
	CHECK_EQ_INT(held.done, 1);		/* the controller held it */
	CHECK_EQ_INT(held.status, PB_ECANCELED);
	CHECK_EQ_INT(queued.done, 1);		/* the bus held it */
	CHECK_EQ_INT(queued.status, PB_ECANCELED);
	CHECK(fres_find("usb:1-5-0") != NULL);
	world_end();
}

TEST(usb_bus_swap_another_device_came_back)
{
	struct fmodel kbd, stick;
	struct creq held;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fm_stick(&stick, USB_SPEED_FULL);
	stick.cfg[9 + 9 + 4] = 64;	/* full speed bulk */
	stick.cfg[9 + 9 + 5] = 0;
	stick.cfg[9 + 9 + 7 + 4] = 64;
	stick.cfg[9 + 9 + 7 + 5] = 0;
	stick.dd[7] = 64;
	fh_plug(&hc, 5, &kbd);
	pump();
	creq_init(&held, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &held), PB_OK);
	fh_swap(&hc, &hc2);
	hc2.root[5] = &stick;
	rebound_to_hc2();
	pump();
	CHECK_CONTAINS(log_text, "1-5: unplugged (46f4:0001 came back in its "
	    "place)");
	CHECK_STR(withdrawn, "usb:1-5-0");
	CHECK_EQ_INT(held.status, PB_ECANCELED);
	CHECK_CONTAINS(props_of("usb:1-5-0"), "vid=46f4 pid=0001 class=08");
	CHECK_CONTAINS(log_text, "1-5: 46f4:0001 QEMU USB HARDDRIVE (full "
	    "speed) plugged");
	CHECK_CONTAINS(hc2.trace, "cancel:1:ff");
	CHECK_CONTAINS(hc2.trace, "ctl:1:00.09.0001.0000 resume:1");
	world_end();
}

/* ---- the two orders of addressing (enum.c) ---------------------------- */

/* A device that does not answer SET_ADDRESS before its descriptor was
 * read: the second attempt, in two steps, sets it up. */
TEST(usb_bus_device_that_wants_its_address_last)
{
	struct fmodel stick;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	stick.address_last = 1;
	fh_plug(&hc, 6, &stick);
	pump();
	CHECK_STR(trace_of(&hc, 1), "add:1@0.6 rm:1 add0:1@0.6 "
	    "get:1:01.00/8 addr:1 get:1:01.00/18 get:1:02.00/9 "
	    "get:1:02.00/32 get:1:03.00/255 get:1:03.02/255 get:1:03.03/255 "
	    "ep:1:81 ep:1:02 ctl:1:00.09.0001.0000");
	CHECK_CONTAINS(log_text, "1-6: address: transaction error; trying "
	    "again, its descriptor read before its address");
	CHECK(fres_find("usb:1-6-0") != NULL);
	CHECK(strstr(log_text, "giving up") == NULL);
	world_end();
}

/* usb-address=two-step: the first attempt in two steps, one device at
 * address 0 at a time until its SET_ADDRESS; a full-speed device's
 * default pipe grows before it. */
TEST(usb_bus_two_steps_first_by_boot_cfg)
{
	struct fmodel a, b;

	REQUIRE(world_start() == PB_OK);
	fake_boot_cfg = "usb-address=two-step";
	bus_two_step_first = 1;		/* as bus_start read it */
	fm_keyboard(&a);
	a.dd[7] = 64;			/* bMaxPacketSize0 */
	fm_keyboard(&b);
	hc.hold = 1;
	fh_plug(&hc, 5, &a);
	fh_plug(&hc, 6, &b);
	pump();
	for (unsigned i = 0; i < 3; i++) {	/* ADD, DEV8, MPS of 1 */
		CHECK_EQ_INT(hc.npend, 1);
		CHECK(hc.pend[0]->dev == 1);
		fh_step(&hc);
		pump();
	}
	CHECK(hc.pend[0]->op == USB_OP_SET_ADDRESS);
	CHECK_EQ_INT(hc.npend, 1);	/* 2 waits for 1's address */
	fh_step(&hc);
	pump();
	CHECK_EQ_INT(hc.npend, 2);
	CHECK(hc.pend[1]->op == USB_OP_ADD && hc.pend[1]->dev == 2 &&
	    (hc.pend[1]->flags & USB_REQ_ADD_DEFAULT));
	while (fh_step(&hc))
		pump();
	CHECK_CONTAINS(trace_of(&hc, 1), "add0:1@0.5 get:1:01.00/8 mps:1=64 "
	    "addr:1 get:1:01.00/18");
	CHECK_CONTAINS(trace_of(&hc, 2), "add0:2@0.6 get:2:01.00/8 addr:2 "
	    "get:2:01.00/18");
	CHECK(fres_find("usb:1-5-0") && fres_find("usb:1-6-0"));
	world_end();
	/* the setting as the bus reads it at its start */
	fake_boot_cfg = "usb-address=two-step";
	REQUIRE(bus_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(bus_two_step_first, 1);
	bus_stop(SELF);
	fake_boot_cfg = "usb-address=sideways";
	REQUIRE(bus_start(SELF, &fake_hub, PB_START_NORMAL) == PB_OK);
	CHECK_EQ_INT(bus_two_step_first, 0);
	CHECK_CONTAINS(log_text, "usb-address=sideways: not two-step or "
	    "first: ignored");
	bus_stop(SELF);
	world_end();
}

/* A usb-hci 1.1 controller has no two steps: both attempts address
 * first. */
TEST(usb_bus_address_first_on_an_older_controller)
{
	struct fmodel m;

	REQUIRE(world_start() == PB_OK);
	hci_minor = 1;
	bus_hcis[0].minor = 1;
	fm_keyboard(&m);
	m.stall_dev = 1;
	fh_plug(&hc, 5, &m);
	pump();
	CHECK_CONTAINS(hc.trace, "rm:1 add:1@0.5 get:1:01.00/8 "
	    "get:1:01.00/18");
	CHECK(strstr(hc.trace, "add0:") == NULL);
	CHECK_CONTAINS(log_text, "1-5: device descriptor: stall; trying "
	    "again\n");
	CHECK(fres_find("usb:1-5-0") != NULL);
	world_end();
}

/* ---- a class driver's device reset (reset.c) ------------------------- */

/* A stick's driver asks for a reset: what was out is cancelled, the
 * slot freed, the port reset, and the stick set up again under its
 * number; what was submitted meanwhile waited and goes. */
TEST(usb_bus_device_reset_sets_the_stick_up_again)
{
	struct fmodel stick;
	struct creq in, rst, queued;
	struct usb_info info = { .size = sizeof(info) };
	struct pb_conn c;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 6, &stick);
	pump();
	creq_init(&in, USB_OP_XFER, 0x81, 13);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &in), PB_OK);
	hc.trace[0] = '\0';
	creq_init(&rst, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst), PB_OK);
	CHECK(bus_devs[0]->state == D_LOST);
	creq_init(&queued, USB_OP_XFER, 0x02, 31);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &queued), PB_OK);
	CHECK(bus_devs[0]->held_head == &queued.r);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_ECANCELED);
	CHECK_EQ_INT(rst.done, 1);
	CHECK_EQ_INT(rst.status, PB_OK);
	CHECK_EQ_INT(stick.port_resets, 1);
	CHECK_STR(hc.trace, "cancel:1:ff rm:1 preset:6 add:1@0.6 "
	    "get:1:01.00/18 get:1:03.03/255 ep:1:81 ep:1:02 "
	    "ctl:1:00.09.0001.0000 resume:1 xfer:1:02");
	CHECK_EQ_INT(fh_pending(&hc, 1, 0x02), 1);	/* the held one */
	CHECK(bus_devs[0]->state == D_READY && !bus_devs[0]->reset_req);
	c = conn_of("usb:1-6-0");
	REQUIRE(c.ops != NULL);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, info, &info), PB_OK);
	CHECK_EQ_INT(info.resets, 1);
	CHECK_CONTAINS(log_text, "1-6: reset at its driver's request");
	CHECK_CONTAINS(log_text, "1-6: back after its reset");
	CHECK_STR(withdrawn, "");
	CHECK(strstr(log_text, "unplugged") == NULL);
	world_end();
}

/* A stick that does not come back from its port reset is removed at the
 * lost device's deadline; one whose port cannot be reset, at once. */
TEST(usb_bus_device_reset_the_stick_does_not_come_back)
{
	struct fmodel stick, stick2;
	struct creq rst, rst2;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fm_stick(&stick2, USB_SPEED_SUPER);
	stick2.str[3] = "other";
	fh_plug(&hc, 6, &stick);
	pump();
	fh_plug(&hc, 7, &stick2);
	pump();
	stick.gone_after_reset = 1;
	creq_init(&rst, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst), PB_OK);
	pump();
	CHECK_EQ_INT(stick.port_resets, 1);
	CHECK_EQ_INT(rst.done, 0);
	CHECK(fres_find("usb:1-6-0") != NULL);
	time_passes(BUS_SWAP_NS + BUS_TICK_NS);
	pump();
	CHECK_EQ_INT(rst.done, 1);
	CHECK_EQ_INT(rst.status, PB_ENODEV);
	CHECK(fres_find("usb:1-6-0") == NULL);
	CHECK_CONTAINS(log_text, "1-6: unplugged (not back 2 s after its "
	    "reset)");

	stick2.attached = 0;		/* its port answers PB_ENODEV */
	creq_init(&rst2, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-7-0", &rst2), PB_OK);
	pump();
	CHECK_EQ_INT(rst2.done, 1);
	CHECK_EQ_INT(rst2.status, PB_ENODEV);
	CHECK(fres_find("usb:1-7-0") == NULL);
	CHECK_CONTAINS(log_text, "1-7: unplugged (its reset failed: "
	    "PORT_RESET: ");
	world_end();
}

/* Its driver goes while the reset runs: the stick comes back all the
 * same, for the next driver, and nothing is written into the request. */
TEST(usb_bus_device_reset_outlives_its_driver)
{
	static char driver;	/* the class driver: another module */
	struct fmodel stick;
	struct creq rst;
	struct pb_conn c;

	REQUIRE(world_start() == PB_OK);
	fm_stick(&stick, USB_SPEED_HIGH);
	fh_plug(&hc, 6, &stick);
	pump();
	hc.hold = 1;			/* the REMOVE waits */
	creq_init(&rst, USB_OP_RESET_DEVICE, 0, 0);
	rst.r.done.owner = (struct pb_module *)&driver;
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst), PB_OK);
	c = conn_of("usb:1-6-0");
	bus_event(SELF, PB_EV_CLIENT_GONE, &c, PB_REQ_BIND);
	CHECK(bus_devs[0]->reset_req == NULL);
	hc.hold = 0;
	while (hc.npend)
		fh_step(&hc);
	pump();
	CHECK_EQ_INT(rst.done, 0);
	CHECK_EQ_INT(stick.port_resets, 1);
	CHECK(bus_devs[0]->state == D_READY && !bus_devs[0]->resetting);
	CHECK_CONTAINS(log_text, "1-6: back after its reset");
	CHECK(fres_find("usb:1-6-0") != NULL);
	world_end();
}

/* Behind a hub: the hub's driver, holding a HUB_RESET_WAIT, is asked
 * for the port; its PORT_ON brings the device back under its number. */
TEST(usb_bus_device_reset_behind_a_hub)
{
	struct fmodel hub, kbd;
	struct creq on, on2, wait, wait2, rst, in;
	struct pb_conn c;

	REQUIRE(world_start() == PB_OK);
	fm_hub(&hub);
	fm_keyboard(&kbd);
	hub.ports[2] = &kbd;
	fh_plug(&hc, 1, &hub);
	pump();
	hub_config("usb:1-1-0", 8);
	creq_init(&wait, USB_OP_HUB_RESET_WAIT, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &wait), PB_OK);
	creq_init(&wait2, USB_OP_HUB_RESET_WAIT, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &wait2), PB_EBUSY);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &wait2), PB_ENOENT);
	port_req(&on, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	REQUIRE(fres_find("usb:1-1.2-0") != NULL);
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-1.2-0", &in), PB_OK);
	hc.trace[0] = '\0';
	creq_init(&rst, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1.2-0", &rst), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_ECANCELED);
	CHECK_EQ_INT(wait.done, 1);			/* the hub's driver */
	CHECK_EQ_INT(wait.status, PB_OK);
	CHECK_EQ_INT(wait.r.u.port.port, 2);
	CHECK_EQ_INT(rst.done, 0);
	CHECK_STR(hc.trace, "cancel:2:ff rm:2");
	/* the driver reset its port: PORT_ON again, no PORT_OFF */
	port_req(&on2, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on2), PB_OK);
	pump();
	CHECK_EQ_INT(on2.status, PB_OK);
	CHECK_EQ_INT(rst.done, 1);
	CHECK_EQ_INT(rst.status, PB_OK);
	CHECK_CONTAINS(hc.trace, "add:2@1.2");
	CHECK_CONTAINS(log_text, "1-1.2: back after its reset");
	CHECK(strstr(log_text, "unplugged") == NULL);
	/* a cancel ends the standing request, alone or with the rest; so
	 * does the hub's going */
	CHECK_EQ_INT(submit_on("usb:1-1-0", &wait2), PB_OK);
	c = conn_of("usb:1-1-0");
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, cancel, USB_EP_HUB_RESET_WAIT),
	    PB_OK);
	pump();
	CHECK_EQ_INT(wait2.done, 1);
	CHECK_EQ_INT(wait2.status, PB_ECANCELED);
	creq_init(&wait2, USB_OP_HUB_RESET_WAIT, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &wait2), PB_OK);
	CHECK_EQ_INT(PB_CALL(&c, usb_ops, cancel, 0xff), PB_OK);
	pump();
	CHECK_EQ_INT(wait2.done, 1);
	CHECK_EQ_INT(wait2.status, PB_ECANCELED);
	creq_init(&wait, USB_OP_HUB_RESET_WAIT, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &wait), PB_OK);
	fh_unplug(&hc, 1);
	pump();
	CHECK_EQ_INT(wait.done, 1);
	CHECK_EQ_INT(wait.status, PB_ECANCELED);
	world_end();
}

/* Refused, nothing happens: behind a hub, on a usb-hci 1.1 controller,
 * a second one while one runs, one with data. */
TEST(usb_bus_device_reset_refusals)
{
	struct fmodel hub, kbd, stick;
	struct creq on, rst, rst2, bad;

	REQUIRE(world_start() == PB_OK);
	fm_hub(&hub);
	fm_keyboard(&kbd);
	fm_stick(&stick, USB_SPEED_HIGH);
	hub.ports[2] = &kbd;
	fh_plug(&hc, 1, &hub);
	pump();
	fh_plug(&hc, 6, &stick);
	pump();
	hub_config("usb:1-1-0", 8);
	port_req(&on, USB_OP_PORT_ON, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	REQUIRE(fres_find("usb:1-1.2-0") != NULL);
	hc.trace[0] = '\0';

	creq_init(&rst, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-1.2-0", &rst), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "usb:1-1.2-0: a reset refused: its hub's "
	    "driver takes no port resets from the bus");
	creq_init(&bad, USB_OP_RESET_DEVICE, 0, 8);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &bad), PB_EINVAL);
	hci_minor = 1;
	bus_hcis[0].minor = 1;
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst), PB_ENOTSUP);
	CHECK_CONTAINS(log_text, "usb-hci 1.1 (port resets came in 1.2)");
	hci_minor = USB_HCI_MINOR;
	bus_hcis[0].minor = USB_HCI_MINOR;
	CHECK_STR(hc.trace, "");
	pump();
	CHECK_EQ_INT(rst.done + bad.done, 0);

	hc.hold = 1;			/* the REMOVE waits */
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst), PB_OK);
	creq_init(&rst2, USB_OP_RESET_DEVICE, 0, 0);
	CHECK_EQ_INT(submit_on("usb:1-6-0", &rst2), PB_EBUSY);
	hc.hold = 0;
	while (hc.npend)
		fh_step(&hc);
	pump();
	CHECK_EQ_INT(rst.done, 1);
	CHECK_EQ_INT(rst.status, PB_OK);
	CHECK_EQ_INT(rst2.done, 0);
	CHECK_EQ_INT(stick.port_resets, 1);
	world_end();
}

/* A device being enumerated when the swap comes is removed and found
 * afresh by the new controller's report. */
TEST(usb_bus_swap_during_enumeration)
{
	struct fmodel kbd;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	hc.hold = 1;
	fh_plug(&hc, 5, &kbd);
	pump();
	fh_step(&hc);
	pump();
	REQUIRE(bus_devs[0] && bus_devs[0]->state == D_ENUM);
	swap_to_hc2();
	pump();
	CHECK_CONTAINS(log_text, "1-5: gone while being enumerated (a "
	    "controller swap came)");
	CHECK(fres_find("usb:1-5-0") != NULL);
	CHECK_CONTAINS(log_text, "1-5: 0627:0001 QEMU USB Keyboard (full "
	    "speed) plugged");
	CHECK_EQ_INT(hc2.npend, 0);
	world_end();
}

/* USB 2.0 §4.1.1: seven tiers, the root hub's the first: a root port and
 * five hubs' ports lead to the last device; a port below it is refused,
 * as is a port a hub does not have. */
TEST(usb_bus_hubs_five_deep)
{
	struct fmodel hubs[7];
	struct creq on;
	char res[64] = "usb:1-1-0", dev[40] = "1-1";

	REQUIRE(world_start() == PB_OK);
	for (unsigned i = 0; i < 7; i++) {
		fm_hub(&hubs[i]);
		if (i)
			hubs[i - 1].ports[3] = &hubs[i];
	}
	fh_plug(&hc, 1, &hubs[0]);
	pump();
	for (unsigned i = 1; i < 7; i++) {
		hub_config(res, 4);
		port_req(&on, USB_OP_PORT_ON, 3, USB_SPEED_FULL);
		CHECK_EQ_INT(submit_on(res, &on), PB_OK);
		pump();
		if (i == 6) {
			CHECK_EQ_INT(on.status, PB_EINVAL);
			break;
		}
		CHECK_EQ_INT(on.status, PB_OK);
		snprintf(dev + strlen(dev), sizeof(dev) - strlen(dev), ".3");
		snprintf(res, sizeof(res), "usb:%s-0", dev);
		CHECK_MSG(fres_find(res) != NULL, "%s", res);
	}
	CHECK_STR(res, "usb:1-1.3.3.3.3.3-0");	/* tier 7 */
	CHECK_CONTAINS(log_text, "1-1.3.3.3.3.3.3: too many hubs deep");
	port_req(&on, USB_OP_PORT_ON, 5, USB_SPEED_FULL);
	CHECK_EQ_INT(submit_on("usb:1-1-0", &on), PB_OK);
	pump();
	CHECK_EQ_INT(on.status, PB_EINVAL);
	CHECK_CONTAINS(log_text, "usb:1-1-0: PORT_ON of port 5 refused (no "
	    "such port)");
	world_end();
}

/* A port reported twice: the enumeration goes on; a configured device's
 * port connecting again is another device. */
TEST(usb_bus_connect_twice)
{
	struct fmodel kbd;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	hc.hold = 1;
	fh_plug(&hc, 5, &kbd);
	pump();
	fh_step(&hc);
	pump();
	fh_event(&hc, USB_EVENT_CONNECT, 5, USB_SPEED_FULL, 0);
	pump();
	CHECK_CONTAINS(log_text, "1-5: CONNECT again while being enumerated: "
	    "ignored");
	while (fh_step(&hc))
		pump();
	CHECK(fres_find("usb:1-5-0") != NULL);
	hc.hold = 0;
	fh_event(&hc, USB_EVENT_CONNECT, 5, USB_SPEED_FULL, 0);
	pump();
	CHECK_CONTAINS(log_text, "1-5: unplugged (another device connected "
	    "there)");
	CHECK_CONTAINS(hc.trace, "rm:1 add:2@0.5");
	CHECK(fres_find("usb:1-5-0") != NULL);
	world_end();
}

/* kbdheal: the controller's driver faults inside a class driver's submit
 * (the call answers PB_EFAULT; the hub restarts it and says
 * PB_EV_REBOUND): the request waits in the bus and goes to the restarted
 * controller once the device is found again, instead of failing and
 * leaving the keyboard's driver without input (seed 2003 usbonly 49,
 * usb 109: xhci entry faults). */
TEST(usb_kbdheal_submit_into_a_faulting_controller_waits)
{
	struct fmodel kbd;
	struct creq in;
	const uint8_t report[8] = { 0, 0, 7 };
	struct usb_info info;
	struct fres *r;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	REQUIRE(fres_find("usb:1-5-0") != NULL);
	hc.refuse_submit = PB_EFAULT;
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 0);
	CHECK(bus_devs[0]->held_head == &in.r);
	CHECK_CONTAINS(log_text, "1-5: its controller faulted: requests wait "
	    "for its restart");
	hc.refuse_submit = 0;
	swap_to_hc2();		/* the restarted driver, with its state */
	pump();
	CHECK_CONTAINS(log_text, "1-5: back after the controller swap");
	CHECK_EQ_INT(fh_finish(&hc2, 1, 0x81, report, 8, PB_OK), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_OK);
	CHECK_EQ_INT(in.buf[2], 7);
	CHECK(bus_devs[0]->fault_until == 0);
	/* its class driver can tell the device was reset (keys held) */
	info.size = sizeof(info);
	r = fres_find("usb:1-5-0");
	CHECK_EQ_INT(((const struct usb_ops *)r->ops)->info(r->ctx, &info),
	    PB_OK);
	CHECK_EQ_INT(info.size, sizeof(info));
	CHECK_EQ_INT(info.resets, 1);
	world_end();
}

/* A request the restarted controller took over with its state (it was
 * queued before the fault) is not completed by the bus when the
 * controller answers its second submit PB_EBUSY (ours already). */
TEST(usb_kbdheal_request_taken_with_the_state_is_not_completed)
{
	struct fmodel kbd;
	struct creq in;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	in.r.dev = 1;
	fh_pend(&hc, &in.r, 0);		/* queued, then the fault */
	hc.refuse_submit = PB_EFAULT;
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	hc.refuse_submit = 0;
	swap_to_hc2();
	pump();
	CHECK(bus_devs[0]->state == D_READY);
	CHECK_EQ_INT(in.done, 0);	/* not PB_EBUSY from the bus */
	CHECK_EQ_INT(fh_pending(&hc2, 1, 0x81), 1);
	CHECK_EQ_INT(fh_finish(&hc2, 1, 0x81, NULL, 0, PB_OK), PB_OK);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_OK);
	world_end();
}

/* No restart comes (the driver is left stopped, or PB_EFAULT was an
 * answer, not a fault): after 2 s what waited fails PB_EIO, and its
 * driver's own retries take over. */
TEST(usb_kbdheal_no_restart_fails_what_waited)
{
	struct fmodel kbd;
	struct creq in;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	hc.refuse_submit = PB_EFAULT;
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	time_passes(BUS_SWAP_NS / 2);
	pump();
	CHECK_EQ_INT(in.done, 0);
	time_passes(BUS_SWAP_NS / 2 + BUS_TICK_NS);
	pump();
	CHECK_EQ_INT(in.done, 1);
	CHECK_EQ_INT(in.status, PB_EIO);
	CHECK_CONTAINS(log_text, "1-5: its controller was not restarted "
	    "within 2 s");
	CHECK(fres_find("usb:1-5-0") != NULL);
	world_end();
}

/* kbdheal: a controller restarted without its state (its export faulted)
 * holds none of the old one's requests, its standing WAIT_EVENT either:
 * the bus's new one reports one port, and is asked again though the old
 * one never completes, so every device is found again (seed 2003
 * usbonly 235: the keyboard not back 2 s after xhci's restart). */
TEST(usb_kbdheal_fresh_controller_finds_every_device)
{
	struct fmodel kbd, stick;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fm_stick(&stick, USB_SPEED_SUPER);
	fh_plug(&hc, 2, &stick);
	pump();
	fh_plug(&hc, 5, &kbd);
	pump();
	/* nothing handed over: the ports only */
	memcpy(hc2.root, hc.root, sizeof(hc2.root));
	kbd.config = stick.config = 0;
	hc.npend = 0;
	memset(hc.waiter, 0, sizeof(hc.waiter));
	rebound_to_hc2();
	pump();
	CHECK_CONTAINS(log_text, "1-2: back after the controller swap");
	CHECK_CONTAINS(log_text, "1-5: back after the controller swap");
	CHECK(bus_devs[0]->state == D_READY && bus_devs[1]->state == D_READY);
	/* and later changes are still heard */
	fh_unplug(&hc2, 2);
	pump();
	CHECK_CONTAINS(log_text, "1-2: unplugged");
	world_end();
}

/* kbdheal: the new controller says it did not take over the old one's
 * requests (USB_HCI_FRESH: xhci restarted after an export that faulted):
 * the class drivers' requests it held will never complete, so its
 * devices go as unplugged, their drivers let go, and they are found and
 * published afresh (their drivers bind again) instead of being "found
 * again" under drivers that wait for ever (seed 2003 usbonly 235). */
TEST(usb_kbdheal_fresh_controller_devices_found_afresh)
{
	struct fmodel kbd;
	struct creq in;

	REQUIRE(world_start() == PB_OK);
	fm_keyboard(&kbd);
	fh_plug(&hc, 5, &kbd);
	pump();
	creq_init(&in, USB_OP_XFER, 0x81, 8);
	CHECK_EQ_INT(submit_on("usb:1-5-0", &in), PB_OK);
	memcpy(hc2.root, hc.root, sizeof(hc2.root));
	kbd.config = 0;
	hc.npend = 0;			/* lost with the old controller */
	memset(hc.waiter, 0, sizeof(hc.waiter));
	hc2.info.flags = USB_HCI_FRESH;
	rebound_to_hc2();
	pump();
	CHECK_CONTAINS(log_text, "the controller restarted without the "
	    "requests it held");
	CHECK_CONTAINS(log_text, "1-5: unplugged (its controller restarted "
	    "without its requests)");
	CHECK_STR(withdrawn, "usb:1-5-0");
	CHECK(fres_find("usb:1-5-0") != NULL);	/* published afresh */
	CHECK(bus_devs[0] && bus_devs[0]->state == D_READY);
	CHECK(strstr(log_text, "back after the controller swap") == NULL);
	CHECK_EQ_INT(in.done, 0);	/* its driver let go of it */
	/* nothing sent for the old slots: the new controller has none, and
	 * a REMOVE would be written into a record freed meanwhile */
	CHECK(strstr(hc2.trace, "rm:") == NULL);
	world_end();
}
