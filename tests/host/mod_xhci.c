/*
 * mod_xhci.c - the xhci module against a register- and ring-level model
 * of an xHCI controller with USB devices behind it (xhcimodel.h), a fake
 * hub (fakehub.h: clock, timers, intrusive work, DMA with bus addresses of
 * its own), a fake `pci` function (class 0c.03.30, BAR0, MSI-X and MSI)
 * and a fake `irq` provider.  The test plays the bus driver: it submits
 * usb_req requests through the published usb-hci resource.
 *
 * What is checked: the bring-up (BIOS handoff, forced when the BIOS
 * keeps it, SMIs off, Intel port routing, halt and reset bounded when
 * they hang, CSZ=1, scratchpads, PPC, AC64=0), interrupts (MSI-X, MSI,
 * polling with xhci-msi=no), root ports (USB 2 reset, USB 3 training and
 * warm reset, hot plug and unplug, WAIT_EVENT with its queue, ep=1 and
 * overflow), device set-up (ADD with route strings and TT fields behind
 * hubs, EP0_MPS, EP_ENABLE fields, HUB, REMOVE), transfers byte for byte
 * through scatter-gather lists across 64 KiB boundaries, short packets,
 * stalls and CLEAR_HALT, transaction errors retried then PB_EIO, babble,
 * cancel, timeouts and a lost device, a command never answered (abort),
 * garbage events, submit's checks, ring and event ring wrap-around, the
 * swap (requests handed over, held until RESUME, exactly once), a failed
 * swap, a client gone, and stop leaving the controller quiet.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#define XHCI_INSTANCES 2	/* the two sides of a swap */
#include "../../mods/xhci/caps.c"
#include "../../mods/xhci/cmd.c"
#include "../../mods/xhci/ctx.c"
#include "../../mods/xhci/dev.c"
#include "../../mods/xhci/event.c"
#include "../../mods/xhci/fix.c"
#include "../../mods/xhci/gone.c"
#include "../../mods/xhci/handoff.c"
#include "../../mods/xhci/hc.c"
#include "../../mods/xhci/irq.c"
#include "../../mods/xhci/port.c"
#include "../../mods/xhci/req.c"
#include "../../mods/xhci/ring.c"
#include "../../mods/xhci/state.c"
#include "../../mods/xhci/xfer.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo xhci_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/xhci/xhci.c"
#include "../../abi/rt/setting.c"

#include "fakehub.h"
#include "xhcimodel.h"

uint64_t
cpu_irq_save(void)
{
	return 0;
}

void
cpu_irq_restore(uint64_t flags)
{
	(void)flags;
}

void
mmio_wmb(void)
{
	__asm__ volatile("" : : : "memory");
}

void
mmio_rmb(void)
{
	__asm__ volatile("" : : : "memory");
}

void
mmio_mb(void)
{
	__asm__ volatile("" : : : "memory");
}

/* ---- the fake hub ------------------------------------------------------- */

static char self2_storage, client_storage, other_storage;
#define SELF2 ((struct pb_module *)&self2_storage)
#define CLIENT ((struct pb_module *)&client_storage)
#define OTHER ((struct pb_module *)&other_storage)	/* another driver */

#define FRES 8

static struct fres {
	int used;
	char name[40];
	char props[256];
	const void *ops;
	void *ctx;
	struct pb_module *owner;
	unsigned clients;
} fres[FRES];
static char cfg_props[128];
static unsigned heap_out;

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	char full[40];

	/* Two instances of one module (an update) publish the same names,
	 * as the hub lets them. */
	snprintf(full, sizeof(full), "%s:%s", iface, name);
	for (unsigned i = 0; i < FRES; i++)
		if (!fres[i].used) {
			fres[i] = (struct fres){ 1, "", "", ops, ctx, self, 1 };
			snprintf(fres[i].name, sizeof(fres[i].name), "%s", full);
			snprintf(fres[i].props, sizeof(fres[i].props), "%s",
			    props);
			return (struct pb_resource *)&fres[i];
		}
	return NULL;
}

static int
fake_withdraw(struct pb_module *self, struct pb_resource *r)
{
	memset(r, 0, sizeof(struct fres));
	return PB_OK;
}

static int
fake_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && index-- == 0) {
			*out = (struct pb_res_info){ .struct_size = sizeof(*out),
			    .name = fres[i].name, .props = fres[i].props,
			    .owner = "xhci", .clients = fres[i].clients };
			return PB_OK;
		}
	return PB_ENOENT;
}

static void *
fake_alloc(struct pb_module *self, size_t n)
{
	heap_out++;
	return malloc(n);
}

static void
fake_free(struct pb_module *self, void *p)
{
	heap_out--;
	free(p);
}

static void
fake_unmap_mmio(struct pb_module *self, void *va)
{
}

/* Periodic timers (timer_every): the polling of the event ring. */
#define FEVERY 4
static struct {
	int id;
	uint64_t period, next;
	pb_work_fn fn;
	void *arg;
} fevery[FEVERY];

static int
fake_timer_every(struct pb_module *self, uint64_t ns, pb_work_fn fn,
    void *arg)
{
	for (unsigned i = 0; i < FEVERY; i++)
		if (!fevery[i].id) {
			fevery[i].id = 1000 + (int)i;
			fevery[i].period = ns;
			fevery[i].next = fake_ns + ns;
			fevery[i].fn = fn;
			fevery[i].arg = arg;
			return fevery[i].id;
		}
	return PB_ENOMEM;
}

static void
any_timer_cancel(struct pb_module *self, int id)
{
	for (unsigned i = 0; i < FEVERY; i++)
		if (fevery[i].id == id)
			fevery[i].id = 0;
	fake_timer_cancel(self, id);
}

static unsigned
every_armed(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FEVERY; i++)
		n += fevery[i].id != 0;
	return n;
}

static struct pb_hub hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.alloc = fake_alloc,
	.free = fake_free,
	.unmap_mmio = fake_unmap_mmio,
	.publish = fake_publish,
	.withdraw = fake_withdraw,
	.queue_work = fake_queue_work,
	.irq_alloc = fake_irq_alloc,
	.irq_register = fake_irq_register,
	.irq_unregister = fake_irq_unregister,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = any_timer_cancel,
	.res_info = fake_res_info,
	.timer_every = fake_timer_every,
	.dma_alloc = fake_dma_alloc,
	.dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
	.res_info_sized = fake_res_info_sized,
};

/* ---- the fake pci function and irq provider ----------------------------- */

static struct pci_func_info func;
static uint32_t pci_cmd;
static uint8_t pci_cfg[256];
static unsigned cfg_writes[64];		/* offsets written, in order */
static uint32_t cfg_values[64];		/* ... and what was written */
static unsigned ncfg_writes;

static int
fpci_info(void *ctx, struct pci_func_info *i)
{
	*i = func;
	return PB_OK;
}

static int
fpci_cfg_read(void *ctx, uint16_t off, unsigned width, uint32_t *v)
{
	if (off == PCI_COMMAND) {
		*v = pci_cmd;
		return PB_OK;
	}
	*v = 0;
	memcpy(v, pci_cfg + off, width);
	return PB_OK;
}

static int
fpci_cfg_write(void *ctx, uint16_t off, unsigned width, uint32_t v)
{
	memcpy(pci_cfg + off, &v, width);
	if (ncfg_writes < 64) {
		cfg_values[ncfg_writes] = v;
		cfg_writes[ncfg_writes++] = off;
	}
	return PB_OK;
}

static unsigned master_on_running;

static int
fpci_enable(void *ctx, uint16_t bits, int on)
{
	/* Bus mastering on while the controller runs on someone's rings. */
	if (on && (bits & PCI_CMD_MASTER) && !(pci_cmd & PCI_CMD_MASTER) &&
	    (xm.usbcmd & USBCMD_RS))
		master_on_running++;
	pci_cmd = on ? pci_cmd | bits : pci_cmd & ~(uint32_t)bits;
	return PB_OK;
}

static void *
fpci_map_bar(void *ctx, struct pb_module *client, unsigned bar, int cache)
{
	return bar == 0 && cache == PB_CACHE_UC ? xm_bar : NULL;
}

static int
fpci_msi_enable(void *ctx, int kind, unsigned entry, uint64_t addr,
    uint32_t data)
{
	if (entry || addr != 0xfee00000u ||
	    (kind == PCI_IRQ_MSIX && !func.cap_msix) ||
	    (kind == PCI_IRQ_MSI && !func.cap_msi))
		return PB_EINVAL;
	xm.msix_on = kind == PCI_IRQ_MSIX;
	xm.msi_on = kind == PCI_IRQ_MSI;
	xm.vector = (int)data;
	return PB_OK;
}

static int
fpci_msi_disable(void *ctx)
{
	xm.msi_on = xm.msix_on = 0;
	return PB_OK;
}

static const struct pci_ops fpci_ops = {
	.info = fpci_info, .cfg_read = fpci_cfg_read,
	.cfg_write = fpci_cfg_write, .enable = fpci_enable,
	.map_bar = fpci_map_bar, .msi_enable = fpci_msi_enable,
	.msi_disable = fpci_msi_disable,
};
static struct pb_conn pci_conn = { .ops = &fpci_ops, .res = "pci:00:02.0" };

static int
firq_msi_message(void *ctx, int vector, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000u;
	*data = (uint32_t)vector;
	return PB_OK;
}

static const struct irq_ops firq_ops = { .msi_message = firq_msi_message };
static struct pb_conn irq_conn = { .ops = &firq_ops, .res = "irq:apic" };

/* ---- running the machine ------------------------------------------------ */

/* Device, interrupts and work until nothing moves. */
static void
pump(void)
{
	for (unsigned i = 0; i < 100000; i++)
		if (!model_run() && !model_deliver() && !run_posted() &&
		    !run_work())
			return;
	fprintf(stderr, "pump: the machine never settles\n");
	abort();
}

static void
run_every(void)
{
	for (unsigned i = 0; i < FEVERY; i++)
		if (fevery[i].id && fevery[i].next <= fake_ns) {
			fevery[i].next = fake_ns + fevery[i].period;
			fevery[i].fn(fevery[i].arg);
		}
}

/* Let ms milliseconds pass, a millisecond at a time. */
static void
wait_ms(unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		time_passes(1000000);
		run_every();
		pump();
	}
}

static struct fres *
res_named(const char *name)
{
	for (unsigned i = 0; i < FRES; i++)
		if (fres[i].used && strcmp(fres[i].name, name) == 0)
			return &fres[i];
	return NULL;
}

static const char *
prop(const struct fres *f, const char *key)
{
	static char v[96];

	if (!f || !rt_prop_get(f->props, key, v, sizeof(v)))
		return "(none)";
	return v;
}

