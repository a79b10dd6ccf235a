/*
 * injconn.c - a provider's operations are entry points too: an injection
 * armed for a module's entry (inject.c, moment 0) also fires in the next
 * call a client makes through a connection to one of its resources.
 *
 * A driver like bochs-display has no work items or interrupts, and its
 * module entry points run only at start, stop and swaps: everything it
 * does, it does inside its clients' calls (fbcon's fill and blit).  While
 * such an injection is armed, the ops tables of the module's resources
 * are replaced by a table of forwarders; the connection gate
 * (x86_64/conngate.S) reads the resource's table at every call, so the
 * next call lands in a forwarder, already inside the provider's guard
 * and domain.  The forwarder hands the call to inject_entry as one of
 * the module's entry calls: the injector runs in its place, and a fault
 * is charged to the provider, whose client's call returns PB_EFAULT.
 * The tables are put back at the first call, fired or not, and whenever
 * the injection is armed again.
 */
#include "hub.h"

#define FWD_SLOTS 10		/* the most ops of an abi/ interface */
#define FWD_RES 8

typedef long op_fn(void *, uint64_t, uint64_t, uint64_t, uint64_t,
    uint64_t, uint64_t, uint64_t);

static struct fwd {
	struct pb_resource *r;	/* NULL: free */
	const void *ops;	/* the provider's own table */
	void *ctx;
} fwds[FWD_RES];
static const void *fwd_table[FWD_SLOTS];

struct fwd_call {
	op_fn *op;
	void *ctx;
	uint64_t a[7];
};

static long
call_op(void *p)
{
	struct fwd_call *c = p;

	return c->op(c->ctx, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4],
	    c->a[5], c->a[6]);
}

/* Every table back to the provider's own. */
static void
restore(void)
{
	for (unsigned i = 0; i < FWD_RES; i++) {
		struct fwd *f = &fwds[i];

		if (f->r && f->r->used && f->r->ops == (const void *)fwd_table)
			f->r->ops = f->ops;
		f->r = NULL;
	}
}

/* Call slot `slot` of ctx's resource, as an entry call of its owner. */
static long
forward(unsigned slot, void *ctx, uint64_t a0, uint64_t a1, uint64_t a2,
    uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
	struct fwd_call c = { NULL, ctx, { a0, a1, a2, a3, a4, a5, a6 } };
	struct pb_module *m = NULL;
	long (*fn)(void *) = call_op;

	for (unsigned i = 0; i < FWD_RES && !c.op; i++)
		if (fwds[i].r && fwds[i].ctx == ctx) {
			c.op = ((op_fn *const *)fwds[i].ops)[slot];
			m = fwds[i].r->owner;
		}
	restore();
	if (!c.op)
		return PB_ENODEV;
	if (m)
		inject_entry(m, &fn);
	return fn(&c);
}

#define FWD(n)								\
static long								\
fwd_##n(void *ctx, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,	\
    uint64_t a4, uint64_t a5, uint64_t a6)				\
{									\
	return forward(n, ctx, a0, a1, a2, a3, a4, a5, a6);		\
}
FWD(0) FWD(1) FWD(2) FWD(3) FWD(4) FWD(5) FWD(6) FWD(7) FWD(8) FWD(9)

static op_fn *const fwd_fns[FWD_SLOTS] = {
	fwd_0, fwd_1, fwd_2, fwd_3, fwd_4, fwd_5, fwd_6, fwd_7, fwd_8, fwd_9,
};

/* A forwarder finds its resource by the instance the gate hands it:
 * of two resources with one instance (fat's fs and modsrc), the first. */
static int
ctx_taken(const void *ctx, unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		if (fwds[i].ctx == ctx)
			return 1;
	return 0;
}

/*
 * An injection was armed: for module m's entry (its resources' calls
 * forwarded from now on), or for something else (m NULL: none are).
 */
void
inject_conn_arm(struct pb_module *m)
{
	unsigned k = 0;

	restore();
	if (!m)
		return;
	for (unsigned i = 0; i < FWD_SLOTS; i++)
		fwd_table[i] = (const void *)fwd_fns[i];
	for (unsigned i = 0; i < MAX_RESOURCES && k < FWD_RES; i++) {
		struct pb_resource *r = &resources[i];

		if (!r->used || r->owner != m || !r->ops || ctx_taken(r->ctx, k))
			continue;
		fwds[k] = (struct fwd){ r, r->ops, r->ctx };
		r->ops = fwd_table;
		k++;
	}
}
