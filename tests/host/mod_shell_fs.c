/*
 * mod_shell_fs.c - the shell's files on the host: the mount table
 * (mods/shell/mounts.c: /esp by the hub's boot-path, or by esp=1, the
 * others by label or disk), the file commands (cmd_fs.c, cmd_fsedit.c,
 * cmd_mounts.c) and their requests (fsjob.c), against fakefs.h's
 * volumes in memory; and the pure formatting: error words, sizes, rates,
 * hexdump -C lines (checked against hexdump's own output).
 *
 * Each command runs as the shell runs it: the line is cut into words
 * (words.c), the command returns holding the session, and the fake event
 * loop completes the volumes' requests and runs the shell's work until
 * nothing is left; the session must be released by then, every file
 * closed and every allocation freed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../abi/pbmod.h"
#include "fakehub.h"
#include "fakefs.h"
#include "../../abi/rt/setting.c"
#include "../../mods/shell/words.c"
#include "../../mods/shell/path.c"
#include "../../mods/shell/fsfmt.c"
#include "../../mods/shell/hexdump.c"
#include "../../mods/shell/sha256.c"
#include "../../mods/shell/mounts.c"
#include "../../mods/shell/fsjob.c"
#include "../../mods/shell/cmd_fs.c"
#include "../../mods/shell/cmd_fsedit.c"
#include "../../mods/shell/cmd_mounts.c"
#include "../../mods/shell/cmd_misc.c"

/* ---- what the files use of the rest of the shell -------------------- */

const struct pb_hub *shell_hub;
struct pb_module *shell_self = SELF;
static char out[1 << 16];
static int held;
static unsigned releases;

static void
out_add(const char *s, size_t len)
{
	size_t n = strlen(out);

	if (n + len >= sizeof(out))
		len = sizeof(out) - n - 1;
	memcpy(out + n, s, len);
	out[n + len] = '\0';
}

void
out_write(const char *s, size_t len)
{
	out_add(s, len);
}

static void
out_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	out_add(prefix, strlen(prefix));
	out_add(line, strlen(line));
	out_add("\n", 1);
}

void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_line("", fmt, ap);
	va_end(ap);
}

int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_line("error: ", fmt, ap);
	va_end(ap);
	return PB_EINVAL;
}

void
session_hold(void)
{
	held = 1;
}

void
session_release(void)
{
	if (held)
		releases++;
	held = 0;
}

/* ---- the hub: memory, intrusive work, the inventory ----------------- */

static long allocs;

static void *
t_alloc(struct pb_module *self, size_t n)
{
	allocs++;
	return calloc(1, n);
}

static void
t_free(struct pb_module *self, void *p)
{
	if (p)
		allocs--;
	free(p);
}

static void
post_from_provider(struct pb_work *w)
{
	fake_work_post(NULL, w);
}

/* The hub's resources: config:boot, block partitions, fs volumes. */
#define T_RES 12
static struct {
	const char *name, *iface, *owner;
	char props[256];
} res[T_RES];
static unsigned nres;

static void
res_add(const char *name, const char *iface, const char *owner,
    const char *props)
{
	res[nres].name = name;
	res[nres].iface = iface;
	res[nres].owner = owner;
	snprintf(res[nres].props, sizeof(res[nres].props), "%s", props);
	nres++;
}

static int
t_res_info(const char *module, unsigned index, struct pb_res_info *o)
{
	for (unsigned i = 0; i < nres; i++) {
		if (module && strcmp(module, res[i].owner) != 0)
			continue;
		if (index-- > 0)
			continue;
		*o = (struct pb_res_info){ .name = res[i].name,
		    .iface = res[i].iface, .major = 1, .props = res[i].props,
		    .owner = res[i].owner };
		return PB_OK;
	}
	return PB_ENOENT;
}

static const struct pb_hub hub = {
	.size = sizeof(struct pb_hub),
	.log = fake_log,
	.alloc = t_alloc,
	.free = t_free,
	.now_ns = fake_now,
	.timer_after = fake_timer_after,
	.timer_cancel = fake_timer_cancel,
	.res_info = t_res_info,
	.work_init = fake_work_init,
	.work_post = fake_work_post,
	.work_cancel = fake_work_cancel,
};

/* ---- the volumes ----------------------------------------------------- */

static struct fvol vesp, vdata;
static struct pb_conn cesp = { &fv_ops, &vesp, NULL, "fs:ESP" };
static struct pb_conn cdata = { &fv_ops, &vdata, NULL, "fs:DATA" };

/* The event loop: requests complete, the shell's work runs, until
 * nothing is left. */
