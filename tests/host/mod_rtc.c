/*
 * mod_rtc.c - the rtc module against a model of the MC146818A CMOS clock
 * behind ports 0x70/0x71 (abi/portio.h declares inb/outb for host
 * builds), a fake hub (clock moving 1 us per look, so bounded waits end
 * quickly), a fake `acpi` (the FADT's century register and boot flags)
 * and a fake `firmware-rt` whose GetTime is the fallback and names the
 * firmware's time zone; boot.cfg's rtc= and tz= through config:boot.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"

#include "../../mods/rtc/cmos.c"
#include "../../mods/rtc/zone.c"
#include "../../abi/rt/setting.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo rtc_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/rtc/rtc.c"

/* ---- the fake hub and providers ---------------------------------- */

#include "fakehub.h"

static struct {
	int used;
	char name[48];
	char props[96];
	const void *ops;
} res;

static struct pb_resource *
fake_publish(struct pb_module *self, const char *iface, const char *name,
    const char *props, const void *ops, void *ctx)
{
	res.used = 1;
	snprintf(res.name, sizeof(res.name), "%s:%s", iface, name);
	snprintf(res.props, sizeof(res.props), "%s", props);
	res.ops = ops;
	return (struct pb_resource *)&res;
}

static const struct pb_hub fake_hub = {
	.size = sizeof(struct pb_hub),
	.abi_major = PB_ABI_MAJOR,
	.abi_minor = PB_ABI_MINOR,
	.log = fake_log,
	.publish = fake_publish,
	.now_ns = fake_now,
	.res_info = fake_res_info,
};

static struct acpi_platform fplat;

static const struct acpi_platform *
facpi_platform(void *ctx)
{
	return &fplat;
}

static const struct acpi_ops facpi_ops = { .platform = facpi_platform };
static struct pb_conn facpi = { .ops = &facpi_ops, .res = "acpi:acpi" };

static struct firmware_time fw_time;
static int fw_err;

static int
ffw_get_time(void *ctx, struct firmware_time *t)
{
	if (fw_err)
		return fw_err;
	*t = fw_time;
	return PB_OK;
}

static const struct firmware_ops ffw_ops = { .get_time = ffw_get_time };
static struct pb_conn ffw = { .ops = &ffw_ops, .res = "firmware-rt:uefi" };

/* ---- the MC146818A model ----------------------------------------- */

static struct {
	uint8_t reg[128];
	uint8_t index;
	int nmi_off_seen;	/* an index write with bit 7 set */
	int uip_always;		/* the update never ends */
	int uip_reads;		/* register A reads with UIP still set */
	int tick_after;		/* data reads before the second changes */
	uint8_t tick_to[10];	/* registers 0-9 after that change */
} cm;
static unsigned io_count;

uint8_t
inb(uint16_t port)
{
	uint8_t v;

	io_count++;
	if (port != CMOS_DATA)
		return 0xff;
	v = cm.reg[cm.index];
	if (cm.index == CMOS_REG_A) {
		if (cm.uip_always)
			v |= REG_A_UIP;
		else if (cm.uip_reads > 0) {
			cm.uip_reads--;
			v |= REG_A_UIP;
		}
	}
	if (cm.tick_after > 0 && --cm.tick_after == 0)
		memcpy(cm.reg, cm.tick_to, sizeof(cm.tick_to));
	return v;
}

void
outb(uint16_t port, uint8_t v)
{
	io_count++;
	if (port != CMOS_INDEX)
		return;
	if (v & 0x80)
		cm.nmi_off_seen = 1;
	cm.index = v & 0x7f;
}

/* The registers for a time, in BCD or binary, 24 h. */
static void
set_time(int binary, unsigned y, unsigned mo, unsigned d, unsigned h,
    unsigned mi, unsigned s)
{
	unsigned vals[] = { s, mi, h, d, mo, y % 100, y / 100 };
	uint8_t regs[] = { CMOS_SECONDS, CMOS_MINUTES, CMOS_HOURS, CMOS_DAY,
	    CMOS_MONTH, CMOS_YEAR, 0x32 };

	for (unsigned i = 0; i < 7; i++)
		cm.reg[regs[i]] = (uint8_t)(binary ? vals[i] :
		    (vals[i] / 10) << 4 | vals[i] % 10);
	cm.reg[CMOS_REG_B] = REG_B_24H | (binary ? REG_B_DM : 0);
}

