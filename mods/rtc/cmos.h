/*
 * cmos.h - the PC's real-time clock, a Motorola MC146818A (or one of the
 * chipset clones of it), behind index port 0x70 and data port 0x71.
 *
 * Register numbers and bits are the MC146818A data sheet's ("Address
 * Map", "Register A", "Register B"); the century byte is not the chip's
 * but a CMOS RAM byte whose index the FADT gives (CENTURY, ACPI 6.5
 * §5.2.9, Table 5.9).
 */
#ifndef RTC_CMOS_H
#define RTC_CMOS_H

#include <stdint.h>

#include "../../abi/rtc.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71

enum cmos_reg {
	CMOS_SECONDS = 0x00,
	CMOS_MINUTES = 0x02,
	CMOS_HOURS = 0x04,
	CMOS_DAY = 0x07,		/* day of the month */
	CMOS_MONTH = 0x08,
	CMOS_YEAR = 0x09,		/* 0-99 */
	CMOS_REG_A = 0x0a,
	CMOS_REG_B = 0x0b,
};

/* Register A */
#define REG_A_UIP	0x80	/* update in progress: the time is changing */
#define REG_A_DV_MASK	0x70	/* divider: 010 is the 32.768 kHz time base */
#define REG_A_DV_32K	0x20
/* Register B */
#define REG_B_SET	0x80	/* updates stopped (someone sets the clock) */
#define REG_B_DM	0x04	/* data mode: 1 binary, 0 BCD */
#define REG_B_24H	0x02	/* 1: 24-hour, 0: 12-hour with PM in bit 7 */
#define HOUR_PM		0x80	/* 12-hour mode: afternoon */

/* UIP is set 244 us before an update, which lasts at most 1984 us. */
#define CMOS_UIP_NS	(10ull * 1000 * 1000)
#define CMOS_READS	5	/* reads until two agree */

/* One reading of the registers, as the chip gave them. */
struct cmos_raw {
	uint8_t sec, min, hour, day, mon, year, century;
	uint8_t b;		/* register B */
};

/* Read the clock: wait for no update in progress (bounded), read, read
 * again until two readings agree.  century_reg 0: none.  PB_OK,
 * PB_ETIMEDOUT (UIP never cleared), PB_EIO (clock stopped or never
 * steady), with *why telling. */
int cmos_read(uint8_t century_reg, uint64_t (*now_ns)(void),
    struct cmos_raw *r, const char **why);
/* Raw registers into a time, checking every field: PB_OK, or PB_EIO
 * with *why naming the first bad one.  *century_bad set when the century
 * byte was unusable and 20xx was assumed. */
int cmos_decode(const struct cmos_raw *r, int have_century,
    struct rtc_time *t, int *century_bad, const char **why);

#endif
