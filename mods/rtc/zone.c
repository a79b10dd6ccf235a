/*
 * zone.c - from local time to UTC (see zone.h).  Pure arithmetic on the
 * fields of struct rtc_time, host-tested: an offset of at most a day
 * moves the date by at most one day, across a month's or a year's end.
 */
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"
#include "zone.h"

unsigned
days_in(unsigned year, unsigned month)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[month - 1] + (month == 2 && leap);
}

/* n decimal digits at s into *v. */
static int
digits(const char *s, unsigned n, int *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* "+HHMM" and "+HH:MM" (a sign first), else a number of minutes. */
int
zone_parse(const char *s, int *minutes)
{
	int has_sign = *s == '+' || *s == '-';
	int sign = *s == '-' ? -1 : 1;
	int h, m, v;
	size_t n;

	s += has_sign;
	n = strlen(s);
	if (has_sign && ((n == 4 && digits(s, 2, &h) && digits(s + 2, 2, &m)) ||
	    (n == 5 && s[2] == ':' && digits(s, 2, &h) &&
	    digits(s + 3, 2, &m)))) {
		if (m > 59)
			return PB_EINVAL;
		v = h * 60 + m;
	} else if (n < 1 || n > 4 || !digits(s, (unsigned)n, &v))
		return PB_EINVAL;
	if (v > ZONE_MAX_MINUTES)
		return PB_EINVAL;
	*minutes = sign * v;
	return PB_OK;
}

void
zone_text(int minutes, char *buf, size_t cap)
{
	int a = minutes < 0 ? -minutes : minutes;

	rt_snprintf(buf, cap, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60,
	    a % 60);
}

/* One day later or earlier: the month and year follow. */
static void
next_day(struct rtc_time *t)
{
	if (t->day < days_in(t->year, t->month)) {
		t->day++;
		return;
	}
	t->day = 1;
	if (t->month < 12) {
		t->month++;
		return;
	}
	t->month = 1;
	t->year++;
}

static void
previous_day(struct rtc_time *t)
{
	if (t->day > 1) {
		t->day--;
		return;
	}
	if (t->month > 1)
		t->month--;
	else {
		t->month = 12;
		t->year--;
	}
	t->day = (uint8_t)days_in(t->year, t->month);
}

void
zone_to_utc(struct rtc_time *t, int offset)
{
	int m = t->hour * 60 + t->minute - offset;

	while (m < 0) {
		m += 24 * 60;
		previous_day(t);
	}
	while (m >= 24 * 60) {
		m -= 24 * 60;
		next_day(t);
	}
	t->hour = (uint8_t)(m / 60);
	t->minute = (uint8_t)(m % 60);
	t->utc = 1;
}
