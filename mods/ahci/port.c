/*
 * port.c - one port's life: probe, recovery, hot plug, hand-over.
 *
 * A probe (AHCI 1.3.1 §10.1.2, §10.3.1, §10.4.2) and a recovery (§6.2.2)
 * are the same steps, each a register condition with a deadline:
 *   STOP      clear PxCMD.ST, wait for CR=0 (500 ms)
 *   FRE_OFF   probe: clear FRE, wait for FR=0 (500 ms), program PxCLB and
 *             PxFB, clear PxSERR and PxIS, set FRE (and SUD with CAP.SSS)
 *   COMRESET  PxSCTL.DET=1 held 1 ms, then 0 (probe, or recovery when the
 *             device stays busy or went silent)
 *   LINK      wait for PxSSTS.DET=3 (1 s): none means no device
 *   BUSY      wait for PxTFD.BSY and DRQ to clear (10 s), PxSIG to tell
 *   then      clear PxIS, set PxIE, set ST, and
 *             probe: IDENTIFY (PACKET) DEVICE and, for ATAPI, READ
 *             CAPACITY in slot 0, then publish; recovery: serve again.
 * port_step runs the steps that can run now and leaves next_poll and
 * deadline for the controller's timer (ahci.c).  A failed internal
 * command repeats from STOP (an ATAPI device reports UNIT ATTENTION
 * once after a reset), at most AHCI_TRIES times.
 *
 * A link change (PxIS.PCS/PRCS: hot plug) that the steps did not cause
 * lets the link settle 50 ms, then probes a new device, recovers a
 * present one, or withdraws a gone one with its requests failed as
 * PB_ECANCELED.  A port whose link changes AHCI_FLAPS times in 10 s is
 * declined for good.
 */
#include "ahci.h"

enum step { STEP_WAIT, STEP_NEXT };

static uint64_t
now(const struct ahci_port *p)
{
	return ahci_now(p->a);
}

int
port_link_up(const struct ahci_port *p)
{
	return (px_rd(p, PX_SSTS) & SSTS_DET_MASK) == SSTS_DET_PHY;
}

/* PxCMD without the ICC field, which must not be written back (§3.3.7). */
static uint32_t
cmd_rd(const struct ahci_port *p)
{
	return px_rd(p, PX_CMD) & ~PXCMD_ICC_MASK;
}

static void
wait_in(struct ahci_port *p, enum port_state s, uint64_t limit)
{
	uint64_t t = now(p);

	p->state = s;
	p->step_t0 = t;
	p->deadline = t + limit;
	p->next_poll = t + T_POLL;
}

/* When a waiting step looks again: every millisecond at first (QEMU
 * and most devices answer at once), every 10 ms after 20 ms (a spin-up,
 * an empty port's link that never comes). */
static uint64_t
poll_again(const struct ahci_port *p, uint64_t t)
{
	return t + (t - p->step_t0 < T_POLL_FAST ? T_POLL : T_POLL_SLOW);
}

/* --- memory ----------------------------------------------------------- */

/* The command list, received FIS and IDENTIFY buffer: every probed port
 * has them (the engine needs PxCLB and PxFB to look for a device). */
int
port_alloc(struct ahci_port *p)
{
	struct ahci *a = p->a;

	if (p->mem)
		return PB_OK;
	p->mem = a->hub->dma_alloc(a->self, MEM_SIZE, CMD_LIST_ALIGN, 0,
	    a->dma_limit, &p->mem_bus);
	if (p->mem && !(p->mem_bus & (CMD_LIST_ALIGN - 1)))
		return PB_OK;
	alog(a, PB_LOG_ERR, "port %u: no DMA memory for its command list",
	    p->no);
	port_free(p);
	return PB_ENOMEM;
}

/* The command tables (AHCI_TABLE_SIZE per slot, 32 KiB for 32 slots):
 * only a port with a device gets them, before its first command. */
