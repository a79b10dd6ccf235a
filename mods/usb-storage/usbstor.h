/*
 * usbstor.h - usb-storage's parts and what they share.
 *
 *   usbstor.c  descriptor, entry points, connection events
 *   dev.c      the sticks: connections, endpoints, names, gone and dead
 *   bot.c      Bulk-Only Transport: CBW, data, CSW, stalls, reset recovery
 *   cmd.c      a SCSI command through BOT, with REQUEST SENSE on failure
 *   probe.c    a stick's attach: GET MAX LUN, then per LUN INQUIRY, TEST
 *              UNIT READY, START STOP UNIT, READ CAPACITY, MODE SENSE
 *   lun.c      `block` 1.0 per LUN: info, submit's checks, properties
 *   queue.c    block requests in order, one command at a time, retried
 *   map.c      a request's buffer as usb segments, command by command
 *   state.c    the swap: quiesce, export/import of struct block_state
 *   scsi.c     CDBs and the answers' parsing; sense.c: sense data
 *   sane.c     the driver's own damage: work with a wrong argument, a
 *              completion gone astray, code that no longer does its job
 *   gone.c     a block client gone: its requests dropped unwritten
 *
 * One module instance drives every stick (the hub binds a module once):
 * the first through its bind rule, the others through a subscription to
 * `usb` resources (usbstor.c).  Each stick is a `struct usbstor_dev` with
 * one BOT engine: one command on the wire at a time, so one queue of
 * block requests per stick, for all of its LUNs, in submission order.
 *
 * Time: every stage on the wire has a deadline (one timer per stick);
 * waits between commands (a LUN becoming ready) are timer steps too.
 * Completions of usb requests and timers run as work items.
 */
#ifndef USBSTOR_H
#define USBSTOR_H

#include "../../abi/pbmod.h"
#include "../../abi/block.h"
#include "../../abi/usb.h"
#include "bot.h"
#include "scsi.h"

#ifndef USBSTOR_NAME
#define USBSTOR_NAME "usb-storage"
#endif

/* The `usb` version our connections ask for (abi/pb.h: a provider
 * serves clients of its minor or older): 1.0.  1.1's port reset
 * (USB_OP_RESET_DEVICE) is asked of the bus, not needed: a 1.0 bus
 * refuses it (PB_EINVAL) and the stick is then dead as before. */
#define USBSTOR_USB_MINOR 0

#define USBSTOR_DEVS	8	/* sticks at once */
#define USBSTOR_LUNS	(BOT_MAX_LUN + 1)
#define USBSTOR_SEGS	32	/* usb segments of one data stage (map.c
				   splits a scattered request's commands) */
/* block_info's limits: what efi-block takes (the requests it had at the
 * takeover come to us), whatever the bus's: map.c splits. */
#define USBSTOR_MAX_SEGS 64
#define USBSTOR_MAX_XFER (1u << 20)
#define USBSTOR_TRIES	3	/* issues of a request before it fails */
#define USBSTOR_UA_MAX	8	/* unit attentions in a row at attach */
#define USBSTOR_ERRORS_LOGGED 8	/* failures logged per LUN */
#define USBSTOR_NAME_MAX 16
#define USBSTOR_PROPS	256
#define USBSTOR_DEV_MAX	(BLOCK_PATH_MAX - 8)	/* dev=, then /lun:15 */

/* Timing (ns). */
#define MS		1000000ull
/* One command, CBW to CSW.  Long on purpose: a controller (xhci) swap
 * under the bus holds our requests while the bus enumerates the stick
 * again (up to 2 s, abi/usb.h), and a slow stick may take a second or
 * more for a write; giving up early would reset a healthy device. */
#define T_CMD		(10000 * MS)
#define T_CTRL		(5000 * MS)	/* a control request (reset, halt) */
#define T_CANCEL	(2000 * MS)	/* a cancelled request coming back */
/* A port reset (USB_OP_RESET_DEVICE), asked to its completion: the bus
 * finds the device again within 2 s (abi/usb.h) and bounds the
 * enumeration that follows at 10 s (mods/usb/bus.h BUS_ENUM_NS), then
 * completes it either way.  Longer than both, so that the bus's verdict
 * (the stick back, or removed) comes first; ours is for a bus that
 * never answers. */
#define T_PORT_RESET	(15000 * MS)
#define T_READY		(10000 * MS)	/* a LUN to become ready at attach */
#define T_READY_POLL	(100 * MS)	/* between two TEST UNIT READY */
#define T_RETRY		(100 * MS)	/* a request after "becoming ready" */