static void
pump(void)
{
	while (fv_run(&vesp) + fv_run(&vdata) + run_posted())
		;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "ls", cmd_ls }, { "cat", cmd_cat }, { "hexdump", cmd_hexdump },
	{ "sha256sum", cmd_sha256sum }, { "fsread", cmd_fsread },
	{ "cp", cmd_cp }, { "mv", cmd_mv }, { "rm", cmd_rm },
	{ "mkdir", cmd_mkdir }, { "rmdir", cmd_rmdir },
	{ "write", cmd_write }, { "echo", cmd_echo },
	{ "mounts", cmd_mounts }, { "df", cmd_df }, { "sync", cmd_sync },
	{ "cd", cmd_cd }, { "pwd", cmd_pwd },
};

/* Run a line as the shell does, without the event loop. */
static int
start(const char *line)
{
	char buf[LE_LINE_MAX], *argv[64];
	int argc;

	out[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", line);
	argc = words_split(buf, argv, 64);
	for (unsigned i = 0; argc > 0 && i < sizeof(cmds) / sizeof(cmds[0]);
	    i++)
		if (strcmp(cmds[i].name, argv[0]) == 0) {
			int r = cmds[i].fn(argc, argv);

			/* The words are gone once the command returns. */
			memset(buf, 'X', sizeof(buf));
			return r;
		}
	return -1000;
}

/* Run a line to its end: what it printed. */
static const char *
sh(const char *line)
{
	start(line);
	pump();
	CHECK_MSG(!held, "%s: the session is still held", line);
	CHECK_MSG(fv_open_handles(&vesp) + fv_open_handles(&vdata) == 0,
	    "%s: files left open", line);
	CHECK_MSG(allocs == 0, "%s: %ld allocations not freed", line, allocs);
	return out;
}

static int
count_errors(const char *s)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, "error: ")); p++)
		if (p == s || p[-1] == '\n')
			n++;
	return n;
}

static void
reset(void)
{
	fakehub_reset();
	shell_hub = &hub;
	fpost_head = fpost_tail = NULL;
	nres = 0;
	allocs = 0;
	held = 0;
	releases = 0;
	mounts_forget();
	jobs_forget();
	fv_init(&vesp, post_from_provider);
	fv_init(&vdata, post_from_provider);
}

/* Two volumes: the boot ESP and DATA, with a few files. */
static void
fixture(void)
{
	reset();
	res_add("config:boot", "config", "hub",
	    "watchdog=5000 boot-path=pci:00:1f.2/sata:0/part:1");
	res_add("block:sata0.p1", "block", "gpt",
	    "path=pci:00:1f.2/sata:0/part:1 disk=block:sata0 esp=1");
	res_add("fs:ESP", "fs", "fat", "label=ESP type=fat32 ro=0 "
	    "disk=block:sata0.p1 path=pci:00:1f.2/sata:0/part:1");
	res_add("fs:DATA", "fs", "fat", "label=DATA type=fat16 ro=1 "
	    "disk=block:sata1.p1 path=pci:00:1f.2/sata:1/part:1");
	fv_put(&vesp, "patchbay", NULL, (size_t)~0);
	fv_put(&vesp, "patchbay/mods", NULL, (size_t)~0);
	fv_put(&vesp, "patchbay/mods/shell.mod", "MZshell", 7);
	fv_put(&vesp, "patchbay/mods/acpi.mod", "MZacpi", 6);
	fv_put(&vesp, "patchbay/mods/Zed.mod", "", 0);
	fv_put(&vesp, "patchbay/boot.cfg", "watchdog=5000\n", 14);
	fv_put(&vdata, "notes.txt", "one\ntwo\n", 8);
	mounts_event(PB_EV_CONNECTED, &cesp);
	mounts_event(PB_EV_CONNECTED, &cdata);
}

/* ---- the mount table --------------------------------------------------- */

static struct pb_conn extra[6];
static char extra_names[6][32];

static struct mount *
connect_vol(unsigned i, const char *name, const char *props)
{
	snprintf(extra_names[i], sizeof(extra_names[i]), "%s", name);
	extra[i] = (struct pb_conn){ &fv_ops, &vdata, NULL, extra_names[i] };
	res_add(extra_names[i], "fs", "fat", props);
	mounts_event(PB_EV_CONNECTED, &extra[i]);
	for (unsigned k = 0; k < MAX_MOUNTS; k++)
		if (mounts[k].conn == &extra[i])
			return &mounts[k];
	return NULL;
}

