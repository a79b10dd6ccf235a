/*
 * state.c - the swap: what the old driver hands over and how the new one
 * takes the disks without resetting them.
 *
 * The state is abi/block.h's struct block_state (every disk by path, its
 * requests not completed, oldest first), followed by our own tail: each
 * disk's IDENTIFY results (struct ahci_disk), so the new driver neither
 * resets nor asks the device.  A block provider that knows only the
 * block_state part (efi-block) reads past nothing it needs; a state
 * without the tail (from efi-block) makes activate reset the HBA and
 * probe, with the handed-over requests waiting in their disks' queues.
 *
 * Exactly once (docs/abi.md, a block provider's swap entries): export
 * hands the listed requests over: the old driver keeps them aside (held),
 * neither serves nor completes them, and takes them all back at resume
 * (a failed swap).  The new driver takes them at activate, after its last
 * step that can fail, as if they had been submitted to it.  An import
 * while running (the takeover of a parked firmware disk, hub/park.c)
 * checks every request before taking any.
 *
 * The blackout (from the quiesce that answers PB_OK to the clients
 * rebound) holds only what cannot be done before or after it: quiesce
 * stops the lists and makes room for the requests export hands over;
 * release only turns the HBA's interrupt off (GHC.IE: every port's
 * source with it, §3.1.2) and leaves the MSI-X entry or MSI and its
 * vector to the new side, which the tail names (irq.c); activate writes each taken port's
 * registers once.  Every register access is a trap under emulation.
 */
#include "ahci.h"

#define AHCI_STATE_MAGIC 0x31494841u	/* "AHI1": the tail */

struct ahci_state_port {
	uint32_t port;
	uint32_t disk_size;		/* sizeof(struct ahci_disk) */
	struct ahci_disk disk;
};

struct ahci_state_tail {
	uint32_t magic;
	uint32_t nports;
	uint32_t port_size;		/* sizeof(struct ahci_state_port) */
	uint16_t vector;		/* the function's vector + 1, its
					 * message left programmed; 0: none
					 * (older builds) */
	uint16_t irq_kind;		/* PCI_IRQ_MSIX; 0: MSI (builds
					 * before MSI-X wrote 0 here) */
};
/* The tail passes between builds of the module: its layout is fixed. */
_Static_assert(sizeof(struct ahci_disk) == 112, "ahci_disk layout");
_Static_assert(sizeof(struct ahci_state_port) == 120, "state port layout");
_Static_assert(sizeof(struct ahci_state_tail) == 16, "state tail layout");

static int
implemented(const struct ahci *a, unsigned i)
{
	return (a->pi >> i) & 1u;
}

/* --- export ------------------------------------------------------------ */

/* Room for n requests in a->held (kept for the next swap): made when
 * quiesce answers PB_OK, so that export, inside the blackout, allocates
 * nothing. */
static int
held_reserve(struct ahci *a, uint32_t n)
{
	if (n <= a->held_cap)
		return PB_OK;
	if (a->held)
		a->hub->free(a->self, a->held);
	a->held_cap = 0;
	if (!(a->held = a->hub->alloc(a->self, n * sizeof(*a->held))))
		return PB_ENOMEM;
	a->held_cap = n;
	return PB_OK;
}

/* The port's requests not completed, oldest first: those in slots (an
 * export after a drain that ran out has some), then the queue. */
static unsigned
port_requests(const struct ahci_port *p, struct block_req **out)
{
	unsigned n = 0;

	for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++) {
		struct block_req *r = p->slot[s];
		unsigned k;

		if (!r || !(p->issued & (1u << s)))
			continue;
		for (k = n; k > 0 && (int32_t)(rq_of(out[k - 1])->seq -
		    rq_of(r)->seq) > 0; k--)
			out[k] = out[k - 1];
		out[k] = r;
		n++;
	}
	for (struct block_req *r = p->head; r; r = rq_of(r)->next)
		out[n++] = r;
	return n;
}

static void
count(const struct ahci *a, uint32_t *ndisks, uint32_t *nreq, uint32_t *nknown)
{
	*ndisks = *nreq = *nknown = 0;
	for (unsigned i = 0; i < a->nports; i++) {
		const struct ahci_port *p = &a->port[i];
		unsigned n = 0;

		if (!p->res)
			continue;
		(*ndisks)++;
		for (unsigned s = 0; s < AHCI_MAX_SLOTS; s++)
			n += p->slot[s] && (p->issued & (1u << s));
		*nreq += n + p->nqueued;
		*nknown += disk_known(p);
	}
}

