/*
 * ahci - provides `block` 1.0 for every disk on an AHCI SATA controller
 * (PCI class 01.06.01): one resource per attached device, named
 * `block:sata<port>`, with the properties of abi/block.h
 *   path=pci:00:1f.2/sata:0 size=67108864 bs=512 model=QEMU_HARDDISK
 *   serial=QM00001 ro=0 rm=0 [wwn=5000c500a1b2c3d4]
 * ATA disks read and write by DMA (READ/WRITE DMA EXT, or READ/WRITE
 * FPDMA QUEUED with NCQ), flush (FLUSH CACHE EXT); ATAPI devices (CD/DVD)
 * are read-only (READ(10) through PACKET).  The name is a label: a second
 * controller, or the new side of a swap, takes `sata<port>-2` and so on
 * while the first name is taken; `path` is the identity.
 *
 * start() sets the controller up and returns; bring-up and the ports'
 * probes go on as timer-driven steps (hba.c, port.c), and each disk is
 * published when it is ready.  Requests: io.c.  Interrupts: irq.c.
 *
 * Swaps (state.c): quiesce stops dispatching and answers PB_EAGAIN until
 * nothing is on the device and every port's command list has stopped;
 * export_state hands the requests not completed over (struct block_state)
 * with each disk's IDENTIFY results; release lets go of the interrupt;
 * resume takes everything back.  The new side, started in standby,
 * publishes every port whose registers show a disk (PxSSTS, PxSIG)
 * without touching anything; at activate it programs its own command
 * lists and FIS areas into those ports and starts them: no HBA reset and
 * no COMRESET, so the blackout is a few register writes.  Taking over
 * from a driver that gives no IDENTIFY results resets the HBA and probes,
 * the requests waiting in the queue until their disk is ready.  At the
 * boot's takeover the hub hands a parked firmware disk's requests to the
 * running driver through import_state (hub/park.c).
 *
 * boot.cfg: `ahci=no` keeps it off the controller; `ahci-msi=no` polls;
 * `ahci-msix=no` takes MSI over MSI-X; `ahci-ncq=no`; `ahci-handoff=no`
 * skips the BIOS handoff.
 * QEMU: tools/qemu-run (the boot disk is on q35's AHCI at 00:1f.2),
 * --config twodisks, --config cdrom.
 */
#include "ahci.h"

#ifndef AHCI_INSTANCES
#define AHCI_INSTANCES 1	/* a module image drives one controller */
#endif
/* A second build under other names (tests/mods/tahci) for swap tests. */
#ifndef AHCI_NAME
#define AHCI_NAME "ahci"
#define AHCI_PREFIX "sata"
#endif

enum { REQ_IRQ = 0 };

static struct ahci instances[AHCI_INSTANCES];

/* The controller of module `self` (claim: a fresh one if it has none). */
static struct ahci *
ahci_of(struct pb_module *self, int claim)
{
	struct ahci *unused = NULL;

	for (unsigned i = 0; i < AHCI_INSTANCES; i++) {
		if (instances[i].self == self)
			return &instances[i];
		if (!instances[i].self && !unused)
			unused = &instances[i];
	}
	if (!claim || !unused)
		return NULL;
	memset(unused, 0, sizeof(*unused));
	unused->self = self;
	unused->vector = -1;
	unused->adopt_vector = -1;
	return unused;
}

uint64_t
ahci_now(const struct ahci *a)
{
	return a->hub->now_ns();
}

/* --- the step timer ------------------------------------------------------ */

static void tick(void *arg);

/* Have tick run at `when` at the latest. */
void
tick_arm(struct ahci *a, uint64_t when)
{
	uint64_t t = ahci_now(a);
	int id;

	if (a->released || a->stopping || a->standby)
		return;
	if (a->tick_id && a->tick_at <= when)
		return;
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	id = a->hub->timer_after(a->self, when > t ? when - t : 0, tick, a);
	a->tick_id = id > 0 ? id : 0;
	a->tick_at = when;
	if (id <= 0 && !a->timer_failed)
		alog(a, PB_LOG_ERR, "no timer (%d): steps and timeouts wait "
		    "for the next interrupt", id);
	a->timer_failed = id <= 0;
}

static int
anything_under_way(const struct ahci *a)
{
	for (unsigned i = 0; i < a->nports; i++)
		if ((a->pi & (1u << i)) && port_busy(&a->port[i]))
			return 1;
	return 0;
}

