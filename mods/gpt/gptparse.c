/*
 * gptparse.c - the GPT steps of a scan (UEFI 2.10 §5.3): check a header,
 * then its entry array; a damaged primary sends the scan to the backup at
 * the disk's last LBA (§5.3.2: "If the primary GPT is corrupt, software
 * must check the last LBA of the device to see if it has a valid GPT
 * Header and point to a valid GPT Partition Entry Array").
 */
#include "scan.h"
#include "../../abi/pb.h"
#include "../../abi/rt/rt.h"

static uint64_t
array_bytes(const struct gpt_header *h)
{
	return (uint64_t)h->nentries * h->entry_size;
}

static uint64_t
array_blocks(const struct scan *s, const struct gpt_header *h)
{
	return (array_bytes(h) + s->bs - 1) / s->bs;
}

static uint32_t
header_crc(const uint8_t *blk, uint32_t size)
{
	static const uint8_t zero[4];
	uint32_t crc = rt_crc32(0, blk, 16);

	crc = rt_crc32(crc, zero, 4);
	return rt_crc32(crc, blk + 20, size - 20);
}

/* Is the entry array where a header may put it: on the disk, clear of
 * the header itself and of the blocks partitions may use? */
static const char *
array_problem(const struct scan *s, const struct gpt_header *h, uint64_t lba)
{
	uint64_t end = h->entry_lba + array_blocks(s, h);	/* exclusive */

	if (h->entry_lba == 0 || h->entry_lba >= s->nblocks ||
	    end > s->nblocks)
		return "entry array lies past the disk";
	if (lba >= h->entry_lba && lba < end)
		return "entry array covers the header";
	if (h->entry_lba <= h->last_usable && end > h->first_usable)
		return "entry array overlaps the usable blocks";
	return NULL;
}

/* Why the header in blk (read at lba) cannot be used, into why; 0 if it
 * can, with the header in *h.  blk holds one block. */
static int
header_problem(const struct scan *s, const uint8_t *blk, uint64_t lba,
    struct gpt_header *h, char *why, size_t cap)
{
	const char *fixed = NULL;
	uint32_t crc;

	memcpy(h, blk, sizeof(*h));
	if (memcmp(h->signature, GPT_SIGNATURE, 8) != 0) {
		fixed = "has no EFI PART signature";
	} else if (h->header_size < GPT_HEADER_MIN || h->header_size > s->bs) {
		rt_snprintf(why, cap, "HeaderSize %u out of range (%u-%u)",
		    h->header_size, GPT_HEADER_MIN, s->bs);
		return 1;
	} else if ((crc = header_crc(blk, h->header_size)) != h->header_crc) {
		rt_snprintf(why, cap, "header CRC %08x, computed %08x",
		    h->header_crc, crc);
		return 1;
	} else if (h->my_lba != lba) {
		rt_snprintf(why, cap, "MyLBA %llu, read at LBA %llu",
		    (unsigned long long)h->my_lba, (unsigned long long)lba);
		return 1;
	} else if (h->first_usable > h->last_usable) {
		fixed = "FirstUsableLBA > LastUsableLBA";
	} else if (h->last_usable >= s->nblocks) {
		fixed = "LastUsableLBA lies past the disk";
	} else if (h->first_usable == 0 ||
	    (lba >= h->first_usable && lba <= h->last_usable)) {
		fixed = "usable blocks cover the MBR or the header";
	} else if (h->entry_size < GPT_ENTRY_MIN ||
	    h->entry_size > GPT_ENTRY_MAX ||
	    (h->entry_size & (h->entry_size - 1))) {
		rt_snprintf(why, cap, "SizeOfPartitionEntry %u is not 128*2^n "
		    "up to %u", h->entry_size, GPT_ENTRY_MAX);
		return 1;
	} else if (h->nentries == 0 || array_bytes(h) > GPT_ARRAY_MAX) {
		rt_snprintf(why, cap, "%u entries of %u bytes (at most %u "
		    "bytes)", h->nentries, h->entry_size, GPT_ARRAY_MAX);
		return 1;
	} else
		fixed = array_problem(s, h, lba);
	if (!fixed)
		return 0;
	rt_strlcpy(why, fixed, cap);
	return 1;
}

/* The primary (header or array) is damaged: try the backup, once.  One
 * line says what became of the disk, when that is known: the backup's
 * table used, or the disk left alone with both reasons. */
void
gpt_fall_back(struct scan *s, const char *why)
{
	if (s->backup) {
		scan_none(s, "no valid GPT: primary %s, backup %s",
		    s->primary_why, why);
		return;
	}
	rt_strlcpy(s->primary_why, why, sizeof(s->primary_why));
	if (s->nblocks < 3) {
		scan_none(s, "no valid GPT: primary %s, and no room for a "
		    "backup", why);
		return;
	}
	scan_want(s, ST_GPT_BACKUP, s->nblocks - 1, 1);
}

/* A header read at lba (1, or the last LBA for the backup). */
void
gpt_take_header(struct scan *s, const uint8_t *blk, uint64_t lba)
{
	struct gpt_header h;
	char why[64];

	if (header_problem(s, blk, lba, &h, why, sizeof(why))) {
		if (lba == 1)
			gpt_fall_back(s, why);
		else
			scan_none(s, "no valid GPT: primary %s, backup %s",
			    s->primary_why, why);
		return;
	}
	s->hdr = h;
	s->backup = lba != 1;
	scan_want(s, ST_GPT_ENTRIES, h.entry_lba,
	    (uint32_t)array_blocks(s, &h));
}

static int
guid_zero(const uint8_t g[16])
{
	for (unsigned i = 0; i < 16; i++)
		if (g[i])
			return 0;
	return 1;
}

/* The entry array of the header in use: CRC, then every used entry. */
void
gpt_take_entries(struct scan *s, const uint8_t *array)
{
	const struct gpt_header *h = &s->hdr;
	uint32_t crc = rt_crc32(0, array, (size_t)array_bytes(h));

	if (crc != h->entries_crc) {
		char why[64];

		rt_snprintf(why, sizeof(why), "entry array CRC %08x, computed "
		    "%08x", h->entries_crc, crc);
		gpt_fall_back(s, why);
		return;
	}
	if (s->backup)
		scan_note(s, PB_LOG_WARN, "primary GPT damaged (%s); the backup "
		    "at LBA %llu is good: its partitions are used",
		    s->primary_why, (unsigned long long)h->my_lba);
	for (uint32_t i = 0; i < h->nentries; i++) {
		const uint8_t *raw = array + (size_t)i * h->entry_size;
		struct gpt_entry e;
		struct part p;

		memcpy(&e, raw, sizeof(e));
		if (guid_zero(e.type))
			continue;	/* an unused entry */
		memset(&p, 0, sizeof(p));
		p.num = i + 1;
		p.first = e.first;
		p.last = e.last;
		memcpy(p.type, e.type, 16);
		memcpy(p.uuid, e.uuid, 16);
		utf16le_to_prop(raw + offsetof(struct gpt_entry, name),
		    GPT_NAME_UNITS, p.name, sizeof(p.name));
		if (scan_check_range(s, &p, h->first_usable, h->last_usable,
		    "the usable blocks"))
			scan_add(s, &p);
	}
	scan_finish(s, SCAN_GPT);
}