static size_t
size_of_state(uint32_t ndisks, uint32_t nreq, uint32_t nknown)
{
	return rt_block_state_size(ndisks, nreq) +
	    sizeof(struct ahci_state_tail) +
	    nknown * sizeof(struct ahci_state_port);
}

int
state_size(struct ahci *a, size_t *len)
{
	uint32_t ndisks, nreq, nknown;

	count(a, &ndisks, &nreq, &nknown);
	*len = size_of_state(ndisks, nreq, nknown);
	return PB_OK;
}

int
state_export(struct ahci *a, void *buf, size_t cap, size_t *len)
{
	uint32_t ndisks, nreq, nknown, d = 0, first = 0, k = 0;
	struct block_state *st = buf;
	struct block_state_disk *disks;
	struct block_req **reqs;
	struct ahci_state_tail *tail;
	struct ahci_state_port *sp;

	count(a, &ndisks, &nreq, &nknown);
	*len = size_of_state(ndisks, nreq, nknown);
	if (cap < *len)
		return PB_EINVAL;
	memset(buf, 0, *len);
	if (held_reserve(a, nreq) != PB_OK)
		return PB_ENOMEM;
	*st = (struct block_state){ ndisks, nreq };
	disks = (struct block_state_disk *)(st + 1);
	reqs = rt_block_state_reqs(st);
	tail = (struct ahci_state_tail *)(void *)((uint8_t *)buf +
	    rt_block_state_size(ndisks, nreq));
	*tail = (struct ahci_state_tail){ AHCI_STATE_MAGIC, nknown,
	    sizeof(struct ahci_state_port),
	    a->irq_kind ? (uint16_t)(a->vector + 1) : 0,
	    a->irq_kind == PCI_IRQ_MSIX ? PCI_IRQ_MSIX : 0 };
	sp = (struct ahci_state_port *)(tail + 1);
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];
		unsigned n;

		if (!p->res)
			continue;
		n = port_requests(p, reqs + first);
		for (unsigned j = 0; j < n; j++)
			a->held[first + j] = (struct ahci_held){
			    reqs[first + j], i };
		rt_strlcpy(disks[d].path, p->path, BLOCK_PATH_MAX);
		disks[d].first = first;
		disks[d++].nreq = n;
		first += n;
		if (disk_known(p))
			sp[k++] = (struct ahci_state_port){ i,
			    sizeof(struct ahci_disk), p->disk };
		io_forget(p);		/* handed over */
	}
	a->nheld = nreq;
	return PB_OK;
}

/* --- quiesce, release, resume (the old side) ---------------------------- */

/* A probe in progress is dropped (the next driver probes again): only
 * a known disk's recovery or link change must run its (bounded) course. */
static int
probing(const struct ahci_port *p)
{
	return p->state >= PS_SETTLE && p->state < PS_READY &&
	    !(p->res && disk_known(p));
}

int
state_quiesce(struct ahci *a)
{
	uint32_t ndisks, nreq, nknown;
	int busy = 0;

	if (a->standby || a->released || a->hstate == HBA_DOWN)
		return PB_OK;
	if (a->hstate != HBA_UP)
		return PB_EAGAIN;	/* the reset is bounded: wait */
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];

		if (!implemented(a, i))
			continue;
		if (probing(p))
			port_abort_probe(p);
		else if (port_busy(p))
			busy = 1;
	}
	if (busy)
		return PB_EAGAIN;
	for (unsigned i = 0; i < a->nports; i++)
		if (implemented(a, i) && port_stop_step(&a->port[i]))
			busy = 1;
	if (busy)
		return PB_EAGAIN;
	a->lists_stopped = 1;
	count(a, &ndisks, &nreq, &nknown);
	held_reserve(a, nreq);		/* export checks it again */
	if (a->tick_id)			/* nothing under way: resume arms it */
		a->hub->timer_cancel(a->self, a->tick_id);
	a->tick_id = 0;
	return PB_OK;
}

int
state_release(struct ahci *a)
{
	if (a->standby) {
		a->released = 1;
		return PB_OK;
	}
	for (unsigned i = 0; i < a->nports && !a->lists_stopped; i++)
		if (implemented(a, i) && port_stop_now(&a->port[i]) != PB_OK)
			return PB_EBUSY;
	/* No port interrupts while the new side takes over; the MSI-X entry
	 * or MSI and its vector stay for it (export named the vector;
	 * resume takes them back). */
	hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) & ~GHC_IE);
	a->released = 1;
	return PB_OK;
}

/* What the last export handed over, ours again, first in its queues. */
static void
take_back_held(struct ahci *a)
{
	for (uint32_t k = a->nheld; k-- > 0; )
		io_queue_first(&a->port[a->held[k].port], a->held[k].r);
	a->nheld = 0;
}

