/*
 * nvme - provides `block` 1.0 for every active namespace of an NVMe
 * controller (PCI class 01.08.02: QEMU's 1b36:0010, PC SSDs): one
 * resource per namespace, named `block:nvme<K>n<NSID>` (K the first
 * controller number not taken, so the new side of a swap is nvme1), with
 * the properties of abi/block.h
 *   path=pci:00:04.0/nvme:1 size=33554432 bs=512 model=QEMU_NVMe_Ctrl
 *   serial=N ro=0 rm=0
 * `path` is the identity, spelled as efi/devpath.c spells the firmware's
 * handle (`/nvme:` and the NSID in decimal), so the boot's takeover
 * pairs them.
 *
 * start() maps BAR0 and returns; the controller's bring-up goes on as
 * timer-driven steps (ctrl.c), then admin commands (admin.c), and each
 * namespace is published when identified.  Requests: io.c.
 * Interrupts: irq.c.  A client going: gone.c.
 *
 * Swaps (state.c): quiesce stops dispatching and answers PB_EAGAIN while
 * commands are on the device (or the controller's steps run); export
 * hands the requests not completed over (struct block_state) with the
 * Identify results; release leaves the controller and its interrupt
 * message to the new side.  The new side, started in standby, publishes
 * by path the namespaces the old one published (found in the inventory:
 * no admin command can be sent while the old side owns the queues); at
 * activate it resets the controller with its own queues (no Identify,
 * with the old side's results) and issues the requests again.
 *
 * boot.cfg: `nvme=no` keeps it off the controller; `nvme-msi=no` polls.
 * QEMU: -drive if=none,id=n,file=disk.img,format=raw
 *       -device nvme,serial=N,drive=n
 */
#include "nvme.h"

#ifndef NVME_INSTANCES
#define NVME_INSTANCES 1	/* a module image drives one controller */
#endif

enum { REQ_IRQ = 0 };

static struct nvme instances[NVME_INSTANCES];

