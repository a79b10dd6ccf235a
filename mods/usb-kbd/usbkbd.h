/*
 * usbkbd.h - the usb-kbd module's shared state, and what its files offer
 * one another.
 *
 *   usbkbd.c	the module: descriptor, start/stop, the keyboards it
 *		takes (the one its bind rule loaded it for, the others by
 *		subscription), the `keyboard` operations
 *   desc.c	the interface's descriptors: its interrupt-IN endpoint
 *   ctl.c	class requests on the default pipe, one at a time:
 *		SET_PROTOCOL, SET_IDLE, SET_REPORT (the LEDs)
 *   intr.c	the standing interrupt-IN request and its recovery
 *   keys.c	reports into key events, the locks, the key queue
 *   repeat.c	typematic repeat of the last key pressed, by timer
 *   state.c	quiesce, export/import (struct keyboard_state), release,
 *		activate, resume
 *   report.c, hidmap.c	pure logic: report differences, usages to keys
 */
#ifndef USBKBD_USBKBD_H
#define USBKBD_USBKBD_H

#include "../../abi/pbmod.h"
#include "../../abi/keyboard.h"
#include "../../abi/usb.h"
#include "../../abi/rt/keyq.h"
#include "../../abi/rt/keymap.h"
#include "hidmap.h"
#include "report.h"

#define USBKBD_NAME	"usb-kbd"
/* The `usb` version our connections ask for: 1.0.  1.1's device reset
 * is asked when a keyboard keeps failing (intr.c), not needed: a 1.0 bus
 * refuses it and the keyboard is left alone as before. */
#define USBKBD_USB_MINOR 0
#define USBKBD_MAX	4	/* keyboards one module instance drives */
#define USBKBD_PATH_MAX	64
#define USBKBD_PROPS_MAX 256	/* a resource's properties, read */
#define USBKBD_BUF	64	/* DMA bytes per keyboard: report, LEDs */
#define USBKBD_LED_OFF	32	/* where the LED byte is in them */
/* A request's status while the bus has it: the bus writes the real one
 * (PB_OK or a negative error) when it completes it. */
#define USBKBD_PENDING	1

/* Typematic as ps2 sets its keyboard (kbd.c, 0xF3 0x24): 500 ms, then
 * 20.7 keys a second. */
#define REPEAT_DELAY_NS	(500ull * 1000 * 1000)
#define REPEAT_EVERY_NS	(48309179ull)		/* 1 s / 20.7 */

/* A failing interrupt IN (PB_EIO: the controller's retries done) is
 * tried again this many times, waiting 10, 20, 40 ... ms, then the
 * device is reset once (intr.c), then left. */
#define INTR_RETRIES	6
#define INTR_BACKOFF_NS	(10ull * 1000 * 1000)

/* Class requests not yet sent (ctl.c). */
enum { CTL_PROTOCOL = 1, CTL_IDLE = 2, CTL_LEDS = 4 };

/* One keyboard: one `usb` interface, one keyboard:usbkbdN. */
struct ukbd {
	int used;		/* the slot is taken (until completions came) */
	unsigned no;		/* N of usbkbdN: the slot */
	struct pb_conn *usb;	/* the interface; NULL once gone */
	char usbname[48];	/* its resource's name */
	struct pb_resource *res;
	char path[USBKBD_PATH_MAX];	/* the usb resource's path= */
	uint8_t iface;		/* bInterfaceNumber: wIndex of requests */
	uint8_t ep;		/* the interrupt-IN endpoint's address */
	uint16_t mps;
	uint8_t interval;	/* bInterval, as the descriptor says */

