/*
 * mkgpt - wrap a FAT image into a bootable GPT disk image.
 *
 *   mkgpt OUT.img ESP.img [--size-mib N] [--seed N]
 *
 * The result holds a protective MBR, the primary GPT (header at LBA 1,
 * 128 entries of 128 bytes at LBA 2..33), one EFI System Partition
 * starting at LBA 2048 (1 MiB) that holds ESP.img byte for byte, and the
 * backup entries and header in the last 33 sectors.  It can be written
 * to a USB stick with dd and booted by UEFI firmware.
 *
 * Layouts follow UEFI Specification 2.10, chapter 5:
 *   §5.2.3  Protective MBR
 *   §5.3.2  GPT Header
 *   §5.3.3  GPT Partition Entry Array
 *   Appendix A  EFI GUID format (mixed-endian binary encoding)
 *
 * Every multi-byte field is stored through put_le*() into byte arrays, so
 * the on-disk layout does not depend on the host's endianness or on
 * structure padding; the _Static_asserts pin sizes and offsets.
 *
 * Plain C99 plus _Static_assert (C11), libc only.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR		512u
#define MIB		(1024u * 1024u)
#define ENTRY_COUNT	128u
#define ENTRY_SIZE	128u
/* 128 * 128 bytes = 32 sectors of entries */
#define ENTRY_SECTORS	(ENTRY_COUNT * ENTRY_SIZE / SECTOR)
#define ESP_FIRST_LBA	2048u	/* 1 MiB: the usual alignment for flash */
#define GPT_HEADER_SIZE	92u

/* UEFI 2.10 §5.2.1 / §5.2.3: one of the four MBR partition records. */
struct mbr_part {
	uint8_t boot_indicator;
	uint8_t start_chs[3];
	uint8_t os_type;
	uint8_t end_chs[3];
	uint8_t start_lba[4];
	uint8_t size_lba[4];
};
_Static_assert(sizeof(struct mbr_part) == 16, "MBR partition record is 16 bytes");
_Static_assert(offsetof(struct mbr_part, os_type) == 4, "OSType at 4");
_Static_assert(offsetof(struct mbr_part, start_lba) == 8, "StartingLBA at 8");
_Static_assert(offsetof(struct mbr_part, size_lba) == 12, "SizeInLBA at 12");

/* UEFI 2.10 §5.2.3: the protective MBR in LBA 0. */
struct mbr {
	uint8_t boot_code[440];
	uint8_t disk_signature[4];
	uint8_t unknown[2];
	struct mbr_part part[4];
	uint8_t signature[2];
};
_Static_assert(sizeof(struct mbr) == SECTOR, "MBR is one sector");
_Static_assert(offsetof(struct mbr, part) == 446, "partition records at 446");
_Static_assert(offsetof(struct mbr, signature) == 510, "boot signature at 510");

/* UEFI 2.10 §5.3.2: the GPT header (HeaderSize = 92). */
struct gpt_header {
	uint8_t signature[8];		/* "EFI PART" */
	uint8_t revision[4];		/* 0x00010000 */
	uint8_t header_size[4];
	uint8_t header_crc32[4];	/* computed with this field zeroed */
	uint8_t reserved[4];
	uint8_t my_lba[8];
	uint8_t alternate_lba[8];
	uint8_t first_usable_lba[8];
	uint8_t last_usable_lba[8];
	uint8_t disk_guid[16];
	uint8_t partition_entry_lba[8];
	uint8_t number_of_partition_entries[4];
	uint8_t size_of_partition_entry[4];
	uint8_t partition_entry_array_crc32[4];
};
_Static_assert(sizeof(struct gpt_header) == GPT_HEADER_SIZE, "GPT header is 92 bytes");
_Static_assert(offsetof(struct gpt_header, header_crc32) == 16, "HeaderCRC32 at 16");
_Static_assert(offsetof(struct gpt_header, my_lba) == 24, "MyLBA at 24");
_Static_assert(offsetof(struct gpt_header, disk_guid) == 56, "DiskGUID at 56");
_Static_assert(offsetof(struct gpt_header, partition_entry_lba) == 72,
	"PartitionEntryLBA at 72");
_Static_assert(offsetof(struct gpt_header, partition_entry_array_crc32) == 88,
	"PartitionEntryArrayCRC32 at 88");