int
port_alloc_tables(struct ahci_port *p)
{
	struct ahci *a = p->a;

	if (p->tables)
		return PB_OK;
	p->tables = a->hub->dma_alloc(a->self, (size_t)a->nslots *
	    AHCI_TABLE_SIZE, CMD_TABLE_ALIGN, 0, a->dma_limit, &p->tables_bus);
	if (p->tables && !(p->tables_bus & (CMD_TABLE_ALIGN - 1)))
		return PB_OK;
	alog(a, PB_LOG_ERR, "port %u: no DMA memory for its command tables",
	    p->no);
	if (p->tables)
		a->hub->dma_free(a->self, p->tables);
	p->tables = NULL;
	p->tables_bus = 0;
	return PB_ENOMEM;
}

void
port_free(struct ahci_port *p)
{
	struct ahci *a = p->a;

	if (p->mem)
		a->hub->dma_free(a->self, p->mem);
	if (p->tables)
		a->hub->dma_free(a->self, p->tables);
	p->mem = p->tables = NULL;
	p->mem_bus = p->tables_bus = 0;
}

static void
program_memory(struct ahci_port *p)
{
	uint64_t fb = p->mem_bus + MEM_RFIS;

	memset(p->mem, 0, MEM_SIZE);
	px_wr(p, PX_CLB, (uint32_t)(p->mem_bus + MEM_CL));
	px_wr(p, PX_CLBU, (uint32_t)((p->mem_bus + MEM_CL) >> 32));
	px_wr(p, PX_FB, (uint32_t)fb);
	px_wr(p, PX_FBU, (uint32_t)(fb >> 32));
}

/* FIS receive on (with spin-up and power-on where the HBA has them). */
static void
fis_receive_on(struct ahci_port *p)
{
	uint32_t on = PXCMD_FRE;

	if (p->a->cap & CAP_SSS)
		on |= PXCMD_SUD | PXCMD_POD;
	px_wr(p, PX_CMD, cmd_rd(p) | on);
}

/* --- the steps ---------------------------------------------------------- */

static void
comreset_begin(struct ahci_port *p)
{
	px_wr(p, PX_SCTL, SCTL_IPM_NONE | SCTL_DET_COMRESET);
	p->state = PS_COMRESET;
	p->next_poll = now(p) + T_COMRESET;
	p->deadline = p->next_poll;
}

static void
publish_disk(struct ahci_port *p)
{
	const struct ahci_disk *d = &p->disk;
	struct ahci *a = p->a;

	if (ahci_publish(p) != PB_OK)
		return;
	alog(a, PB_LOG_INFO, "port %u: %s %s, %llu x %u bytes (%llu MiB)%s%s, "
	    "%s as block:%s", p->no, d->kind == DISK_ATAPI ? "ATAPI" : "ATA",
	    d->model, (unsigned long long)d->block_count, d->block_size,
	    (unsigned long long)(d->block_count * d->block_size >> 20),
	    d->ncq_depth ? ", NCQ" : "", d->flags & BLOCK_RO ?
	    ", read-only" : "", p->path, p->name);
}

/* Nothing to serve: the list stopped, only a link change wakes us.
 * When the engines stop at once (CR and FR clear: a port that never ran,
 * or QEMU), nothing writes the port's memory any more (§10.1.2), so the
 * command list, FIS area and tables go back until a device comes
 * (port_probe takes them again; the link change needs neither). */
static void
go_empty(struct ahci_port *p)
{
	px_wr(p, PX_SCTL, SCTL_IPM_NONE);
	px_wr(p, PX_IE, PXIS_LINK);	/* a new device may come */
	if (!port_stop_step(p))
		port_free(p);
	p->state = PS_EMPTY;
	p->next_poll = p->deadline = 0;
	memset(&p->disk, 0, sizeof(p->disk));
}