/*
 * A port of ours again after a release.  The new side may have driven it
 * since (it faulted in its watch window and the hub gave the disks back
 * to us): its list may still run, from its command list, in memory that
 * is no longer its.  So the port is taken over whatever PxCMD says, and
 * commands the other side left in flight (PxCI, PxSACT: §3.3.13-14)
 * mean a device in a state we do not know: COMRESET.
 */
static void
resume_released_port(struct ahci_port *p, int commands_out)
{
	if (p->state == PS_EMPTY) {
		port_probe(p);		/* it stops the list first */
		return;
	}
	if (p->state != PS_READY || !p->res || !disk_known(p))
		return;
	if (commands_out)
		port_reclaim(p, "commands of the driver after us in flight at "
		    "the resume");
	else if (port_takeover(p) != PB_OK)
		port_reclaim(p, "its list does not stop at the resume");
}

/* Undo quiesce and release: our memory into the ports again, lists on,
 * the queues dispatched; dropped probes start again. */
int
state_resume(struct ahci *a)
{
	int released = a->released;
	uint32_t out = 0;		/* ports with the next driver's commands */

	a->quiesced = 0;
	a->lists_stopped = 0;
	if (a->standby)
		return PB_OK;
	take_back_held(a);
	if (released) {
		a->released = 0;
		/* The next driver's lists stop before bus mastering is on
		 * again (the pci provider turned it off as that driver went):
		 * until then they read and write its memory, freed with it.
		 * A list that does not stop is reclaimed below. */
		for (unsigned i = 0; i < a->nports; i++) {
			struct ahci_port *p = &a->port[i];

			if (!implemented(a, i) || p->state == PS_OFF)
				continue;
			if (px_rd(p, PX_CI) | px_rd(p, PX_SACT))
				out |= 1u << i;
			(void)port_stop_now(p);
		}
		hba_enable_pci(a);
		hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) | GHC_AE | GHC_IE);
		irq_setup(a);
	}
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];

		if (!implemented(a, i) || p->state == PS_OFF)
			continue;
		if (released)
			resume_released_port(p, (out >> i) & 1);
		else if (!(px_rd(p, PX_CMD) & PXCMD_ST)) {
			/* A list never stopped (the drain ran out) runs on. */
			if (p->state == PS_READY && p->res && disk_known(p)) {
				if (port_takeover(p) != PB_OK)
					port_recover(p, 1, "resume");
			} else if (p->state == PS_EMPTY) {
				port_probe(p);
			}
		}
		io_dispatch(p);
	}
	tick_arm(a, ahci_now(a) + T_POLL);	/* quiesce cancelled it */
	return PB_OK;
}

/* --- standby, import, activate (the new side) -------------------------- */

/* Room for n imported requests in a->imported (kept for the next swap):
 * made at the standby start for what the disks' command slots hold, so
 * that import, inside the blackout, allocates only for a longer queue. */
static int
imported_reserve(struct ahci *a, uint32_t n)
{
	if (n <= a->imported_cap)
		return PB_OK;
	if (a->imported)
		a->hub->free(a->self, a->imported);
	a->imported_cap = 0;
	if (!(a->imported = a->hub->alloc(a->self, n * sizeof(*a->imported))))
		return PB_ENOMEM;
	a->imported_cap = n;
	return PB_OK;
}

/* Every port whose registers show a disk the driver before us serves,
 * published by path for the swap's pairing; nothing is written. */
void
state_standby_publish(struct ahci *a)
{
	uint32_t cmd = 0;
	unsigned n = 0;

	if (PB_CALL(a->pci, pci_ops, cfg_read, PCI_COMMAND, 2, &cmd) != PB_OK ||
	    !(cmd & PCI_CMD_MEM)) {
		alog(a, PB_LOG_INFO, "standby: memory decoding is off: no "
		    "disks to take over");
		return;
	}
	/* The driver before us leaves them on through release. */
	a->pci_on = (cmd & PCI_CMD_MASTER) != 0;
	if (hba_read_caps(a) != PB_OK) {
		alog(a, PB_LOG_WARN, "standby: the registers read all ones");
		return;
	}
	for (unsigned i = 0; i < a->nports; i++) {
		struct ahci_port *p = &a->port[i];
		uint32_t sig;

		if (!implemented(a, i) || !port_link_up(p))
			continue;
		sig = px_rd(p, PX_SIG);
		if ((sig != SIG_ATA && sig != SIG_ATAPI) || port_alloc(p) !=
		    PB_OK || port_alloc_tables(p) != PB_OK)
			continue;
		p->state = PS_STANDBY;
		if (ahci_publish(p) == PB_OK)
			n++;
	}
	imported_reserve(a, n * a->nslots);	/* import checks it again */
	alog(a, PB_LOG_INFO, "standby: %u disk%s on %s ready to take over", n,
	    n == 1 ? "" : "s", a->pci->res);
}