static unsigned
count_of(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A fresh world: the model as qemu-xhci without devices, the fakes. */
static void
world(void)
{
	for (unsigned i = 0; i < XHCI_INSTANCES; i++)
		memset(&instances[i], 0, sizeof(instances[i]));
	fakehub_reset();
	fake_dma_reset();
	model_reset();
	memset(fres, 0, sizeof(fres));
	memset(fevery, 0, sizeof(fevery));
	memset(pci_cfg, 0, sizeof(pci_cfg));
	ncfg_writes = 0;
	cfg_props[0] = '\0';
	fake_boot_cfg = cfg_props;
	heap_out = 0;
	memset(&func, 0, sizeof(func));
	func.class_code = 0x0c, func.subclass = 0x03, func.prog_if = 0x30;
	func.vendor = 0x1b36, func.device = 0x000d;
	func.cap_msix = 0x90;
	func.msix_entries = 16;
	func.bars[0] = (struct pci_bar){ 0xfebf0000, XM_BAR_SIZE,
	    PCI_BAR_MEM64, 0, 0, 0 };
	pci_cmd = PCI_CMD_MEM;
	hub.size = sizeof(struct pb_hub);
}

static int
start_as(struct pb_module *self, int mode, int with_irq)
{
	xhci_event(self, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	if (with_irq)
		xhci_event(self, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	return xhci_start(self, &hub, mode);
}

/* Start and let the ports settle (debounce, reset, recovery). */
static int
boot(int with_irq)
{
	int err = start_as(SELF, PB_START_NORMAL, with_irq);

	pump();
	wait_ms(150);
	return err;
}

static void
shutdown(struct pb_module *self)
{
	xhci_stop(self);
	pump();
}

struct treq;
static struct treq *standing[8];	/* WAIT_EVENTs left standing */
static unsigned nstanding;

/* Everything given back: DMA memory, heap, timers. */
static int
clean_end(void)
{
	for (unsigned i = 0; i < nstanding; i++)
		free(standing[i]);
	nstanding = 0;
	return fdma_allocs == 0 && heap_out == 0 && timers_armed() == 0 &&
	    every_armed() == 0;
}

static struct xhci *
drv(void)
{
	return xhci_of(SELF, 0);
}

/* ---- requests, as the bus driver makes them ------------------------------ */

struct treq {
	struct usb_req r;
	struct usb_seg seg[XHCI_MAX_SEGS + 2];
	unsigned done;
	uint8_t *buf;
	size_t len;
};

static void
treq_done(void *arg)
{
	((struct treq *)arg)->done++;
}

static struct treq *
treq_new(uint8_t op, uint32_t dev)
{
	struct treq *t = calloc(1, sizeof(*t));

	t->r.size = sizeof(t->r);
	t->r.op = op;
	t->r.dev = dev;
	fake_work_init(CLIENT, &t->r.done, treq_done, t);
	return t;
}

enum { BUS_GIVEN, BUS_ZERO, BUS_SCATTERED };

/* A buffer of len bytes in nseg segments (the last takes the rest); each
 * segment's bus address given, or left to dma_addr (pages scattered on
 * the bus, or not). `skew` offsets the buffer in its pages. */
static void
treq_buf(struct treq *t, size_t len, unsigned nseg, int mode, size_t skew)
{
	size_t per = nseg ? len / nseg : 0;
	size_t room = (len + skew + 4095) & ~(size_t)4095;

	t->buf = NULL;
	t->len = len;
	t->r.length = (uint32_t)len;
	t->r.nseg = (uint16_t)nseg;
	t->r.segs = t->seg;
	if (!room)
		return;
	t->buf = aligned_alloc(4096, room);
	memset(t->buf, 0xee, room);
	fake_dma_map(t->buf, room, !xm.ac64 ? 0 : 1, mode == BUS_SCATTERED);
	for (unsigned i = 0; i < nseg; i++) {
		size_t off = i * per, n = i + 1 == nseg ? len - off : per;
		size_t run;

		t->seg[i].va = t->buf + skew + off;
		t->seg[i].len = (uint32_t)n;
		if (mode == BUS_GIVEN)
			fake_dma_addr(NULL, t->buf + skew + off, n,
			    &t->seg[i].bus, &run);
	}
	t->buf += skew;
}

static void
treq_free(struct treq *t, size_t skew)
{
	if (t->buf) {
		fake_dma_unmap(t->buf - skew);
		free(t->buf - skew);
	}
	free(t);
}

static int
submit(struct treq *t)
{
	struct fres *f = res_named("usb-hci:xhci0");

	if (!f)
		return PB_ENODEV;
	return ((const struct usb_hci_ops *)f->ops)->submit(f->ctx, &t->r);
}

static int
cancel(uint32_t dev, uint8_t ep)
{
	struct fres *f = res_named("usb-hci:xhci0");

	return ((const struct usb_hci_ops *)f->ops)->cancel(f->ctx, dev, ep);
}

static int
hci_forget_as(uint32_t dev, uint8_t ep, const struct pb_module *owner)
{
	struct fres *f = res_named("usb-hci:xhci0");

	return ((const struct usb_hci_ops *)f->ops)->forget(f->ctx, dev, ep,
	    owner);
}

/* Submit, run, and say how it ended (its status, once). */
static int
run_req(struct treq *t)
{
	int err = submit(t);

	if (err != PB_OK)
		return err;
	pump();
	if (t->done != 1)
		return t->done ? 1000 + (int)t->done : 999;
	return t->r.status;
}

/* The next event of a WAIT_EVENT (kind 0 when none came: it stands). */
static struct usb_req
wait_event(uint8_t ep)
{
	struct treq *t = treq_new(USB_OP_WAIT_EVENT, 0);
	struct usb_req r;

	t->r.ep = ep;
	if (submit(t) == PB_OK)
		pump();
	if (!t->done) {
		/* It stands until the driver stops (clean_end frees it). */
		if (nstanding < 8)
			standing[nstanding++] = t;
		r = t->r;
		r.u.event.kind = 0;
		return r;
	}
	r = t->r;
	free(t);
	return r;
}

static int
add_dev(uint32_t dev, uint32_t parent, uint8_t port, uint8_t speed)
{
	struct treq *t = treq_new(USB_OP_ADD, dev);
	int err;

	t->r.u.add.parent = parent;
	t->r.u.add.port = port;
	t->r.u.add.speed = speed;
	err = run_req(t);
	free(t);
	return err;
}

static int
simple_op(uint8_t op, uint32_t dev, uint8_t ep)
{
	struct treq *t = treq_new(op, dev);
	int err;

	t->r.ep = ep;
	err = run_req(t);
	free(t);
	return err;
}

static int
enable_ep(uint32_t dev, const struct usb_endpoint_desc *e,
    const struct usb_ss_ep_comp_desc *ss)
{
	struct treq *t = treq_new(USB_OP_EP_ENABLE, dev);
	int err;

	t->r.u.ep.desc = e;
	t->r.u.ep.ss = ss;
	err = run_req(t);
	free(t);
	return err;
}

static const struct usb_endpoint_desc ep_bulk_in = { 7, 5, 0x81, 2, 512, 0 };
static const struct usb_endpoint_desc ep_bulk_out = { 7, 5, 0x02, 2, 512, 0 };
static const struct usb_endpoint_desc ep_intr_in = { 7, 5, 0x83, 3, 8, 10 };

/* A control transfer on dev's EP0: IN of len bytes into a fresh buffer. */
static struct treq *
control(uint32_t dev, uint8_t type, uint8_t request, uint16_t value,
    uint16_t len)
{
	struct treq *t = treq_new(USB_OP_XFER, dev);

	t->r.u.setup = (struct usb_setup){ type, request, value, 0, len };
	treq_buf(t, len, len ? 1 : 0, BUS_GIVEN, 0);
	return t;
}

/* The model's device at root port 5 (USB 2, high speed), added as dev 1
 * with its bulk and interrupt endpoints enabled. */
static int
stick(int *mdev)
{
	struct usb_req ev;

	*mdev = model_device(5, 0, USB_SPEED_HIGH);
	pump();
	wait_ms(150);
	ev = wait_event(0);
	if (ev.u.event.kind != USB_EVENT_CONNECT || ev.u.event.port != 5)
		return PB_EIO;
	if (add_dev(1, 0, 5, USB_SPEED_HIGH) != PB_OK ||
	    enable_ep(1, &ep_bulk_in, NULL) != PB_OK ||
	    enable_ep(1, &ep_bulk_out, NULL) != PB_OK ||
	    enable_ep(1, &ep_intr_in, NULL) != PB_OK)
		return PB_EIO;
	return PB_OK;
}

static struct treq *
bulk(uint32_t dev, uint8_t ep, size_t len, unsigned nseg, int mode,
    size_t skew)
{
	struct treq *t = treq_new(USB_OP_XFER, dev);

	t->r.ep = ep;
	treq_buf(t, len, nseg, mode, skew);
	return t;
}

/* ---- bring-up ------------------------------------------------------------ */

TEST(xhci_off_by_boot_cfg)
{
	world();
	strcpy(cfg_props, "xhci=no");
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "off (boot.cfg xhci=no)");
	CHECK_EQ_INT(xm.reg_writes, 0);
	CHECK(clean_end());
}

TEST(xhci_declines_what_is_no_xhci)
{
	world();
	xm.version = 0xffff;
	xm.hcs1 = 0xffffffffu;
	memset(&xm_bar, 0, sizeof(xm_bar));
	func.prog_if = 0x20;			/* EHCI */
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "not an xHCI controller");
	world();
	hub.size = offsetof(struct pb_hub, dma_alloc);
	CHECK_EQ_INT(start_as(SELF, PB_START_NORMAL, 1), PB_ENODEV);
	CHECK_CONTAINS(log_text, "ABI 1.2");
	CHECK_EQ_INT(xm.reg_writes, 0);
	CHECK(clean_end());
}

TEST(xhci_brings_up_like_qemu)
{
	struct fres *f;
	struct xhci *a;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE((f = res_named("usb-hci:xhci0")) != NULL);
	CHECK_STR(prop(f, "path"), "pci:00:02.0");
	CHECK_STR(prop(f, "ports"), "8");
	CHECK_STR(prop(f, "usb2"), "5-8");
	CHECK_STR(prop(f, "usb3"), "1-4");
	a = drv();
	CHECK_EQ_INT(a->hstate, HC_UP);
	CHECK_EQ_INT(xm.hcrsts, 1);
	CHECK(xm.usbcmd & USBCMD_RS);
	CHECK(xm.usbcmd & USBCMD_INTE);
	CHECK(!(xm.usbsts & USBSTS_HCH));
	CHECK_EQ_INT(xm.config & 0xff, 64);
	CHECK_EQ_INT(xm.ersz_then_ba_then_dp, 3);
	CHECK(xm.er_ready);
	CHECK(xm.iman & IMAN_IE);
	CHECK(xm.msix_on);
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK(xm.dcbaap && !(xm.dcbaap & 0x3f));
	CHECK(xm.dcbaap >> 32);			/* AC64: above 4 GiB */
	CHECK_CONTAINS(log_text, "xhci0: pci:00:02.0: xHCI 1.00, 8 ports "
	    "(usb2 5-8, usb3 1-4), 64 slots, 32-byte contexts, 64-bit DMA, "
	    "MSI-X on vector");
	CHECK_EQ_INT(count_of(log_text, "xHCI 1.00"), 1);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(!(xm.usbcmd & USBCMD_RS));
	CHECK(!(pci_cmd & PCI_CMD_MASTER));
	CHECK(!xm.msix_on);
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK(clean_end());
}

TEST(xhci_msi_when_no_msix_and_polling_when_told)
{
	struct usb_req ev;

	world();
	func.cap_msix = 0;
	func.cap_msi = 0x80;
	REQUIRE(boot(1) == PB_OK);
	CHECK(xm.msi_on);
	CHECK_CONTAINS(log_text, "MSI on vector");
	shutdown(SELF);
	CHECK(clean_end());

	/* xhci-msi=no: the event ring read from a timer; events still come */
	world();
	strcpy(cfg_props, "xhci-msi=no");
	REQUIRE(boot(1) == PB_OK);
	CHECK(!xm.msix_on && !xm.msi_on);
	CHECK(!(xm.iman & IMAN_IE));
	CHECK(!(xm.usbcmd & USBCMD_INTE));
	CHECK_EQ_INT(every_armed(), 1);
	CHECK_CONTAINS(log_text, "polling (boot.cfg xhci-msi=no)\n");
	model_device(2, 0, USB_SPEED_SUPER);
	pump();
	CHECK_EQ_INT(xm.irqs, 0);
	wait_ms(30);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 2);
	CHECK_EQ_INT(ev.u.event.speed, USB_SPEED_SUPER);
	CHECK_EQ_INT(xm.irqs, 0);
	shutdown(SELF);
	CHECK(clean_end());

	/* no irq provider: polling too */
	world();
	REQUIRE(boot(0) == PB_OK);
	CHECK_CONTAINS(log_text, "polling (no irq provider)\n");
	shutdown(SELF);
	CHECK(clean_end());

	/* a Fresco FL1000 or FL1400 offers MSI that never comes: polling;
	 * their FL1100 (Linux took its quirk back) and others use it */
	for (unsigned i = 0; i < 3; i++) {
		static const uint16_t dev[3] = { 0x1000, 0x1400, 0x1100 };

		world();
		func.vendor = 0x1b73;
		func.device = dev[i];
		func.cap_msix = 0;
		func.cap_msi = 0x80;
		REQUIRE(boot(1) == PB_OK);
		CHECK_EQ_INT(xm.msi_on, i == 2);
		if (i < 2)
			CHECK_CONTAINS(log_text, "polling (a Fresco "
			    "FL1000/FL1400 sends no MSI)\n");
		shutdown(SELF);
		CHECK(clean_end());
	}
}