/* The disk went: its requests fail as cancelled, its resource goes. */
static void
disk_gone(struct ahci_port *p)
{
	if (p->res)
		alog(p->a, PB_LOG_INFO, "port %u: disk gone: block:%s "
		    "withdrawn", p->no, p->name);
	io_fail_all(p, PB_ECANCELED);
	ahci_withdraw(p);
	go_empty(p);
}

/* Give up on the device: its requests fail, its resource goes. */
static void
decline(struct ahci_port *p, const char *why)
{
	alog(p->a, PB_LOG_WARN, "port %u: declined: %s", p->no, why);
	io_fail_all(p, PB_EIO);
	ahci_withdraw(p);
	go_empty(p);
}

/* An ATAPI drive that stays NOT READY holds no disc (or one it cannot
 * read): nothing to publish, and nothing wrong. */
static void
no_medium(struct ahci_port *p)
{
	alog(p->a, PB_LOG_INFO, "port %u: ATAPI drive with no medium", p->no);
	io_fail_all(p, PB_EMEDIA);
	ahci_withdraw(p);
	go_empty(p);
}

static void
issue_internal(struct ahci_port *p)
{
	static const uint8_t read_capacity[ATAPI_CDB_LEN] = {
		SCSI_READ_CAPACITY10 };

	p->internal = 1u;
	if (p->recovering == AFTER_CAPACITY) {
		cmd_build_internal(p, 0, ATA_PACKET, read_capacity, 8);
		wait_in(p, PS_CAPACITY, T_IDENTIFY);
	} else {
		cmd_build_internal(p, 0, p->disk.kind == DISK_ATAPI ?
		    ATA_IDENTIFY_PACKET : ATA_IDENTIFY, NULL, 512);
		wait_in(p, PS_IDENTIFY, T_IDENTIFY);
	}
	p->next_poll = 0;	/* the interrupt or the deadline */
	cmd_issue(p, 0, 0);
}

/* Which device PxSIG names, for the probe: PB_ENOTSUP for none we
 * drive (a port multiplier, an enclosure processor). */
static int
signature(struct ahci_port *p, uint32_t sig)
{
	uint32_t cmd = cmd_rd(p);

	switch (sig) {
	case SIG_ATA:
		p->disk.kind = DISK_ATA;
		px_wr(p, PX_CMD, cmd & ~PXCMD_ATAPI);
		return PB_OK;
	case SIG_ATAPI:
		p->disk.kind = DISK_ATAPI;
		px_wr(p, PX_CMD, cmd | PXCMD_ATAPI);
		return PB_OK;
	default:
		return PB_ENOTSUP;
	}
}

/* BSY and DRQ clear: run the command list again (§10.3.1). */
static void
engine_start(struct ahci_port *p)
{
	if (port_alloc_tables(p) != PB_OK) {
		decline(p, "no DMA memory for its command tables");
		return;
	}
	px_wr(p, PX_SERR, SERR_ALL);
	px_wr(p, PX_IS, 0xffffffffu);
	px_wr(p, PX_IE, PXIE_WANTED);
	px_wr(p, PX_CMD, cmd_rd(p) | PXCMD_ST);
	if (p->recovering == AFTER_READY) {
		p->state = PS_READY;
		p->next_poll = 0;
		io_dispatch(p);
		return;
	}
	issue_internal(p);
}

static enum step
step_stop(struct ahci_port *p, uint32_t cmd)
{
	if (cmd & PXCMD_CR)
		return STEP_WAIT;
	if (p->restart == RESTART_FULL) {
		px_wr(p, PX_CMD, cmd & ~PXCMD_FRE);
		wait_in(p, PS_FRE_OFF, T_STOP);
	} else if (p->restart == RESTART_COMRESET ||
	    (px_rd(p, PX_TFD) & (TFD_BSY | TFD_DRQ))) {
		comreset_begin(p);
	} else {
		px_wr(p, PX_SERR, SERR_ALL);
		wait_in(p, PS_BUSY, T_BUSY);
	}
	return STEP_NEXT;
}