/* UEFI 2.10 §5.3.3: one GPT partition entry. */
struct gpt_entry {
	uint8_t type_guid[16];
	uint8_t unique_guid[16];
	uint8_t starting_lba[8];
	uint8_t ending_lba[8];		/* inclusive */
	uint8_t attributes[8];
	uint8_t name[72];		/* 36 UTF-16LE code units */
};
_Static_assert(sizeof(struct gpt_entry) == ENTRY_SIZE, "GPT entry is 128 bytes");
_Static_assert(offsetof(struct gpt_entry, starting_lba) == 32, "StartingLBA at 32");
_Static_assert(offsetof(struct gpt_entry, attributes) == 48, "Attributes at 48");
_Static_assert(offsetof(struct gpt_entry, name) == 56, "PartitionName at 56");

/* Where everything goes, in sectors. */
struct layout {
	uint64_t total;		/* sectors on the disk */
	uint64_t last;		/* last LBA: backup header */
	uint64_t backup_entries;	/* first LBA of backup entry array */
	uint64_t first_usable;
	uint64_t last_usable;
	uint64_t esp_first;
	uint64_t esp_last;
};

static const char *out_path;
static FILE *out_file;

/* errno text, or a fallback where the C library left errno unset. */
static const char *why(void)
{
	return errno ? strerror(errno) : "I/O error";
}

/* One line, then exit; a half-written image is worse than none. */
_Noreturn static void die(const char *fmt, const char *arg, const char *reason)
{
	fprintf(stderr, "mkgpt: error: ");
	fprintf(stderr, fmt, arg);
	if (reason)
		fprintf(stderr, ": %s", reason);
	fputc('\n', stderr);
	if (out_file) {
		fclose(out_file);
		remove(out_path);
	}
	exit(1);
}

_Noreturn static void usage(void)
{
	fprintf(stderr, "usage: mkgpt OUT.img ESP.img [--size-mib N] [--seed N]\n");
	exit(1);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* CRC-32 as the spec requires (§5.3.2): reflected, poly 0xEDB88320. */
static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* FNV-1a: cheap fingerprint of the ESP, the default GUID seed. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001B3ull;
	}
	return h;
}

/* splitmix64: tiny, well-mixed PRNG; same seed -> same GUIDs. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/*
 * A random (version 4, RFC 4122 variant) GUID in its on-disk form.
 * Appendix A: Data1..Data3 are little-endian, so the version nibble
 * (top of Data3) lives in byte 7; Data4 is a plain byte array, so the
 * variant bits are the top of byte 8.
 */
static void random_guid(uint8_t g[16], uint64_t *state)
{
	put_le64(g, next_random(state));
	put_le64(g + 8, next_random(state));
	g[7] = (uint8_t)((g[7] & 0x0F) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3F) | 0x80);
}

/* Encode a GUID given as its textual fields (Appendix A mixed endian). */
static void make_guid(uint8_t g[16], uint32_t d1, uint16_t d2, uint16_t d3,
		      uint16_t d4_hi, uint64_t d4_lo48)
{
	put_le32(g, d1);
	put_le16(g + 4, d2);
	put_le16(g + 6, d3);
	/* Data4 (the last two groups of the text) is stored big-endian. */
	g[8] = (uint8_t)(d4_hi >> 8);
	g[9] = (uint8_t)d4_hi;
	for (int i = 0; i < 6; i++)
		g[10 + i] = (uint8_t)(d4_lo48 >> (40 - 8 * i));
}

static void write_bytes(const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, out_file) != len)
		die("short write to %s", out_path, why());
}

static void write_zero_sectors(uint64_t count)
{
	static const uint8_t zero[64 * 1024];

	while (count) {
		uint64_t n = count < sizeof zero / SECTOR ? count : sizeof zero / SECTOR;

		write_bytes(zero, (size_t)n * SECTOR);
		count -= n;
	}
}

static void seek_to_lba(uint64_t lba)
{
	uint64_t off = lba * SECTOR;

	/* fseek takes a long; refuse rather than wrap on 32-bit hosts. */
	if (off > (uint64_t)LONG_MAX)
		die("%s: disk too large for this host's fseek", out_path, NULL);
	if (fseek(out_file, (long)off, SEEK_SET) != 0)
		die("cannot seek in %s", out_path, why());
}

/*
 * CHS address of an LBA in the conventional 255-head, 63-sector
 * geometry; 0xFFFFFF when it does not fit, as §5.2.3 asks.  Firmware
 * ignores CHS, but old partitioning tools check it.
 */
