/*
 * fuzzmod_xhci.c - libFuzzer target for what the xhci module takes from
 * the controller: the event ring (mods/xhci/event.c and everything it
 * leads to: transfer completions, command completions, port changes).
 *
 * Each run sets a driver up as if the controller ran: a device in slot 1
 * with EP0, bulk IN and OUT and interrupt IN enabled, TDs on each ring
 * (control, a scatter-gather bulk IN, bulk OUT, interrupt IN), an ADD on
 * the command ring (Enable Slot in flight) and a cancel's endpoint fix
 * queued behind it.  Then the input is a list of 17-byte records, each an
 * event TRB written into the event ring where the driver reads next and
 * read out (event_drain):
 *   byte 0: bits 1:0 where the TRB pointer points: 0 as given; 1 into the
 *           ring of the endpoint the TRB names (a TRB of ours, so TD
 *           matching, short packets, errors and recovery are reached);
 *           2 into the command ring; 3 the command in flight
 *           bit 2: its cycle bit right (else as given)
 *           bit 3: 6 s pass first (timeouts: transfers, commands)
 *           bit 4: posted work runs (completions)
 *           bit 5: another transfer is submitted
 *           bit 6: a root port is looked at (port_event)
 *           bit 7: CRCR reads with CRR set (an abort writes CA)
 *   bytes 1-16: the TRB (parameter, status, control; little-endian).
 * Beyond the sanitizers it traps on broken promises: a request completed
 * twice, a transfer ring counting more TRBs than it has, the event
 * ring's dequeue outside it, and at the end (the driver stopped) a
 * request never completed or memory not given back.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/pbmod.h"
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
#include "../host/fakehub.h"

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

uint64_t cpu_irq_save(void) { return 0; }
void cpu_irq_restore(uint64_t f) { (void)f; }
void mmio_rmb(void) { }
void mmio_wmb(void) { }
void mmio_mb(void) { }

/* The registers: plain memory (USBSTS reads 0: running, no error). */
static uint32_t fz_regs[0x4000 / 4];
static int crr;

static uint32_t *
fz_reg(const volatile void *r)
{
	size_t off = (size_t)((const volatile uint8_t *)r -
	    (const uint8_t *)fz_regs);

	must(off < sizeof(fz_regs) && !(off & 3));
	return &fz_regs[off / 4];
}

uint32_t
mmio_read32(const volatile void *r)
{
	uint32_t *p = fz_reg(r);

	if (p == &fz_regs[(0x40 + OP_CRCR) / 4])
		return crr ? CRCR_CRR : 0;
	return *p;
}

void mmio_write32(volatile void *r, uint32_t v) { *fz_reg(r) = v; }
uint8_t mmio_read8(const volatile void *r) { must(0); return 0; }
uint16_t mmio_read16(const volatile void *r) { must(0); return 0; }
uint64_t mmio_read64(const volatile void *r) { must(0); return 0; }
void mmio_write8(volatile void *r, uint8_t v) { must(0); }
void mmio_write16(volatile void *r, uint16_t v) { must(0); }
void mmio_write64(volatile void *r, uint64_t v) { must(0); }

static int heap_live;

static void *
fz_alloc(struct pb_module *m, size_t n)
{
	heap_live++;
	return malloc(n ? n : 1);
}

static void
fz_free(struct pb_module *m, void *p)
{
	heap_live--;
	free(p);
}

static void fz_log(struct pb_module *m, int l, const char *s) { }
static void fz_unmap(struct pb_module *m, void *va) { }

static struct pb_resource *
fz_publish(struct pb_module *m, const char *i, const char *n, const char *p,
    const void *ops, void *ctx)
{
	static char res;

	return (struct pb_resource *)&res;
}

static int
fz_withdraw(struct pb_module *m, struct pb_resource *r)
{
	return PB_OK;
}

