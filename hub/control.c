/*
 * control.c - the hub's commands: load, unload, swap, update, gc, and the
 * listings mods, res, deps, irqs and mem (the log is read through
 * `log:hub`, abi/log.h).  The shell reaches them through the `control`
 * service; boot.cfg's `exec=` lines run them at the end of the boot.
 *
 * Every command answers through `out`, one line per call; a failure is one
 * line beginning "error: " and a negative return.
 */
#include "hub.h"
#include "cfg.h"
#include "swap.h"
#include "../abi/rt/rt.h"


struct ctl {
	pb_line_fn out;
	void *arg;
	struct pb_module *caller;	/* NULL: the hub's own exec= lines */
};

static void
say(struct ctl *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->out)
		c->out(c->arg, line);
}

static int
error(struct ctl *c, int code, const char *fmt, const char *a, const char *b)
{
	char msg[200];

	rt_snprintf(msg, sizeof(msg), fmt, a, b);
	say(c, "error: %s", msg);
	return code < 0 ? code : PB_EINVAL;
}

/* Split "cmd a b" into at most 3 words, in place. */
static int
split(char *s, char *w[3])
{
	int n = 0;

	while (*s && n < 3) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (!*s)
			break;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return *s ? -1 : n;
}

static void
provides_text(const struct pb_modinfo *d, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < d->nprovides; i++) {
		size_t n = strlen(buf);
		rt_snprintf(buf + n, cap - n, "%s%s %u.%u", i ? "," : "",
		    d->provides[i].iface, d->provides[i].major,
		    d->provides[i].minor);
	}
	if (!buf[0])
		rt_strlcpy(buf, "-", cap);
}

static void
requires_text(const struct pb_modinfo *d, char *buf, size_t cap)
{
	static const char *const card[] = { "", "?", "*" };

	buf[0] = '\0';
	for (unsigned i = 0; i < d->nrequires; i++) {
		size_t n = strlen(buf);
		rt_snprintf(buf + n, cap - n, "%s%s%s", i ? "," : "",
		    d->requires[i].iface, card[d->requires[i].card % 3]);
	}
	if (!buf[0])
		rt_strlcpy(buf, "-", cap);
}

static int
cmd_mods(struct ctl *c)
{
	char p[96], r[96];

	say(c, "%-14s %-6s %-9s %-12s %6s  %-24s %s", "NAME", "VER", "STATE",
	    "BASE", "SIZE", "PROVIDES", "REQUIRES");
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];

		provides_text(&m->desc, p, sizeof(p));
		requires_text(&m->desc, r, sizeof(r));
		say(c, "%-14s %-6s %-9s 0x%010llx %5uK  %-24s %s", m->name,
		    m->desc.version[0] ? m->desc.version : "-",
		    mod_state_name(m->state), (unsigned long long)m->base,
		    m->base ? m->size / 1024 : 0, p, r);
	}
	return PB_OK;
}

static void
res_of(struct ctl *c, const struct pb_module *owner)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];

		if (r->used && r->owner == owner)
			say(c, "  %s%s%s%s (%u client%s)", r->name,
			    r->standby ? " [standby]" : "", r->props[0] ? " " : "",
			    r->props, res_clients(r),
			    res_clients(r) == 1 ? "" : "s");
	}
}

/* The hub's own line: the interfaces of the resources it publishes. */
static void
hub_line(struct ctl *c)
{
	char line[200] = "hub";
	size_t n;

	for (unsigned i = 0, k = 0; i < MAX_RESOURCES; i++) {
		const struct pb_resource *r = &resources[i];

		if (!r->used || r->owner)
			continue;
		n = strlen(line);
		rt_snprintf(line + n, sizeof(line) - n, "%s\"%s\"",
		    k++ ? ", " : ", provides ", r->iface.iface);
	}
	say(c, "%s", line);
}

/* The inventory, module by module, as in the "No Kernel" appendix 1. */
static int
cmd_res(struct ctl *c)
{
	hub_line(c);
	res_of(c, NULL);
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];
		char line[200];
		size_t n;

		if (m->state != MOD_RUNNING && m->state != MOD_STANDBY &&
		    m->state != MOD_QUIESCED)
			continue;
		rt_snprintf(line, sizeof(line), "%s", m->name);
		for (unsigned k = 0; k < m->desc.nprovides; k++) {
			n = strlen(line);
			rt_snprintf(line + n, sizeof(line) - n, "%s\"%s\"",
			    k ? ", " : ", provides ", m->desc.provides[k].iface);
		}
		for (unsigned k = 0; k < m->desc.nrequires; k++) {
			n = strlen(line);
			rt_snprintf(line + n, sizeof(line) - n, "%s\"%s\"",
			    k ? ", " : ", requires ", m->desc.requires[k].iface);
		}
		say(c, "%s", line);
		res_of(c, m);
	}
	return PB_OK;
}

