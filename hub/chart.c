/*
 * chart.c - the boot chart's data: when each module was loaded,
 * started, connected to the device it drives (bind) and swapped in as a
 * new provider, and the boot's milestones (the hub's entry, the takeover,
 * boot done, and what modules mark, such as the shell's first prompt).
 *
 * The hub keeps the numbers and prints them raw through the control
 * command `chart`; drawing belongs to its readers: the shell's `bootchart`
 * (text) and tools/bootchart (`make bootchart`, an SVG).  Times are
 * nanoseconds since the stub's first instruction, the log's clock.
 *
 *   mark hub 47123000
 *   mod acpi running 56812000 310000 57130000 9570000
 *       name, state, load began, load took, start began, start took
 *   ev bochs-display 254165000 263390000 252000
 *       name, bound to its device, its last swap in as the new provider
 *       began, the clients' blackout in it (0: none)
 *
 * An ev line follows its module's mod line when it has a bind or a swap
 * (one line for both: the hub's code is on a budget); readers skip the
 * kinds they do not know.
 */
#include "hub.h"
#include "../abi/rt/rt.h"

#define CHART_MARKS 12
#define CHART_MARK_NAME 16

static struct {
	char name[CHART_MARK_NAME];
	uint64_t ns;
} marks[CHART_MARKS];
static unsigned nmarks;

/* Note that `name` happened now; the first of each name is kept. */
int
chart_mark(const char *name)
{
	for (unsigned i = 0; i < nmarks; i++)
		if (strcmp(marks[i].name, name) == 0)
			return PB_OK;
	if (nmarks == CHART_MARKS || !name[0] ||
	    strlen(name) >= CHART_MARK_NAME)
		return nmarks == CHART_MARKS ? PB_ENOSPC : PB_EINVAL;
	rt_strlcpy(marks[nmarks].name, name, CHART_MARK_NAME);
	marks[nmarks++].ns = hub_now_ns();
	return PB_OK;
}

void
chart_print(pb_line_fn out, void *arg)
{
	char line[128];

	for (unsigned i = 0; i < nmarks; i++) {
		rt_snprintf(line, sizeof(line), "mark %s %llu", marks[i].name,
		    (unsigned long long)marks[i].ns);
		out(arg, line);
	}
	for (unsigned i = 0; i < nmodules; i++) {
		const struct pb_module *m = &modules[i];

		if (!m->loaded_at_ns)
			continue;	/* never loaded */
		rt_snprintf(line, sizeof(line), "mod %s %s %llu %llu %llu %llu",
		    m->name, mod_state_name(m->state),
		    (unsigned long long)m->loaded_at_ns,
		    (unsigned long long)m->load_took_ns,
		    (unsigned long long)m->started_at_ns,
		    (unsigned long long)m->start_took_ns);
		out(arg, line);
		if (!m->bound_at_ns && !m->swap_at_ns)
			continue;
		rt_snprintf(line, sizeof(line), "ev %s %llu %llu %llu",
		    m->name, (unsigned long long)m->bound_at_ns,
		    (unsigned long long)m->swap_at_ns,
		    (unsigned long long)m->swap_took_ns);
		out(arg, line);
	}
}
