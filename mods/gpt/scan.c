/*
 * scan.c - the scan's state machine (scan.h): what to read next, where
 * each block goes, the checks every partition passes whatever table it
 * came from, and a synchronous driver for tests and tools.
 */
#include "scan.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

void
scan_note(struct scan *s, int level, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	if (s->nlogged == SCAN_LOG_MAX) {
		s->nunlogged++;
		return;
	}
	s->nlogged++;
	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->log)
		s->log(s->log_arg, level, line);
}

void
scan_want(struct scan *s, int state, uint64_t lba, uint32_t count)
{
	s->state = state;
	s->lba = lba;
	s->count = count;
}

/* No usable table: the disk is left alone, for the reason given. */
void
scan_none(struct scan *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	s->nparts = 0;
	s->kind = SCAN_NONE;
	s->state = ST_DONE;
}

void
scan_init(struct scan *s, uint32_t bs, uint64_t nblocks, scan_log_fn log,
    void *log_arg)
{
	memset(s, 0, sizeof(*s));
	s->bs = bs;
	s->nblocks = nblocks;
	s->log = log;
	s->log_arg = log_arg;
	s->next_logical = 5;
	if (bs < 512 || bs > SCAN_BS_MAX || (bs & (bs - 1)))
		scan_none(s, "block size %u is not a power of two from 512 "
		    "to %u", bs, SCAN_BS_MAX);
	else if (nblocks == 0)
		scan_none(s, "no medium (0 blocks)");
	else	/* the MBR and, if there is one, the primary GPT header */
		scan_want(s, ST_MBR, 0, nblocks > 1 ? 2 : 1);
}

int
scan_next(const struct scan *s, uint64_t *lba, uint32_t *count)
{
	if (s->state == ST_DONE)
		return 0;
	*lba = s->lba;
	*count = s->count;
	return 1;
}

size_t
scan_read_max(uint32_t bs)
{
	size_t two = 2 * (size_t)bs;

	return two > GPT_ARRAY_MAX ? two : GPT_ARRAY_MAX;
}

void
scan_feed(struct scan *s, const uint8_t *data, int status)
{
	if (status >= 0 && !data)
		status = PB_EINVAL;
	switch (s->state) {
	case ST_MBR:
		if (status < 0)
			scan_none(s, "cannot read LBA 0 (error %d)", status);
		else
			mbr_take(s, data);
		break;
	case ST_GPT_ENTRIES:
		if (status < 0)
			gpt_fall_back(s, "entry array unreadable");
		else
			gpt_take_entries(s, data);
		break;
	case ST_GPT_BACKUP:
		if (status < 0)
			scan_none(s, "no valid GPT: primary %s, backup "
			    "unreadable (error %d)", s->primary_why, status);
		else
			gpt_take_header(s, data, s->nblocks - 1);
		break;
	case ST_EBR:
		if (status < 0) {
			scan_note(s, PB_LOG_WARN, "cannot read the EBR at LBA "
			    "%llu (error %d): its chain ends",
			    (unsigned long long)s->lba, status);
			mbr_next_extended(s);
		} else
			mbr_take_ebr(s, data);
		break;
	}
}

/* Does p lie within [lo, hi]?  If not it is refused, with one line. */
int
scan_check_range(struct scan *s, const struct part *p, uint64_t lo,
    uint64_t hi, const char *what)
{
	if (p->first > p->last) {
		scan_note(s, PB_LOG_WARN, "partition %u: ends (LBA %llu) "
		    "before it begins (LBA %llu); refused", p->num,
		    (unsigned long long)p->last, (unsigned long long)p->first);
	} else if (p->first < lo || p->last > hi) {
		scan_note(s, PB_LOG_WARN, "partition %u: LBAs %llu-%llu lie "
		    "outside %s (%llu-%llu); refused", p->num,
		    (unsigned long long)p->first, (unsigned long long)p->last,
		    what, (unsigned long long)lo, (unsigned long long)hi);
	} else
		return 1;
	s->nrefused++;
	return 0;
}

void
scan_add(struct scan *s, const struct part *p)
{
	if (s->nparts == PART_MAX) {
		s->ndropped++;
		return;
	}
	s->parts[s->nparts++] = *p;
}

static int
overlap(const struct part *a, const struct part *b)
{
	return a->first <= b->last && b->first <= a->last;
}

/* Partitions that share blocks are refused, both of each pair: which one
 * is right cannot be told, and writing either would damage the other. */
static void
refuse_overlaps(struct scan *s)
{
	uint8_t bad[PART_MAX] = { 0 };
	unsigned n = 0;

	for (unsigned i = 0; i < s->nparts; i++)
		for (unsigned k = i + 1; k < s->nparts; k++)
			if (overlap(&s->parts[i], &s->parts[k])) {
				scan_note(s, PB_LOG_WARN, "partitions %u and "
				    "%u overlap; both refused",
				    s->parts[i].num, s->parts[k].num);
				bad[i] = bad[k] = 1;
			}
	for (unsigned i = 0; i < s->nparts; i++) {
		if (bad[i]) {
			s->nrefused++;
			continue;
		}
		if (n != i)
			s->parts[n] = s->parts[i];
		n++;
	}
	s->nparts = n;
}

void
scan_finish(struct scan *s, int kind)
{
	refuse_overlaps(s);
	if (s->ndropped)
		scan_note(s, PB_LOG_WARN, "%u partitions beyond the first %u "
		    "are not published", s->ndropped, PART_MAX);
	if (s->nunlogged && s->log) {
		char line[80];

		rt_snprintf(line, sizeof(line), "%u more problems not logged",
		    s->nunlogged);
		s->log(s->log_arg, PB_LOG_WARN, line);
	}
	s->kind = kind;
	s->state = ST_DONE;
}

int
scan_disk(struct scan *s, scan_read_fn read, void *arg, void *buf, size_t cap)
{
	uint64_t lba;
	uint32_t count;

	while (scan_next(s, &lba, &count)) {
		int r = (size_t)count * s->bs > cap ? PB_ENOMEM :
		    read(arg, lba, count, buf);

		scan_feed(s, r < 0 ? NULL : buf, r < 0 ? r : PB_OK);
	}
	return s->kind;
}
