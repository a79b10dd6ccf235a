/*
 * ondisk.h - the partition tables as they lie on the disk: the legacy MBR
 * and extended boot records (UEFI 2.10 §5.2.1), the protective MBR
 * (§5.2.3), the GPT header (§5.3.2) and partition entry (§5.3.3).
 * Every field is little-endian; the parsers copy a structure out of the
 * sector with memcpy before reading it, so nothing depends on alignment.
 */
#ifndef PB_GPT_ONDISK_H
#define PB_GPT_ONDISK_H

#include <stddef.h>
#include <stdint.h>

/* §5.2.1 Legacy MBR: four records at byte 446, the signature at 510. */
#define MBR_DISK_SIG_OFF 440	/* UniqueMBRDiskSignature */
#define MBR_ENTRY_OFF 446
#define MBR_SIG_OFF 510
#define MBR_SIG0 0x55
#define MBR_SIG1 0xaa

struct mbr_entry {
	uint8_t boot;		/* BootIndicator: 0x80 or 0x00 */
	uint8_t chs_first[3];
	uint8_t type;		/* OSType */
	uint8_t chs_last[3];
	uint32_t first;		/* StartingLBA */
	uint32_t count;		/* SizeInLBA */
} __attribute__((packed));
_Static_assert(sizeof(struct mbr_entry) == 16, "mbr_entry layout");
_Static_assert(offsetof(struct mbr_entry, first) == 8, "StartingLBA at 8");

#define MBR_TYPE_PROTECTIVE 0xee	/* §5.2.3: a GPT follows */
#define MBR_TYPE_ESP 0xef

/* Extended partitions whose EBR chain holds the logical ones. */
static inline int
mbr_type_extended(uint8_t t)
{
	return t == 0x05 || t == 0x0f || t == 0x85;
}

/* FAT12/16/32 types, CHS and LBA variants: candidates for a FAT driver. */
static inline int
mbr_type_fat(uint8_t t)
{
	return t == 0x01 || t == 0x04 || t == 0x06 || t == 0x0b ||
	    t == 0x0c || t == 0x0e;
}

/* §5.3.2 GPT Header, at LBA 1 and (the backup) at the disk's last LBA. */
#define GPT_SIGNATURE "EFI PART"
#define GPT_HEADER_MIN 92	/* HeaderSize: at least this, at most a block */

struct gpt_header {
	char signature[8];
	uint32_t revision;
	uint32_t header_size;
	uint32_t header_crc;	/* over HeaderSize bytes with itself zeroed */
	uint32_t reserved;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable;
	uint64_t last_usable;
	uint8_t disk_guid[16];
	uint64_t entry_lba;	/* PartitionEntryLBA */
	uint32_t nentries;	/* NumberOfPartitionEntries */
	uint32_t entry_size;	/* SizeOfPartitionEntry: 128 * 2^n */
	uint32_t entries_crc;	/* over nentries * entry_size bytes */
} __attribute__((packed));
_Static_assert(sizeof(struct gpt_header) == GPT_HEADER_MIN, "gpt_header");
_Static_assert(offsetof(struct gpt_header, header_crc) == 16, "HeaderCRC32");
_Static_assert(offsetof(struct gpt_header, my_lba) == 24, "MyLBA at 24");
_Static_assert(offsetof(struct gpt_header, entry_lba) == 72, "EntryLBA");
_Static_assert(offsetof(struct gpt_header, entries_crc) == 88, "ArrayCRC");

/* §5.3.3 GPT Partition Entry: the first 128 bytes of each entry. */
#define GPT_ENTRY_MIN 128
#define GPT_NAME_UNITS 36	/* PartitionName: UTF-16LE code units */

struct gpt_entry {
	uint8_t type[16];	/* PartitionTypeGUID; all zero: unused */
	uint8_t uuid[16];	/* UniquePartitionGUID */
	uint64_t first;		/* StartingLBA */
	uint64_t last;		/* EndingLBA, inclusive */
	uint64_t attributes;
	uint16_t name[GPT_NAME_UNITS];
} __attribute__((packed));
_Static_assert(sizeof(struct gpt_entry) == GPT_ENTRY_MIN, "gpt_entry");
_Static_assert(offsetof(struct gpt_entry, name) == 56, "PartitionName");

/* Partition types a file system driver looks for (§5.3.3 Table 5-7). */
#define GPT_TYPE_ESP "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define GPT_TYPE_BASIC_DATA "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"

#endif
