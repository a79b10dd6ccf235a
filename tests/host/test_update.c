/*
 * test_update.c - a driver replaces itself (ABI 1.2): a second instance
 * of the same module, another build loaded by `update`, swapped in for
 * the first although the device it drives takes one client (res_limit 1,
 * as pci functions do).  The device is handed over inside the swap.
 *
 * The world: `bus` publishes dev:d0 for one client; `drv` (a bind rule on
 * dev vendor=1) drives it and serves tcon:drv0 to `cli`; a second record
 * named `drv` is the new build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/slurp.h"
#include "fakemod.h"

static struct fm *bus, *drv, *drv2, *cli;
static char err[200];
static int bound_in_standby;

static void
bind_rule(struct fm *f)
{
	struct pb_modinfo *d = &f->m->desc;

	rt_strlcpy(d->binds[0].iface, "dev", sizeof(d->binds[0].iface));
	rt_strlcpy(d->binds[0].match, "vendor=1", sizeof(d->binds[0].match));
	d->nbinds = 1;
}

static void
note_standby(struct fm *f, int step)
{
	if (f == drv2 && step == FM_STANDBY) {
		struct conn *c = fm_bind_conn(f);

		bound_in_standby = c && c->res == bus->res[0] &&
		    f->conn[0] == NULL && f->nconnected >= 1;
	}
}

static int
world(void)
{
	fm_setup();
	err[0] = '\0';
	bus = fm_add("bus", 0);
	fm_provide(bus, "dev", 1, 0);
	fm_publish(bus, "dev", "d0", "vendor=1 device=2");
	drv = fm_add_loadable("drv", 1);
	fm_provide(drv, "tcon", 1, 0);
	fm_publish(drv, "tcon", "drv0", "path=dev:d0");
	bind_rule(drv);
	cli = fm_add("cli", 0);
	fm_require(cli, "tcon", 1, 0, PB_CARD_ONE, PB_AT_START);
	if (fm_start(bus) != PB_OK)
		return 0;
	bus->res[0]->max_clients = 1;
	fm_run_work();				/* the bind rule loads drv */
	if (drv->m->state != MOD_RUNNING || !fm_bind_conn(drv) ||
	    fm_start(cli) != PB_OK)
		return 0;
	/* The new build: another record of the same name. */
	drv2 = fm_add_loadable("drv", 1);
	fm_provide(drv2, "tcon", 1, 0);
	fm_publish(drv2, "tcon", "drv0", "path=dev:d0");
	bind_rule(drv2);
	rt_strlcpy(drv2->m->desc.version, "1.1", sizeof(drv2->m->desc.version));
	bound_in_standby = 0;
	fm_step_hook = note_standby;
	return fm_conn_res(cli, 0, 0) == drv->res[0];
}

TEST(update_hands_the_device_over)
{
	struct conn *c;

	REQUIRE(world());
	fm_trace_clear();
	CHECK_EQ_INT(hub_update_module(drv->m, drv2->m, err, sizeof(err)),
	    PB_OK);
	CHECK_MSG(err[0] == '\0', "%s", err);
	CHECK(bound_in_standby);		/* despite the limit */
	CHECK_EQ_INT(drv2->m->state, MOD_RUNNING);
	CHECK_EQ_INT(drv->m->state, MOD_QUIESCED);
	c = fm_bind_conn(drv2);
	REQUIRE(c != NULL);
	CHECK(c->res == bus->res[0] && !c->handover);
	CHECK(fm_bind_conn(drv) == NULL);		/* closed at the rebind */
	CHECK_EQ_INT(res_clients(bus->res[0]), 1);
	CHECK_EQ_INT(drv->ndisconnected, 1);	/* and told */
	CHECK_EQ_INT(bus->ngone, 0);		/* the device stays on */
	CHECK(fm_conn_res(cli, 0, 0) == drv2->res[0]);
	CHECK(mod_find("drv") == drv2->m);
	/* The old build goes after the watch window and stays gone. */
	fm_advance(swap_watch_ns);
	CHECK_EQ_INT(drv->m->state, MOD_REPLACED);
	CHECK(mod_find("drv") == drv2->m);
	CHECK_EQ_INT(bus->ngone, 0);
	CHECK_EQ_INT(res_clients(bus->res[0]), 1);
	/* The new one is an ordinary client now: unloading it silences the
	 * device. */
	CHECK_EQ_INT(mod_unload(drv2->m), PB_OK);
	CHECK_EQ_INT(bus->ngone, 1);
	fm_teardown();
}

/* A failed update loses nothing: the old build keeps its device, the new
 * one's going does not silence it, and it is marked refused. */
