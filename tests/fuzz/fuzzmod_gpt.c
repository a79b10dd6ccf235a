/*
 * fuzzmod_gpt.c - libFuzzer target for the gpt module's scanner
 * (mods/gpt: scan.c, gptparse.c, mbrparse.c, names.c, props.c).
 *
 * Input: a mode byte, the disk's size in blocks (4 bytes, little-endian;
 * 0: as many as the data holds), then the data, block after block.
 *   mode & 3: the block size, 512 << (mode & 3)
 *   mode & 4: blocks past the data fail to read (PB_EIO); without it they
 *             repeat the data (block n reads data block n % count), so a
 *             few blocks of input make a backup GPT at the end of a large
 *             disk, or EBRs far apart
 *   mode & 8: the size is taken << 24: disks of up to 2^56 blocks
 * Every read gets a buffer of exactly the bytes asked for, so ASan sees
 * any read past what the scanner was given.  Beyond the sanitizers it
 * traps on broken promises: a partition outside the disk or its usable
 * blocks, two that overlap, a name that is not one property word, props
 * longer than the hub keeps, a scan that reads without end, a disk left
 * alone without a reason or with partitions.
 *
 * Seeds: tests/fuzz/seeds/fuzzmod_gpt/ (made by tests/fuzz/mkseeds-gpt).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../abi/rt/crc32.c"
#include "../../mods/gpt/names.c"
#include "../../mods/gpt/scan.c"
#include "../../mods/gpt/gptparse.c"
#include "../../mods/gpt/mbrparse.c"
#include "../../mods/gpt/props.c"

static const uint8_t *data;
static uint64_t data_blocks;
static unsigned log_lines;
static struct scan S;

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void
fz_log(void *arg, int level, const char *msg)
{
	(void)arg;
	must(level >= PB_LOG_ERR && level <= PB_LOG_DEBUG && msg && *msg);
	log_lines++;
}

static int
fz_read(uint64_t lba, uint32_t count, uint8_t *buf, int fail_past)
{
	uint32_t bs = S.bs;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t b = lba + i;

		if (b >= data_blocks) {
			if (fail_past)
				return PB_EIO;
			b %= data_blocks;
		}
		memcpy(buf + (size_t)i * bs, data + b * bs, bs);
	}
	return PB_OK;
}

/* One property word: valid UTF-8, no space or control character. */
static void
check_name(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;

	while (*p) {
		unsigned n = *p < 0x80 ? 0 : *p >= 0xf0 ? 3 :
		    *p >= 0xe0 ? 2 : 1;

		must(*p > 0x20 && *p != 0x7f && (*p < 0x80 || *p >= 0xc2));
		p++;
		for (unsigned i = 0; i < n; i++, p++)
			must((*p & 0xc0) == 0x80);
	}
	must(strlen(s) < PART_NAME_MAX);
}

static void
check_result(void)
{
	char props[GPT_PROPS];

	must(S.state == ST_DONE);
	must(log_lines <= SCAN_LOG_MAX + 1);
	if (S.kind == SCAN_NONE) {
		must(S.nparts == 0 && S.why[0]);
		return;
	}
	must(S.nparts <= PART_MAX);
	for (unsigned i = 0; i < S.nparts; i++) {
		const struct part *p = &S.parts[i];
		size_t n;

		must(p->num >= 1 && p->first >= 1 && p->first <= p->last &&
		    p->last < S.nblocks);
		if (S.kind == SCAN_GPT)
			must(p->first >= S.hdr.first_usable &&
			    p->last <= S.hdr.last_usable);
		for (unsigned k = 0; k < i; k++)
			must(p->last < S.parts[k].first ||
			    p->first > S.parts[k].last);
		check_name(p->name);
		n = part_props(props, sizeof(props), "pci:00:1f.2/sata:0",
		    "block:sata0", S.bs, S.kind, S.disk_sig, p);
		must(n == strlen(props) && n < sizeof(props));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	uint32_t bs, size32;
	uint64_t nblocks, lba;
	unsigned reads = 0;
	uint32_t count;
	uint8_t mode;

	if (size < 5)
		return 0;
	mode = in[0];
	bs = 512u << (mode & 3);
	memcpy(&size32, in + 1, 4);
	data = in + 5;
	data_blocks = (size - 5) / bs;
	if (!data_blocks)
		return 0;
	nblocks = size32 ? size32 : data_blocks;
	if (mode & 8)
		nblocks <<= 24;
	log_lines = 0;
	scan_init(&S, bs, nblocks, fz_log, NULL);
	while (scan_next(&S, &lba, &count)) {
		size_t len = (size_t)count * bs;
		uint8_t *buf;
		int r;

		must(++reads <= EBR_MAX + 5 && count >= 1 &&
		    len <= scan_read_max(bs) && lba < nblocks &&
		    count <= nblocks - lba);
		buf = malloc(len);
		r = fz_read(lba, count, buf, mode & 4);
		scan_feed(&S, r == PB_OK ? buf : NULL, r);
		free(buf);
	}
	check_result();
	return 0;
}
