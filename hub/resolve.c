/*
 * resolve.c - the resolver (see resolve.h for the rules).
 *
 * A depth-first walk from the target.  plan_cand(c) plans candidate c after
 * everything its AT_START requirements pull in; satisfy() picks providers
 * for one requirement and falls back to the next one when a provider does
 * not resolve.  The plan is a stack: a provider that fails takes back what
 * it had appended (and its notes), so a failed trial leaves no trace.
 *
 * Marks per candidate, for one call:
 *   M_STACK    being planned: meeting it again is an AT_START cycle;
 *   M_PLANNED  in plan->order already (with all its providers before it);
 *   M_FAILED   does not resolve, whatever the context: the reason is kept
 *              (without the chain above it) and reused, so a module that
 *              many alternatives lead to is explored once, not once per path.
 * A failure that met a cycle depends on what was on the stack, so it is
 * not remembered (ctx.cycles tells).
 *
 * Errors go into plan->error with their code in ctx.err; a requirement that
 * recovers (fallback, optional, ALL, LATER) clears them.  ctx.chain holds
 * the interfaces from the target down to the requirement being resolved,
 * which is what a "no provider" error prints.
 */
#include "resolve.h"
#include "match.h"
#include "../abi/rt/rt.h"

#define CHAIN_MAX (RS_MAX + 2)	/* the target, then one per stacked module */
#define NAME_W PB_NAME_MAX	/* printing bound for names and interfaces */
#define ERR_MAX sizeof(((struct rs_plan *)0)->error)

enum { M_NONE, M_STACK, M_PLANNED, M_FAILED };

struct ctx {
	const struct rs_set *set;
	struct rs_plan *plan;
	int err;			/* the code of plan->error */
	int cycles;			/* cycles met so far in this call */
	uint8_t mark[RS_MAX];
	int stack[RS_MAX];		/* candidates being planned, outermost first */
	int nstack;
	const char *chain[CHAIN_MAX];	/* interfaces from the target down */
	int nchain;
	int fail_err[RS_MAX];		/* M_FAILED: the code */
	char fail_why[RS_MAX][ERR_MAX];	/* M_FAILED: the error below the chain */
};

/* One call at a time: the hub is single-threaded (see resolve.h). */
static struct ctx cx;

/* What one requirement asks for; self never serves itself. */
struct want {
	const char *iface;
	uint16_t major, minor;
	int self;
};

/* --- descriptors ---------------------------------------------------------- */

static const struct pb_modinfo *
desc(const struct rs_set *set, int c)
{
	return set->cands[c].desc;
}

static int
nprov(const struct pb_modinfo *d)
{
	return d->nprovides < PB_MAX_PROVIDES ? d->nprovides : PB_MAX_PROVIDES;
}

static int
nreq(const struct pb_modinfo *d)
{
	return d->nrequires < PB_MAX_REQUIRES ? d->nrequires : PB_MAX_REQUIRES;
}

static int
nbind(const struct pb_modinfo *d)
{
	return d->nbinds < PB_MAX_BINDS ? d->nbinds : PB_MAX_BINDS;
}

static int
provides(const struct pb_modinfo *d, const struct want *w)
{
	for (int i = 0; i < nprov(d); i++)
		if (iface_serves(&d->provides[i], w->iface, w->major, w->minor))
			return 1;
	return 0;
}

/* Is a ranked before b?  Rank descending, then name, then index. */
static int
better(const struct rs_set *set, int a, int b)
{
	const struct pb_modinfo *da = desc(set, a), *db = desc(set, b);
	int c;

	if (da->rank != db->rank)
		return da->rank > db->rank;
	if ((c = strncmp(da->name, db->name, PB_NAME_MAX)) != 0)
		return c < 0;
	return a < b;
}

static int
ext_serves(const struct rs_res *e, const struct want *w)
{
	if (!e->iface || strnlen(w->iface, PB_IFACE_MAX) == PB_IFACE_MAX)
		return 0;
	return strcmp(e->iface, w->iface) == 0 && e->major == w->major &&
	    e->minor >= w->minor;
}

/* Served with no load: by a hub resource or a RUNNING candidate other than
 * w->self and `except`. */
static int
served_now(const struct rs_set *set, const struct want *w, int except)
{
	for (int i = 0; i < set->next; i++)
		if (ext_serves(&set->ext[i], w))
			return 1;
	for (int c = 0; c < set->ncands; c++)
		if (c != w->self && c != except &&
		    set->cands[c].state == RS_RUNNING && provides(desc(set, c), w))
			return 1;
	return 0;
}

