/*
 * scan.h - reading a disk's partition table, with no I/O of its own.
 *
 * A scan is a state machine over the disk's blocks: it says which blocks
 * it wants next (scan_next), is handed them (scan_feed), and ends with
 * the partitions it found, checked, or with the reason it found none.
 * The module feeds it from asynchronous block requests; the host tests and
 * the fuzzer feed it from an image in memory (scan_disk).  The steps:
 *
 *   LBA 0-1     the MBR and what may be the primary GPT header
 *   GPT         protective MBR: the header's entry array, both CRC32s
 *               checked; a damaged primary sends the scan to the backup
 *               header at the disk's last LBA and its own array
 *   MBR         the four primary records, then each extended partition's
 *               chain of EBRs (bounded, with a visited set)
 *
 * Every problem is one line through the log callback (at most
 * SCAN_LOG_MAX, then one line saying how many more); a bad entry is
 * refused and the others kept; a disk with no usable table is left alone
 * with the reason in `why`, for the caller's one line.  Nothing is read
 * outside the blocks handed in, however the table lies.
 */
#ifndef PB_GPT_SCAN_H
#define PB_GPT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ondisk.h"

#define PART_MAX 128		/* partitions kept per disk */
#define PART_NAME_MAX 112	/* 36 UTF-16 units as UTF-8, and the NUL */
#define GPT_ARRAY_MAX (256u * 1024)	/* bytes of entry array read */
#define GPT_ENTRY_MAX 4096	/* SizeOfPartitionEntry beyond this: absurd */
#define EBR_MAX 128		/* EBRs walked per disk */
#define SCAN_BS_MAX 65536	/* block sizes from 512 to this */
#define SCAN_LOG_MAX 16

enum scan_kind { SCAN_NONE = 0, SCAN_GPT = 1, SCAN_MBR = 2 };

/* One partition found. */
struct part {
	uint32_t num;		/* GPT: entry index + 1; MBR: slot 1-4, 5.. */
	uint64_t first, last;	/* LBAs, inclusive */
	uint8_t type[16];	/* GPT PartitionTypeGUID, as on disk */
	uint8_t uuid[16];	/* GPT UniquePartitionGUID */
	uint8_t mbr_type;	/* MBR OSType (0 on GPT) */
	char name[PART_NAME_MAX];	/* GPT PartitionName as UTF-8 */
};

typedef void (*scan_log_fn)(void *arg, int level, const char *msg);

struct scan {
	/* The disk. */
	uint32_t bs;
	uint64_t nblocks;
	scan_log_fn log;
	void *log_arg;
	unsigned nlogged, nunlogged;

	/* The blocks wanted next (state != ST_DONE). */
	int state;
	uint64_t lba;
	uint32_t count;

	/* GPT: the header in use, and why the primary was not. */
	struct gpt_header hdr;
	int backup;
	char primary_why[64];

	/* MBR: the records, and the extended partition being walked. */
	uint32_t disk_sig;
	struct mbr_entry prim[4];
	unsigned ext_slot;
	uint64_t ext_first, ext_end;	/* [first, end) */
	uint64_t ebr_seen[EBR_MAX];
	unsigned nebr;
	uint32_t next_logical;

	/* The result. */
	int kind;		/* enum scan_kind */
	char why[96];		/* SCAN_NONE: why the disk is left alone */
	unsigned nparts;	/* accepted, in parts[] */
	unsigned nrefused;	/* entries refused (each logged) */
	unsigned ndropped;	/* valid entries beyond PART_MAX */
	struct part parts[PART_MAX];
};

/* Begin a scan of a disk of nblocks blocks of bs bytes. */
void scan_init(struct scan *s, uint32_t bs, uint64_t nblocks, scan_log_fn log,
    void *log_arg);
/* The blocks wanted next: 1 with *lba and *count set, 0 when done. */
int scan_next(const struct scan *s, uint64_t *lba, uint32_t *count);
/* Hand in the blocks scan_next asked for (count * bs bytes), or a read's
 * error (status < 0, data NULL). */
void scan_feed(struct scan *s, const uint8_t *data, int status);
/* The largest read a scan asks for, in bytes. */
size_t scan_read_max(uint32_t bs);

/* A whole scan over a synchronous reader, for tests and tools: buf holds
 * cap bytes (scan_read_max(bs) is always enough).  Returns s->kind. */
typedef int (*scan_read_fn)(void *arg, uint64_t lba, uint32_t count,
    void *buf);
int scan_disk(struct scan *s, scan_read_fn read, void *arg, void *buf,
    size_t cap);

/* gptparse.c and mbrparse.c: the steps. */
void gpt_take_header(struct scan *s, const uint8_t *blk, uint64_t lba);
void gpt_take_entries(struct scan *s, const uint8_t *array);
void gpt_fall_back(struct scan *s, const char *why);
void mbr_take(struct scan *s, const uint8_t *blk);
void mbr_take_ebr(struct scan *s, const uint8_t *blk);
void mbr_next_extended(struct scan *s);

/* scan.c: what the steps share. */
enum scan_state { ST_MBR = 1, ST_GPT_ENTRIES, ST_GPT_BACKUP, ST_EBR, ST_DONE };
void scan_note(struct scan *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void scan_want(struct scan *s, int state, uint64_t lba, uint32_t count);
void scan_none(struct scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int scan_check_range(struct scan *s, const struct part *p, uint64_t lo,
    uint64_t hi, const char *what);
void scan_add(struct scan *s, const struct part *p);
void scan_finish(struct scan *s, int kind);

/* The CRC-32 UEFI uses for the header and entry array (§5.3.2) is
 * IEEE 802.3's: abi/rt's rt_crc32. */
uint32_t rt_crc32(uint32_t crc, const void *buf, size_t len);

/* names.c: text forms. */
void guid_text(const uint8_t g[16], char out[37]);
size_t utf16le_to_prop(const uint8_t *src, unsigned units, char *dst,
    size_t cap);

#endif
