/*
 * cmd_log.c - `log`: the hub's log as it is kept, read through `log:hub`
 * (abi/log.h), quiet lines included: the boot's first lines, a line
 * saying how many were dropped if any were, and the newest; `log save`:
 * the same written to /esp/patchbay/log.txt (logfile.c).
 */
#include "files.h"

static void
saved(void *arg, int err, unsigned lines)
{
	(void)arg;
	if (err != PB_OK)
		fail("log save: /%s/patchbay/log.txt: %s", MOUNT_BOOT,
		    fs_strerror(err));
	else
		say("log: %u lines written to /%s/patchbay/log.txt", lines,
		    MOUNT_BOOT);
	session_release();
}

static int
save(void)
{
	int r = logfile_save(saved, NULL);

	if (r == PB_ENOENT)
		return fail("log save: no /%s volume", MOUNT_BOOT);
	if (r != PB_OK)
		return fail("log save: %s", fs_strerror(r));
	session_hold();
	return PB_OK;
}

static void
say_line(void *arg, const char *s, size_t len)
{
	(void)arg;
	say("%.*s", (int)len - 1, s);	/* say adds the newline */
}

int
cmd_log(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "save") == 0)
		return save();
	if (argc == 2)
		return fail("%s: usage: log [save]", argv[0]);
	if (!log_each(say_line, NULL))
		return fail("%s: no log", argv[0]);
	return PB_OK;
}
