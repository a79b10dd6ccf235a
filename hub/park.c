/*
 * park.c - the takeover of disks: a firmware-backed disk's connections are
 * held until its native driver publishes the same disk.
 *
 * The console is swapped at ExitBootServices (boot.c) because its native
 * providers are loaded and waiting then.  A disk's are not: its driver
 * binds to a PCI function that pci publishes only after the exit, and
 * probes its ports asynchronously, publishing each disk when ready.  So a
 * `block` resource of a firmware-backed module that has clients and an
 * identity (`path=`, abi/block.h) is parked instead, on the mechanism a
 * restart uses: the connections are held, and the hub's shadow of each
 * (shadow.c) keeps the requests in flight and those submitted meanwhile,
 * while a stand-in here answers `info` as the disk did.  The firmware
 * module itself goes at the exit, as every other one.
 *
 *  park_module (before the exit): the module is quiesced (efi-block stops
 *	dispatching but still queues), its disks to park hidden from new
 *	clients; nothing else changes, so park_abort only resumes it.
 *  park_start_clock (after the exit and the swaps): the disks'
 *	connections are held (one without a shadow takes no request
 *	meanwhile: PB_EBUSY); the module exports its queue (handing its requests over, so
 *	that its stop cancels none): each request a held shadow noted waits
 *	there, any other completes with PB_ECANCELED, once, as the module's
 *	stop would have done.  A request of a parked disk that a module
 *	cancels anyway (a queue it could not export, a driver letting go of
 *	its disk) is no completion: it stays noted (shadow.c) and goes to
 *	the disk's driver with the rest.
 *  park_claim (a resource is offered, before its clients and binds): a
 *	`block` resource of a running native module with a parked disk's
 *	path takes it over: the connections are rebound to it, their noted
 *	requests issued to it in their order (shadow_replay: one it refuses
 *	completes with PB_EIO) and their clients told PB_EV_REBOUND.
 *  park_check (at the end of the boot, then every 100 ms): a parked disk
 *	whose controller no driver holds goes at once, without waiting for
 *	the deadline: its path begins with its controller's PCI function
 *	(pci:00:1f.2/sata:0), which a native driver binds to, so once pci
 *	has published that function and offered it to the bind rules, a
 *	function nobody holds means no driver is coming (a real PC with an
 *	unsupported controller, or ahci=no); a path in the firmware's own
 *	words (not pci:) no driver spells.  Otherwise the disk waits until
 *	the deadline, boot.cfg disk-wait=MS, 10 s after the exit.
 *  park_expire: the disks left go; their clients are told
 *	PB_EV_DISCONNECTED (never rebound to another disk), and their
 *	waiting requests complete with PB_EIO (shadow_close).
 *
 * Each step is one log line, e.g.
 *   takeover: block:efi0 (path=pci:00:1f.2/sata:0) -> block:sata0 (ahci),
 *   2 requests handed over, 3 clients, parked 143 ms
 *
 * The same parking keeps a disk whose driver withdraws it because a
 * provider under it is being recovered (park_withdrawn, from
 * res_withdraw): xhci restarted without its state resets the controller,
 * usb takes its devices for unplugged, and usb-storage withdraws
 * block:usb0, whose clients (gpt, fat with blocks not yet written) would
 * lose it for good.  A `block` resource with clients and a path, whose
 * owner a module serves (mod_serves: directly or through its providers)
 * whose recovery began less than park_recovery_ns ago, is parked instead
 * of going, and is claimed by the disk published again with the same
 * path and the same properties (model, serial, size: the same disk, not
 * another one in its port) within park_recovery_ns of its going; what
 * its driver cancelled as it went waits in the shadow (above) with what
 * is submitted meanwhile.  Otherwise its clients are told then, as they
 * would have been at once.
 */
#include "hub.h"
#include "match.h"
#include "../abi/block.h"
#include "../abi/rt/rt.h"

#define PARK_MAX 16			/* disks */
#define PARK_CONNS 32			/* their held connections */
#define PARK_CHECK_NS 100000000ull	/* 100 ms */

uint64_t park_wait_ns = 10000000000ull;
uint64_t park_recovery_ns = 5000000000ull;