TEST(mounts_boot_volume_by_the_hubs_boot_path)
{
	struct mount *m;

	reset();
	res_add("config:boot", "config", "hub",
	    "boot-path=pci:00:14.0/usb:3/lun:0/part:1");
	res_add("block:sata0.p1", "block", "gpt", "esp=1");
	res_add("block:usb0.p1", "block", "gpt", "esp=1");
	/* An ESP that is not the boot partition comes first. */
	m = connect_vol(0, "fs:ESP", "label=ESP disk=block:sata0.p1 "
	    "path=pci:00:1f.2/sata:0/part:1");
	REQUIRE(m);
	CHECK_STR(m->name, "sata0.p1");
	m = connect_vol(1, "fs:usb0.p1", "label=BOOT disk=block:usb0.p1 "
	    "path=pci:00:14.0/usb:3/lun:0/part:1");
	REQUIRE(m);
	CHECK_STR(m->name, "esp");
	CHECK(mount_find("ESP") == m);
	CHECK_CONTAINS(log_text, "fs:usb0.p1 mounted at /esp");
}

TEST(mounts_boot_volume_by_esp_without_boot_path)
{
	struct mount *m;

	reset();
	res_add("config:boot", "config", "hub", "watchdog=5000");
	res_add("block:sata0.p1", "block", "gpt", "type=x esp=1");
	res_add("block:sata0.p2", "block", "gpt", "type=y fat=1");
	res_add("block:sata1.p1", "block", "gpt", "esp=1");
	m = connect_vol(0, "fs:DATA", "label=DATA disk=block:sata0.p2");
	CHECK_STR(m->name, "DATA");
	m = connect_vol(1, "fs:EFI", "label=EFI disk=block:sata0.p1");
	CHECK_STR(m->name, "esp");
	/* A second ESP is not the boot volume. */
	m = connect_vol(2, "fs:EFI2", "label=EFI disk=block:sata1.p1");
	CHECK_STR(m->name, "EFI");
}

TEST(mounts_names_by_label_else_disk)
{
	struct mount *m;

	reset();
	res_add("config:boot", "config", "hub", "boot-path=nowhere");
	m = connect_vol(0, "fs:DATA", "label=DATA disk=block:sata1.p1");
	CHECK_STR(m->name, "DATA");
	/* The same label again (case aside): the disk's name. */
	m = connect_vol(1, "fs:sata2.p1", "label=data disk=block:sata2.p1");
	CHECK_STR(m->name, "sata2.p1");
	/* No label, and a label that is no usable name. */
	m = connect_vol(2, "fs:sata3.p1", "type=fat12 disk=block:sata3.p1");
	CHECK_STR(m->name, "sata3.p1");
	m = connect_vol(3, "fs:x", "label=A\xc3\x84 disk=block:usb1.p2");
	CHECK_STR(m->name, "usb1.p2");
	/* "esp" is kept for the boot volume, even as a label. */
	m = connect_vol(4, "fs:ESP", "label=ESP disk=block:nvme0.p1");
	CHECK_STR(m->name, "nvme0.p1");
	/* A label that is another's disk name: that one gets a number. */
	m = connect_vol(5, "fs:y", "label=z disk=block:sata2.p1");
	CHECK_STR(m->name, "z");
	CHECK_EQ_INT(mount_nth(6) == NULL, 1);
}

TEST(mounts_name_choose_numbers_what_is_taken)
{
	char name[MOUNT_NAME_MAX];

	reset();
	res_add("config:boot", "config", "hub", "");
	connect_vol(0, "fs:a", "label=sata2.p1 disk=block:q");
	mount_name_choose("", "block:sata2.p1", "fs:sata2.p1", 0, name,
	    sizeof(name));
	CHECK_STR(name, "sata2.p1-2");
	mount_name_choose("", "", "fs:odd name", 0, name, sizeof(name));
	CHECK_STR(name, "vol");
	mount_name_choose("", "", "fs:esp", 0, name, sizeof(name));
	CHECK_STR(name, "vol");
	mount_name_choose("..", "block:w", "fs:w", 0, name, sizeof(name));
	CHECK_STR(name, "w");
	mount_name_choose("ESP", "block:w", "fs:w", 1, name, sizeof(name));
	CHECK_STR(name, "esp");
}

TEST(mounts_a_volume_that_goes_frees_its_name)
{
	reset();
	res_add("config:boot", "config", "hub", "");
	connect_vol(0, "fs:DATA", "label=DATA disk=block:a");
	REQUIRE(mount_find("DATA"));
	mounts_event(PB_EV_DISCONNECTED, &extra[0]);
	CHECK(mount_find("DATA") == NULL);
	CHECK_CONTAINS(log_text, "/DATA (fs:DATA) is gone");
	connect_vol(1, "fs:DATA2", "label=DATA disk=block:b");
	CHECK(mount_find("DATA") != NULL);
	/* A rebound volume keeps its name. */
	mounts_event(PB_EV_REBOUND, &extra[1]);
	CHECK(mount_find("DATA") != NULL);
}

