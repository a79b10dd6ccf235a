/*
 * res.c - resources and connections.
 *
 * A resource is one published instance of an interface.  A connection is
 * a client's handle on one; the client reads conn->ops and conn->ctx on
 * every call, so rebinding is two stores made between work items.  When a
 * resource is withdrawn, each connection to it is rebound to the best other
 * provider of the same interface (the fallback ladder) or, when there is
 * none, its client is told; a client that needed it to run is stopped.
 */
#include "hub.h"
#include "match.h"
#include "../abi/block.h"
#include "../abi/rt/rt.h"

struct pb_resource resources[MAX_RESOURCES];
struct conn conns[MAX_CONNS];
unsigned res_changes;

static int
visible(const struct pb_resource *r)
{
	return r->used && !r->standby;
}

int
res_serves(const struct pb_resource *r, const char *iface, uint16_t major,
    uint16_t minor)
{
	return iface_serves(&r->iface, iface, major, minor);
}

static int32_t
owner_rank(const struct pb_resource *r)
{
	return r->owner ? r->owner->desc.rank : 0;
}

struct pb_resource *
res_find(const char *name)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (visible(&resources[i]) &&
		    strcmp(resources[i].name, name) == 0)
			return &resources[i];
	return NULL;
}

/* A block resource's identity, its path= (abi/block.h): 1 and path when
 * it has one. */
int
res_path(const struct pb_resource *r, char *path, size_t cap)
{
	return r->used && strcmp(r->iface.iface, BLOCK_IFACE) == 0 &&
	    props_get(r->props, "path", path, cap) && path[0];
}

int
mod_serves(const struct pb_module *provider, const struct pb_module *c,
    unsigned depth)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *k = &conns[i];
		const struct pb_module *o;

		if (!k->used || k->client != c || !k->res ||
		    !(o = k->res->owner) || o == c)
			continue;
		if (o == provider ||
		    (depth && mod_serves(provider, o, depth - 1)))
			return 1;
	}
	return 0;
}

/* Is r the block device of `path`, published by m (a restarted driver's
 * partition under the name of the disk it found, block:sata0.p1 for the
 * block:efi0.p1 its clients knew before a takeover)? */
int
res_same_disk(const struct pb_resource *r, const struct pb_module *m,
    const char *path)
{
	char p[BLOCK_PATH_MAX];

	return path[0] && r->owner == m && res_path(r, p, sizeof(p)) &&
	    strcmp(p, path) == 0;
}

/* The visible resource of m with block path `path`, or NULL. */
struct pb_resource *
res_find_disk(const struct pb_module *m, const char *path)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (visible(&resources[i]) &&
		    res_same_disk(&resources[i], m, path))
			return &resources[i];
	return NULL;
}

/* The best visible provider: highest owner rank, then name. */
struct pb_resource *
res_best(const char *iface, uint16_t major, uint16_t minor,
    const struct pb_module *exclude)
{
	struct pb_resource *best = NULL;

	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (!visible(r) || (exclude && r->owner == exclude) ||
		    res_full(r) || !res_serves(r, iface, major, minor))
			continue;
		if (!best || owner_rank(r) > owner_rank(best) ||
		    (owner_rank(r) == owner_rank(best) &&
		    strcmp(r->name, best->name) < 0))
			best = r;
	}
	return best;
}

/* Are a and b two instances of one module? */
static int
same_module(const struct pb_module *a, const struct pb_module *b)
{
	return a && b && a != b && strcmp(a->name, b->name) == 0;
}