/* A slot never moves while it is used: the held connections' pub.res is
 * its name, their stand-in's ctx the slot. */
static struct parked {
	int used;
	struct pb_resource *res;	/* until the exit, then NULL */
	struct pb_module *owner;	/* until the exit */
	char name[RES_NAME_MAX];	/* the held connections' pub.res */
	char path[BLOCK_PATH_MAX];
	struct block_info info;		/* as the disk answered it */
	uint64_t since_ns, until_ns;	/* held from, and at most until */
	/* Parked across a recovery (park_withdrawn), not the takeover: the
	 * disk that claims it has these properties. */
	int recovery;
	char props[RES_PROPS_MAX];
} parked[PARK_MAX];
static unsigned nparked;		/* slots used */
static struct held {
	struct conn *c;
	struct parked *disk;
} held[PARK_CONNS];
static unsigned nheld;
static int check_timer;

#define EACH_PARKED(p) \
	for (struct parked *p = parked; p < parked + PARK_MAX; p++) \
		if (p->used)

/* Is h still the connection that was held (not closed, its slot not
 * reused)? */
static int
still_held(const struct held *h)
{
	return h->c->used && h->c->held && h->c->pub.res == h->disk->name;
}

/* The connections of disk p still held: how many; those closed
 * meanwhile are forgotten. */
static unsigned
count_held(const struct parked *p)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nheld;) {
		if (!still_held(&held[i]))
			held[i] = held[--nheld];
		else
			n += held[i++].disk == p;
	}
	return n;
}

/* --- the stand-in: what a held connection's shadow calls ------------------ */

static int
standin_info(void *ctx, struct block_info *info)
{
	const struct parked *p = ctx;
	size_t n;

	if (!info || info->size < sizeof(uint32_t) || !p->info.size)
		return info ? PB_EBUSY : PB_EINVAL;
	n = info->size < p->info.size ? info->size : p->info.size;
	memcpy(info, &p->info, n);
	info->size = (uint32_t)n;
	return PB_OK;
}

/* The shadow noted req: it waits there for the native driver.  One it
 * could not note, or from a connection without a shadow, would be lost
 * here: refused, as a full queue is. */
static int
standin_submit(void *ctx, struct block_req *req)
{
	(void)ctx;
	return shadow_noter(req) ? PB_OK : PB_EBUSY;
}

static const struct block_ops standin_ops = { standin_info, standin_submit };

/* --- before the exit ------------------------------------------------------ */

static struct parked *
free_slot(void)
{
	for (unsigned i = 0; i < PARK_MAX; i++)
		if (!parked[i].used)
			return &parked[i];
	return NULL;
}

/* Hide f's disks that have clients and a path; quiesce f. */
unsigned
park_module(struct pb_module *f)
{
	char path[BLOCK_PATH_MAX];
	struct mod_op c = { 0 };
	struct parked *p;
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < MAX_RESOURCES && (p = free_slot()); i++) {
		struct pb_resource *res = &resources[i];

		if (res->owner != f || !res_clients(res) ||
		    !res_path(res, path, sizeof(path)))
			continue;
		if (!f->ops->quiesce || !f->ops->export_state) {
			log_event(LOG_ERROR, "takeover: %s cannot park its "
			    "disks (it cannot hand its requests over); they go "
			    "at the exit", f->name);
			return 0;
		}
		*p = (struct parked){ .used = 1, .res = res, .owner = f };
		rt_strlcpy(p->path, path, sizeof(p->path));
		rt_strlcpy(p->name, res->name, sizeof(p->name));
		res->standby = 1;	/* no new clients, no swap plans it */
		nparked++;
		n++;
	}
	if (n && (r = mod_op(f, MOD_OP_QUIESCE, &c)) != PB_OK) {
		log_event(LOG_ERROR, "takeover: %s refused to quiesce (%d); "
		    "its disks go at the exit", f->name, r);
		park_abort();
		return 0;
	}
	if (n)
		f->state = MOD_QUIESCED;
	return n;
}

/* ExitBootServices failed: the parked modules serve again. */
void
park_abort(void)
{
	EACH_PARKED(p) {
		p->used = 0;
		p->res->standby = 0;
		takeover_resume(p->owner);
	}
	nparked = 0;
}

