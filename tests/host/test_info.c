/*
 * test_info.c - the inventory across the ABI (ABI 1.2 mod_info_sized and
 * res_info_sized fill at most the caller's struct_size; a module built
 * for ABI 1.1 still gets the 1.1 layout from mod_info and res_info), and
 * names as long as the new interfaces need (`block-partition`, 15
 * characters; resources like block-partition:ahci0.p12).
 */
#include <string.h>

#include "check.h"
#include "fakemod.h"

static const struct pb_hub *const h = &hub_services;

/* The ABI 1.1 layouts, as a 1.1 module compiled them. */
struct mod_info_11 {
	const char *name;
	const char *version;
	const char *state;
	const struct pb_modinfo *desc;
	uint64_t base, size;
	uint64_t pages;
	uint32_t nres, nconn, nirq;
};

struct res_info_11 {
	const char *name;
	const char *iface;
	uint16_t major, minor;
	const char *props;
	const char *owner;
	uint32_t clients;
	const char *client;
};

static struct fm *m;

static int
world(void)
{
	fm_setup();
	m = fm_add("m", 0);
	fm_serve(m, "tcon", "t0");
	m->heap_pages = 3;
	return fm_start(m) == PB_OK;
}

TEST(info_sized_services_present)
{
	CHECK(h->mod_info_sized != NULL);
	CHECK(h->res_info_sized != NULL);
}

TEST(mod_info_sized_fills_what_the_caller_has)
{
	struct pb_mod_info mi;
	unsigned char *raw = (unsigned char *)&mi;
	size_t small = offsetof(struct pb_mod_info, state);

	REQUIRE(world());
	REQUIRE(h->mod_info_sized);
	memset(&mi, 0xa5, sizeof(mi));
	mi.struct_size = sizeof(mi);
	CHECK_EQ_INT(h->mod_info_sized(0, &mi), PB_OK);
	CHECK_STR(mi.name, "m");
	CHECK_STR(mi.state, "running");
	CHECK_EQ_INT(mi.pages, 3);
	CHECK_EQ_INT(mi.nres, 1);
	CHECK_EQ_INT(mi.struct_size, sizeof(mi));
	/* An older, smaller struct: nothing written past it. */
	memset(&mi, 0xa5, sizeof(mi));
	mi.struct_size = (uint32_t)small;
	CHECK_EQ_INT(h->mod_info_sized(0, &mi), PB_OK);
	CHECK_STR(mi.name, "m");
	CHECK_EQ_INT(mi.struct_size, small);
	for (size_t i = small; i < sizeof(mi); i++)
		if (raw[i] != 0xa5) {
			CHECK_MSG(0, "byte %zu written", i);
			break;
		}
	/* A bigger struct (a newer module): the rest is zeroed. */
	{
		unsigned char big[sizeof(mi) + 16];
		struct pb_mod_info *b = (struct pb_mod_info *)big;

		memset(big, 0xa5, sizeof(big));
		b->struct_size = sizeof(big);
		CHECK_EQ_INT(h->mod_info_sized(0, b), PB_OK);
		CHECK_EQ_INT(b->struct_size, sizeof(mi));
		CHECK(big[sizeof(mi)] == 0xa5);
	}
	mi.struct_size = 2;
	CHECK_EQ_INT(h->mod_info_sized(0, &mi), PB_EINVAL);
	mi.struct_size = sizeof(mi);
	CHECK_EQ_INT(h->mod_info_sized(5, &mi), PB_ENOENT);
	fm_teardown();
}

/* An output the caller could not write itself (the hub's memory, another
 * module's, its own code) is not written for it either: PB_EFAULT. */
TEST(inventory_writes_no_output_the_caller_could_not)
{
	struct pb_mod_info mi;
	struct pb_hub_info hi;
	uint64_t phys = 7;

	REQUIRE(world());
	memset(&mi, 0xa5, sizeof(mi));
	mi.struct_size = sizeof(mi);
	hi.struct_size = sizeof(hi);
	fake_may_write = 0;
	CHECK_EQ_INT(h->mod_info_sized(0, &mi), PB_EFAULT);
	CHECK_EQ_INT(h->hub_info(&hi), PB_EFAULT);
	CHECK(h->alloc_pages(m->m, 1, 0, &phys) == NULL);
	fake_may_write = 1;
	CHECK_EQ_INT(mi.struct_size, sizeof(mi));
	CHECK(((unsigned char *)&mi)[sizeof(mi) - 1] == 0xa5);
	CHECK_EQ_INT(hi.struct_size, sizeof(hi));
	CHECK(phys == 7);
	CHECK_EQ_INT(h->mod_info_sized(0, &mi), PB_OK);
	fm_teardown();
}

TEST(res_info_sized_fills_what_the_caller_has)
{
	struct pb_res_info ri;
	unsigned char *raw = (unsigned char *)&ri;
	size_t small = offsetof(struct pb_res_info, major);

	REQUIRE(world());
	REQUIRE(h->res_info_sized);
	memset(&ri, 0, sizeof(ri));
	ri.struct_size = sizeof(ri);
	CHECK_EQ_INT(h->res_info_sized("m", 0, &ri), PB_OK);
	CHECK_STR(ri.name, "tcon:t0");
	CHECK_STR(ri.iface, "tcon");
	CHECK_STR(ri.owner, "m");
	memset(&ri, 0xa5, sizeof(ri));
	ri.struct_size = (uint32_t)small;
	CHECK_EQ_INT(h->res_info_sized(NULL, 0, &ri), PB_OK);
	CHECK_STR(ri.iface, "tcon");
	for (size_t i = small; i < sizeof(ri); i++)
		if (raw[i] != 0xa5) {
			CHECK_MSG(0, "byte %zu written", i);
			break;
		}
	ri.struct_size = 0;
	CHECK_EQ_INT(h->res_info_sized("m", 0, &ri), PB_EINVAL);
	fm_teardown();
}