static void
tick_rearm(struct ahci *a)
{
	uint64_t next = a->h_next, t = ahci_now(a);

	for (unsigned i = 0; i < a->nports; i++) {
		uint64_t w = port_next(&a->port[i]), d;

		if (!(a->pi & (1u << i)))
			continue;
		d = io_next_deadline(&a->port[i]);
		if (w && (!next || w < next))
			next = w;
		if (d && (!next || d < next))
			next = d;
	}
	if (!a->irq_kind && a->hstate == HBA_UP) {
		uint64_t poll = t + (anything_under_way(a) ? T_POLL :
		    T_POLL_IDLE);

		if (!next || poll < next)
			next = poll;
	}
	if (next)
		tick_arm(a, next);
}

static void
tick(void *arg)
{
	struct ahci *a = arg;
	uint64_t t;

	a->tick_id = 0;
	if (a->released || a->stopping)
		return;
	if (a->hstate == HBA_HANDOFF || a->hstate == HBA_RESET)
		hba_step(a);
	t = ahci_now(a);
	if (a->hstate == HBA_UP) {
		if (!a->irq_kind)
			irq_collect(a);
		for (unsigned i = 0; i < a->nports; i++) {
			struct ahci_port *p = &a->port[i];
			uint64_t w = port_next(p);

			if (!(a->pi & (1u << i)))
				continue;
			if (w && w <= t)
				port_step(p);
			io_timeouts(p, t);
		}
	}
	tick_rearm(a);
}

/* --- resources ------------------------------------------------------------- */

/*
 * Log lines of a swap's new side are said after its blackout, by a work
 * item: formatting and printing a line costs a fraction of a millisecond
 * under emulation, more the first time its code runs in a fresh image.
 */
void
ahci_note(struct ahci *a, unsigned what)
{
	a->notes |= what;
	a->hub->work_post(a->self, &a->note_work);
}

/* After a swap's blackout, what activate left for now: the ports it
 * did not take are looked at later (hot plug), the requests dispatched
 * and the properties set by the ports' work, the step timer armed. */
static void
after_takeover(struct ahci *a)
{
	uint64_t t = ahci_now(a);

	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];

		if (a->look_later & (1u << i))
			port_look_later(p, t);
		if (p->head || p->props_stale)
			a->hub->work_post(a->self, &p->work);
	}
	a->look_later = 0;
	tick_rearm(a);
}

static void
say_notes(void *arg)
{
	struct ahci *a = arg;
	unsigned what = a->notes;

	a->notes = 0;
	if (what & NOTE_TAKEOVER)
		after_takeover(a);
	if (what & NOTE_IRQ)
		irq_say(a);
	if (what & NOTE_TAKEOVER)
		alog(a, PB_LOG_INFO, "took over %u disk%s and %u request%s%s",
		    a->note_disks, a->note_disks == 1 ? "" : "s", a->note_reqs,
		    a->note_reqs == 1 ? "" : "s", a->have_import ?
		    " without a reset" : "; the HBA is reset");
}

void
ahci_post_done(struct ahci *a, struct block_req *r, int status)
{
	r->status = status;
	a->hub->work_post(a->self, &r->done);
}

/* Is block:name published by anyone (the old side of a swap)? */
static int
name_taken(const struct ahci *a, const char *name)
{
	struct pb_res_info info;
	char full[8 + AHCI_NAME_MAX];

	/* A hub without res_info_sized fills this struct from res_info. */
	int (*list)(const char *, unsigned, struct pb_res_info *) =
	    a->hub->size > offsetof(struct pb_hub, res_info_sized) &&
	    a->hub->res_info_sized ? a->hub->res_info_sized : a->hub->res_info;

	rt_snprintf(full, sizeof(full), "%s:%s", BLOCK_IFACE, name);
	for (unsigned i = 0; list; i++) {
		info = (struct pb_res_info){ .struct_size = sizeof(info) };
		if (list(NULL, i, &info) != PB_OK)
			return 0;
		if (info.name && strcmp(info.name, full) == 0)
			return 1;
	}
	return 0;
}

void
ahci_set_props(struct ahci_port *p)
{
	char props[256];

	if (!p->res)
		return;
	disk_props(p, props, sizeof(props));
	p->a->hub->set_props(p->a->self, p->res, props);
}

/* Publish the port's disk (or give its resource the full properties). */
int
ahci_publish(struct ahci_port *p)
{
	struct ahci *a = p->a;
	char props[256];

	if (p->res) {
		ahci_set_props(p);
		return PB_OK;
	}
	disk_props(p, props, sizeof(props));
	for (unsigned k = 1; k < 10; k++) {
		if (k == 1)
			rt_snprintf(p->name, sizeof(p->name), "%s%u",
			    AHCI_PREFIX, p->no);
		else
			rt_snprintf(p->name, sizeof(p->name), "%s%u-%u",
			    AHCI_PREFIX, p->no, k);
		if (name_taken(a, p->name))
			continue;
		p->res = a->hub->publish(a->self, BLOCK_IFACE, p->name, props,
		    &ahci_block_ops, p);
		if (p->res)
			return PB_OK;
	}
	alog(a, PB_LOG_ERR, "port %u: block resource not published", p->no);
	return PB_ENOMEM;
}