/* --- after the exit ------------------------------------------------------- */

/* The disk's answer to info, while it can: through c's shadow (a guarded
 * call of its module), into room on the stack module code runs on, which
 * every module may write (x86_64/stacks.c; the hub's own half it may
 * not). */
static void
ask_info(struct conn *c, struct parked *p)
{
	struct block_info local, *bi;
	struct arch_room room;

	if (!(bi = arch_module_room(&local, sizeof(local), &room)))
		bi = &local;
	*bi = (struct block_info){ .size = sizeof(*bi) };
	if (((const struct block_ops *)c->pub.ops)->info(c->pub.ctx, bi) ==
	    PB_OK && bi->size <= sizeof(*bi))
		p->info = *bi;
	arch_module_room_end(&room);
}

/* Hold p's connections, the stand-in behind them: their requests wait
 * in the shadow.  (A gated one answers by itself while it leads
 * nowhere.) */
static void
hold(struct parked *p)
{
	unsigned n = 0;

	for (unsigned k = 0; k < MAX_CONNS && nheld < PARK_CONNS; k++) {
		struct conn *c = &conns[k];

		if (!c->used || c->res != p->res)
			continue;
		/* Not a disk its driver is withdrawing: that driver is
		 * running (the call is its own), and info answers PB_EBUSY
		 * until the disk is back. */
		if (!p->recovery && !p->info.size && shadow_wraps(&c->pub))
			ask_info(c, p);
		held[nheld++] = (struct held){ c, p };
		c->held = 1;
		c->res = NULL;
		c->pub.res = p->name;
		if (shadow_wraps(&c->pub)) {
			shadow_stand_in(c, &standin_ops, p);
		} else if (c->pub.ctx != c) {
			c->pub.ops = &standin_ops;
			c->pub.ctx = p;
		}
		n++;
	}
	p->res = NULL;
	if (p->recovery)
		log_event(LOG_SWAP, "%s (path=%s) went with a recovery under "
		    "it: parked, %u client%s kept until it is back", p->name,
		    p->path, n, n == 1 ? "" : "s");
	else
		log_event(LOG_SWAP, "takeover: %s (path=%s) parked, %u "
		    "client%s kept until a native driver takes it", p->name,
		    p->path, n, n == 1 ? "" : "s");
}

/* Is req noted in the shadow of a held connection? */
static int
held_notes(const struct block_req *req)
{
	const struct conn *c = shadow_noter(req);

	for (unsigned i = 0; c && i < nheld; i++)
		if (held[i].c == c)
			return 1;
	return 0;
}

/*
 * f's queue is handed over: what a held shadow noted waits there; the
 * rest completes with PB_ECANCELED, as f's stop would have done.  A state
 * it cannot give is left to its stop.
 */
static void
take_queue(struct pb_module *f)
{
	struct mod_op c = { 0 };
	struct block_state st;
	unsigned cancelled = 0;
	int r = mod_export(f, &c);
	size_t at = sizeof(st);

	if (r == PB_OK && (c.ver != BLOCK_STATE_VERSION || c.len < sizeof(st)))
		r = PB_ESTATE;
	if (r == PB_OK) {
		memcpy(&st, c.buf, sizeof(st));
		at += (size_t)st.ndisks * sizeof(struct block_state_disk);
		if (st.ndisks > 256 || st.nreq > c.len / sizeof(void *) ||
		    at + st.nreq * sizeof(void *) > c.len)
			r = PB_ESTATE;
	}
	for (uint32_t k = 0; r == PB_OK && k < st.nreq; k++) {
		struct block_req *req;

		memcpy(&req, (uint8_t *)c.buf + at + k * sizeof(req),
		    sizeof(req));
		if (held_notes(req))
			continue;
		req->status = PB_ECANCELED;
		work_post(&req->done);
		cancelled++;
	}
	if (cancelled)
		log_event(LOG_SWAP, "takeover: %s's %u requests of disks not "
		    "parked cancelled", f->name, cancelled);
	if (r != PB_OK)
		log_event(LOG_ERROR, "takeover: %s cannot hand its requests "
		    "over (%d): its stop cancels them, and those of parked "
		    "disks wait for their drivers", f->name, r);
	if (c.buf)
		mem_free(NULL, c.buf);
}