/* The controller of module `self` (claim: a fresh one if it has none). */
static struct nvme *
nvme_of(struct pb_module *self, int claim)
{
	struct nvme *unused = NULL;

	for (unsigned i = 0; i < NVME_INSTANCES; i++) {
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
nvme_now(const struct nvme *c)
{
	return c->hub->now_ns();
}

/* --- the step timer ------------------------------------------------------ */

static void tick(void *arg);

/* Have tick run at `when` at the latest. */
void
tick_arm(struct nvme *c, uint64_t when)
{
	uint64_t t = nvme_now(c);
	int id;

	if (c->released || c->stopping || c->standby)
		return;
	if (c->tick_id && c->tick_at <= when)
		return;
	if (c->tick_id)
		c->hub->timer_cancel(c->self, c->tick_id);
	id = c->hub->timer_after(c->self, when > t ? when - t : 0, tick, c);
	c->tick_id = id > 0 ? id : 0;
	c->tick_at = when;
	if (id <= 0 && !c->timer_failed)
		nlog(c, PB_LOG_ERR, "no timer (%d): steps and timeouts wait "
		    "for the next interrupt", id);
	c->timer_failed = id <= 0;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

/* The timer for what comes next: a step, a deadline, a poll, a look at
 * CSTS while busy.  An idle controller with interrupts takes none. */
void
tick_rearm(struct nvme *c)
{
	uint64_t t = nvme_now(c), next = 0;
	int busy = c->admin_busy || c->inflight;

	if (ctrl_waiting(c))
		next = c->next_poll;
	if (c->state == C_ADMIN || c->state == C_READY) {
		if (c->admin_busy)
			next = earliest(next, c->admin_deadline);
		next = earliest(next, io_next_deadline(c));
		if (busy && !c->watch_at)
			c->watch_at = t + T_WATCH;
		if (busy)
			next = earliest(next, c->watch_at);
		if (busy && c->irq == IRQ_POLL)
			next = earliest(next, t + T_POLL);
	}
	if (!busy)
		c->watch_at = 0;
	if (next)
		tick_arm(c, next);
}

static void
tick(void *arg)
{
	struct nvme *c = arg;
	uint64_t t, held;

	c->tick_id = 0;
	if (c->released || c->stopping || c->standby)
		return;
	t = nvme_now(c);
	if (ctrl_waiting(c) && t >= c->next_poll)
		ctrl_step(c);
	if (c->state == C_ADMIN || c->state == C_READY) {
		/* Polling, or an interrupt that did not come. */
		held = cpu_irq_save();
		irq_collect(c);
		cpu_irq_restore(held);
		irq_drain(c);
		if (c->watch_at && t >= c->watch_at) {
			c->watch_at = 0;
			ctrl_check_fatal(c);
		}
	}
	if (c->state == C_ADMIN || c->state == C_READY)
		admin_timeouts(c, t);
	if (c->state == C_READY) {
		io_timeouts(c, t);
		io_dispatch(c);
	}
	tick_rearm(c);
}

/* --- resources ------------------------------------------------------------ */

static void
say_notes(void *arg)
{
	struct nvme *c = arg;
	unsigned what = c->notes;

	c->notes = 0;
	if ((what & NOTE_TAKEOVER) && !c->released && !c->stopping)
		state_take_imported(c);
	if (what & NOTE_TAKEOVER)
		nlog(c, PB_LOG_INFO, "%s: took over %u namespace%s and %u "
		    "request%s%s; %s", c->name, c->nns, c->nns == 1 ? "" : "s",
		    c->note_reqs, c->note_reqs == 1 ? "" : "s",
		    c->have_import ? " with their Identify data" : "",
		    irq_name(c));
	tick_rearm(c);
}

/* Log lines of a swap's new side are said after its blackout. */
void
nvme_note(struct nvme *c, unsigned what)
{
	c->notes |= what;
	c->hub->work_post(c->self, &c->note_work);
}

void
nvme_post_done(struct nvme *c, struct block_req *r, int status)
{
	r->status = status;
	c->hub->work_post(c->self, &r->done);
}

/* The hub's resource list (res_info_sized when it has it). */
static int
res_at(const struct nvme *c, unsigned i, struct pb_res_info *info)
{
	int (*list)(const char *, unsigned, struct pb_res_info *) =
	    c->hub->size > offsetof(struct pb_hub, res_info_sized) &&
	    c->hub->res_info_sized ? c->hub->res_info_sized :
	    c->hub->res_info;

	*info = (struct pb_res_info){ .struct_size = sizeof(*info) };
	return list ? list(NULL, i, info) : PB_ENOENT;
}

/* Is a block resource named block:nvme<k>n... published by anyone? */
static int
prefix_taken(const struct nvme *c, unsigned k)
{
	struct pb_res_info info;
	char want[24];
	size_t n;

	n = (size_t)rt_snprintf(want, sizeof(want), "%s:nvme%un", BLOCK_IFACE,
	    k);
	for (unsigned i = 0; res_at(c, i, &info) == PB_OK; i++)
		if (info.name && strncmp(info.name, want, n) == 0)
			return 1;
	return 0;
}

/* The controller's name: nvme<K>, the first K no namespace uses. */
void
nvme_pick_name(struct nvme *c)
{
	unsigned k = 0;

	if (c->name[0])
		return;
	while (k < 99 && prefix_taken(c, k))
		k++;
	rt_snprintf(c->name, sizeof(c->name), "nvme%u", k);
}

struct nvme_ns *
nvme_ns_by_id(struct nvme *c, uint32_t nsid)
{
	for (unsigned i = 0; i < c->nns; i++)
		if (c->ns[i].g.nsid == nsid)
			return &c->ns[i];
	return NULL;
}

/* A namespace record for nsid (path and name set), or NULL when full. */
struct nvme_ns *
nvme_ns_add(struct nvme *c, uint32_t nsid)
{
	struct nvme_ns *ns;

	if (c->nns == NVME_MAX_NS)
		return NULL;
	ns = &c->ns[c->nns++];
	memset(ns, 0, sizeof(*ns));
	ns->c = c;
	ns->g.nsid = nsid;
	nvme_pick_name(c);
	rt_snprintf(ns->name, sizeof(ns->name), "%sn%u", c->name, nsid);
	rt_snprintf(ns->path, sizeof(ns->path), "%s/nvme:%u", c->pci->res,
	    nsid);
	return ns;
}

void
nvme_set_props(struct nvme_ns *ns)
{
	char props[256];

	if (!ns->res)
		return;
	ident_props(ns, &ns->c->id, props, sizeof(props));
	ns->c->hub->set_props(ns->c->self, ns->res, props);
}

/* Publish the namespace (or give its resource the full properties). */
int
nvme_publish(struct nvme_ns *ns)
{
	struct nvme *c = ns->c;
	char props[256];

	if (ns->res) {
		nvme_set_props(ns);
		return PB_OK;
	}
	ident_props(ns, &c->id, props, sizeof(props));
	ns->res = c->hub->publish(c->self, BLOCK_IFACE, ns->name, props,
	    &nvme_block_ops, ns);
	if (ns->res)
		return PB_OK;
	nlog(c, PB_LOG_ERR, "%s: block resource not published", ns->name);
	return PB_ENOMEM;
}

void
nvme_withdraw(struct nvme_ns *ns)
{
	if (ns->res)
		ns->c->hub->withdraw(ns->c->self, ns->res);
	ns->res = NULL;
}

/* --- the module ---------------------------------------------------------- */

static int
can_cancel(const struct pb_hub *hub)
{
	return hub && hub->size > offsetof(struct pb_hub, work_cancel);
}

/* Everything given back; the instance is free for a new start. */
static void
forget(struct nvme *c)
{
	const struct pb_hub *hub = c->hub;
	struct pb_module *self = c->self;

	for (unsigned i = 0; i < c->nns; i++)
		nvme_withdraw(&c->ns[i]);
	if (can_cancel(hub)) {
		hub->work_cancel(self, &c->work);
		hub->work_cancel(self, &c->note_work);
	}
	if (hub)
		ctrl_free(c);
	if (c->imported)
		hub->free(self, c->imported);
	if (c->held)
		hub->free(self, c->held);
	if (c->regs)
		hub->unmap_mmio(self, (void *)c->regs);
	memset(c, 0, sizeof(*c));
}

static int
nvme_start(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	struct nvme *c = nvme_of(self, 1);
	const char *why = NULL;
	int err;

	rt_use_hub(hub);
	if (!c)
		return PB_ENOMEM;
	c->hub = hub;
	if (pb_setting_off(hub, "nvme")) {
		nlog(c, PB_LOG_INFO, "off (boot.cfg nvme=no)");
		err = PB_ENODEV;
		goto out;
	}
	if (hub->size <= offsetof(struct pb_hub, work_cancel) ||
	    !hub->dma_alloc || !hub->dma_addr || !hub->work_post) {
		nlog(c, PB_LOG_INFO, "needs the hub's ABI 1.2 services "
		    "(dma_alloc, work_post): declined");
		err = PB_ENODEV;
		goto out;
	}
	if (!c->pci) {
		nlog(c, PB_LOG_ERR, "no PCI function bound");
		err = PB_ENODEV;
		goto out;
	}
	hub->work_init(self, &c->work, nvme_work, c);
	hub->work_init(self, &c->note_work, say_notes, c);
	if ((err = ctrl_attach(c, &why)) != PB_OK)
		goto fail;
	if ((err = ctrl_alloc(c)) != PB_OK) {
		why = "no memory for its queues";
		goto fail;
	}
	if (mode == PB_START_STANDBY) {
		c->standby = 1;
		state_standby_publish(c);
		return PB_OK;
	}
	if ((err = ctrl_enable_pci(c)) != PB_OK) {
		why = "memory decoding and bus mastering cannot be enabled";
		goto fail;
	}
	if ((err = ctrl_read_caps(c, &why)) != PB_OK)
		goto fail;
	nvme_pick_name(c);
	irq_setup(c);
	ctrl_begin(c, 0);
	return PB_OK;
fail:
	nlog(c, PB_LOG_ERR, "%s: %s", c->pci->res, why);
out:
	forget(c);
	return err;
}

/* The device shut down and quiet, every request ended, everything given
 * back.  After a swap (released) the device and the requests are the
 * next driver's. */
static void
nvme_stop(struct pb_module *self)
{
	struct nvme *c = nvme_of(self, 0);

	if (!c)
		return;
	c->stopping = 1;
	if (c->tick_id)
		c->hub->timer_cancel(c->self, c->tick_id);
	c->tick_id = 0;
	if (!c->released && !c->standby && c->regs && c->pci) {
		ctrl_shutdown(c);
		irq_teardown(c);
		PB_CALL(c->pci, pci_ops, enable, PCI_CMD_MASTER, 0);
	}
	if (c->released || c->standby)
		io_forget(c);
	else
		io_fail_all(c, PB_ECANCELED);
	c->nimported = 0;	/* not taken yet: the old side's (state.c) */
	forget(c);
}

static int
nvme_quiesce(struct pb_module *self)
{
	struct nvme *c = nvme_of(self, 0);

	if (!c)
		return PB_EINVAL;
	c->quiesced = 1;
	return state_quiesce(c);
}

static int
nvme_export(struct pb_module *self, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct nvme *c = nvme_of(self, 0);

	if (!c)
		return PB_EINVAL;
	*version = BLOCK_STATE_VERSION;
	return buf ? state_export(c, buf, cap, len) : state_size(c, len);
}

static int
nvme_release(struct pb_module *self)
{
	struct nvme *c = nvme_of(self, 0);

	return c ? state_release(c) : PB_EINVAL;
}

static int
nvme_import(struct pb_module *self, const void *buf, size_t len,
    uint32_t version)
{
	struct nvme *c = nvme_of(self, 0);

	return c ? state_import(c, buf, len, version) : PB_EINVAL;
}

static int
nvme_activate(struct pb_module *self)
{
	struct nvme *c = nvme_of(self, 0);

	return c ? state_activate(c) : PB_EINVAL;
}

static int
nvme_resume(struct pb_module *self)
{
	struct nvme *c = nvme_of(self, 0);

	return c ? state_resume(c) : PB_EINVAL;
}

/* The function went away under us: every request ends, nothing more
 * touches it.  (After a swap it went to the next driver: nothing to do.) */
static void
pci_gone(struct nvme *c)
{
	if (c->released) {
		c->pci = NULL;
		c->fn_handed = 1;
		return;
	}
	nlog(c, PB_LOG_WARN, "%s went away: its namespaces are withdrawn",
	    c->pci ? c->pci->res : "the PCI function");
	io_fail_all(c, PB_ECANCELED);
	for (unsigned i = 0; i < c->nns; i++)
		nvme_withdraw(&c->ns[i]);
	if (c->tick_id)
		c->hub->timer_cancel(c->self, c->tick_id);
	c->tick_id = 0;
	c->released = 1;
	c->state = C_DOWN;
	c->pci = NULL;
}

static void
nvme_event(struct pb_module *self, int ev, struct pb_conn *conn, int req)
{
	struct nvme *c = nvme_of(self, 1);
	int running;

	if (!c)
		return;
	if (ev == PB_EV_CLIENT_GONE) {	/* req is the client's */
		io_client_gone(c, conn);
		return;
	}
	running = c->hub && !c->standby && !c->released && !c->stopping &&
	    c->state != C_DOWN && c->state != C_DEAD;
	if (req == PB_REQ_BIND) {
		if (ev == PB_EV_CONNECTED)
			c->pci = conn;
		else if (ev == PB_EV_DISCONNECTED && conn == c->pci)
			pci_gone(c);
	} else if (req == REQ_IRQ) {
		if (ev == PB_EV_CONNECTED) {
			c->irqc = conn;
			if (running && c->irq == IRQ_POLL) {
				irq_setup(c);
				nlog(c, PB_LOG_INFO, "%s: %s", c->name,
				    irq_name(c));
			}
		} else if (ev == PB_EV_DISCONNECTED && conn == c->irqc) {
			c->irqc = NULL;
			if (running && c->irq != IRQ_POLL) {
				irq_teardown(c);
				c->irq_why = "the irq provider went";
				tick_rearm(c);
			}
		}
	}
}

static const struct pb_module_ops ops = {
	.start = nvme_start,		/* bring-up goes on after it */
	.stop = nvme_stop,		/* shutdown notified, requests end */
	.quiesce = nvme_quiesce,	/* PB_EAGAIN while commands are out */
	.export_state = nvme_export,	/* block_state + Identify data */
	.import_state = nvme_import,	/* checked, queued at activate */
	.release = nvme_release,	/* the controller left to the next */
	.activate = nvme_activate,	/* reset with our queues, re-issue */
	.resume = nvme_resume,		/* serving again, re-issued */
	.event = nvme_event,		/* the PCI function, the irq
					 * provider, clients going */
};

PB_MODULE(.name = "nvme", .version = "1.0",
    .desc = "NVMe namespaces on an NVM Express controller",
    .rank = 20, .flags = PB_MOD_HARDWARE, .ops = &ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(BLOCK_IFACE, BLOCK_MAJOR, BLOCK_MINOR) },
    .nrequires = 1,
    .requires = { [REQ_IRQ] = PB_REQUIRE(IRQ_IFACE, IRQ_MAJOR, 0,
	PB_CARD_OPTIONAL, PB_AT_START) },
    .nbinds = 1,
    .binds = { PB_BIND(PCI_IFACE, "class=01.08.02") });