static enum step
step_fre_off(struct ahci_port *p, uint32_t cmd)
{
	if (cmd & PXCMD_FR)
		return STEP_WAIT;
	program_memory(p);
	px_wr(p, PX_SERR, SERR_ALL);
	px_wr(p, PX_IS, 0xffffffffu);
	fis_receive_on(p);
	comreset_begin(p);
	return STEP_NEXT;
}

/* A port that shows no device at all (DET=0, not even presence) for
 * T_NO_DEVICE is empty: it gives its memory back then (go_empty), not
 * after the whole T_LINK a present device gets to bring its link up. */
static enum step
step_link(struct ahci_port *p)
{
	if (!port_link_up(p)) {
		if ((px_rd(p, PX_SSTS) & SSTS_DET_MASK) == SSTS_DET_NONE &&
		    now(p) - p->step_t0 >= T_NO_DEVICE)
			disk_gone(p);
		return STEP_WAIT;
	}
	px_wr(p, PX_SERR, SERR_ALL);	/* the reset's own PCS/PRCS */
	wait_in(p, PS_BUSY, T_BUSY);
	return STEP_NEXT;
}

static enum step
step_busy(struct ahci_port *p)
{
	uint32_t sig = px_rd(p, PX_SIG);
	char why[64];

	if (px_rd(p, PX_TFD) & (TFD_BSY | TFD_DRQ))
		return STEP_WAIT;
	if (p->recovering == AFTER_IDENTIFY && sig == 0xffffffffu)
		return STEP_WAIT;	/* the device's first FIS is to come */
	if (p->recovering == AFTER_IDENTIFY && p->probe_tries == 0 &&
	    signature(p, sig) != PB_OK) {
		rt_snprintf(why, sizeof(why), "signature 0x%08x is no disk",
		    sig);
		decline(p, why);
		return STEP_WAIT;
	}
	engine_start(p);
	return STEP_NEXT;
}

/* A step's deadline passed: the register it waited on, and what now. */
static void
step_expired(struct ahci_port *p)
{
	char why[96];

	switch (p->state) {
	case PS_STOP:
	case PS_FRE_OFF:
		rt_snprintf(why, sizeof(why), "PxCMD.%s stayed set (PxCMD "
		    "0x%08x)", p->state == PS_STOP ? "CR" : "FR",
		    px_rd(p, PX_CMD));
		decline(p, why);
		break;
	case PS_LINK:
		if ((px_rd(p, PX_SSTS) & SSTS_DET_MASK) == SSTS_DET_PRESENT)
			alog(p->a, PB_LOG_WARN, "port %u: a device, but no "
			    "link after COMRESET (PxSSTS 0x%08x)", p->no,
			    px_rd(p, PX_SSTS));
		disk_gone(p);	/* or none was there */
		break;
	case PS_BUSY:
		rt_snprintf(why, sizeof(why), "BSY/DRQ never cleared (PxTFD "
		    "0x%08x, PxSIG 0x%08x)", px_rd(p, PX_TFD),
		    px_rd(p, PX_SIG));
		decline(p, why);
		break;
	case PS_IDENTIFY:
	case PS_CAPACITY:
		alog(p->a, PB_LOG_WARN, "port %u: %s timed out (PxCI 0x%08x "
		    "PxTFD 0x%08x)", p->no, p->state == PS_IDENTIFY ?
		    "IDENTIFY" : "READ CAPACITY", px_rd(p, PX_CI),
		    px_rd(p, PX_TFD));
		port_internal_done(p, PB_ETIMEDOUT);
		break;
	default:
		go_empty(p);
		break;
	}
}

static enum step
step_settle(struct ahci_port *p)
{
	if (now(p) < p->next_poll)
		return STEP_WAIT;
	if (port_link_up(p)) {
		if (p->res && p->disk.kind != DISK_NONE)
			port_recover(p, 1, "link changed");
		else
			port_probe(p);
		return STEP_NEXT;
	}
	disk_gone(p);
	return STEP_WAIT;
}

