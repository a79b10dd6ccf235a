/*
 * cmd_time.c - date and uptime.
 *
 * `date` asks the `rtc` provider (connected for the command, then let go)
 * and says where the time came from; without one it asks the firmware's
 * runtime clock, as before there was an rtc module.  `uptime` is the
 * hub's monotonic clock.
 */
#include "shell.h"
#include "../../abi/firmware.h"
#include "../../abi/rtc.h"

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

/* No rtc provider: the firmware's clock, its zone as it gives it. */
static int
date_from_firmware(const char *cmd)
{
	struct firmware_time t;
	char zone[16];
	int r;

	if ((r = firmware_time(&t)) == PB_ENOENT)
		return fail("%s: no rtc and no firmware-rt", cmd);
	if (r != PB_OK)
		return fail("%s: the firmware's clock failed (%d)", cmd, r);
	zone_text(&t, zone, sizeof(zone));
	say("%04u-%02u-%02u %02u:%02u:%02u%s (uefi)", t.year, t.month, t.day,
	    t.hour, t.minute, t.second, zone);
	return PB_OK;
}

int
cmd_date(int argc, char **argv)
{
	struct pb_conn *c;
	struct rtc_time t;
	const char *src;
	int r;

	(void)argc;
	c = shell_hub->connect(shell_self, RTC_IFACE, RTC_MAJOR, RTC_MINOR,
	    NULL);
	if (!c)
		return date_from_firmware(argv[0]);
	memset(&t, 0, sizeof(t));
	r = PB_CALL(c, rtc_ops, get_time, &t);
	src = r == PB_OK ? PB_CALL(c, rtc_ops, source) : NULL;
	shell_hub->disconnect(shell_self, c);
	if (r != PB_OK)
		return fail("%s: the clock failed (%d)", argv[0], r);
	say("%04u-%02u-%02u %02u:%02u:%02u%s (%s)", t.year, t.month, t.day,
	    t.hour, t.minute, t.second, t.utc ? " UTC" : "",
	    src ? src : "rtc");
	return PB_OK;
}

int
cmd_uptime(int argc, char **argv)
{
	uint64_t ms = shell_hub->now_ns() / 1000000;
	uint64_t s = ms / 1000;

	(void)argc, (void)argv;
	say("up %llu:%02llu:%02llu (%llu.%03llu s)",
	    (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
	    (unsigned long long)(s % 60), (unsigned long long)s,
	    (unsigned long long)(ms % 1000));
	return PB_OK;
}
