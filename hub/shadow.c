/*
 * shadow.c - requests in flight on a `block` or `fs` connection, kept by
 * the hub so that a provider's fault loses none of them (the shadow
 * drivers of Swift et al., OSDI 2004, log requests the same way).
 *
 * A client's connection to a block or fs resource leads to the shadow's
 * ops, whose ctx is the connection's shadow: it passes every call on to
 * the provider's ops (the resource's as they are at the call, so an
 * injection's forwarders, injconn.c, see it), and notes each request
 * submitted until its completion runs (the request's `done` is pointed
 * at shadow_done while it is out, and given back before the client's own
 * function runs).  When the provider faults and restarts (recover.c), the
 * connection is held: requests submitted meanwhile wait in the shadow; at
 * the replay every noted request goes to the new instance again, as
 * block.h allows (reads, writes and flushes are safe to issue again) and
 * as fs.h's requests are (the provider had not completed them).  A
 * provider whose state survives a restart (PB_MOD_RESTATE: fat) hands its
 * queued requests to the new instance in that state; those are marked
 * taken when it was imported (replay.c) and not issued twice: only what
 * the state did not hold goes again, such as the request whose submit
 * faulted before the provider queued it.  A request that cannot be issued
 * (the connection is gone, submit refuses it) completes with PB_EIO.
 * One its driver gave back (PB_ECANCELED, PB_ENODEV) while the connection
 * is parked (park.c: its disk went with a recovery under its driver)
 * stays noted, and goes to the disk when it is back.  Never lost
 * silently.  A block provider that answers a submit with what
 * is no refusal (answer_is_fault) has faulted: its request stays noted.
 *
 * Everything here runs as work or an entry point, one at a time; the
 * provider's interrupt handlers touch none of it.
 */
#include "hub.h"
#include "../abi/block.h"
#include "../abi/fs.h"
#include "../abi/rt/rt.h"

#define SHADOWS 16
#define NOTES 128

struct shadow {
	struct conn *c;			/* NULL: slot free */
	const void *ops;		/* the provider's at the bind; NULL:
					 * held */
	void *ctx;
	int fs;				/* an fs connection, not block */
	int parked;			/* ops stand in for a parked disk */
};

struct note {
	void *req;			/* NULL: slot free */
	struct pb_work *done;		/* the request's */
	int32_t *status;
	struct shadow *s;		/* NULL: its connection closed */
	pb_work_fn fn;			/* the client's completion */
	void *arg;
	uint32_t seq;			/* submission order */
	uint64_t since;			/* hub time it went out */
	uint8_t polled;			/* its lost interrupt was looked for */
	uint8_t taken;			/* in the state a restart imported */
};

static struct shadow shadows[SHADOWS];

/*
 * The notes, and the provider calls under way, on pages of their own
 * that every module may write (x86_64/domain.c gives them key 15, as the
 * guard pages): a client's submit and its completion (shadow_done) run
 * in the client's protection domain, so that a request costs no domain
 * switch but the provider's own (each is a TLB flush under QEMU's TCG).
 * The hub writes through a note's pointers only after checking them
 * (note_sane): a stray write there is a lost or failed request, not the
 * hub's memory written.
 */
#define BOOK_PAGES 3
struct book {
	struct note notes[NOTES];
	uint32_t next_seq;
	uint16_t calls[MAX_MODULES];	/* provider_call under way, per module */
};
static union {
	struct book b;
	uint8_t pages[BOOK_PAGES][4096];
} book __attribute__((aligned(4096)));
_Static_assert(sizeof(struct book) <= BOOK_PAGES * 4096, "book's pages");
static struct note *const notes = book.b.notes;

unsigned shadow_unnoted;		/* submitted without a free note */
unsigned shadow_failed;			/* completed with PB_EIO here */

static struct shadow *
shadow_of(const struct conn *c)
{
	for (unsigned i = 0; i < SHADOWS; i++)
		if (shadows[i].c == c)
			return &shadows[i];
	return NULL;
}

/* The request is back with its client: its note goes. */
static void
unnote(struct note *n)
{
	n->done->fn = n->fn;
	n->done->arg = n->arg;
	n->req = NULL;
}

/* n's shadow, if n names one in use, exactly; else NULL.  Modules may
 * write the notes: what n->s says is read, never followed, until here. */
