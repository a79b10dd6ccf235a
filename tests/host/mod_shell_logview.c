/*
 * mod_shell_logview.c - the hub's log on the shell's consoles
 * (mods/shell/logview.c with consoles.c, session.c and lineedit.c as they
 * are): a fake `log:hub` and two fake consoles, a serial one and a screen
 * (kind=screen), and the exact bytes each gets:
 *   - at the prompt, the typed line is erased, the lines written and the
 *     prompt and line drawn again, cursor included;
 *   - during a command, lines go between its lines, in order;
 *   - a key comes after the lines logged before it;
 *   - the screen gets errors (and exec= output), everything with
 *     log=screen; quiet lines, and those the hub showed itself, go
 *     nowhere;
 *   - an every-line console that comes later gets what it missed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"
#include "fakehub.h"
#include "../../abi/rt/setting.c"
#include "../../abi/rt/logfmt.c"
#include "../../mods/shell/lineedit.c"
#include "../../mods/shell/consoles.c"
#include "../../mods/shell/session.c"
#include "../../mods/shell/logview.c"

const struct pb_hub *shell_hub;
struct pb_module *shell_self = SELF;
const struct pb_modinfo pb_modinfo = { .version = "1.0" };

/* ---- the rest of the shell, as far as these files reach ------------- */

static unsigned faults_seen;

void
shell_props_changed(void)
{
}

void
logfile_fault(void)
{
	faults_seen++;
}

void
res_props(const char *name, char *props, size_t cap)
{
	snprintf(props, cap, "%s", strcmp(name, "console:fb0") == 0 ?
	    "cols=80 rows=25 kind=screen" : "port=0x3f8");
}

/* ---- the fake log:hub ---------------------------------------------- */

#define LINES 64

static struct log_line ring[LINES];
static uint64_t head, taken;
static struct pb_work *reader;
static uint64_t gap_from, gap_to;	/* lines dropped: [gap_from, gap_to) */

/* As the hub's: a line gone reads as the oldest kept after it. */
static int
fake_log_read(void *ctx, uint64_t seq, struct log_line *out)
{
	if (seq >= gap_from && seq < gap_to)
		seq = gap_to;
	if (seq >= head)
		return PB_ENOENT;
	*out = ring[seq % LINES];
	return PB_OK;
}

static int
fake_log_watch(void *ctx, struct pb_work *w)
{
	reader = w;
	taken = head;
	return PB_OK;
}

static int
fake_log_take(void *ctx, struct log_line *out)
{
	if (!reader || taken >= head)
		return PB_ENOENT;
	*out = ring[taken++ % LINES];
	return PB_OK;
}

static const struct log_ops fake_log_ops = { .read = fake_log_read,
    .watch = fake_log_watch, .take = fake_log_take };
static struct pb_conn fake_logc = { .ops = &fake_log_ops, .res = "log:hub" };

/* The hub logs a line: in the ring, the reader told. */
static void
hub_logs(int kind, int flags, const char *text)
{
	struct log_line *l = &ring[head % LINES];

	*l = (struct log_line){ .seq = head++, .ns = 1000000000ull,
	    .kind = (uint8_t)kind, .flags = (uint8_t)flags };
	snprintf(l->text, sizeof(l->text), "%s", text);
	if (reader && !(flags & LOG_F_QUIET))
		fake_work_post(SELF, reader);
}

/* ---- two consoles: what each was sent ------------------------------ */

static char got[2][4096];
static int serial_answers;	/* kbdheal: the serial console's write
				 * answers this (its provider faulted) */

static int
con_write(void *ctx, const char *s, size_t len)
{
	char *to = got[(intptr_t)ctx];
	size_t n = strlen(to);

	if (!ctx && serial_answers)
		return serial_answers;

	if (n + len < sizeof(got[0])) {
		memcpy(to + n, s, len);
		to[n + len] = '\0';
	}
	return (int)len;
}

static const struct console_ops fake_con_ops = { .write = con_write };
static struct pb_conn serial = { .ops = &fake_con_ops, .ctx = (void *)0,
    .res = "console:com1" };
static struct pb_conn fb = { .ops = &fake_con_ops, .ctx = (void *)1,
    .res = "console:fb0" };
#define SERIAL got[0]
#define SCREEN got[1]

static void
clear_got(void)
{
	got[0][0] = got[1][0] = '\0';
}

/* ---- commands: what the tests' lines do ---------------------------- */

int
commands_run(char *line)
{
	if (strcmp(line, "interleave") == 0) {
		hub_logs(LOG_LOAD, 0, "one");
		say("out1");
		hub_logs(LOG_LOAD, 0, "two");
		say("out2");
	} else if (strcmp(line, "midline") == 0) {
		out_str("abc");
		hub_logs(LOG_LOAD, 0, "mid");
		out_str("def\n");
	}
	return PB_OK;
}

