/*
 * mbrparse.c - the MBR steps of a scan (UEFI 2.10 §5.2.1): the four
 * primary records, or a protective MBR that hands the scan to the GPT
 * (§5.2.3), then the chain of extended boot records of each extended
 * partition.  Each EBR holds a logical partition (relative to the EBR)
 * and a link to the next EBR (relative to the extended partition); the
 * walk is bounded by EBR_MAX and never visits an EBR twice.  Logical
 * partitions are numbered from 5, as Linux and Windows do.
 */
#include "scan.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

static int
has_signature(const uint8_t *blk)
{
	return blk[MBR_SIG_OFF] == MBR_SIG0 && blk[MBR_SIG_OFF + 1] == MBR_SIG1;
}

/* The partition a record describes, from LBA base on; 0 if it is empty
 * (refused with a line). */
static int
record_part(struct scan *s, const struct mbr_entry *e, uint32_t num,
    uint64_t base, struct part *p)
{
	memset(p, 0, sizeof(*p));
	p->num = num;
	p->mbr_type = e->type;
	if (e->count == 0) {
		scan_note(s, PB_LOG_WARN, "partition %u: zero length; refused",
		    num);
		s->nrefused++;
		return 0;
	}
	p->first = base + e->first;
	p->last = p->first + e->count - 1;
	return 1;
}

/* Note an EBR as visited: 0 if it was already, or the walk is too long. */
static int
ebr_visit(struct scan *s, uint64_t lba)
{
	for (unsigned i = 0; i < s->nebr; i++)
		if (s->ebr_seen[i] == lba) {
			scan_note(s, PB_LOG_WARN, "extended partitions loop "
			    "back to the EBR at LBA %llu: the chain ends",
			    (unsigned long long)lba);
			return 0;
		}
	if (s->nebr == EBR_MAX) {
		scan_note(s, PB_LOG_WARN, "more than %u EBRs: the chain ends",
		    EBR_MAX);
		return 0;
	}
	s->ebr_seen[s->nebr++] = lba;
	return 1;
}

/* Walk the next extended partition among the primaries, or finish. */
void
mbr_next_extended(struct scan *s)
{
	while (s->ext_slot < 4) {
		const struct mbr_entry *e = &s->prim[s->ext_slot++];
		uint64_t end = (uint64_t)e->first + e->count;

		if (!mbr_type_extended(e->type))
			continue;
		if (e->first == 0 || e->count == 0 || end > s->nblocks) {
			scan_note(s, PB_LOG_WARN, "extended partition %u: LBAs "
			    "%u+%u do not lie on the disk; its logical "
			    "partitions are not read", s->ext_slot, e->first,
			    e->count);
			s->nrefused++;
			continue;
		}
		s->ext_first = e->first;
		s->ext_end = end;
		if (ebr_visit(s, e->first)) {
			scan_want(s, ST_EBR, e->first, 1);
			return;
		}
	}
	scan_finish(s, SCAN_MBR);
}

/* LBA 0 (and 1, where a GPT header would be). */
void
mbr_take(struct scan *s, const uint8_t *blk)
{
	struct part p;
	unsigned used = 0;

	if (!has_signature(blk)) {
		scan_none(s, "no partition table (no 0x55AA signature)");
		return;
	}
	memcpy(&s->disk_sig, blk + MBR_DISK_SIG_OFF, 4);
	memcpy(s->prim, blk + MBR_ENTRY_OFF, sizeof(s->prim));
	for (unsigned i = 0; i < 4; i++)
		if (s->prim[i].type == MBR_TYPE_PROTECTIVE) {
			if (s->count < 2)
				scan_none(s, "protective MBR on a one-block "
				    "disk");
			else
				gpt_take_header(s, blk + s->bs, 1);
			return;
		}
	for (unsigned i = 0; i < 4; i++) {
		/* A boot sector without a table (a FAT "superfloppy")
		 * has code here, not boot indicators. */
		if (s->prim[i].boot != 0 && s->prim[i].boot != 0x80) {
			scan_none(s, "not a partition table (record %u has "
			    "boot indicator 0x%02x)", i + 1, s->prim[i].boot);
			return;
		}
		used += s->prim[i].type != 0;
	}
	if (!used) {
		scan_none(s, "an MBR without partitions");
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		const struct mbr_entry *e = &s->prim[i];

		if (e->type == 0 || mbr_type_extended(e->type) ||
		    !record_part(s, e, i + 1, 0, &p))
			continue;
		if (scan_check_range(s, &p, 1, s->nblocks - 1, "the disk"))
			scan_add(s, &p);
	}
	mbr_next_extended(s);
}

/* One EBR of the chain being walked, read at s->lba. */
void
mbr_take_ebr(struct scan *s, const uint8_t *blk)
{
	uint64_t here = s->lba, next;
	struct mbr_entry e[2];
	struct part p;

	if (!has_signature(blk)) {
		scan_note(s, PB_LOG_WARN, "EBR at LBA %llu has no 0x55AA "
		    "signature: the chain ends", (unsigned long long)here);
		mbr_next_extended(s);
		return;
	}
	memcpy(e, blk + MBR_ENTRY_OFF, sizeof(e));
	if (e[0].type != 0) {
		uint32_t num = s->next_logical++;

		if (mbr_type_extended(e[0].type)) {
			scan_note(s, PB_LOG_WARN, "partition %u: an extended "
			    "type in an EBR's first record; refused", num);
			s->nrefused++;
		} else if (record_part(s, &e[0], num, here, &p) &&
		    scan_check_range(s, &p, here + 1, s->ext_end - 1,
		    "its extended partition"))
			scan_add(s, &p);
	}
	if (mbr_type_extended(e[1].type) && e[1].first != 0) {
		next = s->ext_first + e[1].first;
		if (next >= s->ext_end)
			scan_note(s, PB_LOG_WARN, "EBR at LBA %llu links to "
			    "LBA %llu, outside its extended partition: the "
			    "chain ends", (unsigned long long)here,
			    (unsigned long long)next);
		else if (ebr_visit(s, next)) {
			scan_want(s, ST_EBR, next, 1);
			return;
		}
	}
	mbr_next_extended(s);
}
