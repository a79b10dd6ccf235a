/*
 * ahci.h - the driver's own structures and the functions its files share.
 *
 * One `struct ahci` per controller (the module binds to one PCI function;
 * host tests run two side by side for the swap).  Each implemented port
 * has a `struct ahci_port`: its registers, its DMA memory (command list,
 * received-FIS area, command tables), a step machine that probes or
 * recovers it (port.c), and the disk it found with its requests (io.c).
 *
 * Time: nothing waits on the hardware for longer than a few register reads.
 * Every longer wait is a step: the port records when to look again
 * (next_poll) and when to give up (deadline), and one timer per controller
 * (tick) runs the steps that are due.  Interrupts (irq.c) only acknowledge
 * and post the port's work item, which finishes commands and steps on.
 */
#ifndef AHCI_AHCI_H
#define AHCI_AHCI_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "../../abi/irq.h"
#include "../../abi/mmio.h"
#include "../../abi/pci.h"
#include "../../abi/rt/blockstate.h"
#include "ata.h"
#include "hba.h"

#define AHCI_MAX_PORTS	32
#define AHCI_MAX_SLOTS	32
/* PRD entries in each command table: 56 make a table of 1 KiB (the
 * 128-byte header and FISes, then the PRDT), so 32 slots take 8 pages.
 * One per segment (AHCI_MAX_SEGS, as many as fat puts in a request), and
 * room for segments that are several runs on the bus.  Linux gives a
 * table 168 entries; a client here splits a request of more segments. */
#define AHCI_PRDS	56
#define AHCI_TABLE_SIZE	(sizeof(struct ahci_cmd_table) + \
			 AHCI_PRDS * sizeof(struct ahci_prd))
#define AHCI_MAX_SEGS	32	/* block_info.max_segments */
#define AHCI_MAX_XFER	(4u << 20)	/* block_info.max_transfer, bytes */
#define AHCI_ALIGN	2	/* PRD: word-aligned address, even count */
#define AHCI_TRIES	3	/* issues of one request before PB_EIO */
#define AHCI_FLAPS	6	/* link changes in AHCI_FLAP_NS: declined */
#define AHCI_NAME_MAX	16

_Static_assert(AHCI_TABLE_SIZE % CMD_TABLE_ALIGN == 0, "table alignment");
_Static_assert(4096 % AHCI_TABLE_SIZE == 0, "tables tile pages");
_Static_assert(AHCI_PRDS >= AHCI_MAX_SEGS, "a PRD per segment at least");

/* The port's DMA block: command list, received FIS, IDENTIFY buffer. */
#define MEM_CL		0
#define MEM_RFIS	CMD_LIST_SIZE
#define MEM_IBUF	(MEM_RFIS + RFIS_SIZE)
#define MEM_SIZE	(MEM_IBUF + 512)

