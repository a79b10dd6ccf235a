/*
 * usbhub.h - usb-hub's own declarations: the hubs it drives, their
 * ports, and the requests it sends them.
 *
 * One instance drives every hub: the first through its bind rule, the
 * others connected by hand as their `usb` resources appear (a module is
 * bound to one device; usbhub.c).  Each hub has one control request (a
 * hub answers one at a time anyway: hub.c picks what goes next), its
 * standing interrupt-IN request on the status change endpoint (status.c),
 * its standing USB_OP_HUB_RESET_WAIT (reset.c) and, per port, one request
 * for USB_OP_PORT_ON/OFF (port.c).  Waits are
 * per-port deadlines on one timer per hub.  Nothing is allocated per
 * request; a hub's memory lives until its last request completed.
 */
#ifndef PB_USBHUB_USBHUB_H
#define PB_USBHUB_USBHUB_H

#include "../../abi/pbmod.h"
#include "../../abi/usb.h"
#include "desc.h"

#define UH_NAME "usb-hub"
/* The `usb` version our connections ask for: 1.0 has all we use. */
#define USBHUB_USB_MINOR 0
#define UH_HUBS 32		/* hubs driven at once */
#define UH_RES_MAX 64		/* a resource name, as the hub keeps it */
#define UH_PROPS_MAX 256

/* Times (ns).  USB 2.0 §7.1.7.3 (TATTDB, debounce), §7.1.7.5 (TRSTRCY,
 * reset recovery); the rest are our bounds. */
#define MS 1000000ull
#define UH_DEBOUNCE_NS (100 * MS)
#define UH_RECOVERY_NS (10 * MS)
#define UH_RESET_POLL_NS (20 * MS)	/* status looks while resetting */
#define UH_RESET_NS (500 * MS)		/* one reset's bound */
#define UH_RESET_TRIES 3
#define UH_BOUNCES 5			/* debounce restarts, at most */
#define UH_ENUM_NS (5000 * MS)		/* the bus's PORT_ON, for the token */
#define UH_OC_NS (500 * MS)		/* over-current: power again after */
#define UH_OC_TRIES 3
#define UH_INTR_RETRY_NS (100 * MS)	/* status endpoint errors */
#define UH_INTR_ERRORS 3

/* Hub class requests (USB 2.0 Table 11-16, USB 3.2 Table 10-8). */
#define HUB_REQ_SET_HUB_DEPTH 12

/* Feature selectors (USB 2.0 Table 11-17, USB 3.2 Table 10-9). */
enum hub_feature {
	FEAT_C_HUB_LOCAL_POWER = 0,
	FEAT_C_HUB_OVER_CURRENT = 1,
	FEAT_PORT_RESET = 4,
	FEAT_PORT_POWER = 8,
	FEAT_C_PORT_CONNECTION = 16,
	FEAT_C_PORT_ENABLE = 17,
	FEAT_C_PORT_SUSPEND = 18,
	FEAT_C_PORT_OVER_CURRENT = 19,
	FEAT_C_PORT_RESET = 20,
	FEAT_C_PORT_LINK_STATE = 25,
	FEAT_C_PORT_CONFIG_ERROR = 26,
	FEAT_BH_PORT_RESET = 28,
	FEAT_C_BH_PORT_RESET = 29,
};

/* wPortStatus (USB 2.0 Table 11-21, USB 3.2 Table 10-13). */
#define PORT_STAT_CONNECTION	0x0001
#define PORT_STAT_ENABLE	0x0002
#define PORT_STAT_SUSPEND	0x0004
#define PORT_STAT_OVER_CURRENT	0x0008
#define PORT_STAT_RESET		0x0010
#define PORT_STAT_POWER		0x0100	/* USB 2 */
#define PORT_STAT_LOW_SPEED	0x0200	/* USB 2 */
#define PORT_STAT_HIGH_SPEED	0x0400	/* USB 2 */
#define PORT_STAT_SS_POWER	0x0200	/* USB 3 */
#define PORT_STAT_SS_LINK(s)	(((s) >> 5) & 0xfu)
#define SS_LINK_INACTIVE	0x6
#define SS_LINK_COMPLIANCE	0xa

/* wPortChange (USB 2.0 Table 11-22, USB 3.2 Table 10-14). */
#define PORT_CHG_CONNECTION	0x0001
#define PORT_CHG_ENABLE		0x0002	/* USB 2 */
#define PORT_CHG_SUSPEND	0x0004	/* USB 2 */
#define PORT_CHG_OVER_CURRENT	0x0008
#define PORT_CHG_RESET		0x0010
#define PORT_CHG_BH_RESET	0x0020	/* USB 3 */
#define PORT_CHG_LINK_STATE	0x0040	/* USB 3 */
#define PORT_CHG_CONFIG_ERROR	0x0080	/* USB 3 */
#define PORT_CHG_USB2		0x001f
#define PORT_CHG_USB3		0x00f9