/* The stick's DMA block: CBW, CSW, and the data of our own commands. */
#define DMA_CBW		0
#define DMA_CSW		64
#define DMA_DATA	256
#define DMA_DATA_LEN	256
#define DMA_SIZE	(DMA_DATA + DMA_DATA_LEN)
_Static_assert(MODE_SENSE_LEN <= DMA_DATA_LEN && CAP16_LEN <= DMA_DATA_LEN,
    "internal answers fit the data area");

struct usbstor_dev;

struct usbstor_lun {
	struct usbstor_dev *dev;
	uint8_t lun;
	uint8_t present;	/* probed, or handed over: published */
	uint8_t known;		/* its geometry is known */
	uint8_t type;		/* SCSI peripheral device type */
	uint32_t block_size;
	uint64_t block_count;
	uint32_t flags;		/* BLOCK_* */
	uint32_t media_id;
	char vendor[9], product[17], rev[5];
	char name[USBSTOR_NAME_MAX];	/* usb0, usb0.l1 */
	char path[BLOCK_PATH_MAX];	/* dev=, then /lun:L */
	struct pb_resource *res;
	unsigned errors;	/* failures logged */
};

enum dev_state {
	DEV_FREE = 0,
	DEV_STANDBY,	/* the new side of a swap: known, not driven yet */
	DEV_ATTACHING,	/* probing its LUNs */
	DEV_READY,	/* serving */
	DEV_FAILED,	/* nothing on it we can serve: left alone */
	DEV_DEAD,	/* stopped answering: requests fail PB_ENODEV */
	DEV_GONE,	/* disconnected: waits for the bus to give back a
			 * request still in flight, then the slot is free */
};

enum bot_state {
	BS_IDLE = 0,
	BS_CBW,		/* the CBW on bulk-OUT */
	BS_DATA,	/* the data stage */
	BS_CLEAR_DATA,	/* the data endpoint stalled: clearing it (§6.7) */
	BS_CSW,		/* the CSW on bulk-IN */
	BS_CLEAR_CSW,	/* the CSW stalled: clearing bulk-IN, then again */
	BS_RESET,	/* reset recovery (§5.3.4): the class reset */
	BS_RESET_IN,	/* ... CLEAR_FEATURE(HALT) of bulk-IN */
	BS_RESET_OUT,	/* ... and of bulk-OUT */
	BS_CONTROL,	/* a class request of ours (GET MAX LUN) */
	BS_PORT_RESET,	/* the recovery failed: the bus resets the port
			 * and sets the stick up again (USB_OP_RESET_DEVICE) */
};

/* A usb request's status while the bus has it.  Providers complete with
 * PB_OK or a negative status, so a request whose completion work went
 * astray (a damaged argument) is still seen to have completed. */
#define BOT_PENDING	1

/* The outcome of a command (bot_cmd.result, dev.result). */
#define CMD_GOOD	0	/* CSW passed */
#define CMD_CHECK	1	/* CSW failed; dev.sense says why */
/* or: PB_EIO (transport failed, the stick was reset), PB_ENODEV (the
 * stick stopped answering), PB_ECANCELED (the stick went), and for a
 * class request the usb status. */

struct bot_cmd {
	uint8_t cdb[CBW_CB_MAX];
	uint8_t cdb_len, lun, in;
	uint16_t nseg;
	uint32_t length;		/* the data stage, bytes */
	struct usb_seg seg[USBSTOR_SEGS];
	int result;
	uint32_t actual;		/* bytes the data stage moved */
	uint32_t residue;		/* the CSW's */
};

struct bot {
	enum bot_state state;
	struct usb_req req;		/* one stage at a time */
	int in_flight;			/* req is the bus's */
	int cancelled;			/* we cancelled it: a timeout */
	int lost;			/* the bus never gave it back */
	int csw_again;			/* the CSW was read a second time */
	unsigned recovered;		/* reset recoveries in a row that the
					 * stick answered (a CSW clears it) */
	int answered;			/* a CSW came, in this instance */
	int port_reset;			/* one was asked since the last CSW
					 * (or since this instance began):
					 * not again */
	enum bot_state rr_stage;	/* the reset recovery's stage that */
	int rr_status;			/* failed, and how: dead()'s words
					 * after the port reset */
	uint32_t tag;
	uint64_t deadline;		/* of the command's stages */
	struct usb_seg wrap;		/* the CBW's or the CSW's */
	struct bot_cmd cmd;
	void (*done)(struct usbstor_dev *d);
};

