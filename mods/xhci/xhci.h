/*
 * xhci.h - the driver's own structures and the functions its files share.
 *
 * One `struct xhci` per controller (the module binds to one PCI function;
 * the host tests run two side by side for a swap).  It holds the rings
 * the controller reads (command ring, event ring, one transfer ring per
 * endpoint, xhci_ring), the device slots the bus driver added
 * (struct xhci_dev, one struct xhci_ep per endpoint), the root ports
 * (struct xhci_port) and the requests not completed.
 *
 * Time: nothing waits on the hardware for longer than a few register
 * reads.  Every longer wait is a step with a deadline that one timer per
 * controller (tick, xhci.c) runs when due: the bring-up (hc.c), the root
 * ports' resets (port.c), commands (cmd.c), transfers (xfer.c) and the
 * requests held over a swap (state.c).  Interrupts (irq.c) only
 * acknowledge and post the event work, which reads the event ring
 * (event.c).
 *
 * Requests: every struct usb_req the driver holds is in exactly one
 * place, said by its scratch's `where` (struct xrq): an endpoint's ring
 * or its waiting list, the command queue, the WAIT_EVENT waiters, or the
 * list held over a swap.  It leaves it once, completed by rq_complete.
 */
#ifndef XHCI_XHCI_H
#define XHCI_XHCI_H

#include "../../abi/pbmod.h"
#include "../../abi/irq.h"
#include "../../abi/mmio.h"
#include "../../abi/pci.h"
#include "../../abi/usb.h"
#include "regs.h"

#define XHCI_MAX_PORTS	64	/* root ports served (MaxPorts may say more) */
#define XHCI_MAX_SLOTS	64	/* device slots enabled (CONFIG.MaxSlotsEn) */
#define XHCI_MAX_PROTO	6	/* Supported Protocol capabilities kept
				 * (controllers have 2 to 4) */
#define XHCI_MAX_PSI	16
#define XHCI_MAX_XFER	(1u << 20)	/* usb_hci_info.max_transfer */
#define XHCI_MAX_SEGS	32	/* usb_hci_info.max_segments (usb-storage
				 * maps a data stage into 32) */
#define XHCI_TRIES	3	/* transaction errors retried */
#define XHCI_LOST_AFTER	3	/* transfer timeouts in a row: device lost */
#define XHCI_EVQ	8	/* root port events kept for WAIT_EVENT
				 * (more: the hub rescans every port) */
#define XHCI_NAME_MAX	16
#define XHCI_PATH_MAX	32

/* Ring sizes in TRBs, the Link TRB included; one segment each. */
#define CMD_RING_TRBS	16	/* one command at a time (cmd.c) */
#define EV_RING_TRBS	256
#define EP0_RING_TRBS	16	/* a control TD: Setup, 1-2 Data, Status */
#define INTR_RING_TRBS	16	/* a report or a hub's change: a TRB each */
#define BULK_RING_TRBS	512	/* two pages: the largest TD below, or
				 * about sixty 128 KiB requests */
/* The largest TD fits a bulk ring whatever its pages: a TRB per page of
 * a scattered buffer, one more per segment that starts or ends inside a
 * page, the ZLP, and the Link TRB (xfer_check refuses a TD that does not
 * fit, so the ring's size bounds what max_transfer may promise). */
_Static_assert(XHCI_MAX_XFER / 4096 + 2 * XHCI_MAX_SEGS + 2 <=
    BULK_RING_TRBS, "the largest TD fits a bulk ring");

