/*
 * session.c - the interactive session: the prompt, the line being edited,
 * and running complete lines.
 *
 * Everything typed is echoed to every console, so whichever screen a
 * person looks at shows the same line.  A console that connects later
 * gets a prompt of its own with the line typed so far.
 */
#include "shell.h"
#include "lineedit.h"

static struct lineedit le;
static struct le_echo echo;	/* static: one key at a time, and small stacks */
static int prompted;		/* the first prompt was shown */
static int busy;		/* a command line is running */
static int held;		/* a command goes on after it returned */
static uint64_t timed_since;	/* `time`: when the command began; 0: none */

/* A prompt at the start of a line, and the line typed so far. */
static void
prompt(void)
{
	if (!out_at_col0())
		out_str("\r\n");
	out_str(SHELL_PROMPT);
	le_redraw(&le, &echo);
	out_write(echo.buf, echo.len);
	prompted = 1;
}

static int
run_line(const char *line)
{
	char buf[LE_LINE_MAX];
	int r;

	if (rt_strlcpy(buf, line, sizeof(buf)) >= sizeof(buf))
		return fail("line too long (at most %u characters)",
		    LE_LINE_MAX - 1);
	busy = 1;
	r = commands_run(buf);
	busy = held;
	return r;
}

/*
 * A command whose work goes on in work items after it returns (swaptest)
 * holds the session: no prompt and no new line until it lets go, keys
 * typed meanwhile belonging to it as they do to any running command.
 */
void
session_hold(void)
{
	held = 1;
}

/* `time COMMAND`: the command's time is said when it is over, after a
 * held command's last output too. */
void
session_time_begin(void)
{
	timed_since = shell_hub->now_ns();
}

static void
time_report(void)
{
	uint64_t ns;

	if (!timed_since)
		return;
	ns = shell_hub->now_ns() - timed_since;
	timed_since = 0;
	say("time: %llu.%03llu ms", (unsigned long long)(ns / 1000000),
	    (unsigned long long)(ns / 1000 % 1000));
}

void
session_release(void)
{
	if (!held)
		return;
	time_report();
	held = busy = 0;
	if (prompted)
		prompt();
}

/* The first prompt, once the boot is over (see poll.c). */
void
session_begin(void)
{
	if (prompted)
		return;
	if (!out_at_col0())
		out_str("\r\n");
	say("Patchbay shell %s: type help for the commands",
	    pb_modinfo.version);
	prompt();
	/* The boot chart's last milestone (cmd_chart.c). */
	shell_hub->control(shell_self, "mark prompt", NULL, NULL);
}

/* Has the first prompt been given (the boot is done)? */
int
session_begun(void)
{
	return prompted;
}

/* Stopped: a new start begins with a new first prompt. */
void
session_end(void)
{
	prompted = busy = held = 0;
}

/* One key pressed; returns 1 when it completed a line that ran. */
int
session_key(const struct key_event *ev)
{
	int st;

	if (busy)	/* keys read by a command belong to it */
		return 0;
	logview_show();	/* what was logged before the key comes first */
	st = le_key(&le, ev->code, ev->mods, &echo);
	out_write(echo.buf, echo.len);
	if (st == LE_EDITING)
		return 0;
	out_str("\n");
	if (st == LE_ENTER)
		run_line(le.entered);
	if (!held)
		prompt();
	return st == LE_ENTER;
}

/* os.run(): a line from another module, as if typed.  Whatever was being
 * typed stays, and is shown again under a fresh prompt afterwards. */
int
session_run(const char *line)
{
	int r;

	if (busy)
		return PB_EBUSY;
	if (prompted)
		out_str("\r\n");
	r = run_line(line);
	if (!held)
		time_report();
	if (prompted && !held)
		prompt();
	return r;
}

/* Is the prompt on the consoles, with the line being typed after it? */
int
session_at_prompt(void)
{
	return prompted && !busy;
}

/* The prompt and the line typed so far, cursor where it was, on console
 * c (after the log's lines took the place where they were). */
void
session_redraw_to(struct pb_conn *c)
{
	static struct le_echo line;

	out_write_to(c, SHELL_PROMPT, sizeof(SHELL_PROMPT) - 1);
	le_redraw(&le, &line);
	out_write_to(c, line.buf, line.len);
}

void
session_console_added(struct pb_conn *c)
{
	/* Before the first prompt, or during a command, the next prompt
	 * goes to every console anyway. */
	if (!prompted || busy)
		return;
	out_write_to(c, "\r\n", 2);
	session_redraw_to(c);
}
