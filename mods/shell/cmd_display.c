/*
 * cmd_display.c - the display commands: modes, mode WxH, swaptest N.
 *
 * Each connects to the best `display` when it runs (hub->connect) and
 * lets go when it is done.  Mode listing and setting need display 1.1;
 * a 1.0 provider shows its one mode and says it cannot set any.
 *
 * swaptest N [MODULE] swaps the display N times between the provider in
 * use and MODULE (by default the best other module that provides a
 * display), while a work item of its own keeps printing numbered lines
 * to every console, in chunks cut anywhere, escape sequences included,
 * so that swaps land in the middle of lines.  Each swap's blackout comes
 * from the hub's answer; the report lists them with their median and
 * worst.
 *
 * Whether a character was lost is read back from the screen, not
 * assumed.  Every printed line starts with 25 coloured blank cells: the
 * 16 palette colours in order (which makes the line recognisable and
 * tells the colours apart whatever the palette), then the line's number
 * in 6 hexadecimal digits, the run's number and two check digits, each a
 * colour.  After every swap (when the console has just redrawn itself on
 * the new provider) and at the end, the rows of the console that draws
 * on the display are read back through the display's read operation, one
 * scan line through the middle of each row, and decoded: the lines shown
 * must be every line printed since the previous check, in order, up to
 * the last one printed.  The printer stops while it is a screenful short
 * of running past the last check, so no line scrolls away unseen.  A
 * line missing counts all its characters as lost; a row that does not
 * decode between two that do is a damaged line.
 */
#include "shell.h"
#include "../../abi/display.h"

#define ST_MAX_SWAPS 5000
#define ST_CAL 16		/* cells of the 16 colours in order */
#define ST_DATA 9		/* 6 digits of the number, the run, 2 checks */
#define ST_CELLS (ST_CAL + ST_DATA)
#define ST_LINE_MAX 256
#define ST_PRINTS_PER_SWAP 3	/* printer items between two swaps */
#define ST_SETTLE_NS 50000000ull	/* for the console's last frame */
#define ST_ROW_MAX 4096		/* pixels of one scan line read back */

/* --- the display in use ---------------------------------------------- */

/* The resource named `name`, from the hub's inventory. */
static int
res_named(const char *name, struct pb_res_info *out)
{
	for (unsigned i = 0; shell_hub->res_info(NULL, i, out) == PB_OK; i++)
		if (strcmp(out->name, name) == 0)
			return 1;
	return 0;
}

struct pb_conn *
display_open(const char *cmd, struct pb_res_info *ri)
{
	struct pb_conn *c = shell_hub->connect(shell_self, DISPLAY_IFACE, 1, 0,
	    NULL);

	if (!c) {
		fail("%s: no display", cmd);
		return NULL;
	}
	if (!res_named(c->res, ri)) {
		shell_hub->disconnect(shell_self, c);
		fail("%s: %s went away", cmd, c->res);
		return NULL;
	}
	return c;
}

void
display_close(struct pb_conn *c)
{
	if (c)
		shell_hub->disconnect(shell_self, c);
}

/* "1280x1024" */
static int
parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	const char *end;
	uint64_t a, b;

	a = rt_strtou(s, &end, 10);
	if (end == s || *end != 'x')
		return 0;
	s = end + 1;
	b = rt_strtou(s, &end, 10);
	if (end == s || *end || !a || !b || a > 65535 || b > 65535)
		return 0;
	*w = (uint32_t)a, *h = (uint32_t)b;
	return 1;
}

int
cmd_modes(int argc, char **argv)
{
	struct pb_res_info ri;
	struct display_mode cur, m;
	struct pb_conn *c;
	unsigned n = 0;
	int r;

	(void)argc;
	if (!(c = display_open(argv[0], &ri)))
		return PB_ENOENT;
	if ((r = PB_CALL(c, display_ops, get_mode, &cur)) != PB_OK) {
		display_close(c);
		return fail("%s: %s cannot tell its mode (%d)", argv[0], ri.name,
		    r);
	}
	if (ri.minor < 1) {
		say("%s (%s, display %u.%u): %ux%u, no mode list", ri.name,
		    ri.owner, ri.major, ri.minor, cur.width, cur.height);
		display_close(c);
		return PB_OK;
	}
	while (PB_CALL(c, display_ops, list_modes, n, &m) == PB_OK)
		n++;
	say("%s (%s), %u modes, * the current one:", ri.name, ri.owner, n);
	for (unsigned i = 0; i < n; i++)
		if (PB_CALL(c, display_ops, list_modes, i, &m) == PB_OK)
			say("  %c %ux%u", m.width == cur.width &&
			    m.height == cur.height ? '*' : ' ', m.width,
			    m.height);
	display_close(c);
	return PB_OK;
}

