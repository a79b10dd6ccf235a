/*
 * consoles.c - every console the shell writes to.
 *
 * Output goes to all of them alike.  Only the hub's connections are kept,
 * never a provider's ops: the hub rebinds a connection when its console is
 * swapped, and PB_CALL reads the new provider on the next write.  Each
 * console's kind (a screen, `kind=screen` in its properties, or not) is
 * read again when it connects or is rebound: the hub's log goes to them
 * differently (logview.c).
 *
 * A write its provider could not take because the provider faulted in it
 * (PB_EFAULT) or is being restarted (PB_EBUSY: the hub holds the
 * connection) is kept, up to HELD_OUT bytes a console, and written first
 * when the hub rebinds the connection to the restarted provider
 * (PB_EV_REBOUND), or before the next write that the provider takes: a
 * serial restart loses no line.
 */
#include "shell.h"

static struct {
	struct pb_conn *c;
	int kind;		/* CON_UNKNOWN, CON_SCREEN, CON_OTHER */
} cons[CONSOLE_SLOTS];
static int col0 = 1;	/* the last byte ended a line (the hub's did) */

#define HELD_OUT 1024
static struct held_out {
	char buf[HELD_OUT];
	size_t len;
	size_t lost;	/* bytes beyond buf: said when it is written */
} kept[CONSOLE_SLOTS];

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

static int held_write(unsigned i);

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
		if ((i = slot_of(c)) >= 0) {
			cons[i].c = NULL;
			kept[i].len = kept[i].lost = 0;
		}
	} else if (ev == PB_EV_REBOUND && (i = slot_of(c)) >= 0) {
		/* Same connection, another provider, maybe another kind: the
		 * firmware console becomes fbcon at the takeover. */
		int was = console_is_screen((unsigned)i);

		cons[i].kind = CON_UNKNOWN;
		held_write((unsigned)i);
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
	memset(kept, 0, sizeof(kept));
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

/* Keep what slot i's provider could not take now. */
static void
held_keep(unsigned i, const char *s, size_t len)
{
	struct held_out *h = &kept[i];
	size_t n = len < HELD_OUT - h->len ? len : HELD_OUT - h->len;

	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->lost += len - n;
}

/* Write what slot i kept, if its provider takes it now; 1 when nothing
 * is kept any more. */
static int
held_write(unsigned i)
{
	struct held_out *h = &kept[i];
	char note[64];
	int r;

	if (!h->len || !cons[i].c)
		return 1;
	r = PB_CALL(cons[i].c, console_ops, write, h->buf, h->len);
	if (r == PB_EFAULT || r == PB_EBUSY)
		return 0;
	if (h->lost) {
		rt_snprintf(note, sizeof(note), "\r\n(%u bytes of output lost "
		    "while this console restarted)\r\n", (unsigned)h->lost);
		PB_CALL(cons[i].c, console_ops, write, note, strlen(note));
	}
	h->len = h->lost = 0;
	return 1;
}

void
out_write_to(struct pb_conn *c, const char *s, size_t len)
{
	int i = slot_of(c), r;

	if (!c || !len)
		return;
	if (i >= 0 && !held_write((unsigned)i)) {
		held_keep((unsigned)i, s, len);	/* after what waits */
		return;
	}
	r = PB_CALL(c, console_ops, write, s, len);
	if (i >= 0 && (r == PB_EFAULT || r == PB_EBUSY))
		held_keep((unsigned)i, s, len);
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
