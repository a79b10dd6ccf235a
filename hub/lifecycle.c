/*
 * lifecycle.c - starting modules with what they need, binding drivers to
 * resources, superseding a provider by a better-ranked one, unloading and
 * garbage collection.
 *
 * The resolver (resolve.c) decides what to start and in which order; this
 * file carries its plan out.  Before ExitBootServices, modules flagged
 * PB_MOD_HARDWARE are loaded but not started (two drivers must never drive
 * one device), and so is anything that needs them: both are "deferred" and
 * started, in plan order, right after the takeover.
 */
#include "hub.h"
#include "resolve.h"
#include "match.h"
#include "swap.h"
#include "../abi/modsrc.h"
#include "../abi/rt/rt.h"

int hub_native;
char hub_target[PB_IFACE_MAX] = "os";
static struct pb_module *deferred[MAX_MODULES];
static unsigned ndeferred;

static int
rs_state(const struct pb_module *m)
{
	switch (m->state) {
	case MOD_KNOWN:
	case MOD_UNLOADED:
		return RS_AVAILABLE;
	case MOD_LOADED:
		/* Loaded, not started: it serves nobody unless it only waits
		 * for the takeover; a stopped module can be started again. */
		return m->deferred ? RS_RUNNING : RS_AVAILABLE;
	case MOD_STANDBY:
	case MOD_RUNNING:
	case MOD_QUIESCED:
		return RS_RUNNING;
	default:
		return RS_REFUSED;
	}
}

/* Does one of m's bind rules match r? */
int
hub_binds(const struct pb_module *m, const struct pb_resource *r)
{
	for (unsigned k = 0; k < m->desc.nbinds; k++)
		if (strcmp(m->desc.binds[k].iface, r->iface.iface) == 0 &&
		    props_match(m->desc.binds[k].match, r->props))
			return 1;
	return 0;
}

/* A free, visible resource one of m's bind rules matches. */
struct pb_resource *
hub_bind_match(const struct pb_module *m)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (r->used && !r->standby && r->owner != m && !res_full(r) &&
		    hub_binds(m, r))
			return r;
	}
	return NULL;
}

/*
 * The resolver's view: every module, and the hub's own resources.  Before
 * the takeover a hardware driver that is not loaded yet cannot serve (the
 * firmware still drives the hardware), so the resolver picks firmware-backed
 * providers; after it, firmware-backed modules cannot serve any more.
 */
static int
usable_now(const struct pb_module *m)
{
	if (m->state != MOD_KNOWN && m->state != MOD_UNLOADED)
		return 1;
	/* A driver a bind rule loads serves only with its device. */
	if (m->desc.nbinds && !m->bind_res && !hub_bind_match(m))
		return 0;
	if (!hub_native)
		return !(m->desc.flags & PB_MOD_HARDWARE);
	return !(m->desc.flags & PB_MOD_FIRMWARE);
}

/* One set for every caller: each is done with it once the resolver has
 * answered (its plan or candidates hold indices), and a resolver call
 * never nests (resolve.h). */
static const struct rs_set *
build_set(void)
{
	static struct rs_cand cands[MAX_MODULES];
	static struct rs_res ext[RS_MAX_EXT];
	static struct rs_set set;
	unsigned n = 0;

	for (unsigned i = 0; i < nmodules; i++)
		cands[i] = (struct rs_cand){ &modules[i].desc,
		    usable_now(&modules[i]) ? rs_state(&modules[i]) :
		    RS_REFUSED };
	for (unsigned i = 0; i < MAX_RESOURCES && n < RS_MAX_EXT; i++)
		if (resources[i].used && !resources[i].owner)
			ext[n++] = (struct rs_res){ resources[i].iface.iface,
			    resources[i].iface.major, resources[i].iface.minor };
	set = (struct rs_set){ .cands = cands, .ncands = (int)nmodules,
	    .ext = ext, .next = (int)n };
	return &set;
}

static void
defer(struct pb_module *m, const char *why)
{
	for (unsigned i = 0; i < ndeferred; i++)
		if (deferred[i] == m)
			return;
	deferred[ndeferred++] = m;
	m->deferred = 1;
	log_event(LOG_MOD, "%s: deferred until the takeover (%s)", m->name,
	    why);
}

/* Clients of r that want one provider (not every instance): only those
 * are better served by a higher-ranked newcomer. */
static unsigned
single_clients(const struct pb_resource *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = &conns[i];

		if (c->used && c->res == r && c->client && c->req >= 0 &&
		    c->client->desc.requires[c->req].card != PB_CARD_ALL)
			n++;
	}
	return n;
}