static void put_chs(uint8_t chs[3], uint64_t lba)
{
	uint64_t cyl = lba / (255 * 63);
	unsigned head = (unsigned)(lba / 63 % 255);
	unsigned sec = (unsigned)(lba % 63) + 1;

	if (cyl > 1023) {
		memset(chs, 0xFF, 3);
		return;
	}
	chs[0] = (uint8_t)head;
	chs[1] = (uint8_t)(sec | ((cyl >> 8) << 6));
	chs[2] = (uint8_t)cyl;
}

/* UEFI 2.10 §5.2.3: one record of type 0xEE covering LBA 1..end. */
static void build_mbr(struct mbr *m, const struct layout *l)
{
	struct mbr_part *p = &m->part[0];
	uint64_t size = l->total - 1;

	memset(m, 0, sizeof *m);
	put_chs(p->start_chs, 1);	/* 0x000200, as the spec asks */
	p->os_type = 0xEE;
	put_chs(p->end_chs, l->last);
	put_le32(p->start_lba, 1);
	put_le32(p->size_lba, size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)size);
	m->signature[0] = 0x55;
	m->signature[1] = 0xAA;
}

/* UEFI 2.10 §5.3.3: the only entry, the EFI System Partition. */
static void build_entries(struct gpt_entry e[ENTRY_COUNT],
			  const struct layout *l, uint64_t *rng)
{
	static const char name[] = "EFI System";

	memset(e, 0, ENTRY_COUNT * sizeof *e);
	/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B, §5.3.3 */
	make_guid(e[0].type_guid, 0xC12A7328u, 0xF81Fu, 0x11D2u,
		  0xBA4Bu, 0x00A0C93EC93Bull);
	random_guid(e[0].unique_guid, rng);
	put_le64(e[0].starting_lba, l->esp_first);
	put_le64(e[0].ending_lba, l->esp_last);
	put_le64(e[0].attributes, 0);
	for (size_t i = 0; i < sizeof name - 1; i++)
		put_le16(e[0].name + 2 * i, (uint16_t)(unsigned char)name[i]);
}

/*
 * UEFI 2.10 §5.3.2.  The primary and the backup differ only in MyLBA,
 * AlternateLBA and PartitionEntryLBA; the CRC is taken over HeaderSize
 * bytes with the CRC field zero.
 */
static void build_header(struct gpt_header *h, const struct layout *l,
			 const uint8_t disk_guid[16], uint32_t entries_crc,
			 int backup)
{
	memset(h, 0, sizeof *h);
	memcpy(h->signature, "EFI PART", 8);
	put_le32(h->revision, 0x00010000u);
	put_le32(h->header_size, GPT_HEADER_SIZE);
	put_le64(h->my_lba, backup ? l->last : 1);
	put_le64(h->alternate_lba, backup ? 1 : l->last);
	put_le64(h->first_usable_lba, l->first_usable);
	put_le64(h->last_usable_lba, l->last_usable);
	memcpy(h->disk_guid, disk_guid, 16);
	put_le64(h->partition_entry_lba, backup ? l->backup_entries : 2);
	put_le32(h->number_of_partition_entries, ENTRY_COUNT);
	put_le32(h->size_of_partition_entry, ENTRY_SIZE);
	put_le32(h->partition_entry_array_crc32, entries_crc);
	put_le32(h->header_crc32, crc32_update(0, h, GPT_HEADER_SIZE));
}

/* A header occupies a whole sector; the rest of it must be zero. */
static void write_header_sector(const struct gpt_header *h)
{
	uint8_t sector[SECTOR];

	memset(sector, 0, sizeof sector);
	memcpy(sector, h, sizeof *h);
	write_bytes(sector, sizeof sector);
}

/* Size of the ESP image in bytes; must fill whole sectors. */
static uint64_t esp_size(FILE *f, const char *path)
{
	long size = -1;

	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0)
		die("cannot get the size of %s", path, why());
	if (fseek(f, 0, SEEK_SET) != 0)
		die("cannot seek in %s", path, why());
	if (size == 0)
		die("%s is empty", path, NULL);
	if (size % SECTOR != 0)
		die("size of %s is not a multiple of 512 bytes", path, NULL);
	return (uint64_t)size;
}

/*
 * The backup array and header take the last 33 sectors (§5.3.1), so the
 * ESP must end at or before total - 34.
 */
