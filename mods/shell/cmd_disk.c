/*
 * cmd_disk.c - the disk commands: disks, blkread, blkswaptest.
 *
 * The shell takes every `block` resource (a PB_CARD_ALL requirement): its
 * connections follow each disk through swaps and the takeover, where the
 * hub rebinds them to the disk's next provider, and PB_CALL reads that
 * provider afresh on every call.  Reads are asynchronous (abi/block.h):
 * the requests are the shell's, each completing as a work item of its
 * own, so a long read holds the session (no prompt) but never the event
 * loop, as swaptest does (cmd_display.c).
 *
 *   disks                like lsblk: every disk and partition, its size,
 *                        model, driver, identity path; a disk whose
 *                        driver does not run but has clients is parked
 *                        (the takeover)
 *   blkread DISK [MIB] [-q N]
 *                        read the first MIB MiB (8 by default) in 128 KiB
 *                        requests, N at a time (1 by default): MiB/s and
 *                        the CRC-32 of the bytes (zlib's), for a test to
 *                        compare with the image file
 *   blkswaptest DISK N [MODULE]
 *                        read the first 4 MiB once, then read them over
 *                        and over, 4 requests at a time, while the disk's
 *                        provider is swapped N times (with MODULE and
 *                        back, or for a fresh copy of itself from the
 *                        boot ramdisk: `update`); every
 *                        block is checked against the first read, every
 *                        request must complete exactly once
 */
#include "shell.h"
#include "../../abi/block.h"

#define MAX_DISKS 16
#define CHUNK (128u << 10)		/* bytes per request, unless -s */
#define CHUNK_MAX (1024u << 10)
#define DEPTH_MAX 32			/* NCQ's 32 tags (the queue depth 32) */
#define READ_MIB_DEFAULT 8
#define SWAP_REGION (4u << 20)
#define SWAP_DEPTH 4
#define SWAP_MAX 1000
#define SWAP_EVERY 2			/* completions between two swaps */
#define SETTLE_NS 5000000000ull		/* a gone disk's last completions */

/* --- the connections ------------------------------------------------------ */

static struct pb_conn *disk[MAX_DISKS];

static void run_lost_disk(struct pb_conn *c);

void
disks_event(int ev, struct pb_conn *c)
{
	unsigned i;

	if (ev == PB_EV_CONNECTED) {
		for (i = 0; i < MAX_DISKS && disk[i] && disk[i] != c; i++)
			;
		if (i < MAX_DISKS)
			disk[i] = c;
		else if (shell_hub)
			pb_logf(shell_hub, shell_self, PB_LOG_WARN, "more than "
			    "%u disks: %s is not used", MAX_DISKS, c->res);
	} else if (ev == PB_EV_DISCONNECTED) {
		for (i = 0; i < MAX_DISKS; i++)
			if (disk[i] == c)
				disk[i] = NULL;
		run_lost_disk(c);
	}
	/* PB_EV_REBOUND: the same connection, another provider. */
}

void
disks_forget(void)
{
	memset(disk, 0, sizeof(disk));
}

/* The connection to "block:NAME" (NAME or the whole resource name). */
static struct pb_conn *
disk_named(const char *name)
{
	char full[48];

	if (strncmp(name, BLOCK_IFACE ":", sizeof(BLOCK_IFACE)) == 0)
		rt_strlcpy(full, name, sizeof(full));
	else
		rt_snprintf(full, sizeof(full), "%s:%s", BLOCK_IFACE, name);
	for (unsigned i = 0; i < MAX_DISKS; i++)
		if (disk[i] && disk[i]->res && strcmp(disk[i]->res, full) == 0)
			return disk[i];
	return NULL;
}

/* --- helpers ---------------------------------------------------------------- */

