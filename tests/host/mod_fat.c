/*
 * mod_fat.c - the fat module on FAT images that mkfs.fat and mtools make
 * in the test (tools/install-deps installs dosfstools and mtools), run
 * on fake disks (fatfake.h) through its `fs` and `module-source`
 * interfaces; what it writes is checked by `fsck.fat -n` and read back
 * with mtools.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "../../abi/pbmod.h"
#include "../../abi/rt/setting.c"

#include "../../mods/fat/bpb.c"
#include "../../mods/fat/cache.c"
#include "../../mods/fat/io.c"
#include "../../mods/fat/wb.c"
#include "../../mods/fat/table.c"
#include "../../mods/fat/name.c"
#include "../../mods/fat/dir.c"
#include "../../mods/fat/path.c"
#include "../../mods/fat/file.c"
#include "../../mods/fat/ops.c"
#include "../../mods/fat/run.c"
#include "../../mods/fat/mount.c"
#include "../../mods/fat/vol.c"
#include "../../mods/fat/handle.c"
#include "../../mods/fat/time.c"
#include "../../mods/fat/modsrc.c"
#include "../../mods/fat/state.c"
#undef PB_MODULE
#define PB_MODULE(...) const struct pb_modinfo fat_modinfo = { \
	.magic = PB_MODINFO_MAGIC, __VA_ARGS__ }
#include "../../mods/fat/fat.c"

#include "fatfake.h"

/* ---- images made by the host's tools ------------------------------- */

static char tmp[64];

static void
tmp_make(void)
{
	if (!tmp[0]) {
		snprintf(tmp, sizeof(tmp), "/tmp/pbfat.XXXXXX");
		if (!mkdtemp(tmp))
			tmp[0] = '\0';
		setenv("MTOOLS_SKIP_CHECK", "1", 1);
		setenv("MTOOLS_NO_VFAT", "", 1);
		unsetenv("MTOOLS_NO_VFAT");
	}
}

/* Run a shell command (printf-style); its exit status. */
static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run a command and keep its output in out. */
static int __attribute__((format(printf, 3, 4)))
sh_out(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!(p = popen(cmd, "r")))
		return -1;
	while (n + 1 < cap) {
		size_t k = fread(out + n, 1, cap - 1 - n, p);

		if (k == 0)
			break;
		n += k;
	}
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *
tpath(const char *name)
{
	static char buf[4][256];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmp, name);
	return buf[k];
}

/* Deterministic content: the byte at i of a file with seed s. */
static uint8_t
pattern(unsigned s, uint64_t i)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ull ^ s * 0xbf58476d1ce4e5b9ull;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static void
fill(uint8_t *buf, uint64_t len, unsigned s, uint64_t from)
{
	for (uint64_t i = 0; i < len; i++)
		buf[i] = pattern(s, from + i);
}

static int
host_file(const char *name, uint64_t len, unsigned seed)
{
	FILE *f = fopen(tpath(name), "wb");
	uint8_t buf[4096];

	if (!f)
		return 0;
	for (uint64_t off = 0; off < len; off += sizeof(buf)) {
		uint64_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		fill(buf, n, seed, off);
		fwrite(buf, 1, n, f);
	}
	return fclose(f) == 0;
}

static uint8_t *
load(const char *path, uint64_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (uint64_t)n;
	return buf;
}

static int
save(const char *path, const uint8_t *buf, uint64_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return 0;
	fwrite(buf, 1, len, f);
	return fclose(f) == 0;
}

/* mkfs.fat into tmp/img of kib KiB with args ("-F 32 -s 1"). */
static int
mkfs(const char *img, const char *args, unsigned kib)
{
	unlink(tpath(img));
	return sh("mkfs.fat -C %s %s %u >/dev/null 2>&1", args, tpath(img),
	    kib) == 0;
}

static int
mcopy_in(const char *img, const char *host, const char *fat)
{
	return sh("mcopy -i %s '%s' '::%s' >/dev/null 2>&1", tpath(img),
	    tpath(host), fat) == 0;
}

static int
mmd(const char *img, const char *dir)
{
	return sh("mmd -i %s '::%s' >/dev/null 2>&1", tpath(img), dir) == 0;
}

