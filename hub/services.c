/*
 * services.c - struct pb_hub: what the hub offers modules (abi/pb.h).
 *
 * Each service names its caller, checks what the caller may do, and
 * records what it takes in the ledger, so that unloading the caller can
 * take everything back.  A module gets memory and hardware no other way.
 * Pointers, strings and function pointers a module hands over are checked
 * (argcheck.c) before the hub touches them: a bad one is logged, naming
 * the module, and answered PB_EFAULT (NULL where a pointer is returned).
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define MAX_SUBS 32
#define STR_MAX 4096		/* the longest string a service reads */

static struct {
	struct pb_module *m;
	char iface[PB_IFACE_MAX];
} subs[MAX_SUBS];

static void
svc_log(struct pb_module *self, int level, const char *msg)
{
	int kind = level == PB_LOG_ERR ? LOG_ERROR : LOG_MOD;

	if (level > PB_LOG_INFO)
		return;
	if (!hub_arg_str(msg, STR_MAX)) {
		hub_arg_bad(self, "log", "message", msg);
		return;
	}
	log_event(kind, "%s: %s", self ? self->name : "?", msg);
}

static void *
svc_alloc_pages(struct pb_module *self, size_t npages, uint32_t flags,
    uint64_t *phys)
{
	void *p;

	if (phys && !hub_arg_writable(self, phys, sizeof(*phys))) {
		hub_arg_bad(self, "alloc_pages", "phys pointer", phys);
		return NULL;
	}
	p = mem_alloc(self, npages, flags, MEM_KIND_PAGES);
	if (p && phys)
		*phys = (uint64_t)(uintptr_t)p;	/* identity mapped */
	return p;
}

static void
svc_free_pages(struct pb_module *self, void *va, size_t npages)
{
	(void)npages;
	if (mem_free(self, va) != PB_OK)
		log_event(LOG_ERROR, "%s: frees pages it does not own at %p",
		    self->name, va);
}

/* The heap: less than a page comes in 64-byte units of the module's own
 * pages (dma.c), more in whole pages. */
static void *
svc_alloc(struct pb_module *self, size_t bytes)
{
	if (bytes && bytes < 4096)
		return heap_alloc_small(self, bytes);
	return mem_alloc(self, (bytes + 4095) / 4096, PB_MEM_ZERO,
	    MEM_KIND_HEAP);
}

static void
svc_free(struct pb_module *self, void *p)
{
	int r;

	if (!p)
		return;
	if ((r = units_free(self, p)) == PB_ENOENT)
		r = mem_free(self, p);
	if (r != PB_OK)
		log_event(LOG_ERROR, "%s: frees heap it does not own at %p",
		    self->name, p);
}

static void *
svc_map_mmio(struct pb_module *self, uint64_t phys, size_t len, int cache)
{
	void *va = arch_map_mmio(phys, len, cache);

	if (va && mem_note_mmio(self, (uint64_t)(uintptr_t)va, len) != PB_OK) {
		mem_unmap_unshared((uint64_t)(uintptr_t)va, len,
		    arch_unmap_mmio);
		return NULL;
	}
	return va;
}

static void
svc_unmap_mmio(struct pb_module *self, void *va)
{
	size_t len = mem_forget_mmio(self, (uint64_t)(uintptr_t)va);

	if (len)
		mem_unmap_unshared((uint64_t)(uintptr_t)va, len,
		    arch_unmap_mmio);
}

static void offer_pending(void *arg);

static struct pb_resource *
svc_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	struct pb_resource *r;

	if (!hub_arg_str(iface, PB_IFACE_MAX) || !hub_arg_str(name, STR_MAX) ||
	    (props && !hub_arg_str(props, STR_MAX)) ||
	    !hub_arg_known(ops, sizeof(void *))) {
		hub_arg_bad(self, "publish", "string or ops", name);
		return NULL;
	}
	r = res_publish(self, iface, name, props, ops, ctx);

	/* Clients and bind rules are served between work items. */
	if (r && !r->standby)
		work_queue(NULL, offer_pending, NULL);
	return r;
}

static int
svc_set_props(struct pb_module *self, struct pb_resource *r,
    const char *props)
{
	if (!r || !r->used || r->owner != self)
		return PB_EINVAL;
	if (!hub_arg_str(props, STR_MAX))
		return hub_arg_bad(self, "set_props", "string", props);
	rt_strlcpy(r->props, props, sizeof(r->props));
	res_changes++;
	return PB_OK;
}