void
ahci_withdraw(struct ahci_port *p)
{
	if (p->res)
		p->a->hub->withdraw(p->a->self, p->res);
	p->res = NULL;
}

/* --- the module -------------------------------------------------------- */

static void
ports_init(struct ahci *a)
{
	a->hub->work_init(a->self, &a->note_work, say_notes, a);
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];

		a->hub->work_init(a->self, &p->work, ahci_port_work, p);
		rt_snprintf(p->path, sizeof(p->path), "%s/sata:%u", a->pci->res,
		    i);
	}
}

/* Everything given back; the instance is free for a new start. */
static void
forget(struct ahci *a)
{
	const struct pb_hub *hub = a->hub;
	struct pb_module *self = a->self;

	for (unsigned i = 0; i < a->nports; i++) {
		ahci_withdraw(&a->port[i]);
		port_free(&a->port[i]);
		if (hub && hub->size > offsetof(struct pb_hub, work_cancel))
			hub->work_cancel(self, &a->port[i].work);
	}
	if (hub && hub->size > offsetof(struct pb_hub, work_cancel))
		hub->work_cancel(self, &a->note_work);
	if (a->imported)
		hub->free(self, a->imported);
	if (a->held)
		hub->free(self, a->held);
	if (a->abar)
		hub->unmap_mmio(self, (void *)a->abar);
	if (a->port)
		hub->free(self, a->port);
	memset(a, 0, sizeof(*a));
}

void
ahci_log_caps(struct ahci *a)
{
	alog(a, PB_LOG_INFO, "%s: AHCI %x.%x, %u ports (PI 0x%08x), %u slots"
	    "%s%s%s: probing", a->pci->res, a->vs >> 16, (a->vs >> 8) & 0xff,
	    (unsigned)__builtin_popcount(a->pi), a->pi, a->nslots,
	    a->cap & CAP_SNCQ ? ", NCQ" : "", a->cap & CAP_S64A ? ", 64-bit" :
	    ", DMA below 4 GiB", a->cap & CAP_SSS ? ", staggered spin-up" : "");
}

static int
ahci_start(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	struct ahci *a = ahci_of(self, 1);
	const char *why = NULL;
	int err;

	rt_use_hub(hub);
	if (!a)
		return PB_ENOMEM;
	a->hub = hub;
	if (pb_setting_off(hub, "ahci")) {
		alog(a, PB_LOG_INFO, "off (boot.cfg ahci=no)");
		err = PB_ENODEV;
		goto out;
	}
	if (hub->size <= offsetof(struct pb_hub, work_cancel) ||
	    !hub->dma_alloc || !hub->dma_addr || !hub->work_post) {
		alog(a, PB_LOG_INFO, "needs the hub's ABI 1.2 services "
		    "(dma_alloc, work_post): declined");
		err = PB_ENODEV;
		goto out;
	}
#ifdef AHCI_STANDBY_ONLY
	/* The second build only ever takes over from the first. */
	if (mode != PB_START_STANDBY) {
		err = PB_ENODEV;
		goto out;
	}
#endif
	if (!a->pci) {
		alog(a, PB_LOG_ERR, "no PCI function bound");
		err = PB_ENODEV;
		goto out;
	}
	if ((err = hba_attach(a, &why)) != PB_OK)
		goto fail;
	ports_init(a);
	if (mode == PB_START_STANDBY) {
		a->standby = 1;
		state_standby_publish(a);
		return PB_OK;
	}
	if ((err = hba_enable_pci(a)) != PB_OK) {
		why = "memory decoding and bus mastering cannot be enabled";
		goto fail;
	}
	if ((err = hba_read_caps(a)) != PB_OK) {
		why = "its registers read all ones (no controller there)";
		goto fail;
	}
	ahci_log_caps(a);
	irq_setup(a);
	hba_begin(a);
	return PB_OK;
fail:
	alog(a, PB_LOG_ERR, "%s: %s", a->pci->res, why);
out:
	forget(a);
	return err;
}

/* The device quiet, every request ended, everything given back.  After
 * a swap (released) the device and the requests are the next driver's. */
static void
ahci_stop(struct pb_module *self)
{
	struct ahci *a = ahci_of(self, 0);

	if (!a)
		return;
	a->stopping = 1;
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	a->tick_id = 0;
	if (!a->released && !a->standby && a->abar && a->pci)
		hba_quiet(a);
	for (unsigned i = 0; i < a->nports; i++) {
		if (a->released || a->standby)
			io_forget(&a->port[i]);
		else
			io_fail_all(&a->port[i], PB_ECANCELED);
	}
	forget(a);
}

