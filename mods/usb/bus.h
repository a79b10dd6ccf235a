/*
 * bus.h - the usb module's own declarations: the controllers it drives
 * through `usb-hci`, the devices it numbers, and the requests it passes
 * between them.
 *
 *   usb.c     descriptor, start/stop, connection events, the one timer
 *   hci.c     controllers: their connection, the standing WAIT_EVENT
 *             request, root port events
 *   dev.c     the device table: numbers, places, removal of a subtree
 *   enum.c    the enumeration state machine (and again after a swap)
 *   desc.c    the descriptor checks (desc.h, pure)
 *   names.c   resource names, `dev=`/`path=` and the properties (pure)
 *   publish.c one `usb` resource per interface
 *   fwd.c     the `usb` operations: class drivers' requests forwarded
 *   aux.c     requests that take a step of the bus first: CLEAR_HALT,
 *             HUB_CONFIG; a hub's PORT_ON and PORT_OFF
 *   swap.c    a controller swap: devices found again, the replay list
 *   reset.c   a class driver's device reset: the same, for one device
 *
 * Requests: a class driver's request is forwarded as it is (req->dev set)
 * and completes straight from the controller to its `done`; while it
 * waits in the bus it is linked through its bus_scratch (struct bscr).
 * The bus's own requests (enumeration, the aux step, removal) live in the
 * device record, one of each, so nothing is allocated per I/O; a record
 * is freed only once none of them is at the controller.
 */
#ifndef PB_USB_BUS_H
#define PB_USB_BUS_H

#include "../../abi/pbmod.h"
#include "../../abi/usb.h"
#include "desc.h"

#define BUS_NAME "usb"
#define BUS_HCIS 4		/* controllers */
#define BUS_DEVS 64		/* devices, all controllers; dev = index + 1 */
#define BUS_TIERS 6		/* a root port and 5 hubs (USB 2.0 §4.1.1) */
#define BUS_REPLAY 24		/* replayed requests kept per device */
#define BUS_REPLAY_DATA 8	/* bytes of data each */
#define BUS_STR 48		/* product and serial, as kept */
#define BUS_BUF 256		/* a device's descriptor buffer */
#define BUS_PLACE 96		/* "pci:00:04.0/usb:5.2" */
#define BUS_ENUM_NS 10000000000ull	/* one enumeration, at most */
#define BUS_SWAP_NS 2000000000ull	/* found again after a swap, or gone */
#define BUS_TICK_NS 100000000ull	/* the timer that checks both */
#define BUS_RES_MAX 64		/* a resource's name, as the hub keeps it */
#define BUS_PROPS 256		/* and its properties */

struct udev;

/* A controller: one `usb-hci` connection. */
struct hci {
	int used;
	unsigned num;			/* C of `usb:C-P.P-I`: slot + 1 */
	struct pb_conn *conn;
	int by_hand;			/* connected by the bus (not the bind) */
	char res[BUS_RES_MAX];		/* "usb-hci:xhci0" */
	char path[BUS_PLACE];		/* its path=, "pci:00:04.0" */
	struct usb_hci_info info;
	uint16_t minor;			/* the provider's usb-hci minor */
	/* Two WAIT_EVENT requests: one stands; after a swap the new
	 * controller is asked (ep=1) while the old one may still hold the
	 * other. */
	struct usb_req ev[2];
	uint8_t ev_busy[2];
	uint8_t ev_retry;		/* ask again at the next tick */
	uint8_t ev_err_logged;
	struct udev *adding;		/* the one device being addressed */
};

enum dstate {
	D_FREE = 0,
	D_ENUM,		/* being enumerated (enum.c), fresh or after a swap */
	D_READY,	/* configured, interfaces published */
	D_LOST,		/* a swap: waiting to be found again (swap.c) */
	D_GONE,		/* removed; freed once the controller let go */
};

/* One interface's alternate setting 0, published as a `usb` resource. */
struct uif {
	struct udev *dev;
	struct desc_if d;
	struct pb_resource *res;
	char name[40];			/* "1-5.2-0", the resource's */
	const struct pb_module *client;	/* its driver: whose `done` items
					 * its requests carry */
};

/* A host-to-device control request replayed after a swap. */
struct replay {
	struct usb_setup setup;
	uint8_t data[BUS_REPLAY_DATA];
};

struct udev {
	enum dstate state;
	uint32_t num;			/* `dev`: index in the table + 1 */
	struct hci *hci;
	struct udev *parent;		/* NULL: on a root port */
	uint8_t port, speed, depth;	/* depth 0: a root port */
	uint8_t chain[BUS_TIERS];	/* the ports from the root on */
	char name[32];			/* "1-5.2" */
	char place[BUS_PLACE];		/* dev=: "pci:00:04.0/usb:5.2" */

	/* What it said of itself. */
	struct usb_device_desc dd;
	uint16_t mps0, langid;
	char product[BUS_STR], serial[BUS_STR];
	uint8_t *cfgbuf;		/* the configuration, DMA memory */
	uint64_t cfg_bus;
	uint16_t cfg_len;
	struct desc_cfg cfg;
	/* cfg.nif of them, made when first published and kept until the
	 * record is freed (a stick or keyboard has one interface: 16 in
	 * the record were 1.2 KiB of its 3.3: issue 16). */
	struct uif *ifs;
	unsigned nifs;
	int announced;			/* its `plugged` line was logged */

	/* USB_OP_HUB, as the hub driver asked (HUB_CONFIG) */
	struct { uint8_t set, nports, mtt, ttt; } hub;
	struct replay rp[BUS_REPLAY];
	unsigned nrp;