static void tick(void *arg);
static void let_go(struct parked *p, const char *why);

/* The deadlines' check runs every PARK_CHECK_NS while a disk is parked;
 * without its timer, the disks go now (PB_ENOMEM). */
static int
start_checks(void)
{
	int id;

	if (check_timer)
		return PB_OK;
	id = timer_add_every(NULL, PARK_CHECK_NS, PARK_CHECK_NS, tick, NULL);
	if (id < 0) {
		log_event(LOG_ERROR, "park: no timer for the disks' deadline; "
		    "they go now");
		park_expire();
		return PB_ENOMEM;
	}
	check_timer = id;
	return PB_OK;
}

/* After the exit and the swaps: the disks' connections are held, the
 * modules' queues taken, the deadline starts. */
void
park_start_clock(void)
{
	struct pb_module *done = NULL;
	uint64_t now = hub_now_ns();

	if (!nparked)
		return;
	EACH_PARKED(p) {
		p->since_ns = now;
		p->until_ns = now + park_wait_ns;
		hold(p);
	}
	EACH_PARKED(p)
		if (p->owner != done)
			take_queue(done = p->owner);
	start_checks();
}

/* A module whose recovery began within park_recovery_ns, serving r's
 * owner (through its providers too), or NULL. */
static const struct pb_module *
recovering_under(const struct pb_resource *r, uint64_t now)
{
	for (unsigned i = 0; i < nmodules; i++) {
		const struct pb_module *m = &modules[i];

		if (m != r->owner && m->recovery_at_ns &&
		    now - m->recovery_at_ns < park_recovery_ns &&
		    mod_serves(m, r->owner, 3))
			return m;
	}
	return NULL;
}

int
park_withdrawn(struct pb_resource *r)
{
	char path[BLOCK_PATH_MAX];
	uint64_t now = hub_now_ns();
	const struct pb_module *under;
	struct parked *p;

	if (!r->owner || !res_clients(r) || !res_path(r, path, sizeof(path)) ||
	    !(under = recovering_under(r, now)))
		return 0;
	if (!(p = free_slot())) {
		log_event(LOG_ERROR, "%s went with %s's recovery under it and "
		    "cannot be parked (%u disks are): its clients are told",
		    r->name, under->name, PARK_MAX);
		return 0;
	}
	*p = (struct parked){ .used = 1, .res = r, .recovery = 1,
	    .since_ns = now, .until_ns = now + park_recovery_ns };
	rt_strlcpy(p->path, path, sizeof(p->path));
	rt_strlcpy(p->name, r->name, sizeof(p->name));
	rt_strlcpy(p->props, r->props, sizeof(p->props));
	nparked++;
	hold(p);
	start_checks();
	return 1;
}

/* p is done with: no more checks once none is left. */
static void
forget(struct parked *p)
{
	p->used = 0;
	if (!--nparked && check_timer) {
		timer_cancel(NULL, check_timer);
		check_timer = 0;
	}
}

/* A resource is offered: if it is a parked disk's native self, it takes
 * the disk over.  Called before its clients and binds are served. */
void
park_claim(struct pb_resource *to)
{
	char path[BLOCK_PATH_MAX];
	unsigned nreq = 0, nclients = 0, failed = shadow_failed;
	struct parked *disk = NULL;

	if (!nparked || !to->owner || to->standby ||
	    to->owner->state != MOD_RUNNING ||
	    (to->owner->desc.flags & PB_MOD_FIRMWARE) ||
	    !res_path(to, path, sizeof(path)))
		return;
	EACH_PARKED(p) {
		if (p->res || strcmp(p->path, path) != 0)
			continue;
		if (!p->recovery || strcmp(p->props, to->props) == 0)
			disk = p;
		else		/* its clients take this one as a new disk */
			let_go(p, "another disk is in its place");
	}
	if (!disk)
		return;
	count_held(disk);	/* forgets the connections closed meanwhile */
	for (unsigned i = 0; i < nheld; i++) {
		struct conn *c = held[i].c;

		if (held[i].disk != disk)
			continue;
		held[i--] = held[--nheld];
		c->held = 0;
		conn_rebind(c, to);
		nreq += shadow_replay(c);
		conn_tell(c, PB_EV_REBOUND);
		nclients++;
	}
	if (shadow_failed != failed)
		log_event(LOG_ERROR, "%s: %s refused %u requests of %s; they "
		    "completed with %d", disk->recovery ? "park" : "takeover",
		    to->name, shadow_failed - failed, disk->name, PB_EIO);
	log_event(LOG_SWAP, "%s%s (path=%s) -> %s (%s), %u request%s handed "
	    "over, %u client%s, parked %llu ms", disk->recovery ? "back: " :
	    "takeover: ", disk->name, disk->path, to->name, to->owner->name,
	    nreq, nreq == 1 ? "" : "s", nclients, nclients == 1 ? "" : "s",
	    (unsigned long long)((hub_now_ns() - disk->since_ns) / 1000000));
	forget(disk);
}

