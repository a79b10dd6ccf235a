/*
 * cmd_chart.c - `bootchart`: when each module was loaded and started
 * during the boot, when a driver was bound to its device and when a
 * module was swapped in as a new provider, as a text timeline (like
 * systemd-analyze plot, one row per module), from the hub's raw boot chart
 * (hub/chart.c, control `chart`).  `bootchart -r` prints the raw lines
 * (tools/bootchart reads them to draw build/bootchart.svg).
 */
#include "shell.h"

#define CHART_MODS 64
#define CHART_MARKS 12
#define BAR 40			/* columns of the timeline */

struct chart_mod {
	char name[PB_NAME_MAX];
	char state[12];
	uint64_t load_at, load_ns, start_at, start_ns;
	uint64_t bound_at, swap_at, swap_ns;	/* 0: none */
};

struct chart {
	struct chart_mod mods[CHART_MODS];
	unsigned nmods;
	struct { char name[16]; uint64_t ns; } marks[CHART_MARKS];
	unsigned nmarks;
	int raw;
};

/* The next space-separated word of *p into buf. */
static void
word(const char **p, char *buf, size_t cap)
{
	size_t n = 0;

	while (**p == ' ')
		(*p)++;
	while (**p && **p != ' ') {
		if (n + 1 < cap)
			buf[n++] = **p;
		(*p)++;
	}
	buf[n] = '\0';
}

static uint64_t
number(const char **p)
{
	char buf[24];

	word(p, buf, sizeof(buf));
	return rt_strtou(buf, NULL, 10);
}

static void
chart_line(void *arg, const char *line)
{
	struct chart *c = arg;
	const char *p = line;
	char kind[8];

	if (c->raw)
		say("%s", line);
	word(&p, kind, sizeof(kind));
	if (strcmp(kind, "mark") == 0 && c->nmarks < CHART_MARKS) {
		word(&p, c->marks[c->nmarks].name,
		    sizeof(c->marks[c->nmarks].name));
		c->marks[c->nmarks++].ns = number(&p);
	} else if (strcmp(kind, "mod") == 0 && c->nmods < CHART_MODS) {
		struct chart_mod *m = &c->mods[c->nmods++];

		word(&p, m->name, sizeof(m->name));
		word(&p, m->state, sizeof(m->state));
		m->load_at = number(&p);
		m->load_ns = number(&p);
		m->start_at = number(&p);
		m->start_ns = number(&p);
	} else if (strcmp(kind, "ev") == 0 && c->nmods) {
		/* It follows its module's mod line. */
		struct chart_mod *m = &c->mods[c->nmods - 1];
		char name[PB_NAME_MAX];

		word(&p, name, sizeof(name));
		if (strcmp(name, m->name) != 0)
			return;
		m->bound_at = number(&p);
		m->swap_at = number(&p);
		m->swap_ns = number(&p);
	}
}

/* When m was ready: its start's end, or its load's if it never started. */
static uint64_t
ready_at(const struct chart_mod *m)
{
	return m->start_at ? m->start_at + m->start_ns : m->load_at + m->load_ns;
}

static void
sort_by_load(struct chart *c)
{
	for (unsigned i = 1; i < c->nmods; i++)
		for (unsigned j = i; j > 0 &&
		    c->mods[j].load_at < c->mods[j - 1].load_at; j--) {
			struct chart_mod t = c->mods[j];

			c->mods[j] = c->mods[j - 1];
			c->mods[j - 1] = t;
		}
}

static uint64_t
chart_end(const struct chart *c)
{
	uint64_t end = 1;

	for (unsigned i = 0; i < c->nmarks; i++)
		if (c->marks[i].ns > end)
			end = c->marks[i].ns;
	for (unsigned i = 0; i < c->nmods; i++) {
		const struct chart_mod *m = &c->mods[i];

		if (ready_at(m) > end)
			end = ready_at(m);
		if (m->swap_at + m->swap_ns > end)	/* a swap after it */
			end = m->swap_at + m->swap_ns;
	}
	return end;
}

