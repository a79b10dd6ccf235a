/*
 * tdiet - test module: logs the inventory's listings (mods, res, deps,
 * irqs, mem; abi/rt/inventory.c, what the shell prints) when it starts,
 * one log line each, so scenario tests on targets without the shell (or
 * before it runs) can read them: `exec=load tdiet`, `exec=unload tdiet`.
 * boot.cfg's `tdiet=res` (a comma-separated list) picks the listings.
 */
#include "../../../abi/pbmod.h"

struct tdiet {
	const struct pb_hub *hub;
	struct pb_module *self;
};

static void
tdiet_line(void *arg, const char *line)
{
	struct tdiet *t = arg;

	t->hub->log(t->self, PB_LOG_INFO, line);
}

static int
tdiet_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	struct tdiet t = { hub, m };
	char list[64] = "mods,res,deps,irqs,mem";
	char *what = list;

	pb_setting(hub, "tdiet", list, sizeof(list));
	while (what) {
		char *comma = strchr(what, ',');

		if (comma)
			*comma++ = '\0';
		if (pb_inventory(hub, what, tdiet_line, &t) == PB_EINVAL)
			pb_logf(hub, m, PB_LOG_ERR, "no listing %s", what);
		what = comma;
	}
	return PB_OK;
}

static const struct pb_module_ops ops = { .start = tdiet_start };

PB_MODULE(.name = "tdiet", .version = "1.0",
    .desc = "test: logs the inventory's listings", .ops = &ops);