/* Timing (ns); where the spec or USB 2.0 sets a limit it is cited. */
#define MS		1000000ull
#define T_HANDOFF	(1000 * MS)	/* BIOS Owned to clear (§4.22.1) */
#define T_HALT		(50 * MS)	/* HCH after R/S=0: 16 ms (§5.4.1) */
#define T_RESET_MIN	(1 * MS)	/* before HCRST is read (Intel) */
#define T_RESET		(2000 * MS)	/* HCRST, then CNR, to clear */
#define T_RUN		(50 * MS)	/* HCH to clear after R/S=1 */
#define T_POWER		(20 * MS)	/* PP set: power good */
#define T_DEBOUNCE	(100 * MS)	/* TATTDB (USB 2.0 §7.1.7.3) */
#define T_PORT_RESET	(500 * MS)	/* PRC after PR or WPR */
#define T_TRAIN		(1000 * MS)	/* a USB3 link to train (PED) */
#define T_RSTRCY	(10 * MS)	/* TRSTRCY (USB 2.0 §7.1.7.5) */
#define T_CMD		(5000 * MS)	/* one command */
#define T_ABORT		(5000 * MS)	/* CRR to clear after CA (§4.6.1.2) */
#define T_CONTROL	(5000 * MS)	/* a control transfer (USB 2.0 §9.2.6.4) */
#define T_BULK		(30000 * MS)	/* a bulk transfer at the ring's head */
#define T_HELD		(2000 * MS)	/* held requests wait for RESUME */
#define T_POLL		(4 * MS)	/* the event ring without interrupts */
#define T_LOOK		(100 * MS)	/* ... with them: a lost one's look */
#define T_STEP		(1 * MS)	/* a step looks again */
#define T_SLOW		(10 * MS)	/* ... after a while */
#define T_JUNK		(1000 * MS)	/* unexpected events: one line a second */

/* --- rings (ring.c) -------------------------------------------------- */

struct xhci_ring {
	volatile struct xhci_trb *trb;	/* CPU view; NULL: no ring */
	uint64_t bus;
	uint32_t n;		/* TRBs, the Link TRB at n - 1 */
	uint32_t enq;		/* next TRB the driver writes */
	uint32_t used;		/* TRBs of TDs not completed (transfer rings) */
	uint8_t cycle;		/* producer cycle state */
};

struct xhci_evring {
	volatile struct xhci_trb *trb;
	uint64_t bus;
	uint32_t n;
	uint32_t deq;		/* next TRB to look at */
	uint8_t cycle;		/* consumer cycle state */
};

/* --- requests (the hci_scratch) ------------------------------------ */

enum rq_where {
	RQ_NONE = 0,	/* not ours (completed, or never taken) */
	RQ_RING,	/* a TD on an endpoint's ring */
	RQ_WAIT,	/* waiting for its endpoint (room, recovery, halt) */
	RQ_OP,		/* in the command queue */
	RQ_EVENT,	/* a WAIT_EVENT waiting for an event */
	RQ_HELD,	/* handed over by a swap: waits for USB_OP_RESUME */
	RQ_POSTING,	/* completed, its completion being posted (req.c) */
};

/* A command sequence: a request's (ADD, EP_ENABLE...) or an endpoint's
 * own recovery (struct xhci_ep.fix).  Only the queue's head runs. */
struct xop {
	struct xop *next;
	struct usb_req *req;	/* the request it completes, or NULL */
	uint32_t dev;		/* the bus's device number */
	uint8_t kind;		/* OP_* */
	uint8_t step;
	uint8_t dci;
	uint8_t loops;		/* steps repeated (bounded) */
	uint8_t st;		/* the endpoint state it found (fix.c) */
	int32_t status;		/* what the request completes with (a
				 * fix: the FIX_* flags it runs for) */
};

/* What an op's step is run with besides a completion code. */
#define CC_START	(-1)	/* the op's first step */
#define CC_TIMEOUT	256	/* its command was not answered */

enum op_kind {
	OP_ADD = 1, OP_MPS, OP_EP_ENABLE, OP_EP_DISABLE, OP_HUB, OP_REMOVE,
	OP_CLEAR_HALT, OP_FIX, OP_SET_ADDRESS,
};

