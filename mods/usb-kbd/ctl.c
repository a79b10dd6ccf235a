/*
 * ctl.c - the class requests on the default pipe (HID 1.11 §7.2), one in
 * flight at a time, in this order: SET_PROTOCOL(0, boot) so the reports
 * are the 8 bytes of Appendix B whatever the report descriptor says;
 * SET_IDLE(0) so the keyboard reports only when something changes (we
 * repeat keys ourselves, repeat.c); SET_REPORT(output) with the LED byte
 * whenever the locks change.  Each is state the device keeps, marked
 * USB_REQ_REPLAY: the bus sends it again after a controller swap.
 *
 * A keyboard that stalls SET_IDLE (many do: it is optional for them in
 * practice) or SET_PROTOCOL still works: its reports are read all the
 * same, with a line saying so.  Reading starts once both were answered.
 */
#include "usbkbd.h"

/* bRequest of the HID class requests (HID 1.11 §7.2). */
#define HID_SET_REPORT		0x09
#define HID_SET_IDLE		0x0a
#define HID_SET_PROTOCOL	0x0b
#define HID_REPORT_OUTPUT	0x02	/* wValue's high byte for SET_REPORT */
#define HID_PROTOCOL_BOOT	0
#define CLASS_OUT_IFACE	(USB_TYPE_CLASS | USB_RECIP_INTERFACE)	/* 0x21 */

static void ctl_done(void *arg);

static const char *
ctl_name(unsigned which)
{
	return which == CTL_PROTOCOL ? "SET_PROTOCOL(boot)" :
	    which == CTL_IDLE ? "SET_IDLE(0)" : "SET_REPORT(LEDs)";
}

/* The request for `which`, ready to submit. */
static void
ctl_build(struct ukbd *k, unsigned which)
{
	struct usb_req *r = &k->ctl;

	ukbd_req_reset(r);
	r->op = USB_OP_XFER;
	r->flags = USB_REQ_REPLAY;
	r->client_data = (void *)(uintptr_t)which;
	r->u.setup.bmRequestType = CLASS_OUT_IFACE;
	r->u.setup.wIndex = k->iface;
	switch (which) {
	case CTL_PROTOCOL:
		r->u.setup.bRequest = HID_SET_PROTOCOL;
		r->u.setup.wValue = HID_PROTOCOL_BOOT;
		break;
	case CTL_IDLE:
		r->u.setup.bRequest = HID_SET_IDLE;
		r->u.setup.wValue = 0;	/* duration 0: indefinite; report 0 */
		break;
	default:
		r->u.setup.bRequest = HID_SET_REPORT;
		r->u.setup.wValue = HID_REPORT_OUTPUT << 8;	/* report ID 0 */
		r->u.setup.wLength = 1;
		k->buf[USBKBD_LED_OFF] = hidmap_leds(k->locks);
		r->length = 1;
		r->segs = &k->lseg;
		r->nseg = 1;
		break;
	}
}

/* The set-up is over (answered either way): reading starts. */
static void
setup_answered(struct ukbd *k)
{
	if (k->setup_done || (k->ctl_pending & (CTL_PROTOCOL | CTL_IDLE)))
		return;
	k->setup_done = 1;
	intr_arm(k);
	if (k->intr_busy)
		KLOG(k, PB_LOG_INFO, "set up: its reports are read");
}

/* Send the next request due, unless one is in flight. */
void
ctl_next(struct ukbd *k)
{
	unsigned which;
	int r;

	while (!k->ctl_busy && k->ctl_pending && k->usb && !k->quiescing &&
	    !k->released) {
		which = k->ctl_pending & -k->ctl_pending;	/* lowest */
		k->ctl_pending &= ~which;
		ctl_build(k, which);
		k->ctl.status = USBKBD_PENDING;
		if ((r = PB_CALL(k->usb, usb_ops, submit, &k->ctl)) == PB_OK) {
			k->ctl_busy = 1;
			return;
		}
		KLOG(k, PB_LOG_WARN, "%s refused by the bus (%d)",
		    ctl_name(which), r);
	}
	setup_answered(k);
}

static void
ctl_done(void *arg)
{
	struct ukbd *k = ukbd_of(arg, "a class request's completion");

	if (k && k->ctl.status != USBKBD_PENDING)	/* else posted twice */
		ctl_completed(k);
}

void
ctl_completed(struct ukbd *k)
{
	unsigned which = (unsigned)(uintptr_t)k->ctl.client_data;
	int st = k->ctl.status;

	k->ctl_busy = 0;
	if (k->gone) {
		ukbd_idle_check(k);
		return;
	}
	if (st == PB_ECANCELED || st == PB_ENODEV) {
		ukbd_rebound_check(k);	/* the old bus's cancel */
		return;		/* the device went: its withdrawal follows */
	}
	if (st == USB_ESTALL && which == CTL_IDLE)
		KLOG(k, PB_LOG_INFO, "SET_IDLE stalled (the keyboard does not "
		    "take it): its reports come as it sends them");
	else if (st == USB_ESTALL && which == CTL_PROTOCOL)
		KLOG(k, PB_LOG_WARN, "SET_PROTOCOL(boot) stalled: reading its "
		    "reports as boot reports all the same");
	else if (st != PB_OK && which == CTL_LEDS && k->leds_failed++)
		;		/* a keyboard without LEDs: said once */
	else if (st != PB_OK)
		KLOG(k, PB_LOG_WARN, "%s failed (%d)%s", ctl_name(which), st,
		    which == CTL_LEDS ? "; not said again" : "");
	setup_answered(k);
	ctl_next(k);
}

/* Protocol, idle, then the LEDs as the locks are (an imported state's
 * too); the work item once. */
void
ctl_setup(struct ukbd *k)
{
	if (!k->ctl.done.fn)
		uk.hub->work_init(uk.self, &k->ctl.done, ctl_done, k);
	k->setup_done = 0;
	k->ctl_pending |= CTL_PROTOCOL | CTL_IDLE | CTL_LEDS;
	ctl_next(k);
}

void
ctl_leds(struct ukbd *k)
{
	k->ctl_pending |= CTL_LEDS;
	ctl_next(k);
}