TEST(xhci_bios_handoff)
{
	world();
	xm.legacy = 1;
	xm.usblegsup = USBLEGSUP_BIOS_OWNED;
	xm.usblegctl = 0x0000e011u | LEGCTL_RW1C;	/* SMIs on, pending */
	xm.bios_until = fake_ns + 30 * MS;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	pump();
	CHECK(xm.usblegsup & USBLEGSUP_OS_OWNED);
	wait_ms(10);
	CHECK_EQ_INT(xm.hcrsts, 0);		/* waits for the BIOS */
	wait_ms(50);
	CHECK_EQ_INT(xm.hcrsts, 1);
	CHECK(!(xm.usblegsup & USBLEGSUP_BIOS_OWNED));
	CHECK_EQ_INT(xm.usblegctl & 0xe011u, 0);	/* SMIs off */
	CHECK_EQ_INT(xm.usblegctl & LEGCTL_RW1C, 0);	/* cleared */
	CHECK(!strstr(log_text, "taken anyway"));
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	shutdown(SELF);
	CHECK(!(pci_cmd & PCI_CMD_MASTER));	/* SMIs off: may go off */
	CHECK(!strstr(log_text, "bus mastering left on"));
	CHECK(clean_end());

	/* A BIOS that never lets go: after 1 s, taken anyway. */
	world();
	xm.legacy = 1;
	xm.usblegsup = USBLEGSUP_BIOS_OWNED;
	xm.bios_until = ~0ull;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(900);
	CHECK_EQ_INT(xm.hcrsts, 0);
	wait_ms(200);
	CHECK_EQ_INT(xm.hcrsts, 1);
	CHECK_CONTAINS(log_text, "the BIOS keeps the controller (USBLEGSUP "
	    "0x01010401 after 1000 ms)");
	CHECK(!(xm.usblegsup & USBLEGSUP_BIOS_OWNED));
	wait_ms(10);
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	CHECK_CONTAINS(log_text, "xHCI 1.00");
	shutdown(SELF);

	/* xhci-handoff=no: not touched; its SMIs never turned off, so
	 * stopping leaves bus mastering on (HARDWARE.md: AMD SMM freeze) */
	world();
	strcpy(cfg_props, "xhci-handoff=no");
	xm.legacy = 1;
	xm.usblegsup = USBLEGSUP_BIOS_OWNED;
	xm.usblegctl = 0x0000e011u;		/* SMIs on */
	xm.bios_until = ~0ull;
	REQUIRE(boot(1) == PB_OK);
	CHECK(!(xm.usblegsup & USBLEGSUP_OS_OWNED));
	CHECK_CONTAINS(log_text, "BIOS handoff skipped");
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	shutdown(SELF);
	CHECK(!(xm.usbcmd & USBCMD_RS));	/* halted all the same */
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK_CONTAINS(log_text, "pci:00:02.0: halted with bus mastering left "
	    "on: the firmware's SMIs are not known off (USBLEGSUP 0x00010401 "
	    "USBLEGCTLSTS 0x0000e011)");
	CHECK(clean_end());

	/* ... and one whose firmware left them off (BIOS Owned clear, no
	 * SMI enable set) is as after a handoff */
	world();
	strcpy(cfg_props, "xhci-handoff=no");
	xm.legacy = 1;
	xm.usblegsup = 0;
	xm.usblegctl = 0x000000e0u;		/* RsvdP bits only */
	REQUIRE(boot(1) == PB_OK);
	shutdown(SELF);
	CHECK(!(pci_cmd & PCI_CMD_MASTER));
	CHECK(!strstr(log_text, "bus mastering left on"));
	CHECK(clean_end());

	/* Stopped while still waiting for the BIOS: bus mastering stays on */
	world();
	xm.legacy = 1;
	xm.usblegsup = USBLEGSUP_BIOS_OWNED;
	xm.usblegctl = 0x0000e011u;
	xm.bios_until = ~0ull;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(100);
	CHECK_EQ_INT(drv()->hstate, HC_HANDOFF);
	REQUIRE(pci_cmd & PCI_CMD_MASTER);
	shutdown(SELF);
	CHECK(pci_cmd & PCI_CMD_MASTER);
	CHECK_CONTAINS(log_text, "halted with bus mastering left on");
	CHECK(clean_end());
}

TEST(xhci_halt_and_reset_that_hang_are_bounded)
{
	struct treq *t;

	/* R/S cleared (EDK2 left it running), HCH never comes */
	world();
	xm.usbcmd = USBCMD_RS;
	xm.usbsts = 0;
	xm.hch_stuck = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	t = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(t), PB_OK);		/* waits for the bring-up */
	wait_ms(60);
	CHECK_CONTAINS(log_text, "USBSTS.HCH did not set 50 ms after R/S=0 "
	    "(USBSTS 0x00000000): no USB on this controller");
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_EIO);
	CHECK_EQ_INT(xm.hcrsts, 0);
	CHECK_EQ_INT(submit(t), PB_EIO);
	CHECK_EQ_INT(timers_armed(), 0);
	free(t);
	shutdown(SELF);
	CHECK(clean_end());

	/* CNR never clears after HCRST */
	world();
	xm.cnr_stuck = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(1990);
	CHECK(!strstr(log_text, "no USB"));
	wait_ms(20);
	CHECK_CONTAINS(log_text, "USBCMD.HCRST or USBSTS.CNR did not clear in "
	    "2000 ms (USBCMD 0x00000000 USBSTS 0x00000801)");
	CHECK_EQ_INT(drv()->hstate, HC_DEAD);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());

	/* HCRST never clears */
	world();
	xm.hcrst_stuck = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(2010);
	CHECK_CONTAINS(log_text, "(USBCMD 0x00000002 USBSTS");
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_waits_for_cnr_at_power_on)
{
	world();
	xm.usbsts |= USBSTS_CNR;		/* just powered on */
	xm.cnr_reads = 5;
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	CHECK_EQ_INT(xm.hcrsts, 1);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);

	world();
	xm.usbsts |= USBSTS_CNR;
	xm.cnr_stuck = 1;
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	wait_ms(2010);
	CHECK_CONTAINS(log_text, "USBSTS.CNR did not clear in 2000 ms "
	    "(USBSTS 0x00000801)");
	CHECK_EQ_INT(xm.hcrsts, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* Another PCI function as pci publishes it (pci:BDF, its properties). */
static void
other_function(const char *bdf, const char *vendor, const char *class)
{
	char props[128];

	snprintf(props, sizeof(props), "bdf=%s seg=0 vendor=%s device=1234 "
	    "class=%s subsys=8086:7270 rev=04 irq-pin=1", bdf, vendor, class);
	REQUIRE(fake_publish(OTHER, "pci", bdf, props, &fpci_ops, NULL));
}

/* Intel's shared ports: routed on any Intel xHCI (Wildcat Point LP 9cb1
 * here, no list of devices) when an Intel EHCI is on the bus, each
 * routing register written with its mask register's value, SuperSpeed
 * first; without one, or on another vendor's xHCI, nothing is written. */
TEST(xhci_intel_port_routing)
{
	world();
	func.vendor = 0x8086;
	func.device = 0x9cb1;
	other_function("00:1d.0", "8086", "0c.03.20");
	memcpy(pci_cfg + 0xdc, &(uint32_t){ 0x0f }, 4);		/* USB3PRM */
	memcpy(pci_cfg + 0xd4, &(uint32_t){ 0x07ff }, 4);	/* XUSB2PRM */
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(ncfg_writes == 2);
	CHECK_EQ_INT(cfg_writes[0], 0xd8);	/* USB3_PSSEN, SuperSpeed first */
	CHECK_EQ_INT(cfg_values[0], 0x0f);
	CHECK_EQ_INT(cfg_writes[1], 0xd0);	/* XUSB2PR */
	CHECK_EQ_INT(cfg_values[1], 0x07ff);
	CHECK_CONTAINS(log_text, "Intel 9cb1: ports shared with the EHCI at "
	    "pci:00:1d.0 routed to xHCI (USB3_PSSEN 0xf, XUSB2PR 0x7ff)");
	CHECK_EQ_INT(count_of(log_text, "routed to xHCI"), 1);
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	shutdown(SELF);

	/* Lynx Point 8c31 without an EHCI (only a UHCI and another
	 * vendor's EHCI): nothing to route, nothing written */
	world();
	func.vendor = 0x8086;
	func.device = 0x8c31;
	other_function("00:1a.0", "8086", "0c.03.00");
	other_function("03:00.0", "1033", "0c.03.20");
	memcpy(pci_cfg + 0xdc, &(uint32_t){ 0x3f }, 4);
	memcpy(pci_cfg + 0xd4, &(uint32_t){ 0x7fff }, 4);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(ncfg_writes, 0);
	CHECK(!strstr(log_text, "routed"));
	shutdown(SELF);

	/* an Intel EHCI but another vendor's xHCI: left alone */
	world();
	other_function("00:1d.0", "8086", "0c.03.20");
	memcpy(pci_cfg + 0xdc, &(uint32_t){ 0x3f }, 4);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(ncfg_writes, 0);
	shutdown(SELF);

	/* xhci-route=no: left as the BIOS set it */
	world();
	strcpy(cfg_props, "xhci-route=no");
	func.vendor = 0x8086;
	func.device = 0x1e31;			/* Panther Point */
	other_function("00:1d.0", "8086", "0c.03.20");
	memcpy(pci_cfg + 0xdc, &(uint32_t){ 0x0f }, 4);
	REQUIRE(boot(1) == PB_OK);
	CHECK_EQ_INT(ncfg_writes, 0);
	CHECK_CONTAINS(log_text, "xhci-route=no");
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- root ports ---------------------------------------------------------- */

TEST(xhci_root_ports_report_connects)
{
	struct usb_req ev;

	world();
	model_device(2, 0, USB_SPEED_SUPER);	/* before the start */
	REQUIRE(boot(1) == PB_OK);
	model_device(6, 0, USB_SPEED_FULL);	/* hot plugged */
	pump();
	wait_ms(50);
	CHECK(!(xm.port[5].portsc & PORTSC_PED));	/* debouncing */
	wait_ms(80);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 2);
	CHECK_EQ_INT(ev.u.event.speed, USB_SPEED_SUPER);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 6);
	CHECK_EQ_INT(ev.u.event.speed, USB_SPEED_FULL);
	CHECK_EQ_INT(xm.port[1].prs, 0);	/* USB 3 trained itself */
	CHECK_EQ_INT(xm.port[5].prs, 1);	/* USB 2 was reset */
	CHECK_EQ_INT(xm.ped_writes, 0);
	CHECK_EQ_INT(xm.port[5].portsc & PORTSC_CHANGES, 0);	/* cleared */
	CHECK_CONTAINS(log_text, "port 6: connected, full speed");

	/* ep=1: every enabled port again */
	ev = wait_event(1);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 2);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.port, 6);

	/* unplug and plug again */
	model_plug(6, 0);
	pump();
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_DISCONNECT);
	CHECK_EQ_INT(ev.u.event.port, 6);
	model_plug(6, 1);
	pump();
	wait_ms(130);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 6);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_event_queue_overflows)
{
	struct usb_req ev;
	struct treq *w;

	world();
	REQUIRE(boot(1) == PB_OK);
	model_device(1, 0, USB_SPEED_SUPER);
	pump();
	wait_ms(20);
	for (unsigned i = 0; i < XHCI_EVQ + 2; i++) {	/* flapping */
		model_plug(1, 0);
		pump();
		model_plug(1, 1);
		pump();
		wait_ms(20);
	}
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_OVERFLOW);
	ev = wait_event(1);			/* the scan the bus then asks */
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 1);
	/* nothing else kept: the next one stands */
	w = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(w), PB_OK);
	pump();
	CHECK_EQ_INT(w->done, 0);
	model_plug(1, 0);
	pump();
	CHECK_EQ_INT(w->done, 1);
	CHECK_EQ_INT(w->r.u.event.kind, USB_EVENT_DISCONNECT);
	free(w);
	shutdown(SELF);
	CHECK(clean_end());
}