int
cmd_mode(int argc, char **argv)
{
	struct pb_res_info ri;
	struct display_mode m, now;
	struct pb_conn *c;
	uint32_t w, h;
	unsigned i;
	int r;

	(void)argc;
	if (!parse_size(argv[1], &w, &h))
		return fail("%s: %s is not WIDTHxHEIGHT", argv[0], argv[1]);
	if (!(c = display_open(argv[0], &ri)))
		return PB_ENOENT;
	if (ri.minor < 1) {
		display_close(c);
		return fail("%s: %s (%s) cannot set modes: it is display %u.%u",
		    argv[0], ri.name, ri.owner, ri.major, ri.minor);
	}
	for (i = 0; (r = PB_CALL(c, display_ops, list_modes, i, &m)) == PB_OK;
	    i++)
		if (m.width == w && m.height == h)
			break;
	if (r != PB_OK) {
		display_close(c);
		return fail("%s: %ux%u is not a mode of %s (%s); see modes",
		    argv[0], w, h, ri.name, ri.owner);
	}
	if ((r = PB_CALL(c, display_ops, set_mode, m.id)) != PB_OK) {
		display_close(c);
		return fail("%s: %s (%s) refused %ux%u (%d)", argv[0], ri.name,
		    ri.owner, w, h, r);
	}
	r = PB_CALL(c, display_ops, get_mode, &now);
	display_close(c);
	if (r != PB_OK || now.width != w || now.height != h)
		return fail("%s: %s shows %ux%u, not %ux%u", argv[0], ri.name,
		    now.width, now.height, w, h);
	/* The consoles see the new size at their next frame: this line. */
	say("%s: %ux%u", ri.name, w, h);
	return PB_OK;
}

/* --- swaptest: the state ---------------------------------------------- */

static struct swaptest {
	int running;
	unsigned want, done;		/* swaps asked for, made */
	char from[PB_NAME_MAX], to[PB_NAME_MAX];	/* the two providers */
	struct pb_conn *disp;		/* to read the screen back */
	struct pb_conn *con;		/* the console on it: its grid */
	uint32_t *blackout;		/* us, one per swap */
	uint32_t *row;			/* a scan line read back */
	uint32_t run;			/* this run's number, 1-15 */
	/* the printer */
	uint32_t seq;			/* the line being printed, from 1 */
	char line[ST_LINE_MAX];
	size_t len, pos, coded_end;	/* its bytes, written, coded part */
	uint32_t coded;			/* lines whose coded cells are out */
	unsigned prints;		/* printer items since the last swap */
	uint32_t rnd;
	int stopping, printing;
	/* the checks */
	uint32_t verified;		/* lines judged so far */
	unsigned checks, lost_lines, damaged;
	uint64_t lost_chars;
	char error[160];
} st;

static uint32_t run_counter;

/*
 * The check digits over the 7 nibbles before them: a weighted sum and its
 * complement.  Cells not written yet are blank (colour 0) and the cursor
 * is one reversed cell, so a line the printer is still writing never
 * passes: its run cell is blank (runs are 1-15), or its digits are all
 * out and its number is right anyway.
 */
static uint32_t
check_sum(const uint8_t *nib)
{
	uint32_t s = 9;

	for (unsigned i = 0; i < 7; i++)
		s += (i + 1) * nib[i];
	return s & 15;
}

/* The colour indices of a line's coded cells. */
static void
line_cells(uint32_t seq, uint8_t *cell)
{
	uint8_t *nib = cell + ST_CAL;

	for (unsigned k = 0; k < ST_CAL; k++)
		cell[k] = (uint8_t)k;
	for (unsigned i = 0; i < 6; i++)
		nib[i] = (uint8_t)(seq >> (20 - 4 * i) & 15);
	nib[6] = (uint8_t)st.run;
	nib[7] = (uint8_t)check_sum(nib);
	nib[8] = (uint8_t)(15 - nib[7]);
}

/* Line `seq`: the coded cells (SGR background, a blank), a readable tail. */
static void
line_make(uint32_t seq)
{
	uint8_t cell[ST_CELLS];
	size_t n = 0;

	line_cells(seq, cell);
	for (unsigned k = 0; k < ST_CELLS; k++)
		n += (size_t)rt_snprintf(st.line + n, sizeof(st.line) - n,
		    "\033[%um ", cell[k] < 8 ? 40u + cell[k] : 92u + cell[k]);
	st.coded_end = n;
	n += (size_t)rt_snprintf(st.line + n, sizeof(st.line) - n,
	    "\033[0m swaptest line %06u\n", (unsigned)seq);
	st.len = n;
	st.pos = 0;
}