TEST(mounts_lists_every_volume)
{
	fixture();
	sh("mounts");
	CHECK_CONTAINS(out, "/esp           fs:ESP             fat32  ESP"
	    "          rw   pci:00:1f.2/sata:0/part:1");
	CHECK_CONTAINS(out, "/DATA          fs:DATA            fat16  DATA"
	    "         ro   pci:00:1f.2/sata:1/part:1");
}

/* ---- listing and reading ------------------------------------------------ */

TEST(fs_ls_sorts_and_marks_directories)
{
	fixture();
	CHECK_STR(sh("ls /esp/patchbay/mods"), "Zed.mod\nacpi.mod\n"
	    "shell.mod\n");
	CHECK_STR(sh("ls /esp/patchbay"), "boot.cfg\nmods/\n");
	CHECK_STR(sh("ls /"), "esp/\nDATA/\n");
	CHECK_STR(sh("ls /ESP/PATCHBAY/./mods/../mods"), "Zed.mod\n"
	    "acpi.mod\nshell.mod\n");
}

TEST(fs_ls_long)
{
	fixture();
	sh("ls -l /esp/patchbay");
	CHECK_STR(out, "----a           14  2024-05-01 12:34  boot.cfg\n"
	    "d----            0  2024-05-01 12:34  mods/\n");
	sh("ls -l /esp/patchbay/boot.cfg");
	CHECK_STR(out, "----a           14  2024-05-01 12:34  "
	    "/esp/patchbay/boot.cfg\n");
}

TEST(fs_ls_many_entries_in_parts)
{
	char name[32];

	fixture();
	for (unsigned i = 0; i < 80; i++) {
		snprintf(name, sizeof(name), "d/f%02u", 79 - i);
		if (i == 0)
			fv_put(&vdata, "d", NULL, (size_t)~0);
		fv_put(&vdata, name, "x", 1);
	}
	sh("ls /DATA/d");
	CHECK(strncmp(out, "f00\nf01\n", 8) == 0);
	CHECK_CONTAINS(out, "f78\nf79\n");
	CHECK_EQ_INT(strlen(out), 80 * 4);
}

TEST(fs_ls_errors)
{
	fixture();
	sh("ls /esp/nothere");
	CHECK_STR(out, "error: ls /esp/nothere: no such file or directory\n");
	sh("ls /nomount/x");
	CHECK_STR(out, "error: ls /nomount/x: no such file or directory\n");
	sh("ls -x");
	CHECK_EQ_INT(count_errors(out), 1);
	vesp.fail_op = FS_READDIR;
	vesp.fail_err = PB_EIO;
	sh("ls /esp/patchbay");
	CHECK_STR(out, "error: ls /esp/patchbay: input/output error\n");
}

TEST(fs_cat_prints_the_file)
{
	fixture();
	CHECK_STR(sh("cat /DATA/notes.txt"), "one\ntwo\n");
	CHECK_EQ_INT(releases, 1);
	CHECK_STR(sh("cat /esp/patchbay/mods/Zed.mod"), "");
	sh("cat /esp/nothere.txt");
	CHECK_STR(out, "error: cat /esp/nothere.txt: no such file or "
	    "directory\n");
	sh("cat /esp/patchbay");
	CHECK_STR(out, "error: cat /esp/patchbay: is a directory\n");
	sh("cat /esp");
	CHECK_STR(out, "error: cat /esp: is a directory\n");
}

TEST(fs_cat_pipelines_large_files_in_order)
{
	size_t n = 3 * CAT_CHUNK + 123;
	char *data = malloc(n);

	fixture();
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	fv_put(&vesp, "big.txt", data, n);
	sh("cat /esp/big.txt");
	CHECK_EQ_INT(strlen(out), n);
	CHECK(memcmp(out, data, n) == 0);
	/* The open, then READ_SLOTS reads at once. */
	CHECK_EQ_INT(vesp.max_queued, READ_SLOTS);
	free(data);
}

TEST(fs_read_error_midway_closes_and_says_once)
{
	size_t n = 5 * CAT_CHUNK;
	char *data = calloc(1, n);

	fixture();
	fv_put(&vesp, "big.bin", data, n);
	vesp.fail_op = FS_READ;
	vesp.fail_err = PB_EIO;
	vesp.fail_after = 1;
	sh("cat /esp/big.bin");
	CHECK_EQ_INT(count_errors(out), 1);
	CHECK_CONTAINS(out, "error: cat /esp/big.bin: input/output error\n");
	free(data);
}