/* Timing (ns).  The AHCI and SATA limits are cited where they are set. */
#define MS		1000000ull
#define T_STOP		(500 * MS)	/* CR or FR to clear (§10.1.2) */
#define T_COMRESET	(1 * MS)	/* DET=1 held at least 1 ms (§10.4.2) */
#define T_LINK		(1000 * MS)	/* PxSSTS.DET=3 after COMRESET */
#define T_NO_DEVICE	(100 * MS)	/* ... DET=0 this long: none there
					 * (Linux's debounce, libata) */
#define T_BUSY		(10000 * MS)	/* BSY/DRQ to clear: spin-up */
#define T_IDENTIFY	(5000 * MS)
#define T_IO		(10000 * MS)	/* one READ/WRITE/FLUSH */
#define T_HANDOFF	(25 * MS)	/* BOHC.BOS to clear (§10.6.3) */
#define T_HANDOFF_BUSY	(2000 * MS)	/* more when BOHC.BB is set */
#define T_HBA_RESET	(1000 * MS)	/* GHC.HR to clear (§10.4.3) */
#define T_SETTLE	(50 * MS)	/* a link change settles */
#define T_POLL		(1 * MS)	/* a step looks again */
#define T_POLL_FAST	(20 * MS)	/* ... so often, then */
#define T_POLL_SLOW	(10 * MS)	/* ... this often */
#define T_POLL_IDLE	(100 * MS)	/* no interrupt: idle polling */
#define T_SPIN_NS	(200 * 1000ull)	/* most a synchronous wait spins */
#define AHCI_FLAP_NS	(10000 * MS)

/* What a port's device is, as IDENTIFY and READ CAPACITY told. */
enum disk_kind { DISK_NONE = 0, DISK_ATA = 1, DISK_ATAPI = 2 };

struct ahci_disk {
	uint32_t kind;		/* enum disk_kind */
	uint32_t block_size;
	uint64_t block_count;
	uint32_t flags;		/* BLOCK_RO, BLOCK_REMOVABLE, BLOCK_FLUSHES, ... */
	uint16_t ncq_depth;	/* 0: no NCQ */
	uint16_t reserved;
	char model[44];		/* trimmed, spaces as '_' */
	char serial[24];
	char wwn[20];		/* 16 hex digits, or empty */
};

enum port_state {
	PS_OFF = 0,	/* not implemented, or declined: left alone */
	PS_EMPTY,	/* no device: watching for one to come */
	PS_STANDBY,	/* published from the registers for a swap */
	PS_SETTLE,	/* the link changed: let it settle */
	PS_STOP,	/* ST cleared: CR to clear */
	PS_FRE_OFF,	/* FRE cleared: FR to clear */
	PS_COMRESET,	/* PxSCTL.DET=1 held */
	PS_LINK,	/* DET released: PxSSTS.DET=3 to come */
	PS_BUSY,	/* PxTFD.BSY and DRQ to clear */
	PS_IDENTIFY,	/* IDENTIFY (PACKET) DEVICE in slot 0 */
	PS_CAPACITY,	/* ATAPI READ CAPACITY in slot 0 */
	PS_READY,	/* serving requests */
};

/* What a port's steps lead to once the command list runs (recovering). */
enum { AFTER_IDENTIFY = 0, AFTER_CAPACITY = 1, AFTER_READY = 2 };
/* How far back they go (restart). */
enum { RESTART_PLAIN = 0, RESTART_COMRESET = 1, RESTART_FULL = 2 };

struct ahci;

/* A request and its port, kept aside (import_state, release). */
struct ahci_held {
	struct block_req *r;
	uint32_t port;
};

struct ahci_port {
	struct ahci *a;
	unsigned no;
	volatile uint8_t *regs;

	/* the step machine (port.c) */
	enum port_state state;
	int recovering;		/* where the steps end (port.c AFTER_*) */
	int props_stale;	/* set_props after the swap's blackout */
	int restart;		/* how far back they go (RESTART_*) */
	unsigned probe_tries;	/* internal commands failed in this probe */
	uint64_t next_poll;	/* look again at (0: not waiting) */
	uint64_t step_t0;	/* the step began */
	uint64_t deadline;	/* give up at */
	unsigned flaps;		/* link changes in this window */
	uint64_t flap_t0;
	int link_seen;		/* PxSSTS.DET=3 when last looked */

	/* DMA memory: command list + received FIS + IDENTIFY buffer, and
	 * the command tables, AHCI_TABLE_SIZE each. */
	uint8_t *mem;
	uint64_t mem_bus;
	uint8_t *tables;
	uint64_t tables_bus;

	/* interrupts (irq.c): the handler ORs PxIS into pend, posts work */
	struct pb_work work;
	volatile uint32_t pend;

	/* the disk and its resource */
	struct ahci_disk disk;
	struct pb_resource *res;
	char name[AHCI_NAME_MAX];
	char path[BLOCK_PATH_MAX];

	/* requests (io.c) */
	struct block_req *head, *tail;	/* queued, oldest (seq) first */
	struct block_req *slot[AHCI_MAX_SLOTS];	/* issued */
	uint32_t issued;		/* slots with a command */
	uint32_t ncq;			/* of those, FPDMA ones */
	uint32_t internal;		/* slot bit of a probe's command */
	unsigned careful;		/* suspects of an error left: one at a time */
	unsigned nqueued;
	int never_issued_logged;
};

enum hba_state {
	HBA_DOWN = 0,	/* not set up (standby, or released) */
	HBA_HANDOFF,	/* BOHC.OOS set: BOS to clear */
	HBA_RESET,	/* GHC.HR set: to clear */
	HBA_UP,		/* reset and enabled: ports probe */
};

struct ahci {
	struct pb_module *self;
	const struct pb_hub *hub;
	struct pb_conn *pci;		/* the function we drive */
	struct pb_conn *irqc;		/* the interrupt router, optional */
	volatile uint8_t *abar;
	struct pci_func_info fn;
	uint32_t cap, cap2, vs, pi;
	uint32_t cap_fw, pi_fw;		/* as read before GHC.HR (hba.c) */
	unsigned nslots;
	uint64_t dma_limit;		/* highest bus address we hand it */

	enum hba_state hstate;
	uint64_t h_next, h_deadline;
	int handoff_busy;

	int vector;			/* ours, or -1 */
	int irq_kind;			/* PCI_IRQ_MSIX or PCI_IRQ_MSI: the
					 * interrupts' message; 0: polled */
	int tick_id;			/* the step timer, 0: none */
	uint64_t tick_at;
	int timer_failed;		/* said once */

	int standby;			/* started as the new side of a swap */
	int quiesced;			/* no dispatching */
	int released;			/* the hardware is the next driver's */
	int stopping;
	uint32_t seq;			/* submission order of requests */

	/* import_state's requests, queued at activate; room for imported_cap
	 * made at the standby start */
	struct ahci_held *imported;
	uint32_t nimported, imported_cap;
	int have_import;		/* an ahci state with IDENTIFY data came */
	/* log lines said after a swap's blackout (ahci_note) */
	struct pb_work note_work;
	unsigned notes;			/* NOTE_* */
	unsigned note_disks, note_reqs;
	const char *irq_why;		/* why neither MSI-X nor MSI */
	/* release's, for a resume; room made at quiesce (held_cap) */
	struct ahci_held *held;
	uint32_t nheld, held_cap;
	/* the swap's blackout, kept short (state.c) */
	int lists_stopped;		/* quiesce saw every list stopped */
	int pci_on;			/* standby saw MEM and MASTER on */
	int adopt_vector;		/* the old side's vector, or -1 */
	int adopt_kind;			/* ... and its PCI_IRQ_MSIX or _MSI */
	uint32_t look_later;		/* ports activate left for after it */

	/* Ports 0..nports-1 (to the highest implemented one), allocated
	 * when the registers tell (hba_attach): six on an ICH9, not 32. */
	struct ahci_port *port;
	unsigned nports;
};

/* A request's provider scratch (block_req.scratch) while we own it. */
struct ahci_rq {
	struct block_req *next;		/* in the port's queue */
	struct ahci *owner;		/* which driver instance holds it */
	uint64_t deadline;		/* issued: when it times out */
	uint32_t seq;
	uint8_t state;			/* RQ_* */
	uint8_t slot;
	uint8_t tries;			/* issues that failed it alone */
	uint8_t suspect;		/* in flight at an unattributed error */
	uint8_t checked;		/* io_check passed on a known disk */
};
_Static_assert(sizeof(struct ahci_rq) <= BLOCK_SCRATCH, "scratch too small");

enum { RQ_FREE = 0, RQ_QUEUED = 1, RQ_ISSUED = 2 };

/* Does the port know its disk (IDENTIFY done, or handed over)? */
static inline int
disk_known(const struct ahci_port *p)
{
	return p->disk.kind != DISK_NONE && p->disk.block_count;
}

static inline struct ahci_rq *
rq_of(struct block_req *r)
{
	return (struct ahci_rq *)(void *)r->scratch;
}

/* Registers, at their own width. */
static inline uint32_t
hba_rd(const struct ahci *a, unsigned off)
{
	return mmio_read32(a->abar + off);
}

static inline void
hba_wr(const struct ahci *a, unsigned off, uint32_t v)
{
	mmio_write32(a->abar + off, v);
}

static inline uint32_t
px_rd(const struct ahci_port *p, unsigned off)
{
	return mmio_read32(p->regs + off);
}

static inline void
px_wr(const struct ahci_port *p, unsigned off, uint32_t v)
{
	mmio_write32(p->regs + off, v);
}

#define alog(a, lvl, ...) pb_logf((a)->hub, (a)->self, (lvl), __VA_ARGS__)

/* ahci.c */
uint64_t ahci_now(const struct ahci *a);
void tick_arm(struct ahci *a, uint64_t when);
void ahci_post_done(struct ahci *a, struct block_req *r, int status);
int ahci_publish(struct ahci_port *p);
void ahci_withdraw(struct ahci_port *p);
void ahci_set_props(struct ahci_port *p);
void ahci_log_caps(struct ahci *a);
enum { NOTE_IRQ = 1, NOTE_TAKEOVER = 2 };
void ahci_note(struct ahci *a, unsigned what);

/* hba.c */
int hba_attach(struct ahci *a, const char **why);
int hba_enable_pci(struct ahci *a);
void hba_begin(struct ahci *a);
void hba_step(struct ahci *a);
int hba_read_caps(struct ahci *a);
void hba_quiet(struct ahci *a);

/* port.c */
int port_alloc(struct ahci_port *p);
int port_alloc_tables(struct ahci_port *p);
void port_free(struct ahci_port *p);
void port_probe(struct ahci_port *p);
void port_recover(struct ahci_port *p, int reset_link, const char *why);
void port_step(struct ahci_port *p);
void port_link_event(struct ahci_port *p);
void port_look_later(struct ahci_port *p, uint64_t t);	/* no timer */
void port_internal_done(struct ahci_port *p, int err);
int port_takeover(struct ahci_port *p);
void port_reclaim(struct ahci_port *p, const char *why);
int port_stop_now(struct ahci_port *p);
int port_stop_step(struct ahci_port *p);
void port_abort_probe(struct ahci_port *p);
int port_busy(const struct ahci_port *p);
uint64_t port_next(const struct ahci_port *p);
int port_link_up(const struct ahci_port *p);

/* cmd.c */
int cmd_prd_count(struct ahci *a, const struct block_req *r, unsigned *n);
int cmd_build_io(struct ahci_port *p, unsigned slot, struct block_req *r);
void cmd_build_internal(struct ahci_port *p, unsigned slot, uint8_t command,
    const uint8_t *cdb, uint32_t len);
void cmd_issue(struct ahci_port *p, unsigned slot, int ncq);

/* identify.c */
int ident_ata(const uint16_t *id, uint32_t cap, unsigned nslots,
    struct ahci_disk *d, const char **why);
int ident_atapi(const uint16_t *id, struct ahci_disk *d, const char **why);
int ident_capacity(const uint8_t *buf, struct ahci_disk *d,
    const char **why);
int disk_sane(const struct ahci_disk *d, unsigned nslots);
void disk_props(const struct ahci_port *p, char *buf, size_t cap);

/* io.c */
extern const struct block_ops ahci_block_ops;
int io_check(struct ahci_port *p, const struct block_req *r);
void io_queue(struct ahci_port *p, struct block_req *r);
void io_take(struct ahci_port *p, struct block_req *r);
void io_requeue(struct ahci_port *p, struct block_req *r);
void io_queue_first(struct ahci_port *p, struct block_req *r);
void io_dispatch(struct ahci_port *p);
void io_scan(struct ahci_port *p, uint32_t is);
void io_timeouts(struct ahci_port *p, uint64_t now);
uint64_t io_next_deadline(const struct ahci_port *p);
void io_fail_all(struct ahci_port *p, int status);
void io_requeue_issued(struct ahci_port *p);
void io_forget(struct ahci_port *p);
/* gone.c: a block client went (PB_EV_CLIENT_GONE, conn as handed). */
void io_client_gone(struct ahci *a, struct pb_conn *c);

/* irq.c */
int irq_setup(struct ahci *a);
int irq_adopt(struct ahci *a, int vector, int kind);
void irq_say(struct ahci *a);
void irq_teardown(struct ahci *a);
void irq_collect(struct ahci *a);
void ahci_port_work(void *arg);

/* state.c */
int state_size(struct ahci *a, size_t *len);
int state_export(struct ahci *a, void *buf, size_t cap, size_t *len);
int state_quiesce(struct ahci *a);
int state_release(struct ahci *a);
int state_resume(struct ahci *a);
void state_standby_publish(struct ahci *a);
int state_import(struct ahci *a, const void *buf, size_t len,
    uint32_t version);
int state_activate(struct ahci *a);

#endif