struct pb_resource *
res_publish(struct pb_module *owner, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	const struct pb_provide *p = owner ? mod_provides(owner, iface) : NULL;
	struct pb_resource *r = NULL;
	char full[RES_NAME_MAX];

	if (owner && !p) {
		log_event(LOG_ERROR, "%s: publishes %s, which it does not "
		    "declare", owner->name, iface);
		return NULL;
	}
	if ((size_t)rt_snprintf(full, sizeof(full), "%s:%s", iface, name) >=
	    sizeof(full)) {
		log_event(LOG_ERROR, "%s: resource name %s:%s too long",
		    owner ? owner->name : "hub", iface, name);
		return NULL;
	}
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		/* Two instances of one module (an update) publish the same
		 * names; only one of the two is visible at a time. */
		if (resources[i].used && strcmp(resources[i].name, full) == 0 &&
		    !same_module(resources[i].owner, owner)) {
			log_event(LOG_ERROR, "%s: resource %s exists",
			    owner ? owner->name : "hub", full);
			return NULL;
		}
		if (!resources[i].used && !r)
			r = &resources[i];
	}
	if (!r || !ops)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->used = 1;
	r->standby = owner && owner->state == MOD_STANDBY;
	rt_strlcpy(r->name, full, sizeof(r->name));
	if (p)
		r->iface = *p;
	else
		rt_strlcpy(r->iface.iface, iface, sizeof(r->iface.iface));
	rt_strlcpy(r->props, props ? props : "", sizeof(r->props));
	r->ops = ops;
	r->ctx = ctx;
	r->owner = owner;
	res_changes++;
	return r;
}

/* A resource of the hub's own, at version major.0. */
struct pb_resource *
res_publish_own(const char *iface, uint16_t major, const char *name,
    const char *props, const void *ops, void *ctx)
{
	struct pb_resource *r = res_publish(NULL, iface, name, props, ops, ctx);

	if (r)
		r->iface.major = major;
	return r;
}

unsigned
res_clients(const struct pb_resource *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].res == r)
			n++;
	return n;
}

/* Does r accept no more clients? */
int
res_full(const struct pb_resource *r)
{
	return r->max_clients && res_clients(r) >= r->max_clients;
}

unsigned
res_count(const struct pb_module *m, unsigned *nconn)
{
	unsigned nres = 0;

	*nconn = 0;
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && resources[i].owner == m)
			nres++;
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m)
			(*nconn)++;
	return nres;
}

struct event_args {
	struct pb_module *m;
	int event;
	struct pb_conn *pub;
	int req;
};

static long
call_event(void *p)
{
	struct event_args *a = p;

	a->m->ops->event(a->m, a->event, a->pub, a->req);
	return PB_OK;
}

void
conn_tell(struct conn *c, int event)
{
	struct event_args a = { c->client, event, &c->pub, c->req };

	if (c->client && c->client->ops && c->client->ops->event &&
	    !c->client->fault_pending)
		mod_call_watched(c->client, call_event, &a, sizeof(a));
}

/* c's client goes because it faulted, and no driver waits to take its
 * device back as it is (a swap's rollback: bind_res): the device's state
 * need not survive, its provider may reset it. */
static int
gone_faulted(const struct conn *c)
{
	if (!c->client || !c->client->fault_pending)
		return 0;
	for (unsigned i = 0; i < nmodules; i++)
		if (modules[i].bind_res == c->res)
			return 0;
	return 1;
}

/*
 * ABI 1.2: the client behind c is going; tell the provider before the
 * client's memory and vectors are taken back (pci turns the device's bus
 * mastering and MSI off and reads it back), PB_EV_CLIENT_FAULTED first
 * when it faulted (pci resets the function).  PB_EFAULT when the provider
 * faulted instead, PB_EIO when it said it could not (conn->ops NULL).
 */
int
conn_tell_gone(struct conn *c)
{
	struct pb_module *p = c->res ? c->res->owner : NULL;
	struct pb_conn view = c->pub;	/* the provider's own ops and ctx */
	struct event_args a = { p, PB_EV_CLIENT_FAULTED, &view, c->req };
	long r = PB_OK;

	if (!p || !p->ops || !p->ops->event || p->fault_pending ||
	    c->handover)
		return PB_OK;
	shadow_unwrap(&view);
	arch_conn_ungate(c, &view);
	view.client_data = c->client;	/* who goes (abi/pb.h) */
	if (gone_faulted(c))
		r = mod_call_watched(p, call_event, &a, sizeof(a));
	a.event = PB_EV_CLIENT_GONE;
	if (r == PB_OK)
		r = mod_call_watched(p, call_event, &a, sizeof(a));
	if (r == PB_OK && !view.ops)
		return PB_EIO;
	if (r == PB_OK)
		shadow_client_gone(c);	/* the provider holds none of them */
	return (int)r;
}

