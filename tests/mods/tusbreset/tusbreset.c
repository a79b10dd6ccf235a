/*
 * tusbreset - test module: a class driver for a USB stick that wedges it
 * and has the bus reset it (USB_OP_RESET_DEVICE), so the scenario test
 * (tests/scenario/test_usbreset.py) sees a device reset end to end on
 * QEMU's usb-storage behind xhci.  In order, one request at a time:
 *
 *   1. a CBW for INQUIRY (36 bytes IN) whose data it never reads: the
 *      stick waits to send them (Bulk-Only Transport 1.0 §5.1, §6.7);
 *   2. a second CBW, which a stick in that state stalls (QEMU's does):
 *        tusbreset: wedged: the second CBW ended -64
 *   3. USB_OP_RESET_DEVICE:
 *        tusbreset: reset ended 0, resets 1
 *   4. INQUIRY again, whole (CBW, data, CSW), which only a stick back in
 *      its first state answers, on endpoints the bus enabled afresh:
 *        tusbreset: after the reset: INQUIRY 'QEMU    QEMU HARDDISK   '
 *        csw status 0
 * A step that ends otherwise logs "tusbreset: failed at ..." and stops.
 * The image it is tested on has no usb-storage: this module is the
 * stick's one client.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/usb.h"

#define CBW_SIG 0x43425355u	/* "USBC", BOT §5.1 */
#define CSW_SIG 0x53425355u	/* "USBS", BOT §5.2 */
#define CBW_LEN 31
#define CSW_LEN 13
#define INQUIRY_LEN 36
#define INQUIRY 0x12		/* SPC-4 §6.6 */
#define TEST_UNIT_READY 0x00

/* Offsets in the page of DMA memory. */
#define BUF_CBW 0
#define BUF_DATA 64
#define BUF_CSW 128

enum step { S_CBW1, S_CBW2, S_RESET, S_CBW3, S_DATA3, S_CSW3, S_DONE };

static const struct pb_hub *hub;
static struct pb_module *self;
static struct pb_conn *stick;
static uint8_t ep_in, ep_out;
static uint8_t *buf;
static uint64_t buf_bus;
static struct usb_req req;
static struct usb_seg seg;
static enum step step;

#define say(...) pb_logf(hub, self, PB_LOG_INFO, __VA_ARGS__)

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void step_done(void *arg);

static int
send(uint8_t op, uint8_t ep, uint32_t off, uint32_t len)
{
	req = (struct usb_req){ .size = sizeof(req), .op = op, .ep = ep,
	    .length = len };
	if (len) {
		seg = (struct usb_seg){ buf + off, buf_bus + off, len, 0 };
		req.segs = &seg;
		req.nseg = 1;
	}
	hub->work_init(self, &req.done, step_done, NULL);
	return PB_CALL(stick, usb_ops, submit, &req);
}

/* A CBW (BOT §5.1) for cdb[0] = opcode with len bytes IN. */
static int
send_cbw(uint32_t tag, uint8_t opcode, uint32_t len)
{
	uint8_t *c = buf + BUF_CBW;

	for (unsigned i = 0; i < CBW_LEN; i++)
		c[i] = 0;
	put32(c, CBW_SIG);
	put32(c + 4, tag);
	put32(c + 8, len);
	c[12] = len ? 0x80 : 0;		/* bmCBWFlags: IN */
	c[14] = 6;			/* bCBWCBLength */
	c[15] = opcode;
	c[19] = (uint8_t)len;		/* allocation length */
	return send(USB_OP_XFER, ep_out, BUF_CBW, CBW_LEN);
}

static void
fail(const char *what, int status)
{
	say("failed at %s (%d)", what, status);
	step = S_DONE;
}

static void
go(enum step s)
{
	static const char *const names[] = { "CBW 1", "CBW 2", "the reset",
	    "CBW 3", "the data", "the CSW" };
	int e = PB_OK;

	step = s;
	switch (s) {
	case S_CBW1:
		e = send_cbw(1, INQUIRY, INQUIRY_LEN);
		break;
	case S_CBW2:
		e = send_cbw(2, TEST_UNIT_READY, 0);
		break;
	case S_RESET:
		e = send(USB_OP_RESET_DEVICE, 0, 0, 0);
		break;
	case S_CBW3:
		e = send_cbw(3, INQUIRY, INQUIRY_LEN);
		break;
	case S_DATA3:
		e = send(USB_OP_XFER, ep_in, BUF_DATA, INQUIRY_LEN);
		break;
	case S_CSW3:
		e = send(USB_OP_XFER, ep_in, BUF_CSW, CSW_LEN);
		break;
	case S_DONE:
		return;
	}
	if (e != PB_OK)
		fail(names[s], e);
}