/* "65.0M", like lsblk: binary units, one decimal. */
static void
human(uint64_t bytes, char *out, size_t cap)
{
	static const char units[] = "KMGTPE";
	unsigned u = 0;
	uint64_t div = 1024;

	if (bytes < 1024) {
		rt_snprintf(out, cap, "%lluB", (unsigned long long)bytes);
		return;
	}
	while (u + 1 < sizeof(units) - 1 && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	rt_snprintf(out, cap, "%llu.%u%c", (unsigned long long)(bytes / div),
	    (unsigned)(bytes % div * 10 / div), units[u]);
}

/* Does a module of this name run?  (After an update the old instance
 * stays, quiesced, for its watch window, under the same name.) */
static int
mod_running(const char *name)
{
	struct pb_mod_info mi;

	for (unsigned i = 0; shell_hub->mod_info(i, &mi) == PB_OK; i++)
		if (strcmp(mi.name, name) == 0 && strcmp(mi.state, "running") == 0)
			return 1;
	return 0;
}

static int
disk_info(struct pb_conn *c, struct block_info *bi)
{
	*bi = (struct block_info){ .size = sizeof(*bi) };
	return PB_CALL(c, block_ops, info, bi);
}

/* --- disks ------------------------------------------------------------------ */

static void
disk_line(const struct pb_res_info *ri)
{
	struct pb_conn *c = disk_named(ri->name);
	char size[16], model[48], path[80], ro[4], driver[40];
	struct block_info bi;
	uint64_t bytes = 0;

	if (!rt_prop_get(ri->props, "path", path, sizeof(path)))
		rt_strlcpy(path, "-", sizeof(path));
	if (!rt_prop_get(ri->props, "model", model, sizeof(model)))
		rt_strlcpy(model, "-", sizeof(model));
	if (!rt_prop_get(ri->props, "ro", ro, sizeof(ro)))
		rt_strlcpy(ro, "?", sizeof(ro));
	if (c && disk_info(c, &bi) == PB_OK) {
		bytes = bi.block_count * bi.block_size;
		rt_strlcpy(ro, bi.flags & BLOCK_RO ? "1" : "0", sizeof(ro));
	} else if (rt_prop_get(ri->props, "size", size, sizeof(size))) {
		bytes = rt_strtou(size, NULL, 10);
	}
	human(bytes, size, sizeof(size));
	rt_snprintf(driver, sizeof(driver), "%s%s", ri->owner,
	    mod_running(ri->owner) ? "" : " (parked)");
	say("%-14s %7s %-3s %-20s %-16s %s", ri->name, size, ro, driver, model,
	    path);
}

int
cmd_disks(int argc, char **argv)
{
	struct pb_res_info ri;
	unsigned n = 0;

	(void)argc;
	(void)argv;
	for (unsigned i = 0; shell_hub->res_info(NULL, i, &ri) == PB_OK; i++) {
		if (strcmp(ri.iface, BLOCK_IFACE) != 0)
			continue;
		/* The shell takes every disk: one without clients is the old
		 * side of a swap in its watch window, hidden. */
		if (!ri.clients)
			continue;
		if (!n++)
			say("%-14s %7s %-3s %-20s %-16s %s", "NAME", "SIZE", "RO",
			    "DRIVER", "MODEL", "PATH");
		disk_line(&ri);
	}
	if (!n)
		say("disks: none");
	return PB_OK;
}

/* --- a run of reads: blkread and blkswaptest -------------------------------- */

struct io {
	struct block_req req;
	struct block_seg seg;
	uint8_t *buf;			/* run.chunk bytes */
	uint64_t chunk;			/* which chunk of the region */
	int busy;			/* submitted, its done not run yet */
	int ready;			/* done, not consumed yet (blkread) */
};

enum { RUN_READ = 1, RUN_SWAP_REF, RUN_SWAP };

static struct run {
	int kind;			/* 0: nothing runs */
	const char *cmd;
	struct pb_conn *conn;		/* NULL once the disk went */
	char name[48], owner[PB_NAME_MAX];
	uint32_t bs, chunk_blocks;
	uint32_t chunk;			/* bytes per request */
	int no_crc;			/* blkread -n: the rate of the reads alone */
	uint64_t nchunks, bytes;	/* the region */
	unsigned depth;
	struct io io[DEPTH_MAX];
	unsigned outstanding;
	uint64_t next;			/* the chunk submitted next */
	uint64_t consumed;		/* blkread: chunks summed, in order */
	uint32_t crc;
	uint64_t t0, t1;
	int stopping;
	int settle_timer;
	char error[160];
	/* blkswaptest */
	uint32_t *ref;			/* CRC-32 of each chunk, first read */
	uint32_t *blackout;		/* us, one per swap */
	unsigned want, swaps, since_swap;
	char from[PB_NAME_MAX], to[PB_NAME_MAX];
	uint64_t checked, corrupt, failed, duplicated;
} run;
static int poisoned;		/* a run left a request with a provider */

static void run_finish(void);
static void swapper(void *arg);

static void
run_error(const char *fmt, ...)
{
	va_list ap;

	if (run.error[0])
		return;			/* the first one says it */
	va_start(ap, fmt);
	rt_vsnprintf(run.error, sizeof(run.error), fmt, ap);
	va_end(ap);
	run.stopping = 1;
}

static uint32_t
chunk_len(uint64_t chunk)
{
	uint64_t left = run.bytes - chunk * run.chunk;

	return left < run.chunk ? (uint32_t)left : run.chunk;
}

static void
io_submit(struct io *io, uint64_t chunk)
{
	uint32_t len = chunk_len(chunk);
	int r;

	io->chunk = chunk;
	io->seg.len = len;
	io->req.op = BLOCK_READ;
	io->req.flags = 0;
	io->req.lba = chunk * run.chunk_blocks;
	io->req.count = len / run.bs;
	io->req.nseg = 1;
	io->req.segs = &io->seg;
	io->req.status = 1;		/* no status: PB_ codes are <= 0 */
	io->busy = 1;
	run.outstanding++;
	if ((r = PB_CALL(run.conn, block_ops, submit, &io->req)) != PB_OK) {
		io->busy = 0;
		run.outstanding--;
		run_error("%s refused the read at block %llu (%d)",
		    run.conn->res, (unsigned long long)io->req.lba, r);
	}
}

/* Submit the next chunk into io, if the run goes on. */
static void
io_next(struct io *io)
{
	if (run.stopping || !run.conn)
		return;
	if (run.kind == RUN_SWAP) {
		io_submit(io, run.next++ % run.nchunks);
	} else if (run.next < run.nchunks) {
		io_submit(io, run.next++);
	}
}

/* blkread: sum the chunks in order, each slot reading the next. */
static void
read_consume(void)
{
	for (;;) {
		struct io *io = &run.io[run.consumed % run.depth];

		if (!io->ready || io->chunk != run.consumed)
			return;
		io->ready = 0;
		if (io->req.status != PB_OK) {
			run_error("the read at block %llu failed (%d)",
			    (unsigned long long)io->req.lba,
			    (int)io->req.status);
			return;
		}
		if (!run.no_crc)
			run.crc = rt_crc32(run.crc, io->buf, io->seg.len);
		run.consumed++;
		io_next(io);
	}
}

/* blkswaptest: the first read gives each chunk's CRC, in order. */
static void
ref_consume(struct io *io)
{
	if (io->req.status != PB_OK) {
		run_error("the first read at block %llu failed (%d)",
		    (unsigned long long)io->req.lba, (int)io->req.status);
		return;
	}
	run.ref[io->chunk] = rt_crc32(0, io->buf, io->seg.len);
	if (run.next < run.nchunks) {
		io_submit(io, run.next++);
		return;
	}
	/* Every chunk has its CRC: stream and swap. */
	run.kind = RUN_SWAP;
	run.next = 0;
	run.t0 = shell_hub->now_ns();
	for (unsigned i = 0; i < run.depth && !run.stopping; i++)
		io_submit(&run.io[i], run.next++ % run.nchunks);
	if (shell_hub->queue_work(shell_self, swapper, NULL) != PB_OK)
		run_error("cannot queue work");
}

static void
swap_consume(struct io *io)
{
	run.checked++;
	run.since_swap++;
	if (io->req.status != PB_OK)
		run.failed++;
	else if (rt_crc32(0, io->buf, io->seg.len) != run.ref[io->chunk])
		run.corrupt++;
	io_next(io);
}

static int
run_over(void)
{
	return run.outstanding == 0 && (run.stopping ||
	    (run.kind == RUN_READ && run.consumed == run.nchunks));
}

/* A request's completion: the client's work. */
static void
io_done(void *arg)
{
	struct io *io = arg;

	if (!run.kind)
		return;
	if (!io->busy) {
		run.duplicated++;	/* completed twice */
		return;
	}
	io->busy = 0;
	run.outstanding--;
	switch (run.kind) {
	case RUN_READ:
		io->ready = 1;
		read_consume();
		break;
	case RUN_SWAP_REF:
		ref_consume(io);
		break;
	case RUN_SWAP:
		swap_consume(io);
		break;
	}
	if (run_over())
		run_finish();
}

/* The last completions did not come in time. */
static void
run_settled(void *arg)
{
	(void)arg;
	run.settle_timer = 0;
	run_finish();
}

/* The disk went away (the shell was told): no more submits; what was
 * submitted still completes (the provider's stop cancels it). */
static void
run_lost_disk(struct pb_conn *c)
{
	if (!run.kind || run.conn != c)
		return;
	run.conn = NULL;
	run_error("%s went away", run.name);
	if (run_over()) {
		run_finish();
		return;
	}
	run.settle_timer = shell_hub->timer_after(shell_self, SETTLE_NS,
	    run_settled, NULL);
}

static void
run_free(void)
{
	for (unsigned i = 0; i < DEPTH_MAX; i++)
		if (run.io[i].buf)
			shell_hub->free_pages(shell_self, run.io[i].buf,
			    run.chunk / 4096);
	shell_hub->free(shell_self, run.ref);
	shell_hub->free(shell_self, run.blackout);
	memset(&run, 0, sizeof(run));
}

static int
run_start(const char *cmd, const char *name, uint64_t bytes, unsigned depth,
    uint32_t chunk, int kind)
{
	struct pb_res_info ri;
	struct block_info bi;
	uint64_t phys;
	int r;

	if (run.kind)
		return fail("%s: %s is running", cmd, run.cmd);
	if (poisoned)
		return fail("%s: a request of an earlier run never completed; "
		    "its memory stays with the provider", cmd);
	memset(&run, 0, sizeof(run));
	run.cmd = cmd;
	run.chunk = chunk;
	if (!(run.conn = disk_named(name)))
		return fail("%s: no disk %s (see disks)", cmd, name);
	rt_strlcpy(run.name, run.conn->res, sizeof(run.name));
	for (unsigned i = 0; shell_hub->res_info(NULL, i, &ri) == PB_OK; i++)
		if (strcmp(ri.name, run.name) == 0)
			rt_strlcpy(run.owner, ri.owner, sizeof(run.owner));
	if ((r = disk_info(run.conn, &bi)) != PB_OK || !bi.block_size ||
	    run.chunk % bi.block_size || bi.max_transfer < run.chunk)
		return fail("%s: %s cannot be read in %u KiB requests (%d)",
		    cmd, run.name, run.chunk >> 10, r);
	run.bs = bi.block_size;
	run.chunk_blocks = run.chunk / bi.block_size;
	if (bytes > bi.block_count * bi.block_size)
		bytes = bi.block_count * bi.block_size;
	run.bytes = bytes - bytes % bi.block_size;
	run.nchunks = (run.bytes + run.chunk - 1) / run.chunk;
	if (!run.nchunks)
		return fail("%s: %s is empty", cmd, run.name);
	run.depth = depth < run.nchunks ? depth : (unsigned)run.nchunks;
	for (unsigned i = 0; i < run.depth; i++) {
		struct io *io = &run.io[i];

		io->buf = shell_hub->alloc_pages(shell_self, run.chunk / 4096,
		    PB_MEM_DMA32, &phys);
		if (!io->buf) {
			run_free();
			return fail("%s: out of memory", cmd);
		}
		io->seg = (struct block_seg){ .va = io->buf, .bus = phys };
		io->req = (struct block_req){ .size = sizeof(io->req),
		    .client_data = io };
		shell_hub->work_init(shell_self, &io->req.done, io_done, io);
	}
	run.kind = kind;
	run.t0 = shell_hub->now_ns();
	return PB_OK;
}

/* A number argument: 1..max, or 0. */
static uint64_t
number(const char *s, uint64_t max)
{
	const char *end;
	uint64_t v = rt_strtou(s, &end, 10);

	return end == s || *end || v < 1 || v > max ? 0 : v;
}

/* --- blkread ---------------------------------------------------------------- */

static void
read_report(void)
{
	uint64_t ns = run.t1 - run.t0, us = ns / 1000 ? ns / 1000 : 1;
	/* MiB/s with two decimals, in integers. */
	uint64_t mib100 = (run.bytes >> 10) * 100000000ull / 1024 / us;
	char crc[24] = "no crc32";

	if (!run.no_crc)
		rt_snprintf(crc, sizeof(crc), "crc32 %08x", run.crc);
	say("blkread: %s (%s): %llu KiB in %llu.%03llu s, %llu.%02llu MiB/s, "
	    "%s, %u at a time", run.name, run.owner,
	    (unsigned long long)(run.bytes >> 10),
	    (unsigned long long)(ns / 1000000000ull),
	    (unsigned long long)(ns / 1000000 % 1000),
	    (unsigned long long)(mib100 / 100),
	    (unsigned long long)(mib100 % 100), crc, run.depth);
}

int
cmd_blkread(int argc, char **argv)
{
	uint64_t mib = READ_MIB_DEFAULT, depth = 1, kib = CHUNK >> 10;
	const char *name = NULL;
	int no_crc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0) {
			no_crc = 1;
		} else if (strcmp(argv[i], "-q") == 0 && i + 1 < argc) {
			if (!(depth = number(argv[++i], DEPTH_MAX)))
				return fail("blkread: -q takes 1 to %u",
				    DEPTH_MAX);
		} else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			kib = number(argv[++i], CHUNK_MAX >> 10);
			if (!kib || kib % 4)
				return fail("blkread: -s takes KiB, a multiple "
				    "of 4 up to %u", CHUNK_MAX >> 10);
		} else if (!name) {
			name = argv[i];
		} else if (!(mib = number(argv[i], 1u << 20))) {
			return fail("blkread: %s is not a number of MiB",
			    argv[i]);
		}
	}
	if (!name)
		return fail("blkread: usage: blkread DISK [MIB] [-q N] [-s KIB] "
		    "[-n]");
	if (run_start("blkread", name, mib << 20, (unsigned)depth,
	    (uint32_t)kib << 10, RUN_READ) != PB_OK)
		return PB_EINVAL;
	run.no_crc = no_crc;
	for (unsigned i = 0; i < run.depth && !run.stopping; i++)
		io_submit(&run.io[i], run.next++);
	session_hold();
	if (run_over())
		run_finish();
	return PB_OK;
}

