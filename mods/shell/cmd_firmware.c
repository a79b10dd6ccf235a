/*
 * cmd_firmware.c - reboot and poweroff through the firmware's runtime
 * services (`firmware-rt`, which outlives ExitBootServices), and its
 * clock for `date` (cmd_time.c) when there is no `rtc` provider.
 * The requirement is optional: a machine without them still has a shell,
 * and these commands say why they cannot work.
 */
#include "shell.h"
#include "../../abi/firmware.h"

static struct pb_conn *rt;

void
firmware_event(int ev, struct pb_conn *c)
{
	if (ev == PB_EV_CONNECTED)
		rt = c;
	else if (ev == PB_EV_DISCONNECTED && rt == c)
		rt = NULL;
}

void
firmware_forget(void)
{
	rt = NULL;
}

static int
reset_now(const char *cmd, int kind, const char *doing)
{
	if (!rt)
		return fail("%s: no firmware-rt", cmd);
	say("%s", doing);
	PB_CALL(rt, firmware_ops, reset, kind);
	/* Only reached when the firmware did not do it. */
	return fail("%s: the firmware's reset returned", cmd);
}

/* The reset waiting for the volumes' sync. */
static struct {
	const char *cmd, *doing;
	int kind;
} pending;

static void
reset_synced(void *arg)
{
	(void)arg;
	reset_now(pending.cmd, pending.kind, pending.doing);
}

/* What was written reaches the disks (sync_then), then the reset. */
static int
sync_and_reset(void)
{
	if (sync_then(pending.cmd, reset_synced, NULL) == PB_OK)
		return PB_OK;
	return reset_now(pending.cmd, pending.kind, pending.doing);
}

static void
log_saved(void *arg, int err, unsigned lines)
{
	(void)arg, (void)err, (void)lines;	/* a failure is in the log */
	if (sync_and_reset() != PB_OK)
		session_release();	/* the firmware did not reset */
}

/* The log goes to /esp/patchbay/log.txt first (logfile.c), whatever
 * came of that the volumes are written back, then the reset. */
static int
reset(const char *cmd, int kind, const char *doing)
{
	if (!rt)
		return fail("%s: no firmware-rt", cmd);
	pending.cmd = cmd;
	pending.kind = kind;
	pending.doing = doing;
	if (logfile_save(log_saved, NULL) == PB_OK) {
		session_hold();
		return PB_OK;
	}
	return sync_and_reset();
}

int
cmd_reboot(int argc, char **argv)
{
	(void)argc, (void)argv;
	return reset("reboot", FIRMWARE_RESET_COLD, "rebooting");
}

int
cmd_poweroff(int argc, char **argv)
{
	(void)argc, (void)argv;
	return reset("poweroff", FIRMWARE_RESET_SHUTDOWN, "powering off");
}

/* The firmware's clock: PB_ENOENT without firmware-rt. */
int
firmware_time(struct firmware_time *t)
{
	if (!rt)
		return PB_ENOENT;
	memset(t, 0, sizeof(*t));
	return PB_CALL(rt, firmware_ops, get_time, t);
}
