/*
 * fakemod.c - fake modules for the hub's core tests (see fakemod.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakemod.h"
#include "../../hub/pe_format.h"

#define ARENA_SIZE (4u << 20)

struct fm fms[MAX_MODULES];
char fm_trace[4096];
unsigned char fm_last_export[FM_BLOB_MAX];
size_t fm_last_export_len;
unsigned char fm_last_import[FM_BLOB_MAX];
size_t fm_last_import_len;
uint32_t fm_last_import_version;
void (*fm_step_hook)(struct fm *f, int step);
void (*fm_event_hook)(struct fm *f, int event, struct pb_conn *c, int req);

static void *arena;		/* the page allocator's memory, this test */
static char logbuf[65536];	/* what the hub logged, this test */
static size_t loglen;
static int swept_timers;	/* hub timer ids up to this one are gone */
static uint64_t default_watch_ns;
static int have_default_watch;

/* --- the trace ------------------------------------------------------------ */

static void __attribute__((format(printf, 1, 2)))
tracef(const char *fmt, ...)
{
	size_t n = strlen(fm_trace);
	va_list ap;

	if (n && n + 1 < sizeof(fm_trace))
		fm_trace[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(fm_trace + n, sizeof(fm_trace) - n, fmt, ap);
	va_end(ap);
}

void
fm_trace_clear(void)
{
	fm_trace[0] = '\0';
}

/* One step of an entry point: trace it, move the clock, then fault or
 * fail if told to. */
static int
step(struct fm *f, int which, const char *what)
{
	tracef("%s.%s", f->m->name, what);
	fake_now += f->tick_ns;
	if (fm_step_hook)
		fm_step_hook(f, which);
	if (f->fault_at == which)
		fake_fault(f->m);
	if (f->fail_at == which)
		return f->fail_err;
	return PB_OK;
}

/* --- tcon: the interface fake providers serve ------------------------------ */

static int
tcon_write(void *ctx, const char *s)
{
	struct fm_inst *in = ctx;
	size_t n = strlen(in->text);

	if (in->fm->fault_at == FM_WRITE)
		fake_fault(in->fm->m);
	if (in->fm->quiesced)
		return PB_EBUSY;
	in->writes++;
	for (const char *p = s; *p; p++)
		in->lines += *p == '\n';
	snprintf(in->text + n, sizeof(in->text) - n, "%s", s);
	return PB_OK;
}

static int
tcon_flush(void *ctx)
{
	struct fm_inst *in = ctx;

	if (in->fm->quiesced)
		return PB_EBUSY;
	in->text[0] = '\0';
	return PB_OK;
}

static unsigned
tcon_lines(void *ctx)
{
	return ((struct fm_inst *)ctx)->lines;
}

#define TCON_OPS { tcon_write, tcon_flush, tcon_lines }
const struct tcon_ops fm_tcon_ops[4] = { TCON_OPS, TCON_OPS, TCON_OPS,
    TCON_OPS };

/* --- the state blob ------------------------------------------------------- */

#define BLOB_MAGIC 0x4e4f4354u	/* "TCON" */

static size_t
blob_size(const struct fm *f)
{
	size_t n = 12;

	for (int k = 0; k < f->npub; k++)
		n += 8 + strlen(f->inst[k].text);
	return n + f->pad;
}

static void
put32(unsigned char **p, uint32_t v)
{
	memcpy(*p, &v, 4);
	*p += 4;
}

static void
blob_write(const struct fm *f, unsigned char *buf)
{
	unsigned char *p = buf;

	put32(&p, BLOB_MAGIC);
	put32(&p, (uint32_t)f->npub);
	put32(&p, (uint32_t)f->pad);
	for (int k = 0; k < f->npub; k++) {
		uint32_t len = (uint32_t)strlen(f->inst[k].text);

		put32(&p, f->inst[k].lines);
		put32(&p, len);
		memcpy(p, f->inst[k].text, len);
		p += len;
	}
	for (size_t i = 0; i < f->pad; i++)
		*p++ = (unsigned char)(i * 7 + 3);
}

static int
get32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
	if (end - *p < 4)
		return -1;
	memcpy(v, *p, 4);
	*p += 4;
	return 0;
}