static struct ahci_port *
port_by_path(struct ahci *a, const char *path)
{
	for (unsigned i = 0; i < a->nports; i++)
		if (a->port[i].res && strcmp(a->port[i].path, path) == 0)
			return &a->port[i];
	return NULL;
}

/* The tail's IDENTIFY results, each checked against the port as it is. */
static void
import_tail(struct ahci *a, const uint8_t *at, size_t left)
{
	const struct ahci_state_tail *t = (const void *)at;
	const struct ahci_state_port *sp;

	if (left < sizeof(*t) || t->magic != AHCI_STATE_MAGIC ||
	    t->port_size != sizeof(*sp) || t->nports > AHCI_MAX_PORTS ||
	    left - sizeof(*t) < t->nports * sizeof(*sp))
		return;
	a->have_import = 1;
	/* vector + 1 of the old side's message, 0 none: a blob's word, so
	 * anything beyond a vector number is none (irq_register checks
	 * the vector itself, irq_adopt the kind). */
	a->adopt_vector = t->vector >= 1 && t->vector <= 256 ?
	    (int)t->vector - 1 : -1;
	a->adopt_kind = t->irq_kind == 0 ? PCI_IRQ_MSI : t->irq_kind;
	sp = (const struct ahci_state_port *)(t + 1);
	for (uint32_t k = 0; k < t->nports; k++) {
		const struct ahci_disk *d = &sp[k].disk;
		struct ahci_port *p;
		uint32_t sig;

		if (sp[k].port >= a->nports ||
		    sp[k].disk_size != sizeof(*d))
			continue;
		p = &a->port[sp[k].port];
		sig = px_rd(p, PX_SIG);
		if (p->state != PS_STANDBY || !disk_sane(d, a->nslots) ||
		    sig != (d->kind == DISK_ATA ? SIG_ATA : SIG_ATAPI)) {
			alog(a, PB_LOG_WARN, "port %u: the handed-over disk "
			    "does not match the port: probing it", p->no);
			continue;
		}
		p->disk = *d;
		p->props_stale = 1;	/* after the blackout (irq.c) */
	}
}

/* One disk of a block state (rt_block_state_walk): one of our published
 * ports, every request whole (and, while running, one the port can run),
 * into a->imported (request and port). */
static int
import_disk(void *ctx, const struct block_state_disk *disk,
    struct block_req *const *reqs)
{
	struct ahci *a = ctx;
	struct ahci_port *p = port_by_path(a, disk->path);

	if (!p || (!a->standby && (p->state != PS_READY || !disk_known(p)))) {
		alog(a, PB_LOG_WARN, "refusing the block state: disk %.64s is "
		    "not one of ours", disk->path);
		return PB_ESTATE;
	}
	for (uint32_t k = 0; k < disk->nreq; k++) {
		struct block_req *r = reqs[k];

		if (!r || r->size < sizeof(*r) ||
		    (!a->standby && io_check(p, r) != PB_OK)) {
			alog(a, PB_LOG_WARN, "refusing the block state: request "
			    "%u of %s is not one it can run", k, p->path);
			return PB_ESTATE;
		}
		a->imported[a->nimported++] = (struct ahci_held){ r, p->no };
	}
	return PB_OK;
}

/* The requests of a block_state, checked, into a->imported.  PB_ESTATE
 * having kept nothing (the caller drops what was taken). */
static int
import_requests(struct ahci *a, const struct block_state *st, size_t len)
{
	if (len < sizeof(*st) ||
	    len < rt_block_state_size(st->ndisks, st->nreq))
		return PB_ESTATE;		/* before it sizes anything */
	if (imported_reserve(a, st->nreq) != PB_OK)
		return PB_ENOMEM;
	a->nimported = 0;
	return rt_block_state_walk(st, len, AHCI_MAX_PORTS, import_disk, a);
}

/* The imported requests are forgotten; their room stays (stop frees it). */
static void
drop_imported(struct ahci *a)
{
	a->nimported = 0;
}

/* Is r one the last export handed over (the hub gives it back)? */
static int
handed_over(struct ahci *a, const struct block_req *r)
{
	for (uint32_t k = 0; k < a->nheld; k++)
		if (a->held[k].r == r) {
			a->held[k] = a->held[--a->nheld];
			return 1;
		}
	return 0;
}