static int
cmd_mem(struct ctl *c)
{
	say(c, "%-14s %10s %10s %10s", "OWNER", "IMAGE KiB", "DATA KiB",
	    "MMIO KiB");
	say(c, "%-14s %10s %10llu %10llu", "hub", "-",
	    (unsigned long long)mem_owned(NULL, -1) * 4,
	    (unsigned long long)mem_owned(NULL, MEM_KIND_MMIO) * 4);
	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *m = &modules[i];
		uint64_t img = mem_owned(m, MEM_KIND_IMAGE);
		uint64_t all = mem_owned(m, -1);
		uint64_t mmio = mem_owned(m, MEM_KIND_MMIO);

		if (all || mmio)
			say(c, "%-14s %10llu %10llu %10llu", m->name,
			    (unsigned long long)img * 4,
			    (unsigned long long)(all - img) * 4,
			    (unsigned long long)mmio * 4);
	}
	say(c, "free: %llu KiB, %u vectors", (unsigned long long)mem_free_pages() * 4,
	    irq_free_count());
	return PB_OK;
}

/* Interrupts taken per vector, and per module. */
static int
cmd_irqs(struct ctl *c)
{
	struct pb_module *owner;
	uint64_t count;

	say(c, "%-6s %12s  %s", "VECTOR", "COUNT", "MODULE");
	for (int v = 32; v < 256; v++) {
		owner = NULL;
		if ((count = irq_stats(v, &owner)) || owner)
			say(c, "%-6d %12llu  %s", v, (unsigned long long)count,
			    owner ? owner->name : "-");
	}
	for (unsigned i = 0; i < nmodules; i++) {
		count = 0;
		for (int v = 32; v < 256; v++)
			if (irq_stats(v, &owner) && owner == &modules[i])
				count += irq_stats(v, &owner);
		if (count)
			say(c, "module %-14s %12llu", modules[i].name,
			    (unsigned long long)count);
	}
	return PB_OK;
}

/* One module and, indented below, the providers its connections reach. */
static void
deps_of(struct ctl *c, const struct pb_module *m, int depth, uint64_t *seen)
{
	unsigned idx = (unsigned)(m - modules);
	int again = (seen[idx / 64] >> (idx % 64)) & 1;

	seen[idx / 64] |= 1ull << (idx % 64);
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *k = &conns[i];
		const struct pb_resource *r = k->res;

		if (!k->used || k->client != m || !r)
			continue;
		say(c, "%*s%s -> %s (%s)%s", depth * 2 + 2, "", r->iface.iface,
		    r->name, r->owner ? r->owner->name : "hub",
		    again ? " ..." : "");
		if (r->owner && !again && depth < 8)
			deps_of(c, r->owner, depth + 1, seen);
	}
}

/* The dependency tree from the target, as in the "No Kernel" appendix 2. */
static int
cmd_deps(struct ctl *c)
{
	struct pb_resource *root = res_best(hub_target, 1, 0, NULL);
	uint64_t seen[(MAX_MODULES + 63) / 64] = { 0 };

	if (!root || !root->owner)
		return error(c, PB_ENOENT, "deps: nothing provides %s%s",
		    hub_target, "");
	say(c, "%s: %s", hub_target, root->owner->name);
	deps_of(c, root->owner, 0, seen);
	return PB_OK;
}

static int
cmd_load(struct ctl *c, const char *what)
{
	struct pb_module *m = mod_find(what);
	char err[160];

	if (!m) {
		if (!strchr(what, '/') && !strchr(what, '\\'))
			return error(c, PB_ENOENT, "load %s: no such module%s",
			    what, "");
		if (hub_load_path(what, err, sizeof(err)) != PB_OK)
			return error(c, PB_EIO, "load %s: %s", what, err);
		return PB_OK;
	}
	if (m->state == MOD_RUNNING)
		return error(c, PB_EBUSY, "load %s: already running%s", what, "");
	if (hub_start_module(m, err, sizeof(err)) != PB_OK ||
	    (m->state != MOD_RUNNING && !m->deferred))
		return error(c, PB_EIO, "load %s: %s", what,
		    m->why ? m->why : "start failed (see log)");
	say(c, "%s: %s", m->name, mod_state_name(m->state));
	return PB_OK;
}

static int
cmd_unload(struct ctl *c, const char *name)
{
	struct pb_module *m = mod_find(name);
	char err[160];

	if (!m)
		return error(c, PB_ENOENT, "unload %s: no such module%s", name, "");
	if (m == c->caller)
		return error(c, PB_EBUSY, "unload %s: it is running this "
		    "command%s", name, "");
	if (hub_unload(m, err, sizeof(err)) != PB_OK)
		return error(c, PB_EBUSY, "unload %s: %s", name, err);
	say(c, "%s unloaded", name);
	return PB_OK;
}