/* ---- mounting ------------------------------------------------------ */

static struct ff_disk *disk;
static struct pb_conn fsc;		/* the volume's fs connection */

/* Put image `img` on disk0 with props and start the module on it. */
static int
mount_props(const char *img, const char *props)
{
	uint64_t len;
	uint8_t *buf = load(tpath(img), &len);

	ff_reset();
	if (!buf)
		return 0;
	disk = ff_disk_add("disk0", buf, len, props);
	if (fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) != PB_OK)
		return 0;
	if (!ff_pump())
		return 0;
	for (unsigned i = 0; i < FF_RES; i++)
		if (ff_res[i].used && strcmp(ff_res[i].iface, "fs") == 0)
			return ff_fs_conn(ff_res[i].name, &fsc);
	return 0;
}

static int
mount_img(const char *img)
{
	return mount_props(img, "fat=1 disk=block:disk path=test/part:1");
}

/* Quiesce (write back, mark clean) and stop; the image goes back to
 * its file.  0 if the quiesce never finished. */
static int
unmount_to(const char *img)
{
	int r = PB_EAGAIN;

	for (int i = 0; i < 100 && r == PB_EAGAIN; i++) {
		r = fat_ops.quiesce(FF_SELF);
		ff_pump();
	}
	fat_ops.stop(FF_SELF);
	ff_pump();
	if (img && disk)
		save(tpath(img), disk->img, disk->bytes);
	return r == PB_OK;
}

/* fsck.fat -n finds nothing wrong. */
static int
fsck_clean(const char *img, char *out, size_t cap)
{
	return sh_out(out, cap, "fsck.fat -n %s 2>&1", tpath(img)) == 0;
}

/* The whole file at path through fs: malloc'd, its length in *len. */
static int
read_all(const char *path, uint8_t **data, uint64_t *len)
{
	struct fs_stat st;
	uint32_t h;
	uint64_t got;
	int r;

	*data = NULL;
	if ((r = ff_stat(&fsc, path, 0, &st)) != PB_OK)
		return r;
	if ((r = ff_open(&fsc, path, FS_O_READ, &h)) != PB_OK)
		return r;
	*data = malloc(st.size + 1);
	r = ff_read(&fsc, h, 0, *data, st.size + 1, &got);
	*len = got;
	ff_close(&fsc, h);
	if (r == PB_OK && got != st.size)
		r = PB_EIO;
	return r;
}

/* Does the file at fat path hold `len` bytes of pattern `seed`? */
static int
same_as_pattern(const char *path, uint64_t len, unsigned seed, char *why,
    size_t cap)
{
	uint8_t *data;
	uint64_t got;
	int r = read_all(path, &data, &got);

	if (r != PB_OK || got != len) {
		snprintf(why, cap, "%s: status %d, %llu bytes of %llu", path, r,
		    (unsigned long long)got, (unsigned long long)len);
		free(data);
		return 0;
	}
	for (uint64_t i = 0; i < len; i++)
		if (data[i] != pattern(seed, i)) {
			snprintf(why, cap, "%s: byte %llu differs", path,
			    (unsigned long long)i);
			free(data);
			return 0;
		}
	free(data);
	return 1;
}

/* Does mtools read the file at fat path as `len` bytes of seed? */
static int __attribute__((unused))
mtools_same(const char *img, const char *path, uint64_t len, unsigned seed)
{
	uint64_t got;
	uint8_t *data;
	int ok;

	unlink(tpath("out.bin"));
	if (sh("mcopy -n -i %s '::%s' %s >/dev/null 2>&1", tpath(img), path,
	    tpath("out.bin")) != 0)
		return 0;
	if (!(data = load(tpath("out.bin"), &got)))
		return 0;
	ok = got == len;
	for (uint64_t i = 0; ok && i < len; i++)
		ok = data[i] == pattern(seed, i);
	free(data);
	return ok;
}