static enum step
step_once(struct ahci_port *p)
{
	uint32_t cmd = cmd_rd(p);
	enum step s;

	switch (p->state) {
	case PS_STOP:
		s = step_stop(p, cmd);
		break;
	case PS_FRE_OFF:
		s = step_fre_off(p, cmd);
		break;
	case PS_COMRESET:
		if (now(p) < p->next_poll)
			return STEP_WAIT;
		px_wr(p, PX_SCTL, SCTL_IPM_NONE);
		wait_in(p, PS_LINK, T_LINK);
		return STEP_NEXT;
	case PS_LINK:
		s = step_link(p);
		break;
	case PS_BUSY:
		s = step_busy(p);
		break;
	case PS_SETTLE:
		return step_settle(p);
	default:	/* IDENTIFY, CAPACITY: the command ends it */
		s = STEP_WAIT;
		break;
	}
	if (s == STEP_WAIT && p->deadline && now(p) >= p->deadline) {
		step_expired(p);
		return STEP_NEXT;
	}
	return s;
}

/* Run what can run now; the timer brings us back for the rest. */
void
port_step(struct ahci_port *p)
{
	uint64_t t;

	for (unsigned guard = 0; guard < 16; guard++)
		if (step_once(p) != STEP_NEXT)
			break;
	if (p->next_poll && p->next_poll <= (t = now(p)))
		p->next_poll = poll_again(p, t);
	if (p->next_poll)
		tick_arm(p->a, p->next_poll);
	else if (p->deadline && (p->state == PS_IDENTIFY ||
	    p->state == PS_CAPACITY))
		tick_arm(p->a, p->deadline);
}

/* --- entry points ----------------------------------------------------- */

static void
stop_begin(struct ahci_port *p, int after, int restart)
{
	p->recovering = after;
	p->restart = restart;
	px_wr(p, PX_CMD, cmd_rd(p) & ~PXCMD_ST);
	wait_in(p, PS_STOP, T_STOP);
	port_step(p);
}

/* Probe from the start: memory, COMRESET, signature, IDENTIFY. */
void
port_probe(struct ahci_port *p)
{
	if (port_alloc(p) != PB_OK) {
		p->state = PS_OFF;
		return;
	}
	p->probe_tries = 0;
	p->internal = 0;
	p->issued &= ~1u;
	if (!p->res)
		memset(&p->disk, 0, sizeof(p->disk));
	stop_begin(p, AFTER_IDENTIFY, RESTART_FULL);
}

/* Stop the list, reset the device if asked (or if it stays busy),
 * start again and re-issue what was in flight (§6.2.2). */
void
port_recover(struct ahci_port *p, int reset_link, const char *why)
{
	alog(p->a, PB_LOG_WARN, "port %u: %s: resetting the port%s", p->no,
	    why, reset_link ? " with COMRESET" : "");
	io_requeue_issued(p);
	stop_begin(p, AFTER_READY, reset_link ? RESTART_COMRESET :
	    RESTART_PLAIN);
}

/* The port as another driver left it, its list maybe still reading that
 * driver's memory: stopped, FIS receive off, our memory in, COMRESET and
 * on again (§10.1.2), then what was queued goes out. */
void
port_reclaim(struct ahci_port *p, const char *why)
{
	alog(p->a, PB_LOG_WARN, "port %u: %s: taking it back with COMRESET",
	    p->no, why);
	io_requeue_issued(p);
	stop_begin(p, AFTER_READY, RESTART_FULL);
}