static struct pb_hub hub;

/* The hub's control commands the session sends (the boot chart's
 * `mark prompt`): taken, nothing to say. */
static int
fake_control(struct pb_module *self, const char *cmd, pb_line_fn out,
    void *arg)
{
	return PB_OK;
}

static void
key(uint32_t code)
{
	struct key_event ev = { .code = code, .pressed = 1 };

	session_key(&ev);
}

static void
type(const char *s)
{
	while (*s)
		key((unsigned char)*s++);
}

/* A shell at its first prompt with the consoles given connected. */
static void
setup(const char *cfg, int with_serial, int with_fb)
{
	fakehub_reset();
	fake_work_reset();
	hub = (struct pb_hub){ .size = sizeof(hub), .log = fake_log,
	    .now_ns = fake_now, .res_info = fake_res_info,
	    .work_init = fake_work_init, .work_post = fake_work_post,
	    .control = fake_control };
	fake_boot_cfg = cfg;
	shell_hub = &hub;
	session_end();
	consoles_forget();
	if (with_serial)
		consoles_event(PB_EV_CONNECTED, &serial);
	if (with_fb)
		consoles_event(PB_EV_CONNECTED, &fb);
	logview_event(PB_EV_CONNECTED, &fake_logc);
	logview_start();
	session_begin();
	clear_got();
}

static void
teardown(void)
{
	key(0x03);		/* Ctrl-C: no line left half typed */
	logview_stop();
	reader = NULL;
	fake_work_reset();
}

TEST(logview_line_above_the_typed_one)
{
	setup("", 1, 1);
	type("ec");
	hub_logs(LOG_LOAD, 0, "disk found");
	CHECK_STR(SERIAL, "ec");		/* nothing until the work runs */
	run_posted();
	CHECK_STR(SERIAL, "ec\r\x1b[K[    1.000000] disk found\n"
	    "patchbay> ec");
	CHECK_STR(SCREEN, "ec");		/* not an error: not here */
	/* The cursor inside the line comes back where it was. */
	key(KEY_LEFT);
	clear_got();
	hub_logs(LOG_ERROR, 0, "bad");
	run_posted();
	CHECK_STR(SERIAL, "\r\x1b[K[    1.000000] error: bad\npatchbay> ec"
	    "\x1b[D");
	CHECK_STR(SCREEN, SERIAL);
	teardown();
}

TEST(logview_lines_between_a_commands_lines)
{
	setup("", 1, 0);
	type("interleave\r");
	CHECK_STR(SERIAL, "interleave\n[    1.000000] one\nout1\n"
	    "[    1.000000] two\nout2\npatchbay> ");
	run_posted();		/* taken already: nothing again */
	CHECK(!strstr(SERIAL, "\x1b[K"));
	clear_got();
	/* Not inside a line of the command's: after it. */
	type("midline\r");
	CHECK_STR(SERIAL, "midline\nabcdef\n[    1.000000] mid\npatchbay> ");
	teardown();
}

TEST(logview_key_after_the_lines_before_it)
{
	setup("", 1, 0);
	hub_logs(LOG_INFO, 0, "pending");
	key('x');			/* before the work item ran */
	CHECK_STR(SERIAL, "\r\x1b[K[    1.000000] pending\npatchbay> x");
	run_posted();
	CHECK_STR(SERIAL, "\r\x1b[K[    1.000000] pending\npatchbay> x");
	teardown();
}

TEST(logview_what_the_screen_gets)
{
	setup("", 1, 1);
	hub_logs(LOG_INFO, 0, "info");
	hub_logs(LOG_FAULT, 0, "fault");
	hub_logs(LOG_MOD, LOG_F_QUIET, "quiet");
	hub_logs(LOG_OUTPUT, 0, "exec output");
	run_posted();
	CHECK_STR(SCREEN, "\r\x1b[K[    1.000000] error: fault\nexec output\n"
	    "patchbay> ");
	CHECK_STR(SERIAL, "\r\x1b[K[    1.000000] info\n[    1.000000] error: "
	    "fault\nexec output\npatchbay> ");
	CHECK_EQ_INT(faults_seen > 0, 1);	/* log.txt will be written */
	teardown();
	setup("log=screen", 1, 1);
	hub_logs(LOG_INFO, 0, "info");
	run_posted();
	CHECK_STR(SCREEN, "\r\x1b[K[    1.000000] info\npatchbay> ");
	teardown();
}

