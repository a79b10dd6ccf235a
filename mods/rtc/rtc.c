/*
 * rtc - wall-clock time: provides `rtc` (rtc:rtc0) from the PC's CMOS
 * clock (cmos.c), or from the firmware's GetTime when there is no CMOS
 * clock or it reads garbage.
 *
 *   start	the FADT (through `acpi`, optional) gives the century
 *		register and may say there is no CMOS clock (IAPC_BOOT_ARCH
 *		bit 5); a first reading decides the source; no clock at
 *		all declines (PB_ENODEV)
 *   get_time	a fresh reading each time; a CMOS reading that fails its
 *		checks is logged and replaced by GetTime's
 *   source	"cmos" or "uefi": where the last time came from
 *
 * The CMOS clock is taken to hold UTC, as QEMU (-rtc base=utc, the
 * default), Linux and the BSDs keep it.  A PC that also runs Windows
 * keeps local time there: `rtc=local` in boot.cfg says so, and the time
 * is turned into UTC by the zone `tz=` gives (+HHMM, +HH:MM or minutes
 * east of UTC; zone.c), else by the firmware's, from GetTime's TimeZone;
 * with neither, it is given as local time (utc 0).  GetTime's own time is
 * turned into UTC by its TimeZone where it gives one: UEFI 2.10 §8.3,
 * EFI_TIME, "Localtime = UTC - TimeZone", an hour more when Daylight has
 * EFI_TIME_IN_DAYLIGHT ("the time has been adjusted for daylight saving
 * time").  With EFI_UNSPECIFIED_TIMEZONE (2047) it is local time: made
 * UTC by tz= under rtc=local, taken as UTC under `rtc=utc`, else given
 * as local time.
 *
 * Nothing here holds the hardware between calls, and the state is the
 * choice of source, so the module needs no swap entry points: a new
 * provider simply reads the clock itself.
 */
#include "../../abi/pbmod.h"
#include "../../abi/acpi.h"
#include "../../abi/firmware.h"
#include "cmos.h"
#include "zone.h"

#define UEFI_TZ_UNSPECIFIED 2047
#define EFI_TIME_IN_DAYLIGHT 0x02	/* UEFI 2.10 §8.3, EFI_TIME.Daylight */

/* What boot.cfg's rtc= says the PC's clock keeps. */
enum keeps { KEEPS_UNSAID, KEEPS_UTC, KEEPS_LOCAL };

/* The requirements, in descriptor order: the `req` of events. */
enum { REQ_ACPI = 0, REQ_FIRMWARE_RT = 1 };

static struct {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *acpi, *fw;
	uint8_t century_reg;	/* FADT CENTURY; 0 none */
	int use_cmos;		/* the CMOS clock is there and sane */
	enum keeps keeps;	/* rtc= */
	int tz_set, tz;		/* tz=: minutes east of UTC */
	const char *source;	/* of the last time given */
	const char *zone_from;	/* what turned it into UTC; NULL none */
	int zone;		/* that zone's offset */
	int no_zone_told;
	uint32_t failures, failures_said;
	int century_told;
} rtc;

static uint64_t
now_ns(void)
{
	return rtc.hub->now_ns();
}

/* The firmware's zone as minutes east of UTC (zone.h): 1, or 0 when
 * GetTime gives none. */
static int
uefi_zone(const struct firmware_time *f, int *offset)
{
	if (f->tz_minutes < -ZONE_MAX_MINUTES ||
	    f->tz_minutes > ZONE_MAX_MINUTES)
		return 0;		/* 2047: unspecified, or nonsense */
	*offset = -f->tz_minutes + (f->daylight & EFI_TIME_IN_DAYLIGHT ?
	    60 : 0);
	return 1;
}

/* Local time t into UTC with the zone named by `from`. */
static void
to_utc(struct rtc_time *t, int offset, const char *from)
{
	zone_to_utc(t, offset);
	rtc.zone = offset;
	rtc.zone_from = from;
}

/* A clock kept in local time (rtc=local): into UTC by tz=, else by the
 * firmware's zone; left local when neither says, told once. */
static void
local_to_utc(struct rtc_time *t)
{
	struct firmware_time f;
	int offset;

	t->utc = 0;
	if (rtc.tz_set) {
		to_utc(t, rtc.tz, "tz=");
		return;
	}
	memset(&f, 0, sizeof(f));
	if (rtc.fw && PB_CALL(rtc.fw, firmware_ops, get_time, &f) == PB_OK &&
	    uefi_zone(&f, &offset)) {
		to_utc(t, offset, "the firmware's time zone");
		return;
	}
	if (!rtc.no_zone_told++)
		pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "rtc=local, but "
		    "neither tz= nor the firmware names the zone: the time "
		    "stays local");
}

