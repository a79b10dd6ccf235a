/*
 * nvme.h - the driver's own structures and the functions its files share.
 *
 * One `struct nvme` per controller (the module binds to one PCI function;
 * host tests run two side by side for the swap).  The controller has an
 * admin queue pair and one I/O queue pair, both in DMA memory of ours;
 * each active namespace is a `struct nvme_ns` with its `block` resource.
 *
 * Time: nothing waits on the hardware for longer than a few register
 * reads, except stop (the shutdown notification, bounded).  Every longer
 * wait is a step: the controller records when to look again (next_poll)
 * and when to give up (deadline), and one timer per controller (tick)
 * runs what is due.  The interrupt handler (irq.c) only takes completion
 * entries off the queues into a ring and posts the work item, which
 * finishes commands (admin.c, io.c) and dispatches more.
 *
 * Requests: one queue per controller in submission order (seq); a
 * request becomes one or more NVMe commands (pieces), each in a command
 * slot whose index is its CID; it completes when its last piece does.
 */
#ifndef NVME_NVME_H
#define NVME_NVME_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "../../abi/cpu.h"
#include "../../abi/irq.h"
#include "../../abi/mmio.h"
#include "../../abi/pci.h"
#include "../../abi/rt/blockstate.h"
#include "regs.h"

#define NVME_MAX_NS	16	/* namespaces published, at most */
#define NVME_ADMIN_Q	16	/* admin queue entries */
#define NVME_IO_Q	64	/* I/O queue entries (CAP.MQES may cap) */
#define NVME_SLOTS	32	/* I/O commands in flight (CIDs) */
#define NVME_MAX_SEGS	32	/* block_info.max_segments */
#define NVME_MAX_XFER	(4u << 20)	/* block_info.max_transfer */
/* One NVMe command: PRP1 and one PRP list page of 512 entries reach
 * 513 pages, which any 2 MiB from any dword offset fits (§4.3). */
#define NVME_CMD_MAX	(2u << 20)
#define NVME_PRP_PER_PAGE (NVME_PAGE / 8)
#define NVME_ALIGN	4	/* PRP entries are dword aligned (§4.3) */
#define NVME_TRIES	3	/* resets a request lives through */
#define NVME_RESETS	4	/* resets in a row before we give up */
#define NVME_NAME_MAX	16
#define NVME_DONE_RING	128	/* completions handler -> work */

_Static_assert(NVME_SLOTS < NVME_IO_Q, "a full SQ holds entries - 1");
_Static_assert(NVME_IO_Q * sizeof(struct nvme_sqe) <= NVME_PAGE,
    "the I/O SQ is one page");
_Static_assert(NVME_ADMIN_Q * sizeof(struct nvme_sqe) <= NVME_PAGE,
    "the admin SQ is one page");
_Static_assert(NVME_CMD_MAX <= (NVME_PRP_PER_PAGE) * NVME_PAGE,
    "a command fits PRP1 and one list page");

/* Timing (ns). */
#define MS		1000000ull
#define T_TO_UNIT	(500 * MS)	/* CAP.TO counts these (§3.1.1) */
#define T_ADMIN		(5000 * MS)	/* one admin command */
#define T_IO		(30000 * MS)	/* one I/O command (as Linux) */
#define T_POLL		(1 * MS)	/* a step looks again */
#define T_POLL_FAST	(20 * MS)	/* ... so often, then */
#define T_POLL_SLOW	(10 * MS)	/* ... this often */
#define T_WATCH		(1000 * MS)	/* CSTS.CFS looked at, busy */
#define T_SHUTDOWN	(2000 * MS)	/* stop's bounded wait for SHST */
#define T_DISABLE_SPIN	(500 * MS)	/* stop's wait for RDY 0 */

/* What a namespace is, as Identify told (the swap hands it over). */
struct nvme_geom {
	uint32_t nsid;
	uint32_t block_size;
	uint64_t block_count;
	uint32_t flags;		/* BLOCK_FUA, BLOCK_FLUSHES */
	uint32_t reserved;
};