enum timer_kind { TK_NONE = 0, TK_BOT, TK_CANCEL, TK_WAIT };

struct probe {
	unsigned lun;			/* being probed */
	unsigned tries;			/* of this step */
	unsigned ua;			/* unit attentions in a row */
	int started;			/* START STOP UNIT sent */
	int said_waiting;		/* "becoming ready" logged */
	uint64_t deadline;		/* of the TEST UNIT READY loop */
	uint64_t last;			/* READ CAPACITY's */
	uint32_t bs;
};

struct usbstor_dev {
	enum dev_state state;
	unsigned index;			/* in us.dev[] */
	unsigned no;			/* usbN */
	struct pb_conn *conn;		/* the `usb` connection */
	int by_hand;			/* conn is ours, not the bind rule's */
	int handed;			/* the bind rule's conn went to the
					 * next driver at a swap's rebind */
	char res[64];			/* its resource name */
	char dev[USBSTOR_DEV_MAX];	/* its dev= property */
	char serial[40];
	uint8_t iface, ep_in, ep_out;
	uint8_t nluns;			/* GET MAX LUN + 1 */
	uint8_t nlun_cap;		/* LUN records in lun[] (dev_luns) */
	uint8_t speed;			/* enum usb_speed */
	uint32_t max_transfer;		/* the bus's, per request */
	uint16_t max_segs;
	uint64_t dma_limit;
	uint8_t *dma;			/* DMA_SIZE bytes */
	uint64_t dma_bus;

	struct bot bot;
	int result;			/* of the last command (cmd.c) */
	uint32_t actual, residue;
	struct scsi_sense sense;
	void (*then)(struct usbstor_dev *d);

	int timer_id;
	enum timer_kind timer_kind;
	uint64_t timer_at;		/* when it is due */
	void (*wait_fn)(struct usbstor_dev *d);

	struct probe probe;

	struct block_req *head, *tail;	/* queued, oldest first */
	unsigned nqueued;
	struct block_req *cur;		/* its command is under way */
	uint32_t cur_off;		/* bytes of it done */
	uint32_t cur_len;		/* bytes its command moves */
	unsigned cur_tries;		/* issues that failed */
	unsigned cur_waits;		/* pauses for a unit becoming ready */
	int waiting;			/* cur waits to be issued again */
	struct pb_work kick;		/* dispatches the queue */

	/* nlun_cap of them: one from dev_new, for LUN 0 (almost every
	 * stick has no other), more when GET MAX LUN or a swap names more
	 * (dev_luns); a slot holds them from its first stick until the
	 * module stops. */
	struct usbstor_lun *lun;
};

/* A request's provider scratch (block_req.scratch) while it is ours. */
struct usbstor_rq {
	struct block_req *next;
	uint32_t lun;			/* index into its stick's lun[] */
	uint32_t checked;		/* io_check passed on a known LUN */
};
_Static_assert(sizeof(struct usbstor_rq) <= BLOCK_SCRATCH, "scratch");

static inline struct usbstor_rq *
rq_of(struct block_req *r)
{
	return (struct usbstor_rq *)(void *)r->scratch;
}

/* A request and its stick, kept aside by export and import. */
struct usbstor_held {
	struct block_req *r;
	uint32_t dev, lun;
};

struct usbstor {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *bound;		/* the bind rule's, before start */
	int started;
	int standby;			/* the new side of a swap */
	int quiesced;
	int released;			/* the sticks are the next driver's */
	int subscribed;
	/* A slot's stick, allocated at its first stick and kept (DEV_FREE
	 * between sticks) until the module stops: one stick takes 1.5 KiB,
	 * not eight times that; NULL: never used. */
	struct usbstor_dev *dev[USBSTOR_DEVS];
	struct usbstor_held *held;	/* what the last export handed */
	uint32_t nheld;
	struct usbstor_held *imported;	/* import's, queued at activate */
	uint32_t nimported;
	/* usb resources we could not drive: not tried again (a ring) */
	char declined[USBSTOR_DEVS][64];
	unsigned ndeclined;
};

extern struct usbstor us;

/* Slot i's stick unless the slot is unused (NULL, or DEV_FREE). */
static inline struct usbstor_dev *
dev_in_use(unsigned i)
{
	struct usbstor_dev *d = us.dev[i];

	return d && d->state != DEV_FREE ? d : NULL;
}

#define slog(lvl, ...) pb_logf(us.hub, us.self, (lvl), __VA_ARGS__)

