/*
 * tdomainp - test module: a provider whose `crash` operation calls
 * through a NULL function pointer.  tdomain (tdomain=peer) calls it
 * through a connection: the fault is the provider's, not its client's.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/rt/rt.h"
#include "tdomainp.h"

static const struct pb_hub *hub;
static struct pb_module *self;

typedef void (*fn_t)(void);
/* Volatile: the compiler must not see that it calls NULL. */
static fn_t volatile null_fn;

static int
tdomainp_crash(void *ctx)
{
	(void)ctx;
	pb_logf(hub, self, PB_LOG_INFO, "crashing for my client");
	null_fn();
	return PB_OK;
}

static int
tdomainp_add(void *ctx, int a, int b, int c, int d, int e)
{
	(void)ctx;
	return a + b + c + d + e;
}

static const struct tdomainp_ops tdomainp_ops = {
	.crash = tdomainp_crash,
	.add = tdomainp_add,
};

static int
tdomainp_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	(void)mode;
	self = m;
	hub = h;
	return hub->publish(self, "tdomainp", "p0", "", &tdomainp_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tdomainp_start };

PB_MODULE(.name = "tdomainp", .version = "1.0",
    .desc = "test: a provider that faults in its client's call",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tdomainp", 1, 0) });
