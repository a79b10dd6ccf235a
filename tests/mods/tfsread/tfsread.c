/*
 * tfsread - test module: a client of `fs` that reads one file start to
 * end, over and over, through the same open handle, so that the block
 * provider under the volume and the fs provider itself can be swapped
 * while it streams (the handle survives both, abi/fs.h).
 *
 * boot.cfg: tfsread=PATH (from a volume's root, e.g.
 * patchbay/mods/fbcon.mod; without it tfsread does nothing),
 * tfsread-passes=N (20 by default), tfsread-pause=MS (between passes,
 * 50 by default).  The file is opened on the first
 * connected volume where FS_OPEN succeeds, then read in 64 KiB FS_READs,
 * two in flight, at explicit offsets; each pass's FNV-1a 64 is logged:
 *   tfsread: pass 3 of patchbay/mods/fbcon.mod: 123456 bytes, fnv1a64
 *   0123456789abcdef, via fs:ESP
 * and at the end:
 *   tfsread: done, 20 passes, 0 mismatched
 * A pass is mismatched when a read failed, its byte count is not the
 * size FS_OPEN answered, or its hash differs from the first pass's.
 * The pause between passes leaves room for the shell's commands.
 */
#include "../../../abi/pbmod.h"
#include "../../../abi/fs.h"

#define CHUNK (64u << 10)
#define DEPTH 2
#define VOLS_MAX 8
#define PAUSE_MS 50
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

struct io {
	struct fs_req req;
	uint8_t *buf;
	int busy;			/* submitted, not completed */
	int ready;			/* completed, waiting for its turn */
};

enum phase { IDLE, OPENING, READING, PAUSED, OVER };

static const struct pb_hub *hub;
static struct pb_module *self;
static struct {
	char path[FS_PATH_MAX];
	unsigned passes;
	uint64_t pause_ns;
	struct pb_conn *vols[VOLS_MAX];	/* connected volumes, in order */
	unsigned nvols;
	unsigned tried;			/* volumes FS_OPEN failed on */
	struct pb_conn *conn;		/* the volume the handle is on */
	struct fs_req open;
	uint32_t handle;
	uint64_t size;
	enum phase phase;
	struct io io[DEPTH];
	unsigned outstanding;
	uint64_t next, consumed;	/* reads submitted, hashed in order */
	uint64_t bytes, hash, first_hash;
	int failed;			/* a read of this pass failed */
	unsigned pass, mismatched;
} t;

static void
say(const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hub->log(self, PB_LOG_INFO, line);
}