/* A running, lower-ranked provider of what m provides, with clients that
 * want a single provider: m supersedes it through a swap. */
static struct pb_module *
superseded_by(const struct pb_module *m, const char **iface)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];
		const struct pb_provide *p;

		if (!r->used || r->standby || !r->owner || r->owner == m ||
		    r->owner->state != MOD_RUNNING ||
		    r->owner->desc.rank >= m->desc.rank || !single_clients(r) ||
		    !(p = mod_provides(m, r->iface.iface)))
			continue;
		*iface = p->iface;
		return r->owner;
	}
	return NULL;
}

/*
 * Connect m to the resource it drives (PB_REQ_BIND) before it starts,
 * normally or in standby for a swap: the one a bind rule just matched, or,
 * when m starts again later (swapped back in, restarted after a fault),
 * the first free one its rules match.
 */
void
hub_bind_connect(struct pb_module *m)
{
	struct pb_resource *r = m->bind_res;

	m->bind_res = NULL;
	if (conn_count(m, PB_REQ_BIND))
		return;
	if (!r || !r->used)
		r = hub_bind_match(m);
	if (r && conn_open(m, r, PB_REQ_BIND))
		m->bound_at_ns = hub_now_ns();	/* the boot chart's bind */
}

/* Start m itself; its providers are running already. */
static int
start_one(struct pb_module *m)
{
	struct pb_module *old;
	const char *iface = NULL;
	char err[128];
	int r;

	if (m->state == MOD_RUNNING || m->state == MOD_STANDBY)
		return PB_OK;
	if (m->state != MOD_LOADED && (r = mod_load(m)) != PB_OK)
		return r;
	if (!hub_native && (m->desc.flags & PB_MOD_HARDWARE)) {
		defer(m, "drives hardware");
		return PB_OK;
	}
	if ((old = superseded_by(m, &iface)) && old->ops->export_state) {
		r = swap_provider(old, m, iface, err, sizeof(err));
		if (r != PB_OK)
			log_event(LOG_ERROR, "swap %s -> %s failed: %s", old->name,
			    m->name, err);
		return r;
	}
	if ((r = res_connect_requirements(m, 1)) != PB_OK) {
		res_drop_module(m);
		if (!hub_native) {
			defer(m, "its providers are deferred");
			return PB_OK;
		}
		mod_unload(m);
		m->state = MOD_FAILED;
		return r;
	}
	hub_bind_connect(m);
	if ((r = replay_start(m)) == PB_ENOENT)	/* a restart's state */
		r = mod_start(m, PB_START_NORMAL);
	if (r != PB_OK)
		return r;
	res_connect_requirements(m, 0);
	return PB_OK;
}

static int
start_plan(const struct rs_plan *plan)
{
	int err = PB_OK;

	for (int i = 0; i < plan->n; i++) {
		int r = start_one(&modules[plan->order[i]]);
		if (r != PB_OK && err == PB_OK)
			err = r;
	}
	if (plan->notes[0])
		log_event(LOG_INFO, "resolver: %s", plan->notes);
	return err;
}

int
hub_start_module(struct pb_module *m, char *err, size_t cap)
{
	struct rs_plan plan;

	if (m->state == MOD_FAILED || m->state == MOD_UNLOADED)
		m->state = MOD_KNOWN;
	if (resolve_module(build_set(), (int)(m - modules), &plan) != 0) {
		log_event(LOG_ERROR, "%s", plan.error);
		if (err)
			rt_strlcpy(err, plan.error, cap);
		return PB_ENOENT;
	}
	return start_plan(&plan);
}

int
hub_resolve_and_start(const char *iface, uint16_t major, uint16_t minor,
    char *err, size_t cap)
{
	struct rs_plan plan;
	char order[256] = "";

	if (resolve(build_set(), iface, major, minor, &plan) != 0) {
		log_event(LOG_ERROR, "%s", plan.error);
		rt_strlcpy(err, plan.error, cap);
		return PB_ENOENT;
	}
	for (int i = 0; i < plan.n; i++) {
		size_t n = strlen(order);
		rt_snprintf(order + n, sizeof(order) - n, "%s%s", i ? " " : "",
		    modules[plan.order[i]].name);
	}
	log_event(LOG_INFO, "resolved %s: %s", iface, order[0] ? order :
	    "(already running)");
	return start_plan(&plan);
}

/* After the takeover: start what waited for it. */
void
hub_start_deferred(void)
{
	unsigned n = ndeferred;

	ndeferred = 0;
	for (unsigned i = 0; i < n; i++) {
		struct pb_module *m = deferred[i];

		m->deferred = 0;
		if (m->state == MOD_LOADED || m->state == MOD_KNOWN)
			start_one(m);
	}
}