/* Stop taking new work; PB_OK once nothing is on the device and every
 * command list is stopped (ABI 1.2 asynchronous quiesce). */
static int
ahci_quiesce(struct pb_module *self)
{
	struct ahci *a = ahci_of(self, 0);

	if (!a)
		return PB_EINVAL;
	a->quiesced = 1;
	return state_quiesce(a);
}

static int
ahci_export(struct pb_module *self, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct ahci *a = ahci_of(self, 0);

	if (!a)
		return PB_EINVAL;
	*version = BLOCK_STATE_VERSION;
	return buf ? state_export(a, buf, cap, len) : state_size(a, len);
}

static int
ahci_release(struct pb_module *self)
{
	struct ahci *a = ahci_of(self, 0);

	return a ? state_release(a) : PB_EINVAL;
}

static int
ahci_import(struct pb_module *self, const void *buf, size_t len,
    uint32_t version)
{
	struct ahci *a = ahci_of(self, 0);

	return a ? state_import(a, buf, len, version) : PB_EINVAL;
}

static int
ahci_activate(struct pb_module *self)
{
	struct ahci *a = ahci_of(self, 0);

	return a ? state_activate(a) : PB_EINVAL;
}

static int
ahci_resume(struct pb_module *self)
{
	struct ahci *a = ahci_of(self, 0);

	return a ? state_resume(a) : PB_EINVAL;
}

/* The function went away under us: every request ends, nothing more
 * touches it.  (After a swap it went to the next driver: nothing to do,
 * and the resources stay for a swap back in the watch window.) */
static void
pci_gone(struct ahci *a)
{
	if (a->released) {
		a->pci = NULL;
		return;
	}
	alog(a, PB_LOG_WARN, "%s went away: its disks are withdrawn",
	    a->pci ? a->pci->res : "the PCI function");
	for (unsigned i = 0; i < a->nports; i++) {
		io_fail_all(&a->port[i], PB_ECANCELED);
		ahci_withdraw(&a->port[i]);
	}
	if (a->tick_id)
		a->hub->timer_cancel(a->self, a->tick_id);
	a->tick_id = 0;
	a->released = 1;
	a->pci = NULL;
}

static void
ahci_event(struct pb_module *self, int ev, struct pb_conn *c, int req)
{
	struct ahci *a = ahci_of(self, 1);
	int running;

	if (!a)
		return;
	if (ev == PB_EV_CLIENT_GONE) {	/* req is the client's */
		io_client_gone(a, c);
		return;
	}
	running = a->hub && !a->standby && !a->released && !a->stopping &&
	    a->hstate != HBA_DOWN;
	if (req == PB_REQ_BIND) {
		if (ev == PB_EV_CONNECTED)
			a->pci = c;
		else if (ev == PB_EV_DISCONNECTED && c == a->pci)
			pci_gone(a);
	} else if (req == REQ_IRQ) {
		if (ev == PB_EV_CONNECTED) {
			a->irqc = c;
			if (running && !a->irq_kind)
				irq_setup(a);
		} else if (ev == PB_EV_DISCONNECTED && c == a->irqc) {
			a->irqc = NULL;
			if (running && a->irq_kind) {
				irq_teardown(a);
				irq_setup(a);	/* polling now */
			}
		}
	}
}

static const struct pb_module_ops ops = {
	.start = ahci_start,		/* bring-up and probes go on after it */
	.stop = ahci_stop,		/* the device quiet, requests ended */
	.quiesce = ahci_quiesce,	/* PB_EAGAIN until drained, lists off */
	.export_state = ahci_export,	/* struct block_state + IDENTIFY data */
	.import_state = ahci_import,	/* checked, queued at activate */
	.release = ahci_release,	/* the interrupt let go */
	.activate = ahci_activate,	/* our memory into the ports, no reset */
	.resume = ahci_resume,		/* lists on again, requests re-issued */
	.event = ahci_event,		/* the PCI function, the irq provider,
					 * clients going */
};

PB_MODULE(.name = AHCI_NAME, .version = "1.0",
    .desc = "SATA disks and ATAPI drives on an AHCI controller",
    .rank = 20, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR) },
    .nrequires = 1,
    .requires = { [REQ_IRQ] = PB_REQUIRE(IRQ_IFACE, IRQ_MAJOR, 0,
	PB_CARD_OPTIONAL, PB_AT_START) },
    .nbinds = 1,
    .binds = { PB_BIND(PCI_IFACE, "class=01.06.01") });