/* --- blkswaptest: the swaps --------------------------------------------------- */

struct answer {
	uint32_t us;
	int ok;
	char text[160];
};

static void
swap_line(void *arg, const char *line)
{
	struct answer *a = arg;
	const char *p;

	rt_strlcpy(a->text, line, sizeof(a->text));
	if (strncmp(line, "swapped ", 8) != 0 &&
	    strncmp(line, "updated ", 8) != 0)
		return;
	for (p = line; *p; p++)
		if (strncmp(p, "blackout ", 9) == 0) {
			a->us = (uint32_t)rt_strtou(p + 9, NULL, 10);
			a->ok = 1;
		}
}

/* One swap whenever requests completed since the last one (so the next
 * lands with reads queued at the provider), until N. */
static void
swapper(void *arg)
{
	struct answer a = { 0, 0, "" };
	char cmd[96];

	(void)arg;
	if (run.kind != RUN_SWAP || run.stopping || !run.conn)
		return;
	if (run.since_swap >= SWAP_EVERY) {
		run.since_swap = 0;
		if (strcmp(run.to, run.from) == 0)	/* a fresh copy of it */
			rt_snprintf(cmd, sizeof(cmd), "update %s %s.mod",
			    run.from, run.from);
		else
			rt_snprintf(cmd, sizeof(cmd), "swap %s %s",
			    run.conn->res, run.swaps % 2 ? run.from : run.to);
		if (shell_hub->control(shell_self, cmd, swap_line, &a) != PB_OK ||
		    !a.ok) {
			run_error("swap %u: %s", run.swaps + 1,
			    a.text[0] ? a.text : "no answer");
			return;
		}
		run.blackout[run.swaps++] = a.us;
		if (run.swaps == run.want) {
			run.stopping = 1;
			return;
		}
	}
	if (shell_hub->queue_work(shell_self, swapper, NULL) != PB_OK)
		run_error("cannot queue work");
}