/* Characters a line shows: its cells and its tail. */
static uint32_t
line_chars(void)
{
	return ST_CELLS + 21;	/* " swaptest line 000123" */
}

/* --- swaptest: reading the screen back --------------------------------- */

/* Decode a row from the middle scan line: its number, or 0. */
static uint32_t
decode_row(const uint32_t *px, uint32_t cw)
{
	uint32_t cal[ST_CAL], seq = 0, k, j;
	uint8_t nib[ST_DATA];

	for (k = 0; k < ST_CAL; k++) {
		cal[k] = px[k * cw + cw / 2];
		for (j = 0; j < k; j++)
			if (cal[j] == cal[k])
				return 0;	/* not the 16 colours */
	}
	for (k = 0; k < ST_DATA; k++) {
		uint32_t v = px[(ST_CAL + k) * cw + cw / 2];

		for (j = 0; j < ST_CAL && cal[j] != v; j++)
			;
		if (j == ST_CAL)
			return 0;
		nib[k] = (uint8_t)j;
	}
	if (nib[6] != st.run || nib[7] != check_sum(nib) ||
	    nib[8] != 15 - nib[7])
		return 0;		/* another run's, or damaged */
	for (k = 0; k < 6; k++)
		seq = seq << 4 | nib[k];
	return seq;
}

/* Lines in (after, before) that were never shown, counted once. */
static void
lost(uint32_t after, uint32_t before, uint32_t judged)
{
	if (after < judged)
		after = judged;
	if (before > after + 1) {
		st.lost_lines += before - after - 1;
		st.lost_chars += (uint64_t)(before - after - 1) * line_chars();
	}
}

/*
 * Read the console's rows back from the display and judge the lines
 * printed since the last check (see the top of the file).
 */
static int
check_screen(void)
{
	struct display_mode m;
	uint32_t cols, rows, cw, ch, prev = 0, seq, judged = st.verified;
	unsigned bad_between = 0;
	int r;

	if ((r = PB_CALL(st.disp, display_ops, get_mode, &m)) != PB_OK ||
	    (r = PB_CALL(st.con, console_ops, size, &cols, &rows)) != PB_OK) {
		rt_snprintf(st.error, sizeof(st.error), "the display or its "
		    "console cannot say its size (%d)", r);
		return r;
	}
	cw = cols ? m.width / cols : 0;
	ch = rows ? m.height / rows : 0;
	if (!cw || !ch || cols < ST_CELLS || ST_CELLS * cw > ST_ROW_MAX) {
		rt_snprintf(st.error, sizeof(st.error), "a %ux%u grid on %ux%u "
		    "cannot be read back", cols, rows, m.width, m.height);
		return PB_ENOTSUP;
	}
	st.checks++;
	for (uint32_t y = 0; y < rows; y++) {
		if ((r = PB_CALL(st.disp, display_ops, read, st.row,
		    ST_CELLS * cw, 0, y * ch + ch / 2, ST_CELLS * cw, 1)) !=
		    PB_OK) {
			rt_snprintf(st.error, sizeof(st.error), "reading row %u "
			    "back failed (%d)", y, r);
			return r;
		}
		seq = decode_row(st.row, cw);
		if (!seq || seq > st.seq) {	/* text, or a number not printed */
			bad_between += prev != 0;
			continue;
		}
		if (!prev)
			lost(judged, seq, judged);	/* never shown */
		else if (seq > prev)
			lost(prev, seq, judged);	/* a gap */
		if (prev && (seq <= prev || bad_between) && seq > judged)
			st.damaged += bad_between ? bad_between : 1;
		bad_between = 0;
		prev = seq;
	}
	lost(prev, st.coded + 1, judged);		/* the bottom */
	st.verified = st.coded;
	return PB_OK;
}

/* --- swaptest: the work items ----------------------------------------- */

static void finish(void *arg);

static uint32_t
next_rnd(void)
{
	st.rnd = st.rnd * 1103515245u + 12345u;
	return st.rnd >> 8;
}

/* Lines the printer may run ahead of the last check: less than the
 * console's screen, so no unchecked line scrolls out of sight. */
static uint32_t
room(void)
{
	uint32_t cols, rows;

	if (PB_CALL(st.con, console_ops, size, &cols, &rows) != PB_OK)
		return 1;
	return rows > 8 ? rows - rows / 4 : 1;
}