/* Does the hub's table (it only grows) have service f? */
#define HUB_HAS(h, f) \
	((h)->size >= offsetof(struct pb_hub, f) + sizeof((h)->f))

/* sane.c */
struct usbstor_dev *dev_of(void *arg, const char *what);
void usbstor_damaged(struct usbstor_dev *d, const char *why);
void sweep_completions(void);

/* dev.c */
void dev_timer_fired(void *arg);
void sweep_timers(void);
struct usbstor_dev *dev_new(const char *res);
int dev_luns(struct usbstor_dev *d, unsigned n);
int dev_bind(struct usbstor_dev *d, struct pb_conn *c);
struct usbstor_dev *dev_add(struct pb_conn *c);
struct usbstor_dev *dev_of_conn(const struct pb_conn *c);
struct usbstor_dev *dev_of_path(const char *dev);
struct usbstor_dev *dev_handed(const char *res);
void dev_scan(void);
void dev_disconnected(struct usbstor_dev *d);
void dev_gone(struct usbstor_dev *d, const char *why);
void dev_dead(struct usbstor_dev *d);
void dev_maybe_free(struct usbstor_dev *d);
unsigned dev_pick_no(const struct usbstor_dev *d);
int res_at(unsigned i, struct pb_res_info *ri);
int res_props_of(const char *name, char *buf, size_t cap, unsigned *clients,
    const char **owner);
void dev_timer(struct usbstor_dev *d, uint64_t ns, enum timer_kind kind);
void dev_timer_off(struct usbstor_dev *d);
void dev_wait(struct usbstor_dev *d, uint64_t ns,
    void (*fn)(struct usbstor_dev *d));
void dev_forget(struct usbstor_dev *d);

/* bot.c */
void bot_start(struct usbstor_dev *d, void (*done)(struct usbstor_dev *d));
void bot_reset_recovery(struct usbstor_dev *d,
    void (*done)(struct usbstor_dev *d));
void bot_control(struct usbstor_dev *d, uint8_t request, uint32_t len,
    void (*done)(struct usbstor_dev *d));
void bot_req_done(void *arg);
void bot_timeout(struct usbstor_dev *d);
void bot_cancel_wait_over(struct usbstor_dev *d);
int bot_busy(const struct usbstor_dev *d);

/* cmd.c */
void cmd_run(struct usbstor_dev *d, void (*then)(struct usbstor_dev *d));
void cmd_internal(struct usbstor_dev *d, uint8_t lun, const uint8_t *cdb,
    unsigned cdb_len, uint32_t in_len);
void cmd_sense_text(const struct usbstor_dev *d, char *buf, size_t cap);

/* probe.c */
void probe_begin(struct usbstor_dev *d);

/* lun.c */
extern const struct block_ops usbstor_block_ops;
int io_check(struct usbstor_lun *l, const struct block_req *r);
void lun_props(const struct usbstor_lun *l, char *buf, size_t cap);
int lun_publish(struct usbstor_lun *l);
void lun_withdraw(struct usbstor_lun *l);
void lun_say(const struct usbstor_lun *l);
void lun_name(struct usbstor_lun *l);

/* queue.c */
void io_queue(struct usbstor_dev *d, struct block_req *r, uint32_t lun);
void io_queue_first(struct usbstor_dev *d, struct block_req *r, uint32_t lun);
void io_kick(struct usbstor_dev *d);
void io_dispatch(void *arg);
void io_fail_all(struct usbstor_dev *d, int status);
void io_forget(struct usbstor_dev *d);
void io_drop_unserved(struct usbstor_dev *d);
/* gone.c: a client went (PB_EV_CLIENT_GONE, conn as the hub hands it). */
void io_client_gone(struct pb_conn *c);

/* map.c */
uint32_t map_chunk_max(const struct usbstor_dev *d, uint32_t bs);
int map_check(struct usbstor_dev *d, const struct block_req *r);
uint32_t map_range(struct usbstor_dev *d, const struct block_req *r,
    uint32_t off, uint32_t want, uint32_t bs, struct bot_cmd *c);

/* state.c */
int state_quiesce(void);
int state_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int state_import(const void *buf, size_t len, uint32_t version);
int state_activate(void);
int state_release(void);
int state_resume(void);
void state_standby_devices(void);
void state_forget(void);

/* sense.c: what a failed request's sense means for it. */
enum sense_act { ACT_OK, ACT_RETRY, ACT_RETRY_LATER, ACT_FAIL };
int sense_action(const struct scsi_sense *s, int op, int *status);

#endif
