/*
 * usb-kbd - USB keyboards in the boot protocol (HID 1.11 §4.2, Appendix
 * B): provides `keyboard` 1.1, one resource per keyboard interface,
 * keyboard:usbkbd0, usbkbd1 ... with `path=` the usb resource's, and
 * layout=us.
 *
 * A bind rule loads the module for the first `usb` interface that is a
 * boot keyboard (class 03, subclass 01, protocol 01: a keyboard alone or
 * the keyboard interface of a combined device); the hub loads a bind
 * module once, so the module subscribes to `usb` and takes every later
 * one itself (connect by name), up to USBKBD_MAX.
 *
 *   start(NORMAL)	the keyboard's descriptors checked (desc.c), its
 *			resource published, set-up requests (ctl.c), then
 *			the standing interrupt-IN request (intr.c); the
 *			other boot keyboards there already taken too;
 *			PB_ENODEV with one line when it has no usable
 *			interrupt-IN endpoint
 *   start(STANDBY)	checked and published, nothing sent to the device
 *   quiesce ... resume	state.c
 *   event		the bind connection, later keyboards (PB_EV_RESOURCE),
 *			a keyboard that went (PB_EV_DISCONNECTED), its bus
 *			started over (PB_EV_REBOUND: set up again)
 *
 * QEMU: tools/qemu-run --config usbonly (-device qemu-xhci -device
 * usb-kbd: a boot keyboard on a root port), keys with the monitor's
 * `sendkey`.
 */
#include "usbkbd.h"

struct usbkbd uk;
static int subscribed;

void
ukbd_log(const struct ukbd *k, int level, const char *fmt, ...)
{
	char line[140];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pb_logf(uk.hub, uk.self, level, "usbkbd%u: %s", k->no, line);
}

/* --- the keyboard operations, ctx the keyboard -------------------------- */

static int
kb_read(void *ctx, struct key_event *ev)
{
	struct ukbd *k = ctx;

	if (!k->active || k->quiescing)
		return PB_EAGAIN;	/* a swap takes them */
	return keyq_get(&k->keys, ev) ? PB_OK : PB_EAGAIN;
}

/* The client sets the locks, and the LEDs show them. */
static int
kb_set_leds(void *ctx, uint16_t leds)
{
	struct ukbd *k = ctx;

	if (!k->active || k->quiescing)
		return PB_EBUSY;
	k->locks = leds & (KEYMOD_CAPS | KEYMOD_NUM | LOCK_SCROLL);
	ctl_leds(k);
	return PB_OK;
}

static int
kb_notify(void *ctx, struct pb_module *client, void (*fn)(void *),
    void *arg)
{
	struct ukbd *k = ctx;

	return keyq_set_notify(&k->keys, uk.hub, client, fn, arg);
}

static const struct keyboard_ops ukbd_keyboard_ops = {
	.read = kb_read,		/* from the keyboard's key queue */
	.set_leds = kb_set_leds,	/* the locks; SET_REPORT(output) */
	.notify = kb_notify,		/* keyq_tell after each report */
};

/* --- the keyboards --------------------------------------------------------- */

/* The properties of resource `name` ("" when it is not listed). */
static void
res_props(const char *name, char *buf, size_t cap)
{
	struct pb_res_info info;

	buf[0] = '\0';
	for (unsigned i = 0;; i++) {
		memset(&info, 0, sizeof(info));
		info.struct_size = sizeof(info);
		if (uk.hub->res_info(NULL, i, &info) != PB_OK)
			return;
		if (info.name && info.props && strcmp(info.name, name) == 0) {
			rt_strlcpy(buf, info.props, cap);
			return;
		}
	}
}

static struct ukbd *
free_slot(void)
{
	for (unsigned i = 0; i < USBKBD_MAX; i++) {
		struct ukbd *k = uk.kbd[i];

		if (k && k->used)
			continue;
		if (!k && !(k = uk.kbd[i] = uk.hub->alloc(uk.self, sizeof(*k))))
			return NULL;
		memset(k, 0, sizeof(*k));
		k->no = i;
		return k;
	}
	return NULL;
}

