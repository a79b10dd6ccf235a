/*
 * logfile.c - the hub's log written to /esp/patchbay/log.txt, so a PC
 * without a serial port can be debugged from the stick on another
 * machine: on `log save`, before poweroff and reboot (cmd_firmware.c),
 * and a moment after a module faults (logview.c sees the line), so the
 * recovery's lines are in it too.
 *
 * The file is the log as `log` prints it (log_each): the boot's first
 * lines, which the hub keeps for good, a line saying how many were
 * dropped if any were, and the newest lines.  It is written by a request
 * chain of its own (open, write, sync, close) rather than a file job, so
 * that a save after a fault runs while the user types.  One save at a
 * time: one asked for meanwhile follows it.
 */
#include "files.h"

#define LOGFILE_PATH "patchbay/log.txt"		/* on the boot volume */
#define LOGFILE_FAULT_NS (500ull * 1000 * 1000)

static struct {
	struct fs_req req;
	struct mount *m;
	struct pb_conn *conn;	/* the volume's when the save began */
	char *buf;
	size_t len;
	unsigned lines;
	uint32_t handle;
	int busy;
	int err;		/* the first error */
	logfile_fn then;	/* told when it is over */
	void *arg;
	int again;		/* another save was asked for */
	logfile_fn again_then;
	void *again_arg;
	int timer;		/* the save after a fault, 0: none */
} lf;

static void step_done(void *arg);

/* Measures the log (lf.buf NULL), or copies it into lf.buf up to the
 * first line that does not fit (lines logged between the two passes). */
static void
add_line(void *arg, const char *s, size_t len)
{
	size_t *cap = arg;

	if (!lf.buf) {
		lf.len += len;
	} else if (lf.len + len <= *cap) {
		memcpy(lf.buf + lf.len, s, len);
		lf.len += len;
		lf.lines++;
	} else {
		*cap = 0;	/* the lines after it would leave a hole */
	}
}

/* The log as `log` prints it, into lf.buf: as long as it is, with room
 * for some lines more. */
static int
fill(void)
{
	size_t cap;

	lf.buf = NULL;
	lf.len = lf.lines = 0;
	log_each(add_line, NULL);
	cap = lf.len + 8 * LOG_FORMAT_MAX;
	if (!(lf.buf = shell_hub->alloc(shell_self, cap)))
		return PB_ENOMEM;
	lf.len = 0;
	log_each(add_line, &cap);
	return PB_OK;
}

static void
submit(int op)
{
	int r = PB_ECANCELED;

	lf.req.size = sizeof(lf.req);
	lf.req.op = (uint16_t)op;
	lf.req.status = PB_OK;
	lf.req.result = 0;
	if (lf.m->conn == lf.conn)	/* the volume is still there */
		r = PB_CALL(lf.conn, fs_ops, submit, &lf.req);
	if (r != PB_OK) {
		lf.req.status = r;
		shell_hub->work_post(shell_self, &lf.req.done);
	}
}

static int start(logfile_fn then, void *arg);

static void
finish(void)
{
	logfile_fn then = lf.then;
	void *arg = lf.arg;
	int err = lf.err;
	unsigned lines = lf.lines;

	shell_hub->free(shell_self, lf.buf);
	lf.buf = NULL;
	lf.busy = 0;
	if (err != PB_OK)
		pb_logf(shell_hub, shell_self, PB_LOG_WARN, "/%s/%s not "
		    "written: %s", MOUNT_BOOT, LOGFILE_PATH, fs_strerror(err));
	else if (!then)		/* nobody waits to say so: the log does */
		pb_logf(shell_hub, shell_self, PB_LOG_INFO, "/%s/%s: %u lines "
		    "written", MOUNT_BOOT, LOGFILE_PATH, lines);
	if (lf.again) {
		lf.again = 0;
		if (start(lf.again_then, lf.again_arg) != PB_OK &&
		    lf.again_then)
			lf.again_then(lf.again_arg, PB_ENOENT, 0);
	}
	if (then)
		then(arg, err, lines);
}

/* One request came back: the next, or the end (a failed step still
 * closes what it opened). */
static void
step_done(void *arg)
{
	int op = lf.req.op;

	(void)arg;
	if (lf.req.status != PB_OK && lf.err == PB_OK)
		lf.err = lf.req.status;
	else if (op == FS_WRITE && lf.req.result != lf.len && !lf.err)
		lf.err = PB_ENOSPC;
	if (op == FS_OPEN && lf.req.status == PB_OK) {
		lf.handle = lf.req.handle;
		lf.req.path = NULL;
		lf.req.offset = 0;
		lf.req.buf = lf.buf;
		lf.req.len = lf.len;
		submit(FS_WRITE);
	} else if (op == FS_WRITE) {
		submit(FS_SYNC);
	} else if (op == FS_SYNC) {
		submit(FS_CLOSE);
	} else {
		finish();
	}
}

static int
start(logfile_fn then, void *arg)
{
	int r;

	if (!(lf.m = mount_find(MOUNT_BOOT)) || !lf.m->conn)
		return PB_ENOENT;
	if ((r = fill()) != PB_OK)
		return r;
	lf.conn = lf.m->conn;
	lf.busy = 1;
	lf.err = PB_OK;
	lf.then = then;
	lf.arg = arg;
	memset(&lf.req, 0, sizeof(lf.req));
	shell_hub->work_init(shell_self, &lf.req.done, step_done, NULL);
	lf.req.path = LOGFILE_PATH;
	lf.req.flags = FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC;
	submit(FS_OPEN);
	return PB_OK;
}

/*
 * Write the file; then(arg, err, lines) when it is written or failed.
 * PB_ENOENT: no boot volume (nothing happens).  A save under way: this
 * one follows it.
 */
int
logfile_save(logfile_fn then, void *arg)
{
	if (!lf.busy)
		return start(then, arg);
	if (lf.again && lf.again_then)	/* one waits already: it is told */
		lf.again_then(lf.again_arg, PB_EBUSY, 0);
	lf.again = 1;
	lf.again_then = then;
	lf.again_arg = arg;
	return PB_OK;
}

static void
after_fault(void *arg)
{
	(void)arg;
	lf.timer = 0;
	logfile_save(NULL, NULL);
}

/* A module faulted: save once its recovery has been logged too. */
void
logfile_fault(void)
{
	int id;

	if (lf.timer)
		return;
	id = shell_hub->timer_after(shell_self, LOGFILE_FAULT_NS, after_fault,
	    NULL);
	lf.timer = id > 0 ? id : 0;
}

/* The shell stops: the hub takes its timers and memory back. */
void
logfile_forget(void)
{
	memset(&lf, 0, sizeof(lf));
}