/* Milliseconds with one decimal, from nanoseconds. */
static void
ms(char *buf, size_t cap, uint64_t ns)
{
	rt_snprintf(buf, cap, "%llu.%llu", (unsigned long long)(ns / 1000000),
	    (unsigned long long)(ns / 100000 % 10));
}

/* Does [at, at + ns] meet the column [t0, t1)? */
static int
meets(uint64_t at, uint64_t ns, uint64_t t0, uint64_t t1)
{
	return at < t1 && at + ns >= t0;
}

/* The row's timeline: '=' while loading, '#' while starting, 'b' where
 * it was bound to its device, 'S' where it was swapped in (a blackout is
 * far shorter than a column: it shows as one). */
static void
bar(char *out, const struct chart_mod *m, uint64_t end)
{
	memset(out, ' ', BAR);
	out[BAR] = '\0';
	for (unsigned i = 0; i < BAR; i++) {
		uint64_t t0 = end * i / BAR, t1 = end * (i + 1) / BAR;

		if (m->swap_at && meets(m->swap_at, m->swap_ns, t0, t1))
			out[i] = 'S';
		else if (m->bound_at && meets(m->bound_at, 0, t0, t1))
			out[i] = 'b';
		else if (m->start_at && meets(m->start_at, m->start_ns, t0, t1))
			out[i] = '#';
		else if (meets(m->load_at, m->load_ns, t0, t1))
			out[i] = '=';
	}
}

static void
print_chart(struct chart *c)
{
	uint64_t end = chart_end(c);
	char line[160], a[16], b[16], d[16], e[16], f[16], row[BAR + 1];
	size_t n = 0;

	say("boot chart, ms since the stub's first instruction "
	    "('=' load, '#' start, 'b' bound to its device, 'S' swapped in):");
	for (unsigned i = 0; i < c->nmarks && n < sizeof(line); i++) {
		ms(a, sizeof(a), c->marks[i].ns);
		n += rt_snprintf(line + n, sizeof(line) - n, "%s%s %s",
		    i ? ", " : "  ", c->marks[i].name, a);
	}
	if (c->nmarks)
		say("%s", line);
	ms(a, sizeof(a), end);
	say("%-16s %8s %6s %6s %8s %8s  0%*s ms", "MODULE", "LOAD AT", "LOAD",
	    "START", "READY", "BOUND", BAR - 1, a);
	sort_by_load(c);
	for (unsigned i = 0; i < c->nmods; i++) {
		const struct chart_mod *m = &c->mods[i];

		ms(a, sizeof(a), m->load_at);
		ms(b, sizeof(b), m->load_ns);
		ms(d, sizeof(d), m->start_ns);
		ms(e, sizeof(e), ready_at(m));
		ms(f, sizeof(f), m->bound_at);
		bar(row, m, end);
		say("%-16s %8s %6s %6s %8s %8s  |%s|", m->name, a, b,
		    m->start_at ? d : "-", e, m->bound_at ? f : "-", row);
		if (m->swap_at) {
			ms(a, sizeof(a), m->swap_at);
			say("%-16s swapped in at %s ms, blackout %llu us", "",
			    a, (unsigned long long)(m->swap_ns / 1000));
		}
	}
}

int
cmd_bootchart(int argc, char **argv)
{
	static struct chart c;
	int r;

	if (argc == 2 && strcmp(argv[1], "-r") != 0)
		return fail("bootchart: unknown option %s (try -r)", argv[1]);
	memset(&c, 0, sizeof(c));
	c.raw = argc == 2;
	r = shell_hub->control(shell_self, "chart", chart_line, &c);
	if (r != PB_OK)
		return fail("bootchart: the hub has no chart (%d)", r);
	if (!c.raw)
		print_chart(&c);
	return PB_OK;
}