TEST(update_that_fails_keeps_the_old_driver)
{
	REQUIRE(world());
	drv2->fail_at = FM_ACTIVATE;
	CHECK(hub_update_module(drv->m, drv2->m, err, sizeof(err)) != PB_OK);
	CHECK_CONTAINS(err, "cannot take the hardware");
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	CHECK(fm_bind_conn(drv) && !fm_bind_conn(drv)->handover);
	CHECK(fm_bind_conn(drv2) == NULL);
	CHECK_EQ_INT(res_clients(bus->res[0]), 1);
	CHECK_EQ_INT(bus->ngone, 0);
	CHECK_EQ_INT(drv2->m->state, MOD_REFUSED);
	CHECK(mod_find("drv") == drv->m);
	CHECK(fm_conn_res(cli, 0, 0) == drv->res[0]);
	/* The old one's connection counts again when it goes. */
	CHECK_EQ_INT(mod_unload(drv->m), PB_OK);
	CHECK_EQ_INT(bus->ngone, 1);
	fm_teardown();
}

static void
cli_writes(void *arg)
{
	fm_write(arg, "x\n");
}

/* The new build faults inside its watch window: the old one gets its
 * device back (connected before it resumes) and its clients. */
TEST(update_swaps_back_with_the_device)
{
	struct conn *c;

	REQUIRE(world());
	REQUIRE(hub_update_module(drv->m, drv2->m, err, sizeof(err)) == PB_OK);
	drv2->fault_at = FM_WRITE;
	CHECK_EQ_INT(work_queue(cli->m, cli_writes, fm_conn(cli, 0, 0)), PB_OK);
	fm_run_work();
	CHECK(fm_log_has("back to drv"));
	CHECK_EQ_INT(drv->m->state, MOD_RUNNING);
	c = fm_bind_conn(drv);
	REQUIRE(c != NULL);
	CHECK(c->res == bus->res[0]);
	CHECK(drv->conn[0] == NULL);
	CHECK_EQ_INT(res_clients(bus->res[0]), 1);
	CHECK_EQ_INT(bus->ngone, 1);		/* the faulted build's */
	CHECK(fm_conn_res(cli, 0, 0) == drv->res[0]);
	CHECK(mod_find("drv") == drv->m);
	fm_teardown();
}

/* The update command's registration: a second record of a module needs
 * the same name in its descriptor; built modules serve as the images
 * (read with tools/slurp.c). */