/* A module built for ABI 1.1 gets, through the table its start()
 * received, mod_info and res_info that fill the 1.1 layout. */
static const struct pb_hub *hub_of_old;

TEST(abi_11_module_gets_the_11_layouts)
{
	struct fm *old;
	struct {
		struct mod_info_11 mi;
		unsigned char canary[8];
	} m11;
	struct {
		struct res_info_11 ri;
		unsigned char canary[8];
	} r11;

	REQUIRE(world());
	old = fm_add("old11", 0);
	old->m->desc.abi_minor = 1;
	REQUIRE(fm_start(old) == PB_OK);
	hub_of_old = old->hub;
	REQUIRE(hub_of_old != NULL);
	memset(&m11, 0xa5, sizeof(m11));
	CHECK_EQ_INT(hub_of_old->mod_info(0, (struct pb_mod_info *)&m11.mi),
	    PB_OK);
	CHECK_STR(m11.mi.name, "m");
	CHECK_STR(m11.mi.state, "running");
	CHECK_EQ_INT(m11.mi.pages, 3);
	CHECK_EQ_INT(m11.mi.nres, 1);
	CHECK(m11.canary[0] == 0xa5 && m11.canary[7] == 0xa5);
	memset(&r11, 0xa5, sizeof(r11));
	CHECK_EQ_INT(hub_of_old->res_info("m", 0,
	    (struct pb_res_info *)&r11.ri), PB_OK);
	CHECK_STR(r11.ri.name, "tcon:t0");
	CHECK_STR(r11.ri.owner, "m");
	CHECK_EQ_INT(r11.ri.clients, 0);
	CHECK(r11.canary[0] == 0xa5 && r11.canary[7] == 0xa5);
	/* A 1.2 (or later) module's table fills the 1.2 layout: the
	 * fields ABI 1.3 added come through mod_info_sized only. */
	{
		struct pb_mod_info mi;

		memset(&mi, 0xa5, sizeof(mi));
		CHECK_EQ_INT(m->hub->mod_info(0, &mi), PB_OK);
		CHECK_STR(mi.name, "m");
		CHECK_EQ_INT(mi.struct_size,
		    offsetof(struct pb_mod_info, image_pages));
		CHECK(mi.image_pages == 0xa5a5a5a5a5a5a5a5ull);
	}
	fm_teardown();
}

/* Interfaces of 15 characters and the resource names the block stack
 * uses go through every table: publish, find, resolve, connect, bind,
 * subscribe, the inventory. */
TEST(names_of_block_partition_length)
{
	static const char iface[] = "block-partition";
	struct fm *part, *fs, *watcher;
	struct pb_res_info ri;
	struct pb_resource *r;
	char e[256] = "";

	_Static_assert(sizeof(iface) == 16, "15 characters");
	fm_setup();
	part = fm_add_loadable("gpt", 0);
	fm_provide(part, iface, 1, 0);
	fm_publish(part, iface, "ahci0.p12", "path=pci:00:1f.2/sata:0/part:12");
	fm_publish(part, iface, "pci-00-1f.2-sata-0-p12", NULL);
	fs = fm_add_loadable("fat", 0);
	fm_require(fs, iface, 1, 0, PB_CARD_ONE, PB_AT_START);
	watcher = fm_add("watcher", 0);
	watcher->m->state = MOD_RUNNING;
	CHECK_EQ_INT(h->subscribe(watcher->m, iface), PB_OK);
	CHECK_EQ_INT(hub_start_module(fs->m, e, sizeof(e)), PB_OK);
	CHECK_MSG(e[0] == '\0', "%s", e);
	fm_run_work();
	r = res_find("block-partition:ahci0.p12");
	REQUIRE(r != NULL);
	CHECK_STR(r->iface.iface, iface);
	CHECK(res_find("block-partition:pci-00-1f.2-sata-0-p12") != NULL);
	CHECK(fm_conn_res(fs, 0, 0) == r);
	CHECK_STR(fm_conn(fs, 0, 0)->pub.res, "block-partition:ahci0.p12");
	CHECK_EQ_INT(watcher->nresource, 2);
	memset(&ri, 0, sizeof(ri));
	ri.struct_size = sizeof(ri);
	REQUIRE(h->res_info_sized);
	CHECK_EQ_INT(h->res_info_sized("gpt", 0, &ri), PB_OK);
	CHECK_STR(ri.iface, iface);
	watcher->m->state = MOD_UNLOADED;	/* frees its subscription */
	fm_teardown();
}

/* A resource name is stored whole or refused, never cut short (two cut
 * names could meet). */
TEST(resource_names_whole_or_refused)
{
	static const char name47[] =
	    "pci-00-1f.2-sata-0-part-12-a-very-long-name-xyz";
	struct fm *p;

	_Static_assert(sizeof(name47) == 48, "47 characters");
	fm_setup();
	p = fm_add("p", 0);
	fm_provide(p, "block-partition", 1, 0);
	p->m->state = MOD_RUNNING;
	/* "block-partition:" + 47 = 63 characters: fits. */
	CHECK(h->publish(p->m, "block-partition", name47, NULL,
	    &fm_tcon_ops[0], NULL) != NULL);
	CHECK(res_find("block-partition:pci-00-1f.2-sata-0-part-12-a-very-"
	    "long-name-xyz") != NULL);
	CHECK(h->publish(p->m, "block-partition", "pci-00-1f.2-sata-0-part-12"
	    "-a-very-long-name-xyz0", NULL, &fm_tcon_ops[0], NULL) == NULL);
	CHECK(fm_log_has("too long"));
	fm_teardown();
}