/* Two-step addressing: ADD with USB_REQ_ADD_DEFAULT leaves the device at
 * address 0 (BSR=1) where its descriptor is read, then SET_ADDRESS. */
TEST(xhci_add_default_then_set_address)
{
	struct treq *t;
	struct usb_req ev;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	md = model_device(5, 0, USB_SPEED_HIGH);
	pump();
	wait_ms(150);
	ev = wait_event(0);
	REQUIRE(ev.u.event.kind == USB_EVENT_CONNECT);
	t = treq_new(USB_OP_ADD, 1);
	t->r.flags = USB_REQ_ADD_DEFAULT;
	t->r.u.add.port = 5;
	t->r.u.add.speed = USB_SPEED_HIGH;
	CHECK_EQ_INT(run_req(t), PB_OK);
	free(t);
	CHECK_EQ_INT(xm.dev[md].addresses, 0);
	CHECK(xm.slot[xm.dev[md].slot].default_state);
	t = control(1, 0x80, 6, 0x0100, 8);		/* at address 0 */
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 8);
	CHECK(memcmp(t->buf, xm.dev[md].desc, 8) == 0);
	treq_free(t, 0);
	CHECK_EQ_INT(simple_op(USB_OP_SET_ADDRESS, 1, 0), PB_OK);
	CHECK_EQ_INT(xm.dev[md].addresses, 1);
	CHECK(xm.slot[xm.dev[md].slot].addressed);
	/* the default pipe goes on where it was */
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 18);
	treq_free(t, 0);
	CHECK_EQ_INT(enable_ep(1, &ep_bulk_in, NULL), PB_OK);
	/* once only; and never for a device ADDed the usual way */
	CHECK_EQ_INT(simple_op(USB_OP_SET_ADDRESS, 1, 0), PB_ENODEV);
	CHECK_EQ_INT(simple_op(USB_OP_SET_ADDRESS, 7, 0), PB_ENODEV);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The bus's USB_OP_PORT_RESET of a device it removed: the port is reset
 * (PR), no DISCONNECT, a CONNECT at the end, and the device, back at its
 * default address, is added and answers again. */
TEST(xhci_port_reset_for_a_removed_device)
{
	struct treq *t, *in;
	struct usb_req ev;
	int mdev;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&mdev) == PB_OK);
	CHECK_EQ_INT(xm.port[4].prs, 1);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);

	t = treq_new(USB_OP_PORT_RESET, 0);
	t->r.u.port.port = 5;
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(xm.port[4].prs, 2);
	CHECK_EQ_INT(xm.port[4].wprs, 0);
	CHECK_EQ_INT(xm.dev[mdev].slot, 0);	/* the device's default state */
	CHECK_CONTAINS(log_text, "port 5: reset again for its device's driver");
	wait_ms(30);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 5);
	CHECK_EQ_INT(ev.u.event.speed, USB_SPEED_HIGH);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, 0);	/* no DISCONNECT, no more */

	/* Set up again, it answers. */
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK(xm.dev[mdev].slot != 0);		/* addressed anew */
	in = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(in), PB_OK);
	CHECK_EQ_INT(in->r.actual, 18);
	CHECK(memcmp(in->buf, xm.dev[mdev].desc, 18) == 0);
	treq_free(in, 0);

	/* Refused: no such port, a port with nothing enabled on it. */
	t->r.u.port.port = 0;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	t->r.u.port.port = 99;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	t->r.u.port.port = 6;
	CHECK_EQ_INT(submit(t), PB_ENODEV);
	CHECK_EQ_INT(xm.port[5].prs, 0);
	free(t);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_port_reset_failures_and_warm_reset)
{
	struct usb_req ev;

	world();
	REQUIRE(boot(1) == PB_OK);
	xm.port[6].reset_fails = 1;
	model_device(7, 0, USB_SPEED_HIGH);
	xm.port[2].inactive = 1;		/* a USB 3 link in Inactive */
	model_device(3, 0, USB_SPEED_SUPER);
	pump();
	wait_ms(400);
	CHECK_EQ_INT(xm.port[6].prs, XHCI_TRIES);
	CHECK_CONTAINS(log_text, "port 7: not enabled after 3 resets");
	CHECK_EQ_INT(xm.port[2].wprs, 1);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 3);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, 0);	/* none for port 7 */
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- devices and transfers ------------------------------------------------ */

TEST(xhci_add_and_control_transfers)
{
	struct treq *t;
	int md;
	const uint32_t *sc;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	sc = xm.slot[xm.dev[md].slot].sctx;
	CHECK_EQ_INT(sc[0] & 0xfffff, 0);		/* route */
	CHECK_EQ_INT((sc[0] >> 20) & 0xf, PSIV_HIGH);
	CHECK_EQ_INT((sc[1] >> 16) & 0xff, 5);		/* root port */
	CHECK_EQ_INT(sc[2], 0);				/* no TT */
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[1].mps, 64);
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[3].type, EPT_BULK_IN);
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[4].type, EPT_BULK_OUT);
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[7].type, EPT_INTR_IN);
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[7].interval, 9);	/* HS 10 */
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[3].avg, 3072);

	t = control(1, 0x80, 6, 0x0100, 8);		/* 8 bytes first */
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 8);
	CHECK(memcmp(t->buf, xm.dev[md].desc, 8) == 0);
	treq_free(t, 0);
	t = treq_new(USB_OP_EP0_MPS, 1);
	t->r.u.mps.mps = 64;
	CHECK_EQ_INT(run_req(t), PB_OK);
	free(t);
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 18);
	CHECK(memcmp(t->buf, xm.dev[md].desc, 18) == 0);
	treq_free(t, 0);
	/* short: 255 asked, 39 given */
	t = control(1, 0x80, 6, 0x0200, 255);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 39);
	CHECK(memcmp(t->buf, xm.dev[md].cfg, 39) == 0);
	treq_free(t, 0);
	t = control(1, 0x80, 6, 0x0200, 255);
	t->r.flags = USB_REQ_SHORT_ERR;
	CHECK_EQ_INT(run_req(t), PB_EIO);
	treq_free(t, 0);
	/* no data stage */
	t = control(1, 0x00, 9, 1, 0);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(xm.dev[md].set_config, 1);
	treq_free(t, 0);
	/* OUT data */
	t = control(1, 0x40, 0x43, 0, 100);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 100);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* Write a pattern through one list of segments, read it back through
 * another. */
static void
out_then_in(size_t len, unsigned wseg, unsigned rseg, int wmode, int rmode,
    size_t skew)
{
	struct treq *w = bulk(1, 0x02, len, wseg, wmode, skew);
	struct treq *r = bulk(1, 0x81, len, rseg, rmode, 0);

	for (size_t i = 0; i < len; i++)
		w->buf[i] = (uint8_t)(i * 13 + len);
	CHECK_EQ_INT(run_req(w), PB_OK);
	CHECK_EQ_INT(w->r.actual, len);
	CHECK_EQ_INT(run_req(r), PB_OK);
	CHECK_EQ_INT(r->r.actual, len);
	CHECK(memcmp(r->buf, w->buf, len) == 0);
	treq_free(w, skew);
	treq_free(r, 0);
}