/* A running import (the takeover of a parked disk): the requests are
 * ours from now on, as if submitted; those we handed over ourselves go
 * first in their queues again (docs/abi.md). */
static void
take_imported(struct ahci *a)
{
	for (uint32_t k = a->nimported; k-- > 0; ) {
		struct ahci_held *h = &a->imported[k];

		if (handed_over(a, h->r)) {
			io_queue_first(&a->port[h->port], h->r);
			rq_of(h->r)->checked = 1;
			h->r = NULL;
		}
	}
	for (uint32_t k = 0; k < a->nimported; k++)
		if (a->imported[k].r)
			io_take(&a->port[a->imported[k].port], a->imported[k].r);
	for (unsigned i = 0; i < a->nports; i++)
		if (a->port[i].head)
			a->hub->work_post(a->self, &a->port[i].work);
	if (a->nimported)
		alog(a, PB_LOG_INFO, "took %u handed-over request%s",
		    a->nimported, a->nimported == 1 ? "" : "s");
	drop_imported(a);
}

int
state_import(struct ahci *a, const void *buf, size_t len, uint32_t version)
{
	const struct block_state *st = buf;
	size_t base;
	int err;

	drop_imported(a);
	if (a->standby) {
		a->have_import = 0;
		a->adopt_vector = -1;
	}
	if (!buf || !len)
		return PB_OK;		/* nothing handed over */
	if (version != BLOCK_STATE_VERSION) {
		alog(a, PB_LOG_WARN, "refusing a state of version 0x%x",
		    version);
		return PB_ESTATE;
	}
	if ((err = import_requests(a, buf, len)) != PB_OK) {
		drop_imported(a);
		return err;
	}
	if (!a->standby) {
		take_imported(a);
		return PB_OK;
	}
	base = rt_block_state_size(st->ndisks, st->nreq);
	import_tail(a, (const uint8_t *)buf + base, len - base);
	return PB_OK;
}

/* A failed activate: the lists we started stop again, the old driver
 * resumes on its own memory. */
static void
activate_undo(struct ahci *a)
{
	for (unsigned i = 0; i < a->nports; i++)
		if (a->port[i].state == PS_READY) {
			port_stop_now(&a->port[i]);
			a->port[i].state = PS_STANDBY;
		}
	irq_teardown(a);
	a->standby = 1;
}

/*
 * Take the hardware.  With the old driver's IDENTIFY results, each of its
 * disks is taken as it runs (port_takeover) and the other ports probe;
 * without them the HBA is reset and every port probes.  The requests are
 * ours from the end on (nothing below can fail).
 */
int
state_activate(struct ahci *a)
{
	unsigned taken = 0;
	int err;

	if (!a->standby)
		return PB_EINVAL;
	if (!(a->have_import && a->pci_on) &&
	    (err = hba_enable_pci(a)) != PB_OK)
		return err;
	if (hba_rd(a, HBA_CAP) == 0xffffffffu) {
		alog(a, PB_LOG_ERR, "%s: the registers read all ones",
		    a->pci->res);
		return PB_ENODEV;
	}
	a->standby = 0;
	if (!a->have_import || irq_adopt(a, a->adopt_vector,
	    a->adopt_kind) != PB_OK)
		irq_setup(a);
	if (a->have_import) {
		for (unsigned i = 0; i < a->nports; i++) {
			struct ahci_port *p = &a->port[i];

			if (p->state != PS_STANDBY || !disk_known(p))
				continue;
			if ((err = port_takeover(p)) != PB_OK) {
				activate_undo(a);
				return err;
			}
			taken++;
		}
		a->hstate = HBA_UP;
		hba_wr(a, HBA_GHC, hba_rd(a, HBA_GHC) | GHC_AE | GHC_IE);
		for (unsigned i = 0; i < a->nports; i++)
			if (implemented(a, i) && a->port[i].state != PS_READY)
				a->look_later |= 1u << i;
	} else {
		ahci_log_caps(a);
		hba_begin(a);
	}
	for (uint32_t k = 0; k < a->nimported; k++)
		io_queue(&a->port[a->imported[k].port], a->imported[k].r);
	a->note_disks = taken;
	a->note_reqs = a->nimported;
	drop_imported(a);
	/* Right after the blackout, the note's work looks at the other
	 * ports, arms the step timer and posts the ports' work, which
	 * dispatches their requests and gives them their properties: one
	 * hub call here. */
	ahci_note(a, NOTE_TAKEOVER);
	return PB_OK;
}