static void
sort(uint32_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void
swap_report(void)
{
	uint32_t median = 0, worst = 0;

	if (run.swaps) {
		sort(run.blackout, run.swaps);
		median = run.swaps % 2 ? run.blackout[run.swaps / 2] :
		    (run.blackout[run.swaps / 2 - 1] +
		    run.blackout[run.swaps / 2]) / 2;
		worst = run.blackout[run.swaps - 1];
	}
	say("blkswaptest: %s, %llu KiB, %llu reads checked, %llu failed, "
	    "%s <-> %s", run.name, (unsigned long long)(run.bytes >> 10),
	    (unsigned long long)run.checked, (unsigned long long)run.failed,
	    run.from, run.to);
	say("blkswaptest: %u swaps, %u lost, %llu duplicated, %llu corrupt, "
	    "blackout median %u us worst %u us", run.swaps, run.outstanding,
	    (unsigned long long)run.duplicated,
	    (unsigned long long)run.corrupt, median, worst);
}

int
cmd_blkswaptest(int argc, char **argv)
{
	uint64_t n = number(argv[2], SWAP_MAX);

	if (!n)
		return fail("blkswaptest: N must be 1 to %u", SWAP_MAX);
	if (run_start("blkswaptest", argv[1], SWAP_REGION, SWAP_DEPTH, CHUNK,
	    RUN_SWAP_REF) != PB_OK)
		return PB_EINVAL;
	run.want = (unsigned)n;
	rt_strlcpy(run.from, run.owner, sizeof(run.from));
	/* Without MODULE, the provider is swapped for a fresh copy. */
	rt_strlcpy(run.to, argc == 4 ? argv[3] : run.owner, sizeof(run.to));
	run.ref = shell_hub->alloc(shell_self, run.nchunks * sizeof(*run.ref));
	run.blackout = shell_hub->alloc(shell_self, n * sizeof(*run.blackout));
	if (!run.ref || !run.blackout) {
		run_free();
		return fail("blkswaptest: out of memory");
	}
	say("blkswaptest: %u swaps of %s's provider, %s <-> %s, while reading "
	    "%llu KiB %u at a time", run.want, run.name, run.from, run.to,
	    (unsigned long long)(run.bytes >> 10), SWAP_DEPTH);
	/* The first read, one chunk at a time, in order. */
	run.next = 1;
	io_submit(&run.io[0], 0);
	session_hold();
	if (run_over())
		run_finish();
	return PB_OK;
}

/* --- the end of a run ---------------------------------------------------------- */

static void
run_finish(void)
{
	if (!run.kind)
		return;
	if (run.settle_timer > 0)
		shell_hub->timer_cancel(shell_self, run.settle_timer);
	run.t1 = shell_hub->now_ns();
	if (run.kind == RUN_READ && !run.error[0])
		read_report();
	else if (run.kind == RUN_SWAP)
		swap_report();
	if (run.duplicated && run.kind != RUN_SWAP)
		run_error("%llu requests completed twice",
		    (unsigned long long)run.duplicated);
	if (run.error[0])
		fail("%s: %s", run.cmd, run.error);
	if (run.outstanding) {
		/* Their buffers may still be written: they stay allocated,
		 * and no run starts again. */
		fail("%s: %u requests never completed", run.cmd,
		    run.outstanding);
		poisoned = 1;
		run.kind = 0;
		run.cmd = NULL;
	} else {
		run_free();
	}
	session_release();
}