/* wHubStatus/wHubChange (USB 2.0 Tables 11-19, 11-20). */
#define HUB_STAT_OVER_CURRENT	0x0002
#define HUB_CHG_LOCAL_POWER	0x0001
#define HUB_CHG_OVER_CURRENT	0x0002

enum port_state {
	PORT_IDLE = 0,		/* nothing there that we know of */
	PORT_DEBOUNCE,		/* connected: waits for it to settle */
	PORT_WAIT_RESET,	/* settled: waits for the reset token */
	PORT_RESETTING,		/* PORT_RESET sent: waits for C_PORT_RESET */
	PORT_RECOVERY,		/* reset: TRSTRCY before the bus addresses */
	PORT_ENUM,		/* PORT_ON sent: the bus enumerates */
	PORT_ON,		/* the bus has the device */
	PORT_FAILED,		/* given up until its next connect change */
	PORT_OC,		/* over-current: power again at `due` */
	PORT_REPOWER,		/* power sent again: waits for power good */
};

/* What a port (or hub) wants sent on the control pipe. */
#define WANT_STATUS	0x01
#define WANT_POWER	0x02
#define WANT_RESET	0x04
#define WANT_HUB_STATUS	0x08

struct uhub;

struct uport {
	struct uhub *hub;
	uint8_t num;			/* from 1 */
	uint8_t state;			/* enum port_state */
	uint8_t speed;			/* enum usb_speed, at the last reset */
	uint8_t want;			/* WANT_* */
	uint16_t clear;			/* change bits still to clear */
	uint16_t status, change;	/* as last read */
	uint8_t bus_on;			/* the bus has a device here: a
					   PORT_ON it took, no OFF since */
	uint8_t onoff_busy;		/* `onoff` is the bus's */
	uint8_t off_wanted;		/* PORT_OFF once the PORT_ON is back */
	uint8_t on_wanted;		/* PORT_ON again once it is back */
	uint8_t warm;			/* the reset is a warm one (USB 3) */
	uint8_t tries, bounces, oc_count;
	uint32_t seq;			/* the order of WAIT_RESET */
	uint64_t due;			/* the state's next step (0: none) */
	uint64_t deadline;		/* the reset's bound */
	struct usb_req onoff;
};

enum hub_setup {
	SETUP_DESC = 0,		/* GET_DESCRIPTOR(hub) */
	SETUP_DEPTH,		/* SET_HUB_DEPTH (USB 3) */
	SETUP_CONFIG,		/* USB_OP_HUB_CONFIG to the bus */
	SETUP_POWER,		/* SET_FEATURE(PORT_POWER) on every port */
	SETUP_PWRGOOD,		/* bPwrOn2PwrGood */
	SETUP_RUNNING,		/* the status endpoint armed */
};

/* What the control request carries (hub.c). */
enum ctl_kind {
	CTL_NONE = 0,
	CTL_DESC,
	CTL_DEPTH,
	CTL_CONFIG,
	CTL_POWER,
	CTL_RESET,
	CTL_STATUS,
	CTL_CLEAR,
	CTL_HUB_STATUS,
	CTL_HUB_CLEAR,
};

#define UH_CTL_BUF 80		/* >= HUB_DESC_ASK */
#define UH_INTR_BUF 8

struct uhub {
	struct pb_conn *conn;		/* NULL: gone, or let go (release) */
	int gone;			/* its resource went */
	int dead;			/* stopped: an error, logged */
	int by_hand;			/* conn made by us, not the bind */
	int released;			/* let go for the next instance */
	int cancelled;			/* its status request, by quiesce */
	char res[UH_RES_MAX];		/* "usb:1-5-0" */
	struct usb_info info;
	uint8_t ss;			/* a USB 3 hub */
	uint8_t mtt;			/* multi-TT (interface protocol 2) */
	uint8_t chain;			/* ports from the root to the hub */
	uint8_t setup;			/* enum hub_setup */
	uint8_t imported;		/* set up by the instance before us */
	uint8_t want;			/* WANT_HUB_STATUS */
	uint16_t hub_clear;		/* hub change bits to clear */
	uint8_t next_port;		/* where the pump looks first */
	struct hub_desc desc;
	struct hub_ep ep;
	uint16_t intr_len;
	uint64_t due;			/* set-up's power good */
	uint64_t intr_due;		/* the status endpoint armed again */
	int timer;			/* hub->timer_after id, 0: none */
	uint64_t timer_at;