/* The running module serving `what` (an interface or a resource name). */
static struct pb_module *
provider_of(const char *what, const char **iface)
{
	struct pb_resource *r = strchr(what, ':') ? res_find(what) : NULL;
	struct pb_resource *best = NULL;

	if (r) {
		*iface = r->iface.iface;
		return r->owner;
	}
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		r = &resources[i];
		if (r->used && !r->standby && r->owner &&
		    strcmp(r->iface.iface, what) == 0 &&
		    (!best || res_clients(r) > res_clients(best)))
			best = r;
	}
	if (best)
		*iface = best->iface.iface;
	return best ? best->owner : NULL;
}

/* Does new provide every interface old serves to clients?  Then the
 * swap takes old over whole. */
static int
serves_all(const struct pb_module *old, const struct pb_module *new)
{
	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		const struct pb_resource *r = &resources[i];
		int found = 0;

		if (!r->used || r->owner != old || !res_clients(r))
			continue;
		for (unsigned k = 0; k < new->desc.nprovides; k++)
			found |= strcmp(new->desc.provides[k].iface,
			    r->iface.iface) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

static int
cmd_swap(struct ctl *c, const char *what, const char *name)
{
	const char *iface = NULL;
	struct pb_module *old = provider_of(what, &iface), *new = mod_find(name);
	char err[160];

	if (!old)
		return error(c, PB_ENOENT, "swap %s: no running provider%s", what,
		    "");
	if (!new)
		return error(c, PB_ENOENT, "swap: no module %s%s", name, "");
	if (!mod_provides(new, iface))
		return error(c, PB_EINVAL, "swap: %s does not provide %s", name,
		    iface);
	if (swap_provider(old, new, serves_all(old, new) ? NULL : iface, err,
	    sizeof(err)) != PB_OK)
		return error(c, PB_EIO, "swap %s: %s; nothing changed", what, err);
	say(c, "swapped %s: %s -> %s, blackout %llu us", iface, old->name,
	    new->name, (unsigned long long)(swap_stats.last_ns / 1000));
	return PB_OK;
}

/* update MODULE SOURCE: a new build of a running module takes its place
 * (a file of a module source, or a path the firmware can read). */
static int
cmd_update(struct ctl *c, const char *name, const char *source)
{
	struct pb_module *old = mod_find(name), *new;
	char err[160];

	if (old && old == c->caller)
		return error(c, PB_EBUSY, "update %s: it is running this "
		    "command%s", name, "");
	if (hub_update(name, source, err, sizeof(err)) != PB_OK)
		return error(c, PB_EIO, "update %s: %s", name, err);
	new = mod_find(name);
	say(c, "updated %s: %s -> %s, blackout %llu us", name,
	    old->desc.version, new->desc.version,
	    (unsigned long long)(swap_stats.last_ns / 1000));
	return PB_OK;
}

int
hub_control(struct pb_module *caller, const char *line, pb_line_fn out,
    void *arg)
{
	struct ctl c = { out, arg, caller };
	char buf[160];
	char *w[3] = { 0 };
	int n;

	rt_strlcpy(buf, line, sizeof(buf));
	n = split(buf, w);
	if (n <= 0)
		return n == 0 ? PB_OK : error(&c, PB_EINVAL,
		    "too many arguments: %s%s", line, "");
	if (strcmp(w[0], "mods") == 0 && n == 1)
		return cmd_mods(&c);
	if (strcmp(w[0], "res") == 0 && n == 1)
		return cmd_res(&c);
	if (strcmp(w[0], "mem") == 0 && n == 1)
		return cmd_mem(&c);
	if (strcmp(w[0], "irqs") == 0 && n == 1)
		return cmd_irqs(&c);
	if (strcmp(w[0], "deps") == 0 && n == 1)
		return cmd_deps(&c);
	if (strcmp(w[0], "chart") == 0 && n == 1) {
		if (out)
			chart_print(out, arg);
		return PB_OK;
	}
	if (strcmp(w[0], "mark") == 0 && n == 2)
		return chart_mark(w[1]) == PB_OK ? PB_OK :
		    error(&c, PB_EINVAL, "mark %s: no room or bad name%s", w[1],
		    "");
	if (strcmp(w[0], "gc") == 0 && n == 1)
		return hub_gc(hub_target, out, arg) >= 0 ? PB_OK : PB_EIO;
	if (strcmp(w[0], "load") == 0 && n == 2)
		return cmd_load(&c, w[1]);
	if (strcmp(w[0], "unload") == 0 && n == 2)
		return cmd_unload(&c, w[1]);
	if (strcmp(w[0], "swap") == 0 && n == 3)
		return cmd_swap(&c, w[1], w[2]);
	if (strcmp(w[0], "inject") == 0)
		return inject_control(w[1], w[2], out, arg) == PB_OK ? PB_OK :
		    error(&c, PB_EINVAL, "inject: bad arguments: %s%s", line,
		    "");
	if (strcmp(w[0], "update") == 0 && n == 3)
		return cmd_update(&c, w[1], w[2]);
	return error(&c, PB_EINVAL, "unknown command or bad arguments: %s%s",
	    line, "");
}