TEST(xhci_bulk_scatter_gather_byte_for_byte)
{
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	out_then_in(31, 1, 1, BUS_GIVEN, BUS_GIVEN, 0);
	out_then_in(4096, 3, 2, BUS_ZERO, BUS_GIVEN, 100);
	/* across 64 KiB boundaries: TRBs split there */
	out_then_in(300000, 5, 7, BUS_GIVEN, BUS_ZERO, 4000);
	/* every page apart on the bus */
	out_then_in(XHCI_MAX_XFER, 2, 9, BUS_SCATTERED, BUS_SCATTERED, 512);
	out_then_in(XHCI_MAX_XFER, XHCI_MAX_SEGS, 1, BUS_GIVEN, BUS_GIVEN, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_bulk_short_packets)
{
	struct treq *t;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	xm.dev[md].serve = 1000;
	t = bulk(1, 0x81, 200000, 4, BUS_GIVEN, 0);	/* short in TRB 1 */
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 1000);
	for (unsigned i = 0; i < 1000; i++)
		if (t->buf[i] != (uint8_t)(i * 7 + 3)) {
			CHECK_MSG(0, "byte %u", i);
			break;
		}
	treq_free(t, 0);
	/* a controller that sends a second event for the TD's last TRB */
	xm.short_twice = 1;
	xm.dev[md].serve = 70000;
	for (unsigned i = 0; i < 3; i++) {
		t = bulk(1, 0x81, 200000, 3, BUS_ZERO, 0);
		CHECK_EQ_INT(run_req(t), PB_OK);
		CHECK_EQ_INT(t->r.actual, 70000);
		treq_free(t, 0);
	}
	CHECK(!strstr(log_text, "event dropped"));
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	t->r.flags = USB_REQ_SHORT_ERR;
	xm.dev[md].serve = 13;
	CHECK_EQ_INT(run_req(t), PB_EIO);
	CHECK_EQ_INT(t->r.actual, 13);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_stall_clear_halt_and_ep0)
{
	struct treq *t, *next;
	struct xm_ep *e;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	e = &xm.slot[xm.dev[md].slot].ep[3];	/* bulk IN 1 */
	e->stall_next = 1;
	xm.dev[md].serve = 64;
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	next = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_OK);
	CHECK_EQ_INT(submit(next), PB_OK);
	pump();
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, USB_ESTALL);
	CHECK_EQ_INT(next->done, 0);		/* halted: waits */
	wait_ms(10);
	CHECK_EQ_INT(next->done, 0);
	CHECK_EQ_INT(simple_op(USB_OP_CLEAR_HALT, 1, 0x81), PB_OK);
	CHECK_EQ_INT(e->resets, 1);
	CHECK_EQ_INT(e->tsp_resets, 0);
	CHECK(e->set_deqs >= 1);
	pump();
	CHECK_EQ_INT(next->done, 1);
	CHECK_EQ_INT(next->r.status, PB_OK);
	CHECK_EQ_INT(next->r.actual, 64);
	treq_free(t, 0);
	treq_free(next, 0);
	/* CLEAR_HALT of an endpoint not halted: its sequence reset by
	 * Stop Endpoint and Configure Endpoint (drop and add) */
	CHECK_EQ_INT(simple_op(USB_OP_CLEAR_HALT, 1, 0x02), PB_OK);
	t = bulk(1, 0x81, 64, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_OK);
	treq_free(t, 0);

	/* EP0: a request the device stalls; the next one works at once */
	t = control(1, 0x40, 0x42, 0, 0);
	CHECK_EQ_INT(run_req(t), USB_ESTALL);
	treq_free(t, 0);
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 18);
	treq_free(t, 0);
	CHECK_EQ_INT(simple_op(USB_OP_CLEAR_HALT, 1, 0), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_transaction_errors_retried_then_eio)
{
	struct treq *t;
	struct xm_ep *e;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	xm.dev[md].serve = 100;
	e = &xm.slot[xm.dev[md].slot].ep[3];
	e->txerr_next = 2;			/* then it works */
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 100);
	CHECK_EQ_INT(e->tsp_resets, 2);		/* soft retries */
	treq_free(t, 0);
	e->txerr_next = 10;			/* never */
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_EIO);
	CHECK_EQ_INT(e->tsp_resets, 2 + XHCI_TRIES);
	CHECK_CONTAINS(log_text, "USB Transaction Error again: PB_EIO");
	treq_free(t, 0);
	e->txerr_next = 0;
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);	/* recovered */
	CHECK_EQ_INT(run_req(t), PB_OK);
	treq_free(t, 0);
	/* control: the TD runs again from its Setup stage */
	e = &xm.slot[xm.dev[md].slot].ep[1];
	e->txerr_next = 1;
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 18);
	treq_free(t, 0);
	/* babble: PB_EIO, one line, the endpoint usable after */
	e = &xm.slot[xm.dev[md].slot].ep[3];
	e->babble_next = 1;
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_EIO);
	CHECK_CONTAINS(log_text, "Babble (3): PB_EIO");
	treq_free(t, 0);
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_OK);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_cancel_interrupt_in)
{
	struct treq *t[3], *again;
	struct xm_ep *e;
	uint8_t report[8] = { 0, 0, 4, 0, 0, 0, 0, 0 };
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	e = &xm.slot[xm.dev[md].slot].ep[7];
	for (unsigned i = 0; i < 3; i++) {
		t[i] = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
		CHECK_EQ_INT(submit(t[i]), PB_OK);
	}
	pump();
	wait_ms(100);
	CHECK_EQ_INT(t[0]->done, 0);		/* interrupt IN: no timeout */
	CHECK_EQ_INT(cancel(1, 0x83), PB_OK);
	again = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(again), PB_OK);	/* after the cancel: not cancelled */
	pump();
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ_INT(t[i]->done, 1);
		CHECK_EQ_INT(t[i]->r.status, PB_ECANCELED);
		treq_free(t[i], 0);
	}
	CHECK_EQ_INT(e->stops, 1);
	CHECK(e->set_deqs >= 1);
	CHECK_EQ_INT(again->done, 0);
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(again->done, 1);
	CHECK_EQ_INT(again->r.status, PB_OK);
	CHECK(memcmp(again->buf, report, 8) == 0);
	treq_free(again, 0);
	CHECK_EQ_INT(cancel(1, 0x85), PB_ENODEV);
	CHECK_EQ_INT(cancel(9, 0xff), PB_ENODEV);
	CHECK_EQ_INT(cancel(1, 0xff), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_timeouts_then_device_lost)
{
	struct treq *t, *w;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	xm.slot[xm.dev[md].slot].ep[1].silent = 1;
	for (unsigned i = 0; i < 2; i++) {
		t = control(1, 0x80, 6, 0x0100, 18);
		CHECK_EQ_INT(submit(t), PB_OK);
		wait_ms(4990);
		CHECK_EQ_INT(t->done, 0);
		wait_ms(20);
		CHECK_EQ_INT(t->done, 1);
		CHECK_EQ_INT(t->r.status, PB_ETIMEDOUT);
		treq_free(t, 0);
	}
	w = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(w), PB_OK);
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(submit(t), PB_OK);
	wait_ms(5010);
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_ECANCELED);
	CHECK_EQ_INT(w->done, 1);
	CHECK_EQ_INT(w->r.u.event.kind, USB_EVENT_LOST);
	CHECK_EQ_INT(w->r.u.event.dev, 1);
	CHECK_CONTAINS(log_text, "its transfers keep timing out");
	treq_free(t, 0);
	free(w);
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(submit(t), PB_ENODEV);	/* lost: refused */
	treq_free(t, 0);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_command_never_answered_is_aborted)
{
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	md = model_device(5, 0, USB_SPEED_HIGH);
	pump();
	wait_ms(150);
	CHECK_EQ_INT(wait_event(0).u.event.kind, USB_EVENT_CONNECT);
	xm.cmd_silent = 1;
	{
		struct treq *t = treq_new(USB_OP_ADD, 1);

		t->r.u.add.port = 5;
		t->r.u.add.speed = USB_SPEED_HIGH;
		CHECK_EQ_INT(submit(t), PB_OK);
		wait_ms(4990);
		CHECK_EQ_INT(t->done, 0);
		wait_ms(20);
		CHECK_EQ_INT(t->done, 1);
		CHECK_EQ_INT(t->r.status, PB_ETIMEDOUT);
		free(t);
	}
	CHECK_CONTAINS(log_text, "not completed in 5000 ms");
	CHECK(!xm.crr);				/* aborted */
	xm.cmd_silent = 0;
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK(xm.dev[md].slot != 0);
	CHECK(!strstr(log_text, "event dropped"));
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_garbage_events_are_dropped)
{
	struct treq *t;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	log_text[0] = '\0';
	for (unsigned i = 0; i < 600; i++) {
		uint32_t kind = i % 7;

		switch (kind) {
		case 0:		/* a transfer event of a slot never enabled */
			model_inject(0x1000, 1u << 24, TRB_TYPE_SET(32) |
			    (40u + i % 20) << 24 | 3u << 16);
			break;
		case 1:		/* of our slot, a TRB not ours */
			model_inject(0xdead0000ull + i * 16, 1u << 24,
			    TRB_TYPE_SET(32) | (uint32_t)xm.dev[md].slot << 24 |
			    3u << 16);
			break;
		case 2:		/* an endpoint not enabled */
			model_inject(0, 1u << 24, TRB_TYPE_SET(32) |
			    (uint32_t)xm.dev[md].slot << 24 | 30u << 16);
			break;
		case 3:		/* a command completion nobody waits for */
			model_inject(0x12345670, 1u << 24, TRB_TYPE_SET(33) |
			    5u << 24);
			break;
		case 4:		/* a port that does not exist */
			model_inject(200ull << 24, 1u << 24, TRB_TYPE_SET(34));
			break;
		case 5:		/* types never asked for */
			model_inject(~0ull, ~0u, TRB_TYPE_SET(35 + i % 20));
			break;
		default:	/* Event Data on a ring that uses none */
			model_inject(0, 1u << 24, TRB_TYPE_SET(32) | TRB_ED |
			    (uint32_t)xm.dev[md].slot << 24 | 3u << 16);
			break;
		}
		if (i % 50 == 0)
			pump();
	}
	pump();
	CHECK_MSG(count_of(log_text, "event dropped") <= 2, "%u lines",
	    count_of(log_text, "event dropped"));
	wait_ms(1100);
	model_inject(0, 0, TRB_TYPE_SET(39));
	pump();
	CHECK_CONTAINS(log_text, "more since");
	/* still serving */
	xm.dev[md].serve = 10;
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK_EQ_INT(t->r.actual, 10);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_submit_checks)
{
	struct treq *t;
	static const struct usb_endpoint_desc isoch = { 7, 5, 0x84, 1, 1024,
	    1 };
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	t->r.size = 100;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	t->r.size = sizeof(t->r);
	t->r.dev = 7;
	CHECK_EQ_INT(submit(t), PB_ENODEV);	/* no such device */
	t->r.dev = 1;
	t->r.ep = 0x85;
	CHECK_EQ_INT(submit(t), PB_ENODEV);	/* no such endpoint */
	t->r.ep = 0x81;
	t->r.length = 511;
	CHECK_EQ_INT(submit(t), PB_EINVAL);	/* segments add up to 512 */
	t->r.length = 512;
	t->r.flags = 0x80;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	t->r.flags = 0;
	t->r.op = 99;
	CHECK_EQ_INT(submit(t), PB_ENOTSUP);
	t->r.op = USB_OP_HUB_CONFIG;
	CHECK_EQ_INT(submit(t), PB_ENOTSUP);
	t->r.op = USB_OP_XFER;
	t->r.ep = 0x83;				/* interrupt IN: stays */
	t->r.length = 8;
	t->seg[0].len = 8;
	CHECK_EQ_INT(submit(t), PB_OK);
	CHECK_EQ_INT(submit(t), PB_EBUSY);	/* twice: refused */
	CHECK_EQ_INT(cancel(1, 0x83), PB_OK);
	pump();
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_ECANCELED);
	t->done = 0;
	t->r.ep = 0x81;
	t->r.length = 512;
	t->seg[0].len = 512;
	t->seg[0].bus = 0;
	t->seg[0].va = &md;			/* the stack: not DMA memory */
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	CHECK_EQ_INT(t->done, 0);
	treq_free(t, 0);
	t = control(1, 0x80, 6, 0x0100, 18);
	t->r.u.setup.wLength = 17;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	treq_free(t, 0);
	CHECK_EQ_INT(enable_ep(1, &isoch, NULL), PB_ENOTSUP);
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_EINVAL);	/* exists */
	CHECK_EQ_INT(add_dev(2, 0, 9, USB_SPEED_HIGH), PB_EINVAL);	/* port */
	CHECK_EQ_INT(add_dev(2, 7, 1, USB_SPEED_HIGH), PB_EINVAL);	/* parent */
	CHECK_EQ_INT(simple_op(USB_OP_RESUME, 7, 0), PB_ENODEV);
	CHECK_EQ_INT(simple_op(USB_OP_EP_DISABLE, 1, 0x86), PB_ENODEV);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_csz64_scratchpads_ppc_ac64_off)
{
	struct treq *t;
	struct xhci *a;
	uint64_t *spa;
	int md;

	world();
	model_caps(1, 1, 0, 5);
	REQUIRE(start_as(SELF, PB_START_NORMAL, 1) == PB_OK);
	pump();
	wait_ms(10);
	a = drv();
	CHECK_EQ_INT(a->hstate, HC_POWER);	/* ports powered: waits */
	for (unsigned i = 0; i < XM_PORTS; i++)
		CHECK(xm.port[i].portsc & PORTSC_PP);
	wait_ms(140);
	CHECK_EQ_INT(a->hstate, HC_UP);
	CHECK_CONTAINS(log_text, "64-byte contexts, 5 scratchpads, DMA below "
	    "4 GiB, MSI-X on vector");
	CHECK(!(xm.dcbaap >> 32));
	REQUIRE((spa = xdma(((uint64_t *)xdma(xm.dcbaap, 8, "dcbaa"))[0],
	    5 * 8, "scratchpad array")) != NULL);
	for (unsigned i = 0; i < 5; i++) {
		uint8_t *page = xdma(spa[i], 4096, "scratchpad");

		CHECK(spa[i] && !(spa[i] & 4095) && !(spa[i] >> 32));
		REQUIRE(page != NULL);
		for (unsigned k = 0; k < 4096; k++)
			if (page[k]) {
				CHECK_MSG(0, "scratchpad %u byte %u", i, k);
				break;
			}
	}
	REQUIRE(stick(&md) == PB_OK);
	out_then_in(100000, 3, 2, BUS_ZERO, BUS_GIVEN, 8);
	t = control(1, 0x80, 6, 0x0100, 18);
	CHECK_EQ_INT(run_req(t), PB_OK);
	CHECK(memcmp(t->buf, xm.dev[md].desc, 18) == 0);
	treq_free(t, 0);
	CHECK_EQ_INT(xm.slot[xm.dev[md].slot].ep[3].type, EPT_BULK_IN);
	/* a buffer above 4 GiB is refused */
	t = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);
	t->seg[0].bus = 0x100000000ull;
	CHECK_EQ_INT(submit(t), PB_EINVAL);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_hub_route_string_and_tt)
{
	const uint32_t *sc;
	int hubd, fs, ls, deep;

	world();
	REQUIRE(boot(1) == PB_OK);
	hubd = model_device(5, 0, USB_SPEED_HIGH);
	pump();
	wait_ms(150);
	CHECK_EQ_INT(wait_event(0).u.event.port, 5);
	fs = model_device(5, 3, USB_SPEED_FULL);	/* hub port 3 */
	ls = model_device(5, 0x12, USB_SPEED_LOW);	/* behind an FS hub */
	deep = model_device(5, 0x2f3, USB_SPEED_HIGH);
	CHECK_EQ_INT(add_dev(10, 0, 5, USB_SPEED_HIGH), PB_OK);
	{
		struct treq *t = treq_new(USB_OP_HUB, 10);

		t->r.u.hub.nports = 4;
		t->r.u.hub.mtt = 1;
		t->r.u.hub.ttt = 2;
		CHECK_EQ_INT(run_req(t), PB_OK);
		free(t);
	}
	sc = xm.slot[xm.dev[hubd].slot].sctx;
	CHECK(sc[0] & SLOT_HUB);
	CHECK(sc[0] & SLOT_MTT);
	CHECK_EQ_INT(sc[1] >> 24, 4);
	CHECK_EQ_INT((sc[2] >> 16) & 3, 2);
	CHECK_EQ_INT(add_dev(11, 10, 3, USB_SPEED_FULL), PB_OK);
	sc = xm.slot[xm.dev[fs].slot].sctx;
	CHECK_EQ_INT(sc[0] & 0xfffff, 3);
	CHECK_EQ_INT((sc[0] >> 20) & 0xf, PSIV_FULL);
	CHECK_EQ_INT((sc[1] >> 16) & 0xff, 5);
	CHECK_EQ_INT(sc[2] & 0xff, xm.dev[hubd].slot);	/* TT hub slot */
	CHECK_EQ_INT((sc[2] >> 8) & 0xff, 3);		/* TT port */
	CHECK(sc[0] & SLOT_MTT);
	CHECK_EQ_INT(xm.slot[xm.dev[fs].slot].ep[1].mps, 8);
	/* an FS hub (dev 12 on hub port 2) with an LS device on its port 1:
	 * the same TT, the HS hub's */
	model_device(5, 2, USB_SPEED_FULL);
	CHECK_EQ_INT(add_dev(12, 10, 2, USB_SPEED_FULL), PB_OK);
	CHECK_EQ_INT(add_dev(13, 12, 1, USB_SPEED_LOW), PB_OK);
	sc = xm.slot[xm.dev[ls].slot].sctx;
	CHECK_EQ_INT(sc[0] & 0xfffff, 0x12);
	CHECK_EQ_INT((sc[0] >> 20) & 0xf, PSIV_LOW);
	CHECK_EQ_INT(sc[2] & 0xff, xm.dev[hubd].slot);
	CHECK_EQ_INT((sc[2] >> 8) & 0xff, 2);
	/* three tiers of HS hubs: route 3.15.2 -> 0x2f3 (ports cut to 15) */
	model_device(5, 0xf3, USB_SPEED_HIGH);
	model_device(5, 3, USB_SPEED_HIGH);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 11, 0), PB_OK);
	CHECK_EQ_INT(add_dev(20, 10, 3, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(add_dev(21, 20, 17, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(add_dev(22, 21, 2, USB_SPEED_HIGH), PB_OK);
	sc = xm.slot[xm.dev[deep].slot].sctx;
	CHECK_EQ_INT(sc[0] & 0xfffff, 0x2f3);
	CHECK_EQ_INT(sc[2], 0);				/* HS: no TT */
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_remove_and_disable_end_requests)
{
	struct treq *t, *u;
	unsigned slot;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	slot = (unsigned)xm.dev[md].slot;
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	u = bulk(1, 0x81, 512, 1, BUS_GIVEN, 0);	/* FIFO empty: NAK */
	CHECK_EQ_INT(submit(t), PB_OK);
	CHECK_EQ_INT(submit(u), PB_OK);
	pump();
	CHECK_EQ_INT(simple_op(USB_OP_EP_DISABLE, 1, 0x83), PB_OK);
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_ECANCELED);
	CHECK(!xm.slot[slot].ep[7].enabled);
	CHECK_EQ_INT(u->done, 0);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);
	CHECK_EQ_INT(u->done, 1);
	CHECK_EQ_INT(u->r.status, PB_ECANCELED);
	CHECK(!xm.slot[slot].enabled);
	CHECK_EQ_INT(((uint64_t *)xdma(xm.dcbaap, 8 * 65, "dcbaa"))[slot], 0);
	CHECK_EQ_INT(drv()->by_slot[slot] == NULL, 1);
	treq_free(t, 0);
	treq_free(u, 0);
	/* the slot is used again */
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* A device holds a record for each endpoint enabled, not for all 31:
 * a stick's EP0, bulk IN, bulk OUT and interrupt IN; a disabled one
 * keeps its record (its lists) without a ring until the slot goes
 * (issue 16, memdiet). */
TEST(xhci_endpoint_records_only_for_endpoints_in_use)
{
	struct xhci_dev *d;
	unsigned n = 0;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	REQUIRE((d = dev_find(drv(), 1)) != NULL);
	for (unsigned dci = 0; dci < CTX_ENTRIES; dci++)
		n += d->ep[dci] != NULL;
	CHECK_EQ_INT(n, 4);
	REQUIRE(d->ep[1] && d->ep[3] && d->ep[4] && d->ep[7]);
	CHECK_EQ_INT(d->ep[1]->ring.n, EP0_RING_TRBS);
	CHECK_EQ_INT(d->ep[3]->ring.n, BULK_RING_TRBS);
	CHECK_EQ_INT(d->ep[7]->ring.n, INTR_RING_TRBS);
	CHECK_EQ_INT(simple_op(USB_OP_EP_DISABLE, 1, 0x83), PB_OK);
	CHECK(d->ep[7] != NULL && ep_live(d, 7) == NULL);
	CHECK_EQ_INT(simple_op(USB_OP_EP_DISABLE, 1, 0x83), PB_ENODEV);
	CHECK_EQ_INT(enable_ep(1, &ep_intr_in, NULL), PB_OK);
	CHECK(ep_live(d, 7) != NULL);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);
	CHECK(dev_find(drv(), 1) == NULL);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_unplug_cancels_the_device)
{
	struct treq *t;
	struct usb_req ev;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_OK);
	pump();
	model_plug(5, 0);
	pump();
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_ECANCELED);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_DISCONNECT);
	CHECK_EQ_INT(ev.u.event.port, 5);
	treq_free(t, 0);
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_ENODEV);
	treq_free(t, 0);
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_rings_wrap)
{
	struct treq *t;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	/* 700 transfers of 3 TRBs: the bulk ring (1024) wraps twice, TDs
	 * span its Link TRB; the event ring (256) wraps too */
	for (unsigned i = 0; i < 700; i++) {
		t = bulk(1, 0x02, 3 * 65536, 3, BUS_GIVEN, 0);
		t->buf[0] = (uint8_t)i;
		if (run_req(t) != PB_OK) {
			CHECK_MSG(0, "transfer %u", i);
			treq_free(t, 0);
			break;
		}
		treq_free(t, 0);
		xm.dev[md].fifo_len = 0;
	}
	/* the command ring (64) wraps: endpoint set-up over and over */
	for (unsigned i = 0; i < 80; i++)
		if (simple_op(USB_OP_CLEAR_HALT, 1, 0x81) != PB_OK) {
			CHECK_MSG(0, "CLEAR_HALT %u", i);
			break;
		}
	CHECK(xm.events > 800);		/* the event ring wrapped */
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* ---- swaps and endings ----------------------------------------------------- */

static void *
export_from(struct pb_module *self, size_t *len, uint32_t *ver)
{
	void *buf;

	if (xhci_export(self, NULL, 0, len, ver) != PB_OK)
		return NULL;
	buf = malloc(*len);
	if (xhci_export(self, buf, *len, len, ver) != PB_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
quiesce_drained(struct pb_module *self)
{
	int err;

	for (unsigned i = 0; i < 200; i++) {
		if ((err = xhci_quiesce(self)) != PB_EAGAIN)
			return err;
		time_passes(1000000);
		pump();
	}
	return PB_ETIMEDOUT;
}

TEST(xhci_swap_hands_requests_over)
{
	struct treq *intr, *w, *held_out;
	uint8_t report[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct usb_req ev;
	uint32_t ver;
	size_t len;
	void *st;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(intr), PB_OK);
	held_out = bulk(1, 0x02, 100, 1, BUS_GIVEN, 0);
	w = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(w), PB_OK);
	pump();

	/* the new side in standby: registers read, nothing written */
	xm.reg_writes = 0;
	xhci_event(SELF2, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	xhci_event(SELF2, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	REQUIRE(xhci_start(SELF2, &hub, PB_START_STANDBY) == PB_OK);
	CHECK_EQ_INT(xm.reg_writes, 0);

	CHECK_EQ_INT(quiesce_drained(SELF), PB_OK);
	CHECK(xm.usbsts & USBSTS_HCH);
	CHECK_EQ_INT(submit(held_out), PB_OK);	/* kept, not run */
	pump();
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(ver, USB_HCI_STATE_VERSION);
	CHECK_EQ_INT(((struct usb_hci_state *)st)->nreq, 3);
	CHECK(((struct usb_req **)((struct usb_hci_state *)st + 1))[0] ==
	    &intr->r);			/* oldest first */
	REQUIRE(xhci_release(SELF) == PB_OK);
	CHECK_EQ_INT(xhci_import(SELF2, st, len, 7), PB_ESTATE);
	REQUIRE(xhci_import(SELF2, st, len, ver) == PB_OK);
	free(st);
	REQUIRE(xhci_activate(SELF2) == PB_OK);
	/* kbdheal: the old side started afresh, the new one took over */
	{
		struct usb_hci_info hi = { .size = sizeof(hi) };

		CHECK_EQ_INT(xhci_hci_ops.info(xhci_of(SELF, 0), &hi), PB_OK);
		CHECK_EQ_INT(hi.flags, USB_HCI_FRESH);
		CHECK_EQ_INT(xhci_hci_ops.info(xhci_of(SELF2, 0), &hi), PB_OK);
		CHECK_EQ_INT(hi.flags, 0);
	}
	xhci_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	/* the hub rebinds the bus to the new side's resource */
	fres[0].used = 0;
	pump();
	wait_ms(150);
	CHECK_EQ_INT(xm.hcrsts, 2);		/* reset by the new side */
	CHECK_EQ_INT(w->done, 1);		/* taken as standing */
	CHECK_EQ_INT(w->r.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(w->r.u.event.port, 5);
	CHECK_EQ_INT(intr->done, 0);		/* held */
	/* the bus sets the device up again, then resumes it */
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(enable_ep(1, &ep_intr_in, NULL), PB_OK);
	CHECK_EQ_INT(enable_ep(1, &ep_bulk_out, NULL), PB_OK);
	model_feed(md, report, 8);
	CHECK_EQ_INT(simple_op(USB_OP_RESUME, 1, 0), PB_OK);
	pump();
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_OK);
	CHECK(memcmp(intr->buf, report, 8) == 0);
	CHECK_EQ_INT(held_out->done, 1);
	CHECK_EQ_INT(held_out->r.status, PB_OK);
	CHECK_EQ_INT(xm.dev[md].fifo_len, 100);
	/* the old side stops: completes nothing a second time */
	xhci_stop(SELF);
	pump();
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(held_out->done, 1);
	CHECK_EQ_INT(w->done, 1);
	ev = wait_event(0);
	CHECK_EQ_INT(ev.u.event.kind, 0);
	treq_free(intr, 0);
	treq_free(held_out, 0);
	free(w);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	xhci_stop(SELF2);
	pump();
	CHECK(clean_end());
}

/*
 * A fault in rq_complete after the request's status is set and before its
 * post (found by the fault campaign, seed 90210 #168: xhci's pointer to
 * the hub written over, so the post itself faulted).  The request is then
 * in none of the driver's lists, and the instance restarted from its
 * image would never complete it: the client waits for its deadline.  The
 * faulted instance's export (hub/replay.c) lists it, and the next
 * instance posts its completion without running it again.
 */
static struct pb_work *post_trap;
static jmp_buf post_trapped;

static void
trap_work_post(struct pb_module *self, struct pb_work *w)
{
	if (w == post_trap)
		longjmp(post_trapped, 1);	/* the fault: the call ends */
	fake_work_post(self, w);
}

TEST(xhci_completion_cut_by_a_fault_is_posted_by_the_next_instance)
{
	struct treq *out, *w;
	uint32_t ver;
	size_t len;
	void *st;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	w = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(w), PB_OK);
	out = bulk(1, 0x02, 100, 1, BUS_GIVEN, 0);
	post_trap = &out->r.done;
	hub.work_post = trap_work_post;
	if (!setjmp(post_trapped)) {
		CHECK_EQ_INT(submit(out), PB_OK);
		pump();
	}
	hub.work_post = fake_work_post;
	CHECK_EQ_INT(out->done, 0);
	CHECK_EQ_INT(out->r.status, PB_OK);	/* answered, never posted */
	CHECK_EQ_INT(xm.dev[md].fifo_len, 100);

	/* the hub's recovery: the faulted instance's export, a new one
	 * started in standby, given it and activated */
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	CHECK_EQ_INT(((struct usb_hci_state *)st)->nreq, 2);
	xhci_event(SELF2, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	xhci_event(SELF2, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	REQUIRE(xhci_start(SELF2, &hub, PB_START_STANDBY) == PB_OK);
	REQUIRE(xhci_import(SELF2, st, len, ver) == PB_OK);
	free(st);
	REQUIRE(xhci_activate(SELF2) == PB_OK);
	pump();
	CHECK_EQ_INT(out->done, 1);
	CHECK_EQ_INT(out->r.status, PB_OK);
	CHECK_EQ_INT(xm.dev[md].fifo_len, 100);	/* sent once, not again */

	/* the old instance's memory goes; nothing is completed twice */
	xhci_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	fres[0].used = 0;
	xhci_stop(SELF);
	pump();
	CHECK_EQ_INT(out->done, 1);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	xhci_stop(SELF2);
	pump();
	treq_free(out, 0);
	free(w);
	CHECK(clean_end());
}

/* The whole swap from SELF to a second instance in standby, as the hub
 * runs it: PB_OK once the new side runs the controller. */
static int
swap_to_second(void)
{
	uint32_t ver;
	size_t len;
	void *st;
	int err;

	xhci_event(SELF2, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	xhci_event(SELF2, PB_EV_CONNECTED, &irq_conn, REQ_IRQ);
	if ((err = xhci_start(SELF2, &hub, PB_START_STANDBY)) != PB_OK ||
	    (err = quiesce_drained(SELF)) != PB_OK)
		return err;
	if (!(st = export_from(SELF, &len, &ver)))
		return PB_EIO;
	if ((err = xhci_release(SELF)) == PB_OK &&
	    (err = xhci_import(SELF2, st, len, ver)) == PB_OK)
		err = xhci_activate(SELF2);
	free(st);
	if (err == PB_OK)
		xhci_event(SELF, PB_EV_DISCONNECTED, &pci_conn, PB_REQ_BIND);
	return err;
}

TEST(xhci_swap_held_requests_expire)
{
	struct treq *intr;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(intr), PB_OK);
	pump();
	REQUIRE(swap_to_second() == PB_OK);
	wait_ms(1900);
	CHECK_EQ_INT(intr->done, 0);
	wait_ms(400);
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_ECANCELED);
	CHECK_CONTAINS(log_text, "1 held request of devices not resumed");
	treq_free(intr, 0);
	xhci_stop(SELF);
	xhci_stop(SELF2);
	pump();
	CHECK(clean_end());
}

TEST(xhci_failed_swap_resumes)
{
	struct treq *intr;
	uint8_t report[8] = { 9 };
	uint32_t ver;
	size_t len;
	void *st;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(intr), PB_OK);
	pump();
	CHECK_EQ_INT(quiesce_drained(SELF), PB_OK);
	REQUIRE((st = export_from(SELF, &len, &ver)) != NULL);
	free(st);
	REQUIRE(xhci_release(SELF) == PB_OK);
	CHECK(!xm.msix_on);
	REQUIRE(xhci_resume(SELF) == PB_OK);	/* the swap failed */
	pump();
	CHECK(xm.msix_on);
	CHECK(xm.usbcmd & USBCMD_RS);
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_OK);
	CHECK_EQ_INT(intr->buf[0], 9);
	treq_free(intr, 0);
	CHECK_EQ_INT(xm.hcrsts, 1);		/* no reset */
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

TEST(xhci_client_gone_and_stop)
{
	struct treq *intr, *w, *own;
	struct usb_req ev;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	intr->r.done.owner = OTHER;		/* a class driver's */
	CHECK_EQ_INT(submit(intr), PB_OK);
	own = treq_new(USB_OP_WAIT_EVENT, 0);	/* the bus's own */
	CHECK_EQ_INT(submit(own), PB_OK);
	pump();
	/* another client still there (a bus swap): nothing changes */
	fres[0].clients = 2;
	xhci_event(SELF, PB_EV_CLIENT_GONE, NULL, 0);
	pump();
	CHECK_EQ_INT(intr->done, 0);
	/* the last one */
	fres[0].clients = 1;
	xhci_event(SELF, PB_EV_CLIENT_GONE, NULL, 0);
	CHECK(!(pci_cmd & PCI_CMD_MASTER));	/* stopped first */
	pump();
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_ECANCELED);
	CHECK_EQ_INT(own->done, 0);		/* its memory is going */
	treq_free(intr, 0);
	free(own);
	wait_ms(150);
	CHECK_EQ_INT(xm.hcrsts, 2);		/* starts over */
	CHECK(pci_cmd & PCI_CMD_MASTER);
	ev = wait_event(1);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 5);
	/* stop: a standing WAIT_EVENT ends PB_ECANCELED, once */
	w = treq_new(USB_OP_WAIT_EVENT, 0);
	CHECK_EQ_INT(submit(w), PB_OK);
	pump();
	shutdown(SELF);
	CHECK_EQ_INT(w->done, 1);
	CHECK_EQ_INT(w->r.status, PB_ECANCELED);
	free(w);
	CHECK(!(xm.usbcmd & USBCMD_RS));
	CHECK_EQ_INT(vectors_used(), 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	CHECK(clean_end());
}

TEST(xhci_swap_remove_drops_held_and_swap_back)
{
	struct treq *intr;
	struct usb_req ev;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(intr), PB_OK);
	pump();
	REQUIRE(swap_to_second() == PB_OK);
	fres[0].used = 0;			/* the bus is on the new side */
	wait_ms(150);
	/* the device is not set up again: REMOVE ends its held request */
	CHECK_EQ_INT(simple_op(USB_OP_REMOVE, 1, 0), PB_OK);
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_ECANCELED);
	treq_free(intr, 0);

	/* The new side goes (a fault in the watch window): the old one is
	 * given the function again and resumes from a reset, knowing none
	 * of the requests it handed over. */
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(enable_ep(1, &ep_intr_in, NULL), PB_OK);
	CHECK_EQ_INT(submit(intr), PB_OK);
	pump();
	xhci_stop(SELF2);
	pump();
	CHECK_EQ_INT(intr->done, 1);		/* the new side ended it */
	treq_free(intr, 0);
	fres[0].used = 1;			/* the old side's, visible */
	xhci_event(SELF, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	REQUIRE(xhci_resume(SELF) == PB_OK);
	wait_ms(150);
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	CHECK_EQ_INT(xm.hcrsts, 3);
	ev = wait_event(1);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 5);
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The hub after a module's fault: none of its code runs again (its
 * timers, work and interrupt handler go with it), and its device is
 * silenced (bus mastering off). */