static uint64_t
fnv1a64(uint64_t h, const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static uint64_t
nreads(void)
{
	return (t.size + CHUNK - 1) / CHUNK;
}

static void
submit_read(struct io *io, uint64_t k)
{
	uint64_t left = t.size - k * CHUNK;
	int r;

	io->req.op = FS_READ;
	io->req.handle = t.handle;
	io->req.path = NULL;
	io->req.offset = k * CHUNK;
	io->req.buf = io->buf;
	io->req.len = left < CHUNK ? left : CHUNK;
	io->req.result = 0;
	io->req.status = 1;
	io->req.client_data = (void *)(uintptr_t)k;
	io->busy = 1;
	t.outstanding++;
	if ((r = PB_CALL(t.conn, fs_ops, submit, &io->req)) != PB_OK) {
		io->busy = 0;
		t.outstanding--;
		t.failed = 1;
		say("read at %llu of %s refused (%d)",
		    (unsigned long long)io->req.offset, t.path, r);
	}
}

static void next_pass(void *arg);

static void
finish(void)
{
	t.phase = OVER;
	say("done, %u passes, %u mismatched", t.pass, t.mismatched);
}

static void
pass_over(void)
{
	if (t.pass == 1)
		t.first_hash = t.hash;
	if (t.failed || t.bytes != t.size || t.hash != t.first_hash)
		t.mismatched++;
	say("pass %u of %s: %llu bytes, fnv1a64 %016llx, via %s%s", t.pass,
	    t.path, (unsigned long long)t.bytes, (unsigned long long)t.hash,
	    t.conn ? t.conn->res : "nothing", t.failed ? ", a read failed" :
	    "");
	if (t.pass >= t.passes || !t.conn) {
		finish();
		return;
	}
	t.phase = PAUSED;
	if (hub->timer_after(self, t.pause_ns, next_pass, NULL) < 0) {
		say("cannot arm the timer between passes");
		finish();
	}
}

/* Reads in order: hash them and keep two in flight. */
static void
consume(void)
{
	for (;;) {
		struct io *io = &t.io[t.consumed % DEPTH];

		if (!io->ready ||
		    (uint64_t)(uintptr_t)io->req.client_data != t.consumed)
			return;
		io->ready = 0;
		if (io->req.status != PB_OK) {
			if (!t.failed)
				say("read at %llu of %s failed (%d)",
				    (unsigned long long)io->req.offset, t.path,
				    (int)io->req.status);
			t.failed = 1;
		} else {
			uint64_t n = io->req.result < io->req.len ?
			    io->req.result : io->req.len;

			t.hash = fnv1a64(t.hash, io->buf, n);
			t.bytes += n;
		}
		t.consumed++;
		if (t.conn && !t.failed && t.next < nreads())
			submit_read(io, t.next++);
	}
}

static void
read_done(void *arg)
{
	struct io *io = arg;

	if (!io->busy) {
		say("a read completed twice");
		return;
	}
	io->busy = 0;
	t.outstanding--;
	io->ready = 1;
	consume();
	if (!t.outstanding && t.phase == READING)
		pass_over();
}

static void
next_pass(void *arg)
{
	(void)arg;
	if (t.phase != PAUSED && t.phase != OPENING)
		return;
	t.phase = READING;
	t.pass++;
	t.next = t.consumed = t.bytes = 0;
	t.hash = FNV_OFFSET;
	t.failed = 0;
	for (unsigned i = 0; i < DEPTH && t.next < nreads(); i++)
		submit_read(&t.io[i], t.next++);
	if (!t.outstanding)
		pass_over();	/* an empty file, or every submit refused */
}

static void try_open(void *arg);

static void
open_done(void *arg)
{
	(void)arg;
	if (!t.conn) {			/* the volume went while opening */
		t.tried++;
		t.phase = IDLE;
		try_open(NULL);
		return;
	}
	if (t.open.status != PB_OK) {
		say("cannot open %s on %s (%d)", t.path, t.conn->res,
		    (int)t.open.status);
		t.tried++;
		t.conn = NULL;
		t.phase = IDLE;
		try_open(NULL);
		return;
	}
	t.handle = t.open.handle;
	t.size = t.open.result;
	say("opened %s on %s: %llu bytes, handle %u", t.path, t.conn->res,
	    (unsigned long long)t.size, t.handle);
	next_pass(NULL);
}

/* FS_OPEN on the next volume not tried yet; a volume connected later
 * tries again. */
static void
try_open(void *arg)
{
	int r;

	(void)arg;
	while (t.phase == IDLE && t.tried < t.nvols) {
		if (!(t.conn = t.vols[t.tried])) {
			t.tried++;	/* gone before its turn */
			continue;
		}
		t.open.op = FS_OPEN;
		t.open.flags = FS_O_READ;
		t.open.path = t.path;
		t.open.status = 1;
		t.phase = OPENING;
		if ((r = PB_CALL(t.conn, fs_ops, submit, &t.open)) == PB_OK)
			return;
		say("open of %s on %s refused (%d)", t.path, t.conn->res, r);
		t.phase = IDLE;
		t.conn = NULL;
		t.tried++;
	}
}

static int
buffers(void)
{
	uint64_t phys;

	t.open = (struct fs_req){ .size = sizeof(t.open) };
	hub->work_init(self, &t.open.done, open_done, NULL);
	for (unsigned i = 0; i < DEPTH; i++) {
		struct io *io = &t.io[i];

		if (!(io->buf = hub->alloc_pages(self, CHUNK / 4096,
		    PB_MEM_DMA32, &phys)))
			return PB_ENOMEM;
		io->req = (struct fs_req){ .size = sizeof(io->req) };
		hub->work_init(self, &io->req.done, read_done, io);
	}
	return PB_OK;
}

static void
tfsread_event(struct pb_module *m, int ev, struct pb_conn *c, int req)
{
	(void)m;
	(void)req;
	switch (ev) {
	case PB_EV_CONNECTED:
		if (!t.path[0] || t.nvols == VOLS_MAX)
			return;
		t.vols[t.nvols++] = c;
		if (t.phase == IDLE &&
		    hub->queue_work(self, try_open, NULL) != PB_OK)
			say("cannot queue work");
		break;
	case PB_EV_REBOUND:
		if (c == t.conn)
			say("rebound: now %s, %u reads waiting, pass %u",
			    c->res, t.outstanding, t.pass);
		break;
	case PB_EV_DISCONNECTED:
		for (unsigned i = 0; i < t.nvols; i++)
			if (t.vols[i] == c)
				t.vols[i] = NULL;
		if (c != t.conn)
			return;
		say("%s went away, %u reads waiting", c->res, t.outstanding);
		t.conn = NULL;
		if (t.phase == PAUSED)
			finish();
		break;
	}
}

static int
tfsread_start(struct pb_module *m, const struct pb_hub *h, int mode)
{
	char v[16];

	(void)mode;
	self = m;
	hub = h;
	memset(&t, 0, sizeof(t));
	if (h->size < offsetof(struct pb_hub, work_cancel))
		return PB_ENOTSUP;
	t.passes = 20;
	if (pb_setting(h, "tfsread-passes", v, sizeof(v)))
		t.passes = (unsigned)rt_strtou(v, NULL, 10);
	if (!t.passes)
		t.passes = 20;
	t.pause_ns = PAUSE_MS * 1000000ull;
	if (pb_setting(h, "tfsread-pause", v, sizeof(v)))
		t.pause_ns = rt_strtou(v, NULL, 10) * 1000000ull;
	if (!pb_setting(h, "tfsread", t.path, sizeof(t.path)))
		return PB_OK;	/* nothing to read: only holds the volumes */
	return buffers();
}

static const struct pb_module_ops ops = {
	.start = tfsread_start,
	.event = tfsread_event,
};

PB_MODULE(.name = "tfsread", .version = "1.0",
    .desc = "test: reads one file over and over through one fs handle",
    .flags = PB_MOD_AUTOSTART, .ops = &ops,
    .nrequires = 1,
    .requires = { PB_REQUIRE(FS_IFACE, FS_MAJOR, FS_MINOR,
	PB_CARD_ALL, PB_LATER) });