/* Is a swap handing a device of `from`'s to `to` (both bound to it,
 * marked handover: swap.c hand_over_devices)?  `to` may then take the
 * vectors `from` set the device's MSI to (irq_register). */
int
res_hands_over(const struct pb_module *from, const struct pb_module *to)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = &conns[i];

		if (!c->used || !c->handover || c->client != to)
			continue;
		for (unsigned k = 0; k < MAX_CONNS; k++)
			if (conns[k].used && conns[k].handover &&
			    conns[k].client == from && conns[k].res == c->res)
				return 1;
	}
	return 0;
}

/* m goes: tell the provider of each of its connections.  The number of
 * providers that failed to hear it. */
unsigned
res_tell_gone(struct pb_module *m)
{
	unsigned failed = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m &&
		    conn_tell_gone(&conns[i]) != PB_OK)
			failed++;
	return failed;
}

/* A connection, whatever r's client limit (a swap handing a device
 * over); the client hears PB_EV_CONNECTED unless it made it by hand. */
struct conn *
conn_open_any(struct pb_module *client, struct pb_resource *r, int req)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		res_changes++;
		c->used = 1;
		c->client = client;
		c->req = req;
		conn_rebind(c, r);
		/* A connection a module makes by hand (a shell command's)
		 * goes to the log's ring but not the console. */
		(req == PB_REQ_NONE ? log_quiet : log_event)(LOG_BIND,
		    "%s -> %s (%s)", client ? client->name : "hub",
		    r->name, r->owner ? r->owner->name : "hub");
		if (req != PB_REQ_NONE)
			conn_tell(c, PB_EV_CONNECTED);
		return c;
	}
	log_event(LOG_ERROR, "hub: out of connections");
	return NULL;
}

struct conn *
conn_open(struct pb_module *client, struct pb_resource *r, int req)
{
	if (res_full(r)) {
		log_event(LOG_ERROR, "hub: %s refused to %s: it takes %u "
		    "client%s", r->name, client ? client->name : "hub",
		    r->max_clients, r->max_clients == 1 ? "" : "s");
		return NULL;
	}
	return conn_open_any(client, r, req);
}

void
conn_rebind(struct conn *c, struct pb_resource *to)
{
	res_changes++;
	c->res = to;
	c->pub.res = to->name;
	if (shadow_bind(c, to))	/* block: through the hub's shadow */
		return;
	c->pub.ops = to->ops;
	c->pub.ctx = to->ctx;
	arch_conn_gate(c);
}

void
conn_close(struct conn *c)
{
	shadow_close(c);
	memset(c, 0, sizeof(*c));
	res_changes++;
}

/* Is client m already connected to r?  A connection held while r's
 * provider restarts (recover.c) counts: it is rebound to r. */
static int
connected(const struct pb_module *m, const struct pb_resource *r, int req)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m &&
		    conns[i].req == req && (conns[i].res == r ||
		    (conns[i].held && strcmp(conns[i].pub.res, r->name) == 0)))
			return 1;
	return 0;
}

/* How many connections client m holds for requirement req. */
unsigned
conn_count(const struct pb_module *m, int req)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m && conns[i].req == req)
			n++;
	return n;
}

