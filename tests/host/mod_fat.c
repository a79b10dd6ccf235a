/*
 * mod_fat.c - the fat module on FAT images that mkfs.fat and mtools make
 * in the test (tools/install-deps installs dosfstools and mtools), run
 * on fake disks (fatfake.h) through its `fs` and `module-source`
 * interfaces; what it writes is checked by `fsck.vfat -n` and read back
 * with mtools.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "../../abi/pbmod.h"
#include "fatsrc.h"
#include "fatfake.h"

/* ---- images made by the host's tools ------------------------------- */

static char tmp[64];
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
tmp_remove(void)
{
	if (tmp[0] && !getenv("FAT_TEST_KEEP"))
		sh("rm -rf '%s'", tmp);
}

/* A directory for this run's images (FAT_TEST_KEEP=1 keeps it). */
static void
tmp_make(void)
{
	if (!tmp[0]) {
		snprintf(tmp, sizeof(tmp), "/tmp/pbfat.XXXXXX");
		if (!mkdtemp(tmp))
			tmp[0] = '\0';
		setenv("MTOOLS_SKIP_CHECK", "1", 1);
		atexit(tmp_remove);
	}
}

/* Run a shell command (printf-style); its exit status. */
static int
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

/* fsck.vfat -n finds nothing wrong. */
static int
fsck_clean(const char *img, char *out, size_t cap)
{
	return sh_out(out, cap, "fsck.vfat -n %s 2>&1", tpath(img)) == 0;
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

/* ---- writing, checked by fsck.fat and mtools ------------------------ */

static int
write_file(const char *path, uint64_t len, unsigned seed, unsigned chunk)
{
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t put;
	uint32_t h;
	int r;

	fill(buf, len, seed, 0);
	if ((r = ff_open(&fsc, path, FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC,
	    &h)) != PB_OK) {
		free(buf);
		return r;
	}
	for (uint64_t off = 0; off < len && r == PB_OK; off += chunk) {
		uint64_t n = len - off < chunk ? len - off : chunk;

		r = ff_write(&fsc, h, FS_CURSOR, buf + off, n, &put);
		if (r == PB_OK && put != n)
			r = PB_EIO;
	}
	ff_close(&fsc, h);
	free(buf);
	return r;
}

static void
write_tree(const char *img, const char *args, unsigned kib)
{
	char out[4096], why[160];
	uint8_t *data;
	uint64_t len, put;
	uint32_t h;
	unsigned n;

	REQUIRE(make_image(img, args, kib));
	REQUIRE(mount_img(img));
	/* create, in pieces of odd sizes (cache and direct paths) */
	CHECK_EQ_INT(write_file("new.bin", 200000, 101, 7777), PB_OK);
	CHECK_EQ_INT(write_file("Grüße aus Köln 2.txt", 40000, 102, 40000),
	    PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "made", NULL), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "made/日本語のディレクトリ",
	    NULL), PB_OK);
	CHECK_EQ_INT(write_file("made/日本語のディレクトリ/ファイル.txt",
	    1000, 103, 1000), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "made", NULL), PB_EEXIST);
	/* append */
	CHECK_EQ_INT(write_file("log.txt", 1000, 104, 1000), PB_OK);
	REQUIRE(ff_open(&fsc, "LOG.TXT", FS_O_WRITE | FS_O_APPEND, &h) ==
	    PB_OK);
	data = malloc(60000);
	fill(data, 60000, 104, 1000);
	CHECK_EQ_INT(ff_write(&fsc, h, 0, data, 60000, &put), PB_OK);
	CHECK_EQ_INT(put, 60000);
	ff_close(&fsc, h);
	free(data);
	/* truncate an existing file down, and another up (zeros) */
	REQUIRE(ff_open(&fsc, "big.bin", FS_O_WRITE, &h) == PB_OK);
	CHECK_EQ_INT(ff_truncate(&fsc, h, 12345), PB_OK);
	ff_close(&fsc, h);
	REQUIRE(ff_open(&fsc, "README.TXT", FS_O_WRITE, &h) == PB_OK);
	CHECK_EQ_INT(ff_truncate(&fsc, h, 50000), PB_OK);
	ff_close(&fsc, h);
	/* rename within and across directories, unlink, rmdir */
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "new.bin", "dir/sub/moved "
	    "here.bin"), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "dir/sub", "made/sub2"),
	    PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "empty.txt", "EMPTY.txt"),
	    PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "made", "made/sub2/x"),
	    PB_EINVAL);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "log.txt", "README.TXT"),
	    PB_EEXIST);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, tfiles[4].path, NULL), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "dir", NULL), PB_EISDIR);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RMDIR, "made", NULL), PB_ENOTEMPTY);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "gone", NULL), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RMDIR, "gone", NULL), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RMDIR, "gone", NULL), PB_ENOENT);
	/* what fat reads back */
	CHECK_MSG(same_as_pattern("dir/../made/sub2/moved here.bin", 200000,
	    101, why, sizeof(why)), "%s", why);
	CHECK_EQ_INT(read_all("README.TXT", &data, &len), PB_OK);
	CHECK_EQ_INT(len, 50000);
	for (uint64_t i = 0; data && i < len; i++)
		if (data[i] != (i < 100 ? pattern(2, i) : 0)) {
			CHECK_MSG(0, "README.TXT byte %llu",
			    (unsigned long long)i);
			break;
		}
	free(data);
	CHECK_EQ_INT(disk->bad, 0);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	REQUIRE(unmount_to(img));

	CHECK_MSG(fsck_clean(img, out, sizeof(out)), "%s", out);
	CHECK(mtools_same(img, "made/sub2/moved here.bin", 200000, 101));
	CHECK(mtools_same(img, "Grüße aus Köln 2.txt", 40000, 102));
	CHECK(mtools_same(img, "made/日本語のディレクトリ/ファイル.txt", 1000,
	    103));
	CHECK(mtools_same(img, "made/sub2/deep.dat", 300000, 6));
	host_file("in.bin", 61000, 104);
	CHECK(mtools_same(img, "log.txt", 61000, 104));
	sh_out(out, sizeof(out), "mdir -b -i %s ::/ 2>&1", tpath(img));
	CHECK_MSG(strstr(out, "EMPTY.txt") && !strstr(out, "rather long"),
	    "%s", out);
	sh_out(out, sizeof(out), "mdir -i %s ::/made 2>&1", tpath(img));
	CHECK_MSG(strstr(out, "日本語のディレクトリ"), "%s", out);

	/* and a second mount finds it all again */
	REQUIRE(mount_img(img));
	CHECK_MSG(same_as_pattern("MADE/SUB2/MOVED HERE.BIN", 200000, 101,
	    why, sizeof(why)), "%s", why);
	CHECK_EQ_INT(list_dir("made/sub2", out, sizeof(out), &n), PB_OK);
	CHECK_EQ_INT(n, 3);
	unmount_to(NULL);
}

TEST(fat_write_fat12)
{
	write_tree("w12.img", "-F 12", 8192);
}

TEST(fat_write_fat16)
{
	write_tree("w16.img", "-F 16 -s 4", 16384);
}

TEST(fat_write_fat32)
{
	write_tree("w32.img", "-F 32 -s 1", 40960);
}

/* ---- big directories, fragmentation, a full volume ------------------ */

TEST(fat_thousand_files_in_one_directory)
{
	char path[128], out[200000], why[160];
	unsigned n;

	tmp_make();
	REQUIRE(mkfs("k.img", "-F 16 -s 4", 16384));
	REQUIRE(mount_img("k.img"));
	REQUIRE(ff_path_op(&fsc, FS_MKDIR, "many", NULL) == PB_OK);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "many/File number %04u with a "
		    "long name.txt", i);
		if (write_file(path, 100 + i, 1000 + i, 4096) != PB_OK) {
			CHECK_MSG(0, "creating %s", path);
			break;
		}
	}
	CHECK_EQ_INT(list_dir("many", out, sizeof(out), &n), PB_OK);
	CHECK_EQ_INT(n, 1000);
	CHECK(has_line(out, "File number 0999 with a long name.txt"));
	CHECK_MSG(same_as_pattern("MANY/file NUMBER 0500 with a long name.TXT",
	    600, 1500, why, sizeof(why)), "%s", why);
	REQUIRE(unmount_to("k.img"));
	CHECK_MSG(fsck_clean("k.img", out, sizeof(out)), "%s", out);
	sh_out(out, sizeof(out), "mdir -b -i %s ::/many 2>&1 | wc -l",
	    tpath("k.img"));
	CHECK_EQ_INT(atoi(out), 1000);
	CHECK(mtools_same("k.img", "many/File number 0777 with a long name.txt",
	    877, 1777));
	/* The aliases are distinct: ~1 up to ~1000 of one basis. */
	sh_out(out, sizeof(out), "mdir -i %s ::/many 2>&1 | grep -c 'FILENU~'",
	    tpath("k.img"));
	CHECK(atoi(out) >= 9);
	sh_out(out, sizeof(out), "mdir -i %s ::/many 2>&1 | grep '~' | "
	    "awk '{print $1 $2}' | sort | uniq -d | wc -l", tpath("k.img"));
	CHECK_EQ_INT(atoi(out), 0);
}

/* Clusters of the chain from first that do not follow the previous. */
static unsigned
fragments(struct fat_vol *v, uint32_t first)
{
	unsigned runs = 1;
	uint32_t c = first, next;
	int r;

	for (;;) {
		tx_begin(v);
		r = fat_next(v, c, &next);
		tx_commit(v);
		if (r == FAT_MISS) {	/* the FAT sector is being read */
			ff_pump();
			continue;
		}
		if (r != PB_OK || next == 0)
			return runs;
		runs += next != c + 1;
		c = next;
	}
}

/* Make a 64 MiB FAT32 image whose free space is mostly holes of 64 KiB:
 * 960 files of 64 KiB, every other one deleted. */
static int
make_fragmented(const char *img)
{
	tmp_make();
	if (!mkfs(img, "-F 32 -s 1", 65536) || !host_file("piece.bin", 65536, 7))
		return 0;
	return sh("cd %s && mkdir -p pieces && cd pieces && "
	    "for i in $(seq -w 0 959); do ln -f ../piece.bin p$i.bin; done && "
	    "mcopy -i ../%s p*.bin ::/ && "
	    "mdel -i ../%s $(seq -f '::p%%03g.bin' 0 2 958)", tmp, img, img) == 0;
}