static int
svc_withdraw(struct pb_module *self, struct pb_resource *r)
{
	if (!r || !r->used || r->owner != self)
		return PB_EINVAL;
	return res_withdraw(r);
}

static struct pb_conn *
svc_connect(struct pb_module *self, const char *iface, uint16_t major,
    uint16_t minor, const char *resname)
{
	struct pb_resource *r;
	struct conn *c;

	if (!hub_arg_str(iface, PB_IFACE_MAX) ||
	    (resname && !hub_arg_str(resname, STR_MAX))) {
		hub_arg_bad(self, "connect", "string", resname ? resname : iface);
		return NULL;
	}
	r = resname ? res_find(resname) : res_best(iface, major, minor, self);

	if (!r || !res_serves(r, iface, major, minor))
		return NULL;
	c = conn_open(self, r, -1);
	return c ? &c->pub : NULL;
}

static void
svc_disconnect(struct pb_module *self, struct pb_conn *pc)
{
	struct conn *c = (struct conn *)pc;

	if (c < conns || c >= conns + MAX_CONNS || !c->used ||
	    c->client != self) {
		log_event(LOG_ERROR, "%s: disconnects a connection it does "
		    "not hold", self->name);
		return;
	}
	conn_tell_gone(c);
	conn_close(c);
}

static int
svc_subscribe(struct pb_module *self, const char *iface)
{
	if (!hub_arg_str(iface, PB_IFACE_MAX))
		return hub_arg_bad(self, "subscribe", "string", iface);
	for (unsigned i = 0; i < MAX_SUBS; i++)
		if (!subs[i].m || subs[i].m->state == MOD_UNLOADED) {
			subs[i].m = self;
			rt_strlcpy(subs[i].iface, iface, sizeof(subs[i].iface));
			work_queue(NULL, offer_pending, NULL);
			return PB_OK;
		}
	return PB_ENOMEM;
}

static int
svc_queue_work(struct pb_module *self, pb_work_fn fn, void *arg)
{
	/* A module may queue another's work (a keyboard notifying its
	 * client), but only code of that module: a pointer kept from an
	 * image that is gone is refused, not run. */
	if (self && hub_module_at((uint64_t)(uintptr_t)fn) != self)
		return PB_EINVAL;
	return work_queue(self, fn, arg);
}

/* ABI 1.2: intrusive work.  Like queue_work, the function must be code
 * of the owner's image; an item that fails the check never runs. */
static void
svc_work_init(struct pb_module *self, struct pb_work *w, pb_work_fn fn,
    void *arg)
{
	if (!w)
		return;
	if (!hub_arg_known(w, sizeof(*w))) {
		hub_arg_bad(self, "work_init", "item", w);
		return;
	}
	work_init(self, w, fn, arg);
	if (self && hub_module_at((uint64_t)(uintptr_t)fn) != self) {
		log_event(LOG_ERROR, "%s: work function %p not in its image",
		    self->name, (void *)(uintptr_t)fn);
		w->gen = ~0u;		/* never alive */
	}
}

/* Anyone may post a module's item (a provider its client's completion),
 * but not one that claims to be the hub's. */
static void
svc_work_post(struct pb_module *self, struct pb_work *w)
{
	if (w && !hub_arg_known(w, sizeof(*w)))
		hub_arg_bad(self, "work_post", "item", w);
	else if (work_post_ok(w))
		work_post_shared(w);
	else if (w)
		work_post_refused(w);	/* written over, or never set up */
	else
		log_event(LOG_ERROR, "%s: posts no work item (NULL)",
		    self ? self->name : "?");
}

static void
svc_work_cancel(struct pb_module *self, struct pb_work *w)
{
	if (w && !hub_arg_known(w, sizeof(*w)))
		hub_arg_bad(self, "work_cancel", "item", w);
	else if (w)
		work_cancel(w);
}

static int
svc_irq_alloc(struct pb_module *self)
{
	return irq_alloc(self);
}

static int
svc_irq_register(struct pb_module *self, int vector, pb_irq_fn fn, void *arg)
{
	if (!hub_arg_code(self, (const void *)(uintptr_t)fn))
		return hub_arg_bad(self, "irq_register", "handler",
		    (const void *)(uintptr_t)fn);
	return irq_register(self, vector, fn, arg);
}