/* Slot 0's IDENTIFY or READ CAPACITY ended (err: how). */
void
port_internal_done(struct ahci_port *p, int err)
{
	const uint16_t *id = (const uint16_t *)(const void *)(p->mem +
	    MEM_IBUF);
	const char *why = NULL;
	int capacity = p->state == PS_CAPACITY;

	p->internal = 0;
	p->issued &= ~1u;
	if (err != PB_OK) {
		if (++p->probe_tries >= AHCI_TRIES && err == PB_EMEDIA) {
			no_medium(p);
			return;
		}
		if (p->probe_tries >= AHCI_TRIES) {
			decline(p, capacity ? "READ CAPACITY keeps failing" :
			    "IDENTIFY keeps failing");
			return;
		}
		stop_begin(p, capacity ? AFTER_CAPACITY : AFTER_IDENTIFY,
		    err == PB_ETIMEDOUT ? RESTART_COMRESET : RESTART_PLAIN);
		return;
	}
	mmio_rmb();
	if (capacity)
		err = ident_capacity(p->mem + MEM_IBUF, &p->disk, &why);
	else if (p->disk.kind == DISK_ATAPI)
		err = ident_atapi(id, &p->disk, &why);
	else
		err = ident_ata(id, p->a->cap, p->a->nslots, &p->disk, &why);
	if (err != PB_OK) {
		decline(p, why);
		return;
	}
	if (why)
		alog(p->a, PB_LOG_WARN, "port %u: %s", p->no, why);
	if (p->disk.kind == DISK_ATAPI && !capacity) {
		p->probe_tries = 0;
		p->recovering = AFTER_CAPACITY;
		issue_internal(p);
		return;
	}
	p->state = PS_READY;
	p->next_poll = p->deadline = 0;
	publish_disk(p);
	io_dispatch(p);
}

/* PxIS.PCS/PRCS/CPDS: a device came, went or the link bounced. */
void
port_link_event(struct ahci_port *p)
{
	uint64_t t = now(p);

	switch (p->state) {
	case PS_OFF:
	case PS_STOP:
	case PS_FRE_OFF:
	case PS_COMRESET:
	case PS_LINK:
	case PS_BUSY:
		return;		/* our own reset, or a port left alone */
	default:
		break;
	}
	if (!p->flap_t0 || t - p->flap_t0 > AHCI_FLAP_NS) {
		p->flap_t0 = t;
		p->flaps = 0;
	}
	if (++p->flaps >= AHCI_FLAPS) {
		alog(p->a, PB_LOG_WARN, "port %u: declined: the link changed "
		    "%u times in %llu s (PxSSTS 0x%08x)", p->no, p->flaps,
		    (unsigned long long)(AHCI_FLAP_NS / 1000000000ull),
		    px_rd(p, PX_SSTS));
		io_fail_all(p, PB_ECANCELED);
		ahci_withdraw(p);
		px_wr(p, PX_IE, 0);
		px_wr(p, PX_CMD, cmd_rd(p) & ~PXCMD_ST);
		p->state = PS_OFF;
		p->next_poll = 0;
		return;
	}
	p->state = PS_SETTLE;
	p->next_poll = t + T_SETTLE;
	p->deadline = 0;
	tick_arm(p->a, p->next_poll);
}

/* Look at the port's link T_POLL after t (from the timer, which the
 * caller arms): probe a device that is there.  After a swap's blackout
 * (ahci.c after_takeover), which stays short this way. */
void
port_look_later(struct ahci_port *p, uint64_t t)
{
	p->state = PS_SETTLE;
	p->next_poll = t + T_POLL;
	p->deadline = 0;
}

/* A busy port: steps or commands under way (quiesce waits for them). */
int
port_busy(const struct ahci_port *p)
{
	return p->issued || (p->state >= PS_SETTLE && p->state < PS_READY);
}

/* When the port's steps want the timer. */
uint64_t
port_next(const struct ahci_port *p)
{
	if (p->next_poll)
		return p->next_poll;
	if (p->deadline && (p->state == PS_IDENTIFY || p->state == PS_CAPACITY))
		return p->deadline;
	return 0;
}

static int
spin_clear(struct ahci_port *p, uint32_t bit)
{
	uint64_t end = now(p) + T_SPIN_NS;

	while (cmd_rd(p) & bit)
		if (now(p) > end)
			return PB_ETIMEDOUT;
	return PB_OK;
}

