/*
 * cmd_faultinject.c - `faultinject`: arm one injection in the hub
 * (hub/inject.c), chosen by hand or by seed, and say what came of it.
 *
 *   faultinject MODULE MOMENT TYPE [PARAM]   this one
 *   faultinject again MODULE MOMENT TYPE [PARAM]
 *                                            this one, the module's count
 *                                            of faults kept (the fault
 *                                            window's policy is tested)
 *   faultinject pick SEED INDEX MODULE...    the status of the last one,
 *                                            then injection INDEX of
 *                                            campaign SEED among the MODULEs
 *   faultinject status                       disarm; did it fire, the
 *                                            faults since, the module's
 *                                            state, how many modules run
 *   faultinject hub crash                    the hub itself faults on its
 *                                            next turn: the machine stops
 *                                            with the fatal screen
 *
 * A campaign (tests/scenario/faultcampaign.py) alternates `pick` and a
 * workload, and judges the outcome from outside: only there can a hang or
 * a dead hub be seen.  An interrupt moment picked for a module that has
 * no vector becomes a work item: the same seed still gives the same
 * injections on the same machine.
 */
#include "shell.h"
#include "faultinject.h"

#define PICK_MODULES 16

static void
forward(void *arg, const char *line)
{
	(void)arg;
	say("%s", line);
}

static int
arm(const struct fi_choice *c, const char *what, int keep)
{
	char line[160];
	size_t n;

	fi_control_line(c, line, sizeof(line));
	n = strlen(line);
	if (keep)
		rt_snprintf(line + n, sizeof(line) - n, ":keep");
	if (shell_hub->control(shell_self, line, NULL, NULL) != PB_OK)
		return fail("faultinject: cannot arm %s (is %s running?)",
		    what, c->module);
	say("faultinject %s: %s %s %s 0x%llx", what, c->module,
	    fi_moment_names[c->moment], fi_type_names[c->type],
	    (unsigned long long)c->param);
	return PB_OK;
}

/* The module's record in the hub's inventory; PB_ENOENT if none. */
static int
mod_named(const char *name, struct pb_mod_info *mi)
{
	for (unsigned i = 0;; i++) {
		mi->struct_size = sizeof(*mi);
		if (shell_hub->mod_info_sized(i, mi) != PB_OK)
			return PB_ENOENT;
		if (strcmp(mi->name, name) == 0)
			return PB_OK;
	}
}

static int
status(void)
{
	struct pb_mod_info mi;
	unsigned running = 0;
	int r;

	shell_hub->control(shell_self, "inject off", NULL, NULL);
	r = shell_hub->control(shell_self, "inject", forward, NULL);
	for (unsigned i = 0;; i++) {
		mi.struct_size = sizeof(mi);
		if (shell_hub->mod_info_sized(i, &mi) != PB_OK)
			break;
		running += strcmp(mi.state, "running") == 0;
	}
	say("faultinject: %u modules running", running);
	return r;
}

static int
pick(int argc, char **argv)
{
	const char *mods[PICK_MODULES];
	const char *end, *end2;
	uint64_t seed = rt_strtou(argv[2], &end, 0);
	unsigned index = (unsigned)rt_strtou(argv[3], &end2, 0);
	struct pb_mod_info mi;
	struct fi_choice c;
	unsigned n = 0;
	char what[24];

	if (*end || end == argv[2] || *end2 || end2 == argv[3])
		return fail("faultinject pick: SEED and INDEX are numbers");
	for (int i = 4; i < argc && n < PICK_MODULES; i++)
		mods[n++] = argv[i];
	status();
	fi_pick(seed, index, mods, n, &c);
	if (c.moment == FI_IRQ && mod_named(c.module, &mi) == PB_OK &&
	    !mi.nirq)
		c.moment = FI_WORK;
	rt_snprintf(what, sizeof(what), "%u", index);
	return arm(&c, what, 0);
}

int
cmd_faultinject(int argc, char **argv)
{
	struct fi_choice c;
	const char *why;
	int keep;

	if (argc == 2 && strcmp(argv[1], "status") == 0)
		return status();
	if (argc == 3 && strcmp(argv[1], "hub") == 0 &&
	    strcmp(argv[2], "crash") == 0)
		return shell_hub->control(shell_self, "inject hub crash",
		    forward, NULL) == PB_OK ? PB_OK :
		    fail("faultinject: the hub refused `inject hub crash`");
	if (argc >= 5 && strcmp(argv[1], "pick") == 0)
		return pick(argc, argv);
	keep = argc > 1 && strcmp(argv[1], "again") == 0;
	if (fi_parse(argc - 1 - keep, argv + 1 + keep, &c, &why) != 0)
		return fail("faultinject: %s", why);
	return arm(&c, "armed", keep);
}