TEST(logview_late_console_gets_what_it_missed)
{
	setup("", 0, 1);
	hub_logs(LOG_INFO, 0, "A");
	hub_logs(LOG_ERROR, 0, "B");
	run_posted();
	CHECK_STR(SCREEN, "\r\x1b[K[    1.000000] error: B\npatchbay> ");
	/* Serial comes: A and B first, then its prompt. */
	consoles_event(PB_EV_CONNECTED, &serial);
	CHECK_STR(SERIAL, "[    1.000000] A\n[    1.000000] error: B\n"
	    "\r\npatchbay> ");
	hub_logs(LOG_INFO, 0, "C");
	run_posted();
	clear_got();
	/* Another one now: nothing was missed. */
	consoles_forget();
	consoles_event(PB_EV_CONNECTED, &serial);
	consoles_event(PB_EV_CONNECTED, &fb);
	CHECK_STR(SERIAL, "\r\npatchbay> ");
	teardown();
}

TEST(logview_skips_what_the_hub_showed_itself)
{
	setup("", 1, 0);
	hub_logs(LOG_BOOT, LOG_F_SHOWN, "on the firmware console");
	run_posted();
	CHECK_STR(SERIAL, "");
	/* Seen where it was shown: a console that comes is not given it. */
	consoles_forget();
	consoles_event(PB_EV_CONNECTED, &serial);
	CHECK_STR(SERIAL, "\r\npatchbay> ");
	teardown();
}

static char each_got[1024];

static void
collect(void *arg, const char *s, size_t len)
{
	size_t n = strlen(each_got);

	(*(unsigned *)arg)++;
	if (n + len < sizeof(each_got)) {
		memcpy(each_got + n, s, len);
		each_got[n + len] = '\0';
	}
}

/* `log` and log.txt: every line kept, and where the hub dropped some
 * between the boot's first and the newest, a line saying how many. */
TEST(logview_log_each_marks_the_lines_dropped)
{
	char line[16];
	unsigned calls = 0;

	setup("", 1, 0);
	head = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "line %d", i);
		hub_logs(LOG_INFO, i == 1 ? LOG_F_QUIET : 0, line);
	}
	gap_from = 3, gap_to = 7;
	each_got[0] = '\0';
	CHECK_EQ_INT(log_each(collect, &calls), 7);
	CHECK_EQ_INT(calls, 7);
	CHECK_STR(each_got, "[    1.000000] line 0\n[    1.000000] line 1\n"
	    "[    1.000000] line 2\n"
	    "--- 4 lines dropped: the log keeps the boot's first 256 and the "
	    "newest 256 ---\n"
	    "[    1.000000] line 7\n[    1.000000] line 8\n"
	    "[    1.000000] line 9\n");
	/* Nothing dropped: no such line. */
	gap_from = gap_to = 0;
	each_got[0] = '\0';
	CHECK_EQ_INT(log_each(collect, &calls), 10);
	CHECK(!strstr(each_got, "dropped"));
	teardown();
}

/* kbdheal: the serial console's driver faults in a write (PB_EFAULT) and
 * is held while the hub restarts it (PB_EBUSY): what the shell wrote
 * meanwhile reaches the line, in order, once the connection is rebound
 * (seed 2003 usb 27, usbonly 27: a serial entry fault lost the line
 * that said what was armed); the screen got it at once. */
TEST(logview_kbdheal_console_output_held_across_a_restart)
{
	setup("", 1, 1);
	serial_answers = PB_EFAULT;
	say("faultinject 27: serial entry regbit 0x25");
	serial_answers = PB_EBUSY;
	say("second");
	CHECK_STR(SERIAL, "");
	CHECK_STR(SCREEN, "faultinject 27: serial entry regbit 0x25\n"
	    "second\n");
	serial_answers = 0;
	consoles_event(PB_EV_REBOUND, &serial);
	CHECK_STR(SERIAL, "faultinject 27: serial entry regbit 0x25\n"
	    "second\n");
	say("third");		/* nothing twice */
	CHECK_STR(SERIAL, "faultinject 27: serial entry regbit 0x25\n"
	    "second\nthird\n");
	teardown();
}

/* Without a rebind, the next write the provider takes brings what was
 * kept first; beyond what is kept, one line says how much was lost. */
TEST(logview_kbdheal_console_output_kept_is_bounded)
{
	char line[200];

	setup("", 1, 0);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	serial_answers = PB_EFAULT;
	say("first");
	for (unsigned i = 0; i < 6; i++)
		say("%s", line);
	serial_answers = 0;
	say("last");
	CHECK(strncmp(SERIAL, "first\n", 6) == 0);
	CHECK_EQ_INT(strlen(SERIAL), 1024 + strlen("\r\n(182 bytes of output "
	    "lost while this console restarted)\r\n") + 5);
	CHECK_CONTAINS(SERIAL, "(182 bytes of output lost while this console "
	    "restarted)\r\nlast\n");
	teardown();
}
