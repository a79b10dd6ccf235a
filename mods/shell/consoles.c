/*
 * consoles.c - every console the shell writes to.
 *
 * Output goes to all of them alike.  Only the hub's connections are kept,
 * never a provider's ops: the hub rebinds a connection when its console is
 * swapped, and PB_CALL reads the new provider on the next write.  Each
 * console's kind (a screen, `kind=screen` in its properties, or not) is
 * read again when it connects or is rebound: the hub's log goes to them
 * differently (logview.c).
 */
#include "shell.h"

static struct {
	struct pb_conn *c;
	int kind;		/* CON_UNKNOWN, CON_SCREEN, CON_OTHER */
} cons[CONSOLE_SLOTS];
static int col0 = 1;	/* the last byte ended a line (the hub's did) */

enum { CON_UNKNOWN, CON_SCREEN, CON_OTHER };

static int
add(struct pb_conn *c)
{
	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		if (!cons[i].c || cons[i].c == c) {
			cons[i].c = c;
			cons[i].kind = CON_UNKNOWN;
			return (int)i;
		}
	/* Events arrive before start, when logging is not possible yet. */
	if (shell_hub)
		pb_logf(shell_hub, shell_self, PB_LOG_WARN,
		    "more than %u consoles: %s gets no output", CONSOLE_SLOTS,
		    c->res);
	return -1;
}

static int
slot_of(const struct pb_conn *c)
{
	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		if (cons[i].c == c)
			return (int)i;
	return -1;
}

void
consoles_event(int ev, struct pb_conn *c)
{
	int i;

	if (ev == PB_EV_CONNECTED) {
		if ((i = add(c)) >= 0)
			logview_console_added((unsigned)i);
		session_console_added(c);
	} else if (ev == PB_EV_DISCONNECTED) {
		if ((i = slot_of(c)) >= 0)
			cons[i].c = NULL;
	} else if (ev == PB_EV_REBOUND && (i = slot_of(c)) >= 0) {
		/* Same connection, another provider, maybe another kind: the
		 * firmware console becomes fbcon at the takeover. */
		int was = console_is_screen((unsigned)i);

		cons[i].kind = CON_UNKNOWN;
		if (was && !console_is_screen((unsigned)i))
			logview_console_added((unsigned)i);
	}
	shell_props_changed();
}

/* Console slot i's connection (0 <= i < CONSOLE_SLOTS), or NULL. */
struct pb_conn *
console_at(unsigned i)
{
	return i < CONSOLE_SLOTS ? cons[i].c : NULL;
}

/* Is console slot i on a screen?  Asked of the hub's inventory once the
 * shell has started (events come before). */
int
console_is_screen(unsigned i)
{
	char props[256], kind[16];

	if (!cons[i].c)
		return 0;
	if (cons[i].kind == CON_UNKNOWN && shell_hub) {
		res_props(cons[i].c->res, props, sizeof(props));
		cons[i].kind = rt_prop_get(props, "kind", kind, sizeof(kind)) &&
		    strcmp(kind, "screen") == 0 ? CON_SCREEN : CON_OTHER;
	}
	return cons[i].kind == CON_SCREEN;
}

void
consoles_forget(void)
{
	memset(cons, 0, sizeof(cons));
	col0 = 1;
}

unsigned
consoles_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		n += cons[i].c != NULL;
	return n;
}

void
out_write_to(struct pb_conn *c, const char *s, size_t len)
{
	if (c && len)
		PB_CALL(c, console_ops, write, s, len);
}

void
out_write(const char *s, size_t len)
{
	if (!len)
		return;
	/* At the start of a line: the log's waiting lines go first. */
	if (col0)
		logview_flush();
	for (unsigned i = 0; i < CONSOLE_SLOTS; i++)
		out_write_to(cons[i].c, s, len);
	col0 = s[len - 1] == '\n' || s[len - 1] == '\r';
}

void
out_str(const char *s)
{
	out_write(s, strlen(s));
}

int
out_at_col0(void)
{
	return col0;
}

static void
vsay(const char *prefix, const char *fmt, va_list ap)
{
	char line[256];
	size_t n = strlen(prefix);

	memcpy(line, prefix, n + 1);
	rt_vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	n = strlen(line);
	line[n++] = '\n';
	out_write(line, n);
}

/* One line of output; the newline is added. */
void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

/* The one line a failing command prints; returns the error to return. */
int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("error: ", fmt, ap);
	va_end(ap);
	return PB_EINVAL;
}