/* What the controller is, as Identify Controller told. */
struct nvme_ident {
	char model[44];		/* trimmed, spaces as '_' */
	char serial[24];
	char firmware[12];
	uint32_t max_xfer;	/* bytes per command: MDTS, capped */
	uint32_t nn;		/* highest NSID */
	uint32_t vwc;		/* a volatile write cache */
};

struct nvme;

struct nvme_ns {
	struct nvme *c;
	struct nvme_geom g;	/* g.block_count 0: not known yet */
	struct pb_resource *res;
	char name[NVME_NAME_MAX];
	char path[BLOCK_PATH_MAX];
	int seen;		/* found by this bring-up's Identify */
};

/* A command slot: its CID is its index. */
struct nvme_slot {
	struct block_req *r;	/* NULL: free */
	uint64_t deadline;
	uint64_t *prp;		/* its PRP list page */
	uint64_t prp_bus;
	uint8_t opc;
};

/* A completion the handler took off a queue, for the work. */
struct nvme_done {
	uint16_t cid;
	uint16_t status;	/* STATUS(): without the phase */
	uint16_t qid;
	uint16_t reserved;
	uint32_t dw0;
};

/* A queue pair in DMA memory. */
struct nvme_queue {
	struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	uint64_t sq_bus, cq_bus;
	uint16_t size;		/* entries, each of the two */
	uint16_t qid;
	uint16_t sq_tail, sq_head;
	uint16_t cq_head;
	uint8_t phase;		/* the phase a new entry carries */
	uint8_t live;		/* the controller knows it */
};

enum ctrl_state {
	C_DOWN = 0,	/* not set up (standby, released, stopped) */
	C_WAIT_ON,	/* found CC.EN=1, RDY=0: let it finish (§3.1.5) */
	C_DISABLING,	/* CC.EN=0 written: CSTS.RDY to clear */
	C_ENABLING,	/* CC.EN=1 written: CSTS.RDY to set */
	C_ADMIN,	/* admin commands of the bring-up (admin.c) */
	C_READY,	/* serving */
	C_DEAD,		/* declined: nothing more is tried */
};

/* The bring-up's admin commands, in order (admin.c). */
enum admin_step {
	A_NONE = 0,
	A_ID_CTRL,	/* Identify Controller */
	A_NQUEUES,	/* Set Features: Number of Queues */
	A_CREATE_CQ,
	A_CREATE_SQ,
	A_NS_LIST,	/* Identify: active namespace IDs */
	A_ID_NS,	/* Identify Namespace, each */
};

enum irq_kind { IRQ_POLL = 0, IRQ_MSI = 1, IRQ_MSIX = 2 };

/* A request and its namespace, kept aside (import_state, release). */
struct nvme_held {
	struct block_req *r;
	uint32_t nsid;
};

struct nvme {
	struct pb_module *self;
	const struct pb_hub *hub;
	struct pb_conn *pci;		/* the function we drive */
	struct pb_conn *irqc;		/* interrupt router, optional */
	volatile uint8_t *regs;
	uint64_t bar_size;
	struct pci_func_info fn;
	uint32_t cap_lo, cap_hi, vs;
	unsigned dstrd;
	uint64_t t_ready;		/* CAP.TO in ns */
	uint64_t dma_limit;
	unsigned nslots;		/* I/O commands at once */
	char name[NVME_NAME_MAX];	/* nvme0: the namespaces' prefix */

	/* the controller's steps (ctrl.c, admin.c) */
	enum ctrl_state state;
	enum admin_step astep;
	int reinit;			/* a reset: namespaces kept */
	uint64_t step_t0, next_poll, deadline;
	unsigned resets;		/* in a row, without a completion */
	uint32_t ns_next;		/* A_ID_NS: index into ns_list */
	uint32_t ns_count;		/* NSIDs in ns_list */
	int ns_by_list;			/* CNS 02h answered, or 1..NN */
	uint16_t admin_cid;		/* the admin command on the queue */
	int admin_busy;
	uint64_t admin_deadline;