static int
blob_read(struct fm *f, const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf, *end = buf + len;
	uint32_t magic, n, pad, lines, tlen;

	if (get32(&p, end, &magic) || magic != BLOB_MAGIC ||
	    get32(&p, end, &n) || get32(&p, end, &pad))
		return PB_ESTATE;
	for (uint32_t k = 0; k < n; k++) {
		if (get32(&p, end, &lines) || get32(&p, end, &tlen) ||
		    (size_t)(end - p) < tlen || tlen >= FM_TEXT_MAX)
			return PB_ESTATE;
		if ((int)k < f->npub) {
			f->inst[k].lines = lines;
			memcpy(f->inst[k].text, p, tlen);
			f->inst[k].text[tlen] = '\0';
		}
		p += tlen;
	}
	if ((size_t)(end - p) != pad)
		return PB_ESTATE;
	for (uint32_t i = 0; i < pad; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			return PB_ESTATE;
	return PB_OK;
}

/* --- the entry points ----------------------------------------------------- */

static void
fm_irq(void *arg)
{
	struct fm *f = arg;

	f->nirq++;
	tracef("%s.irq", f->m->name);
}

static int
fm_start_entry(struct pb_module *self, const struct pb_hub *hub, int mode)
{
	struct fm *f = fm_of(self);
	int standby = mode == PB_START_STANDBY;

	f->hub = hub;
	f->nstart++;
	f->last_mode = mode;
	f->quiesced = f->released = 0;
	f->active = !standby;
	if (f->heap_pages)
		f->heap = hub->alloc(self, f->heap_pages * 4096);
	if (f->want_irq) {
		f->irq_vector = hub->irq_alloc(self);
		if (f->irq_vector < 0 ||
		    hub->irq_register(self, f->irq_vector, fm_irq, f) != PB_OK)
			return PB_EIO;
	}
	for (int k = 0; k < f->npub; k++) {
		f->inst[k] = (struct fm_inst){ .fm = f, .k = k };
		f->res[k] = hub->publish(self, f->pub[k].iface, f->pub[k].name,
		    f->pub[k].props, f->iops, &f->inst[k]);
		if (!f->res[k])
			return PB_EINVAL;
	}
	return step(f, standby ? FM_STANDBY : FM_START,
	    standby ? "start(standby)" : "start(normal)");
}

static void
fm_stop_entry(struct pb_module *self)
{
	struct fm *f = fm_of(self);

	tracef("%s.stop", self->name);
	f->nstop++;
	f->active = 0;
	memset(f->conn, 0, sizeof(f->conn));
}

static int
fm_quiesce(struct pb_module *self)
{
	struct fm *f = fm_of(self);
	int r = step(f, FM_QUIESCE, "quiesce");

	if (r == PB_OK && f->again) {
		f->again--;
		return PB_EAGAIN;	/* still draining */
	}
	if (r == PB_OK)
		f->quiesced = 1;
	return r;
}

static int
fm_export(struct pb_module *self, void *buf, size_t cap, size_t *len,
    uint32_t *version)
{
	struct fm *f = fm_of(self);
	size_t n = blob_size(f);
	int r;

	if (!buf) {
		if ((r = step(f, FM_EXPORT_SIZE, "export(size)")) != PB_OK)
			return r;
		*len = n;
		return PB_OK;
	}
	if ((r = step(f, FM_EXPORT, "export")) != PB_OK)
		return r;
	if (cap < n) {
		*len = n;	/* what it needs (abi/pb.h) */
		return PB_ENOMEM;
	}
	blob_write(f, buf);
	*len = n + f->export_lie;
	*version = f->export_version;
	fm_last_export_len = n < FM_BLOB_MAX ? n : FM_BLOB_MAX;
	memcpy(fm_last_export, buf, fm_last_export_len);
	return PB_OK;
}

static int
fm_import(struct pb_module *self, const void *buf, size_t len,
    uint32_t version)
{
	struct fm *f = fm_of(self);
	int r = step(f, FM_IMPORT, "import");

	if (r != PB_OK)
		return r;
	fm_last_import_len = len < FM_BLOB_MAX ? len : FM_BLOB_MAX;
	if (buf)
		memcpy(fm_last_import, buf, fm_last_import_len);
	fm_last_import_version = version;
	if (version != f->import_version)
		return PB_ESTATE;
	return buf ? blob_read(f, buf, len) : PB_OK;
}

static int
fm_release(struct pb_module *self)
{
	struct fm *f = fm_of(self);
	int r = step(f, FM_RELEASE, "release");

	if (r == PB_OK) {
		f->released = 1;
		f->active = 0;
	}
	return r;
}

static int
fm_activate(struct pb_module *self)
{
	struct fm *f = fm_of(self);
	int r = step(f, FM_ACTIVATE, "activate");

	if (r == PB_OK && f->withdraw_at_activate && f->res[0]) {
		f->hub->withdraw(self, f->res[0]);
		f->res[0] = NULL;
	}
	if (r == PB_OK)
		f->active = 1;
	return r;
}

static int
fm_resume(struct pb_module *self)
{
	struct fm *f = fm_of(self);
	int r;

	f->nresume++;
	if ((r = step(f, FM_RESUME, "resume")) != PB_OK)
		return r;
	f->quiesced = f->released = 0;
	f->active = 1;
	return PB_OK;
}

static void
fm_event(struct pb_module *self, int event, struct pb_conn *conn, int req)
{
	static const char *const names[] = { "?", "connected",
	    "disconnected", "rebound", "resource", "client-gone",
	    "client-faulted" };
	struct fm *f = fm_of(self);

	f->nevents++;
	tracef("%s.%s(%s)", self->name,
	    event >= 1 && event <= 6 ? names[event] : "?",
	    conn && conn->res ? conn->res : "-");
	if (fm_event_hook)
		fm_event_hook(f, event, conn, req);
	switch (event) {
	case PB_EV_CONNECTED:
		f->nconnected++;
		if (req >= 0 && req < PB_MAX_REQUIRES && !f->conn[req])
			f->conn[req] = conn;
		break;
	case PB_EV_DISCONNECTED:
		f->ndisconnected++;
		for (int i = 0; i < PB_MAX_REQUIRES; i++)
			if (f->conn[i] == conn)
				f->conn[i] = NULL;
		break;
	case PB_EV_REBOUND:
		f->nrebound++;
		break;
	case PB_EV_RESOURCE:
		f->nresource++;
		break;
	case PB_EV_CLIENT_GONE:
		f->ngone++;
		if (f->fault_at == FM_GONE)
			fake_fault(self);
		break;
	}
	if (f->fault_at == FM_EVENT)
		fake_fault(self);
}

const struct pb_module_ops fm_ops = {
	.start = fm_start_entry,
	.stop = fm_stop_entry,
	.quiesce = fm_quiesce,
	.export_state = fm_export,
	.import_state = fm_import,
	.release = fm_release,
	.activate = fm_activate,
	.resume = fm_resume,
	.event = fm_event,
};

/* The same without export_state: cannot be swapped out. */
const struct pb_module_ops fm_ops_noexport = {
	.start = fm_start_entry,
	.stop = fm_stop_entry,
	.quiesce = fm_quiesce,
	.import_state = fm_import,
	.release = fm_release,
	.activate = fm_activate,
	.resume = fm_resume,
	.event = fm_event,
};

/* --- a minimal image, so the hub can load a fake again ---------------------- */

/*
 * Headers in the first 0x200 bytes, one code section at RVA 0x1000 (file
 * offset 0x200; the hub sums it, scrub.c) holding a copy of fm_ops at its
 * start and, at 0x100, one relocation block of two ABSOLUTE (padding)
 * entries: pe_parse
 * wants relocations, and the host pointers in the table must stay as they
 * are.  mod_load copies it into pages of the module and points m->ops at
 * base + ops_rva: the copy of fm_ops.
 */
#define IMG_FILE 0x400
#define IMG_DATA_RVA 0x1000
static unsigned char image[IMG_FILE] __attribute__((aligned(16)));

static void
build_image(void)
{
	struct pe_dos_header dos = { .e_magic = PE_DOS_MAGIC,
	    .e_lfanew = 0x40 };
	uint32_t sig = PE_SIGNATURE;
	struct pe_coff_header coff = { .machine = PE_MACHINE_AMD64,
	    .nsections = 1, .opt_size = sizeof(struct pe_opt_header),
	    .characteristics = PE_FILE_EXECUTABLE };
	struct pe_opt_header opt = { .magic = PE_OPT_MAGIC_PE32P,
	    .image_base = 0x10000000, .section_align = 0x1000,
	    .file_align = 0x200, .image_size = 0x2000, .headers_size = 0x200,
	    .ndirs = PE_DIR_MAX };
	struct pe_section_header sh = { .name = ".text", .vsize = 0x1000,
	    .rva = IMG_DATA_RVA, .raw_size = 0x200, .raw_ptr = 0x200,
	    .characteristics = PE_SCN_CNT_CODE | PE_SCN_MEM_READ |
	    PE_SCN_MEM_EXECUTE };
	struct pe_reloc_block rb = { IMG_DATA_RVA, 12 };

	if (image[0])
		return;
	opt.dirs[PE_DIR_BASERELOC] = (struct pe_data_dir){ IMG_DATA_RVA + 0x100,
	    12 };
	memcpy(image, &dos, sizeof(dos));
	memcpy(image + 0x40, &sig, 4);
	memcpy(image + 0x44, &coff, sizeof(coff));
	memcpy(image + 0x58, &opt, sizeof(opt));
	memcpy(image + 0x58 + sizeof(opt), &sh, sizeof(sh));
	memcpy(image + 0x200, &fm_ops, sizeof(fm_ops));
	memcpy(image + 0x300, &rb, sizeof(rb));	/* entries stay 0 */
}

/* --- setup ---------------------------------------------------------------- */

static void
capture(const char *s, size_t len, int direct)
{
	(void)direct;
	if (loglen + len + 1 > sizeof(logbuf)) {
		/* keep the newer half */
		size_t keep = loglen / 2;
		memmove(logbuf, logbuf + loglen - keep, keep);
		loglen = keep;
	}
	if (loglen + len + 1 > sizeof(logbuf))
		return;
	memcpy(logbuf + loglen, s, len);
	loglen += len;
	logbuf[loglen] = '\0';
}

const char *
fm_log(void)
{
	return logbuf;
}

int
fm_log_has(const char *needle)
{
	return strstr(logbuf, needle) != NULL;
}

static void
nothing(void *arg)
{
	(void)arg;
}

/*
 * Forget what earlier tests left in the hub's tables.  work.c has no reset:
 * queued items and timers of modules[] slots are dropped by owner (work_drop
 * _module marks them dead), the hub's own timers are cancelled by id (ids
 * are handed out in order: every id up to a fresh one), vectors are
 * unregistered by owner, and the queue is drained once the tables are
 * empty, so what still runs (offers, watch timers) finds nothing to do.
 */
static void
forget_everything(void)
{
	int last;

	for (unsigned i = 0; i < MAX_MODULES; i++) {
		work_drop_module(&modules[i]);
		irq_unregister(&modules[i], -1);
		dma_forget(&modules[i]);
	}
	irq_unregister(NULL, -1);
	irq_unregister(&hub_quarantine, -1);
	last = timer_add(NULL, 1, nothing, NULL);
	if (last < 0) {
		fprintf(stderr, "fakemod: the hub's timer table is full\n");
		abort();
	}
	for (int id = swept_timers + 1; id <= last; id++)
		timer_cancel(NULL, id);
	swept_timers = last;
	memset(modules, 0, sizeof(modules));
	nmodules = 0;
	memset(resources, 0, sizeof(resources));
	memset(conns, 0, sizeof(conns));
	while (work_run_one())
		;
	memset(fms, 0, sizeof(fms));
	fm_step_hook = NULL;
	fm_event_hook = NULL;
}

void
fm_setup(void)
{
	if (!have_default_watch) {
		default_watch_ns = swap_watch_ns;
		have_default_watch = 1;
	}
	forget_everything();
	memset(&hub_shared, 0, sizeof(hub_shared));	/* no posts left over */
	swap_stats = (struct swap_stats){ 0 };
	swap_watch_ns = default_watch_ns;
	swap_drain_ns = 1000000000ull;
	fake_now = 1000000000ull;
	fm_trace_clear();
	fm_last_export_len = fm_last_import_len = 0;
	fm_last_import_version = 0;
	loglen = 0;
	logbuf[0] = '\0';
	log_set_sink(capture);
	image_forget_all();
	mem_reset();
	free(arena);
	arena = aligned_alloc(4096, ARENA_SIZE);
	if (!arena)
		abort();
	mem_add_range((uint64_t)(uintptr_t)arena, ARENA_SIZE);
	build_image();
}

void
fm_teardown(void)
{
	forget_everything();
	image_forget_all();
	mem_reset();
	free(arena);
	arena = NULL;
	log_set_sink(NULL);
	fake_now = 0;
}

/* --- building fake modules -------------------------------------------------- */

struct fm *
fm_of(const struct pb_module *m)
{
	if (!m || m < modules || m >= modules + MAX_MODULES)
		abort();
	return &fms[m - modules];
}

struct fm *
fm_add(const char *name, int rank)
{
	struct pb_module *m;
	struct fm *f;

	if (nmodules == MAX_MODULES)
		abort();
	m = &modules[nmodules];
	f = &fms[nmodules];
	memset(m, 0, sizeof(*m));
	memset(f, 0, sizeof(*f));
	rt_strlcpy(m->name, name, sizeof(m->name));
	snprintf(m->path, sizeof(m->path), "fake/%s.mod", name);
	m->desc.magic = PB_MODINFO_MAGIC;
	m->desc.abi_major = PB_ABI_MAJOR;
	m->desc.abi_minor = PB_ABI_MINOR;
	rt_strlcpy(m->desc.name, name, sizeof(m->desc.name));
	rt_strlcpy(m->desc.version, "1.0", sizeof(m->desc.version));
	m->desc.rank = rank;
	m->ops = &fm_ops;
	m->state = MOD_LOADED;
	f->m = m;
	f->iops = &fm_tcon_ops[nmodules % 4];
	f->export_version = f->import_version = FM_STATE_VERSION;
	f->fail_err = PB_EIO;
	nmodules++;
	return f;
}

/* fm_add(name, 0), already running: a module the test calls into
 * without a start of its own. */
struct fm *
fm_add_running(const char *name)
{
	struct fm *f = fm_add(name, 0);

	f->m->state = MOD_RUNNING;
	return f;
}

struct fm *
fm_add_loadable(const char *name, int rank)
{
	struct fm *f = fm_add(name, rank);

	f->m->file = image;
	f->m->file_size = sizeof(image);
	f->m->ops_rva = IMG_DATA_RVA;
	f->m->ops = NULL;
	f->m->state = MOD_KNOWN;
	return f;
}

void
fm_provide_ext(struct fm *f, const char *iface, uint16_t major,
    uint16_t minor, const char *base, uint16_t bmajor, uint16_t bminor)
{
	struct pb_modinfo *d = &f->m->desc;
	struct pb_provide *p = &d->provides[d->nprovides++];

	memset(p, 0, sizeof(*p));
	rt_strlcpy(p->iface, iface, sizeof(p->iface));
	p->major = major;
	p->minor = minor;
	if (base) {
		rt_strlcpy(p->extends, base, sizeof(p->extends));
		p->ext_major = bmajor;
		p->ext_minor = bminor;
	}
}

void
fm_provide(struct fm *f, const char *iface, uint16_t major, uint16_t minor)
{
	fm_provide_ext(f, iface, major, minor, NULL, 0, 0);
}

void
fm_require(struct fm *f, const char *iface, uint16_t major, uint16_t minor,
    int card, int when)
{
	struct pb_modinfo *d = &f->m->desc;
	struct pb_require *q = &d->requires[d->nrequires++];

	memset(q, 0, sizeof(*q));
	rt_strlcpy(q->iface, iface, sizeof(q->iface));
	q->major = major;
	q->minor = minor;
	q->card = (uint8_t)card;
	q->when = (uint8_t)when;
}

void
fm_publish(struct fm *f, const char *iface, const char *name,
    const char *props)
{
	int k = f->npub++;

	rt_strlcpy(f->pub[k].iface, iface, sizeof(f->pub[k].iface));
	rt_strlcpy(f->pub[k].name, name, sizeof(f->pub[k].name));
	rt_strlcpy(f->pub[k].props, props ? props : "", sizeof(f->pub[k].props));
}

void
fm_serve(struct fm *f, const char *iface, const char *name)
{
	int have = 0;

	for (unsigned i = 0; i < f->m->desc.nprovides; i++)
		have |= strcmp(f->m->desc.provides[i].iface, iface) == 0;
	if (!have)
		fm_provide(f, iface, 1, 0);
	fm_publish(f, iface, name, NULL);
}

/* --- running ---------------------------------------------------------------- */

int
fm_run_work(void)
{
	int n = 0, ran;

	while ((ran = work_run_one()))	/* a batch runs several */
		n += ran;
	return n;
}

void
fm_advance(uint64_t ns)
{
	fake_now += ns;
	timers_run(fake_now);
	fm_run_work();
}

int
fm_start(struct fm *f)
{
	struct pb_module *m = f->m;
	int r;

	if (m->state != MOD_LOADED && (r = mod_load(m)) != PB_OK)
		return r;
	if ((r = res_connect_requirements(m, 1)) != PB_OK) {
		res_drop_module(m);
		return r;
	}
	if ((r = mod_start(m, PB_START_NORMAL)) != PB_OK)
		return r;
	res_connect_requirements(m, 0);
	fm_run_work();
	return PB_OK;
}

/* The recovery tests' world: see fakemod.h. */
void
fm_chain_add(struct fm **bus, struct fm **drv, struct fm **app)
{
	*bus = fm_add("bus", 0);
	fm_serve(*bus, "tcon", "bus0");
	*drv = fm_add_loadable("drv", 5);
	fm_require(*drv, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	fm_provide(*drv, "tdrv", 1, 0);
	fm_publish(*drv, "tdrv", "drv0", "");
	*app = fm_add("app", 0);
	fm_require(*app, "tdrv", 1, 0, PB_CARD_ONE, PB_AT_START);
}

int
fm_chain_start(struct fm *bus, struct fm *drv, struct fm *app)
{
	if (fm_start(bus) || fm_start(drv) || fm_start(app)) {
		fprintf(stderr, "%s\n", fm_log());
		return 0;
	}
	return fm_conn_res(app, 0, 0) == drv->res[0];
}

void
fm_fault_work(void *m)
{
	fake_fault(m);
}

void
fm_fault(struct fm *f)
{
	work_queue(f->m, fm_fault_work, f->m);
	fm_run_work();
}

unsigned
fm_count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

struct conn *
fm_conn(const struct fm *client, int req, unsigned n)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].client == client->m &&
		    conns[i].req == req && n-- == 0)
			return &conns[i];
	return NULL;
}

