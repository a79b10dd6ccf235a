/*
 * consoles.c - every console the shell writes to.
 *
 * Output goes to all of them alike.  Only the hub's connections are kept,
 * never a provider's ops: the hub rebinds a connection when its console is
 * swapped, and PB_CALL reads the new provider on the next write.
 */
#include "shell.h"

#define MAX_CONSOLES 8

static struct pb_conn *cons[MAX_CONSOLES];
static int col0;	/* the last byte ended a line; unknown at first */

static void
add(struct pb_conn *c)
{
	for (unsigned i = 0; i < MAX_CONSOLES; i++)
		if (!cons[i] || cons[i] == c) {
			cons[i] = c;
			return;
		}
	/* Events arrive before start, when logging is not possible yet. */
	if (shell_hub)
		pb_logf(shell_hub, shell_self, PB_LOG_WARN,
		    "more than %u consoles: %s gets no output", MAX_CONSOLES,
		    c->res);
}

static void
drop(struct pb_conn *c)
{
	for (unsigned i = 0; i < MAX_CONSOLES; i++)
		if (cons[i] == c)
			cons[i] = NULL;
}

void
consoles_event(int ev, struct pb_conn *c)
{
	if (ev == PB_EV_CONNECTED) {
		add(c);
		session_console_added(c);
	} else if (ev == PB_EV_DISCONNECTED) {
		drop(c);
	}
	/* PB_EV_REBOUND: same connection, another provider; nothing to do. */
	shell_props_changed();
}

void
consoles_forget(void)
{
	memset(cons, 0, sizeof(cons));
}

unsigned
consoles_count(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONSOLES; i++)
		n += cons[i] != NULL;
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
	for (unsigned i = 0; i < MAX_CONSOLES; i++)
		out_write_to(cons[i], s, len);
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