	/* DMA memory: admin and I/O queues, one Identify page, PRP lists */
	struct nvme_queue aq, ioq;
	uint8_t *idbuf;
	uint64_t idbuf_bus;
	uint32_t *ns_list;		/* NS_LIST_MAX NSIDs (heap) */
	uint8_t *prp_pages;
	uint64_t prp_bus;

	/* interrupts (irq.c) */
	int irq;			/* enum irq_kind */
	int vector;			/* ours, or -1 */
	const char *irq_why;		/* why polling */
	struct pb_work work;
	struct nvme_done ring[NVME_DONE_RING];
	volatile uint32_t ring_put, ring_get;
	unsigned ring_lost;		/* entries left for lack of room */

	/* the step timer (nvme.c) */
	int tick_id;
	uint64_t tick_at;
	uint64_t watch_at;		/* CSTS looked at next, while busy */
	int timer_failed;

	struct nvme_ident id;
	struct nvme_ns ns[NVME_MAX_NS];
	unsigned nns;

	/* requests (io.c) */
	struct block_req *head, *tail;	/* queued, oldest (seq) first */
	unsigned nqueued;
	struct nvme_slot slot[NVME_SLOTS];
	unsigned inflight;		/* slots in use */
	uint32_t seq;

	/* the module's life (nvme.c, state.c) */
	int standby, quiesced, released, stopping;
	int fn_handed;			/* the function went to the next
					 * driver after our release */
	struct nvme_held *imported;
	uint32_t nimported, imported_cap;
	int have_import;		/* an nvme state with Identify data */
	int adopt_vector, adopt_kind;	/* old side's vector, or -1 */
	struct nvme_held *held;
	uint32_t nheld, held_cap;
	struct pb_work note_work;
	unsigned notes;
	unsigned note_reqs;
	int bringup_said;		/* the bring-up line said once */
};

/* A request's provider scratch (block_req.scratch) while we own it. */
struct nvme_rq {
	struct block_req *next;		/* in the controller's queue */
	struct nvme *owner;		/* which driver instance holds it */
	struct nvme_ns *ns;
	uint32_t seq;
	uint32_t issued;		/* bytes put into commands so far */
	uint32_t seg_off;		/* ... of them, into segs[seg] */
	uint16_t seg;
	uint16_t pieces;		/* commands on the device */
	int32_t err;			/* the first piece's error */
	uint8_t state;			/* RQ_* */
	uint8_t tries;			/* resets it lived through */
	uint8_t checked;		/* io_check passed on a known disk */
};
_Static_assert(sizeof(struct nvme_rq) <= BLOCK_SCRATCH, "scratch too small");

/* RQ_QUEUED: in the queue, maybe some pieces issued; RQ_ISSUED: out of
 * the queue, every piece issued, some still on the device. */
enum { RQ_FREE = 0, RQ_QUEUED = 1, RQ_ISSUED = 2 };

static inline struct nvme_rq *
rq_of(struct block_req *r)
{
	return (struct nvme_rq *)(void *)r->scratch;
}

static inline int
ns_known(const struct nvme_ns *ns)
{
	return ns->g.block_count != 0;
}

/* Registers, at their own width. */
static inline uint32_t
reg_rd(const struct nvme *c, unsigned off)
{
	return mmio_read32(c->regs + off);
}

static inline void
reg_wr(const struct nvme *c, unsigned off, uint32_t v)
{
	mmio_write32(c->regs + off, v);
}

/* A 64-bit register as two dwords, low first (§3.1: 32-bit accesses). */
static inline void
reg_wr64(const struct nvme *c, unsigned off, uint64_t v)
{
	reg_wr(c, off, (uint32_t)v);
	reg_wr(c, off + 4, (uint32_t)(v >> 32));
}

static inline uint64_t
reg_rd64(const struct nvme *c, unsigned off)
{
	return reg_rd(c, off) | (uint64_t)reg_rd(c, off + 4) << 32;
}

#define nlog(c, lvl, ...) pb_logf((c)->hub, (c)->self, (lvl), __VA_ARGS__)