static const struct pb_hub fz_hub = {
	.size = sizeof(struct pb_hub), .log = fz_log, .alloc = fz_alloc,
	.free = fz_free, .unmap_mmio = fz_unmap, .publish = fz_publish,
	.withdraw = fz_withdraw, .now_ns = fake_now,
	.timer_after = fake_timer_after, .timer_cancel = fake_timer_cancel,
	.irq_unregister = fake_irq_unregister,
	.dma_alloc = fake_dma_alloc, .dma_free = fake_dma_free,
	.dma_addr = fake_dma_addr, .work_init = fake_work_init,
	.work_post = fake_work_post, .work_cancel = fake_work_cancel,
};

/* ---- the requests ------------------------------------------------------- */

#define FZ_REQS 24

static struct fz_req {
	struct usb_req r;
	struct usb_seg seg[4];
	unsigned done;
	int taken;
} reqs[FZ_REQS];
static unsigned nreqs;
static uint8_t bufs[4][1 << 18] __attribute__((aligned(4096)));

static void
fz_done(void *arg)
{
	struct fz_req *q = arg;

	must(q->taken);
	must(q->done++ == 0);		/* exactly once */
}

static void
submit(struct xhci *a, uint8_t op, uint8_t ep, uint32_t len, unsigned nseg)
{
	struct fz_req *q;

	if (nreqs == FZ_REQS)
		return;
	q = &reqs[nreqs++];
	memset(q, 0, sizeof(*q));
	q->r.size = sizeof(q->r);
	q->r.op = op;
	q->r.dev = 1;
	q->r.ep = ep;
	q->r.length = len;
	q->r.nseg = (uint16_t)nseg;
	q->r.segs = q->seg;
	for (unsigned i = 0; i < nseg; i++) {
		size_t run;

		q->seg[i].va = bufs[i] + 100;
		q->seg[i].len = len / nseg + (i + 1 == nseg ? len % nseg : 0);
		fake_dma_addr(NULL, q->seg[i].va, q->seg[i].len,
		    &q->seg[i].bus, &run);
	}
	if (op == USB_OP_XFER && ep == 0)
		q->r.u.setup = (struct usb_setup){ 0x80, 6, 0x100, 0,
		    (uint16_t)len };
	if (op == USB_OP_ADD) {
		q->r.dev = 2;
		q->r.u.add.port = 2;
		q->r.u.add.speed = USB_SPEED_SUPER;
	}
	fake_work_init(NULL, &q->r.done, fz_done, q);
	q->taken = xhci_hci_ops.submit(a, &q->r) == PB_OK;
}

/* ---- a driver as if the controller ran ---------------------------------- */

static const struct usb_endpoint_desc eps[] = {
	{ 7, 5, 0x81, 2, 512, 0 }, { 7, 5, 0x02, 2, 512, 0 },
	{ 7, 5, 0x83, 3, 8, 4 },
};

