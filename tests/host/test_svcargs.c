/*
 * test_svcargs.c - hub services check what modules hand them (services.c,
 * argcheck.c): a bad pointer, string or function is logged, naming the
 * module and the service, and refused, and the hub never touches it.
 */
#include <string.h>

#include "check.h"
#include "fake_arch.h"
#include "fakemod.h"
#include "../../abi/modsrc.h"

/* "RAM the hub knows" is narrowed to `known`; `outside` is not in it. */
static char known[8192];
static char outside[256];
static uint8_t text[4096];		/* the module's image, for code */

static struct fm *
setup(void)
{
	struct fm *f;

	fm_setup();
	fake_known_all = 0;
	fake_known_lo = (uint64_t)(uintptr_t)known;
	fake_known_hi = fake_known_lo + sizeof(known);
	memset(known, 0, sizeof(known));
	memset(outside, 0x5a, sizeof(outside));
	f = fm_add("m", 0);
	f->m->state = MOD_RUNNING;
	return f;
}

static void
teardown(struct fm *f)
{
	f->m->base = 0;
	f->m->size = 0;
	fake_known_all = 1;
	fm_teardown();
}

static int
untouched(void)
{
	for (size_t i = 0; i < sizeof(outside); i++)
		if (outside[i] != 0x5a)
			return 0;
	return 1;
}

TEST(svcargs_log_checks_its_message)
{
	struct fm *f = setup();

	strcpy(known, "from known memory");
	hub_services.log(f->m, PB_LOG_INFO, known);
	CHECK(fm_log_has("m: from known memory"));
	hub_services.log(f->m, PB_LOG_INFO, (const char *)0x10);
	hub_services.log(f->m, PB_LOG_INFO, outside);
	CHECK(fm_log_has("m: log: bad message 0x10"));
	CHECK(fm_log_has("m: log: bad message"));
	CHECK(!fm_log_has("ZZZZ"));
	/* Unterminated up to the end of the region it lies in. */
	memset(known, 'A', sizeof(known));
	hub_services.log(f->m, PB_LOG_INFO, known + sizeof(known) - 4);
	CHECK(!fm_log_has("m: AAAA"));
	teardown(f);
}

TEST(svcargs_heap_and_image_strings_pass)
{
	struct fm *f = setup();
	char *heap = hub_services.alloc(f->m, 100);

	REQUIRE(heap != NULL);
	strcpy(heap, "heap line");
	hub_services.log(f->m, PB_LOG_INFO, heap);
	CHECK(fm_log_has("m: heap line"));
	memcpy(text, "image line", 11);
	f->m->base = (uint64_t)(uintptr_t)text;
	f->m->size = sizeof(text);
	hub_services.log(f->m, PB_LOG_INFO, (const char *)text);
	CHECK(fm_log_has("m: image line"));
	hub_services.free(f->m, heap);
	teardown(f);
}

TEST(svcargs_publish_connect_and_props_check_strings)
{
	struct fm *f = setup();
	struct pb_resource *r;

	fm_provide(f, "tcon", 1, 0);
	strcpy(known, "tcon");
	strcpy(known + 64, "r0");
	CHECK(hub_services.publish(f->m, known, outside, "", known + 128,
	    NULL) == NULL);
	CHECK(fm_log_has("m: publish: bad"));
	r = hub_services.publish(f->m, known, known + 64, NULL, known + 128,
	    NULL);
	REQUIRE(r != NULL);
	CHECK_EQ_INT(hub_services.set_props(f->m, r, outside), PB_EFAULT);
	CHECK(fm_log_has("m: set_props: bad string"));
	CHECK(hub_services.connect(f->m, known, 1, 0, outside) == NULL);
	CHECK(fm_log_has("m: connect: bad string"));
	CHECK_EQ_INT(hub_services.subscribe(f->m, (const char *)8),
	    PB_EFAULT);
	CHECK(untouched());
	teardown(f);
}

static void
nothing(void *arg)
{
	(void)arg;
}

TEST(svcargs_work_items_must_be_known_memory)
{
	struct fm *f = setup();
	struct pb_work *w = (struct pb_work *)(void *)outside;

	hub_services.work_init(f->m, w, nothing, NULL);
	hub_services.work_post(f->m, w);
	hub_services.work_cancel(f->m, w);
	CHECK(untouched());
	CHECK(fm_log_has("m: work_init: bad item"));
	CHECK(fm_log_has("m: work_post: bad item"));
	CHECK(fm_log_has("m: work_cancel: bad item"));
	teardown(f);
}