static struct shadow *
note_shadow(const struct note *n)
{
	struct shadow *s = n->s;

	if (s < shadows || s >= shadows + SHADOWS ||
	    ((uintptr_t)s - (uintptr_t)shadows) % sizeof(*s) != 0 || !s->c)
		return NULL;
	return s;
}

/* May the hub write through n's pointers: its done a module's work
 * item (as work_post_ok asks of a posted one), its status in memory the
 * hub knows.  Modules may write the notes. */
static int
note_sane(const struct note *n)
{
	return work_post_ok(n->done) &&
	    hub_arg_known(n->status, sizeof(*n->status)) &&
	    (!n->s || note_shadow(n));
}

/* Was n's request given back by a driver letting go of a disk that is
 * parked (park.c)?  It then waits for the disk with the requests
 * submitted meanwhile, to be issued again at the replay. */
static int
kept_for_parked(const struct note *n)
{
	const struct shadow *s = note_shadow(n);

	return s && s->parked && s->c && s->c->held && note_sane(n) &&
	    (*n->status == PB_ECANCELED || *n->status == PB_ENODEV);
}

static void
shadow_done(void *arg)
{
	struct note *n = arg;
	pb_work_fn fn = n->fn;
	void *farg = n->arg;

	if (kept_for_parked(n))
		return;
	unnote(n);
	fn(farg);
}

/* Complete n's request with err, through its client's own work. */
static void
fail(struct note *n, int err)
{
	if (!note_sane(n)) {
		log_event(LOG_ERROR, "hub: a block request's note was "
		    "overwritten: it is dropped");
		n->req = NULL;
		return;
	}
	unnote(n);
	shadow_failed++;
	*n->status = err;
	work_post(n->done);
}

/*
 * w, a request's completion, was posted by its provider and taken off the
 * queue, and the client's call that ran it faulted before shadow_done
 * did (work.c: the item a faulted batch was running; an injection at the
 * item's start, campaign usb seed 8086 #235).  The provider is done with
 * the request: its note goes, or the client's recovery would wait for it
 * (recover.c), 2 s, and then keep the client's memory out of use.
 */
void
shadow_done_lost(const struct pb_work *w)
{
	for (unsigned i = 0; w && i < NOTES; i++) {
		struct note *n = &notes[i];

		if (!n->req || n->done != w || work_queued(w))
			continue;
		if (note_sane(n))
			unnote(n);
		else
			n->req = NULL;
	}
}

static void lost_watch(uint64_t now);

struct resubmit_args {
	struct shadow *s;
	void *req;
	struct block_info *info;
};

/* The module behind s's connection; NULL: the hub (a stand-in) or none. */
static struct pb_module *
provider_of(const struct shadow *s)
{
	return s->c->res ? s->c->res->owner : NULL;
}

static long
call_submit(void *p)
{
	struct resubmit_args *a = p;
	const struct pb_resource *r = a->s->c->res;
	/* the resource's ops as they are now; a stand-in's (no resource) */
	const void *ops = r ? r->ops : a->s->ops;
	void *ctx = r ? r->ctx : a->s->ctx;

	arch_grant_note(provider_of(a->s), a->req);
	if (a->s->fs)
		return ((const struct fs_ops *)ops)->submit(ctx, a->req);
	return ((const struct block_ops *)ops)->submit(ctx, a->req);
}

static long
call_info(void *p)
{
	struct resubmit_args *a = p;
	const struct pb_resource *r = a->s->c->res;
	/* the resource's ops as they are now; a stand-in's (no resource) */
	const void *ops = r ? r->ops : a->s->ops;
	void *ctx = r ? r->ctx : a->s->ctx;

	arch_grant_note(provider_of(a->s), a->info);
	return ((const struct block_ops *)ops)->info(ctx, a->info);
}

/*
 * The provider's op as a guarded call of its own, whoever's call it is
 * made in: a fault there is the provider's, not its client's.  It is
 * recovered when the client's call ends (as a gated connection's,
 * conngate.S), or as the hub's work; PB_EFAULT meanwhile, and at once
 * for a provider that awaits its recovery.
 */
