/*
 * logview.c - the hub's log on the consoles.  The shell is the log's
 * reader (abi/log.h): the hub tells it of new lines with a work item
 * instead of writing them itself, so a log line never lands inside the
 * line being typed.
 *
 * Which console gets a line:
 *   - a console on a screen (`kind=screen` in its properties: fbcon) gets
 *     the errors, and every line with boot.cfg's `log=screen`;
 *   - any other (serial, the firmware console, a test console) gets
 *     every line: the serial port is where a developer reads the log;
 *   - a boot.cfg exec= command's output goes to every console.
 * Where it goes in the output:
 *   - at the prompt: the prompt and what was typed are erased (CR, then
 *     EL, "erase to the end of the line"), the lines written, and the
 *     prompt and the typed line drawn again with the cursor where it was
 *     (readline's rl_clear_visible_line and rl_forced_update_display);
 *     a key typed is echoed only after the lines logged before it;
 *   - while a command runs: whenever the shell is about to write at the
 *     start of a line (out_write), the lines waiting go first, so a
 *     command's output and the log lines it caused keep their order;
 *   - in the middle of a command's line: they wait for its end.
 * A console that wants every line and comes later (serial, connected
 * just after the takeover while fbcon took the firmware console's
 * place) first gets the lines that no such console has shown.
 */
#include "shell.h"

#define ERASE_LINE "\r\x1b[K"

static struct pb_conn *logc;	/* log:hub */
static struct pb_work arrived;	/* posted by the hub: lines wait */
static int reading;		/* we are the log's reader */
static int screen_all;		/* boot.cfg log=screen */
static int flushing;
static int started;		/* a line was taken: the numbers below hold */
static uint64_t taken_upto;	/* the seq after the last line taken */
static uint64_t all_upto;	/* lines before it reached an every-line
				 * console */

void
logview_event(int ev, struct pb_conn *c)
{
	if (ev == PB_EV_CONNECTED)
		logc = c;
	else if (ev == PB_EV_DISCONNECTED && c == logc)
		logc = NULL, reading = 0;
}

/* A line of the ring, for `log` and log.txt; PB_ENOENT without one. */
int
log_read(uint64_t seq, struct log_line *out)
{
	return logc ? PB_CALL(logc, log_ops, read, seq, out) : PB_ENOENT;
}

/*
 * Every line the hub keeps, oldest first, as consoles show it (with its
 * newline), to fn: the boot's first lines, then, where `seq` jumps, a
 * line saying how many were dropped, then the newest (abi/log.h).  For
 * `log` and log.txt; returns the lines given to fn.
 */
unsigned
log_each(void (*fn)(void *arg, const char *s, size_t len), void *arg)
{
	char text[LOG_FORMAT_MAX];
	struct log_line l;
	unsigned n = 0;

	for (uint64_t s = 0; log_read(s, &l) == PB_OK; s = l.seq + 1, n++) {
		if (l.seq != s) {
			fn(arg, text, (size_t)rt_snprintf(text, sizeof(text),
			    "--- %llu lines dropped: the log keeps the boot's "
			    "first %u and the newest %u ---\n",
			    (unsigned long long)(l.seq - s), LOG_PIN,
			    LOG_RING));
			n++;
		}
		fn(arg, text, log_format(&l, text, sizeof(text)));
	}
	return n;
}

static int
wants_all(unsigned i)
{
	return console_at(i) && (screen_all || !console_is_screen(i));
}

/* Quiet lines go nowhere; the hub wrote a SHOWN one on the firmware
 * console itself (the boot's firmware phase). */
static int
wants(unsigned i, const struct log_line *l)
{
	return console_at(i) && !(l->flags & (LOG_F_QUIET | LOG_F_SHOWN)) &&
	    (l->kind == LOG_OUTPUT || log_is_error(l) || wants_all(i));
}

/* Line l to the consoles that want it; at the prompt, a console's line
 * is erased before the first (erased[i] notes it). */
static void
show(const struct log_line *l, int at_prompt, uint8_t *erased)
{
	char text[LOG_FORMAT_MAX];
	size_t n = log_format(l, text, sizeof(text));

	for (unsigned i = 0; i < CONSOLE_SLOTS; i++) {
		if (!wants(i, l))
			continue;
		if (at_prompt && !erased[i]) {
			out_write_to(console_at(i), ERASE_LINE,
			    sizeof(ERASE_LINE) - 1);
			erased[i] = 1;
		}
		out_write_to(console_at(i), text, n);
	}
	/* Seen by an every-line console (quiet or not), in order. */
	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		if (wants_all(i) && all_upto == l->seq)
			all_upto = l->seq + 1;
}

/* Take what waits and show it, when the output is at a line's start or
 * at the prompt; otherwise it waits for the next line's start. */
static void
flush(int at_prompt)
{
	uint8_t erased[CONSOLE_SLOTS] = { 0 };
	struct log_line l;

	if (!reading || flushing || (!at_prompt && !out_at_col0()))
		return;
	flushing = 1;
	while (logc && PB_CALL(logc, log_ops, take, &l) == PB_OK) {
		if (!started || all_upto == taken_upto)
			all_upto = l.seq;	/* nothing was missed */
		started = 1;
		taken_upto = l.seq + 1;
		show(&l, at_prompt, erased);
		if (l.kind == LOG_FAULT)
			logfile_fault();	/* log.txt, once it is over */
	}
	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		if (erased[i] && console_at(i))
			session_redraw_to(console_at(i));
	flushing = 0;
}

/* out_write at the start of a line: nothing of the prompt is shown. */
void
logview_flush(void)
{
	flush(0);
}

/* Wherever the output is: at the prompt, the lines go above it. */
void
logview_show(void)
{
	flush(session_at_prompt() && !out_at_col0());
}

static void
lines_arrived(void *arg)
{
	(void)arg;
	logview_show();
}

/* A console that wants every line came (or became one): the lines no
 * such console has shown, first. */
void
logview_console_added(unsigned slot)
{
	char text[LOG_FORMAT_MAX];
	struct log_line l;

	if (!reading || !started || !wants_all(slot))
		return;
	for (uint64_t s = all_upto; s < taken_upto && log_read(s, &l) ==
	    PB_OK && l.seq < taken_upto; s = l.seq + 1)
		if (wants(slot, &l))
			out_write_to(console_at(slot), text,
			    log_format(&l, text, sizeof(text)));
	all_upto = taken_upto;
}

/* At start: become the reader, unless another module is. */
void
logview_start(void)
{
	char v[16];
	int r;

	screen_all = pb_setting(shell_hub, "log", v, sizeof(v)) &&
	    strcmp(v, "screen") == 0;
	started = 0;
	if (!logc)
		return;
	shell_hub->work_init(shell_self, &arrived, lines_arrived, NULL);
	if ((r = PB_CALL(logc, log_ops, watch, &arrived)) != PB_OK)
		pb_logf(shell_hub, shell_self, PB_LOG_WARN, "the log has "
		    "another reader (%d): the shell does not show it", r);
	reading = r == PB_OK;
}

/* Stopped: the hub shows the log again, from what we did not take. */
void
logview_stop(void)
{
	if (logc && reading)
		PB_CALL(logc, log_ops, watch, NULL);
	reading = 0;
	logc = NULL;
}