/* The printer: one chunk of the current line, cut anywhere. */
static void
print_step(void *arg)
{
	size_t n;

	(void)arg;
	if (!st.running)
		return;
	if (st.pos == st.len) {
		if (st.stopping) {
			st.printing = 0;
			return;
		}
		if (st.seq - st.verified >= room())
			goto again;	/* wait for the next check */
		line_make(++st.seq);
	}
	n = 1 + next_rnd() % st.len;
	if (n > st.len - st.pos)
		n = st.len - st.pos;
	out_write(st.line + st.pos, n);
	st.pos += n;
	if (st.pos >= st.coded_end)
		st.coded = st.seq;
	st.prints++;
again:
	if (shell_hub->queue_work(shell_self, print_step, NULL) != PB_OK)
		st.printing = 0;
}

struct swap_answer {
	uint32_t us;
	int ok;
	char text[160];
};

static void
swap_line(void *arg, const char *line)
{
	struct swap_answer *a = arg;
	const char *p = line;

	rt_strlcpy(a->text, line, sizeof(a->text));
	if (strncmp(line, "swapped ", 8) != 0)
		return;
	for (; *p; p++)
		if (strncmp(p, "blackout ", 9) == 0) {
			a->us = (uint32_t)rt_strtou(p + 9, NULL, 10);
			a->ok = 1;
		}
}

static void
stop_soon(void)
{
	st.stopping = 1;
	if (shell_hub->timer_after(shell_self, ST_SETTLE_NS, finish, NULL) < 0)
		finish(NULL);
}

/* The swapper: one swap each time the printer has had its turns, then
 * the screen is read back. */
static void
swap_step(void *arg)
{
	struct swap_answer a = { 0, 0, "" };
	char cmd[64];
	int r;

	(void)arg;
	if (!st.running || st.stopping)
		return;
	if (st.prints < ST_PRINTS_PER_SWAP && st.printing &&
	    st.seq - st.verified < room())
		goto again;
	st.prints = 0;
	rt_snprintf(cmd, sizeof(cmd), "swap display %s",
	    st.done % 2 ? st.from : st.to);
	r = shell_hub->control(shell_self, cmd, swap_line, &a);
	if (r != PB_OK || !a.ok) {
		rt_snprintf(st.error, sizeof(st.error), "swap %u: %s",
		    st.done + 1, a.text[0] ? a.text : "no answer");
		stop_soon();
		return;
	}
	st.blackout[st.done++] = a.us;
	if (check_screen() != PB_OK || st.done == st.want) {
		stop_soon();
		return;
	}
again:
	if (shell_hub->queue_work(shell_self, swap_step, NULL) != PB_OK) {
		rt_strlcpy(st.error, "cannot queue work", sizeof(st.error));
		stop_soon();
	}
}

/* --- swaptest: the report ---------------------------------------------- */