static long
provider_call(struct resubmit_args *a, long (*fn)(void *))
{
	struct pb_module *p = provider_of(a->s);
	long r;

	if (!p)
		return fn(a);
	if (p->fault_pending)
		return PB_EFAULT;
	book.b.calls[p - modules]++;
	r = arch_call_module(fn, a, sizeof(*a), p, arch_domain_of(p));
	book.b.calls[p - modules]--;
	if (r == PB_EFAULT)
		recover_defer();
	return r;
}

/* Is m's code on the stack below, in a call of the shadow's? */
int
shadow_calling(const struct pb_module *m)
{
	return m >= modules && m < modules + MAX_MODULES &&
	    book.b.calls[m - modules] != 0;
}

/* The pages modules may write (x86_64/domain.c). */
void *
shadow_book(size_t *len)
{
	*len = sizeof(book);
	return &book;
}

static int
sh_info(void *ctx, struct block_info *info)
{
	struct shadow *s = ctx;
	struct resubmit_args a = { s, NULL, info };
	long r;

	if (!s->ops)
		return PB_EBUSY;
	r = provider_call(&a, call_info);
	return r == PB_EFAULT ? PB_EBUSY : (int)r;
}

/* The answers a block submit refuses with (abi/block.h). */
static int
block_refusal(long r)
{
	return r == PB_EINVAL || r == PB_ENOTSUP || r == PB_EROFS ||
	    r == PB_EMEDIA || r == PB_ENODEV || r == PB_EAGAIN;
}

/*
 * s's provider answered a block submit with r, which is no refusal: it
 * is broken (a wrong return code, in the fault classes of Nooks), and it
 * may hold the request all the same.  Given back to its client, the
 * request would be reused while the provider still writes into it, and
 * the client would see an error the disk never had.  So it is charged as
 * a fault, and the request stays noted: if the provider completes it
 * before its recovery, the client hears that; if not, its new instance
 * gets it at the replay, as after any fault.  Runs in the client's domain:
 * the writes below take the hub's (domain.h, DOMAIN_HUB_RETRY), on a path
 * only a broken provider takes.  0: no module to charge (a stand-in).
 */
static int
answer_is_fault(struct shadow *s, long r)
{
	struct pb_module *p = provider_of(s);

	if (!p)
		return 0;
	if (!p->fault_pending)
		hub_note_fault(p, FAULT_ANSWER, 0, (uint64_t)r);
	recover_defer();
	return 1;
}

static int
submit(struct shadow *s, void *req, struct pb_work *done, int32_t *status)
{
	struct resubmit_args a = { s, req, NULL };
	struct note *n = NULL;
	long r;

	for (unsigned i = 0; i < NOTES && !n; i++)
		if (!notes[i].req)
			n = &notes[i];
	if (!n) {		/* held and no note: nothing can take it now */
		shadow_unnoted++;
		return s->ops ? (int)provider_call(&a, call_submit) : PB_EAGAIN;
	}
	*n = (struct note){ req, done, status, s, done->fn, done->arg,
	    book.b.next_seq++, hub_now_ns(), 0, 0 };
	done->fn = shadow_done;
	done->arg = n;
	if (!s->fs)
		lost_watch(n->since);
	if (!s->ops)
		return PB_OK;	/* held: it goes out at the replay */
	r = provider_call(&a, call_submit);
	if (r == PB_EFAULT)
		return PB_OK;	/* noted: its recovery issues it again */
	if (r != PB_OK && !s->fs && !block_refusal(r) && answer_is_fault(s, r))
		return PB_OK;	/* noted, as a fault's */
	if (r != PB_OK)
		unnote(n);	/* refused: nothing happens, as without us */
	return (int)r;
}

static int
sh_submit(void *ctx, struct block_req *req)
{
	return submit(ctx, req, &req->done, &req->status);
}

static int
sh_fs_submit(void *ctx, struct fs_req *req)
{
	return submit(ctx, req, &req->done, &req->status);
}

static const struct block_ops shadow_ops = { sh_info, sh_submit };
static const struct fs_ops shadow_fs_ops = { sh_fs_submit };