static void
check_instances(void *img, size_t len, void *other, size_t len2)
{
	struct pb_module *a, *b;

	a = mod_register("serial.mod", img, len);
	REQUIRE(a != NULL);
	CHECK(mod_register("again.mod", img, len) == NULL);	/* as before */
	b = mod_register_instance("new/serial.mod", img, len, "serial", err,
	    sizeof(err));
	REQUIRE(b != NULL);
	CHECK(b != a);
	CHECK_STR(b->name, "serial");
	CHECK_EQ_INT(b->state, MOD_KNOWN);
	CHECK(mod_find("serial") == a);		/* the first, until it runs */
	a->state = MOD_REPLACED;
	CHECK(mod_find("serial") == b);
	CHECK(mod_register_instance("rtc.mod", other, len2, "serial", err,
	    sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "rtc.mod is module rtc, not serial");
	CHECK(mod_register_instance("junk", "MZ", 2, "serial", err,
	    sizeof(err)) == NULL);
	CHECK_CONTAINS(err, "junk: ");
}

TEST(update_registers_a_second_instance_by_name)
{
	size_t len, len2;
	void *img = slurp("build/mods/serial.mod", &len);
	void *other = slurp("build/mods/rtc.mod", &len2);

	CHECK_MSG(img && other, "build/mods/serial.mod and rtc.mod: run make "
	    "all first");
	if (img && other) {
		fm_setup();
		check_instances(img, len, other, len2);
		fm_teardown();
	}
	free(img);
	free(other);
}

/* The command: what it reads and what it refuses, each in one line. */
static struct handoff disk;
static char out[1024];

static void
line(void *arg, const char *s)
{
	size_t n = strlen(out);

	(void)arg;
	snprintf(out + n, sizeof(out) - n, "%s\n", s);
}

static int
ctl(const char *cmd)
{
	out[0] = '\0';
	return hub_control(NULL, cmd, line, NULL);
}

TEST(update_command_errors)
{
	size_t len = 0;
	void *other = slurp("build/mods/rtc.mod", &len);

	REQUIRE(world());
	disk.nfiles = 1;
	rt_strlcpy(disk.files[0].name, "other.mod", sizeof(disk.files[0].name));
	disk.files[0].data = other;
	disk.files[0].size = len;
	ramdisk_publish(&disk);
	CHECK(ctl("update nosuch other.mod") != PB_OK);
	CHECK_STR(out, "error: update nosuch: nosuch is not a running "
	    "module\n");
	CHECK(ctl("update drv missing.mod") != PB_OK);
	CHECK_STR(out, "error: update drv: the boot ramdisk has no "
	    "missing.mod\n");
	CHECK(ctl("update drv /efi/drv.mod") != PB_OK);
	CHECK_CONTAINS(out, "error: update drv: no firmware");
	if (other) {
		CHECK(ctl("update drv other.mod") != PB_OK);
		CHECK_STR(out, "error: update drv: module-source:ramdisk/"
		    "other.mod is module rtc, not drv\n");
	}
	CHECK(mod_find("drv") == drv->m && drv->m->state == MOD_RUNNING);
	disk.nfiles = 0;	/* the ramdisk keeps the handoff it was given */
	fm_teardown();
	free(other);
}

/* `update` N times uses two records, not N: the record of an instance
 * that was replaced and holds nothing is used again, with a newer
 * generation (nothing queued for the old instance runs for the new). */
TEST(update_reuses_the_record_of_a_replaced_instance)
{
	size_t len;
	void *img = slurp("build/mods/serial.mod", &len);
	struct pb_module *live, *next;
	unsigned before, gen;

	REQUIRE(img != NULL);		/* build/mods: make all first */
	fm_setup();
	REQUIRE((live = mod_register("serial.mod", img, len)) != NULL);
	live->state = MOD_RUNNING;
	before = nmodules;
	for (unsigned i = 0; i < 2 * MAX_MODULES; i++) {
		gen = modules[before].generation;
		next = mod_register_instance("new/serial.mod", img, len,
		    "serial", err, sizeof(err));
		REQUIRE(next != NULL);
		CHECK(next != live);
		if (i >= 2 && next == &modules[before])
			CHECK_EQ_INT(next->generation, gen + 1);
		live->state = MOD_REPLACED;	/* the swap and window are over */
		next->state = MOD_RUNNING;
		live = next;
	}
	CHECK_EQ_INT(nmodules, before + 1);
	CHECK(mod_find("serial") == live);
	fm_teardown();
	free(img);
}

/* After the takeover a module file comes from a file system: the shell
 * reads it and hands it over (mod_image), and `update MODULE PATH` finds
 * it by that path instead of asking the firmware, which is gone. */
TEST(update_finds_a_handed_over_file_by_path)
{
	size_t len;
	void *other = slurp("build/mods/rtc.mod", &len);

	REQUIRE(world());
	CHECK_MSG(other != NULL, "build/mods/rtc.mod: run make all first");
	if (other) {
		CHECK_EQ_INT(hub_services.mod_image(cli->m,
		    "/esp/patchbay/mods/drv.mod", other, len), PB_OK);
		CHECK(ctl("update drv /esp/patchbay/mods/drv.mod") != PB_OK);
		CHECK_STR(out, "error: update drv: /esp/patchbay/mods/drv.mod "
		    "is module rtc, not drv\n");
		/* Another path is still asked of the firmware. */
		CHECK(ctl("update drv /esp/patchbay/mods/other.mod") != PB_OK);
		CHECK_CONTAINS(out, "error: update drv: no firmware");
	}
	CHECK(mod_find("drv") == drv->m && drv->m->state == MOD_RUNNING);
	disk.nfiles = 0;	/* the ramdisk keeps the handoff it was given */
	fm_teardown();
	free(other);
}

/* The hub keeps a copy per path, reuses the slot of a copy nothing runs
 * from, and refuses (PB_EBUSY) when every slot holds one in use. */
TEST(module_images_are_bounded_and_reused)
{
	static char img[100], path[64];
	const void *data;
	size_t len;

	fm_setup();
	CHECK_EQ_INT(image_add(NULL, "/a.mod", img, 0), PB_EINVAL);
	CHECK_EQ_INT(image_add(NULL, "/a.mod", img, IMAGE_MAX + 1), PB_EINVAL);
	for (unsigned i = 0; i < 2 * IMAGE_SLOTS; i++) {
		snprintf(path, sizeof(path), "/esp/m%u.mod", i);
		img[0] = (char)i;
		CHECK_EQ_INT(image_add(NULL, path, img, sizeof(img)), PB_OK);
	}
	REQUIRE(image_find(path, &data, &len) == PB_OK);
	CHECK(len == sizeof(img) && ((const char *)data)[0] ==
	    (char)(2 * IMAGE_SLOTS - 1));
	CHECK(data != img);				/* a copy */
	/* Every copy in use by a module record: no room. */
	for (unsigned i = 0; i < IMAGE_SLOTS; i++) {
		snprintf(path, sizeof(path), "/esp/m%u.mod", IMAGE_SLOTS + i);
		REQUIRE(image_find(path, &data, &len) == PB_OK);
		modules[nmodules] = (struct pb_module){ .file = data,
		    .state = MOD_UNLOADED };
		nmodules++;
	}
	CHECK_EQ_INT(image_add(NULL, "/esp/new.mod", img, sizeof(img)),
	    PB_EBUSY);
	modules[nmodules - 1].state = MOD_REPLACED;	/* never loads again */
	CHECK_EQ_INT(image_add(NULL, "/esp/new.mod", img, sizeof(img)), PB_OK);
	fm_teardown();
}

/* The new build published beside the old one under a name of its own;
 * after the update it has the old names (`disks` shows block:sata0
 * before and after), and what it takes whenever it comes (LATER: an irq
 * provider, for a driver that polls till then) is connected too. */
TEST(update_keeps_resource_names_and_connects_later_requirements)
{
	struct fm *irq;
	char before[64];

	REQUIRE(world());
	irq = fm_add("irqp", 0);
	fm_serve(irq, "irqx", "i0");
	REQUIRE(fm_start(irq) == PB_OK);
	rt_strlcpy(drv2->pub[0].name, "drv0-2", sizeof(drv2->pub[0].name));
	fm_require(drv2, "irqx", 1, 0, PB_CARD_OPTIONAL, PB_LATER);
	rt_strlcpy(before, drv->res[0]->name, sizeof(before));
	CHECK_EQ_INT(hub_update_module(drv->m, drv2->m, err, sizeof(err)),
	    PB_OK);
	CHECK_STR(drv2->res[0]->name, before);
	CHECK_CONTAINS(drv->res[0]->name, "drv0-2");
	CHECK_STR(fm_conn(cli, 0, 0)->pub.res, before);
	CHECK(fm_conn(drv2, 0, 0) != NULL &&
	    fm_conn_res(drv2, 0, 0) == irq->res[0]);
	fm_teardown();
}

/* Updates in quick succession: when the second comes inside the first's
 * watch window, the first build goes at once (there is nothing left to
 * swap back to), so instances and their names do not pile up. */
TEST(update_inside_a_watch_window_retires_the_oldest)
{
	struct fm *drv3;

	REQUIRE(world());
	REQUIRE(hub_update_module(drv->m, drv2->m, err, sizeof(err)) == PB_OK);
	drv3 = fm_add_loadable("drv", 1);
	fm_provide(drv3, "tcon", 1, 0);
	fm_publish(drv3, "tcon", "drv0", "path=dev:d0");
	bind_rule(drv3);
	CHECK_EQ_INT(hub_update_module(drv2->m, drv3->m, err, sizeof(err)),
	    PB_OK);
	CHECK_MSG(err[0] == '\0', "%s", err);
	CHECK_EQ_INT(drv->m->state, MOD_REPLACED);	/* gone at once */
	CHECK_EQ_INT(drv2->m->state, MOD_QUIESCED);	/* in its window */
	CHECK_EQ_INT(drv3->m->state, MOD_RUNNING);
	CHECK(fm_conn_res(cli, 0, 0) == drv3->res[0]);
	CHECK_EQ_INT(res_clients(bus->res[0]), 1);
	fm_advance(swap_watch_ns);
	CHECK_EQ_INT(drv2->m->state, MOD_REPLACED);
	fm_teardown();
}

/* A load that fails after its image was placed gives the range back and
 * keeps no claim on it: a fault there is not charged to the failed module,
 * and unloading or collecting it later unmaps nothing (the range may be
 * another module's by then). */
TEST(failed_load_keeps_no_image_range)
{
	size_t len;
	void *img = slurp("build/mods/serial.mod", &len);
	struct pb_module *m;
	uint64_t at;

	REQUIRE(img != NULL);		/* build/mods: make all first */
	fm_setup();
	REQUIRE((m = mod_register("serial.mod", img, len)) != NULL);
	fake_map_image_err = PB_ENOMEM;
	CHECK_EQ_INT(mod_load(m), PB_EINVAL);
	fake_map_image_err = 0;
	CHECK_EQ_INT(m->state, MOD_FAILED);
	CHECK(m->base == 0 && m->size == 0);
	REQUIRE(mod_load(m) == PB_OK);		/* works the second time */
	at = m->base + m->head;
	CHECK(hub_module_at(at) == m);
	mod_unload(m);
	fake_map_image_err = PB_ENOMEM;
	fake_unmaps = 0;
	CHECK_EQ_INT(mod_load(m), PB_EINVAL);
	fake_map_image_err = 0;
	CHECK(hub_module_at(at) == NULL);
	mod_unload(m);
	CHECK_EQ_INT(fake_unmaps, 0);
	fm_teardown();
	free(img);
}