static void
svc_irq_unregister(struct pb_module *self, int vector)
{
	irq_unregister(self, vector);
}

static int
svc_timer_after(struct pb_module *self, uint64_t ns, pb_work_fn fn, void *arg)
{
	if (!hub_arg_code(self, (const void *)(uintptr_t)fn))
		return hub_arg_bad(self, "timer_after", "function",
		    (const void *)(uintptr_t)fn);
	return timer_add(self, ns, fn, arg);
}

static void
svc_timer_cancel(struct pb_module *self, int id)
{
	timer_cancel(self, id);
}

/* The ABI 1.1 layouts of the inventory structs (no struct_size), for
 * modules built against them. */
struct mod_info_11 {
	const char *name;
	const char *version;
	const char *state;
	const struct pb_modinfo *desc;
	uint64_t base, size;
	uint64_t pages;
	uint32_t nres, nconn, nirq;
};

struct res_info_11 {
	const char *name;
	const char *iface;
	uint16_t major, minor;
	const char *props;
	const char *owner;
	uint32_t clients;
	const char *client;
};

static int
mod_info_full(unsigned index, struct pb_mod_info *out)
{
	struct pb_module *m;
	unsigned nconn;

	if (index >= nmodules)
		return PB_ENOENT;
	m = &modules[index];
	*out = (struct pb_mod_info){
		.struct_size = sizeof(*out),
		.name = m->name, .version = m->desc.version,
		.state = mod_state_name(m->state), .desc = &m->desc,
		.base = m->base, .size = m->size,
		.pages = mem_owned(m, -1),
		.image_pages = mem_owned(m, MEM_KIND_IMAGE),
		.mmio_pages = mem_owned(m, MEM_KIND_MMIO),
	};
	out->nres = res_count(m, &nconn);
	out->nconn = nconn;
	out->nirq = irq_count(m);
	return PB_OK;
}

/* A module's mod_info index, -1 for the hub. */
static int32_t
mod_index(const struct pb_module *m)
{
	return m ? (int32_t)(m - modules) : -1;
}

static const char *
mod_name(const struct pb_module *m)
{
	return m ? m->name : "hub";
}

/* The first client of r, by module name. */
static const char *
first_client(const struct pb_resource *r)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].res == r)
			return mod_name(conns[i].client);
	return NULL;
}

static int
res_info_full(const char *module, unsigned index, struct pb_res_info *out)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];
		const char *owner = mod_name(r->owner);

		if (!r->used || (module && strcmp(module, owner) != 0) ||
		    index-- > 0)
			continue;
		*out = (struct pb_res_info){
			.struct_size = sizeof(*out),
			.name = r->name, .iface = r->iface.iface,
			.major = r->iface.major, .minor = r->iface.minor,
			.props = r->props, .owner = owner,
			.clients = res_clients(r), .client = first_client(r),
			.standby = r->standby, .owner_mod = mod_index(r->owner),
		};
		return PB_OK;
	}
	return PB_ENOENT;
}


/* ABI 1.2: no more of the struct than the caller's struct_size says it
 * has; struct_size comes back as what was filled. */
static int
copy_sized(void *out, const void *full, size_t full_size, int r)
{
	uint32_t cap, n;

	if (out && !hub_out_ok("inventory", out, sizeof(uint32_t)))
		return PB_EFAULT;
	if (!out || *(const uint32_t *)out < sizeof(uint32_t))
		return PB_EINVAL;
	cap = *(const uint32_t *)out;
	n = cap < full_size ? cap : (uint32_t)full_size;
	if (!hub_out_ok("inventory", out, n))
		return PB_EFAULT;
	if (r == PB_OK) {
		memcpy(out, full, n);
		*(uint32_t *)out = n;
	}
	return r;
}

static int
svc_mod_info_sized(unsigned index, struct pb_mod_info *out)
{
	struct pb_mod_info full;

	return copy_sized(out, &full, sizeof(full), mod_info_full(index,
	    &full));
}

static int
svc_res_info_sized(const char *module, unsigned index,
    struct pb_res_info *out)
{
	struct pb_res_info full;

	return copy_sized(out, &full, sizeof(full), res_info_full(module,
	    index, &full));
}

/* mod_info and res_info for a module built for ABI 1.2 or later: the
 * 1.2 layout, the fields added since only through the _sized calls. */