static void
setup(void)
{
	rtc_stop(SELF);
	memset(&cm, 0, sizeof(cm));
	cm.reg[CMOS_REG_A] = 0x26;		/* 32.768 kHz, 1024 Hz rate */
	set_time(0, 2026, 11, 22, 8, 50, 12);
	memset(&fplat, 0, sizeof(fplat));
	fplat.have_fadt = 1;
	fplat.fadt_revision = 3;
	fplat.century = 0x32;
	fplat.iapc_boot_arch = ACPI_BOOT_8042;
	fw_time = (struct firmware_time){ .year = 2030, .month = 1, .day = 2,
	    .hour = 3, .minute = 4, .second = 5, .tz_minutes = 0 };
	fw_err = 0;
	memset(&res, 0, sizeof(res));
	log_text[0] = '\0';
	io_count = 0;
	fake_boot_cfg = "target=os";
	rtc_event(SELF, PB_EV_CONNECTED, &facpi, REQ_ACPI);
	rtc_event(SELF, PB_EV_CONNECTED, &ffw, REQ_FIRMWARE_RT);
}

static int
start(void)
{
	return rtc_start(SELF, &fake_hub, PB_START_NORMAL);
}

static unsigned
log_count(const char *needle)
{
	unsigned n = 0;

	for (const char *p = log_text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The provider's time and source as "YYYY-MM-DD hh:mm:ss U src". */
static char *
now_text(void)
{
	static char out[64];
	struct rtc_time t;
	int r;

	memset(&t, 0xee, sizeof(t));
	if ((r = rtc_ops.get_time(NULL, &t)) != PB_OK) {
		snprintf(out, sizeof(out), "error %d", r);
		return out;
	}
	snprintf(out, sizeof(out), "%04u-%02u-%02u %02u:%02u:%02u %c %s",
	    t.year, t.month, t.day, t.hour, t.minute, t.second,
	    t.utc ? 'U' : 'L', rtc_ops.source(NULL));
	return out;
}

/* ---- tests ------------------------------------------------------- */

TEST(rtc_reads_bcd)
{
	setup();
	REQUIRE(start() == PB_OK);
	CHECK_STR(res.name, "rtc:rtc0");
	CHECK_STR(res.props, "source=cmos century=0x32");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
	CHECK_CONTAINS(log_text, "2026-11-22 08:50:12 UTC from cmos");
	CHECK(!cm.nmi_off_seen);		/* NMI left enabled */
	set_time(0, 1999, 12, 31, 23, 59, 59);
	CHECK_STR(now_text(), "1999-12-31 23:59:59 U cmos");
}

TEST(rtc_reads_binary)
{
	setup();
	set_time(1, 2026, 2, 28, 17, 5, 9);
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-02-28 17:05:09 U cmos");
	set_time(1, 2028, 2, 29, 0, 0, 0);	/* a leap day */
	CHECK_STR(now_text(), "2028-02-29 00:00:00 U cmos");
}

TEST(rtc_twelve_hour_mode)
{
	setup();
	REQUIRE(start() == PB_OK);
	cm.reg[CMOS_REG_B] = 0;			/* BCD, 12-hour */
	cm.reg[CMOS_HOURS] = HOUR_PM | 0x08;
	CHECK_STR(now_text(), "2026-11-22 20:50:12 U cmos");
	cm.reg[CMOS_HOURS] = 0x12;		/* 12 AM: midnight */
	CHECK_STR(now_text(), "2026-11-22 00:50:12 U cmos");
	cm.reg[CMOS_HOURS] = HOUR_PM | 0x12;	/* 12 PM: noon */
	CHECK_STR(now_text(), "2026-11-22 12:50:12 U cmos");
	cm.reg[CMOS_HOURS] = 0x11;
	CHECK_STR(now_text(), "2026-11-22 11:50:12 U cmos");
	set_time(1, 2026, 11, 22, 0, 50, 12);	/* binary, 12-hour */
	cm.reg[CMOS_REG_B] = REG_B_DM;
	cm.reg[CMOS_HOURS] = HOUR_PM | 11;
	CHECK_STR(now_text(), "2026-11-22 23:50:12 U cmos");
	cm.reg[CMOS_HOURS] = 0;			/* no hour 0 in 12-hour */
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	CHECK_CONTAINS(log_text, "hours register reads 0x00");
}

TEST(rtc_update_in_progress_never_ends)
{
	uint64_t t0;

	setup();
	cm.uip_always = 1;
	t0 = fake_ns;
	REQUIRE(start() == PB_OK);
	CHECK_MSG(fake_ns - t0 < 30000000ull, "waited %llu ns",
	    (unsigned long long)(fake_ns - t0));
	CHECK_CONTAINS(log_text, "CMOS clock: register A bit 7 (UIP) did not "
	    "clear within 10 ms; using UEFI GetTime");
	CHECK_STR(res.props, "source=uefi century=0x32");
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");

	setup();				/* and nothing to fall back on */
	rtc_event(SELF, PB_EV_DISCONNECTED, &ffw, REQ_FIRMWARE_RT);
	cm.uip_always = 1;
	CHECK_EQ_INT(start(), PB_ENODEV);
	CHECK_CONTAINS(log_text, "UIP) did not clear within 10 ms; no other "
	    "clock");
	CHECK_CONTAINS(log_text, "no clock: no firmware-rt; declining");
}

TEST(rtc_waits_out_an_update)
{
	setup();
	cm.uip_reads = 3;			/* an update about to end */
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
}

TEST(rtc_reads_twice_across_a_second)
{
	setup();
	set_time(0, 2026, 12, 31, 23, 59, 59);
	REQUIRE(start() == PB_OK);
	/* The year turns during the first reading: its seconds are from
	 * before, the rest from after.  Two readings must agree. */
	memcpy(cm.tick_to, cm.reg, sizeof(cm.tick_to));
	cm.tick_to[CMOS_SECONDS] = 0x00;
	cm.tick_to[CMOS_MINUTES] = 0x00;
	cm.tick_to[CMOS_HOURS] = 0x00;
	cm.tick_to[CMOS_DAY] = 0x01;
	cm.tick_to[CMOS_MONTH] = 0x01;
	cm.tick_to[CMOS_YEAR] = 0x27;
	cm.tick_after = 5;		/* A, B, A, seconds, minutes */
	CHECK_STR(now_text(), "2027-01-01 00:00:00 U cmos");
}

TEST(rtc_garbage_is_rejected)
{
	static const struct {
		uint8_t reg, val;
		const char *why;
	} bad[] = {
		{ CMOS_SECONDS, 0x7a, "seconds register reads 0x7a" },
		{ CMOS_SECONDS, 0x60, "seconds register reads 0x60" },
		{ CMOS_MINUTES, 0xff, "minutes register reads 0xff" },
		{ CMOS_HOURS, 0x24, "hours register reads 0x24" },
		{ CMOS_MONTH, 0x13, "month register reads 0x13" },
		{ CMOS_MONTH, 0x00, "month register reads 0x00" },
		{ CMOS_DAY, 0x00, "day of month register reads 0x00" },
		{ CMOS_DAY, 0x31, "day of month register reads 0x31" },	/* Nov */
		{ CMOS_YEAR, 0xa0, "year register reads 0xa0" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup();
		cm.reg[bad[i].reg] = bad[i].val;
		REQUIRE(start() == PB_OK);
		CHECK_STR(res.props, "source=uefi century=0x32");
		CHECK_CONTAINS(log_text, bad[i].why);
		CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	}
	setup();				/* February 29th, not a leap year */
	set_time(0, 2026, 2, 29, 1, 2, 3);
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(log_text, "day of month register reads 0x29");
}

TEST(rtc_stopped_or_absent_clock)
{
	setup();
	memset(cm.reg, 0xff, sizeof(cm.reg));	/* nothing decodes 0x70 */
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(log_text, "register A is 0xff: divider bits 6:4 are "
	    "not 010, the clock is not running");
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");

	setup();
	cm.reg[CMOS_REG_B] |= REG_B_SET;
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(log_text, "register B bit 7 (SET): updates are "
	    "stopped");
}

TEST(rtc_fadt_says_no_cmos)
{
	setup();
	fplat.iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	REQUIRE(start() == PB_OK);
	CHECK_EQ_INT(io_count, 0);		/* the ports never touched */
	CHECK_CONTAINS(log_text, "FADT IAPC_BOOT_ARCH bit 5: no CMOS clock");
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	CHECK_EQ_INT(io_count, 0);
}

TEST(rtc_century)
{
	setup();
	fplat.century = 0;			/* no century register */
	set_time(0, 2026, 11, 22, 8, 50, 12);
	cm.reg[0x32] = 0x19;			/* not read */
	REQUIRE(start() == PB_OK);
	CHECK_STR(res.props, "source=cmos century=0x00");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");

	setup();
	rtc_event(SELF, PB_EV_DISCONNECTED, &facpi, REQ_ACPI);	/* no ACPI */
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");

	setup();				/* a century byte of nonsense */
	cm.reg[0x32] = 0xff;
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
	CHECK_CONTAINS(log_text, "CMOS register 0x32 (the FADT's CENTURY) "
	    "reads 0xff: 20xx assumed");
	CHECK_EQ_INT(log_count("20xx assumed"), 1);	/* said once */
}

TEST(rtc_falls_back_per_reading)
{
	setup();
	REQUIRE(start() == PB_OK);
	cm.reg[CMOS_MONTH] = 0x42;		/* goes bad after the start */
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	CHECK_CONTAINS(log_text, "CMOS clock: month register reads 0x42: not "
	    "a valid value; using UEFI GetTime (1 times)");
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	CHECK_CONTAINS(log_text, "(2 times)");
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	CHECK(!strstr(log_text, "(3 times)"));	/* 1, 2, 4, 8...: no flood */
	cm.reg[CMOS_MONTH] = 0x11;		/* and recovers */
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
	fw_err = PB_EIO;			/* both bad: an error */
	cm.reg[CMOS_MONTH] = 0x42;
	CHECK_STR(now_text(), "error -5");
}

TEST(rtc_uefi_time_and_zone)
{
	setup();
	fplat.iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	fw_time.tz_minutes = UEFI_TZ_UNSPECIFIED;	/* local time */
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2030-01-02 03:04:05 L uefi");
	/* A zone: Localtime = UTC - TimeZone (UEFI 2.10 §8.3), so UTC is
	 * the local time plus TimeZone. */
	fw_time.tz_minutes = 60;		/* UTC-01:00 */
	CHECK_STR(now_text(), "2030-01-02 04:04:05 U uefi");
	fw_time.tz_minutes = -60;		/* UTC+01:00 */
	CHECK_STR(now_text(), "2030-01-02 02:04:05 U uefi");
	fw_time.tz_minutes = -240;		/* UTC+04:00, across midnight */
	CHECK_STR(now_text(), "2030-01-01 23:04:05 U uefi");
	fw_time.tz_minutes = 0;			/* in summer time: an hour on */
	fw_time.daylight = EFI_TIME_IN_DAYLIGHT | 1;
	CHECK_STR(now_text(), "2030-01-02 02:04:05 U uefi");
	fw_time.daylight = 0;
	fw_time.tz_minutes = 1441;		/* out of range: unspecified */
	CHECK_STR(now_text(), "2030-01-02 03:04:05 L uefi");
	fw_time.tz_minutes = 0;
	fw_time.month = 13;			/* the firmware's garbage */
	CHECK_STR(now_text(), "error -5");

	setup();
	fplat.iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	fw_err = PB_EIO;
	CHECK_EQ_INT(start(), PB_ENODEV);
	CHECK_CONTAINS(log_text, "no clock: UEFI GetTime failed; declining");
}

TEST(rtc_zone_parse_and_arithmetic)
{
	static const struct {
		const char *in;
		int ok, minutes;
	} z[] = {
		{ "+0100", 1, 60 }, { "-0530", 1, -330 }, { "+05:30", 1, 330 },
		{ "-300", 1, -300 }, { "60", 1, 60 }, { "0", 1, 0 },
		{ "+2400", 1, 1440 }, { "-2400", 1, -1440 },
		{ "1440", 1, 1440 },
		{ "-1440", 1, -880 },	/* a sign and four digits: HHMM */
		{ "+2401", 0, 0 }, { "+0160", 0, 0 }, { "+1:00", 0, 0 },
		{ "", 0, 0 }, { "+", 0, 0 }, { "abc", 0, 0 }, { "12345", 0, 0 },
		{ "1441", 0, 0 }, { "+01:0x", 0, 0 }, { "--60", 0, 0 },
	};
	struct rtc_time t;
	char buf[8];
	int m;

	for (unsigned i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		m = 12345;
		CHECK_MSG((zone_parse(z[i].in, &m) == PB_OK) == z[i].ok,
		    "tz=%s", z[i].in);
		if (z[i].ok)
			CHECK_MSG(m == z[i].minutes, "tz=%s: %d", z[i].in, m);
	}
	zone_text(-330, buf, sizeof(buf));
	CHECK_STR(buf, "-05:30");
	zone_text(60, buf, sizeof(buf));
	CHECK_STR(buf, "+01:00");
	/* Across a year's end, a leap day, a month's end, both ways. */
	t = (struct rtc_time){ 2027, 1, 1, 0, 30, 0, 0, 0 };
	zone_to_utc(&t, 60);
	CHECK(t.year == 2026 && t.month == 12 && t.day == 31 &&
	    t.hour == 23 && t.minute == 30 && t.utc);
	t = (struct rtc_time){ 2028, 2, 28, 20, 0, 0, 0, 0 };
	zone_to_utc(&t, -300);
	CHECK(t.month == 2 && t.day == 29 && t.hour == 1);
	t = (struct rtc_time){ 2026, 2, 28, 22, 15, 0, 0, 0 };
	zone_to_utc(&t, -330);
	CHECK(t.month == 3 && t.day == 1 && t.hour == 3 && t.minute == 45);
	t = (struct rtc_time){ 2026, 3, 1, 0, 0, 7, 0, 0 };
	zone_to_utc(&t, 1440);
	CHECK(t.month == 2 && t.day == 28 && t.hour == 0 && t.second == 7);
	t = (struct rtc_time){ 2026, 12, 31, 23, 59, 59, 0, 0 };
	zone_to_utc(&t, -1440);
	CHECK(t.year == 2027 && t.month == 1 && t.day == 1 && t.hour == 23);
}

/* A PC that also runs Windows: the CMOS clock keeps local time. */
TEST(rtc_cmos_in_local_time)
{
	setup();
	fake_boot_cfg = "target=os rtc=local tz=+0100";
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 07:50:12 U cmos");
	CHECK_STR(res.props, "source=cmos century=0x32 rtc=local");
	CHECK_CONTAINS(log_text, "2026-11-22 07:50:12 UTC from cmos (local "
	    "time at UTC+01:00, by tz=)");
	set_time(0, 2027, 1, 1, 0, 30, 0);	/* just after New Year */
	CHECK_STR(now_text(), "2026-12-31 23:30:00 U cmos");

	setup();				/* west of Greenwich, minutes */
	fake_boot_cfg = "rtc=local tz=-300";
	set_time(1, 2028, 2, 28, 22, 0, 0);
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2028-02-29 03:00:00 U cmos");

	setup();				/* the firmware's zone */
	fake_boot_cfg = "rtc=local";
	fw_time.tz_minutes = -120;		/* UTC+02:00 */
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 06:50:12 U cmos");
	CHECK_CONTAINS(log_text, "(local time at UTC+02:00, by the firmware's "
	    "time zone)");
	fw_time.daylight = EFI_TIME_IN_DAYLIGHT;	/* summer: UTC+03:00 */
	CHECK_STR(now_text(), "2026-11-22 05:50:12 U cmos");

	setup();				/* tz= comes first */
	fake_boot_cfg = "rtc=local tz=-01:00";
	fw_time.tz_minutes = -120;
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 09:50:12 U cmos");

	setup();				/* no zone anywhere: local */
	fake_boot_cfg = "rtc=local";
	fw_time.tz_minutes = UEFI_TZ_UNSPECIFIED;
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 08:50:12 L cmos");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 L cmos");
	CHECK_EQ_INT(log_count("neither tz= nor the firmware names the zone"),
	    1);
	CHECK(!strstr(log_text, " UTC from"));

	setup();				/* nor a firmware at all */
	fake_boot_cfg = "rtc=local";
	rtc_event(SELF, PB_EV_DISCONNECTED, &ffw, REQ_FIRMWARE_RT);
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2026-11-22 08:50:12 L cmos");
}

TEST(rtc_unspecified_firmware_zone_and_settings)
{
	/* GetTime's local time of no zone: UTC with rtc=utc, made UTC by
	 * tz= under rtc=local. */
	setup();
	fake_boot_cfg = "rtc=utc";
	fplat.iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	fw_time.tz_minutes = UEFI_TZ_UNSPECIFIED;
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2030-01-02 03:04:05 U uefi");
	setup();
	fake_boot_cfg = "rtc=local tz=+05:30";
	fplat.iapc_boot_arch |= ACPI_BOOT_NO_CMOS_RTC;
	fw_time.tz_minutes = UEFI_TZ_UNSPECIFIED;
	REQUIRE(start() == PB_OK);
	CHECK_STR(now_text(), "2030-01-01 21:34:05 U uefi");

	/* Settings that mean nothing are told and ignored. */
	setup();
	fake_boot_cfg = "rtc=gmt tz=+2500";
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(log_text, "rtc=gmt: neither local nor utc; ignored");
	CHECK_CONTAINS(log_text, "tz=+2500: not +HHMM, +HH:MM or minutes "
	    "within a day; ignored");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
	setup();				/* tz= alone: UTC clock */
	fake_boot_cfg = "tz=+0100";
	REQUIRE(start() == PB_OK);
	CHECK_CONTAINS(log_text, "tz=+0100: only used with rtc=local");
	CHECK_STR(now_text(), "2026-11-22 08:50:12 U cmos");
}