struct xrq {
	struct usb_req *next;	/* in the list that holds it */
	struct xhci *owner;	/* the driver instance that holds it */
	uint64_t deadline;	/* a TD at its ring's head: times out then */
	uint32_t seq;		/* submission order */
	uint32_t actual;	/* control: from the data stage's event */
	uint16_t first;		/* ring index of its first TRB */
	uint16_t ntrb;		/* TRBs it holds on the ring */
	uint16_t last;		/* ring index of its last TRB */
	uint8_t where;		/* enum rq_where */
	uint8_t tries;		/* transaction errors retried */
	uint8_t timed_out;	/* too long at its ring's head */
	uint8_t doomed;		/* cancelled: ends when the ring stops */
	uint8_t gone;		/* its client went (gone.c): ends silently */
	uint8_t short_seen;	/* control: the data stage came short */
	uint8_t cycle;		/* the cycle its first TRB was written with */
	struct xop op;		/* where == RQ_OP */
};
_Static_assert(sizeof(struct xrq) <= USB_SCRATCH_HCI, "hci scratch too small");

static inline struct xrq *
rq_of(struct usb_req *r)
{
	return (struct xrq *)(void *)r->hci_scratch;
}

/* --- devices and endpoints --------------------------------------------- */

/* Why an endpoint's fix runs (xhci_ep.fix_flags). */
#define FIX_CANCEL	0x1u	/* every TD ends PB_ECANCELED */
#define FIX_TIMEOUT	0x2u	/* the head TD timed out */
#define FIX_RESET	0x4u	/* halted by an error: reset, skip the TD */
#define FIX_RETRY	0x8u	/* soft retry of the head TD (§4.6.8.1) */
#define FIX_RERUN	0x10u	/* control: run the head TD again */

struct xhci_ep {
	struct xhci_ring ring;	/* ring.trb NULL: not enabled */
	struct usb_req *head, *tail;	/* TDs on the ring, oldest first */
	struct usb_req *whead, *wtail;	/* waiting to go on it */
	uint64_t ghost;		/* last TRB of a TD that ended short */
	struct xop fix;		/* its recovery, when queued */
	uint8_t fix_queued;
	uint8_t fix_flags;	/* FIX_* */
	uint8_t stalled;	/* halted by a STALL: waits for CLEAR_HALT */
	uint8_t busy;		/* being configured: TDs wait */
	/* the endpoint context's fields, kept to build it again */
	uint8_t type;		/* enum ep_type */
	uint8_t interval;
	uint8_t burst;
	uint8_t mult;
	uint16_t mps;
	uint16_t avg;
	uint32_t esit;
};

struct xhci_dev {
	uint32_t dev;		/* the bus's number */
	uint32_t parent;	/* 0: on a root port */
	uint8_t port;		/* on the parent, from 1 */
	uint8_t speed;		/* enum usb_speed */
	uint8_t psiv;		/* the slot context's Speed */
	uint8_t slot;		/* 0: not enabled yet */
	uint8_t root_port;
	uint8_t depth;		/* hubs between it and the root port */
	uint8_t tt_slot, tt_port, mtt;
	uint8_t hub, nports, ttt, hub_mtt;	/* USB_OP_HUB */
	uint8_t entries;	/* the slot context's Context Entries */
	uint8_t addressed;	/* Address Device done */
	uint8_t default_only;	/* ... with BSR=1: no address yet */
	uint8_t gone;		/* its port went: requests refused */
	uint8_t lost;		/* stopped answering: requests refused */
	uint8_t timeouts;	/* transfer timeouts in a row */
	uint32_t route;
	volatile uint32_t *out;	/* device (output) context */
	uint64_t out_bus;
	/* By DCI, 1-31: made when first enabled (EP0 with the slot), kept
	 * until the slot goes; NULL for one never enabled (a keyboard uses
	 * 2 of the 31, so the record no longer holds them all: issue 16). */
	struct xhci_ep *ep[CTX_ENTRIES];
};

/* Endpoint dci of d when its ring is there (enabled), else NULL. */
static inline struct xhci_ep *
ep_live(const struct xhci_dev *d, unsigned dci)
{
	struct xhci_ep *ep = dci < CTX_ENTRIES ? d->ep[dci] : NULL;

	return ep && ep->ring.trb ? ep : NULL;
}

/* --- root ports ------------------------------------------------------ */