/* nvme.c */
uint64_t nvme_now(const struct nvme *c);
void tick_arm(struct nvme *c, uint64_t when);
void tick_rearm(struct nvme *c);
void nvme_post_done(struct nvme *c, struct block_req *r, int status);
int nvme_publish(struct nvme_ns *ns);
void nvme_withdraw(struct nvme_ns *ns);
void nvme_set_props(struct nvme_ns *ns);
void nvme_pick_name(struct nvme *c);
struct nvme_ns *nvme_ns_add(struct nvme *c, uint32_t nsid);
struct nvme_ns *nvme_ns_by_id(struct nvme *c, uint32_t nsid);
enum { NOTE_TAKEOVER = 1 };
void nvme_note(struct nvme *c, unsigned what);

/* ctrl.c */
int ctrl_attach(struct nvme *c, const char **why);
int ctrl_enable_pci(struct nvme *c);
int ctrl_read_caps(struct nvme *c, const char **why);
int ctrl_alloc(struct nvme *c);
void ctrl_free(struct nvme *c);
void ctrl_begin(struct nvme *c, int reinit);
void ctrl_step(struct nvme *c);
void ctrl_reset(struct nvme *c, const char *why);
void ctrl_decline(struct nvme *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctrl_check_fatal(struct nvme *c);
void ctrl_shutdown(struct nvme *c);
int ctrl_waiting(const struct nvme *c);

/* admin.c */
void admin_begin(struct nvme *c);
void admin_done(struct nvme *c, const struct nvme_done *d);
void admin_timeouts(struct nvme *c, uint64_t now);
void queue_reset(struct nvme_queue *q);

/* identify.c: pure parsing, no hardware */
int ident_ctrl(const uint8_t *data, struct nvme_ident *id, const char **why);
int ident_ns(const uint8_t *data, uint32_t nsid, const struct nvme_ident *id,
    struct nvme_geom *g, const char **why);
uint32_t ident_ns_list(const uint8_t *data, uint32_t *out, uint32_t max);
int ident_geom_sane(const struct nvme_geom *g, const struct nvme_ident *id);
int ident_sane(const struct nvme_ident *id);
void ident_props(const struct nvme_ns *ns, const struct nvme_ident *id,
    char *buf, size_t cap);

/* io.c */
extern const struct block_ops nvme_block_ops;
int io_check(struct nvme_ns *ns, const struct block_req *r);
void io_take(struct nvme_ns *ns, struct block_req *r);
void io_queue(struct nvme_ns *ns, struct block_req *r);
void io_queue_first(struct nvme_ns *ns, struct block_req *r);
void io_dispatch(struct nvme *c);
void io_done(struct nvme *c, const struct nvme_done *d);
void io_timeouts(struct nvme *c, uint64_t now);
uint64_t io_next_deadline(const struct nvme *c);
void io_requeue_inflight(struct nvme *c);
void io_fail_all(struct nvme *c, int status);
void io_fail_ns(struct nvme *c, struct nvme_ns *ns, int status);
void io_forget(struct nvme *c);
const char *io_status_name(uint16_t status);
/* gone.c: a block client went (PB_EV_CLIENT_GONE, conn as handed). */
void io_client_gone(struct nvme *c, struct pb_conn *conn);

/* irq.c */
void irq_setup(struct nvme *c);
int irq_adopt(struct nvme *c, int vector, int kind);
const char *irq_name(const struct nvme *c);
void irq_teardown(struct nvme *c);
void irq_collect(struct nvme *c);
void irq_drain(struct nvme *c);
void nvme_work(void *arg);

/* state.c */
int state_size(struct nvme *c, size_t *len);
int state_export(struct nvme *c, void *buf, size_t cap, size_t *len);
int state_quiesce(struct nvme *c);
int state_release(struct nvme *c);
int state_resume(struct nvme *c);
void state_standby_publish(struct nvme *c);
int state_import(struct nvme *c, const void *buf, size_t len,
    uint32_t version);
int state_activate(struct nvme *c);
void state_take_imported(struct nvme *c);

#endif