/*
 * A lost interrupt: a handler that did not run, or ran and left its
 * device unacknowledged, leaves a request out for good (an MSI device
 * raises no second message for what it already signalled).  The hub
 * sees the request wait: past LOST_NS, the handlers of its provider and
 * of the modules that provider uses are called once, as if their
 * interrupts had come (a handler must bear a call with nothing to do),
 * and the modules are named in one line.  A request still out after
 * HUNG_NS, longer than any driver's own bounded wait takes to end it
 * with an error, is a provider that broke that promise (its state is
 * corrupt, or it waits for what will not come): it is charged as hung
 * and recovered, and the request goes to its new instance.
 */
#define LOST_NS 500000000ull
#define HUNG_NS 15000000000ull
uint64_t shadow_lost_due;	/* when the armed check runs; 0: none */

static void
lost_poll(struct pb_module *m, unsigned depth, char *list, size_t cap)
{
	size_t n = strlen(list);

	if (irq_poll_module(m))
		rt_snprintf(list + n, cap - n, " %s", m->name);
	for (unsigned i = 0; depth < 4 && i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == m && conns[i].res &&
		    conns[i].res->owner && conns[i].res->owner != m)
			lost_poll(conns[i].res->owner, depth + 1, list, cap);
}

/* n's provider, when n waits on one that runs; else NULL. */
static struct pb_module *
waits_on(const struct note *n)
{
	struct shadow *s = note_shadow(n);
	struct pb_module *m;

	if (!n->req || !s || !s->ops || s->fs || !s->c->res ||
	    work_queued(n->done))
		return NULL;
	m = s->c->res->owner;
	return m && m->state == MOD_RUNNING && !m->fault_pending ? m : NULL;
}

/*
 * Whom to charge for a request out for good at m: m, unless m itself has
 * a request out at a provider of its own (a partition's at its disk's
 * driver).  Then m is waiting, not hung: that provider is charged if its
 * request is as old (and so on down), nobody yet if it is younger (one
 * issued again to a restarted provider has its own 15 s).
 */
static struct pb_module *
to_charge(struct pb_module *m, uint64_t now, unsigned depth)
{
	struct pb_module *young = NULL;

	for (unsigned i = 0; depth < 4 && i < NOTES; i++) {
		struct note *n = &notes[i];
		struct shadow *s = note_shadow(n);
		struct pb_module *p = waits_on(n);

		if (!p || p == m || s->c->client != m)
			continue;
		if (now - n->since >= HUNG_NS)
			return to_charge(p, now, depth + 1);
		young = p;
	}
	return young ? NULL : m;
}

static void
lost_check(void *unused)
{
	uint64_t now = hub_now_ns();
	struct pb_module *m;
	int out = 0;
	char list[64];

	(void)unused;
	shadow_lost_due = 0;
	for (unsigned i = 0; i < NOTES; i++) {
		struct note *n = &notes[i];

		if (!(m = waits_on(n)))
			continue;
		out = 1;
		if (now - n->since >= HUNG_NS && (m = to_charge(m, now, 0))) {
			log_event(LOG_ERROR, "hub: %s has not answered a block "
			    "request for %llu s: charged as hung", m->name,
			    (unsigned long long)(HUNG_NS / 1000000000));
			hub_note_fault(m, FAULT_WATCHDOG, 0, 0);
			mod_handle_faults();
			break;		/* the notes changed */
		}
		if (now - n->since >= LOST_NS && !n->polled) {
			n->polled = 1;
			list[0] = '\0';
			lost_poll(m, 0, list, sizeof(list));
			log_event(LOG_ERROR, "hub: a block request of %s out "
			    "%llu ms: interrupt handlers called (a lost "
			    "interrupt?):%s", m->name,
			    (unsigned long long)(LOST_NS / 1000000), list);
		}
	}
	if (out)
		lost_watch(now);
}

static void
lost_watch(uint64_t now)
{
	if (shadow_lost_due && now < shadow_lost_due + LOST_NS)
		return;		/* armed (one long overdue was cancelled) */
	if (timer_add(NULL, LOST_NS / 2, lost_check, NULL) > 0)
		shadow_lost_due = now + LOST_NS / 2;
}

/* s's notes lose their connection; their requests complete as usual. */
static void
orphan(struct shadow *s)
{
	for (unsigned i = 0; i < NOTES; i++)
		if (notes[i].req && notes[i].s == s)
			notes[i].s = NULL;
	s->c = NULL;
}