static void plan_layout(struct layout *l, uint64_t esp_bytes, uint64_t size_mib)
{
	uint64_t esp_sectors = esp_bytes / SECTOR;
	uint64_t need = ESP_FIRST_LBA + esp_sectors + 1 + ENTRY_SECTORS;

	if (size_mib == 0)	/* default: ESP + 2 MiB, rounded up to MiB */
		size_mib = (esp_bytes + 2ull * MIB + MIB - 1) / MIB;
	if (size_mib > UINT64_MAX / MIB)
		die("%s is too large", "--size-mib", NULL);
	l->total = size_mib * MIB / SECTOR;
	if (l->total < need) {
		char msg[64];

		snprintf(msg, sizeof msg, "%llu", (unsigned long long)
			 ((need * SECTOR + MIB - 1) / MIB));
		die("disk size too small for the ESP: need at least %s MiB",
		    msg, NULL);
	}
	l->last = l->total - 1;
	l->backup_entries = l->last - ENTRY_SECTORS;
	l->first_usable = 2 + ENTRY_SECTORS;
	l->last_usable = l->backup_entries - 1;
	l->esp_first = ESP_FIRST_LBA;
	l->esp_last = ESP_FIRST_LBA + esp_sectors - 1;
}

/* Copy the ESP into the partition, fingerprinting it on the way. */
static uint64_t copy_esp(FILE *esp, const char *path, uint64_t bytes)
{
	static uint8_t buf[1024 * 1024];
	uint64_t hash = 0xCBF29CE484222325ull;

	while (bytes) {
		size_t want = bytes < sizeof buf ? (size_t)bytes : sizeof buf;
		size_t got = fread(buf, 1, want, esp);

		if (got != want)
			die("short read from %s", path,
			    ferror(esp) ? why() : "file shrank");
		hash = fnv1a(hash, buf, got);
		write_bytes(buf, got);
		bytes -= got;
	}
	return hash;
}

static uint64_t parse_number(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("%s needs a non-negative number", opt, NULL);
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	const char *esp_path = NULL;
	uint64_t size_mib = 0, seed = 0, hash, rng;
	int have_seed = 0;
	static struct gpt_entry entries[ENTRY_COUNT];
	struct gpt_header primary, backup;
	struct mbr mbr;
	struct layout l;
	uint8_t disk_guid[16];
	uint32_t entries_crc;
	FILE *esp;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size-mib") && i + 1 < argc) {
			size_mib = parse_number("--size-mib", argv[++i]);
			if (size_mib == 0)
				die("%s must be at least 1", "--size-mib", NULL);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = parse_number("--seed", argv[++i]);
			have_seed = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			usage();
		} else if (!out_path) {
			out_path = argv[i];
		} else if (!esp_path) {
			esp_path = argv[i];
		} else {
			usage();
		}
	}
	if (!out_path || !esp_path)
		usage();
	if (!strcmp(out_path, esp_path))
		die("output and ESP are the same file: %s", out_path, NULL);

	esp = fopen(esp_path, "rb");
	if (!esp)
		die("cannot open %s", esp_path, why());
	plan_layout(&l, esp_size(esp, esp_path), size_mib);

	out_file = fopen(out_path, "wb");
	if (!out_file)
		die("cannot create %s", out_path, why());

	/*
	 * Stream the disk front to back: placeholder for LBA 0..2047, the
	 * ESP, the gap.  Only then are the GUIDs known (the default seed
	 * is the ESP's fingerprint), so the GPT is filled in afterwards.
	 */
	write_zero_sectors(l.esp_first);
	hash = copy_esp(esp, esp_path, (l.esp_last - l.esp_first + 1) * SECTOR);
	fclose(esp);
	write_zero_sectors(l.backup_entries - l.esp_last - 1);

	rng = have_seed ? seed : hash;
	random_guid(disk_guid, &rng);
	build_entries(entries, &l, &rng);
	entries_crc = crc32_update(0, entries, sizeof entries);
	build_header(&primary, &l, disk_guid, entries_crc, 0);
	build_header(&backup, &l, disk_guid, entries_crc, 1);
	build_mbr(&mbr, &l);

	/* §5.3.1: backup entries, then the backup header in the last LBA. */
	write_bytes(entries, sizeof entries);
	write_header_sector(&backup);

	seek_to_lba(0);
	write_bytes(&mbr, sizeof mbr);
	write_header_sector(&primary);
	write_bytes(entries, sizeof entries);

	if (fflush(out_file) != 0 || ferror(out_file))
		die("cannot write %s", out_path, why());
	if (fclose(out_file) != 0) {
		const char *reason = why();

		out_file = NULL;
		remove(out_path);
		die("cannot write %s", out_path, reason);
	}
	return 0;
}