static void
sort(uint32_t *v, unsigned n)
{
	for (unsigned gap = n / 2; gap; gap /= 2)
		for (unsigned i = gap; i < n; i++)
			for (unsigned j = i; j >= gap && v[j - gap] > v[j];
			    j -= gap) {
				uint32_t t = v[j];

				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static void
report_blackouts(void)
{
	char line[128];
	size_t n = 0;

	for (unsigned i = 0; i < st.done; i++) {
		n += (size_t)rt_snprintf(line + n, sizeof(line) - n, " %u",
		    st.blackout[i]);
		if (i % 12 == 11 || i + 1 == st.done) {
			say("blackouts (us):%s", line);
			n = 0;
		}
	}
	if (!st.done)
		return;
	sort(st.blackout, st.done);
	say("blackout median %u us, worst %u us, over %u swaps",
	    st.done % 2 ? st.blackout[st.done / 2] :
	    (st.blackout[st.done / 2 - 1] + st.blackout[st.done / 2]) / 2,
	    st.blackout[st.done - 1], st.done);
}

static void
release_all(void)
{
	display_close(st.disp);
	if (st.con)
		shell_hub->disconnect(shell_self, st.con);
	shell_hub->free(shell_self, st.blackout);
	shell_hub->free(shell_self, st.row);
	st.disp = st.con = NULL;
	st.blackout = st.row = NULL;
	st.running = 0;
}

/* After the last swap: the printer ends its line, the console draws its
 * last frame, the screen is checked once more, and the report. */
static void
finish(void *arg)
{
	(void)arg;
	if (!st.running)
		return;
	if (st.printing || st.pos != st.len) {
		if (shell_hub->timer_after(shell_self, ST_SETTLE_NS, finish,
		    NULL) >= 0)
			return;
	}
	if (!st.error[0])
		check_screen();
	say("swaptest: %u swaps between %s and %s, %u lines printed",
	    st.done, st.from, st.to, (unsigned)st.seq);
	report_blackouts();
	say("read back %u times: %u lines missing, %u damaged, %llu characters "
	    "lost", st.checks, st.lost_lines, st.damaged,
	    (unsigned long long)st.lost_chars);
	if (st.error[0])
		fail("swaptest: %s", st.error);
	release_all();
	session_release();
}

/* --- swaptest: the command -------------------------------------------- */

/* The module that provides `display` best, other than `not`. */
static int
other_provider(const char *not, char *out, size_t cap)
{
	struct pb_mod_info mi;
	int32_t best = 0;
	int found = 0;

	for (unsigned i = 0; shell_hub->mod_info(i, &mi) == PB_OK; i++) {
		const struct pb_modinfo *d = mi.desc;
		int provides = 0;

		for (unsigned k = 0; k < d->nprovides; k++)
			provides |= strcmp(d->provides[k].iface,
			    DISPLAY_IFACE) == 0;
		if (!provides || strcmp(mi.name, not) == 0 ||
		    strcmp(mi.state, "refused") == 0 ||
		    (found && d->rank <= best))
			continue;
		rt_strlcpy(out, mi.name, cap);
		best = d->rank;
		found = 1;
	}
	return found;
}

/* The console drawn on a display: a module that requires `display` and
 * publishes a `console`. */
static struct pb_conn *
console_on_display(void)
{
	struct pb_mod_info mi;
	struct pb_res_info ri;

	for (unsigned i = 0; shell_hub->mod_info(i, &mi) == PB_OK; i++) {
		const struct pb_modinfo *d = mi.desc;
		int needs = 0;

		for (unsigned k = 0; k < d->nrequires; k++)
			needs |= strcmp(d->requires[k].iface, DISPLAY_IFACE) == 0;
		if (!needs || strcmp(mi.state, "running") != 0)
			continue;
		for (unsigned k = 0; shell_hub->res_info(mi.name, k, &ri) ==
		    PB_OK; k++)
			if (strcmp(ri.iface, CONSOLE_IFACE) == 0)
				return shell_hub->connect(shell_self,
				    CONSOLE_IFACE, 1, 0, ri.name);
	}
	return NULL;
}

static int
start_fail(const char *fmt, const char *a)
{
	release_all();
	return fail(fmt, a);
}

int
cmd_swaptest(int argc, char **argv)
{
	struct pb_res_info ri;
	const char *end;
	uint64_t n;

	n = rt_strtou(argv[1], &end, 10);
	if (end == argv[1] || *end || n < 1 || n > ST_MAX_SWAPS)
		return fail("swaptest: N must be 1 to %u", ST_MAX_SWAPS);
	if (st.running)
		return fail("swaptest: one is running");
	memset(&st, 0, sizeof(st));
	st.running = 1;
	if (!(st.disp = display_open(argv[0], &ri))) {
		st.running = 0;
		return PB_ENOENT;
	}
	rt_strlcpy(st.from, ri.owner, sizeof(st.from));
	if (argc == 3)
		rt_strlcpy(st.to, argv[2], sizeof(st.to));
	else if (!other_provider(st.from, st.to, sizeof(st.to)))
		return start_fail("swaptest: no other display module than %s",
		    st.from);
	if (strcmp(st.to, st.from) == 0)
		return start_fail("swaptest: %s is the display already",
		    st.to);
	if (!(st.con = console_on_display()))
		return start_fail("swaptest: no console draws on %s", ri.name);
	st.blackout = shell_hub->alloc(shell_self, (size_t)n * 4);
	st.row = shell_hub->alloc(shell_self, ST_ROW_MAX * 4);
	if (!st.blackout || !st.row)
		return start_fail("swaptest: %s", "out of memory");
	st.want = (unsigned)n;
	st.run = 1 + run_counter++ % 15;
	st.rnd = 0x5eed + st.run;
	st.printing = 1;
	say("swaptest: %u swaps of the display, %s <-> %s, on %s, while "
	    "printing", st.want, st.from, st.to, st.con->res);
	if (shell_hub->queue_work(shell_self, print_step, NULL) != PB_OK ||
	    shell_hub->queue_work(shell_self, swap_step, NULL) != PB_OK)
		return start_fail("swaptest: %s", "cannot queue work");
	session_hold();
	return PB_OK;
}