/* The interface's number and DMA limit, its interrupt-IN endpoint. */
static int
probe(struct ukbd *k, struct pb_conn *c, uint64_t *limit)
{
	struct usb_info info = { .size = sizeof(info) };
	uint8_t d[256];
	size_t len = 0;
	const char *why = "";
	int r;

	if ((r = PB_CALL(c, usb_ops, info, &info)) != PB_OK ||
	    (r = PB_CALL(c, usb_ops, descriptors, d, sizeof(d), &len)) !=
	    PB_OK) {
		KLOG(k, PB_LOG_ERR, "%s: declined: its info or descriptors "
		    "cannot be read (%d)", c->res, r);
		return r;
	}
	if ((r = desc_find_intr_in(d, len < sizeof(d) ? len : sizeof(d),
	    &k->ep, &k->mps, &k->interval, &why)) != PB_OK) {
		KLOG(k, PB_LOG_ERR, "%s: declined: %s", c->res, why);
		return r;
	}
	k->iface = info.iface;
	*limit = info.size >= offsetof(struct usb_info, dma_limit) + 8 ?
	    info.dma_limit : ~0ull;
	return PB_OK;
}

static int
publish(struct ukbd *k)
{
	char name[16], props[96];

	rt_snprintf(name, sizeof(name), "usbkbd%u", k->no);
	rt_snprintf(props, sizeof(props), "%s%s%slayout=%s",
	    k->path[0] ? "path=" : "", k->path, k->path[0] ? " " : "",
	    uk.map->name);
	k->res = uk.hub->publish(uk.self, KEYBOARD_IFACE, name, props,
	    &ukbd_keyboard_ops, k);
	return k->res ? PB_OK : PB_ENOMEM;
}

/* Take the interface behind c: checked, its buffers, its resource. */
int
ukbd_attach(struct pb_conn *c)
{
	struct ukbd *k = free_slot();
	char props[USBKBD_PROPS_MAX];
	uint64_t limit = ~0ull;
	int r;

	if (!k) {
		pb_logf(uk.hub, uk.self, PB_LOG_WARN, "%s: not taken: %u "
		    "keyboards are driven already, or no memory", c->res,
		    USBKBD_MAX);
		return PB_ENOMEM;
	}
	if ((r = probe(k, c, &limit)) != PB_OK)
		return r;
	k->buf = uk.hub->dma_alloc(uk.self, USBKBD_BUF, USBKBD_BUF, 0, limit,
	    &k->bus);
	if (!k->buf) {
		KLOG(k, PB_LOG_ERR, "%s: no DMA memory for its reports",
		    c->res);
		return PB_ENOMEM;
	}
	k->rseg = (struct usb_seg){ .va = k->buf, .bus = k->bus,
	    .len = sizeof(struct hid_boot_report) };
	k->lseg = (struct usb_seg){ .va = k->buf + USBKBD_LED_OFF,
	    .bus = k->bus + USBKBD_LED_OFF, .len = 1 };
	res_props(c->res, props, sizeof(props));
	rt_prop_get(props, "path", k->path, sizeof(k->path));
	keyq_init(&k->keys);
	rt_strlcpy(k->usbname, c->res, sizeof(k->usbname));
	k->usb = c;
	k->used = 1;
	if ((r = publish(k)) != PB_OK) {
		uk.hub->dma_free(uk.self, k->buf);
		k->used = 0;
		return r;
	}
	KLOG(k, PB_LOG_INFO, "boot keyboard on %s%s%s: interface %u, "
	    "interrupt IN 0x%02x (max packet %u, interval %u); layout %s",
	    c->res, k->path[0] ? " at " : "", k->path, k->iface, k->ep, k->mps,
	    k->interval, uk.map->name);
	return PB_OK;
}

/*
 * arg, a completion's, as one of our keyboards.  One that is none of
 * them (its work item damaged: the campaign's regbit flips a bit of it)
 * would leave its request taken for good, and the keyboard silent
 * without a fault: every keyboard's request that the bus has completed
 * (its status no longer USBKBD_PENDING) is served instead, and NULL.
 */
struct ukbd *
ukbd_of(void *arg, const char *what)
{
	unsigned n = 0;

	for (unsigned i = 0; i < USBKBD_MAX; i++)
		if (uk.kbd[i] && arg == uk.kbd[i])
			return uk.kbd[i];
	for (unsigned i = 0; i < USBKBD_MAX; i++) {
		struct ukbd *k = uk.kbd[i];

		if (k && k->ctl_busy && k->ctl.status != USBKBD_PENDING) {
			ctl_completed(k);
			n++;
		}
		if (k && k->intr_busy && k->intr.status != USBKBD_PENDING) {
			intr_completed(k);
			n++;
		}
	}
	pb_logf(uk.hub, uk.self, PB_LOG_ERR, "%s ran with %p, none of our "
	    "keyboards: %u completed request%s served", what, arg, n,
	    n == 1 ? "" : "s");
	return NULL;
}