TEST(fat_fragmented_20mib_file)
{
	char why[160], out[4096];
	struct fs_stat st;

	REQUIRE(make_fragmented("f.img"));
	REQUIRE(host_file("twenty.bin", 20u << 20, 20));
	REQUIRE(mcopy_in("f.img", "twenty.bin", "twenty.bin"));
	REQUIRE(mount_img("f.img"));
	CHECK_EQ_INT(ff_stat(&fsc, "twenty.bin", 0, &st), PB_OK);
	CHECK_MSG(fragments(fm.vols[0], (uint32_t)st.id) > 20,
	    "%u fragments", fragments(fm.vols[0], (uint32_t)st.id));
	CHECK_MSG(same_as_pattern("twenty.bin", 20u << 20, 20, why,
	    sizeof(why)), "%s", why);
	/* fat's own 20 MiB file, in the same holes */
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "twenty.bin", NULL), PB_OK);
	CHECK_EQ_INT(write_file("again.bin", 20u << 20, 21, 1u << 20), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "again.bin", 0, &st), PB_OK);
	CHECK_MSG(fragments(fm.vols[0], (uint32_t)st.id) > 20, "%u fragments",
	    fragments(fm.vols[0], (uint32_t)st.id));
	CHECK_MSG(same_as_pattern("again.bin", 20u << 20, 21, why,
	    sizeof(why)), "%s", why);
	/* Read again: from the extents learned the first time, as far as
	 * they go (128 of its 320). */
	CHECK_EQ_INT(fm.vols[0]->ext.n, FAT_EXTENTS);
	CHECK_MSG(same_as_pattern("again.bin", 20u << 20, 21, why,
	    sizeof(why)), "%s", why);
	/* A change to its chain forgets them. */
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "p001.bin", NULL), PB_OK);
	CHECK_EQ_INT(fm.vols[0]->ext.first, 0);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	REQUIRE(unmount_to("f.img"));
	CHECK_MSG(fsck_clean("f.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("f.img", "again.bin", 20u << 20, 21));
}

TEST(fat_full_volume)
{
	char out[4096], why[160];
	struct fs_statfs sf;
	uint8_t *buf = malloc(1 << 20);
	uint64_t put, total = 0;
	uint32_t h;
	int r = PB_OK;

	tmp_make();
	REQUIRE(mkfs("full.img", "-F 12", 1440));
	REQUIRE(host_file("in.bin", 10000, 3));
	REQUIRE(mcopy_in("full.img", "in.bin", "keep.bin"));
	REQUIRE(mount_img("full.img"));
	REQUIRE(ff_open(&fsc, "filler.bin", FS_O_WRITE | FS_O_CREATE, &h) ==
	    PB_OK);
	for (int i = 0; i < 10 && r == PB_OK; i++) {
		fill(buf, 1 << 20, 4, total);
		r = ff_write(&fsc, h, FS_CURSOR, buf, 1 << 20, &put);
		total += put;
	}
	CHECK_EQ_INT(r, PB_ENOSPC);
	CHECK(total > 1300000 && total < 1474560);
	CHECK_EQ_INT(ff_write(&fsc, h, FS_CURSOR, buf, 100, &put), PB_ENOSPC);
	CHECK_EQ_INT(put, 0);
	ff_close(&fsc, h);
	CHECK_EQ_INT(ff_statfs(&fsc, &sf), PB_OK);
	CHECK_EQ_INT(sf.free, 0);
	CHECK_EQ_INT(write_file("more.bin", 5000, 5, 5000), PB_ENOSPC);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "nodir", NULL), PB_ENOSPC);
	CHECK_MSG(same_as_pattern("keep.bin", 10000, 3, why, sizeof(why)),
	    "%s", why);
	REQUIRE(unmount_to("full.img"));
	CHECK_MSG(fsck_clean("full.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("full.img", "filler.bin", total, 4));
	CHECK(mtools_same("full.img", "keep.bin", 10000, 3));
	free(buf);
}

/* ---- the dirty flag and read-only mounts ----------------------------- */

/* FAT[1] of FAT copy `copy` in an image, and the geometry. */
static uint32_t
fat1_of(const uint8_t *img, unsigned copy, struct fat_geom *g)
{
	char why[96];
	const uint8_t *p;

	if (bpb_parse(img, 512, g, why, sizeof(why)) != PB_OK)
		return 0;
	p = img + (uint64_t)(g->fat_start + copy * g->fat_sectors) * g->bps;
	return g->type == FAT32 ? get32(p + 4) : get16(p + 2);
}

static void
dirty_flag(const char *img, const char *args, unsigned kib, uint32_t bit)
{
	struct fat_geom g;
	char out[4096];
	unsigned n;

	tmp_make();
	REQUIRE(mkfs(img, args, kib));
	REQUIRE(mount_img(img));
	/* clean while only read; dirty from the first change to the sync */
	CHECK(fat1_of(disk->img, 0, &g) & bit);
	CHECK_EQ_INT(list_dir("/", out, sizeof(out), &n), PB_OK);
	CHECK_EQ_INT(disk->writes, 0);
	CHECK_EQ_INT(write_file("x.bin", 10, 1, 10), PB_OK);
	for (unsigned k = 0; k < 2; k++)
		CHECK_MSG(!(fat1_of(disk->img, k, &g) & bit), "FAT %u: %08x", k,
		    fat1_of(disk->img, k, &g));
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	for (unsigned k = 0; k < 2; k++)
		CHECK(fat1_of(disk->img, k, &g) & bit);
	save(tpath(img), disk->img, disk->bytes);
	CHECK_MSG(fsck_clean(img, out, sizeof(out)), "after sync: %s", out);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "d", NULL), PB_OK);
	CHECK(!(fat1_of(disk->img, 0, &g) & bit));
	REQUIRE(unmount_to(img));
	for (unsigned k = 0; k < 2; k++)
		CHECK(fat1_of(disk->img, k, &g) & bit);
	CHECK_MSG(fsck_clean(img, out, sizeof(out)), "%s", out);
}

TEST(fat_dirty_flag_fat16)
{
	dirty_flag("d16.img", "-F 16", 16384, FAT16_CLEAN);
}

TEST(fat_dirty_flag_fat32)
{
	dirty_flag("d32.img", "-F 32 -s 1", 40960, FAT32_CLEAN);
}

/* Nothing may write to a volume mounted read-only. */
static void
read_only_refusals(void)
{
	struct fs_statfs sf;
	char why[160];
	uint32_t h;

	CHECK_EQ_INT(ff_statfs(&fsc, &sf), PB_OK);
	CHECK(sf.flags & FS_STATFS_RO);
	CHECK_EQ_INT(write_file("new.bin", 10, 1, 10), PB_EROFS);
	CHECK_EQ_INT(ff_open(&fsc, "README.TXT", FS_O_WRITE, &h), PB_EROFS);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "d", NULL), PB_EROFS);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "README.TXT", NULL), PB_EROFS);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "README.TXT", "x"),
	    PB_EROFS);
	CHECK_MSG(same_as_pattern("README.TXT", 100, 2, why, sizeof(why)),
	    "%s", why);
}

TEST(fat_dirty_volume_mounts_read_only)
{
	struct fat_geom g;
	uint8_t *before;
	uint64_t len;

	REQUIRE(make_image("dv.img", "-F 16 -s 4", 16384));
	before = load(tpath("dv.img"), &len);
	REQUIRE(before);
	fat1_of(before, 0, &g);
	before[g.fat_start * 512 + 3] &= 0x7f;	/* FAT[1] bit 15: dirty */
	save(tpath("dv.img"), before, len);
	REQUIRE(mount_img("dv.img"));
	CHECK_CONTAINS(ff_log, "not unmounted cleanly");
	read_only_refusals();
	REQUIRE(unmount_to("dv.img"));
	CHECK_EQ_INT(disk->writes, 0);
	CHECK(memcmp(disk->img, before, len) == 0);
	free(before);
}

TEST(fat_read_only_medium)
{
	uint64_t len;
	uint8_t *buf;

	REQUIRE(make_image("ro.img", "-F 32 -s 1", 40960));
	ff_reset();
	buf = load(tpath("ro.img"), &len);
	REQUIRE(buf);
	disk = ff_disk_add("disk0", buf, len, "fat=1 disk=block:disk");
	disk->info.flags |= BLOCK_RO;
	REQUIRE(fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) == PB_OK);
	ff_pump();
	REQUIRE(ff_fs_conn("fs:disk0", &fsc));
	CHECK_CONTAINS(ff_log, "read-only medium");
	read_only_refusals();
	CHECK(unmount_to(NULL));
	CHECK_EQ_INT(disk->writes, 0);
}

/* ---- the cache: write-back by timer, reads that bypass it ------------ */

/* Is the file's first cluster on the disk image the pattern? */
static int
on_disk(uint32_t first, uint64_t len, unsigned seed)
{
	struct fat_vol *v = fm.vols[0];
	const uint8_t *p = disk->img + (uint64_t)clus_sec(v, first) * v->g.bps;

	for (uint64_t i = 0; i < len; i++)
		if (p[i] != pattern(seed, i))
			return 0;
	return 1;
}

TEST(fat_write_back_by_timer)
{
	struct fs_stat st;

	REQUIRE(make_image("t.img", "-F 16 -s 4", 16384));
	REQUIRE(mount_img("t.img"));
	CHECK_EQ_INT(write_file("small.bin", 1500, 77, 1500), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "small.bin", 0, &st), PB_OK);
	CHECK(!on_disk((uint32_t)st.id, 1500, 77));
	ff_time_passes(4000ull * 1000000);
	ff_pump();
	CHECK(!on_disk((uint32_t)st.id, 1500, 77));
	ff_time_passes(1000ull * 1000000);
	ff_pump();
	CHECK(on_disk((uint32_t)st.id, 1500, 77));
	CHECK_EQ_INT(fm.vols[0]->c.ndirty, 0);
	unmount_to(NULL);

	/* fs-flush=300; and FS_SYNC writes at once */
	REQUIRE(make_image("t.img", "-F 16 -s 4", 16384));
	ff_reset();
	{
		uint64_t len;
		uint8_t *buf = load(tpath("t.img"), &len);

		disk = ff_disk_add("disk0", buf, len, "fat=1 disk=x");
	}
	snprintf(ff_cfg, sizeof(ff_cfg), "target=os fs-flush=300 fs-cache=512");
	REQUIRE(fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) == PB_OK);
	ff_pump();
	REQUIRE(ff_fs_conn("fs:disk0", &fsc));
	CHECK_EQ_INT(fm.vols[0]->c.nunits, 512 * 1024 / 2048);
	CHECK_EQ_INT(write_file("small.bin", 1500, 78, 1500), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "small.bin", 0, &st), PB_OK);
	ff_time_passes(300ull * 1000000);
	ff_pump();
	CHECK(on_disk((uint32_t)st.id, 1500, 78));
	CHECK_EQ_INT(write_file("small2.bin", 1500, 79, 1500), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "small2.bin", 0, &st), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	CHECK(on_disk((uint32_t)st.id, 1500, 79));
	CHECK(disk->flushes > 0);
	unmount_to(NULL);
}