struct xhci_proto {
	uint8_t major, minor;
	uint8_t first, count;	/* ports first .. first+count-1 */
	uint8_t slot_type;
	uint8_t npsi;
	uint32_t psi[XHCI_MAX_PSI];
};

enum port_state {
	PORT_IDLE = 0,	/* nothing connected (or not looked at) */
	PORT_DEBOUNCE,	/* connected: let it settle */
	PORT_RESET,	/* PR (or WPR) written: PRC to come */
	PORT_TRAIN,	/* USB3: the link trains itself (PED to come) */
	PORT_RECOVER,	/* reset done: TRSTRCY before the bus talks to it */
	PORT_ENABLED,	/* told the bus (USB_EVENT_CONNECT) */
	PORT_FAILED,	/* given up until it disconnects */
};

struct xhci_port {
	uint8_t no;		/* PORTSC number, from 1 */
	uint8_t usb3;
	int8_t proto;		/* index in xhci.proto, -1: none */
	uint8_t state;		/* enum port_state */
	uint8_t speed;		/* enum usb_speed, when enabled */
	uint8_t psiv;
	uint8_t resets;		/* tries of this connection */
	uint8_t warm;		/* the reset is a warm one (WPR) */
	uint64_t next;		/* look again at (0: not waiting) */
	uint64_t deadline;	/* give up at */
};

/* An event for WAIT_EVENT (abi/usb.h u.event). */
struct xev {
	uint8_t kind, port, speed;
	uint32_t dev;
};

/* --- the controller ---------------------------------------------------- */

enum hc_state {
	HC_DOWN = 0,	/* not set up (standby, released, stopped) */
	HC_HANDOFF,	/* USBLEGSUP OS Owned set: BIOS Owned to clear */
	HC_READY,	/* USBSTS.CNR to clear */
	HC_HALT,	/* R/S cleared: HCH to come */
	HC_RESET,	/* HCRST set: it and CNR to clear */
	HC_START,	/* R/S set: HCH to clear */
	HC_POWER,	/* PP set on every port: power to settle */
	HC_UP,		/* running: ports and requests served */
	HC_DEAD,	/* gave up (one log line said why) */
};

enum irq_kind { IRQ_POLL = 0, IRQ_MSI = 1, IRQ_MSIX = 2 };

struct xhci {
	struct pb_module *self;
	const struct pb_hub *hub;
	struct pb_conn *pci;		/* the function we drive */
	struct pb_conn *irqc;		/* the interrupt router, optional */
	struct pci_func_info fn;
	volatile uint8_t *bar, *op, *rt, *db;
	uint64_t bar_size;

	/* what the capability registers say (caps.c) */
	uint16_t version;
	uint32_t hcs1, hcs2, hcc1;
	unsigned nports, nslots, ctxsz, nscratch;
	uint64_t dma_limit;		/* AC64=0: below 4 GiB */
	unsigned legacy;		/* USBLEGSUP offset from BAR0, 0: none */
	int smis_off;			/* the firmware's SMIs known off
					 * (handoff_note_smis): until then
					 * bus mastering stays on */
	struct xhci_proto proto[XHCI_MAX_PROTO];
	unsigned nproto;

	/* the bring-up (hc.c) */
	enum hc_state hstate;
	uint64_t h_next, h_deadline, h_t0;

	/* memory the controller reads */
	uint64_t *dcbaa;
	uint64_t dcbaa_bus;
	uint64_t *spa;			/* scratchpad buffer array */
	uint64_t spa_bus;
	void **sp;			/* the scratchpad pages (CPU view) */
	struct xhci_ring cmd;
	struct xhci_evring ev;
	struct xhci_erst *erst;
	uint64_t erst_bus;
	uint32_t *ictx;			/* the input context (one command at
					 * a time: one suffices) */
	uint64_t ictx_bus;

	/* commands (cmd.c): the queue's head runs, one command at a time */
	struct xop *ops, *ops_tail;
	int cmd_busy;			/* a command is on the ring */
	int cmd_orphan;			/* ... whose op went meanwhile */
	uint64_t cmd_bus;		/* ... its TRB */
	uint32_t cmd_index;
	uint64_t cmd_deadline;
	int aborting;			/* CRCR.CA written */
	struct xop *abort_op;		/* ... its op, stepped on after */
	uint64_t abort_deadline;