static void
after_the_reset(void)
{
	struct usb_info info = { .size = sizeof(info) };

	if (PB_CALL(stick, usb_ops, info, &info) != PB_OK)
		info.resets = 0;
	say("reset ended %d, resets %u", (int)req.status,
	    info.resets);
	go(S_CBW3);
}

static void
csw_arrived(void)
{
	const uint8_t *w = buf + BUF_CSW;
	char vendor[25];

	if (req.actual != CSW_LEN || get32(w) != CSW_SIG || get32(w + 4) != 3) {
		fail("the CSW (no CSW of tag 3)", (int)req.actual);
		return;
	}
	for (unsigned i = 0; i < 24; i++) {	/* vendor and product */
		uint8_t ch = buf[BUF_DATA + 8 + i];

		vendor[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
	}
	vendor[24] = '\0';
	say("after the reset: INQUIRY '%s' csw status %u", vendor,
	    w[12]);
	step = S_DONE;
}

static void
step_done(void *arg)
{
	(void)arg;
	switch (step) {
	case S_CBW1:
		if (req.status != PB_OK)
			fail("CBW 1", (int)req.status);
		else
			go(S_CBW2);
		break;
	case S_CBW2:
		say("wedged: the second CBW ended %d",
		    (int)req.status);
		go(S_RESET);
		break;
	case S_RESET:
		if (req.status != PB_OK)
			fail("the reset", (int)req.status);
		else
			after_the_reset();
		break;
	case S_CBW3:
	case S_DATA3:
		if (req.status != PB_OK)
			fail(step == S_CBW3 ? "CBW 3" : "the data",
			    (int)req.status);
		else
			go(step + 1);
		break;
	case S_CSW3:
		if (req.status != PB_OK)
			fail("the CSW", (int)req.status);
		else
			csw_arrived();
		break;
	case S_DONE:
		break;
	}
}

/* The stick's bulk endpoints, from its interface's descriptors. */
static int
find_endpoints(void)
{
	uint8_t d[256];
	size_t len = 0;

	if (PB_CALL(stick, usb_ops, descriptors, d, sizeof(d), &len) != PB_OK)
		return PB_EIO;
	for (size_t i = 0; i + 1 < len && i + 1 < sizeof(d) && d[i];
	    i += d[i]) {
		if (d[i + 1] != USB_DT_ENDPOINT || i + 7 > len ||
		    (d[i + 3] & 3) != USB_EP_BULK)
			continue;
		if (d[i + 2] & USB_DIR_IN)
			ep_in = d[i + 2];
		else
			ep_out = d[i + 2];
	}
	return ep_in && ep_out ? PB_OK : PB_ENODEV;
}

static void
begin(void)
{
	if (!stick || !hub || buf)
		return;
	if (find_endpoints() != PB_OK) {
		fail("its endpoints", PB_ENODEV);
		return;
	}
	buf = hub->dma_alloc(self, 4096, 4096, 0, ~0ull, &buf_bus);
	if (!buf) {
		fail("DMA memory", PB_ENOMEM);
		return;
	}
	say("%s: bulk in 0x%02x, out 0x%02x", stick->res, ep_in,
	    ep_out);
	go(S_CBW1);
}

static void
tr_event(struct pb_module *m, int ev, struct pb_conn *c, int reqn)
{
	(void)m;
	(void)reqn;
	if (ev == PB_EV_CONNECTED && !stick) {
		stick = c;
		begin();
	}
}

static int
tr_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	(void)mode;
	hub = h;
	self = m;
	begin();
	return PB_OK;
}

static const struct pb_module_ops ops = {
	.start = tr_start,
	.event = tr_event,
};

PB_MODULE(.name = "tusbreset", .version = "1.0",
    .desc = "test: wedges a USB stick and has the bus reset it",
    .rank = 20, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nbinds = 1,
    .binds = { PB_BIND(USB_IFACE, "class=08 subclass=06 protocol=50") });