/* --- the deadline -------------------------------------------------------- */

/* Does the client need what c gave it to run (as conn_fall_back says)? */
static int
needed(const struct conn *c)
{
	const struct pb_require *q;

	if (!c->client || c->req < 0)
		return 0;
	q = &c->client->desc.requires[c->req];
	return q->card == PB_CARD_ONE && q->when == PB_AT_START &&
	    c->client->state == MOD_RUNNING;
}

/* p goes: its clients are told, their waiting requests fail (PB_EIO,
 * shadow_close of a held shadow). */
static void
let_go(struct parked *p, const char *why)
{
	unsigned n = count_held(p);

	log_event(LOG_SWAP, "%s%s (path=%s) gone: %s; %u client%s told",
	    p->recovery ? "" : "takeover: ", p->name, p->path, why, n,
	    n == 1 ? "" : "s");
	for (unsigned i = 0; i < nheld; i++) {
		struct conn *c = held[i].c;
		struct pb_module *client = c->client;
		int stop = needed(c);

		if (held[i].disk != p)
			continue;
		held[i--] = held[--nheld];
		shadow_hold(c);
		conn_tell(c, PB_EV_DISCONNECTED);
		c->held = 0;
		conn_close(c);
		if (stop) {
			log_event(LOG_MOD, "%s: lost %s, which it needs; "
			    "stopping", client->name, p->name);
			mod_stop(client);
		}
	}
	forget(p);
}

/* p's deadline passed (or every disk goes: park_expire). */
static void
expire(struct parked *p)
{
	char why[64];
	unsigned long long ms = (hub_now_ns() - p->since_ns) / 1000000;

	if (p->recovery)
		rt_snprintf(why, sizeof(why), "not back in %llu ms", ms);
	else
		rt_snprintf(why, sizeof(why), "no native driver took it in "
		    "%llu ms", ms);
	let_go(p, why);
}

void
park_expire(void)
{
	EACH_PARKED(p)
		expire(p);
}

/*
 * Could a native driver still take p?  Not when its path does not begin
 * with a PCI function, and not when that function, published and offered
 * to the bind rules, has no client: no driver holds the controller.
 */
static int
driver_may_come(const struct parked *p, char *fn, size_t cap)
{
	const char *slash = strchr(p->path, '/');
	size_t len = slash ? (size_t)(slash - p->path) : strlen(p->path);
	const struct pb_resource *r;

	if (strncmp(p->path, "pci:", 4) != 0 || len >= cap) {
		rt_strlcpy(fn, "", cap);
		return 0;
	}
	memcpy(fn, p->path, len);
	fn[len] = '\0';
	r = res_find(fn);
	return !r || !r->offered || res_clients(r) > 0;
}

void
park_check(void)
{
	char fn[RES_NAME_MAX], why[96];
	uint64_t now = hub_now_ns();

	EACH_PARKED(p) {
		if (p->res)
			continue;	/* the exit has not come */
		if (now >= p->until_ns) {
			expire(p);
		} else if (!p->recovery &&
		    !driver_may_come(p, fn, sizeof(fn))) {
			rt_snprintf(why, sizeof(why), fn[0] ? "no driver holds "
			    "its controller %s" : "no native driver names it",
			    fn);
			let_go(p, why);
		}
	}
}

static void
tick(void *arg)
{
	(void)arg;
	park_check();
}