static void
never_called_again(struct pb_module *self)
{
	struct xhci *x = xhci_of(self, 0);

	fake_faulted(self, x);
	for (int v = FAKE_VEC_FIRST; v < FAKE_VEC_END; v++)
		if (fvec[v].used && fvec[v].arg == x)
			fake_irq_unregister(self, v);
	fpci_enable(NULL, PCI_CMD_MASTER, 0);
}

/* A swaps to B, B sets the device up again and serves it, and B faults
 * in its watch window with a transfer on its ring: the hub gives the bus
 * back to A (B is never called again) and reconnects A to the function.
 * The controller runs on B's DCBAA, command ring, event ring and device
 * contexts, in B's memory (freed with it on the machine).  A halts and
 * resets it before bus mastering is on again, sets it up with its own,
 * and the bus finds the device again through A. */
TEST(xhci_resume_after_the_new_side_faulted_resets_the_controller)
{
	struct treq *served, *left, *intr;
	uint8_t report[8] = { 4, 0, 7 };
	struct usb_req ev;
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	REQUIRE(swap_to_second() == PB_OK);
	fres[0].used = 0;			/* the bus is on the new side */
	pump();
	wait_ms(150);
	CHECK_EQ_INT(xm.hcrsts, 2);
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(enable_ep(1, &ep_intr_in, NULL), PB_OK);
	served = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(served), PB_OK);
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(served->done, 1);		/* B serves */
	left = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(left), PB_OK);	/* on B's ring at the fault */
	pump();
	CHECK(xm.usbcmd & USBCMD_RS);

	/* B faulted.  A gets the function back and resumes. */
	never_called_again(SELF2);
	fres[0].used = 1;
	master_on_running = 0;
	xhci_event(SELF, PB_EV_CONNECTED, &pci_conn, PB_REQ_BIND);
	REQUIRE(xhci_resume(SELF) == PB_OK);
	wait_ms(150);
	CHECK_EQ_INT(master_on_running, 0);
	CHECK_EQ_INT(drv()->hstate, HC_UP);
	CHECK_EQ_INT(xm.hcrsts, 3);
	CHECK(xm.dcbaap == drv()->dcbaa_bus);
	ev = wait_event(1);
	CHECK_EQ_INT(ev.u.event.kind, USB_EVENT_CONNECT);
	CHECK_EQ_INT(ev.u.event.port, 5);
	CHECK_EQ_INT(add_dev(1, 0, 5, USB_SPEED_HIGH), PB_OK);
	CHECK_EQ_INT(enable_ep(1, &ep_intr_in, NULL), PB_OK);
	intr = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(intr), PB_OK);
	report[2] = 9;
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(intr->done, 1);
	CHECK_EQ_INT(intr->r.status, PB_OK);
	CHECK(memcmp(intr->buf, report, 8) == 0);
	CHECK_EQ_INT(left->done, 0);		/* B's, never ended by A */
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	never_called_again(SELF2);
	xhci_stop(SELF2);	/* only to free it: the controller is off */
	pump();
	treq_free(served, 0);
	treq_free(left, 0);
	treq_free(intr, 0);
	CHECK(clean_end());
}

