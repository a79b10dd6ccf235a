/*
 * hello.c - the SDK's example: a module built outside the Patchbay tree.
 * It provides `greeting` 1.0 (one call, greet) and logs a greeting when
 * it starts; the shell's `load /esp/PATH/hello.mod` runs it, `mods`
 * lists it, `unload hello` takes it out.
 */
#include "abi/pbmod.h"
#include "greet.h"

static const struct pb_hub *hub;
static struct pb_module *self;

struct greeting_ops {
	int (*greet)(void *ctx, const char *who, char *buf, size_t cap);
};

static int
greet(void *ctx, const char *who, char *buf, size_t cap)
{
	return greet_line(buf, cap, who) ? PB_OK : PB_EINVAL;
}

static const struct greeting_ops greeting_ops = { greet };

static int
hello_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char line[96];

	self = m;
	hub = h;
	if (!greet_line(line, sizeof(line), "world"))
		return PB_EINVAL;
	pb_logf(hub, self, PB_LOG_INFO, "%s", line);
	return hub->publish(self, "greeting", "hello0", "lang=en",
	    &greeting_ops, NULL) ? PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = {
	.start = hello_start,
};

PB_MODULE(.name = "hello", .version = "1.0",
    .desc = "the SDK's example: says hello", .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("greeting", 1, 0) });
