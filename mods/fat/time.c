/*
 * time.c - timestamps (spec "Date and Time Formats"): the date as
 * year-1980, month, day in 7+4+5 bits; the time as hours, minutes and
 * seconds/2 in 5+6+5 bits; creation adds tens of milliseconds.  They come
 * from the `rtc` provider when there is one, else 1980-01-01 00:00.
 */
#include "fat.h"

#define FAT_DATE_1980_01_01 ((1u << 5) | 1u)

void
fat_now(struct fat_stamp *s)
{
	struct rtc_time t;

	s->date = FAT_DATE_1980_01_01;
	s->time = 0;
	s->tenth = 0;
	if (!fm.rtc || PB_CALL(fm.rtc, rtc_ops, get_time, &t) != PB_OK)
		return;
	if (t.year < 1980 || t.year > 2107 || t.month < 1 || t.month > 12 ||
	    t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 ||
	    t.second > 59)
		return;
	s->date = (uint16_t)((t.year - 1980) << 9 | t.month << 5 | t.day);
	s->time = (uint16_t)(t.hour << 11 | t.minute << 5 | t.second / 2);
	s->tenth = (uint8_t)((t.second & 1) * 100 + t.nanosecond / 10000000u);
}

/* A file's entry after a change: written now, archive bit set. */
void
dent_touch(struct dirent83 *e)
{
	struct fat_stamp s;

	fat_now(&s);
	e->wrt_date = s.date;
	e->wrt_time = s.time;
	e->lst_acc_date = s.date;
	e->attr |= ATTR_ARCHIVE;
}

void
fat_time_decode(uint16_t date, uint16_t time, struct fs_time *t)
{
	memset(t, 0, sizeof(*t));
	if (date == 0)
		return;			/* not recorded */
	t->year = (uint16_t)(1980 + (date >> 9));
	t->month = (uint8_t)(date >> 5 & 0xf);
	t->day = (uint8_t)(date & 0x1f);
	t->hour = (uint8_t)(time >> 11);
	t->minute = (uint8_t)(time >> 5 & 0x3f);
	t->second = (uint8_t)((time & 0x1f) * 2);
}