TEST(fat_large_reads_bypass_the_cache)
{
	uint8_t *buf = malloc(1 << 20);
	uint64_t got;
	uint32_t h;
	unsigned reads;
	int ok = 1;

	tmp_make();
	REQUIRE(mkfs("big.img", "-F 32 -s 8", 524288));
	REQUIRE(host_file("in.bin", 8u << 20, 9));
	REQUIRE(mcopy_in("big.img", "in.bin", "eight.bin"));
	REQUIRE(mount_img("big.img"));
	REQUIRE(ff_open(&fsc, "eight.bin", FS_O_READ, &h) == PB_OK);
	disk->reads = 0;
	disk->rbytes = 0;
	for (unsigned i = 0; i < 8; i++) {
		CHECK_EQ_INT(ff_read(&fsc, h, FS_CURSOR, buf, 1 << 20, &got),
		    PB_OK);
		for (uint64_t k = 0; k < got && ok; k++)
			ok = buf[k] == pattern(9, ((uint64_t)i << 20) + k);
	}
	CHECK(ok);
	/* 128 KiB requests straight into the buffer, a few for the FAT */
	CHECK_MSG(disk->reads <= 64 + 4, "%u reads", disk->reads);
	CHECK_MSG(disk->rbytes < (8u << 20) + (64u << 10), "%llu bytes",
	    (unsigned long long)disk->rbytes);
	CHECK_MSG(disk->max_queued >= 4, "%u in flight at most",
	    disk->max_queued);
	/* small reads go through the cache, which reads ahead */
	reads = disk->reads;
	for (unsigned k = 0; k < 1024; k++)
		ff_read(&fsc, h, 100000 + k * 100, buf, 100, &got);
	CHECK_MSG(disk->reads - reads <= 4, "%u reads", disk->reads - reads);
	ff_close(&fsc, h);
	unmount_to(NULL);
	free(buf);
}

/* Requests queued together run in order, each completed once. */
TEST(fat_queued_requests_run_in_order)
{
	struct fs_req q[4];
	uint8_t wbuf[3000], rbuf[3000];
	uint32_t h;

	REQUIRE(make_image("q.img", "-F 12", 4096));
	REQUIRE(mount_img("q.img"));
	REQUIRE(ff_open(&fsc, "q.bin", FS_O_WRITE | FS_O_READ | FS_O_CREATE,
	    &h) == PB_OK);
	fill(wbuf, sizeof(wbuf), 5, 0);
	memset(q, 0, sizeof(q));
	q[0] = (struct fs_req){ .op = FS_WRITE, .handle = h, .offset = 0,
	    .buf = wbuf, .len = sizeof(wbuf) };
	q[1] = (struct fs_req){ .op = FS_READ, .handle = h, .offset = 0,
	    .buf = rbuf, .len = sizeof(rbuf) };
	q[2] = (struct fs_req){ .op = FS_CLOSE, .handle = h };
	q[3] = (struct fs_req){ .op = FS_READ, .handle = h, .offset = 0,
	    .buf = rbuf, .len = 1 };
	for (unsigned i = 0; i < 4; i++) {
		q[i].size = sizeof(q[i]);
		ff_work_init(FF_SELF, &q[i].done, ff_req_done, &q[i]);
		CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q[i]), PB_OK);
		CHECK(q[i].client_data == NULL);
	}
	ff_pump();
	for (unsigned i = 0; i < 4; i++)
		CHECK_MSG(q[i].client_data == (void *)1, "request %u done %p "
		    "times", i, q[i].client_data);
	CHECK_EQ_INT(q[0].status, PB_OK);
	CHECK_EQ_INT(q[1].status, PB_OK);
	CHECK_EQ_INT(q[1].result, sizeof(rbuf));
	CHECK(memcmp(wbuf, rbuf, sizeof(rbuf)) == 0);
	CHECK_EQ_INT(q[2].status, PB_OK);
	CHECK_EQ_INT(q[3].status, PB_EINVAL);	/* the handle is closed */
	/* refused at once: no completion */
	q[0] = (struct fs_req){ .size = sizeof(q[0]), .op = 99 };
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q[0]), PB_EINVAL);
	q[0] = (struct fs_req){ .size = 8, .op = FS_SYNC };
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q[0]), PB_EINVAL);
	unmount_to(NULL);
}

/* ---- a swap of the fs provider ----------------------------------- */

static uint64_t
ff_done_count(const struct fs_req *q)
{
	return (uint64_t)(uintptr_t)q->client_data;
}

/* A volume's run work with a damaged argument (a flipped bit, a stray
 * write; the campaign's seed 2003 default 119) still runs the volume:
 * the kick it carried is not lost with it, and the read completes. */
TEST(fat_run_work_with_a_damaged_argument_runs_every_volume)
{
	struct fs_req q = { 0 };
	uint8_t wbuf[3000], rbuf[3000];
	void *decoy = calloc(1, sizeof(struct fat_vol));
	struct pb_work *w;
	uint64_t put;
	uint32_t h;
	int damaged = 0;

	REQUIRE(decoy);
	REQUIRE(make_image("d.img", "-F 16 -s 4", 16384));
	REQUIRE(mount_img("d.img"));
	REQUIRE(ff_open(&fsc, "d.bin", FS_O_WRITE | FS_O_READ | FS_O_CREATE,
	    &h) == PB_OK);
	fill(wbuf, sizeof(wbuf), 9, 0);
	REQUIRE(ff_write(&fsc, h, 0, wbuf, sizeof(wbuf), &put) == PB_OK);
	q = (struct fs_req){ .size = sizeof(q), .op = FS_READ, .handle = h,
	    .offset = 0, .buf = rbuf, .len = sizeof(rbuf) };
	ff_work_init(FF_SELF, &q.done, ff_req_done, &q);
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q), PB_OK);
	for (w = ff_whead; w; w = w->next)
		if (w->fn == run_volume) {
			w->arg = decoy;		/* zeroed: no jobs, no volume */
			damaged = 1;
		}
	CHECK(damaged);
	ff_pump();
	CHECK_EQ_INT(ff_done_count(&q), 1);
	CHECK_EQ_INT(q.status, PB_OK);
	CHECK_EQ_INT(q.result, sizeof(rbuf));
	CHECK(memcmp(wbuf, rbuf, sizeof(rbuf)) == 0);
	CHECK(strstr(ff_log, "which is no volume: running every volume"));
	ff_close(&fsc, h);
	unmount_to(NULL);
	free(decoy);
}


/* The provider's state, as the hub asks for it: its size, then the blob
 * (malloc'd; NULL when either answer is not PB_OK). */
static void *
export_blob(size_t *len, uint32_t *ver)
{
	void *blob;

	if (fat_ops.export_state(FF_SELF, NULL, 0, len, ver) != PB_OK ||
	    !(blob = malloc(*len)))
		return NULL;
	if (fat_ops.export_state(FF_SELF, blob, *len, len, ver) != PB_OK) {
		free(blob);
		return NULL;
	}
	return blob;
}

static struct fs_state_vol *
first_vol(void *blob)
{
	return (struct fs_state_vol *)((struct fs_state *)blob + 1);
}

/* The old provider's resources, kept while the new one starts in
 * standby beside them (as the hub keeps them for a swap or a restart). */
static struct ff_res ghosts[FF_RES];
static unsigned nghosts;

static void
keep_ghosts(void)
{
	nghosts = 0;
	for (unsigned i = 0; i < FF_RES; i++)
		if (ff_res[i].used)
			ghosts[nghosts++] = ff_res[i];
}

/* The new provider, started in standby beside the old one's resources. */
static int
standby_beside_ghosts(void)
{
	ff_owner = "fat-old";
	for (unsigned i = 0; i < nghosts; i++)
		ff_publish(FF_SELF, ghosts[i].iface, strchr(ghosts[i].name, ':')
		    + 1, ghosts[i].props, ghosts[i].ops, ghosts[i].ctx);
	ff_owner = "fat";
	return fat_ops.start(FF_SELF, &ff_hub, PB_START_STANDBY);
}

/* ... given the old one's state, its resources gone, activated: fs:disk0
 * is reached through the new one. */
static int
take_over(const void *blob, size_t len, uint32_t ver)
{
	int r;

	if ((r = fat_ops.import_state(FF_SELF, blob, len, ver)) != PB_OK)
		return r;
	for (unsigned i = 0; i < FF_RES; i++)
		if (ff_res[i].used && strcmp(ff_res[i].owner, "fat-old") == 0)
			ff_res[i].used = 0;
	if ((r = fat_ops.activate(FF_SELF)) != PB_OK)
		return r;
	ff_pump();
	return ff_fs_conn("fs:disk0", &fsc) ? PB_OK : PB_ENODEV;
}

/* fat faults: the hub takes the state the instance has (no quiesce,
 * nothing written back), then its memory goes (release and stop stand for
 * that here), the resources kept for the new instance. */
static void *
fault_out(size_t *len, uint32_t *ver)
{
	void *blob = export_blob(len, ver);

	CHECK_EQ_INT(fat_ops.release(FF_SELF), PB_OK);
	keep_ghosts();
	fat_ops.stop(FF_SELF);
	ff_pump();
	return blob;
}

/* A dirty unit of the first volume's cache holding sector sec, or NULL. */
static struct unit *
dirty_unit(uint32_t sec)
{
	struct cache *c = &fm.vols[0]->c;

	for (unsigned k = 0; k < c->nbacked; k++)
		for (unsigned i = 0; i < cache_chunk_count(c, k); i++) {
			struct unit *u = cache_chunk_units(c, k) + i;

			if (u->dirty && sec >= u->lba && sec < u->lba + u->nsect)
				return u;
		}
	return NULL;
}

/* The first data sector of file `name` in the root of the first volume. */
static uint32_t
file_sector(const char *name)
{
	struct fat_vol *v = fm.vols[0];
	struct fs_stat st;

	if (ff_stat(&fsc, name, 0, &st) != PB_OK)
		return 0;
	return clus_sec(v, (uint32_t)st.id);
}