static int
from_cmos(struct rtc_time *t, const char **why)
{
	struct cmos_raw raw;
	int r, century_bad;

	if ((r = cmos_read(rtc.century_reg, now_ns, &raw, why)) != PB_OK)
		return r;
	if ((r = cmos_decode(&raw, rtc.century_reg != 0, t, &century_bad,
	    why)) != PB_OK)
		return r;
	if (century_bad && !rtc.century_told++)
		pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "CMOS register 0x%02x "
		    "(the FADT's CENTURY) reads 0x%02x: 20xx assumed",
		    rtc.century_reg, raw.century);
	rtc.zone_from = NULL;
	if (rtc.keeps == KEEPS_LOCAL)
		local_to_utc(t);
	return PB_OK;
}

static int
valid_uefi(const struct firmware_time *f)
{
	return f->year >= 1900 && f->year <= 9999 && f->month >= 1 &&
	    f->month <= 12 && f->day >= 1 && f->day <= 31 && f->hour <= 23 &&
	    f->minute <= 59 && f->second <= 59 && f->nanosecond < 1000000000u;
}

static int
from_uefi(struct rtc_time *t)
{
	struct firmware_time f;
	int r, offset;

	if (!rtc.fw)
		return PB_ENODEV;
	memset(&f, 0, sizeof(f));
	if ((r = PB_CALL(rtc.fw, firmware_ops, get_time, &f)) != PB_OK)
		return r;
	if (!valid_uefi(&f))
		return PB_EIO;
	*t = (struct rtc_time){ .year = f.year, .month = f.month,
	    .day = f.day, .hour = f.hour, .minute = f.minute,
	    .second = f.second, .nanosecond = f.nanosecond,
	    .utc = rtc.keeps == KEEPS_UTC };
	rtc.zone_from = NULL;
	if (uefi_zone(&f, &offset))
		to_utc(t, offset, "the firmware's time zone");
	else if (rtc.keeps == KEEPS_LOCAL && rtc.tz_set)
		to_utc(t, rtc.tz, "tz=");
	return PB_OK;
}

/* Failures are told at 1, 2, 4, 8...: seen, never a flood. */
static void
cmos_failed(const char *why)
{
	uint32_t n = ++rtc.failures;

	if (n & (n - 1))
		return;
	rtc.failures_said = n;
	pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "CMOS clock: %s; %s (%u "
	    "times)", why, rtc.fw ? "using UEFI GetTime" : "no other clock",
	    (unsigned)n);
}

static int
rtc_get_time(void *ctx, struct rtc_time *t)
{
	const char *why;
	int r;

	(void)ctx;
	if (rtc.use_cmos) {
		if ((r = from_cmos(t, &why)) == PB_OK) {
			rtc.source = "cmos";
			return PB_OK;
		}
		cmos_failed(why);
	}
	if ((r = from_uefi(t)) == PB_OK)
		rtc.source = "uefi";
	return r;
}

static const char *
rtc_source(void *ctx)
{
	(void)ctx;
	return rtc.source;
}

static const struct rtc_ops rtc_ops = {
	.get_time = rtc_get_time,	/* CMOS, else GetTime */
	.source = rtc_source,		/* "cmos" or "uefi" */
};

/* What the FADT says: the century register, and whether there is a CMOS
 * clock at all (IAPC_BOOT_ARCH bit 5, ACPI 6.5 Table 5.11). */
static void
read_fadt(void)
{
	const struct acpi_platform *p;

	rtc.century_reg = 0;
	rtc.use_cmos = 1;
	if (!rtc.acpi || !(p = PB_CALL(rtc.acpi, acpi_ops, platform)) ||
	    !p->have_fadt)
		return;
	rtc.century_reg = p->century;
	if (p->iapc_boot_arch & ACPI_BOOT_NO_CMOS_RTC) {
		rtc.use_cmos = 0;
		pb_logf(rtc.hub, rtc.self, PB_LOG_INFO, "FADT IAPC_BOOT_ARCH "
		    "bit 5: no CMOS clock; using UEFI GetTime");
	}
}

/* The first reading decides the source.  A CMOS clock that fails it is
 * not asked again. */
static int
first_reading(struct rtc_time *t)
{
	const char *why;
	int r;

	if (rtc.use_cmos && (r = from_cmos(t, &why)) != PB_OK) {
		rtc.use_cmos = 0;
		pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "CMOS clock: %s; %s",
		    why, rtc.fw ? "using UEFI GetTime" : "no other clock");
	}
	if (rtc.use_cmos) {
		rtc.source = "cmos";
		return PB_OK;
	}
	if ((r = from_uefi(t)) != PB_OK) {
		pb_logf(rtc.hub, rtc.self, PB_LOG_INFO, "no clock: %s; "
		    "declining", rtc.fw ? "UEFI GetTime failed" :
		    "no firmware-rt");
		return PB_ENODEV;
	}
	rtc.source = "uefi";
	return PB_OK;
}