/* hexdump -C's own output for the same bytes (util-linux 2.38). */
static const char hexdump_want[] =
    "00000000  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  "
    "|AAAAAAAAAAAAAAAA|\n"
    "*\n"
    "00000040  42 42 42 7c 7d 7e 7f 80  81 82 83 00 00 00 00 00  "
    "|BBB|}~..........|\n"
    "00000050  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  "
    "|................|\n"
    "*\n"
    "00000080  00 00 00                                          |...|\n"
    "00000083\n";

static size_t
hexdump_input(uint8_t *b)
{
	size_t n = 0;

	memset(b, 'A', 64), n += 64;
	memset(b + n, 'B', 3), n += 3;
	for (int c = 0x7c; c < 0x84; c++)
		b[n++] = (uint8_t)c;
	memset(b + n, 0, 56), n += 56;
	return n;
}

static void
collect(void *arg, const char *line)
{
	strcat(arg, line);
	strcat(arg, "\n");
}

TEST(hexdump_lines_as_hexdump_C)
{
	uint8_t b[256];
	size_t n = hexdump_input(b);
	char text[2048];
	struct hexdump h;

	/* In pieces of every size from 1 to 40: the same text. */
	for (size_t piece = 1; piece <= 40; piece++) {
		text[0] = '\0';
		hexdump_init(&h);
		for (size_t off = 0; off < n; off += piece)
			hexdump_feed(&h, b + off, n - off < piece ? n - off :
			    piece, collect, text);
		hexdump_end(&h, collect, text);
		CHECK_MSG(strcmp(text, hexdump_want) == 0, "pieces of %zu:\n%s",
		    piece, text);
	}
	text[0] = '\0';
	hexdump_init(&h);
	hexdump_end(&h, collect, text);
	CHECK_STR(text, "");		/* hexdump -C prints nothing */
	text[0] = '\0';
	hexdump_init(&h);
	hexdump_feed(&h, (const uint8_t *)"\0\1\2\3\4\5\6\7", 8, collect,
	    text);
	hexdump_end(&h, collect, text);
	CHECK_STR(text, "00000000  00 01 02 03 04 05 06 07                  "
	    "         |........|\n00000008\n");
}

TEST(hexdump_repeats_after_a_different_line)
{
	uint8_t b[64] = { 0 };
	char text[1024] = "";
	struct hexdump h;

	memset(b + 32, 1, 16);
	hexdump_init(&h);
	hexdump_feed(&h, b, 64, collect, text);
	hexdump_end(&h, collect, text);
	CHECK_STR(text,
	    "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  "
	    "|................|\n*\n"
	    "00000020  01 01 01 01 01 01 01 01  01 01 01 01 01 01 01 01  "
	    "|................|\n"
	    "00000030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  "
	    "|................|\n00000040\n");
}

TEST(fs_hexdump_command)
{
	uint8_t b[256];
	size_t n = hexdump_input(b);

	fixture();
	fv_put(&vesp, "h.bin", b, n);
	CHECK_STR(sh("hexdump /esp/h.bin"), hexdump_want);
}

TEST(fs_sha256sum_command)
{
	fixture();
	fv_put(&vesp, "abc.txt", "abc", 3);
	sh("sha256sum /esp/abc.txt");
	CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410"
	    "ff61f20015ad  /esp/abc.txt\n");
	sh("cd /esp");
	sh("sha256sum \"abc.txt\"");
	CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410"
	    "ff61f20015ad  abc.txt\n");
}

TEST(fs_sha256sum_of_a_large_file_across_reads)
{
	size_t n = 2 * SHA_CHUNK + 1000;
	uint8_t *data = malloc(n);
	struct sha256 s;
	uint8_t d[SHA256_DIGEST];
	char hex[65];

	fixture();
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 9));
	fv_put(&vdata, "big", data, n);
	sha256_init(&s);
	sha256_update(&s, data, n);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	sh("sha256sum /DATA/big");
	CHECK(strncmp(out, hex, 64) == 0);
	free(data);
}

TEST(fs_fsread_reports_bytes_and_rate)
{
	size_t n = FSREAD_CHUNK + 5;
	uint8_t *data = calloc(1, n);

	fixture();
	fv_put(&vdata, "big", data, n);
	sh("fsread /DATA/big");
	CHECK_CONTAINS(out, "fsread /DATA/big: 1048581 bytes in ");
	CHECK_CONTAINS(out, " MiB/s\n");
	CHECK_EQ_INT(vdata.max_queued, 2);	/* both reads at once */
	free(data);
}

/* ---- changing files --------------------------------------------------- */