	/* DMA: the report at 0, the LED byte at USBKBD_LED_OFF */
	uint8_t *buf;
	uint64_t bus;
	struct usb_seg rseg, lseg;
	struct usb_req intr;	/* the standing request, or CLEAR_HALT */
	struct usb_req ctl;	/* the class request in flight */
	int intr_busy, ctl_busy;
	int intr_halt;		/* the intr request is a CLEAR_HALT */
	int intr_reset;		/* the intr request is a RESET_DEVICE */
	int reset_tried;	/* one since the last report: no more */
	int cancelled;		/* quiesce asked the bus to cancel it */
	unsigned ctl_pending;	/* CTL_* still to send */
	int setup_done;		/* SET_PROTOCOL and SET_IDLE answered */
	unsigned leds_failed;	/* SET_REPORT failures (said at the first) */
	unsigned failures;	/* interrupt IN errors in a row */
	int retry_timer;	/* the backoff's timer; 0 none */
	int stopped;		/* input given up on (said once) */
	int rebound;		/* the bus started over: set up again once
				 * nothing of ours is out (usbkbd.c) */

	int active;		/* set up and reading: keys served */
	int quiescing;		/* a swap: nothing new is submitted */
	int released;		/* the device is the next driver's */
	int gone;		/* the interface went: free once idle */

	/* keys */
	struct hid_boot_report prev;	/* the last report taken */
	uint16_t locks;		/* KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL */
	struct keyq keys;
	int rep_timer;		/* typematic; 0 none */
	uint8_t rep_usage;	/* the key repeating */
	uint32_t rep_resets;	/* the device's resets when it went down */
	uint32_t short_reports, short_said, drops_said;
};

struct usbkbd {
	const struct pb_hub *hub;
	struct pb_module *self;
	const struct keymap *map;
	int started;		/* between start and stop */
	int standby;		/* started in standby, not activated yet */
	struct pb_conn *bind;	/* the bind connection, before start */
	/* A slot's keyboard, allocated at its first keyboard and kept until
	 * the module goes (its DMA units share the page): one keyboard
	 * takes 2 KiB, not 4 times that. */
	struct ukbd *kbd[USBKBD_MAX];
};

extern struct usbkbd uk;

#define KLOG(k, level, ...) ukbd_log((k), (level), __VA_ARGS__)
void ukbd_log(const struct ukbd *k, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* usbkbd.c */
int ukbd_attach(struct pb_conn *c);	/* a keyboard, published */
void ukbd_start_io(struct ukbd *k);	/* set-up requests, then reading */
void ukbd_rebound_check(struct ukbd *k);	/* after PB_EV_REBOUND */
void ukbd_idle_check(struct ukbd *k);	/* a gone keyboard's slot freed */
void ukbd_take_others(void);		/* every boot keyboard, now and later */
void ukbd_req_reset(struct usb_req *r);	/* zeroed but its work item */
/* desc.c: the interrupt-IN endpoint; PB_ENODEV and *why when none fits */
int desc_find_intr_in(const uint8_t *d, size_t len, uint8_t *ep,
    uint16_t *mps, uint8_t *interval, const char **why);
/* ctl.c */
void ctl_setup(struct ukbd *k);		/* protocol, idle, LEDs */
void ctl_leds(struct ukbd *k);		/* the LEDs show k->locks */
void ctl_next(struct ukbd *k);
/* intr.c */
struct ukbd *ukbd_of(void *arg, const char *what);
void ctl_completed(struct ukbd *k);
void intr_completed(struct ukbd *k);
void intr_arm(struct ukbd *k);
void intr_stop_timer(struct ukbd *k);
void intr_cancel(struct ukbd *k);
/* keys.c */
void keys_report(struct ukbd *k, const uint8_t *rep, uint32_t len);
uint16_t keys_mods(const struct ukbd *k);
void keys_put(struct ukbd *k, uint32_t code, int down);
/* repeat.c */
void repeat_start(struct ukbd *k, uint8_t usage);
void repeat_stop(struct ukbd *k);
/* state.c: the swap entry points */
int state_quiesce(struct pb_module *m);
int state_export(struct pb_module *m, void *buf, size_t cap, size_t *len,
    uint32_t *version);
int state_import(struct pb_module *m, const void *buf, size_t len,
    uint32_t version);
int state_release(struct pb_module *m);
int state_activate(struct pb_module *m);
int state_resume(struct pb_module *m);

#endif
