/*
 * fatfmt.h - the FAT on-disk format (Microsoft "FAT: General Overview of
 * On-Disk Format" 1.03, cited as "spec" with its section names), all
 * little-endian.  Structures are read from and written to sector buffers
 * with memcpy, never through unaligned pointers.
 */
#ifndef FAT_FATFMT_H
#define FAT_FATFMT_H

#include <stdint.h>

/* The BPB, sector 0 of the volume (spec "Boot Sector and BPB"). */
struct bpb_common {
	uint8_t jmp[3];			/* EB xx 90 or E9 xx xx */
	char oem[8];
	uint16_t bytes_per_sec;		/* BPB_BytsPerSec: 512..4096 */
	uint8_t sec_per_clus;		/* BPB_SecPerClus: power of two */
	uint16_t rsvd_sec_cnt;		/* BPB_RsvdSecCnt: not 0 */
	uint8_t num_fats;		/* BPB_NumFATs */
	uint16_t root_ent_cnt;		/* BPB_RootEntCnt: 0 on FAT32 */
	uint16_t tot_sec16;		/* BPB_TotSec16 */
	uint8_t media;			/* BPB_Media: F0, F8-FF */
	uint16_t fat_sz16;		/* BPB_FATSz16: 0 on FAT32 */
	uint16_t sec_per_trk;
	uint16_t num_heads;
	uint32_t hidd_sec;
	uint32_t tot_sec32;		/* BPB_TotSec32 */
} __attribute__((packed));
_Static_assert(sizeof(struct bpb_common) == 36, "BPB layout");

/* FAT12/16 continue at offset 36 (spec "Extended BPB for FAT12/16"). */
struct bpb_ext16 {
	uint8_t drv_num;
	uint8_t reserved1;
	uint8_t boot_sig;		/* 0x29: the next three are valid */
	uint32_t vol_id;
	char vol_lab[11];
	char fil_sys_type[8];
} __attribute__((packed));
_Static_assert(sizeof(struct bpb_ext16) == 26, "BPB16 layout");

/* FAT32 continues at offset 36 (spec "Extended BPB for FAT32"). */
struct bpb_ext32 {
	uint32_t fat_sz32;		/* BPB_FATSz32 */
	uint16_t ext_flags;		/* bit 7: one active FAT, bits 0-3 */
	uint16_t fs_ver;		/* must be 0.0 */
	uint32_t root_clus;		/* BPB_RootClus */
	uint16_t fs_info;		/* BPB_FSInfo: sector of FSInfo */
	uint16_t bk_boot_sec;
	uint8_t reserved[12];
	uint8_t drv_num;
	uint8_t reserved1;
	uint8_t boot_sig;
	uint32_t vol_id;
	char vol_lab[11];
	char fil_sys_type[8];
} __attribute__((packed));
_Static_assert(sizeof(struct bpb_ext32) == 54, "BPB32 layout");

#define BPB_SIG_OFF	510		/* 0x55 0xAA */
#define BPB_EXT_OFF	36
#define EXT_FLAGS_NOMIRROR 0x80u	/* only FAT (ext_flags & 0xf) active */

/* FSInfo (spec "FSInfo Sector Structure"). */
struct fsinfo {
	uint32_t lead_sig;		/* 0x41615252 */
	uint8_t reserved1[480];
	uint32_t struc_sig;		/* 0x61417272 */
	uint32_t free_count;		/* 0xFFFFFFFF: unknown */
	uint32_t nxt_free;		/* 0xFFFFFFFF: unknown */
	uint8_t reserved2[12];
	uint32_t trail_sig;		/* 0xAA550000 */
} __attribute__((packed));
_Static_assert(sizeof(struct fsinfo) == 512, "FSInfo layout");

#define FSI_LEAD_SIG	0x41615252u
#define FSI_STRUC_SIG	0x61417272u
#define FSI_TRAIL_SIG	0xAA550000u
#define FSI_UNKNOWN	0xFFFFFFFFu

/* Cluster count limits: the type is decided by them and nothing else
 * (spec "FAT Type Determination"). */
#define FAT12_MAX_CLUSTERS 4084		/* < 4085 */
#define FAT16_MAX_CLUSTERS 65524	/* < 65525 */
#define FAT32_MAX_CLUSTERS 0x0FFFFFF5u	/* 28-bit entries, below BAD */

/* FAT entries (spec "FAT Data Structure").  End of chain is any value
 * >= EOC_MIN; BAD marks a bad cluster.  FAT32 entries are 28 bits: the
 * top four are kept as they were when one is written. */
#define FAT12_EOC_MIN	0xFF8u
#define FAT16_EOC_MIN	0xFFF8u
#define FAT32_EOC_MIN	0x0FFFFFF8u
#define FAT32_MASK	0x0FFFFFFFu

/* FAT[1]'s volume flags (spec "FAT Volume Initialization"): set means
 * clean / no error.  FAT12 has none. */
#define FAT16_CLEAN	0x8000u
#define FAT16_NOERR	0x4000u
#define FAT32_CLEAN	0x08000000u
#define FAT32_NOERR	0x04000000u

/* A short (8.3) directory entry (spec "Directory Structure"). */
struct dirent83 {
	uint8_t name[11];		/* DIR_Name: 8 + 3, space padded */
	uint8_t attr;			/* ATTR_* */
	uint8_t nt_res;			/* NTRES_LOWER_* (Windows NT case) */
	uint8_t crt_time_tenth;		/* 0-199: tens of milliseconds */
	uint16_t crt_time;
	uint16_t crt_date;
	uint16_t lst_acc_date;
	uint16_t fst_clus_hi;		/* FAT32 only */
	uint16_t wrt_time;
	uint16_t wrt_date;
	uint16_t fst_clus_lo;
	uint32_t file_size;
} __attribute__((packed));
_Static_assert(sizeof(struct dirent83) == 32, "dirent layout");

/* A long-name entry (spec "Long File Name Implementation"). */
struct direntlfn {
	uint8_t ord;			/* 1..20, LFN_LAST on the first */
	uint16_t name1[5];
	uint8_t attr;			/* ATTR_LONG_NAME */
	uint8_t type;			/* 0 */
	uint8_t chksum;			/* of the short entry's name */
	uint16_t name2[6];
	uint16_t fst_clus_lo;		/* 0 */
	uint16_t name3[2];
} __attribute__((packed));
_Static_assert(sizeof(struct direntlfn) == 32, "LFN layout");

#define DIRENT_SIZE	32
#define LFN_CHARS	13		/* UCS-2 units per LFN entry */
#define LFN_MAX_ENTRIES	20
#define LFN_MAX_UNITS	255
#define LFN_LAST	0x40u
#define DIR_MAX_ENTRIES	65536		/* spec: a directory is <= 2 MiB */

#define ATTR_READ_ONLY	0x01u
#define ATTR_HIDDEN	0x02u
#define ATTR_SYSTEM	0x04u
#define ATTR_VOLUME_ID	0x08u
#define ATTR_DIRECTORY	0x10u
#define ATTR_ARCHIVE	0x20u
#define ATTR_LONG_NAME	0x0Fu
#define ATTR_LONG_MASK	0x3Fu

#define NTRES_LOWER_BASE 0x08u
#define NTRES_LOWER_EXT	0x10u

#define DIR_FREE	0xE5u		/* name[0] of a deleted entry */
#define DIR_END		0x00u		/* name[0]: this and all after free */
#define DIR_KANJI_E5	0x05u		/* name[0] standing for 0xE5 */

#endif