/* Does candidate d have a bind rule on iface whose pattern matches props? */
static int
binds_to(const struct pb_modinfo *d, const char *iface, const char *props)
{
	for (int i = 0; i < nbind(d); i++) {
		const struct pb_bind *b = &d->binds[i];

		if (strnlen(b->iface, PB_IFACE_MAX) == PB_IFACE_MAX ||
		    strnlen(b->match, PB_MATCH_MAX) == PB_MATCH_MAX)
			continue;	/* unterminated: the loader refuses these */
		if (b->iface[0] && strcmp(b->iface, iface) == 0 &&
		    props_match(b->match, props))
			return 1;
	}
	return 0;
}

/* What a selection takes: candidates in `state` that provide w, or with
 * w NULL, that have a bind rule on iface matching props. */
struct pick {
	const struct want *w;
	int state;
	const char *iface, *props;
};

/* The best candidate the pick takes that ranks after prev (-1: the best
 * of all); -1 when there is none.  Quadratic over a requirement's
 * providers, but needs no array to sort. */
static int
next_pick(const struct rs_set *set, const struct pick *k, int prev)
{
	int best = -1;

	for (int c = 0; c < set->ncands; c++) {
		if (set->cands[c].state != k->state || (k->w ?
		    c == k->w->self || !provides(desc(set, c), k->w) :
		    !binds_to(desc(set, c), k->iface, k->props)))
			continue;
		if (prev >= 0 && !better(set, prev, c))
			continue;
		if (best < 0 || better(set, c, best))
			best = c;
	}
	return best;
}

static int
next_provider(const struct rs_set *set, const struct want *w, int state,
    int prev)
{
	return next_pick(set, &(struct pick){ w, state, NULL, NULL }, prev);
}

/* --- errors and notes ------------------------------------------------------ */

static void
append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	rt_vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* Length of the first `depth` chain entries joined with " -> ". */
static size_t
chain_len(const struct ctx *x, int depth)
{
	size_t n = 0;

	for (int i = 0; i < depth; i++)
		n += (i ? 4 : 0) + strnlen(x->chain[i], NAME_W);
	return n;
}

/* Start plan->error with the chain: "os -> fs -> block". */
static void
put_chain(struct ctx *x)
{
	x->plan->error[0] = '\0';
	for (int i = 0; i < x->nchain; i++)
		append(x->plan->error, ERR_MAX, "%s%.*s", i ? " -> " : "",
		    NAME_W, x->chain[i]);
}

static void
clear_error(struct ctx *x)
{
	x->plan->error[0] = '\0';
	x->err = 0;
}


/* Does provide q offer w->iface at some version, by name or as its base?
 * Prefer the one with the major w asks for, the closer miss to report. */
static int
offers(const struct pb_provide *q, const struct want *w, uint16_t *ma,
    uint16_t *mi)
{
	int name = 0, base = 0;

	if (w->iface[0] && strnlen(w->iface, PB_IFACE_MAX) < PB_IFACE_MAX) {
		name = strncmp(q->iface, w->iface, PB_IFACE_MAX) == 0;
		base = strncmp(q->extends, w->iface, PB_IFACE_MAX) == 0;
	}
	if (base && (!name || (q->major != w->major &&
	    q->ext_major == w->major))) {
		*ma = q->ext_major, *mi = q->ext_minor;
		return 1;
	}
	if (name) {
		*ma = q->major, *mi = q->minor;
		return 1;
	}
	return 0;
}

/* The best usable candidate offering w->iface at a version that does not
 * serve w, and that version; -1 when none. */
static int
near_miss(const struct rs_set *set, const struct want *w, uint16_t *ma,
    uint16_t *mi)
{
	int best = -1;
	uint16_t a, b;

	for (int c = 0; c < set->ncands; c++) {
		const struct pb_modinfo *d = desc(set, c);

		if (c == w->self || set->cands[c].state == RS_REFUSED ||
		    (best >= 0 && !better(set, c, best)))
			continue;
		for (int i = 0; i < nprov(d); i++)
			if (offers(&d->provides[i], w, &a, &b)) {
				best = c, *ma = a, *mi = b;
				break;
			}
	}
	return best;
}

/* Nothing serves w: say so, and whether something came close. */
static int
no_provider(struct ctx *x, const struct want *w)
{
	const struct rs_set *set = x->set;
	char *e = x->plan->error;
	uint16_t ma, mi;
	int c;

	put_chain(x);
	x->err = PB_ENOENT;
	if ((c = next_provider(set, w, RS_REFUSED, -1)) >= 0) {
		append(e, ERR_MAX, ": no provider (%.*s refused)", NAME_W,
		    desc(set, c)->name);
		return PB_ENOENT;
	}
	if ((c = near_miss(set, w, &ma, &mi)) >= 0) {
		append(e, ERR_MAX, ": need %.*s %u.%u, %.*s provides %.*s %u.%u",
		    NAME_W, w->iface, w->major, w->minor, NAME_W,
		    desc(set, c)->name, NAME_W, w->iface, ma, mi);
		return PB_ENOENT;
	}
	for (int i = 0; i < set->next; i++) {
		const struct rs_res *r = &set->ext[i];

		if (r->iface && strcmp(r->iface, w->iface) == 0) {
			append(e, ERR_MAX, ": need %.*s %u.%u, the hub provides "
			    "%.*s %u.%u", NAME_W, w->iface, w->major, w->minor,
			    NAME_W, r->iface, r->major, r->minor);
			return PB_ENOENT;
		}
	}
	append(e, ERR_MAX, ": no provider");
	return PB_ENOENT;
}