TEST(fs_write_and_echo_redirect)
{
	struct fnode *f;

	fixture();
	CHECK_STR(sh("write /esp/a.txt hello  world"), "");
	REQUIRE((f = fv_get(&vesp, "a.txt")));
	CHECK_EQ_INT(f->size, 12);
	CHECK(memcmp(f->data, "hello world\n", 12) == 0);
	sh("echo \"two  spaces\" > /esp/a.txt");
	CHECK_EQ_INT(f->size, 12);
	CHECK(memcmp(f->data, "two  spaces\n", 12) == 0);
	sh("echo more >> /esp/a.txt");
	CHECK_STR(sh("cat /esp/a.txt"), "two  spaces\nmore\n");
	CHECK_STR(sh("echo a > b"), "error: echo /b: no such file or "
	    "directory\n");
	CHECK_STR(sh("echo plain words"), "plain words\n");
	sh("write /DATA/nope/x.txt hi");
	CHECK_STR(out, "error: write /DATA/nope/x.txt: no such file or "
	    "directory\n");
}

TEST(fs_mkdir_rmdir_rm_each_path)
{
	fixture();
	CHECK_STR(sh("mkdir /esp/t /esp/t/u"), "");
	CHECK(fv_get(&vesp, "t/u") && fv_get(&vesp, "t/u")->dir);
	sh("mkdir /esp/t");
	CHECK_STR(out, "error: mkdir /esp/t: file exists\n");
	sh("rmdir /esp/t");
	CHECK_STR(out, "error: rmdir /esp/t: directory not empty\n");
	sh("write /esp/t/a hi");
	sh("write /esp/t/b hi");
	/* One bad path among good ones: its error, and the rest done. */
	sh("rm /esp/t/a /esp/t/nothere /nomount/x /esp /esp/t/b");
	CHECK_EQ_INT(count_errors(out), 3);
	CHECK_CONTAINS(out, "error: rm /esp/t/nothere: no such file or "
	    "directory\n");
	CHECK_CONTAINS(out, "error: rm /nomount/x: no such file");
	CHECK_CONTAINS(out, "error: rm /esp: is a mount point\n");
	CHECK(!fv_get(&vesp, "t/a") && !fv_get(&vesp, "t/b"));
	CHECK_STR(sh("rmdir /esp/t/u /esp/t"), "");
	CHECK(!fv_get(&vesp, "t"));
	sh("rm /esp/patchbay");
	CHECK_STR(out, "error: rm /esp/patchbay: is a directory\n");
}

TEST(fs_cp_files_and_into_directories)
{
	struct fnode *f;

	fixture();
	CHECK_STR(sh("cp /DATA/notes.txt /esp/n.txt"), "");
	REQUIRE((f = fv_get(&vesp, "n.txt")));
	CHECK(f->size == 8 && memcmp(f->data, "one\ntwo\n", 8) == 0);
	/* Into a directory, under its own name. */
	CHECK_STR(sh("cp /esp/n.txt /esp/patchbay"), "");
	CHECK(fv_get(&vesp, "patchbay/n.txt") != NULL);
	/* Replacing a longer file. */
	sh("write /esp/long.txt aaaaaaaaaaaaaaaaaaaaaaaa");
	sh("cp /esp/n.txt /esp/long.txt");
	CHECK_STR(sh("cat /esp/long.txt"), "one\ntwo\n");
	/* Relative to cd. */
	sh("cd /esp/patchbay");
	CHECK_STR(sh("cp n.txt ../copy.txt"), "");
	CHECK(fv_get(&vesp, "copy.txt") != NULL);
	sh("cd /");
	CHECK_STR(sh("cp /esp/n.txt /esp/N.TXT"),
	    "error: cp /esp/n.txt: /esp/N.TXT is the same file\n");
	CHECK_STR(sh("cp /esp/patchbay /esp/x"),
	    "error: cp /esp/patchbay: is a directory\n");
	CHECK_STR(sh("cp /esp/none /esp/x"),
	    "error: cp /esp/none: no such file or directory\n");
	CHECK_STR(sh("cp /esp/n.txt /"),
	    "error: cp /: read-only file system\n");
}

TEST(fs_cp_large_file_pipelined)
{
	size_t n = 5 * CP_CHUNK + 77;
	uint8_t *data = malloc(n);
	struct fnode *f;

	fixture();
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	fv_put(&vesp, "big", data, n);
	CHECK_STR(sh("cp /esp/big /DATA/big"), "");
	REQUIRE((f = fv_get(&vdata, "big")));
	CHECK_EQ_INT(f->size, n);
	CHECK(memcmp(f->data, data, n) == 0);
	CHECK_EQ_INT(vesp.max_queued, CP_SLOTS);
	free(data);
}