/* The names in directory path, one per line, into out. */
static int
list_dir(const char *path, char *out, size_t cap, unsigned *count)
{
	struct fs_dirent *d = malloc(16 * sizeof(*d));
	uint32_t h;
	unsigned got;
	size_t n = 0;
	int r;

	*count = 0;
	out[0] = '\0';
	if ((r = ff_open(&fsc, path, FS_O_DIR, &h)) != PB_OK) {
		free(d);
		return r;
	}
	for (uint64_t off = FS_REWIND; ; off = FS_CURSOR) {
		if ((r = ff_readdir(&fsc, h, off, d, 16, &got)) != PB_OK ||
		    got == 0)
			break;
		for (unsigned i = 0; i < got; i++) {
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0,
			    "%s\n", d[i].name);
			(*count)++;
		}
	}
	ff_close(&fsc, h);
	free(d);
	return r;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* ---- BPB checks ----------------------------------------------------- */

/* A FAT16 boot sector of 16 MiB with 2 KiB clusters (mkfs.fat's own
 * choices), for the BPB checks to break one field at a time. */
static void
bpb16(uint8_t *s)
{
	struct bpb_common b = {
		.jmp = { 0xeb, 0x3c, 0x90 }, .oem = "mkfs.fat",
		.bytes_per_sec = 512, .sec_per_clus = 4, .rsvd_sec_cnt = 4,
		.num_fats = 2, .root_ent_cnt = 512, .tot_sec16 = 32768,
		.media = 0xf8, .fat_sz16 = 32,
	};
	struct bpb_ext16 x = { .boot_sig = 0x29, .vol_id = 0x12345678,
	    .vol_lab = "BPB TEST   ", .fil_sys_type = "FAT16   " };

	memset(s, 0, 512);
	memcpy(s, &b, sizeof(b));
	memcpy(s + BPB_EXT_OFF, &x, sizeof(x));
	s[510] = 0x55;
	s[511] = 0xaa;
}

TEST(fat_bpb_valid_and_type_by_cluster_count)
{
	uint8_t s[512];
	struct fat_geom g;
	char why[96] = "";

	bpb16(s);
	CHECK_EQ_INT(bpb_parse(s, sizeof(s), &g, why, sizeof(why)), PB_OK);
	CHECK_EQ_INT(g.type, FAT16);
	CHECK_EQ_INT(g.clusters, (32768 - 4 - 64 - 32) / 4);
	CHECK_EQ_INT(g.data_start, 4 + 64 + 32);
	CHECK_STR(g.label, "BPB TEST");
	/* The same layout with 8 KiB clusters has 4084 clusters: FAT12,
	 * whatever BS_FilSysType says. */
	s[13] = 16;
	CHECK_EQ_INT(bpb_parse(s, sizeof(s), &g, why, sizeof(why)), PB_OK);
	CHECK_EQ_INT(g.type, FAT12);
	CHECK_EQ_INT(g.clusters, (32768 - 100) / 16);
}

TEST(fat_bpb_refusals)
{
	static const struct {
		unsigned off, len;
		uint32_t val;
		const char *why;
	} bad[] = {
		{ 13, 1, 0, "sectors per cluster 0" },
		{ 13, 1, 3, "sectors per cluster 3" },
		{ 11, 2, 256, "bytes per sector 256" },
		{ 11, 2, 8192, "bytes per sector 8192" },
		{ 11, 2, 768, "bytes per sector 768" },
		{ 14, 2, 0, "no reserved sectors" },
		{ 16, 1, 0, "0 FATs" },
		{ 19, 2, 0, "total sectors 0" },
		{ 22, 2, 0, "fill the volume" },	/* FATSz32: vol_id */
		{ 22, 2, 20000, "fill the volume" },
		{ 22, 2, 8, "too small" },
		{ 21, 1, 0x12, "media byte" },
		{ 0, 1, 0, "no boot jump" },
		{ 510, 1, 0, "no 55 AA" },
		{ 17, 2, 0, "no root directory" },
	};
	uint8_t s[512];
	struct fat_geom g;
	char why[96];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bpb16(s);
		for (unsigned k = 0; k < bad[i].len; k++)
			s[bad[i].off + k] = (uint8_t)(bad[i].val >> (8 * k));
		why[0] = '\0';
		CHECK_MSG(bpb_parse(s, sizeof(s), &g, why, sizeof(why)) ==
		    PB_ECORRUPT, "case %u (%s) accepted", i, bad[i].why);
		CHECK_MSG(strstr(why, bad[i].why) != NULL, "case %u: \"%s\" "
		    "for %s", i, why, bad[i].why);
	}
	bpb16(s);
	memset(s + 22, 0, 2);
	memset(s + 36, 0, 4);		/* FATSz16 and FATSz32 both 0 */
	CHECK_EQ_INT(bpb_parse(s, sizeof(s), &g, why, sizeof(why)),
	    PB_ECORRUPT);
	CHECK_CONTAINS(why, "FAT size 0");
	bpb16(s);
	s[13] = 128;			/* 64 KiB clusters: the most there is */
	CHECK_EQ_INT(bpb_parse(s, sizeof(s), &g, why, sizeof(why)), PB_OK);
	s[12] = 4;			/* of 1 KiB sectors: 128 KiB */
	CHECK_EQ_INT(bpb_parse(s, sizeof(s), &g, why, sizeof(why)),
	    PB_ECORRUPT);
	CHECK_CONTAINS(why, "64 KiB at most");
}