TEST(fat_swap_hands_over_handles_and_requests)
{
	struct fs_req late = { 0 };
	struct fs_dirent *de = malloc(2 * sizeof(*de));
	uint8_t buf[6000], exp[6000];
	uint32_t h1, h2, h3, ver;
	unsigned n;
	struct fat_geom g;
	uint64_t got;
	size_t len;
	void *blob;
	char out[4096];
	int r;

	REQUIRE(make_image("s.img", "-F 32 -s 1", 40960));
	REQUIRE(mount_img("s.img"));
	REQUIRE(ff_open(&fsc, "big.bin", FS_O_READ, &h1) == PB_OK);
	CHECK_EQ_INT(ff_read(&fsc, h1, FS_CURSOR, buf, 1000, &got), PB_OK);
	REQUIRE(ff_open(&fsc, "dir/new.txt", FS_O_WRITE | FS_O_CREATE, &h2) ==
	    PB_OK);
	fill(buf, 5000, 60, 0);
	CHECK_EQ_INT(ff_write(&fsc, h2, FS_CURSOR, buf, 5000, &got), PB_OK);
	REQUIRE(ff_open(&fsc, "dir", FS_O_DIR, &h3) == PB_OK);
	CHECK_EQ_INT(ff_readdir(&fsc, h3, FS_REWIND, de, 1, &n), PB_OK);
	CHECK_EQ_INT(n, 1);

	/* The quiesce starts; a request after it waits for the new one. */
	CHECK_EQ_INT(fat_ops.quiesce(FF_SELF), PB_EAGAIN);
	late = (struct fs_req){ .size = sizeof(late), .op = FS_READ,
	    .handle = h1, .offset = FS_CURSOR, .buf = buf, .len = 500 };
	ff_work_init(FF_SELF, &late.done, ff_req_done, &late);
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &late), PB_OK);
	for (int i = 0; i < 50 && (r = fat_ops.quiesce(FF_SELF)) == PB_EAGAIN;
	    i++)
		ff_pump();
	CHECK_EQ_INT(r, PB_OK);
	CHECK_EQ_INT(ff_done_count(&late), 0);
	CHECK(fat1_of(disk->img, 0, &g) & FAT32_CLEAN);
	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	CHECK_EQ_INT(((struct fs_state *)blob)->nhandles, 3);
	CHECK_EQ_INT(((struct fs_state *)blob)->nreqs, 1);
	CHECK_EQ_INT(fat_ops.release(FF_SELF), PB_OK);
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &late), PB_EBUSY);
	keep_ghosts();
	fat_ops.stop(FF_SELF);
	ff_pump();
	CHECK_EQ_INT(ff_done_count(&late), 0);

	/* The new provider: standby beside the old one's resources. */
	CHECK_EQ_INT(standby_beside_ghosts(), PB_OK);
	CHECK(ff_res_find("fs:disk0") != NULL);
	CHECK_EQ_INT(fat_ops.import_state(FF_SELF, blob, len, ver + 1),
	    PB_ESTATE);
	CHECK_EQ_INT(fat_ops.import_state(FF_SELF, blob, len - 8, ver),
	    PB_ESTATE);
	REQUIRE(take_over(blob, len, ver) == PB_OK);

	/* The request ran once, where the handle's cursor was. */
	CHECK_EQ_INT(ff_done_count(&late), 1);
	CHECK_EQ_INT(late.status, PB_OK);
	CHECK_EQ_INT(late.result, 500);
	fill(exp, 500, 9, 1000);
	CHECK(memcmp(buf, exp, 500) == 0);
	CHECK_EQ_INT(ff_read(&fsc, h1, FS_CURSOR, buf, 100, &got), PB_OK);
	fill(exp, 100, 9, 1500);
	CHECK(memcmp(buf, exp, 100) == 0);
	fill(buf, 1000, 60, 5000);
	CHECK_EQ_INT(ff_write(&fsc, h2, FS_CURSOR, buf, 1000, &got), PB_OK);
	CHECK_EQ_INT(ff_readdir(&fsc, h3, FS_CURSOR, de, 2, &n), PB_OK);
	CHECK_EQ_INT(n, 2);
	CHECK(!(fat1_of(disk->img, 0, &g) & FAT32_CLEAN));
	ff_close(&fsc, h1);
	ff_close(&fsc, h2);
	ff_close(&fsc, h3);
	REQUIRE(unmount_to("s.img"));
	CHECK_MSG(fsck_clean("s.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("s.img", "dir/new.txt", 6000, 60));
	free(blob);
	free(de);
}

/*
 * A restart after a fault (hub/replay.c): the hub asks the faulted
 * instance for its state without a quiesce, so nothing was written back
 * and the volume is still marked dirty, by fat itself.  The new instance
 * keeps it read-write (before, every fault of fat left the ESP read-only
 * until the next boot), and the flag comes off at the next sync.
 */
TEST(fat_restart_after_a_fault_keeps_the_volume_it_dirtied_writable)
{
	uint8_t buf[3000];
	struct fs_statfs sf;
	struct fat_geom g;
	uint32_t h, ver;
	uint64_t got;
	size_t len;
	void *blob;
	char out[4096];

	REQUIRE(make_image("f.img", "-F 32 -s 1", 40960));
	REQUIRE(mount_img("f.img"));
	REQUIRE(ff_open(&fsc, "w.bin", FS_O_WRITE | FS_O_CREATE, &h) == PB_OK);
	fill(buf, sizeof(buf), 61, 0);
	CHECK_EQ_INT(ff_write(&fsc, h, FS_CURSOR, buf, sizeof(buf), &got),
	    PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	CHECK(fat1_of(disk->img, 0, &g) & FAT32_CLEAN);
	CHECK_EQ_INT(ff_write(&fsc, h, FS_CURSOR, buf, sizeof(buf), &got),
	    PB_OK);
	CHECK(!(fat1_of(disk->img, 0, &g) & FAT32_CLEAN));

	REQUIRE((blob = fault_out(&len, &ver)) != NULL);
	CHECK_EQ_INT(first_vol(blob)->flags, FS_STATE_VOL_DIRTY);
	CHECK(!(fat1_of(disk->img, 0, &g) & FAT32_CLEAN));

	CHECK_EQ_INT(standby_beside_ghosts(), PB_OK);
	REQUIRE(take_over(blob, len, ver) == PB_OK);
	CHECK_CONTAINS(ff_log, "the dirty flag is the one this driver set "
	    "before its restart: kept read-write");
	CHECK(!strstr(ff_log, "not unmounted cleanly"));
	CHECK_EQ_INT(ff_statfs(&fsc, &sf), PB_OK);
	CHECK(!(sf.flags & FS_STATFS_RO));
	CHECK_EQ_INT(ff_write(&fsc, h, FS_CURSOR, buf, 1000, &got), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	CHECK(fat1_of(disk->img, 0, &g) & FAT32_CLEAN);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("f.img"));
	CHECK_MSG(fsck_clean("f.img", out, sizeof(out)), "%s", out);
	free(blob);
}

/* Write `len` bytes of pattern seed from `from` at handle h's cursor, in
 * pieces of 700 (not whole sectors: they go through the cache). */
static int
write_cached(uint32_t h, uint64_t len, unsigned seed, uint64_t from)
{
	uint8_t buf[700];
	uint64_t got;
	int r = PB_OK;

	for (uint64_t at = 0; at < len && r == PB_OK; at += sizeof(buf)) {
		uint64_t n = len - at < sizeof(buf) ? len - at : sizeof(buf);

		fill(buf, n, seed, from + at);
		r = ff_write(&fsc, h, FS_CURSOR, buf, n, &got);
	}
	return r;
}

/* FAT32 image `img` mounted, file `name` made on it and `len` bytes of
 * pattern seed written through the cache, its handle in *h: 1. */
static int
mounted_with_cached_file(const char *img, const char *name, uint64_t len,
    unsigned seed, uint32_t *h)
{
	return make_image(img, "-F 32 -s 1", 40960) && mount_img(img) &&
	    ff_open(&fsc, name, FS_O_WRITE | FS_O_CREATE, h) == PB_OK &&
	    write_cached(*h, len, seed, 0) == PB_OK;
}

/*
 * What fat's clients were told was written and fat had only in its cache
 * when it faulted is handed to the new instance and written by it (before,
 * it died with the faulted instance's memory: the file written since the
 * last sync was not on the disk, and its handle came back dead).
 */
TEST(fat_restart_after_a_fault_keeps_what_its_clients_wrote)
{
	char out[4096], why[160];
	uint32_t h, ver;
	size_t len;
	void *blob;

	REQUIRE(mounted_with_cached_file("kw.img", "kw.bin", 6000, 63,
	    &h));
	REQUIRE(fm.vols[0]->c.ndirty > 0);	/* done, in the cache only */

	REQUIRE((blob = fault_out(&len, &ver)) != NULL);
	CHECK(first_vol(blob)->nruns > 0);
	CHECK_CONTAINS(ff_log, "blocks not written are in the state it "
	    "exported");
	CHECK_EQ_INT(standby_beside_ghosts(), PB_OK);
	REQUIRE(take_over(blob, len, ver) == PB_OK);
	CHECK_CONTAINS(ff_log, "blocks written before the restart taken back");
	CHECK(!strstr(ff_log, "not there any more"));
	CHECK_MSG(same_as_pattern("kw.bin", 6000, 63, why, sizeof(why)), "%s",
	    why);
	CHECK_EQ_INT(write_cached(h, 1000, 63, 6000), PB_OK);	/* goes on */
	ff_close(&fsc, h);
	REQUIRE(unmount_to("kw.img"));
	CHECK_MSG(fsck_clean("kw.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("kw.img", "kw.bin", 7000, 63));
	free(blob);
}

/*
 * A unit whose data changed behind fat (a stray write: its sum no longer
 * matches) hands over nothing of the volume, with an error: the disk
 * stays as of the last sync, consistent, not half of what came after.
 */
TEST(fat_fault_hands_over_no_block_it_cannot_vouch_for)
{
	char out[4096], why[160];
	uint32_t h, ver;
	struct unit *u;
	uint8_t cls;
	size_t len;
	void *blob;

	REQUIRE(mounted_with_cached_file("kv.img", "kv.bin", 3000, 64,
	    &h));
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	REQUIRE(ff_close(&fsc, h) == PB_OK);	/* again from its start */
	REQUIRE(ff_open(&fsc, "kv.bin", FS_O_WRITE, &h) == PB_OK);
	CHECK_EQ_INT(write_cached(h, 3000, 65, 0), PB_OK);
	REQUIRE((u = dirty_unit(file_sector("kv.bin"))) != NULL);
	cls = u->dirty;
	u->dirty = WB_NCLASS + 4;		/* a class that is none */
	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	CHECK_EQ_INT(first_vol(blob)->nruns, 0);
	free(blob);
	u->dirty = cls;
	u->data[10] ^= 0x40;			/* the stray write */

	REQUIRE((blob = fault_out(&len, &ver)) != NULL);
	CHECK_EQ_INT(first_vol(blob)->nruns, 0);
	CHECK_CONTAINS(ff_log, "are not handed over: the cache holding them "
	    "is not as fat left it");
	CHECK_CONTAINS(ff_log, "blocks not written, the volume stays marked "
	    "dirty");
	CHECK_EQ_INT(standby_beside_ghosts(), PB_OK);
	REQUIRE(take_over(blob, len, ver) == PB_OK);
	CHECK(!strstr(ff_log, "taken back"));
	CHECK_MSG(same_as_pattern("kv.bin", 3000, 64, why, sizeof(why)), "%s",
	    why);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("kv.img"));
	CHECK_MSG(fsck_clean("kv.img", out, sizeof(out)), "%s", out);
	free(blob);
}

/*
 * A fault inside a step: what the step changed is handed over as it was
 * before the step (the undo log's copy), the step itself runs again in
 * the new instance.  A unit the step changed without an undo copy (file
 * data) cannot be: then nothing is handed over.
 */
TEST(fat_fault_inside_a_step_hands_over_what_the_last_step_left)
{
	char out[4096], why[160];
	struct fat_vol *v;
	uint32_t h, ver, sec;
	uint8_t *p;
	size_t len;
	void *blob;

	REQUIRE(mounted_with_cached_file("ks.img", "ks.bin", 3000, 66,
	    &h));
	v = fm.vols[0];
	REQUIRE((sec = file_sector("ks.bin")) != 0);
	tx_begin(v);				/* the step the fault cuts */
	REQUIRE(cache_write(v, sec, WB_DATA, 0, &p) == PB_OK);
	memset(p, 0xee, 100);

	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	CHECK(first_vol(blob)->nruns > 0);
	REQUIRE(cache_write(v, sec + 1, WB_DATA, CG_NOUNDO, &p) == PB_OK);
	free(blob);
	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	CHECK_EQ_INT(first_vol(blob)->nruns, 0);	/* sec + 1: unknown */
	free(blob);
	tx_rollback(v);

	tx_begin(v);
	REQUIRE(cache_write(v, sec, WB_DATA, 0, &p) == PB_OK);
	memset(p, 0xee, 100);
	REQUIRE((blob = fault_out(&len, &ver)) != NULL);
	CHECK_EQ_INT(standby_beside_ghosts(), PB_OK);
	REQUIRE(take_over(blob, len, ver) == PB_OK);
	CHECK_MSG(same_as_pattern("ks.bin", 3000, 66, why, sizeof(why)), "%s",
	    why);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("ks.img"));
	CHECK_MSG(fsck_clean("ks.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("ks.img", "ks.bin", 3000, 66));
	free(blob);
}

/* A fault while fat puts the dirty flag on the disk (campaign usb seed
 * 8086 #235): the flag's write may have landed, though dirty_on_disk is
 * not set yet.  The state says the flag is fat's all the same. */
TEST(fat_state_while_it_marks_the_volume_dirty_says_so)
{
	uint8_t buf[3000];
	struct fs_req q;
	struct fat_geom g;
	uint32_t h, ver;
	size_t len;
	void *blob;
	char out[4096];

	REQUIRE(make_image("k.img", "-F 32 -s 1", 40960));
	REQUIRE(mount_img("k.img"));
	REQUIRE(ff_open(&fsc, "k.bin", FS_O_WRITE | FS_O_CREATE, &h) == PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	CHECK(fat1_of(disk->img, 0, &g) & FAT32_CLEAN);
	fill(buf, sizeof(buf), 62, 0);
	q = (struct fs_req){ .size = sizeof(q), .op = FS_WRITE, .handle = h,
	    .offset = 0, .buf = buf, .len = sizeof(buf) };
	ff_work_init(FF_SELF, &q.done, ff_req_done, &q);
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q), PB_OK);
	/* fat's work runs, the disk answers nothing: the flag's write is
	 * what waits at the disk */
	for (unsigned i = 0; i < 100 && ff_run_work(); i++)
		;
	REQUIRE(fm.vols[0]->op.marking);
	REQUIRE(disk->nq > 0);
	CHECK_EQ_INT(fm.vols[0]->dirty_on_disk, 0);
	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	CHECK_EQ_INT(first_vol(blob)->flags, FS_STATE_VOL_DIRTY);
	free(blob);
	ff_pump();
	CHECK_EQ_INT(ff_done_count(&q), 1);
	CHECK_EQ_INT(q.status, PB_OK);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("k.img"));
	CHECK_MSG(fsck_clean("k.img", out, sizeof(out)), "%s", out);
}

/*
 * A volume's name damaged in the faulted instance (campaign default seed
 * 15 #129: the restarted fat published "fs:" and four bytes of binary,
 * its clients waited for fs:PATCHBAY in vain and the ESP was gone for the
 * rest of the boot): the volume is named again at its mount, as a fresh
 * one is, and its clients find it under its name.
 */
TEST(fat_restart_names_again_a_volume_whose_name_was_damaged)
{
	char why[160];
	uint32_t h, ver;
	size_t len;
	void *blob;

	REQUIRE(mounted_with_cached_file("kn.img", "kn.bin", 2000, 67,
	    &h));
	REQUIRE((blob = fault_out(&len, &ver)) != NULL);
	memcpy(first_vol(blob)->res + 3, "\xef\xbf\xbd(", 5);

	/* A restart: the old instance's resources are gone (no ghosts). */
	CHECK_EQ_INT(fat_ops.start(FF_SELF, &ff_hub, PB_START_STANDBY), PB_OK);
	REQUIRE(take_over(blob, len, ver) == PB_OK);	/* fs:disk0 */
	CHECK_CONTAINS(ff_log, "the volume's name in the state is not a "
	    "name: named again at its mount");
	CHECK(!strstr(ff_log, "not there any more"));
	CHECK_MSG(same_as_pattern("kn.bin", 2000, 67, why, sizeof(why)), "%s",
	    why);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("kn.img"));
	CHECK(mtools_same("kn.img", "kn.bin", 2000, 67));
	free(blob);
}

/* A state that says more than FS_STATE_VOL_DIRTY is refused whole. */
TEST(fat_import_refuses_unknown_volume_flags)
{
	uint32_t ver;
	size_t len;
	void *blob;

	REQUIRE(make_image("u.img", "-F 32 -s 1", 40960));
	REQUIRE(mount_img("u.img"));
	REQUIRE((blob = export_blob(&len, &ver)) != NULL);
	first_vol(blob)->flags = 2;
	CHECK_EQ_INT(fat_ops.import_state(FF_SELF, blob, len, ver), PB_ESTATE);
	first_vol(blob)->flags = 0;
	first_vol(blob)->nruns = 1;	/* a run the blob does not hold */
	CHECK_EQ_INT(fat_ops.import_state(FF_SELF, blob, len, ver), PB_ESTATE);
	free(blob);
	REQUIRE(unmount_to(NULL));
}

/* A swap that fails after the quiesce: the old provider serves again
 * (the volume, clean, is marked dirty at the next change). */
TEST(fat_resume_after_a_failed_swap)
{
	struct fat_geom g;
	char why[160];
	int r;

	REQUIRE(make_image("re.img", "-F 16", 16384));
	REQUIRE(mount_img("re.img"));
	while ((r = fat_ops.quiesce(FF_SELF)) == PB_EAGAIN)
		ff_pump();
	CHECK(fat1_of(disk->img, 0, &g) & FAT16_CLEAN);
	CHECK_EQ_INT(fat_ops.resume(FF_SELF), PB_OK);
	ff_pump();
	CHECK(fat1_of(disk->img, 0, &g) & FAT16_CLEAN);
	CHECK_EQ_INT(write_file("after.bin", 3000, 70, 3000), PB_OK);
	CHECK(!(fat1_of(disk->img, 0, &g) & FAT16_CLEAN));
	CHECK_MSG(same_as_pattern("after.bin", 3000, 70, why, sizeof(why)),
	    "%s", why);
	REQUIRE(unmount_to("re.img"));
	CHECK(mtools_same("re.img", "after.bin", 3000, 70));
}

/*
 * The swap went through (the hub handed the disk to the new instance at
 * the rebind: PB_EV_DISCONNECTED) and the new instance wrote to the
 * volume before it faulted in its watch window: the hub connects us to
 * the disk again and resumes us, the volume's clients rebound to it.  We
 * serve the volume as it is now on the disk: the file the other one
 * wrote is there, and what we write goes around its clusters (a FAT or
 * directory read before the swap and kept would put ours over them).
 */
TEST(fat_resume_after_the_new_side_wrote_the_volume)
{
	struct pb_conn *blk;
	char why[160], out[4096];
	uint64_t len;
	uint8_t *now;
	int r;

	REQUIRE(make_image("rb.img", "-F 16", 16384));
	REQUIRE(mount_img("rb.img"));
	/* The root, the FAT and a file in our cache. */
	CHECK_MSG(same_as_pattern(tfiles[0].path, tfiles[0].size, 1, why,
	    sizeof(why)), "%s", why);
	CHECK_EQ_INT(write_file("ours.bin", 3000, 71, 3000), PB_OK);
	while ((r = fat_ops.quiesce(FF_SELF)) == PB_EAGAIN)
		ff_pump();
	CHECK_EQ_INT(r, PB_OK);
	CHECK_EQ_INT(fat_ops.release(FF_SELF), PB_OK);
	blk = fm.vols[0]->blk;
	REQUIRE(blk != NULL);
	fat_ops.event(FF_SELF, PB_EV_DISCONNECTED, blk, PB_REQ_BIND);
	CHECK(ff_res_find("fs:disk0") != NULL);	/* kept for a rollback */
	/* The new instance writes a file (mtools stands for it). */
	REQUIRE(save(tpath("rb.img"), disk->img, disk->bytes));
	REQUIRE(host_file("theirs.bin", 20000, 72));
	REQUIRE(mcopy_in("rb.img", "theirs.bin", "theirs.bin"));
	REQUIRE((now = load(tpath("rb.img"), &len)) != NULL);
	REQUIRE(len == disk->bytes);
	memcpy(disk->img, now, len);
	free(now);
	/* It faulted: we are connected again and resume. */
	fat_ops.event(FF_SELF, PB_EV_CONNECTED, blk, PB_REQ_BIND);
	CHECK_EQ_INT(fat_ops.resume(FF_SELF), PB_OK);
	ff_pump();
	CHECK_MSG(same_as_pattern("theirs.bin", 20000, 72, why, sizeof(why)),
	    "%s", why);
	CHECK_MSG(same_as_pattern("ours.bin", 3000, 71, why, sizeof(why)),
	    "%s", why);
	CHECK_EQ_INT(write_file("after.bin", 30000, 73, 4096), PB_OK);
	CHECK_MSG(same_as_pattern("after.bin", 30000, 73, why, sizeof(why)),
	    "%s", why);
	CHECK_EQ_INT(disk->bad, 0);
	REQUIRE(unmount_to("rb.img"));
	CHECK_MSG(fsck_clean("rb.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("rb.img", "theirs.bin", 20000, 72));
	CHECK(mtools_same("rb.img", "after.bin", 30000, 73));
}

/* ---- module-source -------------------------------------------------- */

static void
ms_done(void *arg)
{
	struct modsrc_req *q = arg;

	q->client_data = (void *)((uintptr_t)q->client_data + 1);
}

static int
ms_call(struct pb_conn *c, struct modsrc_req *q, const char *name,
    uint64_t off, void *buf, uint64_t len)
{
	int r;

	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->offset = off;
	q->buf = buf;
	q->len = len;
	ff_work_init(FF_SELF, &q->done, ms_done, q);
	if ((r = PB_CALL(c, modsrc_ops, submit, q)) != PB_OK)
		return r;
	ff_pump();
	return q->client_data == (void *)1 ? q->status : -999;
}

TEST(fat_module_source)
{
	struct modsrc_req q;
	struct pb_conn ms;
	struct ff_res *r;
	char name[64];
	uint8_t buf[12000], exp[12000];
	uint64_t size;
	const void *data;
	size_t dlen;

	REQUIRE(make_image("m.img", "-F 16", 16384));
	REQUIRE(mmd("m.img", "patchbay") && mmd("m.img", "patchbay/mods"));
	REQUIRE(host_file("in.bin", 10000, 31) && mcopy_in("m.img", "in.bin",
	    "patchbay/mods/alpha.mod"));
	REQUIRE(host_file("in.bin", 300, 32) && mcopy_in("m.img", "in.bin",
	    "patchbay/mods/BETA.MOD"));
	REQUIRE(mcopy_in("m.img", "in.bin", "patchbay/mods/notes.txt"));
	REQUIRE(mount_img("m.img"));
	REQUIRE((r = ff_res_find("module-source:disk0")));
	CHECK_STR(r->props, "fs=fs:disk0 files=2");
	ms = (struct pb_conn){ .ops = r->ops, .ctx = r->ctx };
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, name, 0, name, sizeof(name)),
	    PB_OK);
	CHECK_STR(name, "alpha.mod");
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, name, 1, name, sizeof(name)),
	    PB_OK);
	CHECK_STR(name, "BETA.MOD");
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, name, 2, name, sizeof(name)),
	    PB_ENOENT);
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, size, "alpha.mod", &size), PB_OK);
	CHECK_EQ_INT(size, 10000);
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, size, "gamma.mod", &size),
	    PB_ENOENT);
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, read, "alpha.mod", &data, &dlen),
	    PB_ENOTSUP);
	CHECK_EQ_INT(ms_call(&ms, &q, "alpha.mod", 0, buf, sizeof(buf)), PB_OK);
	CHECK_EQ_INT(q.result, 10000);
	fill(exp, 10000, 31, 0);
	CHECK(memcmp(buf, exp, 10000) == 0);
	CHECK_EQ_INT(ms_call(&ms, &q, "alpha.mod", 9000, buf, 5000), PB_OK);
	CHECK_EQ_INT(q.result, 1000);
	CHECK(memcmp(buf, exp + 9000, 1000) == 0);
	CHECK_EQ_INT(ms_call(&ms, &q, "gamma.mod", 0, buf, 10), PB_ENOENT);
	CHECK_EQ_INT(ms_call(&ms, &q, "../x.mod", 0, buf, 10), PB_EINVAL);
	/* the listing follows changes under patchbay/ */
	CHECK_EQ_INT(write_file("patchbay/mods/gamma.mod", 123, 33, 123), PB_OK);
	CHECK_EQ_INT(PB_CALL(&ms, modsrc_ops, name, 2, name, sizeof(name)),
	    PB_OK);
	CHECK_STR(name, "gamma.mod");
	CHECK_STR(r->props, "fs=fs:disk0 files=3");
	CHECK_EQ_INT(ff_path_op(&fsc, FS_RENAME, "patchbay/mods", "old-mods"),
	    PB_OK);
	CHECK(ff_res_find("module-source:disk0") == NULL);
	unmount_to(NULL);
}

