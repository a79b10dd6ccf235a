/*
 * fuzzmod_fat.c - libFuzzer target for the fat module (mods/fat): a
 * volume described by the input is mounted, every directory read, every
 * file read, and (in write mode) changed, then unmounted.
 *
 * Input: byte 0 is the mode (bit 0: a writable disk, and a few writes;
 * bit 1 with it: a restart after a fault, below), bytes 1-4 the disk's
 * size in 512-byte sectors (little-endian, 64 at least), then records of
 * a 4-byte sector number and that sector's 512 bytes; every other sector
 * reads as zeros (fatfake.h's sparse disk).  So a 40 MiB FAT32 volume is a
 * few kilobytes of input.  The cache is the smallest there is
 * (fs-cache=256), so eviction and write-back run.
 *
 * A restart: after the writes, a file is written and not synced, the
 * state is taken as the hub takes it from a faulted fat (mods/fat/state.c:
 * volumes, handles, the unwritten blocks), and the bytes after the last
 * whole record change it: a 2-byte offset into the state, then bytes
 * XORed in from there.  A new instance is given it (import_state must
 * take it whole or refuse it whole), mounts, and is walked and unmounted
 * like the first.
 *
 * Beyond the sanitizers it traps on broken promises: a request never
 * completed or completed twice, a block request outside the disk's
 * limits, a directory entry whose name is not what its length says, a
 * read longer than asked, a job queue that never goes idle, memory not
 * given back after stop.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_fat/ (made by tests/fuzz/mkseeds-fat
 * with mkfs.fat and mtools).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/pbmod.h"
#include "../host/fatsrc.h"
#include "../host/fatfake.h"

#define REC 516
#define READ_BUDGET (1u << 20)
#define ENTRY_BUDGET 300

static struct pb_conn fz;
static struct ff_disk *fzd;
static uint8_t fzbuf[64 * 1024];
static struct fs_dirent fzents[8];
static unsigned entries;
static uint64_t read_left;

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* Every call completes exactly once, within limits the disk accepts. */
static int
checked(int r)
{
	must(r != -999 && r != -998);
	must(fzd->bad == 0);
	return r;
}

static void
read_file(const char *path)
{
	struct fs_stat st;
	uint64_t got, off = 0;
	uint32_t h;

	checked(ff_stat(&fz, path, 0, &st));
	if (checked(ff_open(&fz, path, FS_O_READ, &h)) != PB_OK)
		return;
	while (read_left > 0) {
		uint64_t n = read_left < sizeof(fzbuf) ? read_left : sizeof(fzbuf);

		if (checked(ff_read(&fz, h, off, fzbuf, n, &got)) != PB_OK ||
		    got == 0)
			break;
		must(got <= n);
		read_left -= got;
		off += got;
	}
	checked(ff_close(&fz, h));
}

static void
walk(const char *path, int depth)
{
	char child[FS_PATH_MAX];
	uint32_t h;
	unsigned n;

	if (depth > 5 || checked(ff_open(&fz, path, FS_O_DIR, &h)) != PB_OK)
		return;
	for (uint64_t off = FS_REWIND; entries < ENTRY_BUDGET;
	    off = FS_CURSOR) {
		struct fs_dirent d[8];

		if (checked(ff_readdir(&fz, h, off, fzents, 8, &n)) != PB_OK ||
		    n == 0)
			break;
		must(n <= 8);
		memcpy(d, fzents, n * sizeof(d[0]));
		for (unsigned i = 0; i < n && entries < ENTRY_BUDGET; i++) {
			entries++;
			must(d[i].name_len == strnlen(d[i].name,
			    sizeof(d[i].name)));
			must(d[i].name_len > 0);
			rt_snprintf(child, sizeof(child), "%s/%s", path,
			    d[i].name);
			if (d[i].type == FS_TYPE_DIR)
				walk(child, depth + 1);
			else
				read_file(child);
		}
	}
	checked(ff_close(&fz, h));
}

/* A few changes, whatever the volume holds. */
static void
mutate(void)
{
	static const char name[] = "a new file with a long name.txt";
	uint32_t h;
	uint64_t put;

	memset(fzbuf, 0x5a, 20000);
	if (checked(ff_open(&fz, name, FS_O_WRITE | FS_O_CREATE, &h)) ==
	    PB_OK) {
		checked(ff_write(&fz, h, 0, fzbuf, 20000, &put));
		checked(ff_write(&fz, h, 70000, fzbuf, 100, &put));
		checked(ff_truncate(&fz, h, 3000));
		checked(ff_close(&fz, h));
	}
	checked(ff_path_op(&fz, FS_MKDIR, "fz", NULL));
	checked(ff_path_op(&fz, FS_RENAME, name, "fz/moved.txt"));
	checked(ff_path_op(&fz, FS_UNLINK, "fz/moved.txt", NULL));
	checked(ff_path_op(&fz, FS_RMDIR, "fz", NULL));
	checked(ff_path_op(&fz, FS_SYNC, NULL, NULL));
}

