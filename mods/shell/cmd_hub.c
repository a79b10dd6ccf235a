/*
 * cmd_hub.c - the commands the hub answers itself (load, unload, swap,
 * update, gc): passed to hub->control, each line it answers forwarded to
 * every console; and the inventory's listings (mods, res, deps, irqs,
 * mem), which the shell formats from the hub's inventory services.
 */
#include "shell.h"

struct answer {
	int error_seen;		/* the hub printed its own "error: " line */
};

static void
hub_line(void *arg, const char *line)
{
	struct answer *a = arg;

	if (strncmp(line, "error: ", 7) == 0)
		a->error_seen = 1;
	out_write(line, strlen(line));
	out_write("\n", 1);
}

int
cmd_hub(int argc, char **argv)
{
	struct answer a = { 0 };
	char line[160];
	size_t n = 0;
	int r;

	/* The words again, one space apart, as the hub splits them. */
	line[0] = '\0';
	for (int i = 0; i < argc && n < sizeof(line); i++)
		n += rt_snprintf(line + n, sizeof(line) - n, "%s%s",
		    i ? " " : "", argv[i]);
	if (n >= sizeof(line))
		return fail("%s: arguments too long", argv[0]);
	r = shell_hub->control(shell_self, line, hub_line, &a);
	/* Every failure shows one error line, whatever the hub printed. */
	if (r < 0 && !a.error_seen)
		return fail("%s: failed (%d)", argv[0], r);
	return r;
}

/* mods, res, deps, irqs, mem (abi/rt/inventory.c). */
int
cmd_inventory(int argc, char **argv)
{
	struct answer a = { 0 };
	int r = pb_inventory(shell_hub, argv[0], hub_line, &a);

	if (r < 0 && !a.error_seen)
		return fail("%s: failed (%d)", argv[0], r);
	return r;
}

/* The shell runs this very command: unloading it would pull the code out
 * from under the call. */
int
cmd_unload(int argc, char **argv)
{
	if (strcmp(argv[1], pb_modinfo.name) == 0)
		return fail("unload %s: it is running this command; "
		    "swap os to another module first", argv[1]);
	return cmd_hub(argc, argv);
}