/* ---- bad input: refused or read-only, one log line, no hang ------ */

static uint8_t *
find_bytes(uint8_t *img, uint64_t len, const void *pat, size_t n)
{
	for (uint64_t i = 0; i + n <= len; i++)
		if (memcmp(img + i, pat, n) == 0)
			return img + i;
	return NULL;
}

/* Entry n := val in every FAT of an image (FAT16/32). */
static void
set_fat(uint8_t *img, uint32_t n, uint32_t val)
{
	struct fat_geom g;
	char why[96];

	if (bpb_parse(img, 512, &g, why, sizeof(why)) != PB_OK)
		return;
	for (unsigned k = 0; k < g.nfats; k++) {
		uint8_t *p = img + (uint64_t)(g.fat_start + k * g.fat_sectors) *
		    g.bps;

		if (g.type == FAT32)
			put32(p + n * 4, val);
		else
			put16(p + n * 2, (uint16_t)val);
	}
}

/* The image file of make_image, loaded for patching. */
static uint8_t *
patchable(const char *img, uint64_t *len, uint32_t *deep_first)
{
	struct fs_stat st;

	if (!make_image(img, "-F 32 -s 1", 40960) || !mount_img(img) ||
	    ff_stat(&fsc, "dir/sub/deep.dat", 0, &st) != PB_OK)
		return NULL;
	*deep_first = (uint32_t)st.id;
	unmount_to(NULL);
	return load(tpath(img), len);
}