/* ST and FRE off, waiting at most microseconds for CR and FR: for stop
 * and release, which cannot wait on the timer. */
int
port_stop_now(struct ahci_port *p)
{
	uint32_t cmd = cmd_rd(p);

	/* Stopped already (a swap's quiesce stopped it): one read.  Every
	 * register access is a trap under emulation. */
	if (!(cmd & PXCMD_RUNNING))
		return PB_OK;
	if (cmd & PXCMD_ST)
		px_wr(p, PX_CMD, cmd & ~PXCMD_ST);
	if (spin_clear(p, PXCMD_CR) != PB_OK)
		goto stuck;
	cmd = cmd_rd(p);
	if (cmd & PXCMD_FRE)
		px_wr(p, PX_CMD, cmd & ~PXCMD_FRE);
	if (spin_clear(p, PXCMD_FR) != PB_OK)
		goto stuck;
	return PB_OK;
stuck:
	alog(p->a, PB_LOG_ERR, "port %u: the command list does not stop "
	    "(PxCMD 0x%08x)", p->no, px_rd(p, PX_CMD));
	return PB_ETIMEDOUT;
}

/*
 * Take a running device over from the driver before us without a reset:
 * our command list and FIS area, FIS receive and the list on.  The device
 * and its link stay as they are, so this costs a few register writes,
 * inside the swap's blackout: PxCMD is read once and written from what we
 * know (FRE, with ATAPI, before ST: §10.3.1).
 */
int
port_takeover(struct ahci_port *p)
{
	uint32_t cmd = cmd_rd(p);
	int err;

	if (cmd & PXCMD_RUNNING) {
		if ((err = port_stop_now(p)) != PB_OK)
			return err;
		cmd = cmd_rd(p);
	}
	program_memory(p);
	px_wr(p, PX_SERR, SERR_ALL);
	px_wr(p, PX_IS, 0xffffffffu);
	cmd = (cmd & ~PXCMD_ATAPI) | PXCMD_FRE |
	    (p->a->cap & CAP_SSS ? PXCMD_SUD | PXCMD_POD : 0) |
	    (p->disk.kind == DISK_ATAPI ? PXCMD_ATAPI : 0);
	px_wr(p, PX_CMD, cmd);
	if (!port_link_up(p) ||
	    (px_rd(p, PX_TFD) & (TFD_BSY | TFD_DRQ))) {
		/* Not as the state said: find out the slow way. */
		port_recover(p, 1, "device not ready at the hand-over");
		return PB_OK;
	}
	px_wr(p, PX_IE, PXIE_WANTED);
	px_wr(p, PX_CMD, cmd | PXCMD_ST);
	p->state = PS_READY;
	p->next_poll = p->deadline = 0;
	return PB_OK;
}

/* One look at stopping the list and FIS receive for a swap (quiesce
 * asks again while it answers 1: CR or FR still set). */
int
port_stop_step(struct ahci_port *p)
{
	uint32_t cmd = cmd_rd(p);

	if (cmd & PXCMD_ST) {
		px_wr(p, PX_CMD, cmd & ~PXCMD_ST);
		cmd = cmd_rd(p);
	}
	if (cmd & PXCMD_CR)
		return 1;
	if (cmd & PXCMD_FRE) {
		px_wr(p, PX_CMD, cmd & ~PXCMD_FRE);
		cmd = cmd_rd(p);
	}
	return (cmd & PXCMD_FR) != 0;
}

/* Drop a probe under way (a swap): the next driver, or a resume,
 * probes again. */
void
port_abort_probe(struct ahci_port *p)
{
	p->internal = 0;
	p->issued &= ~1u;
	px_wr(p, PX_CMD, cmd_rd(p) & ~PXCMD_ST);
	px_wr(p, PX_SCTL, SCTL_IPM_NONE);
	p->state = PS_EMPTY;
	p->next_poll = p->deadline = 0;
}