static int
svc_mod_info_12(unsigned index, struct pb_mod_info *out)
{
	out->struct_size = offsetof(struct pb_mod_info, image_pages);
	return svc_mod_info_sized(index, out);
}

static int
svc_res_info_12(const char *module, unsigned index, struct pb_res_info *out)
{
	out->struct_size = offsetof(struct pb_res_info, standby);
	return svc_res_info_sized(module, index, out);
}

/* ABI 1.3: the rest of the inventory. */
static int
svc_hub_info(struct pb_hub_info *out)
{
	struct pb_resource *root = res_best(hub_target, 1, 0, NULL);
	struct pb_module *m = root ? root->owner : NULL;
	struct pb_hub_info full = {
		sizeof(full), hub_target, m ? m->name : NULL,
		m ? mod_index(m) : -1, mem_owned(NULL, -1),
		mem_owned(NULL, MEM_KIND_MMIO), mem_free_pages(),
		irq_free_count(),
	};

	return copy_sized(out, &full, sizeof(full), PB_OK);
}

static int
svc_conn_info(unsigned index, struct pb_conn_info *out)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *k = &conns[i];
		const struct pb_resource *r = k->res;
		struct pb_conn_info full = {
			.struct_size = sizeof(full), .client = mod_name(k->client),
			.client_mod = mod_index(k->client), .owner_mod = -1,
		};

		if (!k->used || index-- > 0)
			continue;
		if (r) {
			full.res = r->name;
			full.iface = r->iface.iface;
			full.owner = mod_name(r->owner);
			full.owner_mod = mod_index(r->owner);
		}
		return copy_sized(out, &full, sizeof(full), PB_OK);
	}
	return PB_ENOENT;
}

static int
svc_irq_info(unsigned vector, struct pb_irq_info *out)
{
	struct pb_module *owner = NULL;
	struct pb_irq_info full = { .struct_size = sizeof(full) };

	if (vector > 255)
		return PB_ENOENT;
	full.count = irq_stats((int)vector, &owner);
	full.owner = owner ? owner->name : NULL;
	full.owner_mod = owner ? mod_index(owner) : -1;
	return copy_sized(out, &full, sizeof(full), PB_OK);
}

/* mod_info and res_info for a module built for ABI 1.1: its layout. */
static int
svc_mod_info_11(unsigned index, struct pb_mod_info *out)
{
	struct mod_info_11 *o = (struct mod_info_11 *)out;
	struct pb_mod_info f;
	int r = mod_info_full(index, &f);

	if (r == PB_OK && !hub_out_ok("inventory", o, sizeof(*o)))
		return PB_EFAULT;
	if (r == PB_OK)
		*o = (struct mod_info_11){ f.name, f.version, f.state, f.desc,
		    f.base, f.size, f.pages, f.nres, f.nconn, f.nirq };
	return r;
}

static int
svc_res_info_11(const char *module, unsigned index, struct pb_res_info *out)
{
	struct res_info_11 *o = (struct res_info_11 *)out;
	struct pb_res_info f;
	int r = res_info_full(module, index, &f);

	if (r == PB_OK && !hub_out_ok("inventory", o, sizeof(*o)))
		return PB_EFAULT;
	if (r == PB_OK)
		*o = (struct res_info_11){ f.name, f.iface, f.major, f.minor,
		    f.props, f.owner, f.clients, f.client };
	return r;
}

static int
svc_timer_every(struct pb_module *self, uint64_t ns, pb_work_fn fn, void *arg)
{
	if (!hub_arg_code(self, (const void *)(uintptr_t)fn))
		return hub_arg_bad(self, "timer_every", "function",
		    (const void *)(uintptr_t)fn);
	return timer_add_every(self, ns ? ns : 1, ns ? ns : 1, fn, arg);
}

static int
svc_res_limit(struct pb_module *self, struct pb_resource *r, unsigned max)
{
	if (!r || !r->used || r->owner != self)
		return PB_EINVAL;
	r->max_clients = max;
	return PB_OK;
}

/* control's output function: the caller's code, called as its own (a
 * guarded call in its domain, on its stack), not as the hub's. */
struct line_out {
	struct pb_module *m;
	pb_line_fn out;
	void *arg;
};

struct line_args {
	pb_line_fn out;
	void *arg;
	const char *line;
};

static long
call_line(void *p)
{
	struct line_args *a = p;

	a->out(a->arg, a->line);
	return PB_OK;
}