/* boot.cfg's rtc= and tz=; a value that means nothing is told, and
 * ignored. */
static void
read_settings(void)
{
	char v[16];

	rtc.keeps = KEEPS_UNSAID;
	if (pb_setting(rtc.hub, "rtc", v, sizeof(v))) {
		if (strcmp(v, "local") == 0)
			rtc.keeps = KEEPS_LOCAL;
		else if (strcmp(v, "utc") == 0)
			rtc.keeps = KEEPS_UTC;
		else
			pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "rtc=%s: "
			    "neither local nor utc; ignored", v);
	}
	rtc.tz_set = 0;
	if (!pb_setting(rtc.hub, "tz", v, sizeof(v)))
		return;
	if (zone_parse(v, &rtc.tz) != PB_OK)
		pb_logf(rtc.hub, rtc.self, PB_LOG_WARN, "tz=%s: not +HHMM, "
		    "+HH:MM or minutes within a day; ignored", v);
	else if (rtc.keeps != KEEPS_LOCAL)
		pb_logf(rtc.hub, rtc.self, PB_LOG_INFO, "tz=%s: only used "
		    "with rtc=local", v);
	else
		rtc.tz_set = 1;
}

static int
rtc_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	struct rtc_time t;
	char props[64], zone[64] = "", z[8];
	int r;

	rt_use_hub(h);
	(void)mode;	/* nothing held: standby is the same start */
	rtc.hub = h;
	rtc.self = m;
	rtc.failures = rtc.failures_said = 0;
	rtc.century_told = rtc.no_zone_told = 0;
	read_settings();
	read_fadt();
	if ((r = first_reading(&t)) != PB_OK)
		return r;
	if (rtc.zone_from) {
		zone_text(rtc.zone, z, sizeof(z));
		rt_snprintf(zone, sizeof(zone), " (local time at UTC%s, by %s)",
		    z, rtc.zone_from);
	}
	pb_logf(h, m, PB_LOG_INFO, "%04u-%02u-%02u %02u:%02u:%02u%s from %s"
	    "%s%s", t.year, t.month, t.day, t.hour, t.minute, t.second,
	    t.utc ? " UTC" : "", rtc.source, zone, rtc.century_reg ?
	    " (century register from the FADT)" : "");
	rt_snprintf(props, sizeof(props), "source=%s century=0x%02x%s",
	    rtc.source, rtc.century_reg, rtc.keeps == KEEPS_LOCAL ?
	    " rtc=local" : "");
	if (!h->publish(m, RTC_IFACE, "rtc0", props, &rtc_ops, NULL))
		return PB_ENOMEM;
	return PB_OK;
}

static void
rtc_stop(struct pb_module *m)
{
	(void)m;
	/* The hub closes our connections: a new start gets new ones. */
	rtc.acpi = rtc.fw = NULL;
}

static void
rtc_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	struct pb_conn **slot = req == REQ_ACPI ? &rtc.acpi :
	    req == REQ_FIRMWARE_RT ? &rtc.fw : NULL;

	(void)m;
	if (!slot)
		return;
	if (ev == PB_EV_CONNECTED)
		*slot = c;
	else if (ev == PB_EV_DISCONNECTED && *slot == c)
		*slot = NULL;
}

static const struct pb_module_ops rtc_mod_ops = {
	.start = rtc_start,
	.stop = rtc_stop,
	.event = rtc_event,
};

PB_MODULE(.name = "rtc", .version = "1.0",
    .desc = "wall-clock time: the CMOS clock, else UEFI GetTime",
    .flags = PB_MOD_HARDWARE | PB_MOD_AUTOSTART, .rank = 10,
    .ops = &rtc_mod_ops,
    .nprovides = 1,
    .provides = { PB_PROVIDE(RTC_IFACE, RTC_MAJOR, RTC_MINOR) },
    .nrequires = 2,
    .requires = {
	[REQ_ACPI] = PB_REQUIRE(ACPI_IFACE, ACPI_MAJOR, ACPI_MINOR,
	    PB_CARD_OPTIONAL, PB_AT_START),
	[REQ_FIRMWARE_RT] = PB_REQUIRE("firmware-rt", FIRMWARE_MAJOR,
	    FIRMWARE_MINOR, PB_CARD_OPTIONAL, PB_AT_START),
    });