/* ---- names ----------------------------------------------------------- */

TEST(fat_names_utf)
{
	uint16_t u[300];
	char back[800];
	unsigned n;
	size_t len;

	CHECK_EQ_INT(utf8_to_utf16("Grüße aus Köln.txt", strlen("Grüße aus "
	    "Köln.txt"), u, 255, &n), PB_OK);
	CHECK_EQ_INT(n, 18);
	CHECK_EQ_INT(u[2], 0xfc);
	CHECK_EQ_INT(utf16_to_utf8(u, n, back, sizeof(back), &len), PB_OK);
	CHECK_STR(back, "Grüße aus Köln.txt");
	CHECK_EQ_INT(utf8_to_utf16("\xf0\x9f\x98\x80", 4, u, 255, &n), PB_OK);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(u[0], 0xd83d);
	CHECK_EQ_INT(u[1], 0xde00);
	CHECK_EQ_INT(utf8_to_utf16("\xc0\xaf", 2, u, 255, &n), PB_EINVAL);
	CHECK_EQ_INT(utf8_to_utf16("\xed\xa0\x80", 3, u, 255, &n), PB_EINVAL);
	CHECK_EQ_INT(utf8_to_utf16("\xe6\x97", 2, u, 255, &n), PB_EINVAL);
	u[0] = 'a';
	u[1] = 0xd800;
	CHECK(!utf16_valid(u, 2));
	CHECK_EQ_INT(utf16_to_utf8(u, 2, back, sizeof(back), &len), PB_EINVAL);
	u[1] = 0xdc00;
	CHECK(!utf16_valid(u, 2));
}

static void
u16(const char *s, uint16_t *u, unsigned *n)
{
	utf8_to_utf16(s, strlen(s), u, 255, n);
}

TEST(fat_names_short_and_alias)
{
	uint8_t sn[11], basis[11], out[11];
	uint16_t u[300];
	unsigned n, bl;
	uint8_t nt;

	u16("README.TXT", u, &n);
	CHECK(name_to_83(u, n, sn, &nt));
	CHECK(memcmp(sn, "README  TXT", 11) == 0);
	CHECK_EQ_INT(nt, 0);
	u16("readme.txt", u, &n);
	CHECK(name_to_83(u, n, sn, &nt));
	CHECK_EQ_INT(nt, NTRES_LOWER_BASE | NTRES_LOWER_EXT);
	u16("ReadMe.txt", u, &n);
	CHECK(!name_to_83(u, n, sn, &nt));
	u16("a+b.txt", u, &n);
	CHECK(!name_to_83(u, n, sn, &nt));
	u16("toolongname.txt", u, &n);
	CHECK(!name_to_83(u, n, sn, &nt));

	u16("Grüße aus Köln.txt", u, &n);
	name_basis(u, n, basis, &bl);
	CHECK(memcmp(basis, "GR__EAUSTXT", 11) == 0);
	CHECK_EQ_INT(bl, 8);
	name_tail(basis, bl, 1, out);
	CHECK(memcmp(out, "GR__EA~1TXT", 11) == 0);
	CHECK_EQ_INT(name_tail_of(basis, bl, out), 1);
	name_tail(basis, bl, 12345, out);
	CHECK(memcmp(out, "GR~12345TXT", 11) == 0);
	CHECK_EQ_INT(name_tail_of(basis, bl, out), 12345);
	u16("日本語.txt", u, &n);
	name_basis(u, n, basis, &bl);
	CHECK(memcmp(basis, "___     TXT", 11) == 0);
	u16(".bashrc", u, &n);
	name_basis(u, n, basis, &bl);
	CHECK(memcmp(basis, "BASHRC     ", 11) == 0);
	u16("a.b.c.tar.gz", u, &n);
	name_basis(u, n, basis, &bl);
	CHECK(memcmp(basis, "A       GZ ", 11) == 0);
	/* spec "Long File Name Implementation": the checksum */
	CHECK_EQ_INT(lfn_checksum((const uint8_t *)"README  TXT"), 0x73);
	u16("a/b", u, &n);
	CHECK(!name_valid_long(u, n));
	u16("trailing.", u, &n);
	CHECK(!name_valid_long(u, n));
	u16("日本語.txt", u, &n);
	CHECK(name_valid_long(u, n));
}