/* The ramdisk's ops are the hub's code, run for the module calling them
 * (through the hub's gate): the name they read and the outputs they write
 * are checked like a service's. */
struct ramdisk_call {
	const struct modsrc_ops *ops;
	const char *name;
	const void **data;
	size_t *len;
	char *buf;
};

static long
ramdisk_calls(void *p)
{
	struct ramdisk_call *c = p;

	if (c->buf)
		return c->ops->name(NULL, 0, c->buf, 16);
	return c->ops->read(NULL, c->name, c->data, c->len);
}

TEST(svcargs_ramdisk_checks_its_name_and_outputs)
{
	static struct handoff disk;
	struct fm *f = setup();
	struct pb_resource *r;
	struct ramdisk_call c;
	const void **data = (const void **)(void *)known;
	size_t *len = (size_t *)(void *)(known + 8);

	disk.nfiles = 1;
	strcpy(disk.files[0].name, "x.mod");
	disk.files[0].data = known + 4096;
	disk.files[0].size = 16;
	ramdisk_publish(&disk);
	REQUIRE((r = res_find(MODSRC_IFACE ":" RAMDISK_NAME)) != NULL);
	strcpy(known + 64, "x.mod");
	c = (struct ramdisk_call){ r->ops, known + 64, data, len, NULL };
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_OK);
	CHECK(*data == known + 4096 && *len == 16);
	c.name = outside;		/* no NUL within reach */
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_EFAULT);
	CHECK(fm_log_has("m: ramdisk: bad name"));
	c.name = known + 64;
	c.len = (size_t *)(void *)outside;
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_EFAULT);
	c.len = len;
	fake_may_write = 0;		/* known, but not the caller's */
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_EFAULT);
	fake_may_write = 1;
	c.buf = outside;
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_EFAULT);
	CHECK(fm_log_has("m: ramdisk: bad output"));
	CHECK(untouched());
	c.buf = known + 128;
	CHECK_EQ_INT(arch_call_guarded(ramdisk_calls, &c, f->m, 0), PB_OK);
	CHECK_STR(known + 128, "x.mod");
	disk.nfiles = 0;
	teardown(f);
}

TEST(svcargs_functions_must_be_the_callers_code)
{
	struct fm *f = setup();
	int v;

	f->m->base = (uint64_t)(uintptr_t)text;
	f->m->size = sizeof(text);
	CHECK_EQ_INT(hub_services.timer_after(f->m, 1000, nothing, NULL),
	    PB_EFAULT);
	CHECK_EQ_INT(hub_services.timer_every(f->m, 1000,
	    (pb_work_fn)(uintptr_t)0, NULL), PB_EFAULT);
	v = hub_services.irq_alloc(f->m);
	REQUIRE(v > 0);
	CHECK_EQ_INT(hub_services.irq_register(f->m, v,
	    (pb_irq_fn)(uintptr_t)0x4141, NULL), PB_EFAULT);
	CHECK(fm_log_has("m: timer_after: bad function"));
	CHECK(fm_log_has("m: irq_register: bad handler 0x4141"));
	CHECK_EQ_INT(hub_services.control(f->m, "chart",
	    (pb_line_fn)(uintptr_t)nothing, NULL), PB_EFAULT);
	hub_services.irq_unregister(f->m, v);
	teardown(f);
}

TEST(svcargs_dma_and_image_ranges)
{
	struct fm *f = setup();
	uint64_t *bus = (uint64_t *)(void *)known;
	size_t *run = (size_t *)(void *)(known + 8);
	void *d = hub_services.dma_alloc(f->m, 64, 64, 0, ~0ull, NULL);

	REQUIRE(d != NULL);
	CHECK_EQ_INT(hub_services.dma_addr(f->m, d, 64, bus, run), PB_OK);
	CHECK_EQ_INT(*run, 64);
	CHECK_EQ_INT(hub_services.dma_addr(f->m, d, 64,
	    (uint64_t *)(void *)outside, run), PB_EFAULT);
	CHECK(untouched());
	/* The image's data runs past the known region: refused. */
	strcpy(known, "\\x.mod");
	CHECK_EQ_INT(hub_services.mod_image(f->m, known, known + 4096,
	    8192), PB_EFAULT);
	CHECK(fm_log_has("m: mod_image: bad path or data"));
	CHECK_EQ_INT(hub_services.alloc_pages(f->m, 1, 0,
	    (uint64_t *)(void *)outside) == NULL, 1);
	CHECK(untouched());
	hub_services.dma_free(f->m, d);
	teardown(f);
}