/* A driver that declined its last device (its start answered an error,
 * it did not fault) may take the next one: a keyboard that is not a boot
 * keyboard must not keep the driver from the one plugged in after it. */
static void
retry_declined(const struct pb_resource *r)
{
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		if (m->state != MOD_FAILED || m->faults || m->why ||
		    !m->desc.nbinds || !hub_binds(m, r))
			continue;	/* a refused file (why) stays refused */
		if (m->base)
			mod_unload(m);
		m->state = MOD_UNLOADED;
	}
}

/* m binds to the device r: connected just before its start. */
void
hub_bind_start(struct pb_module *m, struct pb_resource *r)
{
	log_event(LOG_BIND, "%s binds to %s", m->name, r->name);
	m->bind_res = r;
	hub_start_module(m, NULL, 0);
}

/* A resource appeared: load the modules whose bind rules match it. */
void
hub_bind(struct pb_resource *r)
{
	int idx[8], n;

	retry_declined(r);
	n = bind_candidates(build_set(), r->iface.iface, r->props, idx, 8);
	for (int i = 0; i < n; i++)
		hub_bind_start(&modules[idx[i]], r);
}

/*
 * `update`: new, another instance of the running module old (a newer
 * build), takes over every interface old provides, and the device old
 * drives with it (swap.c hands it over).  A new instance that fails is
 * refused for good, so it never serves in old's place later.
 */
int
hub_update_module(struct pb_module *old, struct pb_module *new, char *err,
    size_t cap)
{
	int r;

	if (old->state != MOD_RUNNING) {
		rt_snprintf(err, cap, "%s is not running", old->name);
		r = PB_EINVAL;
	} else {
		r = swap_provider(old, new, NULL, err, cap);
	}
	if (r != PB_OK) {
		if (new->base)
			mod_unload(new);
		new->state = MOD_REFUSED;
		new->why = "its update failed";
	}
	return r;
}

/* A module file by path: one handed over from a file system (images.c),
 * else through the firmware while it is there. */
static int
read_module_file(const char *path, const void **data, size_t *len,
    char *err, size_t cap)
{
	if (image_find(path, data, len) == PB_OK)
		return PB_OK;
	return hub_read_path(path, data, len, err, cap);
}

/* `update NAME SOURCE`: SOURCE is a file of the boot ramdisk or a path. */
int
hub_update(const char *name, const char *source, char *err, size_t cap)
{
	struct pb_module *old = mod_find(name), *new;
	const void *data;
	size_t len;
	char path[64];
	int r;

	if (!old || old->state != MOD_RUNNING) {
		rt_snprintf(err, cap, "%s is not a running module", name);
		return PB_ENOENT;
	}
	if (strchr(source, '/') || strchr(source, '\\')) {
		if ((r = read_module_file(source, &data, &len, err, cap)) !=
		    PB_OK)
			return r;
		rt_strlcpy(path, source, sizeof(path));
	} else if (ramdisk_file(source, &data, &len) == PB_OK) {
		rt_snprintf(path, sizeof(path), "%s:%s/%s", MODSRC_IFACE,
		    RAMDISK_NAME, source);
	} else {
		rt_snprintf(err, cap, "the boot ramdisk has no %s", source);
		return PB_ENOENT;
	}
	if (!(new = mod_register_instance(path, data, len, name, err, cap)))
		return PB_EINVAL;
	return hub_update_module(old, new, err, cap);
}

/* Load a module by path through the firmware's file access. */
int
hub_load_path(const char *path, char *err, size_t cap)
{
	struct pb_module *m;
	const void *data;
	size_t len;
	int r;

	if ((r = read_module_file(path, &data, &len, err, cap)) != PB_OK)
		return r;
	if (!(m = mod_register(path, data, len))) {
		rt_strlcpy(err, "refused (see log)", cap);
		return PB_EINVAL;
	}
	return hub_start_module(m, err, cap);
}

/* Does c lead to one of m's resources, and does it count: every client
 * does, or (hard) only those that use it for more than an option: an
 * optional client is told the provider went instead.  A client taking
 * every instance keeps each (the shell's consoles: unloading the one
 * being typed on would cut the user off). */
static int
leads_to(const struct conn *c, const struct pb_module *m, int hard)
{
	if (!c->used || !c->res || c->res->owner != m || !c->client ||
	    c->client == m)
		return 0;
	return !hard || c->req < 0 ||
	    c->client->desc.requires[c->req].card != PB_CARD_OPTIONAL;
}