/* ---- reading what mtools wrote --------------------------------------- */

/* The files every read test puts on its image: path, size, seed. */
static const struct tfile {
	const char *path;
	uint64_t size;
} tfiles[] = {
	{ "empty.txt", 0 },
	{ "README.TXT", 100 },
	{ "Grüße aus Köln.txt", 5000 },
	{ "日本語.txt", 1234 },
	{ "a file with a rather long name, longer than one entry.bin", 70000 },
	{ "dir/sub/deep.dat", 300000 },
	{ "dir/Mixed Case Name.Data", 4096 },
	{ "dir/sub/exactly-one-cluster", 2048 },
	{ "big.bin", 3u << 20 },
};
#define NTFILES (sizeof(tfiles) / sizeof(tfiles[0]))

static int
make_image(const char *img, const char *mkfs_args, unsigned kib)
{
	tmp_make();
	if (!mkfs(img, mkfs_args, kib) || !mmd(img, "dir") ||
	    !mmd(img, "dir/sub"))
		return 0;
	for (unsigned i = 0; i < NTFILES; i++)
		if (!host_file("in.bin", tfiles[i].size, i + 1) ||
		    !mcopy_in(img, "in.bin", tfiles[i].path))
			return 0;
	return 1;
}

static void
read_back(const char *img, const char *args, unsigned kib, int type)
{
	struct fs_statfs sf;
	char why[160], names[4096];
	unsigned n;

	REQUIRE(make_image(img, args, kib));
	REQUIRE(mount_img(img));
	CHECK_EQ_INT(ff_statfs(&fsc, &sf), PB_OK);
	CHECK_STR(sf.type, fat_type_name(type));
	CHECK_EQ_INT(sf.flags & FS_STATFS_RO, 0);
	for (unsigned i = 0; i < NTFILES; i++)
		CHECK_MSG(same_as_pattern(tfiles[i].path, tfiles[i].size,
		    i + 1, why, sizeof(why)), "%s", why);
	CHECK_EQ_INT(list_dir("/", names, sizeof(names), &n), PB_OK);
	CHECK_EQ_INT(n, 7);
	CHECK(has_line(names, "Grüße aus Köln.txt"));
	CHECK(has_line(names, "日本語.txt"));
	CHECK(has_line(names, "README.TXT"));
	CHECK(has_line(names, "dir"));
	CHECK_EQ_INT(list_dir("dir", names, sizeof(names), &n), PB_OK);
	CHECK_EQ_INT(n, 2);
	CHECK(has_line(names, "Mixed Case Name.Data"));
	CHECK_EQ_INT(disk->bad, 0);
	CHECK(unmount_to(img));
	CHECK_MSG(fsck_clean(img, names, sizeof(names)), "%s", names);
}

TEST(fat_read_fat12)
{
	read_back("r12.img", "-F 12", 8192, FAT12);
}

TEST(fat_read_fat16)
{
	read_back("r16.img", "-F 16 -s 4", 16384, FAT16);
}

TEST(fat_read_fat32)
{
	read_back("r32.img", "-F 32 -s 1 -n TESTVOL", 40960, FAT32);
}