/* Candidate c is on the stack: "cycle: c -> ... -> c". */
static int
cycle(struct ctx *x, int c)
{
	char *e = x->plan->error;
	int k = 0;

	while (k < x->nstack && x->stack[k] != c)
		k++;
	rt_strlcpy(e, "cycle:", ERR_MAX);
	for (int i = k; i < x->nstack; i++)
		append(e, ERR_MAX, " %.*s ->", NAME_W,
		    desc(x->set, x->stack[i])->name);
	append(e, ERR_MAX, " %.*s", NAME_W, desc(x->set, c)->name);
	x->cycles++;
	x->err = PB_EINVAL;
	return PB_EINVAL;
}

/* c failed with no cycle involved: keep the reason below the chain that
 * led to it (depth entries), which is the same whichever way leads there. */
static void
remember(struct ctx *x, int c, int depth)
{
	const char *e = x->plan->error;
	size_t n = chain_len(x, depth);

	x->mark[c] = M_FAILED;
	x->fail_err[c] = x->err;
	rt_strlcpy(x->fail_why[c], strlen(e) >= n ? e + n : "", ERR_MAX);
}

static int
remembered(struct ctx *x, int c)
{
	put_chain(x);
	append(x->plan->error, ERR_MAX, "%s", x->fail_why[c]);
	x->err = x->fail_err[c];
	return x->err;
}

static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* Provider c was passed over: note it with the reason, once. */
static void
note_skip(struct ctx *x, int c)
{
	char line[sizeof(x->plan->error) + PB_NAME_MAX + 16];
	char *notes = x->plan->notes;

	rt_snprintf(line, sizeof(line), "skipped %.*s: %s", NAME_W,
	    desc(x->set, c)->name, x->plan->error);
	if (contains(notes, line))
		return;
	append(notes, sizeof(x->plan->notes), "%s%s", notes[0] ? "; " : "",
	    line);
}

/* --- planning ------------------------------------------------------------ */

static int plan_cand(struct ctx *x, int c);

/* Take back what was planned past n entries, and the notes past len. */
static void
rollback(struct ctx *x, int n, size_t len)
{
	while (x->plan->n > n)
		x->mark[x->plan->order[--x->plan->n]] = M_NONE;
	x->plan->notes[len] = '\0';
}

/*
 * Find providers for w with cardinality card.  A blocking requirement
 * (AT_START, ONE or ALL) fails when nothing serves; then the error is the
 * best provider's, or says there is none.  Anything else always succeeds.
 */
static int
satisfy(struct ctx *x, const struct want *w, int card, int blocking)
{
	const struct rs_set *set = x->set;
	size_t len = strlen(x->plan->notes);
	int found, first = -1, last = -1;

	found = served_now(set, w, -1);
	if (found && card != PB_CARD_ALL)
		return 0;
	for (int p = next_provider(set, w, RS_AVAILABLE, -1); p >= 0;
	    p = next_provider(set, w, RS_AVAILABLE, p)) {
		if (plan_cand(x, p) == 0) {
			found = 1;
			if (card != PB_CARD_ALL)
				break;
			continue;
		}
		note_skip(x, p);
		if (first < 0)
			first = p;
		last = p;
	}
	if (found || !blocking || card == PB_CARD_OPTIONAL) {
		clear_error(x);
		return 0;
	}
	x->plan->notes[len] = '\0';	/* the error says it all */
	if (first < 0)
		return no_provider(x, w);
	/* Report the best provider's reason: ask it again (it is
	 * remembered, unless a cycle was involved). */
	if (first != last)
		return plan_cand(x, first);
	return x->err;
}

/* Requirement q of candidate self, with its interface on the chain. */
static int
need(struct ctx *x, int self, const struct pb_require *q)
{
	struct want w = { q->iface, q->major, q->minor, self };
	int r;

	x->chain[x->nchain++] = q->iface;
	r = satisfy(x, &w, q->card, q->when != PB_LATER);
	x->nchain--;
	return r;
}