struct conn *
fm_bind_conn(const struct fm *f)
{
	return fm_conn(f, PB_REQ_BIND, 0);
}

struct pb_resource *
fm_conn_res(const struct fm *client, int req, unsigned n)
{
	struct conn *c = fm_conn(client, req, n);

	return c ? c->res : NULL;
}

unsigned
fm_nconns(const struct fm *client)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++)
		n += conns[i].used && conns[i].client == client->m;
	return n;
}

unsigned
fm_nres(const struct fm *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_RESOURCES; i++)
		n += resources[i].used && resources[i].owner == f->m;
	return n;
}

int
fm_write(struct conn *c, const char *s)
{
	if (!c || !c->used || !c->pub.ops)
		return PB_ENOENT;
	return PB_CALL(&c->pub, tcon_ops, write, s);
}

unsigned
fm_lines(struct conn *c)
{
	if (!c || !c->used || !c->pub.ops)
		return ~0u;
	return PB_CALL(&c->pub, tcon_ops, lines);
}

struct fm_inst *
fm_inst_of(struct conn *c)
{
	return c && c->used ? c->pub.ctx : NULL;
}

const char *
fm_isolated(const char *(*fn)(void))
{
	static char got[512];
	size_t n = 0;
	ssize_t k;
	int fd[2], status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fd) != 0 || (pid = fork()) < 0)
		return "fm_isolated: cannot fork";
	if (pid == 0) {
		const char *why;

		close(fd[0]);
		why = fn();
		why = why ? why : "ok";
		if (write(fd[1], why, strlen(why)) < 0)
			_exit(3);
		_exit(0);
	}
	close(fd[1]);
	while (n + 1 < sizeof(got) &&
	    (k = read(fd[0], got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)k;
	got[n] = '\0';
	close(fd[0]);
	waitpid(pid, &status, 0);
	if (n == 0) {
		snprintf(got, sizeof(got), "crashed (%s %d): see the report on "
		    "stderr", WIFSIGNALED(status) ? "signal" : "exit status",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
		return got;
	}
	return strcmp(got, "ok") == 0 ? NULL : got;
}