TEST(fs_cp_full_volume)
{
	fixture();
	vdata.fail_op = FS_WRITE;
	vdata.fail_err = PB_ENOSPC;
	sh("cp /esp/patchbay/boot.cfg /DATA/b");
	CHECK_STR(out, "error: cp /DATA/b: no space left on the volume\n");
	vdata.fail_op = FS_OPEN;
	vdata.fail_err = PB_EROFS;
	sh("cp /esp/patchbay/boot.cfg /DATA/c");
	CHECK_STR(out, "error: cp /DATA/c: read-only file system\n");
}

TEST(fs_mv_renames_on_one_volume)
{
	fixture();
	sh("write /esp/a.txt hi");
	CHECK_STR(sh("mv /esp/a.txt /esp/b.txt"), "");
	CHECK(!fv_get(&vesp, "a.txt") && fv_get(&vesp, "b.txt"));
	CHECK_STR(sh("mv /esp/b.txt /esp/patchbay"), "");
	CHECK(fv_get(&vesp, "patchbay/b.txt") != NULL);
	/* A change of case. */
	CHECK_STR(sh("mv /esp/patchbay/b.txt /esp/patchbay/B.TXT"), "");
	CHECK_STR(fv_get(&vesp, "patchbay/b.txt")->name, "B.TXT");
	/* Over another file: it is replaced. */
	sh("write /esp/c.txt new");
	CHECK_STR(sh("mv /esp/c.txt /esp/patchbay/boot.cfg"), "");
	CHECK_STR(sh("cat /esp/patchbay/boot.cfg"), "new\n");
	/* Directories move; not into themselves. */
	CHECK_STR(sh("mkdir /esp/d"), "");
	CHECK_STR(sh("mv /esp/d /esp/e"), "");
	CHECK(fv_get(&vesp, "e") && fv_get(&vesp, "e")->dir);
	sh("mv /esp/e /esp/e/f");
	CHECK_EQ_INT(count_errors(out), 1);
	CHECK_CONTAINS(out, "cannot go into itself");
}

TEST(fs_mv_across_volumes_copies_then_removes)
{
	fixture();
	CHECK_STR(sh("mv /DATA/notes.txt /esp"), "");
	CHECK(!fv_get(&vdata, "notes.txt"));
	CHECK_STR(sh("cat /esp/notes.txt"), "one\ntwo\n");
	sh("mv /esp/patchbay /DATA");
	CHECK_STR(out, "error: mv /esp/patchbay: a directory cannot move to "
	    "another volume\n");
}

/* ---- the volumes as a whole, and the current directory ---------------- */

TEST(fs_df_and_sync)
{
	fixture();
	sh("df");
	CHECK_CONTAINS(out, "mount              size     used     free   use");
	CHECK_CONTAINS(out, "/esp                64M      16M      48M   25%  "
	    "fat32  rw\n");
	CHECK_EQ_INT(vesp.statfs + vdata.statfs, 2);
	CHECK_STR(sh("sync"), "");
	CHECK_EQ_INT(vesp.syncs, 1);
	CHECK_EQ_INT(vdata.syncs, 1);
}

static int synced_then;

static void
after_sync(void *arg)
{
	synced_then = *(int *)arg;
}

TEST(fs_sync_then_runs_after_every_volume)
{
	static int tag = 7;

	fixture();
	synced_then = 0;
	vdata.fail_op = FS_SYNC;
	vdata.fail_err = PB_EIO;
	CHECK_EQ_INT(sync_then("poweroff", after_sync, &tag), PB_OK);
	CHECK(held);
	pump();
	CHECK_EQ_INT(synced_then, 7);
	CHECK_STR(out, "error: poweroff /DATA: input/output error\n");
	CHECK(!held);
	CHECK_EQ_INT(allocs, 0);
	/* Nothing mounted: nothing to wait for. */
	reset();
	CHECK_EQ_INT(sync_then("poweroff", after_sync, &tag), PB_ENOENT);
}

TEST(fs_cd_and_pwd)
{
	fixture();
	CHECK_STR(sh("pwd"), "/\n");
	CHECK_STR(sh("cd /esp/patchbay/mods"), "");
	CHECK_STR(sh("pwd"), "/esp/patchbay/mods\n");
	CHECK_STR(sh("ls"), "Zed.mod\nacpi.mod\nshell.mod\n");
	CHECK_STR(sh("cd .."), "");
	CHECK_STR(sh("cat boot.cfg"), "watchdog=5000\n");
	CHECK_STR(sh("cd boot.cfg"), "error: cd /esp/patchbay/boot.cfg: "
	    "not a directory\n");
	CHECK_STR(sh("cd /nope"), "error: cd /nope: no such file or "
	    "directory\n");
	CHECK_STR(sh("pwd"), "/esp/patchbay\n");
	CHECK_STR(sh("cd ../../DATA"), "");
	CHECK_STR(sh("pwd"), "/DATA\n");
	CHECK_STR(sh("cd"), "");
	CHECK_STR(sh("pwd"), "/\n");
}

