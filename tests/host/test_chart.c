/*
 * test_chart.c - the boot chart's raw lines (hub/chart.c, control `chart`)
 * for a driver's bind and a swap, with fake modules.
 *
 * Every entry point of a fake moves the clock by its tick_ns, so the
 * times the chart prints can be checked against each other: a driver is
 * connected to its device after its load and before its start, and a
 * swap's blackout is its quiesce, export, release, import and activate.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "../../abi/rt/rt.h"

static char chart[4096];

static void
collect(void *arg, const char *line)
{
	size_t n = strlen(chart);

	(void)arg;
	snprintf(chart + n, sizeof(chart) - n, "%s\n", line);
}

static const char *
chart_now(void)
{
	chart[0] = '\0';
	chart_print(collect, NULL);
	return chart;
}

/* The numbers of module name's line of `kind` ("mod": after its state);
 * how many were read. */
static int
numbers(const char *kind, const char *name, unsigned long long *v, int max)
{
	char head[64];
	const char *p;
	int n = 0;

	snprintf(head, sizeof(head), "%s %s ", kind, name);
	for (p = chart; p && strncmp(p, head, strlen(head)) != 0;
	    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		;
	if (!p || !*p)
		return 0;
	p += strlen(head);
	if (strcmp(kind, "mod") == 0)
		p = strchr(p, ' ') + 1;		/* its state */
	while (n < max && *p >= '0' && *p <= '9') {
		v[n++] = rt_strtou(p, &p, 10);
		while (*p == ' ')
			p++;
	}
	return n;
}

TEST(chart_bind_between_the_drivers_load_and_start)
{
	struct fm *bus, *drv;
	struct pb_modinfo *d;
	unsigned long long mod[4], ev[3];

	fm_setup();
	bus = fm_add("bus", 0);
	fm_provide(bus, "dev", 1, 0);
	fm_publish(bus, "dev", "d0", "vendor=1");
	drv = fm_add_loadable("drv", 1);
	fm_serve(drv, "tcon", "drv0");
	drv->tick_ns = 1000;
	d = &drv->m->desc;
	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
	REQUIRE(fm_start(bus) == PB_OK);
	fm_run_work();			/* the offer: drv binds and starts */
	REQUIRE(drv->m->state == MOD_RUNNING && fm_bind_conn(drv));
	chart_now();
	REQUIRE(numbers("mod", "drv", mod, 4) == 4);
	REQUIRE(numbers("ev", "drv", ev, 3) == 3);
	CHECK_MSG(mod[0] + mod[1] <= ev[0] && ev[0] <= mod[2], "%s", chart);
	CHECK(mod[3] >= 1000);			/* its start took a tick */
	CHECK_EQ_INT(ev[1], 0);			/* never swapped */
	CHECK_EQ_INT(ev[2], 0);
	fm_teardown();
}

TEST(chart_swap_in_as_the_new_provider)
{
	struct fm *old, *new, *third, *cli;
	char err[200];
	unsigned long long mod[4], ev[3];
	uint64_t before;

	fm_setup();
	old = fm_add_loadable("old", 1);
	fm_serve(old, "tcon", "old0");
	new = fm_add_loadable("new", 2);
	fm_serve(new, "tcon", "new0");
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	REQUIRE(fm_start(old) == PB_OK && fm_start(cli) == PB_OK);
	REQUIRE(mod_load(new->m) == PB_OK);
	old->tick_ns = new->tick_ns = 1000;
	before = fake_now;
	REQUIRE(swap_provider(old->m, new->m, "tcon", err, sizeof(err)) ==
	    PB_OK);
	chart_now();
	/* A module with neither a bind nor a swap has no ev line; the old
	 * provider took part as the one swapped out. */
	CHECK_MSG(numbers("ev", "old", ev, 3) == 0, "%s", chart);
	REQUIRE(numbers("mod", "new", mod, 4) == 4);
	REQUIRE(numbers("ev", "new", ev, 3) == 3);
	CHECK_EQ_INT(ev[0], 0);			/* no device */
	/* The blackout: old's quiesce, export, release; new's import and
	 * activate (test_swap.c), after new's standby start. */
	CHECK_EQ_INT(ev[2], 5000);
	CHECK_EQ_INT(ev[2], swap_stats.last_ns);
	CHECK_MSG(ev[1] >= mod[2] + mod[3] && ev[1] >= before &&
	    ev[1] + ev[2] <= fake_now, "%s", chart);

	/* new -> third: the chart keeps each module's last swap in. */
	third = fm_add_loadable("third", 3);
	fm_serve(third, "tcon", "third0");
	REQUIRE(mod_load(third->m) == PB_OK);
	new->tick_ns = third->tick_ns = 100;
	REQUIRE(swap_provider(new->m, third->m, "tcon", err, sizeof(err)) ==
	    PB_OK);
	chart_now();
	REQUIRE(numbers("ev", "third", mod, 3) == 3);
	CHECK_EQ_INT(mod[2], 500);
	CHECK(mod[1] >= ev[1] + ev[2]);
	CHECK(numbers("ev", "new", mod, 3) == 3 && mod[1] == ev[1] &&
	    mod[2] == ev[2]);
	fm_teardown();
}
