/*
 * tnull - test module: provides `tnull`, whose one operation does nothing,
 * so tbench can time the cost of a call through a connection.  A 12 KiB
 * table of constants makes the image 16 KiB+ for the load benchmark.
 */
#include "../../../abi/pbmod.h"

struct tnull_ops {
	int (*nop)(void *ctx, int x);
};

static int
tnull_nop(void *ctx, int x)
{
	return x + 1;
}

static const struct tnull_ops tnull_ops = { tnull_nop };

/* Ballast: the image size the load benchmark is about. */
static const uint32_t ballast[3072] = { 1, 2, 3 };

static int
tnull_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	return hub->publish(m, "tnull", "null0", ballast[1] == 2 ? "" : "?",
	    &tnull_ops, NULL) ? PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tnull_start };

PB_MODULE(.name = "tnull", .version = "1.0", .desc = "test: a no-op provider",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tnull", 1, 0) });