static int
remount(const char *img, uint8_t *buf, uint64_t len)
{
	save(tpath(img), buf, len);
	free(buf);
	return mount_img(img);
}

TEST(fat_corrupt_chains)
{
	uint8_t *img, data[4096];
	uint64_t len, got;
	uint32_t first, h;
	char why[160];

	/* a loop: reads stay bounded by the size; walking to the end finds
	 * it */
	REQUIRE((img = patchable("c.img", &len, &first)));
	set_fat(img, first + 10, first + 3);
	REQUIRE(remount("c.img", img, len));
	REQUIRE(ff_open(&fsc, "dir/sub/deep.dat", FS_O_WRITE, &h) == PB_OK);
	CHECK_EQ_INT(ff_write(&fsc, h, 300000, "x", 1, &got), PB_ECORRUPT);
	CHECK_CONTAINS(ff_log, "cluster chain loops");
	ff_close(&fsc, h);
	CHECK_MSG(same_as_pattern("README.TXT", 100, 2, why, sizeof(why)),
	    "%s", why);
	unmount_to(NULL);

	/* a link out of the volume, and one to a free cluster */
	REQUIRE((img = patchable("c.img", &len, &first)));
	set_fat(img, first + 2, 0x0FFFFF00);
	set_fat(img, 6, 0);		/* big.bin's chain starts near 5 */
	REQUIRE(remount("c.img", img, len));
	REQUIRE(ff_open(&fsc, "dir/sub/deep.dat", FS_O_READ, &h) == PB_OK);
	CHECK_EQ_INT(ff_read(&fsc, h, 0, data, sizeof(data), &got),
	    PB_ECORRUPT);
	CHECK_CONTAINS(ff_log, "chain leaves the volume");
	ff_close(&fsc, h);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "dir/sub/deep.dat", NULL),
	    PB_OK);
	CHECK_MSG(same_as_pattern("README.TXT", 100, 2, why, sizeof(why)),
	    "%s", why);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	unmount_to(NULL);
}

TEST(fat_corrupt_entries)
{
	static const uint8_t sub_name[12] = "SUB        \x10";
	static const uint8_t dir_name[12] = "DIR        \x10";
	static const uint8_t readme[11] = "README  TXT";
	static const uint8_t lfn[6] = { 'G', 0, 'r', 0, 0xfc, 0 };
	uint8_t *img, *sub, *dir, *p, buf[200000];
	char names[4096];
	struct fs_stat st;
	uint64_t len, got;
	uint32_t first, h;
	unsigned n;

	REQUIRE((img = patchable("e.img", &len, &first)));
	/* dir/sub leads back to dir; README.TXT claims 100000 bytes; a long
	 * name gets an unpaired surrogate */
	REQUIRE((sub = find_bytes(img, len, sub_name, 12)));
	REQUIRE((dir = find_bytes(img, len, dir_name, 12)));
	memcpy(sub + 20, dir + 20, 2);
	memcpy(sub + 26, dir + 26, 2);
	REQUIRE((p = find_bytes(img, len, readme, 11)));
	put32(p + 28, 100000);
	REQUIRE((p = find_bytes(img, len, lfn, 6)));
	put16(p + 2, 0xd800);
	REQUIRE(remount("e.img", img, len));

	CHECK_EQ_INT(ff_stat(&fsc, "dir/sub", 0, &st), PB_ECORRUPT);
	CHECK_EQ_INT(ff_stat(&fsc, "dir/sub/deep.dat", 0, &st), PB_ECORRUPT);
	CHECK_EQ_INT(ff_open(&fsc, "dir/sub", FS_O_DIR, &h), PB_ECORRUPT);
	CHECK_CONTAINS(ff_log, "contains itself");
	CHECK_EQ_INT(list_dir("dir", names, sizeof(names), &n), PB_OK);
	CHECK(has_line(names, "sub"));

	REQUIRE(ff_open(&fsc, "README.TXT", FS_O_READ, &h) == PB_OK);
	CHECK_EQ_INT(ff_read(&fsc, h, 0, buf, sizeof(buf), &got), PB_ECORRUPT);
	CHECK_CONTAINS(ff_log, "larger than its cluster chain");
	ff_close(&fsc, h);

	CHECK_EQ_INT(list_dir("/", names, sizeof(names), &n), PB_OK);
	CHECK_MSG(has_line(names, "GRÜßEA~1.TXT"), "%s", names);
	CHECK(!has_line(names, "Grüße aus Köln.txt"));
	CHECK_CONTAINS(ff_log, "unpaired surrogate");
	CHECK_EQ_INT(ff_stat(&fsc, "grüßea~1.txt", 0, &st), PB_ENOENT);
	CHECK_EQ_INT(ff_stat(&fsc, "GRÜßEA~1.TXT", 0, &st), PB_OK);
	CHECK_EQ_INT(st.size, 5000);
	unmount_to(NULL);
}

TEST(fat_fsinfo_checked)
{
	static const uint8_t sig[4] = { 0x52, 0x52, 0x61, 0x41 };
	struct fs_statfs good, sf;
	uint8_t *img, *fi;
	char out[4096];
	uint64_t len;
	uint32_t first;
	size_t at;

	REQUIRE((img = patchable("i.img", &len, &first)));
	REQUIRE(remount("i.img", img, len));
	CHECK_EQ_INT(ff_statfs(&fsc, &good), PB_OK);
	unmount_to("i.img");
	img = load(tpath("i.img"), &len);
	REQUIRE((fi = find_bytes(img, 4096, sig, 4)));
	at = (size_t)(fi - img);
	put32(fi + 488, 0xFFFFFFF0);		/* more than the volume has */
	put32(fi + 492, 1);
	REQUIRE(remount("i.img", img, len));
	CHECK_EQ_INT(ff_statfs(&fsc, &sf), PB_OK);
	CHECK_EQ_INT(sf.free, good.free);
	CHECK_EQ_INT(write_file("after.bin", 5000, 3, 5000), PB_OK);
	unmount_to("i.img");
	img = load(tpath("i.img"), &len);
	REQUIRE(img);
	CHECK_EQ_INT(get32(img + at + 488), good.free - 10);
	free(img);
	CHECK_MSG(fsck_clean("i.img", out, sizeof(out)), "%s", out);
}