static void
line_to_module(void *p, const char *line)
{
	struct line_out *o = p;
	struct line_args a = { o->out, o->arg, line };

	mod_call(o->m, call_line, &a, sizeof(a));
}

static int
svc_control(struct pb_module *self, const char *cmd, pb_line_fn out,
    void *arg)
{
	struct line_out o = { self, out, arg };

	if (!hub_arg_str(cmd, STR_MAX) ||
	    (out && !hub_arg_code(self, (const void *)(uintptr_t)out)))
		return hub_arg_bad(self, "control", "command or output", cmd);
	return hub_control(self, cmd, out ? line_to_module : NULL, &o);
}

static int
svc_dma_addr(struct pb_module *self, const void *va, size_t len,
    uint64_t *bus, size_t *run)
{
	if ((bus && !hub_arg_known(bus, sizeof(*bus))) ||
	    (run && !hub_arg_known(run, sizeof(*run))))
		return hub_arg_bad(self, "dma_addr", "output pointer", bus);
	return dma_addr(self, va, len, bus, run);
}

static int
svc_mod_image(struct pb_module *self, const char *path, const void *data,
    size_t len)
{
	if (!path || !data)
		return PB_EINVAL;
	if (!hub_arg_str(path, STR_MAX) || !hub_arg_known(data, len))
		return hub_arg_bad(self, "mod_image", "path or data", data);
	return image_add(self, path, data, len);
}

/* Tell subscribers about resources, connect waiting clients, and load
 * the modules whose bind rules match: for every resource not yet offered. */
static void
offer_pending(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (!r->used || r->standby || r->offered)
			continue;
		r->offered = 1;
		replay_published(r);	/* held for a restart: back */
		park_claim(r);	/* a parked disk's native self takes it first */
		res_offer(r);
		hub_bind(r);
		for (unsigned k = 0; k < MAX_SUBS; k++)
			if (subs[k].m && subs[k].m->state == MOD_RUNNING &&
			    strcmp(subs[k].iface, r->iface.iface) == 0)
				res_notify(subs[k].m, r);
	}
}

/* One table per ABI minor a module may be built for: they differ in
 * the layout mod_info and res_info fill (the caller's). */
#define HUB_SERVICES(mod_info_fn, res_info_fn) { \
	.size = sizeof(struct pb_hub), \
	.abi_major = PB_ABI_MAJOR, \
	.abi_minor = PB_ABI_MINOR, \
	.log = svc_log, \
	.alloc_pages = svc_alloc_pages, \
	.free_pages = svc_free_pages, \
	.alloc = svc_alloc, \
	.free = svc_free, \
	.map_mmio = svc_map_mmio, \
	.unmap_mmio = svc_unmap_mmio, \
	.publish = svc_publish, \
	.set_props = svc_set_props, \
	.withdraw = svc_withdraw, \
	.connect = svc_connect, \
	.disconnect = svc_disconnect, \
	.subscribe = svc_subscribe, \
	.queue_work = svc_queue_work, \
	.irq_alloc = svc_irq_alloc, \
	.irq_register = svc_irq_register, \
	.irq_unregister = svc_irq_unregister, \
	.now_ns = hub_now_ns_svc, \
	.timer_after = svc_timer_after, \
	.timer_cancel = svc_timer_cancel, \
	.mod_info = mod_info_fn, \
	.res_info = res_info_fn, \
	.control = svc_control, \
	.timer_every = svc_timer_every, \
	.set_clock = hub_set_clock, \
	.set_irq_eoi = hub_set_irq_eoi, \
	.res_limit = svc_res_limit, \
	.dma_alloc = dma_alloc, \
	.dma_free = dma_free, \
	.dma_addr = svc_dma_addr, \
	.work_init = svc_work_init, \
	.work_post = svc_work_post, \
	.work_cancel = svc_work_cancel, \
	.mod_info_sized = svc_mod_info_sized, \
	.res_info_sized = svc_res_info_sized, \
	.mod_image = svc_mod_image, \
	.hub_info = svc_hub_info, \
	.conn_info = svc_conn_info, \
	.irq_info = svc_irq_info, \
	.vformat = rt_vsnprintf, \
}

const struct pb_hub hub_services = HUB_SERVICES(svc_mod_info_12,
    svc_res_info_12);
const struct pb_hub hub_services_11 = HUB_SERVICES(svc_mod_info_11,
    svc_res_info_11);