	/* The enumeration (enum.c). */
	int again;			/* after a swap: the same device? */
	int two_step;			/* this attempt: the address last */
	int step, attempt, idx;
	int need_resume;		/* added during a swap: RESUME at end */
	int timed_out;
	uint64_t deadline;		/* D_ENUM: give up; D_LOST: remove */
	struct usb_req *port_on;	/* the hub driver's, until enumerated */
	struct usb_req ctl;
	struct usb_seg ctl_seg;
	uint8_t *buf;			/* BUS_BUF bytes of DMA memory */
	uint64_t buf_bus;

	/* The aux step (aux.c) and the requests waiting for it. */
	struct usb_req aux;
	struct usb_req *aux_outer;
	uint8_t aux_hub[3];		/* the HUB_CONFIG being set */
	struct usb_req *auxq_head, *auxq_tail;

	/* Class drivers' requests held while the device is not ready. */
	struct usb_req *held_head, *held_tail;
	uint32_t resets;		/* set up again after a swap (usb_info) */
	uint64_t fault_until;		/* D_READY, held after a controller
					 * fault: wait for it until then */

	/* A class driver's USB_OP_RESET_DEVICE runs (reset.c): the device
	 * is D_LOST meanwhile, its `rm` the REMOVE, then the PORT_RESET.
	 * reset_req is the request, NULL once its driver went. */
	uint8_t resetting;
	struct usb_req *reset_req;
	/* A hub: its driver's standing USB_OP_HUB_RESET_WAIT (reset.c). */
	struct usb_req *reset_wait;

	struct usb_req rm;		/* USB_OP_REMOVE */
	uint8_t ctl_busy, aux_busy, rm_busy;
	uint8_t removed;		/* no slot: no ADD yet, or REMOVE sent */
};

/* What the bus keeps in a class driver's request while it holds it. */
struct bscr {
	struct usb_req *next;
	struct uif *f;
};
_Static_assert(sizeof(struct bscr) <= USB_SCRATCH_BUS, "bscr in scratch");

static inline struct bscr *
bscr(struct usb_req *r)
{
	return (struct bscr *)(void *)r->bus_scratch;
}

extern const struct pb_hub *bus_hub;
extern struct pb_module *bus_self;
extern struct hci bus_hcis[BUS_HCIS];
extern struct udev *bus_devs[BUS_DEVS];

#define bus_log(level, ...) pb_logf(bus_hub, bus_self, level, __VA_ARGS__)

/* usb.c */
void tick_arm(void);
const char *status_name(int status);
void req_complete(struct usb_req *r, int status);

/* hci.c */
void hci_connected(struct pb_conn *c, int by_hand);
void hci_gone(struct pb_conn *c);
void hci_rebound(struct pb_conn *c);
void hci_offered(const char *resname);
void hci_scan(void);
void hci_tick(void);
int hci_submit(struct hci *h, struct usb_req *r);
void hci_cancel(struct hci *h, uint32_t dev, uint8_t ep);
int hci_forget(struct hci *h, uint32_t dev, const struct pb_module *owner);
void hci_ask(struct hci *h, int rescan, int force);
struct hci *hci_of(struct pb_conn *c);
void hci_forget_all(void);

/* dev.c */
struct udev *dev_new(struct hci *h, struct udev *parent, uint8_t port,
    uint8_t speed);
struct udev *dev_at(struct hci *h, struct udev *parent, uint8_t port);
struct udev *dev_by_num(struct hci *h, uint32_t num);
void dev_remove(struct udev *d, const char *why);
int dev_unaddress(struct udev *d);
void dev_maybe_free(struct udev *d);
void dev_free_now(struct udev *d);
void dev_forget_config(struct udev *d);
void req_init(struct udev *d, struct usb_req *r, pb_work_fn fn);

/* enum.c */
extern int bus_two_step_first;		/* boot.cfg usb-address=two-step */
void enum_start(struct udev *d, int again, uint8_t speed);
void enum_tick(uint64_t now);
void enum_add_next(struct hci *h);
void enum_rm_done(void *arg);

/* names.c */
size_t dev_name_fmt(char *buf, size_t cap, unsigned hci, const uint8_t *chain,
    unsigned n);
size_t dev_place_fmt(char *buf, size_t cap, const char *hci_path,
    const uint8_t *chain, unsigned n);
size_t if_props_fmt(char *buf, size_t cap, const struct usb_device_desc *dd,
    const struct desc_if *f, int speed, const char *place,
    const char *serial);

/* publish.c */
int if_publish_all(struct udev *d);
void if_withdraw_all(struct udev *d);

/* fwd.c */
extern const struct usb_ops bus_usb_ops;
int fwd_dispatch(struct uif *f, struct usb_req *r, int queued);
void held_add(struct udev *d, struct usb_req *r);
void held_release(struct udev *d);
void held_fail_all(struct udev *d, int status);
void fwd_client_gone(struct pb_conn *c);

/* aux.c */
void aux_enqueue(struct udev *d, struct usb_req *r);
void aux_pump(struct udev *d);
void aux_done(void *arg);
void aux_forget(struct udev *d, struct uif *f, int status);
void port_on(struct uif *f, struct usb_req *r);
void port_off(struct uif *f, struct usb_req *r);

/* swap.c */
void swap_rebound(struct hci *h);
void swap_tick(uint64_t now);
void swap_fault_hold(struct udev *d, struct usb_req *r);
void swap_back(struct udev *d);
void swap_replaced(struct udev *d, const char *why);
int replay_note(struct udev *d, const struct usb_req *r);

/* reset.c */
int reset_start(struct uif *f, struct usb_req *r);
void reset_port(struct udev *d);
void reset_end(struct udev *d, int status);
int reset_wait_take(struct uif *f, struct usb_req *r);
void reset_wait_end(struct udev *d, const struct uif *f, int status);

#endif