static struct xhci *
fz_setup(int csz)
{
	struct xhci *a = xhci_of(SELF, 1);
	struct xhci_dev *d;
	const char *why;

	a->hub = &fz_hub;
	a->bar = (volatile uint8_t *)fz_regs;
	a->op = a->bar + 0x40;
	a->rt = a->bar + 0x1000;
	a->db = a->bar + 0x2000;
	a->version = 0x100;
	a->nports = 4;
	a->nslots = 8;
	a->ctxsz = csz ? 64 : 32;
	a->dma_limit = ~0ull;
	a->hstate = HC_UP;
	rt_strlcpy(a->name, "xhci0", sizeof(a->name));
	fake_work_init(SELF, &a->ev_work, xhci_event_work, a);
	caps_protocols(a);
	a->port[0].state = PORT_ENABLED;
	a->port[0].speed = USB_SPEED_HIGH;
	a->port[1].state = PORT_ENABLED;
	a->port[1].speed = USB_SPEED_SUPER;
	must(memory_alloc(a, &why) == PB_OK);
	cmd_reset_state(a);
	d = fz_alloc(NULL, sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->dev = 1;
	d->port = d->root_port = 1;
	d->speed = USB_SPEED_HIGH;
	d->psiv = PSIV_HIGH;
	d->slot = 1;
	d->addressed = 1;
	d->entries = 7;
	a->devs[0] = d;
	must(dev_slot_memory(a, d) == PB_OK);
	for (unsigned i = 0; i < 3; i++) {
		struct xhci_ep *ep = ep_get(a, d,
		    dci_of(eps[i].bEndpointAddress));

		must(ep && ctx_ep_params(d, &eps[i], NULL, ep) == PB_OK);
		must(ring_alloc(a, &ep->ring, ring_trbs(ep->type)) == PB_OK);
	}
	return a;
}

static void
check(const struct xhci *a)
{
	must(a->ev.deq < a->ev.n);
	for (unsigned i = 0; i < XHCI_MAX_SLOTS; i++)
		for (unsigned dci = 1; a->devs[i] && dci < CTX_ENTRIES; dci++) {
			const struct xhci_ep *ep = a->devs[i]->ep[dci];

			must(!ep || !ep->ring.trb ||
			    ep->ring.used <= ep->ring.n - 1);
		}
}

/* The TRB pointer the record asks for. */
static uint64_t
pointer(const struct xhci *a, unsigned mode, uint64_t param, uint32_t control)
{
	const struct xhci_dev *d = a->devs[0];
	const struct xhci_ep *ep;
	const struct xhci_ring *r;

	switch (mode) {
	case 1:
		if (!d || !(ep = ep_live(d, TRB_EP(control))))
			return param;
		r = &ep->ring;
		return r->trb ? ring_bus(r, (uint32_t)(param % (r->n - 1))) :
		    param;
	case 2:
		return ring_bus(&a->cmd, (uint32_t)(param % (a->cmd.n - 1)));
	case 3:
		return a->cmd_bus;
	default:
		return param;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xhci *a;

	memset(instances, 0, sizeof(instances));
	memset(fz_regs, 0, sizeof(fz_regs));
	fakehub_reset();
	fake_dma_reset();
	fdma_allocs = 0;
	heap_live = 0;
	nreqs = 0;
	crr = 0;
	for (unsigned i = 0; i < 4; i++)
		fake_dma_map(bufs[i], sizeof(bufs[i]), i & 1, i == 3);
	a = fz_setup(size && (data[0] & 0x80));
	submit(a, USB_OP_XFER, 0, 18, 1);
	submit(a, USB_OP_XFER, 0x81, 200000, 3);
	submit(a, USB_OP_XFER, 0x02, 1000, 2);
	submit(a, USB_OP_XFER, 0x83, 8, 1);
	submit(a, USB_OP_ADD, 0, 0, 0);
	xhci_hci_ops.cancel(a, 1, 0x83);
	for (size_t at = 1; at + 17 <= size && at < 1 + 17 * 400; at += 17) {
		const uint8_t *rec = data + at;
		struct xhci_trb t;
		volatile struct xhci_trb *slot;

		memcpy(&t, rec + 1, 16);
		crr = (rec[0] & 0x80) != 0;
		if (rec[0] & 8) {
			fake_ns += 6000000000ull;
			a->tick_id = 0;
			tick(a);
		}
		t.param = pointer(a, rec[0] & 3, t.param, t.control);
		if (rec[0] & 4)
			t.control = (t.control & ~TRB_C) | a->ev.cycle;
		if (!a->ev.trb)
			break;		/* given up: no ring */
		slot = &a->ev.trb[a->ev.deq];
		slot->param = t.param;
		slot->status = t.status;
		slot->control = t.control;
		if (a->hstate == HC_UP)
			event_drain(a);
		if (rec[0] & 16)
			run_posted();
		if (rec[0] & 32)
			submit(a, USB_OP_XFER, rec[1] & 1 ? 0x81 : 0x02,
			    (uint32_t)(rec[2] + 1) * 100, 1 + rec[3] % 3);
		if ((rec[0] & 64) && a->hstate == HC_UP)
			port_event(a, 1 + rec[4] % a->nports);
		check(a);
	}
	run_posted();
	xhci_stop(SELF);
	run_posted();
	for (unsigned i = 0; i < nreqs; i++)
		must(reqs[i].done == (unsigned)reqs[i].taken);
	for (unsigned i = 0; i < 4; i++)
		fake_dma_unmap(bufs[i]);
	must(fdma_allocs == 0);
	must(heap_live == 0);
	return 0;
}