/* Plan AVAILABLE candidate c after what its AT_START requirements need. */
static int
plan_cand(struct ctx *x, int c)
{
	const struct pb_modinfo *d = desc(x->set, c);
	size_t len = strlen(x->plan->notes);
	int n = x->plan->n, cycles = x->cycles, depth = x->nchain, r = 0;

	switch (x->mark[c]) {
	case M_PLANNED:
		return 0;
	case M_STACK:
		return cycle(x, c);
	case M_FAILED:
		return remembered(x, c);
	}
	x->mark[c] = M_STACK;
	x->stack[x->nstack++] = c;
	for (int i = 0; i < nreq(d) && r == 0; i++)
		if (d->requires[i].when != PB_LATER)
			r = need(x, c, &d->requires[i]);
	x->nstack--;
	if (r != 0) {
		rollback(x, n, len);
		x->mark[c] = M_NONE;
		if (x->cycles == cycles)
			remember(x, c, depth);
		return r;
	}
	x->mark[c] = M_PLANNED;
	x->plan->order[x->plan->n++] = c;
	return 0;
}

/* Once what the target needs to start is planned: every planned module's
 * LATER requirements, in plan order, so what they pull in comes after. */
static void
plan_later(struct ctx *x)
{
	for (int i = 0; i < x->plan->n; i++) {
		int c = x->plan->order[i];
		const struct pb_modinfo *d = desc(x->set, c);

		for (int k = 0; k < nreq(d); k++) {
			if (d->requires[k].when != PB_LATER)
				continue;
			x->nchain = 0;
			x->chain[x->nchain++] = d->name;
			need(x, c, &d->requires[k]);
			x->nchain = 0;
		}
	}
}

/* Can the set be walked at all?  Every entry point checks this first. */
static int
set_ok(const struct rs_set *set)
{
	if (!set || set->ncands < 0 || set->ncands > RS_MAX ||
	    (set->ncands && !set->cands) || set->next < 0 ||
	    (set->next && !set->ext))
		return 0;
	for (int c = 0; c < set->ncands; c++)
		if (!set->cands[c].desc)
			return 0;
	return 1;
}

static int
setup(struct ctx *x, const struct rs_set *set, struct rs_plan *plan)
{
	plan->n = 0;
	plan->error[0] = plan->notes[0] = '\0';
	x->set = set;
	x->plan = plan;
	x->err = x->cycles = x->nstack = x->nchain = 0;
	memset(x->mark, M_NONE, sizeof(x->mark));
	if (!set_ok(set)) {
		rt_snprintf(plan->error, ERR_MAX, "resolver: bad set (at most "
		    "%d modules, each with a descriptor)", RS_MAX);
		return PB_EINVAL;
	}
	return 0;
}

static int
finish(struct ctx *x, int r)
{
	x->nchain = 0;
	if (r != 0) {
		x->plan->n = 0;
		return r;
	}
	plan_later(x);
	clear_error(x);
	return 0;
}

int
resolve(const struct rs_set *set, const char *iface, uint16_t major,
    uint16_t minor, struct rs_plan *plan)
{
	struct want w = { iface, major, minor, -1 };
	struct ctx *x = &cx;
	int r;

	if ((r = setup(x, set, plan)) != 0)
		return r;
	if (!iface || !iface[0]) {
		rt_strlcpy(plan->error, "resolver: no target", ERR_MAX);
		return PB_EINVAL;
	}
	x->chain[x->nchain++] = iface;
	return finish(x, satisfy(x, &w, PB_CARD_ONE, 1));
}

int
resolve_module(const struct rs_set *set, int index, struct rs_plan *plan)
{
	struct ctx *x = &cx;
	int r;

	if ((r = setup(x, set, plan)) != 0)
		return r;
	if (index < 0 || index >= set->ncands) {
		rt_snprintf(plan->error, ERR_MAX, "resolver: no candidate %d",
		    index);
		return PB_EINVAL;
	}
	if (set->cands[index].state == RS_RUNNING)
		return 0;
	if (set->cands[index].state != RS_AVAILABLE) {
		rt_snprintf(plan->error, ERR_MAX, "%.*s: refused", NAME_W,
		    desc(set, index)->name);
		return PB_ENOENT;
	}
	x->chain[x->nchain++] = desc(set, index)->name;
	return finish(x, plan_cand(x, index));
}

/* --- bind rules ---------------------------------------------------------- */

int
bind_candidates(const struct rs_set *set, const char *iface,
    const char *props, int *out, int max)
{
	struct pick k = { NULL, RS_AVAILABLE, iface, props };
	int n = 0, prev = -1;

	if (!set_ok(set) || !iface || !out)
		return 0;
	/* Selection, best first: each pass takes the best after prev. */
	while (n < max && (prev = next_pick(set, &k, prev)) >= 0)
		out[n++] = prev;
	return n;
}