/* Connect requirement `i` of m to what is published now. */
static int
connect_requirement(struct pb_module *m, int i)
{
	const struct pb_require *q = &m->desc.requires[i];
	struct pb_resource *r;

	if (q->card != PB_CARD_ALL) {
		if (conn_count(m, i))
			return PB_OK;
		r = res_best(q->iface, q->major, q->minor, m);
		if (!r)
			return q->card == PB_CARD_ONE && q->when == PB_AT_START ?
			    PB_ENOENT : PB_OK;
		return conn_open(m, r, i) ? PB_OK : PB_ENOMEM;
	}
	for (unsigned k = 0; k < MAX_RESOURCES; k++) {
		r = &resources[k];
		if (visible(r) && r->owner != m && !res_full(r) &&
		    res_serves(r, q->iface, q->major, q->minor) &&
		    !connected(m, r, i) && !conn_open(m, r, i))
			return PB_ENOMEM;
	}
	if (q->when == PB_AT_START && !conn_count(m, i))
		return PB_ENOENT;
	return PB_OK;
}

/*
 * Connect m's requirements: those needed at start (at_start) or the rest
 * (after start).  A missing AT_START requirement fails with its name.
 */
int
res_connect_requirements(struct pb_module *m, int at_start)
{
	for (unsigned i = 0; i < m->desc.nrequires; i++) {
		const struct pb_require *q = &m->desc.requires[i];
		int err;

		if ((q->when == PB_AT_START) != at_start)
			continue;
		err = connect_requirement(m, (int)i);
		if (err) {
			log_event(LOG_ERROR, "%s -> %s: no provider", m->name,
			    q->iface);
			return err;
		}
	}
	return PB_OK;
}

/* A resource became visible: connect every running module that wants it. */
void
res_offer(struct pb_resource *r)
{
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		if (m->state != MOD_RUNNING || m == r->owner)
			continue;
		for (unsigned k = 0; k < m->desc.nrequires; k++) {
			const struct pb_require *q = &m->desc.requires[k];

			if (res_serves(r, q->iface, q->major, q->minor))
				connect_requirement(m, (int)k);
		}
	}
}

/* Move connection c off resource `gone` (withdrawn, invisible already):
 * rebind it down the ladder or tell its client. */
void
conn_fall_back(struct conn *c, const char *gone)
{
	const struct pb_require *q = c->req >= 0 && c->client ?
	    &c->client->desc.requires[c->req] : NULL;
	struct pb_resource *alt = NULL;
	struct pb_module *client;

	if (q && q->card != PB_CARD_ALL)
		alt = res_best(q->iface, q->major, q->minor, c->client);
	if (alt) {
		log_event(LOG_BIND, "%s: %s gone, rebound to %s",
		    c->client->name, gone, alt->name);
		conn_rebind(c, alt);
		conn_tell(c, PB_EV_REBOUND);
		return;
	}
	client = c->client;
	conn_tell(c, PB_EV_DISCONNECTED);
	conn_close(c);
	if (q && q->card == PB_CARD_ONE && q->when == PB_AT_START &&
	    client->state == MOD_RUNNING) {
		log_event(LOG_MOD, "%s: lost %s, which it needs; stopping",
		    client->name, gone);
		mod_stop(client);
	}
}

int
res_withdraw(struct pb_resource *r)
{
	if (!r->used)
		return PB_EINVAL;
	r->standby = 1;		/* invisible: no fallback picks it */
	park_withdrawn(r);	/* a disk going with a recovery under it */
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (c->used && c->res == r)
			conn_fall_back(c, r->name);
	}
	memset(r, 0, sizeof(*r));
	res_changes++;
	return PB_OK;
}

/* m stops: its own connections close silently, its resources go. */
void
res_drop_module(struct pb_module *m)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m)
			conn_close(&conns[i]);
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (resources[i].used && resources[i].owner == m)
			res_withdraw(&resources[i]);
}

void
res_offer_module(struct pb_module *m)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		if (visible(&resources[i]) && resources[i].owner == m)
			res_offer(&resources[i]);
}

/* A resource appeared that m subscribed to: tell it the name. */
void
res_notify(struct pb_module *m, struct pb_resource *r)
{
	struct conn note = { .pub = { .res = r->name }, .client = m,
	    .req = -1 };

	conn_tell(&note, PB_EV_RESOURCE);
}
