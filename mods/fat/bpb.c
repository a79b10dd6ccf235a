/*
 * bpb.c - the boot sector's BIOS Parameter Block, checked field by field
 * before anything else is read (spec "Boot Sector and BPB"), and turned
 * into struct fat_geom.  The FAT type is decided by the count of data
 * clusters alone (spec "FAT Type Determination"): < 4085 is FAT12,
 * < 65525 FAT16, anything else FAT32.  A BPB whose layout disagrees with
 * that type (FAT32 fields on a volume with FAT16's cluster count) is
 * refused rather than guessed at.
 */
#include "fat.h"

#define REFUSE(...) \
	do { \
		rt_snprintf(why, cap, __VA_ARGS__); \
		return PB_ECORRUPT; \
	} while (0)

static int
pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

const char *
fat_type_name(int type)
{
	return type == FAT12 ? "fat12" : type == FAT16 ? "fat16" : "fat32";
}

static void
copy_label(char *dst, const char *src)
{
	int n = 11;

	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	for (int i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '_';
	dst[n] = '\0';
}

/* What the FAT holds must cover every cluster (spec "FAT Type
 * Determination": FATSz is computed from the cluster count). */
static uint64_t
fat_bytes_needed(int type, uint32_t clusters)
{
	uint64_t entries = (uint64_t)clusters + 2;

	if (type == FAT12)
		return (entries * 3 + 1) / 2;
	return entries * (type == FAT16 ? 2 : 4);
}

static int
check_fat32(const struct bpb_ext32 *x, struct fat_geom *g, char *why,
    size_t cap)
{
	if (x->fs_ver != 0)
		REFUSE("FAT32 version %u.%u is not 0.0", x->fs_ver >> 8,
		    x->fs_ver & 0xff);
	if (x->root_clus < 2 || x->root_clus - 2 >= g->clusters)
		REFUSE("root cluster %u outside 2..%u", x->root_clus,
		    g->clusters + 1);
	g->root_cluster = x->root_clus;
	/* FSInfo lives in the reserved area; 0 or FFFF mean none. */
	g->fsinfo = x->fs_info != 0xffff && x->fs_info != 0 &&
	    x->fs_info < g->fat_start ? x->fs_info : 0;
	if (x->ext_flags & EXT_FLAGS_NOMIRROR) {
		g->mirror = 0;
		g->active_fat = x->ext_flags & 0xf;
		if (g->active_fat >= g->nfats)
			REFUSE("active FAT %u of %u", g->active_fat, g->nfats);
	}
	g->serial = x->boot_sig == 0x29 ? x->vol_id : 0;
	if (x->boot_sig == 0x29)
		copy_label(g->label, x->vol_lab);
	return PB_OK;
}

int
bpb_parse(const uint8_t *sec, size_t len, struct fat_geom *g, char *why,
    size_t cap)
{
	struct bpb_common b;
	struct bpb_ext16 x16;
	struct bpb_ext32 x32;
	uint32_t fatsz, total, root_sectors, meta;
	uint64_t fat_end;

	memset(g, 0, sizeof(*g));
	if (len < 512)
		REFUSE("boot sector of %u bytes", (unsigned)len);
	memcpy(&b, sec, sizeof(b));
	memcpy(&x16, sec + BPB_EXT_OFF, sizeof(x16));
	memcpy(&x32, sec + BPB_EXT_OFF, sizeof(x32));
	if (!(sec[0] == 0xeb && sec[2] == 0x90) && sec[0] != 0xe9)
		REFUSE("no boot jump (%02x %02x %02x)", sec[0], sec[1], sec[2]);
	if (sec[BPB_SIG_OFF] != 0x55 || sec[BPB_SIG_OFF + 1] != 0xaa)
		REFUSE("no 55 AA signature");
	if (!pow2(b.bytes_per_sec) || b.bytes_per_sec < 512 ||
	    b.bytes_per_sec > 4096)
		REFUSE("bytes per sector %u (512..4096, a power of two)",
		    b.bytes_per_sec);
	if (!pow2(b.sec_per_clus) || b.sec_per_clus > 128)
		REFUSE("sectors per cluster %u (a power of two, 1..128)",
		    b.sec_per_clus);
	if ((uint32_t)b.sec_per_clus * b.bytes_per_sec > 65536)
		REFUSE("cluster of %u bytes (64 KiB at most)",
		    (uint32_t)b.sec_per_clus * b.bytes_per_sec);
	if (b.rsvd_sec_cnt == 0)
		REFUSE("no reserved sectors");
	if (b.num_fats == 0 || b.num_fats > 4)
		REFUSE("%u FATs", b.num_fats);
	if (b.media != 0xf0 && b.media < 0xf8)
		REFUSE("media byte %02x", b.media);

	total = b.tot_sec16 ? b.tot_sec16 : b.tot_sec32;
	fatsz = b.fat_sz16 ? b.fat_sz16 : x32.fat_sz32;
	if (total == 0)
		REFUSE("total sectors 0");
	if (fatsz == 0)
		REFUSE("FAT size 0");
	root_sectors = ((uint32_t)b.root_ent_cnt * DIRENT_SIZE +
	    b.bytes_per_sec - 1) / b.bytes_per_sec;
	fat_end = b.rsvd_sec_cnt + (uint64_t)b.num_fats * fatsz;
	if (fat_end + root_sectors >= total)
		REFUSE("FATs and root (%llu sectors) fill the volume (%u)",
		    (unsigned long long)(fat_end + root_sectors), total);
	meta = (uint32_t)fat_end + root_sectors;

	g->bps = b.bytes_per_sec;
	g->spc = b.sec_per_clus;
	g->cluster_bytes = g->bps * g->spc;
	g->nfats = b.num_fats;
	g->mirror = 1;
	g->fat_start = b.rsvd_sec_cnt;
	g->fat_sectors = fatsz;
	g->root_start = (uint32_t)fat_end;
	g->root_sectors = root_sectors;
	g->root_entries = b.root_ent_cnt;
	g->data_start = meta;
	g->total_sectors = total;
	g->clusters = (total - meta) / g->spc;
	if (g->clusters == 0)
		REFUSE("no data cluster");
	if (g->clusters <= FAT12_MAX_CLUSTERS)
		g->type = FAT12;
	else if (g->clusters <= FAT16_MAX_CLUSTERS)
		g->type = FAT16;
	else
		g->type = FAT32;
	if (g->type == FAT32 && g->clusters > FAT32_MAX_CLUSTERS - 2)
		g->clusters = FAT32_MAX_CLUSTERS - 2;
	if ((uint64_t)fatsz * g->bps < fat_bytes_needed(g->type, g->clusters))
		REFUSE("FAT of %u sectors too small for %u clusters", fatsz,
		    g->clusters);

	if (g->type == FAT32) {
		if (b.root_ent_cnt != 0 || b.fat_sz16 != 0)
			REFUSE("FAT32 by cluster count (%u) with a FAT12/16 "
			    "layout", g->clusters);
		return check_fat32(&x32, g, why, cap);
	}
	if (b.root_ent_cnt == 0)
		REFUSE("%s by cluster count (%u) with no root directory",
		    fat_type_name(g->type), g->clusters);
	g->serial = x16.boot_sig == 0x29 ? x16.vol_id : 0;
	if (x16.boot_sig == 0x29)
		copy_label(g->label, x16.vol_lab);
	return PB_OK;
}