/* A request filled afresh, keeping its work item (set up once). */
void
ukbd_req_reset(struct usb_req *r)
{
	struct pb_work done = r->done;

	memset(r, 0, sizeof(*r));
	r->done = done;
	r->size = sizeof(*r);
}

/* Set it up and read it. */
void
ukbd_start_io(struct ukbd *k)
{
	k->active = 1;
	k->quiescing = k->released = k->cancelled = 0;
	ctl_setup(k);
}

/*
 * The bus under the keyboard was restarted or swapped (PB_EV_REBOUND).
 * One restarted after its fault without its state found its devices
 * afresh: it cancelled what we had out and configured the device anew,
 * so the keyboard's own set-up and reading start over, once nothing of
 * ours is out (the cancel may still be on its way: its completion comes
 * back here).  A swap that handed our request over leaves it out, and its
 * answer, not a cancel, ends the wait (intr.c).  Campaign usb seed 8086
 * #308: the bus faulted, came back, and the keyboard stayed silent.
 */
void
ukbd_rebound_check(struct ukbd *k)
{
	if (!k->rebound || k->intr_busy || k->ctl_busy || k->gone ||
	    k->quiescing || k->released || !k->usb)
		return;
	k->rebound = 0;
	k->stopped = k->failures = k->reset_tried = 0;
	intr_stop_timer(k);
	KLOG(k, PB_LOG_INFO, "its bus started over: set up again");
	ukbd_start_io(k);
}

/* A keyboard that went is forgotten once nothing of it is in flight. */
void
ukbd_idle_check(struct ukbd *k)
{
	if (!k->gone || k->intr_busy || k->ctl_busy)
		return;
	if (k->buf && uk.started)	/* else the hub takes it back */
		uk.hub->dma_free(uk.self, k->buf);
	memset(k, 0, sizeof(*k));
}

static struct ukbd *
kbd_of_conn(const struct pb_conn *c)
{
	for (unsigned i = 0; i < USBKBD_MAX; i++)
		if (uk.kbd[i] && uk.kbd[i]->used && !uk.kbd[i]->gone &&
		    uk.kbd[i]->usb == c)
			return uk.kbd[i];
	return NULL;
}

/* The keyboard on usb resource `name` (its connection may be gone: a
 * swap handed it over). */
static struct ukbd *
kbd_of_res(const char *name)
{
	for (unsigned i = 0; i < USBKBD_MAX; i++)
		if (uk.kbd[i] && uk.kbd[i]->used && !uk.kbd[i]->gone &&
		    strcmp(uk.kbd[i]->usbname, name) == 0)
			return uk.kbd[i];
	return NULL;
}

/* The interface went: its resource goes (the clients are told), and
 * the slot once what was in flight has completed. */
static void
ukbd_gone(struct ukbd *k)
{
	KLOG(k, PB_LOG_INFO, "the keyboard went; %u unread keys dropped",
	    keyq_len(&k->keys));
	repeat_stop(k);
	intr_stop_timer(k);
	k->active = 0;
	k->gone = 1;
	k->usb = NULL;
	if (k->res)
		uk.hub->withdraw(uk.self, k->res);
	k->res = NULL;
	ukbd_idle_check(k);
}

/* Is a `usb` resource with these properties a boot keyboard? */
static int
boot_keyboard(const char *props)
{
	char v[8];

	return rt_prop_get(props, "class", v, sizeof(v)) && !strcmp(v, "03") &&
	    rt_prop_get(props, "subclass", v, sizeof(v)) && !strcmp(v, "01") &&
	    rt_prop_get(props, "protocol", v, sizeof(v)) && !strcmp(v, "01");
}

/* A `usb` resource appeared (or was there): take it if it is a boot
 * keyboard nobody drives. */
static void
consider(const char *name)
{
	char props[USBKBD_PROPS_MAX];
	struct pb_conn *c;

	if (kbd_of_res(name))
		return;
	res_props(name, props, sizeof(props));
	if (!boot_keyboard(props))
		return;
	if (!(c = uk.hub->connect(uk.self, USB_IFACE, USB_MAJOR,
	    USBKBD_USB_MINOR, name)))
		return;		/* another driver's (a swap's other side) */
	if (ukbd_attach(c) != PB_OK) {
		uk.hub->disconnect(uk.self, c);
		return;
	}
	ukbd_start_io(kbd_of_conn(c));
}