	/* The request whose completion rq_complete is posting: a fault
	 * before the post leaves it here, for the export (state.c). */
	struct usb_req *posting;

	/* devices by the bus's number and by slot */
	struct xhci_dev *devs[XHCI_MAX_SLOTS];
	struct xhci_dev *by_slot[XHCI_MAX_SLOTS + 1];	/* by Slot ID, 1..nslots */

	/* root ports and the bus's events (port.c) */
	struct xhci_port port[XHCI_MAX_PORTS];
	struct usb_req *waiters, *waiters_tail;
	struct xev evq[XHCI_EVQ];
	unsigned evq_head, evq_n;
	int evq_overflow;

	/* interrupts (irq.c) */
	int vector;			/* ours, or -1 */
	enum irq_kind irq;
	const char *irq_why;		/* why polling */
	int poll_id;			/* the polling timer */
	int took_over;			/* imported its predecessor's state */
	int look_id;			/* the lost interrupt's look */
	uint32_t look_deq;		/* the event ring's dequeue then */
	uint32_t looks;			/* events it took */
	struct pb_work ev_work;
	volatile uint32_t pend;		/* USBSTS bits the handler took */

	/* the step timer (xhci.c) */
	int tick_id;
	uint64_t tick_at;
	int timer_failed;

	/* unexpected events, said once a second (event.c) */
	uint64_t junk_t0;
	unsigned junk_n;

	/* the swap (state.c) */
	int standby;			/* started as the new side */
	int quiesced;			/* no new commands */
	int released;			/* the hardware is the next driver's */
	int stopping;
	int handed;			/* the requests went with export */
	uint64_t q_deadline;		/* quiesce: HCH by then */
	struct usb_req *held, *held_tail;	/* imported: wait for RESUME */
	uint64_t held_deadline;
	int superseded;			/* a successor drove it since */
	struct usb_req **imported;	/* import's, taken at activate */
	uint32_t nimported;
	struct pb_work note_work;	/* activate's line, said after */
	unsigned note_reqs, note_held;

	uint32_t seq;
	/* the bus driver: whose `done` items its own requests (WAIT_EVENT,
	 * the set-up ops) carry; while it goes, none is posted to it */
	const struct pb_module *bus_mod;
	int bus_going;
	struct pb_resource *res;
	char name[XHCI_NAME_MAX];
	char path[XHCI_PATH_MAX];	/* pci:BB:DD.F */
	int said_up;
};

/* Registers, at their own width. */
static inline uint32_t
cap_rd(const struct xhci *a, unsigned off)
{
	return mmio_read32(a->bar + off);
}

static inline uint32_t
op_rd(const struct xhci *a, unsigned off)
{
	return mmio_read32(a->op + off);
}

static inline void
op_wr(const struct xhci *a, unsigned off, uint32_t v)
{
	mmio_write32(a->op + off, v);
}

/* A 64-bit register as its low then its high dword (§5.1). */
static inline void
op_wr64(const struct xhci *a, unsigned off, uint64_t v)
{
	mmio_write32(a->op + off, (uint32_t)v);
	mmio_write32(a->op + off + 4, (uint32_t)(v >> 32));
}

static inline void
ir_wr(const struct xhci *a, unsigned off, uint32_t v)
{
	mmio_write32(a->rt + RT_IR(0) + off, v);
}

static inline void
ir_wr64(const struct xhci *a, unsigned off, uint64_t v)
{
	mmio_write32(a->rt + RT_IR(0) + off, (uint32_t)v);
	mmio_write32(a->rt + RT_IR(0) + off + 4, (uint32_t)(v >> 32));
}

static inline void
db_ring(const struct xhci *a, unsigned slot, uint32_t target)
{
	mmio_wmb();		/* the TRBs before the doorbell */
	mmio_write32(a->db + DB(slot), target);
}

#define xlog(a, lvl, ...) pb_logf((a)->hub, (a)->self, (lvl), __VA_ARGS__)