/*
 * c now leads to r (conn_rebind): a block connection goes through its
 * shadow, which then leads to r.  0 when c leads to r directly (another
 * interface, or no free shadow).  A shadow of c that c does not lead
 * through any more belongs to an earlier connection in c's slot.
 */
int
shadow_bind(struct conn *c, struct pb_resource *r)
{
	struct shadow *s = shadow_of(c);
	int fs = strcmp(r->iface.iface, FS_IFACE) == 0;

	if (s && (!shadow_wraps(&c->pub) || s->fs != fs ||
	    (!fs && strcmp(r->iface.iface, BLOCK_IFACE) != 0)))
		orphan(s);
	if ((!fs && strcmp(r->iface.iface, BLOCK_IFACE) != 0) ||
	    (!(s = shadow_of(c)) && !(s = shadow_of(NULL))))
		return 0;
	s->c = c;
	s->ops = r->ops;
	s->ctx = r->ctx;
	s->fs = fs;
	s->parked = 0;
	c->pub.ops = fs ? (const void *)&shadow_fs_ops : &shadow_ops;
	c->pub.ctx = s;
	return 1;
}

/* c's provider is restarting: hold what comes. */
void
shadow_hold(struct conn *c)
{
	struct shadow *s = shadow_of(c);

	if (s) {
		s->ops = NULL;
		s->parked = 0;
	}
}

/* c waits for a provider to come (park.c): ops (with ctx) stands in,
 * answering info; its submit keeps each request noted, to be issued at
 * the replay. */
void
shadow_stand_in(struct conn *c, const struct block_ops *ops, void *ctx)
{
	struct shadow *s = shadow_of(c);

	if (s) {
		s->ops = ops;
		s->ctx = ctx;
		s->parked = 1;
	}
}

/* What c's client sees, as the provider's own ops and ctx (for the
 * provider, told PB_EV_CLIENT_GONE). */
void
shadow_unwrap(struct pb_conn *pub)
{
	const struct shadow *s = shadow_wraps(pub) ? pub->ctx : NULL;

	if (s) {
		pub->ops = s->ops;
		pub->ctx = s->ctx;
	}
}

/* Does the client's view lead through a shadow? */
int
shadow_wraps(const struct pb_conn *pub)
{
	return pub->ops == &shadow_ops || pub->ops == &shadow_fs_ops;
}

/*
 * c's client goes, and its provider, told PB_EV_CLIENT_GONE, answered
 * that it holds none of c's requests any more (abi/pb.h: it dropped the
 * queued ones without completing them): their notes go, or each would
 * stay taken for good and the shadow would run out of them.  A
 * completion already posted keeps its note until it runs.
 */
void
shadow_client_gone(struct conn *c)
{
	struct shadow *s = shadow_of(c);

	for (unsigned i = 0; s && i < NOTES; i++) {
		struct note *n = &notes[i];

		if (!n->req || n->s != s || work_queued(n->done))
			continue;
		if (note_sane(n))
			unnote(n);	/* the client's done is its own again */
		else
			n->req = NULL;
	}
}

/* s's oldest noted request, or NULL. */
static struct note *
oldest(const struct shadow *s)
{
	struct note *o = NULL;

	for (unsigned i = 0; i < NOTES; i++)
		if (notes[i].req && notes[i].s == s &&
		    (!o || (int32_t)(notes[i].seq - o->seq) < 0))
			o = &notes[i];
	return o;
}

/*
 * c's provider faulted with its requests: each goes, oldest first, to
 * the provider c leads to now, or completes with PB_EIO when it refuses;
 * one it answers wrongly is kept for the instance after it.  How many
 * went out again.
 */
unsigned
shadow_replay(struct conn *c)
{
	struct shadow *s = shadow_of(c);
	uint32_t end = book.b.next_seq;
	struct note *t;
	unsigned n = 0;
	long r;

	/* Bounded: a request issued again is noted anew, with a new seq. */
	while (s && (t = oldest(s)) && (int32_t)(t->seq - end) < 0) {
		struct resubmit_args a = { s, t->req, NULL };

		t->seq = book.b.next_seq++;
		t->since = hub_now_ns();
		t->polled = 0;
		if (t->taken) {		/* the new instance has it */
			t->taken = 0;
			continue;
		}
		if (work_queued(t->done))
			continue;	/* completed: shadow_done is on its way */
		r = s->ops && c->res && c->res->owner ? mod_call(c->res->owner,
		    call_submit, &a, sizeof(a)) : PB_ENODEV;
		if (r == PB_OK)
			n++;
		else if (!s->fs && !block_refusal(r) && answer_is_fault(s, r))
			continue;	/* kept for the instance after it */
		else if (t->req && t->s == s)
			fail(t, PB_EIO);
	}
	return n;
}