TEST(fat_refused_boot_sector)
{
	uint64_t len;
	uint8_t *img;

	tmp_make();
	REQUIRE(mkfs("b.img", "-F 16", 16384));
	img = load(tpath("b.img"), &len);
	REQUIRE(img);
	img[13] = 0;			/* sectors per cluster */
	save(tpath("b.img"), img, len);
	free(img);
	CHECK(!mount_img("b.img"));
	CHECK_CONTAINS(ff_log, "block:disk0: not a FAT volume: sectors per "
	    "cluster 0");
	CHECK_EQ_INT(ff_conns_open(), 0);
	CHECK(fm.vols[0] == NULL);
	CHECK_EQ_INT(disk->writes, 0);
	unmount_to(NULL);
}

/* ---- what the module binds to --------------------------------------- */

TEST(fat_binds_and_probes)
{
	uint64_t len;
	uint8_t *a, *b, *c;
	struct pb_conn *bc;

	tmp_make();
	REQUIRE(mkfs("p.img", "-F 16", 16384));
	REQUIRE(mkfs("l.img", "-F 16 -n STICK", 16384));
	ff_reset();
	a = load(tpath("p.img"), &len);
	b = load(tpath("l.img"), &len);
	c = load(tpath("p.img"), &len);
	REQUIRE(a && b && c);
	memset(c, 0, 512);		/* a disk with no BPB (say, GPT) */
	ff_disk_add("esp", a, len, "esp=1 disk=block:sata0 path=p/part:1");
	ff_disk_add("stick", b, len, "path=usb:1");
	ff_disk_add("gptdisk", c, len, "path=sata:0");
	/* the bind's connection comes before start */
	bc = ff_connect(FF_SELF, "block", 1, 0, "block:esp");
	fat_ops.event(FF_SELF, PB_EV_CONNECTED, bc, PB_REQ_BIND);
	REQUIRE(fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) == PB_OK);
	ff_pump();
	CHECK_STR(ff_subscribed, "block");
	CHECK(ff_res_find("fs:esp") != NULL);
	CHECK(ff_res_find("fs:STICK") != NULL);	/* its label names it */
	CHECK(ff_res_find("fs:gptdisk") == NULL);
	CHECK_EQ_INT(ff_conns_open(), 2);
	CHECK_CONTAINS(ff_log, "block:gptdisk: not a FAT volume");
	if (ff_res_find("fs:esp")) {
		CHECK_CONTAINS(ff_res_find("fs:esp")->props, "label= uuid=");
		CHECK_CONTAINS(ff_res_find("fs:esp")->props, " type=fat16 ro=0 "
		    "disk=block:esp path=p/part:1");
	}
	if (ff_res_find("fs:STICK"))
		CHECK_CONTAINS(ff_res_find("fs:STICK")->props, "label=STICK");
	/* a partition that appears later */
	a = load(tpath("p.img"), &len);
	ff_disk_add("late", a, len, "fat=1 disk=block:sata1 path=q/part:2");
	fat_ops.event(FF_SELF, PB_EV_RESOURCE, &(struct pb_conn){
	    .res = "block:late" }, PB_REQ_NONE);
	ff_pump();
	CHECK(ff_res_find("fs:late") != NULL);
	unmount_to(NULL);
}

/* ---- the disk under the volume ------------------------------------- */

TEST(fat_block_provider_swapped_and_gone)
{
	struct fs_req q = { 0 };
	struct pb_conn *bc;
	char why[160];
	uint8_t buf[100];
	uint32_t h;

	REQUIRE(make_image("g.img", "-F 16", 16384));
	REQUIRE(mount_img("g.img"));
	REQUIRE(ff_open(&fsc, "README.TXT", FS_O_READ, &h) == PB_OK);
	bc = fm.vols[0]->blk;
	/* a new provider of the same disk: limits may change, nothing else */
	disk->info.max_transfer = 16 * 1024;
	disk->info.max_segments = 4;
	fat_ops.event(FF_SELF, PB_EV_REBOUND, bc, PB_REQ_NONE);
	CHECK_MSG(same_as_pattern("big.bin", 3u << 20, 9, why, sizeof(why)),
	    "%s", why);
	CHECK_EQ_INT(write_file("after.bin", 100000, 8, 100000), PB_OK);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	/* the disk goes: queued requests fail, the volume is withdrawn */
	q = (struct fs_req){ .size = sizeof(q), .op = FS_READ, .handle = h,
	    .buf = buf, .len = sizeof(buf) };
	ff_work_init(FF_SELF, &q.done, ff_req_done, &q);
	fm.vols[0]->quiescing = 1;	/* hold the queue for a moment */
	fm.vols[0]->barrier_passed = 1;
	CHECK_EQ_INT(PB_CALL(&fsc, fs_ops, submit, &q), PB_OK);
	ff_pump();
	fat_ops.event(FF_SELF, PB_EV_DISCONNECTED, bc, PB_REQ_NONE);
	ff_disconnect(FF_SELF, bc);
	ff_pump();
	CHECK_EQ_INT(ff_done_count(&q), 1);
	CHECK_EQ_INT(q.status, PB_EIO);
	CHECK(ff_res_find("fs:disk0") == NULL);
	CHECK(fm.vols[0] == NULL);
	CHECK_CONTAINS(ff_log, "went with");
	unmount_to(NULL);
}

TEST(fat_write_errors_reported)
{
	uint8_t buf[3000];
	uint64_t put;
	uint32_t h;

	REQUIRE(make_image("x.img", "-F 16", 16384));
	REQUIRE(mount_img("x.img"));
	REQUIRE(ff_open(&fsc, "e.bin", FS_O_WRITE | FS_O_CREATE, &h) == PB_OK);
	fill(buf, sizeof(buf), 1, 0);
	CHECK_EQ_INT(ff_write(&fsc, h, 0, buf, sizeof(buf), &put), PB_OK);
	disk->fail_writes_after = 0;
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_EIO);
	CHECK_CONTAINS(ff_log, "write of sectors");
	disk->fail_writes_after = -1;
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	ff_close(&fsc, h);
	REQUIRE(unmount_to("x.img"));
	CHECK(mtools_same("x.img", "e.bin", sizeof(buf), 1));
}

/* ---- directories of every kind ------------------------------------ */

TEST(fat_fixed_root_fills_and_subdirectories_grow)
{
	char path[64], out[8192];
	unsigned n, made = 0;
	int r = PB_OK;

	tmp_make();
	REQUIRE(mkfs("root.img", "-F 12 -r 32 -s 1", 2048));
	REQUIRE(mount_img("root.img"));
	for (unsigned i = 0; i < 40 && r == PB_OK; i++) {
		snprintf(path, sizeof(path), "R%u.TXT", i);
		if ((r = write_file(path, 10, i, 10)) == PB_OK)
			made++;
	}
	CHECK_EQ_INT(r, PB_ENOSPC);
	CHECK_EQ_INT(made, 32);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "long directory name", NULL),
	    PB_ENOSPC);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, "R3.TXT", NULL), PB_OK);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "D", NULL), PB_OK);
	/* a directory of 512-byte clusters grows one cluster at a time */
	for (unsigned i = 0; i < 100 && r; i++) {
		snprintf(path, sizeof(path), "D/entry with a long name %u", i);
		CHECK_EQ_INT(write_file(path, 0, 0, 1), PB_OK);
	}
	CHECK_EQ_INT(list_dir("D", out, sizeof(out), &n), PB_OK);
	CHECK_EQ_INT(n, 100);
	for (unsigned i = 0; i < 100; i += 2) {
		snprintf(path, sizeof(path), "d/ENTRY WITH A LONG NAME %u", i);
		CHECK_EQ_INT(ff_path_op(&fsc, FS_UNLINK, path, NULL), PB_OK);
	}
	CHECK_EQ_INT(list_dir("D", out, sizeof(out), &n), PB_OK);
	CHECK_EQ_INT(n, 50);
	REQUIRE(unmount_to("root.img"));
	CHECK_MSG(fsck_clean("root.img", out, sizeof(out)), "%s", out);
	sh_out(out, sizeof(out), "mdir -b -i %s ::/D 2>&1 | wc -l",
	    tpath("root.img"));
	CHECK_EQ_INT(atoi(out), 50);
}

/* ---- time stamps -------------------------------------------------- */

static int
frtc_get(void *ctx, struct rtc_time *t)
{
	*t = (struct rtc_time){ .year = 2026, .month = 12, .day = 5,
	    .hour = 13, .minute = 14, .second = 15, .utc = 1 };
	return PB_OK;
}

static const char *
frtc_source(void *ctx)
{
	return "test";
}

static const struct rtc_ops frtc_ops = { frtc_get, frtc_source };

TEST(fat_timestamps_from_rtc)
{
	struct pb_conn rtc = { .ops = &frtc_ops, .res = "rtc:test" };
	struct fs_stat st;
	char out[4096];

	REQUIRE(make_image("ts.img", "-F 16", 16384));
	REQUIRE(mount_img("ts.img"));
	CHECK_EQ_INT(write_file("before.txt", 10, 1, 10), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "before.txt", 0, &st), PB_OK);
	CHECK_EQ_INT(st.mtime.year, 1980);	/* no rtc: 1980-01-01 */
	CHECK_EQ_INT(st.mtime.day, 1);
	fat_ops.event(FF_SELF, PB_EV_CONNECTED, &rtc, FAT_REQ_RTC);
	CHECK_EQ_INT(write_file("after.txt", 10, 1, 10), PB_OK);
	CHECK_EQ_INT(ff_stat(&fsc, "after.txt", 0, &st), PB_OK);
	CHECK_EQ_INT(st.mtime.year, 2026);
	CHECK_EQ_INT(st.mtime.month, 12);
	CHECK_EQ_INT(st.mtime.day, 5);
	CHECK_EQ_INT(st.mtime.hour, 13);
	CHECK_EQ_INT(st.mtime.minute, 14);
	CHECK_EQ_INT(st.mtime.second, 14);	/* two-second steps */
	CHECK_EQ_INT(st.ctime.year, 2026);
	fat_ops.event(FF_SELF, PB_EV_DISCONNECTED, &rtc, FAT_REQ_RTC);
	REQUIRE(unmount_to("ts.img"));
	sh_out(out, sizeof(out), "mdir -i %s ::/ 2>&1", tpath("ts.img"));
	CHECK_CONTAINS(out, "2026-12-05  13:14");
}

