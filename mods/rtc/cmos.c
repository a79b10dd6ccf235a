/*
 * cmos.c - reading the MC146818A clock (see cmos.h).
 *
 * The chip updates its time registers once a second; a read that
 * straddles the update can mix two seconds (23:59:59 and 00:00:00 make
 * 00:59:59).  So: wait until register A's UIP bit is clear, read every
 * register, and read again until two readings agree.  Every wait is
 * bounded: a chip whose UIP stays set, or that is stopped, or absent
 * (0xff everywhere), costs an error naming the register, never a hang.
 *
 * Writing the index leaves bit 7 clear: that bit gates the NMI on PCs,
 * and clear (NMI enabled) is how the firmware leaves it.
 *
 * Try it: tools/qemu-run, then `date` (QEMU's clock is the host's UTC,
 * -rtc base=utc being the default; -rtc base=2006-06-17T16:01:21 sets
 * another).
 */
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"
#include "../../abi/portio.h"
#include "cmos.h"
#include "zone.h"

static char why_buf[96];

static uint8_t
rd(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static int
wait_no_update(uint64_t (*now_ns)(void), const char **why)
{
	uint64_t deadline;

	if (!(rd(CMOS_REG_A) & REG_A_UIP))
		return PB_OK;
	deadline = now_ns() + CMOS_UIP_NS;
	while (rd(CMOS_REG_A) & REG_A_UIP)
		if (now_ns() >= deadline) {
			*why = "register A bit 7 (UIP) did not clear within "
			    "10 ms";
			return PB_ETIMEDOUT;
		}
	return PB_OK;
}

static int
read_once(uint8_t century_reg, uint64_t (*now_ns)(void), struct cmos_raw *r,
    const char **why)
{
	if (wait_no_update(now_ns, why) != PB_OK)
		return PB_ETIMEDOUT;
	r->sec = rd(CMOS_SECONDS);
	r->min = rd(CMOS_MINUTES);
	r->hour = rd(CMOS_HOURS);
	r->day = rd(CMOS_DAY);
	r->mon = rd(CMOS_MONTH);
	r->year = rd(CMOS_YEAR);
	r->century = century_reg ? rd(century_reg) : 0;
	r->b = rd(CMOS_REG_B);
	return PB_OK;
}

int
cmos_read(uint8_t century_reg, uint64_t (*now_ns)(void), struct cmos_raw *r,
    const char **why)
{
	struct cmos_raw prev;
	uint8_t a = rd(CMOS_REG_A);

	/* A stopped, or absent, clock: its time means nothing. */
	if ((a & REG_A_DV_MASK) != REG_A_DV_32K) {
		rt_snprintf(why_buf, sizeof(why_buf), "register A is 0x%02x: "
		    "divider bits 6:4 are not 010, the clock is not running",
		    a);
		*why = why_buf;
		return PB_EIO;
	}
	if (rd(CMOS_REG_B) & REG_B_SET) {
		*why = "register B bit 7 (SET): updates are stopped";
		return PB_EIO;
	}
	if (read_once(century_reg, now_ns, &prev, why) != PB_OK)
		return PB_ETIMEDOUT;
	for (unsigned i = 0; i < CMOS_READS; i++) {
		if (read_once(century_reg, now_ns, r, why) != PB_OK)
			return PB_ETIMEDOUT;
		if (memcmp(r, &prev, sizeof(prev)) == 0)
			return PB_OK;
		prev = *r;
	}
	*why = "no two readings in a row agreed";
	return PB_EIO;
}

/* A register's value: BCD (two digits 0-9) unless register B says
 * binary.  0 when it is not a valid number in that mode. */
static int
number(uint8_t v, int binary, unsigned *out)
{
	if (binary) {
		*out = v;
		return 1;
	}
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return 0;
	*out = (v >> 4) * 10u + (v & 0x0fu);
	return 1;
}

/* The hour register: 0-23, or in 12-hour mode 1-12 with PM in bit 7
 * (12 AM is midnight, 12 PM noon). */
static int
hour_of(uint8_t v, uint8_t b, unsigned *h)
{
	int binary = (b & REG_B_DM) != 0;

	if (b & REG_B_24H)
		return number(v, binary, h) && *h <= 23;
	if (!number(v & (uint8_t)~HOUR_PM, binary, h) || *h < 1 || *h > 12)
		return 0;
	*h = *h % 12 + ((v & HOUR_PM) ? 12 : 0);
	return 1;
}

static int
bad(const char *what, uint8_t v, const char **why)
{
	rt_snprintf(why_buf, sizeof(why_buf), "%s register reads 0x%02x: "
	    "not a valid value", what, v);
	*why = why_buf;
	return PB_EIO;
}

int
cmos_decode(const struct cmos_raw *r, int have_century, struct rtc_time *t,
    int *century_bad, const char **why)
{
	int binary = (r->b & REG_B_DM) != 0;
	unsigned sec, min, hour, day, mon, year, century = 20;

	*century_bad = 0;
	if (!number(r->sec, binary, &sec) || sec > 59)
		return bad("seconds", r->sec, why);
	if (!number(r->min, binary, &min) || min > 59)
		return bad("minutes", r->min, why);
	if (!hour_of(r->hour, r->b, &hour))
		return bad("hours", r->hour, why);
	if (!number(r->year, binary, &year) || year > 99)
		return bad("year", r->year, why);
	if (!number(r->mon, binary, &mon) || mon < 1 || mon > 12)
		return bad("month", r->mon, why);
	/* The FADT may name a byte that is not the century after all:
	 * then 20xx, as without one. */
	if (have_century && (!number(r->century, binary, &century) ||
	    century < 19 || century > 99)) {
		*century_bad = 1;
		century = 20;
	}
	year += century * 100;
	if (!number(r->day, binary, &day) || day < 1 ||
	    day > days_in(year, mon))
		return bad("day of month", r->day, why);
	*t = (struct rtc_time){ .year = (uint16_t)year, .month = (uint8_t)mon,
	    .day = (uint8_t)day, .hour = (uint8_t)hour, .minute = (uint8_t)min,
	    .second = (uint8_t)sec, .utc = 1 };
	return PB_OK;
}