/* A driver gone (PB_EV_CLIENT_GONE at the bus): its TDs leave the ring
 * before forget returns, the endpoint stopped first, with nothing written
 * into them or posted (ASan: they are freed at once); another driver's TD
 * ahead of them is cancelled; the endpoint serves the next driver. */
TEST(xhci_usbgone_driver_stopped_before_forget_returns)
{
	struct treq *mine[2], *other, *next;
	struct xm_ep *e;
	uint8_t report[8] = { 0, 0, 5, 0, 0, 0, 0, 0 };
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	xm.sync_cmds = 1;		/* as QEMU: in the doorbell write */
	e = &xm.slot[xm.dev[md].slot].ep[7];
	other = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	other->r.done.owner = OTHER;
	CHECK_EQ_INT(submit(other), PB_OK);
	for (unsigned i = 0; i < 2; i++) {
		mine[i] = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
		CHECK_EQ_INT(submit(mine[i]), PB_OK);
	}
	pump();
	CHECK_EQ_INT(hci_forget_as(1, 0xff, CLIENT), PB_OK);
	CHECK_EQ_INT(e->stops, 1);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ_INT(mine[i]->done, 0);
		treq_free(mine[i], 0);
	}
	CHECK_CONTAINS(log_text, "xhci0: device 1: its driver went; dropped: "
	    "2 on its rings (stopped first), 0 waiting");
	pump();
	CHECK_EQ_INT(other->done, 1);
	CHECK_EQ_INT(other->r.status, PB_ECANCELED);
	treq_free(other, 0);
	model_feed(md, report, 8);
	pump();
	next = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(next), PB_OK);
	pump();
	CHECK_EQ_INT(next->done, 1);
	CHECK_EQ_INT(next->r.status, PB_OK);
	CHECK(memcmp(next->buf, report, 8) == 0);
	treq_free(next, 0);
	CHECK_EQ_INT(hci_forget_as(1, 0xff, CLIENT), PB_OK);	/* nothing left */
	CHECK_EQ_INT(hci_forget_as(9, 0xff, CLIENT), PB_OK);	/* no such device */
	CHECK_EQ_INT(hci_forget_as(1, 0xff, NULL), PB_EINVAL);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* The controller does not answer Stop Endpoint in time: the TDs are cut
 * out anyway (No Op TRBs), nothing is posted, and PB_EBUSY says the
 * memory may still be written (the bus tells the hub).  When the stop
 * comes late, nothing of the gone driver is touched. */