static int
clients_of(const struct pb_module *m, int hard, char *out, size_t cap)
{
	int n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		size_t len = strlen(out);
		unsigned k;

		if (!leads_to(&conns[i], m, hard))
			continue;
		for (k = 0; k < i; k++)
			if (leads_to(&conns[k], m, hard) &&
			    conns[k].client == conns[i].client)
				break;
		if (k < i)
			continue;	/* named already */
		rt_snprintf(out + len, cap - len, "%s%s", n ? ", " : "",
		    conns[i].client->name);
		n++;
	}
	return n;
}

/* Running modules with a connection to one of m's resources. */
int
hub_dependants(const struct pb_module *m, char *out, size_t cap)
{
	return clients_of(m, 0, out, cap);
}

int
hub_unload(struct pb_module *m, char *err, size_t cap)
{
	char deps[128];

	if (m->state == MOD_KNOWN || m->state == MOD_REFUSED ||
	    m->state == MOD_UNLOADED) {
		rt_snprintf(err, cap, "%s is not loaded", m->name);
		return PB_EINVAL;
	}
	if (clients_of(m, 1, deps, sizeof(deps))) {
		rt_snprintf(err, cap, "%s is in use by %s", m->name, deps);
		return PB_EBUSY;
	}
	return mod_unload(m);
}

/* Can gc take m?  Boot-only or idle modules nothing connects to. */
static int
collectable(const struct pb_module *m, const char *target)
{
	char deps[8];

	if (m->swapped_from || (m->state != MOD_RUNNING &&
	    m->state != MOD_LOADED && m->state != MOD_FAILED))
		return 0;
	if (mod_provides(m, target))
		return 0;
	if (hub_dependants(m, deps, sizeof(deps)))
		return 0;
	if (m->state == MOD_FAILED)
		return m->base != 0;
	return (m->desc.flags & PB_MOD_BOOT) || m->state == MOD_LOADED;
}

int
hub_gc(const char *target, pb_line_fn out, void *arg)
{
	uint64_t before = mem_free_pages();
	int n = 0, again = 1;
	char line[96];

	/* Unloading one may free another: repeat until nothing changes. */
	while (again) {
		again = 0;
		for (unsigned i = 0; i < nmodules; i++) {
			struct pb_module *m = &modules[i];

			if (!collectable(m, target) || m->deferred)
				continue;
			if (mod_unload(m) == PB_OK) {
				n++;
				again = 1;
			}
		}
	}
	rt_snprintf(line, sizeof(line), "gc: %d modules unloaded, %llu KiB "
	    "returned", n, (unsigned long long)(mem_free_pages() - before) * 4);
	log_event(LOG_UNLOAD, "%s", line);
	if (out)
		out(arg, line);
	return n;
}

/*
 * Before a poweroff or reset: every running provider of `fs` writes back
 * and marks its volumes clean, which is its quiesce (abi/fs.h: a clean
 * shutdown quiesces the provider).  A quiesce may answer PB_EAGAIN while
 * its disk works: the loop runs meanwhile (the disk driver's interrupts
 * and work), up to swap-drain.  What does not finish in time is logged;
 * the reset goes on.
 *
 * Then every module stops, the last started first, so clients stop
 * before the providers they call and each driver silences its device:
 * no DMA into memory the firmware is about to reuse, and no interrupt
 * source left armed across the reset (the watchdog's NMI, raised while
 * the CPU runs the firmware's real-mode reset code, jumped through a
 * stale vector 2: shell/reboot hung).
 */
static void
write_back_file_systems(void)
{
	uint64_t deadline = hub_now_ns() + swap_drain_ns;

	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];
		long r;

		if (m->state != MOD_RUNNING || !m->ops || !m->ops->quiesce ||
		    !mod_provides(m, "fs"))
			continue;
		if ((r = mod_quiesce(m, deadline)) != PB_OK)
			log_event(LOG_ERROR, "shutdown: %s did not write back "
			    "(%ld)", m->name, r);
		else
			m->state = MOD_QUIESCED;
	}
}

static struct pb_module *
last_started(void)
{
	struct pb_module *last = NULL;

	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		if ((m->state == MOD_RUNNING || m->state == MOD_STANDBY ||
		    m->state == MOD_QUIESCED) &&
		    (!last || m->started_at_ns >= last->started_at_ns))
			last = m;
	}
	return last;
}

void
hub_shutdown(void)
{
	struct pb_module *m;

	write_back_file_systems();
	while ((m = last_started()) != NULL)
		mod_stop(m);
}
