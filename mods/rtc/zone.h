/*
 * zone.h - local time and UTC: the calendar arithmetic that turns a clock
 * kept in local time into UTC, and the offsets that say how far apart
 * they are (zone.c).  Offsets are minutes east of UTC (local - UTC), as
 * ISO 8601 writes them: +0100 is Central Europe in winter.
 */
#ifndef RTC_ZONE_H
#define RTC_ZONE_H

#include "../../abi/rtc.h"

#define ZONE_MAX_MINUTES 1440	/* a day either way, as UEFI allows */

/* Days in the month (1-12) of that year, leap years counted. */
unsigned days_in(unsigned year, unsigned month);
/* boot.cfg's tz=: "+HHMM", "-HH:MM", or minutes ("-300").  PB_OK and
 * *minutes, or PB_EINVAL. */
int zone_parse(const char *s, int *minutes);
/* "+01:00" into buf (at least 7 bytes). */
void zone_text(int minutes, char *buf, size_t cap);
/* t (local time, `offset` minutes east of UTC) becomes UTC: the day,
 * month and year follow the hours across midnight. */
void zone_to_utc(struct rtc_time *t, int offset);

#endif