TEST(xhci_usbgone_driver_not_stopped_in_time)
{
	struct treq *t, *next;
	struct xm_ep *e;
	uint8_t report[8] = { 0, 0, 6, 0, 0, 0, 0, 0 };
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	e = &xm.slot[xm.dev[md].slot].ep[7];
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_OK);
	pump();
	CHECK_EQ_INT(hci_forget_as(1, 0x83, CLIENT), PB_EBUSY);
	CHECK_EQ_INT(t->done, 0);
	CHECK_CONTAINS(log_text, "its driver went but 1 of its transfers "
	    "were not stopped");
	treq_free(t, 0);
	pump();
	CHECK_EQ_INT(e->stops, 1);
	next = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(next), PB_OK);
	pump();
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(next->done, 1);
	CHECK_EQ_INT(next->r.status, PB_OK);
	CHECK(memcmp(next->buf, report, 8) == 0);
	treq_free(next, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}

/* A client wipes a request xhci still holds (scratch and all) and
 * submits it again (a refusal it was told that was not one): refused,
 * so it is not linked twice (a cycle its endpoint's walks would never
 * leave); the endpoint serves on. */
TEST(xhci_usbgone_wiped_request_submitted_again)
{
	struct treq *t, *again;
	uint8_t report[8] = { 0, 0, 7, 0, 0, 0, 0, 0 };
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_OK);
	pump();
	memset(t->r.hci_scratch, 0, sizeof(t->r.hci_scratch));
	CHECK_EQ_INT(submit(t), PB_EBUSY);
	CHECK_CONTAINS(log_text, "xhci0: device 1 endpoint 0x83: a request "
	    "submitted while it is still ours: refused");
	/* Its wiped scratch no longer says where its TD is: it is lost to
	 * its client, but a cancel ends the walk and the endpoint serves
	 * the next request. */
	CHECK_EQ_INT(cancel(1, 0x83), PB_OK);
	pump();
	again = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(again), PB_OK);
	pump();
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(again->done, 1);
	CHECK_EQ_INT(again->r.status, PB_OK);
	CHECK(memcmp(again->buf, report, 8) == 0);
	treq_free(again, 0);
	treq_free(t, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
}

/* kbdheal: an interrupt lost (its handler or event work skipped, the
 * campaign's `skip`) leaves EHB set, and the controller raises no other
 * while it is: the look every T_LOOK takes the events waiting, and the
 * reports after them come by interrupt again (seed 2003 usbonly 213:
 * the keyboard was not found again after xhci's restart). */
static void
lost(void *arg)
{
	(void)arg;
}

TEST(xhci_kbdheal_lost_interrupt_taken_by_the_look)
{
	struct treq *t, *next;
	uint8_t report[8] = { 0, 0, 4, 0, 0, 0, 0, 0 };
	pb_work_fn handler;
	struct xhci *a = &instances[0];
	int md;

	world();
	REQUIRE(boot(1) == PB_OK);
	REQUIRE(stick(&md) == PB_OK);
	REQUIRE(a->look_id != 0);
	t = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(t), PB_OK);
	pump();
	handler = fvec[xm.vector].fn;
	fvec[xm.vector].fn = lost;	/* the interrupt comes to nothing */
	model_feed(md, report, 8);
	pump();
	fvec[xm.vector].fn = handler;
	CHECK_EQ_INT(t->done, 0);
	CHECK(xm.erdp_lo & 8);		/* EHB: no interrupt from here on */
	wait_ms(50);
	CHECK_EQ_INT(t->done, 0);
	wait_ms(200);			/* two looks: the same event waits */
	CHECK_EQ_INT(t->done, 1);
	CHECK_EQ_INT(t->r.status, PB_OK);
	CHECK(memcmp(t->buf, report, 8) == 0);
	CHECK_CONTAINS(log_text, "events waited with no interrupt: taken by "
	    "the 100 ms look (1 times)");
	/* By interrupt again, at once. */
	next = bulk(1, 0x83, 8, 1, BUS_GIVEN, 0);
	CHECK_EQ_INT(submit(next), PB_OK);
	pump();
	model_feed(md, report, 8);
	pump();
	CHECK_EQ_INT(next->done, 1);
	CHECK_EQ_INT(a->looks, 1);
	treq_free(t, 0);
	treq_free(next, 0);
	CHECK_MSG(xm.bad == 0, "model: %s", xm.why);
	shutdown(SELF);
	CHECK(clean_end());
}