/* ---- when the provider misbehaves or goes --------------------------- */

TEST(fs_refused_submit_is_an_error_line)
{
	fixture();
	vesp.refuse = PB_ENOMEM;
	CHECK_STR(sh("cat /esp/patchbay/boot.cfg"),
	    "error: cat /esp/patchbay/boot.cfg: out of memory\n");
}

TEST(fs_volume_gone_mid_read)
{
	size_t n = 4 * CAT_CHUNK;
	char *data = calloc(1, n);

	fixture();
	fv_put(&vesp, "big", data, n);
	start("cat /esp/big");
	fv_run(&vesp);		/* the open */
	run_posted();		/* ...its completion: the reads go out */
	vesp.hold = 1;
	REQUIRE(vesp.qn > 0);
	mounts_event(PB_EV_DISCONNECTED, &cesp);
	pump();
	CHECK(!held);
	CHECK_STR(out, "error: cat /esp/big: the volume went away\n");
	CHECK(allocs > 0);	/* the provider still has the requests */
	/* They come back (cancelled, say): then all is freed. */
	vesp.hold = 0;
	pump();
	CHECK_EQ_INT(allocs, 0);
	CHECK(mount_find("esp") == NULL);
	free(data);
}

TEST(fs_other_volume_gone_changes_nothing)
{
	fixture();
	start("cat /esp/patchbay/boot.cfg");
	mounts_event(PB_EV_DISCONNECTED, &cdata);
	pump();
	CHECK_STR(out, "watchdog=5000\n");
	CHECK(!held);
}

TEST(fs_stalled_volume_times_out)
{
	fixture();
	vesp.hold = 1;
	start("cat /esp/patchbay/boot.cfg");
	pump();
	CHECK(held);
	time_passes(STALL_NS - 1000000);
	pump();
	CHECK(held);
	time_passes(1000000);		/* STALL_NS without an answer */
	pump();
	CHECK(!held);
	CHECK_STR(out, "error: cat /esp/patchbay/boot.cfg: no answer from "
	    "the volume in 30 s\n");
	vesp.hold = 0;
	pump();
	CHECK_EQ_INT(allocs, 0);
	CHECK_EQ_INT(timers_armed(), 0);
}

/* ---- formatting ------------------------------------------------------- */

static const char *
size_of(uint64_t b)
{
	static char s[16];

	size_text(b, s, sizeof(s));
	return s;
}

TEST(fs_size_text_as_df_h)
{
	CHECK_STR(size_of(0), "0B");
	CHECK_STR(size_of(1023), "1023B");
	CHECK_STR(size_of(1024), "1.0K");
	CHECK_STR(size_of(1536), "1.5K");
	CHECK_STR(size_of(10188), "9.9K");
	CHECK_STR(size_of(10189), "10K");
	CHECK_STR(size_of(1048063), "1023K");
	CHECK_STR(size_of(1048064), "1.0M");
	CHECK_STR(size_of(64ull << 20), "64M");
	CHECK_STR(size_of((3ull << 30) / 2), "1.5G");
	CHECK_STR(size_of(5ull << 40), "5.0T");
	CHECK_STR(size_of(~0ull), "16E");
}

TEST(fs_rate_and_time_text)
{
	char s[32];
	struct fs_time t = { 2024, 1, 2, 3, 4, 5, 0 }, none = { 0 };

	rate_text(10ull << 20, 1000000000ull, s, sizeof(s));
	CHECK_STR(s, "10.0 MiB/s");
	rate_text(1536ull << 10, 2000000000ull, s, sizeof(s));
	CHECK_STR(s, "0.7 MiB/s");
	rate_text(100, 0, s, sizeof(s));
	CHECK_STR(s, "95.3 MiB/s");
	time_text(&t, s, sizeof(s));
	CHECK_STR(s, "2024-01-02 03:04");
	time_text(&none, s, sizeof(s));
	CHECK_STR(s, "-");
}

TEST(fs_error_words)
{
	CHECK_STR(fs_strerror(PB_ENOENT), "no such file or directory");
	CHECK_STR(fs_strerror(PB_ENOTDIR), "not a directory");
	CHECK_STR(fs_strerror(PB_ENOSPC), "no space left on the volume");
	CHECK_STR(fs_strerror(PB_EROFS), "read-only file system");
	CHECK_STR(fs_strerror(-999), "unknown error");
}
