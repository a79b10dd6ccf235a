/*
 * cmd_firmware.c - reboot, poweroff and date, through the firmware's
 * runtime services (`firmware-rt`, which outlives ExitBootServices).
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
reset(const char *cmd, int kind, const char *doing)
{
	if (!rt)
		return fail("%s: no firmware-rt", cmd);
	say("%s", doing);
	PB_CALL(rt, firmware_ops, reset, kind);
	/* Only reached when the firmware did not do it. */
	return fail("%s: the firmware's reset returned", cmd);
}

int
cmd_reboot(int argc, char **argv)
{
	(void)argc;
	return reset(argv[0], FIRMWARE_RESET_COLD, "rebooting");
}

int
cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	return reset(argv[0], FIRMWARE_RESET_SHUTDOWN, "powering off");
}

/* " UTC+hh:mm", or nothing when the firmware keeps local time. */
static void
zone_text(const struct firmware_time *t, char *buf, size_t cap)
{
	int z = t->tz_minutes;

	buf[0] = '\0';
	if (z == 2047 || z < -1440 || z > 1440)
		return;
	rt_snprintf(buf, cap, " UTC%c%02d:%02d", z < 0 ? '-' : '+',
	    (z < 0 ? -z : z) / 60, (z < 0 ? -z : z) % 60);
}

int
cmd_date(int argc, char **argv)
{
	struct firmware_time t;
	char zone[16];
	int r;

	(void)argc;
	if (!rt)
		return fail("%s: no firmware-rt", argv[0]);
	memset(&t, 0, sizeof(t));
	if ((r = PB_CALL(rt, firmware_ops, get_time, &t)) != PB_OK)
		return fail("%s: the firmware's clock failed (%d)", argv[0], r);
	zone_text(&t, zone, sizeof(zone));
	say("%04u-%02u-%02u %02u:%02u:%02u%s", t.year, t.month, t.day,
	    t.hour, t.minute, t.second, zone);
	return PB_OK;
}