/* Every boot keyboard nobody holds, and the later ones as they come. */
void
ukbd_take_others(void)
{
	struct pb_res_info info;

	if (!subscribed && uk.hub->subscribe(uk.self, USB_IFACE) == PB_OK)
		subscribed = 1;
	for (unsigned i = 0;; i++) {
		memset(&info, 0, sizeof(info));
		info.struct_size = sizeof(info);
		if (uk.hub->res_info(NULL, i, &info) != PB_OK)
			break;
		if (info.iface && info.name && !strcmp(info.iface, USB_IFACE) &&
		    info.clients == 0)
			consider(info.name);
	}
}

/* --- the module ------------------------------------------------------------ */

static int
ukbd_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct pb_conn *bind = uk.bind;
	struct ukbd *slots[USBKBD_MAX];
	int r;

	rt_use_hub(h);
	memcpy(slots, uk.kbd, sizeof(slots));	/* kept, cleared */
	memset(&uk, 0, sizeof(uk));
	for (unsigned i = 0; i < USBKBD_MAX; i++)
		if ((uk.kbd[i] = slots[i]))
			memset(slots[i], 0, sizeof(*slots[i]));
	uk.hub = h;
	uk.self = m;
	uk.map = keymap_chosen(h, m);
	subscribed = 0;
	if (h->size <= offsetof(struct pb_hub, work_cancel) || !h->dma_alloc ||
	    !h->work_init || !h->work_post) {
		pb_logf(h, m, PB_LOG_INFO, "needs the hub's ABI 1.2 services "
		    "(dma_alloc, work items): declined");
		return PB_ENODEV;
	}
	if (!bind) {
		pb_logf(h, m, PB_LOG_INFO, "no usb interface to drive: "
		    "declined");
		return PB_ENODEV;
	}
	if ((r = ukbd_attach(bind)) != PB_OK)
		return r == PB_ENOMEM ? r : PB_ENODEV;
	uk.started = 1;
	uk.standby = mode == PB_START_STANDBY;
	if (uk.standby)
		return PB_OK;		/* activate sends the set-up */
	ukbd_start_io(kbd_of_conn(bind));
	ukbd_take_others();
	return PB_OK;
}

static void
ukbd_stop(struct pb_module *m)
{
	for (unsigned i = 0; i < USBKBD_MAX; i++) {
		struct ukbd *k = uk.kbd[i];

		if (!k || !k->used)
			continue;
		repeat_stop(k);
		intr_stop_timer(k);
		intr_cancel(k);
		k->active = 0;
		k->gone = 1;
		k->usb = NULL;
		k->res = NULL;		/* the hub takes them back */
	}
	uk.bind = NULL;
	uk.started = 0;
}

static void
ukbd_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	struct ukbd *k;

	if (ev == PB_EV_RESOURCE) {
		if (uk.started && !uk.standby && c && c->res)
			consider(c->res);
		return;
	}
	if (ev == PB_EV_REBOUND) {
		if (uk.started && !uk.standby && (k = kbd_of_conn(c)) &&
		    k->active) {
			k->rebound = 1;
			ukbd_rebound_check(k);
		}
		return;
	}
	if (req == PB_REQ_BIND && ev == PB_EV_CONNECTED) {
		if (!uk.started)
			uk.bind = c;	/* before start: taken there */
		else if ((k = kbd_of_res(c->res)) && !k->usb)
			k->usb = c;	/* back to it after a swap went wrong */
		else if (!k && !uk.standby && ukbd_attach(c) == PB_OK)
			ukbd_start_io(kbd_of_conn(c));
		return;
	}
	if (ev != PB_EV_DISCONNECTED)
		return;
	if (c == uk.bind)
		uk.bind = NULL;
	if (!(k = kbd_of_conn(c)))
		return;
	if (k->released)
		k->usb = NULL;	/* handed to the next driver in a swap */
	else
		ukbd_gone(k);
}

static const struct pb_module_ops ukbd_ops = {
	.start = ukbd_start,
	.stop = ukbd_stop,
	.quiesce = state_quiesce,	/* the standing request cancelled */
	.export_state = state_export,	/* struct keyboard_state each */
	.import_state = state_import,	/* that, or a console's keys */
	.release = state_release,	/* the device the next driver's */
	.activate = state_activate,	/* set-up and reading */
	.resume = state_resume,		/* after a failed swap */
	.event = ukbd_event,
};

PB_MODULE(.name = USBKBD_NAME, .version = "1.0",
    .desc = "USB keyboards in the HID boot protocol",
    .flags = PB_MOD_HARDWARE | PB_MOD_RESTATE, .rank = 5, .ops = &ukbd_ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(KEYBOARD_IFACE, KEYBOARD_MAJOR, KEYBOARD_MINOR) },
    .nbinds = 1,
    .binds = { PB_BIND(USB_IFACE, "class=03 subclass=01 protocol=01") });
