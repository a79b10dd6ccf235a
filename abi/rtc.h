/*
 * rtc.h - interface `rtc` 1.0: wall-clock time.
 */
#ifndef PB_ABI_RTC_H
#define PB_ABI_RTC_H

#include <stdint.h>

#define RTC_IFACE "rtc"
#define RTC_MAJOR 1
#define RTC_MINOR 0

struct rtc_time {
	uint16_t year;		/* e.g. 2026 */
	uint8_t month, day;	/* 1-12, 1-31 */
	uint8_t hour, minute, second;
	uint8_t utc;		/* 1: UTC; 0: local time of unknown zone */
	uint32_t nanosecond;
};

struct rtc_ops {
	int (*get_time)(void *ctx, struct rtc_time *t);
	/* Where the time comes from: "cmos" or "uefi". */
	const char *(*source)(void *ctx);
};

#endif