/*
 * c closes: its shadow goes.  Requests still with a live provider stay
 * noted until they complete (their done still leads here).  Those of a
 * provider that died (held) complete with PB_EIO, when their client is
 * there to hear it (a client going is not posted to: its memory goes).
 */
void
shadow_close(struct conn *c)
{
	struct shadow *s = shadow_of(c);

	if (!s || !shadow_wraps(&c->pub)) {
		if (s)
			orphan(s);
		return;
	}
	if (!s->ops && c->client && c->client->state == MOD_RUNNING &&
	    !c->client->fault_pending)
		for (unsigned i = 0; i < NOTES; i++)
			if (notes[i].req && notes[i].s == s &&
			    !work_queued(notes[i].done))
				fail(&notes[i], PB_EIO);
	orphan(s);
}

/*
 * A restarted provider imported the state its faulted instance gave
 * (replay.c): the requests that state lists, by their addresses (fs.h's
 * struct fs_state), are the new instance's to complete, so the replay
 * does not issue them again (taken 0: it could not activate with them
 * after all).  Only requests of held connections count.
 */
void
shadow_state_taken(const void *state, size_t len, int taken)
{
	uint64_t word;

	for (size_t off = 0; off + sizeof(word) <= len; off += sizeof(word)) {
		memcpy(&word, (const char *)state + off, sizeof(word));
		for (unsigned i = 0; i < NOTES; i++) {
			struct shadow *s = note_shadow(&notes[i]);

			if (notes[i].req && s && !s->ops &&
			    (uint64_t)(uintptr_t)notes[i].req == word)
				notes[i].taken = (uint8_t)taken;
		}
	}
}

/* Requests of client m still out at a provider that runs: that provider
 * will write their status and post their done, in m's memory. */
unsigned
shadow_out_for(const struct pb_module *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NOTES; i++) {
		const struct shadow *s = note_shadow(&notes[i]);

		n += notes[i].req && s && s->ops && s->c->client == m &&
		    !work_queued(notes[i].done);
	}
	return n;
}

/* After a wait for m's requests ran out (recover.c): every request still
 * out, of any client, a line each (at most 8): where the chain of
 * providers under m's stopped, and whether that provider could run. */
void
shadow_out_tell(const struct pb_module *m)
{
	uint64_t now = hub_now_ns();
	unsigned said = 0;

	for (unsigned i = 0; i < NOTES && said < 8; i++) {
		const struct shadow *s = note_shadow(&notes[i]);
		const struct pb_module *p;

		if (!notes[i].req || !s || !s->ops || work_queued(notes[i].done))
			continue;
		p = provider_of(s);
		log_event(LOG_ERROR, "%s: waited for: a request of %s at %s, "
		    "out %llu ms%s%s", m->name, s->c->client ?
		    s->c->client->name : "the hub", p ? p->name : "?",
		    (unsigned long long)((now - notes[i].since) / 1000000),
		    p && p->busy ? ", its module in a call" : "",
		    p && shadow_calling(p) ? ", in a provider call" : "");
		said++;
	}
}

/* Requests noted for c (tests, and the log of a recovery). */
unsigned
shadow_pending(const struct conn *c)
{
	const struct shadow *s = shadow_of(c);
	unsigned n = 0;

	for (unsigned i = 0; s && i < NOTES; i++)
		n += notes[i].req && notes[i].s == s;
	return n;
}

/* The connection whose shadow noted req, or NULL (park.c). */
const struct conn *
shadow_noter(const struct block_req *req)
{
	const struct shadow *s;

	for (unsigned i = 0; i < NOTES; i++)
		if (notes[i].req == req && (s = note_shadow(&notes[i])))
			return s->c;
	return NULL;
}