/* The state as the hub takes it from a faulted instance, then its
 * memory goes (stop, without a quiesce); the state changed by `mask`. */
static void *
fault_state(const uint8_t *mask, size_t n, size_t *len, uint32_t *ver)
{
	struct fs_state *st;
	uint8_t *blob;
	size_t at;

	must(fat_ops.export_state(FF_SELF, NULL, 0, len, ver) == PB_OK);
	must((blob = malloc(*len)) != NULL);
	must(fat_ops.export_state(FF_SELF, blob, *len, len, ver) == PB_OK);
	fat_ops.release(FF_SELF);
	fat_ops.stop(FF_SELF);
	must(ff_pump());
	must(ff_allocs == 0);
	if (n >= 2) {
		at = get16(mask) % *len;
		for (size_t i = 2; i < n && at < *len; i++)
			blob[at++] ^= mask[i];
	}
	/* The requests are the clients' pointers: none was pending, and
	 * none is made up. */
	st = (struct fs_state *)blob;
	st->nreqs = st->nmreqs = 0;
	if (st->nvols <= FAT_MAX_VOLS && *len >= sizeof(*st) + st->nvols *
	    sizeof(struct fs_state_vol))
		for (unsigned i = 0; i < st->nvols; i++) {
			struct fs_state_vol *sv = (struct fs_state_vol *)
			    (st + 1) + i;

			sv->nreqs = sv->nmreqs = 0;
		}
	return blob;
}

/* fat faults with a file written and not synced; a new instance takes
 * its (changed) state over: 1.  0 when it refuses it or cannot activate
 * with it (the hub then stops it: it is not unmounted). */
static int
restart(const uint8_t *mask, size_t n)
{
	uint32_t h, ver;
	uint64_t put;
	size_t len;
	void *blob;
	int taken;

	memset(fzbuf, 0x3c, 700);
	if (checked(ff_open(&fz, "kept.bin", FS_O_WRITE | FS_O_CREATE, &h)) ==
	    PB_OK) {
		for (int i = 0; i < 4; i++)
			checked(ff_write(&fz, h, FS_CURSOR, fzbuf, 700, &put));
	}
	blob = fault_state(mask, n, &len, &ver);
	must(fat_ops.start(FF_SELF, &ff_hub, PB_START_STANDBY) == PB_OK);
	taken = fat_ops.import_state(FF_SELF, blob, len, ver) == PB_OK &&
	    fat_ops.activate(FF_SELF) == PB_OK;
	free(blob);
	must(ff_pump());
	if (!taken)
		return 0;
	if (ff_fs_conn("fs:fuzz", &fz))
		walk("", 0);
	return 1;
}

static void
unmount(void)
{
	int r = PB_EAGAIN;

	for (int i = 0; i < 50 && r == PB_EAGAIN; i++) {
		r = fat_ops.quiesce(FF_SELF);
		must(ff_pump());
	}
	must(r == PB_OK);
	fat_ops.stop(FF_SELF);
	must(ff_pump());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t sectors;
	struct ff_sparse *sp;

	if (size < 5)
		return 0;
	ff_reset();
	ff_quiet = 1;
	ff_pump_max = 200000;
	sectors = get32(data + 1);
	if (sectors < 64)
		sectors = 64;
	if (sectors > (1u << 23))
		sectors = 1u << 23;
	sp = malloc(sizeof(*sp));
	must(sp != NULL);
	sp->n = 0;
	memset(sp->index, 0xff, sizeof(sp->index));
	for (size_t off = 5; off + REC <= size; off += REC) {
		uint32_t lba = get32(data + off);
		uint8_t *p;

		if (lba < sectors && (p = ff_sparse_get(sp, lba, 1)))
			memcpy(p, data + off + 4, 512);
	}
	fzd = ff_disk_add("fuzz", NULL, (uint64_t)sectors * 512,
	    "fat=1 disk=block:d path=fuzz");
	fzd->sparse = sp;
	if (!(data[0] & 1))
		fzd->info.flags |= BLOCK_RO;
	/* The smallest cache: eviction and write-back run, and a mount
	 * costs little. */
	rt_strlcpy(ff_cfg, "fs-cache=256", sizeof(ff_cfg));
	must(fat_ops.start(FF_SELF, &ff_hub, PB_START_NORMAL) == PB_OK);
	must(ff_pump());
	entries = 0;
	read_left = READ_BUDGET;
	if (ff_fs_conn("fs:fuzz", &fz)) {
		walk("", 0);
		if (data[0] & 1)
			mutate();
		if ((data[0] & 3) == 3) {
			size_t tail = (size - 5) % REC;

			if (!restart(data + size - tail, tail)) {
				fat_ops.stop(FF_SELF);
				must(ff_pump());
				must(ff_allocs == 0);
				return 0;
			}
		}
	}
	unmount();
	must(ff_allocs == 0);
	return 0;
}