/* Buffers a device cannot take go through the cache. */
TEST(fat_unaligned_buffers)
{
	uint8_t *raw = malloc((1 << 20) + 16), *buf = raw + 1;
	uint64_t got;
	uint32_t h;
	int ok = 1;

	REQUIRE(make_image("u.img", "-F 32 -s 8", 300000));
	REQUIRE(mount_img("u.img"));
	REQUIRE(ff_open(&fsc, "big.bin", FS_O_READ, &h) == PB_OK);
	CHECK_EQ_INT(ff_read(&fsc, h, 4097, buf, 1 << 20, &got), PB_OK);
	for (uint64_t k = 0; k < got && ok; k++)
		ok = buf[k] == pattern(9, 4097 + k);
	CHECK(ok);
	ff_close(&fsc, h);
	fill(buf, 1 << 20, 40, 0);
	REQUIRE(ff_open(&fsc, "odd.bin", FS_O_WRITE | FS_O_CREATE, &h) ==
	    PB_OK);
	CHECK_EQ_INT(ff_write(&fsc, h, 0, buf, 1 << 20, &got), PB_OK);
	ff_close(&fsc, h);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	REQUIRE(unmount_to("u.img"));
	CHECK(mtools_same("u.img", "odd.bin", 1 << 20, 40));
	free(raw);
}

/* ---- geometry and cache extremes ----------------------------------- */

/* 4 KiB sectors (8 device blocks each) and 64 KiB clusters. */
TEST(fat_4k_sectors_64k_clusters)
{
	read_back("s4k.img", "-F 12 -S 4096 -s 16", 65536, FAT12);
	write_tree("s4k.img", "-F 12 -S 4096 -s 16", 65536);
}

/* The smallest cache: write-back under pressure, directories larger
 * than the cache, data through it from an unaligned buffer. */
TEST(fat_small_cache_under_pressure)
{
	uint8_t *raw = malloc((2 << 20) + 1), *buf = raw + 1;
	char path[96], out[4096], why[160];
	uint64_t len, put;
	uint32_t h;

	REQUIRE(make_image("sc.img", "-F 16 -s 1", 32768));
	ff_reset();
	disk = ff_disk_add("disk0", load(tpath("sc.img"), &len), len,
	    "fat=1 disk=x");
	snprintf(ff_cfg, sizeof(ff_cfg), "fs-cache=256 fs-flush=0");
	REQUIRE(fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) == PB_OK);
	ff_pump();
	REQUIRE(ff_fs_conn("fs:disk0", &fsc));
	CHECK_EQ_INT(fm.vols[0]->c.nunits, 256 * 1024 / 512);
	fill(buf, 2 << 20, 90, 0);
	REQUIRE(ff_open(&fsc, "big2.bin", FS_O_WRITE | FS_O_CREATE, &h) ==
	    PB_OK);
	CHECK_EQ_INT(ff_write(&fsc, h, 0, buf, 2 << 20, &put), PB_OK);
	ff_close(&fsc, h);
	CHECK_EQ_INT(ff_path_op(&fsc, FS_MKDIR, "many", NULL), PB_OK);
	for (unsigned i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "many/a long file name number %u", i);
		if (write_file(path, 700, 200 + i, 700) != PB_OK) {
			CHECK_MSG(0, "%s", path);
			break;
		}
	}
	CHECK_MSG(same_as_pattern("big2.bin", 2 << 20, 90, why, sizeof(why)),
	    "%s", why);
	CHECK_MSG(same_as_pattern("many/A LONG FILE NAME NUMBER 333", 700, 533,
	    why, sizeof(why)), "%s", why);
	CHECK_MSG(same_as_pattern("big.bin", 3u << 20, 9, why, sizeof(why)),
	    "%s", why);
	CHECK_MSG(disk->bad == 0, "%s", disk->why);
	REQUIRE(unmount_to("sc.img"));
	CHECK_MSG(fsck_clean("sc.img", out, sizeof(out)), "%s", out);
	CHECK(mtools_same("sc.img", "big2.bin", 2 << 20, 90));
	CHECK(mtools_same("sc.img", "many/a long file name number 399", 700,
	    599));
	free(raw);
}

/* A direct write and a cached tail in the same unit: the unit is not
 * read while the direct write is on its way (a device may finish the
 * read first). */
TEST(fat_direct_write_then_cached_tail)
{
	uint8_t buf[18020], *data;
	char out[4096];
	uint64_t put, len;
	uint32_t h;
	int ok;

	REQUIRE(make_image("dt.img", "-F 32 -s 8", 300000));
	REQUIRE(mount_img("dt.img"));
	disk->reads_first = 1;
	fill(buf, sizeof(buf), 55, 0);
	REQUIRE(ff_open(&fsc, "big.bin", FS_O_WRITE, &h) == PB_OK);
	CHECK_EQ_INT(ff_write(&fsc, h, 0, buf, sizeof(buf), &put), PB_OK);
	CHECK_EQ_INT(ff_write(&fsc, h, 3u << 20, buf, 8192, &put), PB_OK);
	ff_close(&fsc, h);
	/* The direct data flushed, the cached data, a flush, the FATs, a
	 * flush, the directory, a flush, FSInfo, a flush: "FDDFMMFDFMF". */
	disk->meta_end = fm.vols[0]->g.data_start;
	disk->seq[0] = '\0';
	CHECK_EQ_INT(ff_path_op(&fsc, FS_SYNC, NULL, NULL), PB_OK);
	CHECK_MSG(disk->seq[0] == 'F' && strstr(disk->seq, "DFM") &&
	    strchr(disk->seq, 'D') < strchr(disk->seq, 'M') &&
	    disk->seq[strlen(disk->seq) - 1] == 'F', "%s", disk->seq);
	REQUIRE(unmount_to("dt.img"));
	CHECK_MSG(fsck_clean("dt.img", out, sizeof(out)), "%s", out);
	REQUIRE(mount_img("dt.img"));
	CHECK_EQ_INT(read_all("big.bin", &data, &len), PB_OK);
	ok = data && len == (3u << 20) + 8192;
	for (uint64_t i = 0; ok && i < len; i++)
		ok = data[i] == (i < sizeof(buf) ? buf[i] : i < 3u << 20 ?
		    pattern(9, i) : buf[i - (3u << 20)]);
	CHECK(ok);
	free(data);
	unmount_to(NULL);
}

static unsigned done_order[8], ndone;

static void
ordered_done(void *arg)
{
	struct fs_req *q = arg;

	ff_req_done(arg);
	done_order[ndone++ % 8] = (unsigned)q->reserved;
}

/* Reads queued back to back overlap on the device (each steps aside once
 * its transfers are on their way) but complete in order, whatever order
 * the device finishes them in; a write queued after them waits until
 * they have their data. */
TEST(fat_queued_reads_overlap)
{
	enum { N = 5, MIB = 256 << 10 };	/* two transfers each */
	struct fs_req q[N];
	uint8_t *buf[N], *exp = malloc(MIB), *neu = malloc(MIB);
	uint32_t h;

	REQUIRE(make_image("ov.img", "-F 32 -s 8", 300000));
	REQUIRE(mount_img("ov.img"));
	REQUIRE(ff_open(&fsc, "big.bin", FS_O_READ | FS_O_WRITE, &h) == PB_OK);
	fill(neu, MIB, 66, 0);
	for (unsigned i = 0; i < N; i++) {
		buf[i] = malloc(MIB);
		q[i] = (struct fs_req){ .size = sizeof(q[i]), .op = FS_READ,
		    .handle = h, .offset = FS_CURSOR, .buf = buf[i], .len = MIB };
	}
	q[3] = (struct fs_req){ .size = sizeof(q[3]), .op = FS_WRITE,
	    .handle = h, .offset = 0, .buf = neu, .len = MIB };
	q[4].offset = 0;
	disk->max_queued = 0;
	disk->backwards = 1;
	ndone = 0;
	for (unsigned i = 0; i < N; i++) {
		q[i].reserved = i;
		ff_work_init(FF_SELF, &q[i].done, ordered_done, &q[i]);
		REQUIRE(PB_CALL(&fsc, fs_ops, submit, &q[i]) == PB_OK);
	}
	ff_pump();
	CHECK_EQ_INT(ndone, N);
	for (unsigned i = 0; i < N && i < ndone; i++)
		CHECK_MSG(done_order[i] == i, "completion %u was request %u", i,
		    done_order[i]);
	for (unsigned i = 0; i < N; i++) {
		CHECK_MSG(ff_done_count(&q[i]) == 1, "request %u: %llu", i,
		    (unsigned long long)ff_done_count(&q[i]));
		CHECK_EQ_INT(q[i].status, PB_OK);
		CHECK_EQ_INT(q[i].result, MIB);
	}
	for (unsigned i = 0; i < 3; i++) {
		fill(exp, MIB, 9, (uint64_t)i * MIB);
		CHECK_MSG(memcmp(buf[i], exp, MIB) == 0, "read %u", i);
	}
	CHECK(memcmp(buf[4], neu, MIB) == 0);
	CHECK_MSG(disk->max_queued >= 6, "%u at once at most (one read "
	    "has 2)", disk->max_queued);
	ff_close(&fsc, h);
	unmount_to(NULL);
	for (unsigned i = 0; i < N; i++)
		free(buf[i]);
	free(exp);
	free(neu);
}

/* ---- the fault campaign: fat's own state gone bad ---------------------- */

static void
trapped(int sig)
{
	(void)sig;
	_exit(77);
}

/* A stray write of the campaign into fat's volume (its geometry): a
 * sector beyond the volume is no disk's doing, so fat faults
 * (PB_SELF_CORRUPT) to be restarted and mount again, instead of refusing
 * the volume as damaged for good.  The fault is taken in a child. */
TEST(campaign_fat_own_geometry_corrupt_faults)
{
	uint8_t data[512];
	uint64_t got;
	uint32_t h;
	pid_t pid;
	int status = 0;

	REQUIRE(make_image("g.img", "-F 32 -s 1", 40960) && mount_img("g.img"));
	REQUIRE(ff_open(&fsc, "dir/sub/deep.dat", FS_O_READ, &h) == PB_OK);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		struct sigaction sa = { .sa_handler = trapped };

		sigaction(SIGILL, &sa, NULL);
		for (unsigned i = 0; i < FAT_MAX_VOLS; i++)
			if (fm.vols[i])
				fm.vols[i]->g.total_sectors = 64;
		ff_read(&fsc, h, 0, data, sizeof(data), &got);
		_exit(0);
	}
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 77,
	    "the child %s %d", WIFEXITED(status) ? "exited" : "died of",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	/* This instance, not corrupted, reads on. */
	CHECK_EQ_INT(ff_read(&fsc, h, 0, data, sizeof(data), &got), PB_OK);
	ff_close(&fsc, h);
	unmount_to(NULL);
}