	uint8_t *buf;			/* DMA: control data, then bitmap */
	uint64_t buf_bus;
	struct usb_seg ctl_seg, intr_seg;
	struct usb_req ctl, intr, halt;
	uint8_t ctl_busy, ctl_kind, ctl_port, ctl_retried;
	uint8_t intr_busy, intr_stopped, intr_stalls, intr_errors;
	uint8_t halt_busy;
	struct usb_req rwait;		/* the bus's port resets (reset.c) */
	uint8_t rwait_busy, rwait_refused, rwait_cancelled;
	struct uport port[HUB_PORTS_MAX + 1];	/* [1..nports] */
};

/* The state one instance hands the next (swap.c): per hub, what was set
 * up and what the bus has on each port. */
#define UH_STATE_VERSION 0x05b0a001u
#define UH_SPORT_ON	0x01	/* the bus has a device there */
#define UH_SPORT_FAILED	0x02	/* given up until a connect change */

struct uh_state {
	uint32_t nhubs;
	uint32_t reserved;
	/* Followed by nhubs struct uh_state_hub. */
};

struct uh_state_hub {
	char res[UH_RES_MAX];
	uint8_t configured;		/* HUB_CONFIG and port power done */
	uint8_t nports;
	uint16_t characteristics;
	uint16_t pwr_good_ms;
	uint16_t reserved;
	uint8_t flags[HUB_PORTS_MAX + 1];	/* UH_SPORT_*, [1..nports] */
	uint8_t speed[HUB_PORTS_MAX + 1];
	uint8_t oc[HUB_PORTS_MAX + 1];
};
_Static_assert(sizeof(struct uh_state_hub) == UH_RES_MAX + 8 + 48,
    "uh_state_hub layout");

struct uh_mod {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct uhub *hubs[UH_HUBS];
	struct pb_conn *bind;		/* connected before start/activate */
	struct uport *resetting;	/* holds the reset token */
	uint32_t seq;
	int active;			/* serving (not standby, not released) */
	int quiescing;
	int subscribed;
};

extern struct uh_mod uh;

void uh_logf(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define hub_log(h, level, fmt, ...) \
	uh_logf(level, "%s: " fmt, (h)->res, ##__VA_ARGS__)
#define port_log(p, level, fmt, ...) \
	uh_logf(level, "%s: port %u: " fmt, (p)->hub->res, (p)->num, \
	    ##__VA_ARGS__)

/* usbhub.c */
int uh_props_of(const char *res, char *props, size_t cap);
int uh_take_hubs(void);

/* hub.c */
struct uhub *hub_add(struct pb_conn *c, int by_hand);
struct uhub *hub_by_conn(const struct pb_conn *c);
struct uhub *hub_by_res(const char *res);
void hub_gone(struct uhub *h);
void hub_fail(struct uhub *h);
void hub_free_if_idle(struct uhub *h);
int hub_busy(const struct uhub *h);
void hub_pump(struct uhub *h);
void hub_pump_all(void);
void hub_timer_update(struct uhub *h);
void hub_timers_stop(void);
int hub_submit(struct uhub *h, struct usb_req *r, const char *what);
void req_reset(struct usb_req *r);
void ctl_xfer(struct uhub *h, int kind, uint8_t port, uint8_t type,
    uint8_t req, uint16_t value, uint16_t index, uint16_t length,
    uint16_t flags);
void ctl_bus_op(struct uhub *h, int kind, uint8_t op);
int hub_alive(const struct uhub *h);
void hub_forget_all(void);

/* setup.c */
void setup_start(struct uhub *h);
void setup_send(struct uhub *h);
void setup_powered(struct uhub *h);
void setup_done(struct uhub *h, int kind, int status, uint32_t actual);
void setup_due(struct uhub *h);
void setup_running(struct uhub *h);

/* status.c */
void intr_arm(struct uhub *h);
void intr_done(void *arg);
void halt_done(void *arg);
void hub_status_in(struct uhub *h, uint16_t status, uint16_t change);
void hub_read_all(struct uhub *h);

/* port.c */
void port_init(struct uhub *h, struct uport *p, uint8_t num);
void port_status_in(struct uport *p, uint16_t status, uint16_t change);
void port_status_failed(struct uport *p, int status);
void port_reset_sent(struct uport *p, int status);
void port_due(struct uport *p);
void port_power_sent(struct uport *p, int status);
void port_forget(struct uport *p);
void onoff_done(void *arg);
void reset_grant(void);
const char *speed_name(uint8_t speed);

void port_reset_for_bus(struct uport *p);

/* reset.c */
void rwait_arm(struct uhub *h);
void rwait_done(void *arg);
void rwait_cancel(struct uhub *h);

/* swap.c */
int uh_quiesce(struct pb_module *m);
int uh_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version);
int uh_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version);
int uh_release(struct pb_module *m);
int uh_activate(struct pb_module *m);
int uh_resume(struct pb_module *m);
void swap_forget(void);
const struct uh_state_hub *swap_imported(const char *res);

#endif