/* The DCI of endpoint address `ep` (§4.5.1): EP0 is 1, OUT n is 2n, IN n
 * is 2n+1. */
static inline unsigned
dci_of(uint8_t ep)
{
	unsigned n = ep & 0x0fu;

	return n == 0 ? 1 : 2 * n + (ep >> 7);
}

/* xhci.c */
uint64_t xhci_now(const struct xhci *a);
void tick_arm(struct xhci *a, uint64_t when);
void xhci_fail_all(struct xhci *a, int status);
void xhci_forget_devices(struct xhci *a);

/* caps.c */
int caps_read(struct xhci *a, const char **why);
void caps_protocols(struct xhci *a);
int caps_speed(const struct xhci *a, const struct xhci_port *p,
    unsigned psiv);
unsigned caps_psiv(unsigned speed);
void caps_port_range(const struct xhci *a, int usb3, char *buf, size_t cap);

/* handoff.c */
int handoff_begin(struct xhci *a);
int handoff_step(struct xhci *a, uint64_t t);
void handoff_note_smis(struct xhci *a);
void handoff_route_ports(struct xhci *a);

/* hc.c */
void hc_begin(struct xhci *a);
void hc_step(struct xhci *a);
int hc_enable_pci(struct xhci *a);
void hc_halt_now(struct xhci *a);
void hc_free_memory(struct xhci *a);
void hc_dead(struct xhci *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hc_log_up(struct xhci *a);

/* ring.c */
int ring_alloc(struct xhci *a, struct xhci_ring *r, uint32_t n);
void ring_free(struct xhci *a, struct xhci_ring *r);
void ring_reset(struct xhci_ring *r);
uint32_t ring_room(const struct xhci_ring *r);
uint32_t ring_put(struct xhci_ring *r, uint64_t param, uint32_t status,
    uint32_t control);
void ring_arm_first(struct xhci_ring *r, uint32_t index, uint8_t cycle);
uint64_t ring_bus(const struct xhci_ring *r, uint32_t index);
int ring_index(const struct xhci_ring *r, uint64_t bus, uint32_t *index);
uint32_t ring_next(const struct xhci_ring *r, uint32_t index);
int evring_alloc(struct xhci *a);
void evring_free(struct xhci *a);
int evring_take(struct xhci *a, struct xhci_trb *out);
void evring_done(struct xhci *a);

/* irq.c */
void irq_setup(struct xhci *a);
void irq_teardown(struct xhci *a);
const char *irq_name(const struct xhci *a);
void xhci_intr(void *arg);
void xhci_event_work(void *arg);
void irq_collect(struct xhci *a);
void irq_reconsider(struct xhci *a);

/* event.c */
void event_drain(struct xhci *a);
void event_junk(struct xhci *a, const struct xhci_trb *t, const char *why);

/* cmd.c */
void op_queue(struct xhci *a, struct xop *op);
void op_unlink(struct xhci *a, struct xop *op);
void cmd_kick(struct xhci *a);
void cmd_issue(struct xhci *a, uint64_t param, uint32_t status,
    uint32_t control);
void cmd_event(struct xhci *a, const struct xhci_trb *t);
void cmd_timeouts(struct xhci *a, uint64_t t);
uint64_t cmd_next_deadline(const struct xhci *a);
void cmd_reset_state(struct xhci *a);
void op_done(struct xhci *a, struct xop *op, int status);
const char *cc_name(unsigned cc);
const char *op_name(unsigned kind);

/* ctx.c */
void ctx_input_clear(struct xhci *a);
volatile uint32_t *ctx_input(struct xhci *a, unsigned index);
volatile uint32_t *ctx_out(const struct xhci *a, const struct xhci_dev *d,
    unsigned dci);
void ctx_slot(struct xhci *a, const struct xhci_dev *d);
void ctx_ep(struct xhci *a, const struct xhci_dev *d, unsigned dci,
    uint64_t deq, uint8_t dcs);
int ctx_ep_params(const struct xhci_dev *d, const struct usb_endpoint_desc *e,
    const struct usb_ss_ep_comp_desc *ss, struct xhci_ep *ep);
unsigned ctx_interval(unsigned speed, unsigned type, unsigned binterval);
unsigned ctx_ep0_mps(unsigned speed);
unsigned ep_state(const struct xhci *a, const struct xhci_dev *d,
    unsigned dci);

/* dev.c */
struct xhci_dev *dev_find(const struct xhci *a, uint32_t dev);
int dev_check(struct xhci *a, struct usb_req *r);
void dev_op_step(struct xhci *a, struct xop *op, int cc,
    const struct xhci_trb *ev);
void dev_free(struct xhci *a, struct xhci_dev *d);
void dev_gone(struct xhci *a, unsigned root_port);
void dev_lost(struct xhci *a, struct xhci_dev *d, const char *why);

/* fix.c */
void fix_queue(struct xhci *a, struct xhci_dev *d, unsigned dci,
    uint8_t flags);
void fix_step(struct xhci *a, struct xop *op, int cc);
void fix_ended(struct xhci *a, struct xop *op);

/* xfer.c */
int xfer_check(struct xhci *a, struct usb_req *r);
void xfer_take(struct xhci *a, struct usb_req *r);
void xfer_flush(struct xhci *a, struct xhci_dev *d, unsigned dci);
void xfer_restart(struct xhci *a, struct xhci_dev *d, unsigned dci);
void xfer_event(struct xhci *a, const struct xhci_trb *t);
void xfer_timeouts(struct xhci *a, uint64_t t);
uint64_t xfer_next_deadline(const struct xhci *a);
void xfer_cancel_ep(struct xhci *a, struct xhci_dev *d, unsigned dci);
void xfer_end_all(struct xhci *a, struct xhci_dev *d, unsigned dci,
    int status);
void xfer_end_doomed(struct xhci *a, struct xhci_dev *d, unsigned dci);
void xfer_end_head(struct xhci *a, struct xhci_dev *d, unsigned dci,
    int status, uint32_t actual);
void xfer_head_started(struct xhci *a, struct xhci_ep *ep,
    struct usb_req *r);
void xfer_ring_doorbells(struct xhci *a);

/* port.c */
void port_power_on(struct xhci *a);
void port_scan(struct xhci *a);
void port_event(struct xhci *a, unsigned no);
void port_steps(struct xhci *a, uint64_t t);
uint64_t port_next(const struct xhci *a);
void port_tell(struct xhci *a, uint8_t kind, unsigned port, unsigned speed,
    uint32_t dev);
void port_wait_event(struct xhci *a, struct usb_req *r);
int port_reset_again(struct xhci *a, unsigned no);
void port_report_all(struct xhci *a);

/* req.c */
extern const struct usb_hci_ops xhci_hci_ops;
void rq_complete(struct xhci *a, struct usb_req *r, int status,
    uint32_t actual);
void rq_list_add(struct usb_req **head, struct usb_req **tail,
    struct usb_req *r);
struct usb_req *rq_list_pop(struct usb_req **head, struct usb_req **tail);
int rq_is_setup_op(uint8_t op);
void rq_start_op(struct xhci *a, struct usb_req *r);

/* gone.c */
int gone_forget(void *ctx, uint32_t dev, uint8_t ep,
    const struct pb_module *owner);

/* state.c */
int state_quiesce(struct xhci *a);
void state_forget(struct xhci *a);
int state_size(struct xhci *a, size_t *len);
int state_export(struct xhci *a, void *buf, size_t cap, size_t *len);
int state_release(struct xhci *a);
int state_resume(struct xhci *a);
int state_import(struct xhci *a, const void *buf, size_t len,
    uint32_t version);
int state_activate(struct xhci *a);
void state_held_up(struct xhci *a);
void state_note(void *arg);
void state_resume_dev(struct xhci *a, uint32_t dev);
unsigned state_drop_held(struct xhci *a, uint32_t dev, uint8_t ep,
    int status);
void state_held_timeout(struct xhci *a, uint64_t t);

#endif
