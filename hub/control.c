/*
 * control.c - the hub's commands: load, unload, swap, update, gc, and the
 * boot chart's raw numbers (chart, mark).  The listings (mods, res, deps,
 * irqs, mem) are the shell's, built on the inventory services
 * (abi/rt/inventory.c); the log is read through `log:hub` (abi/log.h).
 * The shell reaches the commands through the `control` service; boot.cfg's
 * `exec=` lines run them at the end of the boot.
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

/* One "error: ..." line (the prefix is in fmt); returns code. */
static int
error(struct ctl *c, int code, const char *fmt, const char *a, const char *b)
{
	say(c, fmt, a, b);
	return code;
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

static int
cmd_load(struct ctl *c, char **w)
{
	const char *what = w[1];
	struct pb_module *m = mod_find(what);
	char err[160];

	if (!m) {
		if (!strchr(what, '/') && !strchr(what, '\\'))
			return error(c, PB_ENOENT,
			    "error: load %s: no such module", what, NULL);
		if (hub_load_path(what, err, sizeof(err)) != PB_OK)
			return error(c, PB_EIO, "error: load %s: %s", what, err);
		return PB_OK;
	}
	if (m->state == MOD_RUNNING)
		return error(c, PB_EBUSY, "error: load %s: already running",
		    what, NULL);
	if (hub_start_module(m, err, sizeof(err)) != PB_OK ||
	    (m->state != MOD_RUNNING && !m->deferred))
		return error(c, PB_EIO, "error: load %s: %s", what,
		    m->why ? m->why : "start failed (see log)");
	say(c, "%s: %s", m->name, mod_state_name(m->state));
	return PB_OK;
}

static int
cmd_unload(struct ctl *c, char **w)
{
	const char *name = w[1];
	struct pb_module *m = mod_find(name);
	char err[160];

	if (!m)
		return error(c, PB_ENOENT, "error: unload %s: no such module",
		    name, NULL);
	if (m == c->caller)
		return error(c, PB_EBUSY, "error: unload %s: it is running "
		    "this command", name, NULL);
	if (hub_unload(m, err, sizeof(err)) != PB_OK)
		return error(c, PB_EBUSY, "error: unload %s: %s", name, err);
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

		if (r->used && r->owner == old && res_clients(r) &&
		    !mod_provides(new, r->iface.iface))
			return 0;
	}
	return 1;
}

static int
cmd_swap(struct ctl *c, char **w)
{
	const char *what = w[1], *name = w[2], *iface = NULL;
	struct pb_module *old = provider_of(what, &iface), *new = mod_find(name);
	char err[160];

	if (!old)
		return error(c, PB_ENOENT, "error: swap %s: no running provider",
		    what, NULL);
	if (!new)
		return error(c, PB_ENOENT, "error: swap: no module %s", name,
		    NULL);
	if (!mod_provides(new, iface))
		return error(c, PB_EINVAL, "error: swap: %s does not provide %s",
		    name, iface);
	if (swap_provider(old, new, serves_all(old, new) ? NULL : iface, err,
	    sizeof(err)) != PB_OK)
		return error(c, PB_EIO, "error: swap %s: %s; nothing changed",
		    what, err);
	say(c, "swapped %s: %s -> %s, blackout %llu us", iface, old->name,
	    new->name, (unsigned long long)(swap_stats.last_ns / 1000));
	return PB_OK;
}

/* update MODULE SOURCE: a new build of a running module takes its place
 * (a file of a module source, or a path the firmware can read). */
static int
cmd_update(struct ctl *c, char **w)
{
	const char *name = w[1];
	struct pb_module *old = mod_find(name), *new;
	char err[160];

	if (old && old == c->caller)
		return error(c, PB_EBUSY, "error: update %s: it is running "
		    "this command", name, NULL);
	if (hub_update(name, w[2], err, sizeof(err)) != PB_OK)
		return error(c, PB_EIO, "error: update %s: %s", name, err);
	new = mod_find(name);
	say(c, "updated %s: %s -> %s, blackout %llu us", name,
	    old->desc.version, new->desc.version,
	    (unsigned long long)(swap_stats.last_ns / 1000));
	return PB_OK;
}

static int
cmd_gc(struct ctl *c, char **w)
{
	return hub_gc(hub_target, c->out, c->arg) >= 0 ? PB_OK : PB_EIO;
}

static int
cmd_chart(struct ctl *c, char **w)
{
	if (c->out)
		chart_print(c->out, c->arg);
	return PB_OK;
}

static int
cmd_mark(struct ctl *c, char **w)
{
	return chart_mark(w[1]) == PB_OK ? PB_OK : error(c, PB_EINVAL,
	    "error: mark %s: no room or bad name", w[1], NULL);
}

/* Each command with its number of words, the name included. */
static const struct {
	char name[8];
	int words;
	int (*run)(struct ctl *c, char **w);
} commands[] = {
	{ "load", 2, cmd_load }, { "unload", 2, cmd_unload },
	{ "swap", 3, cmd_swap }, { "update", 3, cmd_update },
	{ "gc", 1, cmd_gc }, { "chart", 1, cmd_chart }, { "mark", 2, cmd_mark },
};

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
		    "error: too many arguments: %s", line, NULL);
	/* inject takes one to three words: `inject`, `inject off`,
	 * `inject MODULE MOMENT:TYPE:PARAM`, `inject hub crash`
	 * (hub/inject.c). */
	if (strcmp(w[0], "inject") == 0)
		return inject_control(w[1], w[2], out, arg) == PB_OK ? PB_OK :
		    error(&c, PB_EINVAL, "error: inject: bad arguments: %s",
		    line, NULL);
	for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(w[0], commands[i].name) == 0 &&
		    n == commands[i].words)
			return commands[i].run(&c, w);
	return error(&c, PB_EINVAL, "error: unknown command or bad arguments: "
	    "%s", line, NULL);
}
