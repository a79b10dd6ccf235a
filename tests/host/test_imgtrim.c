/*
 * test_imgtrim.c - a loaded image holds neither its header page nor its
 * .reloc section (hub/module.c image_part): the hub relocates from the
 * file, so neither is read after the load (issue 16).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../tools/slurp.h"
#include "fakemod.h"
#include "../../hub/pe.h"

#define PG 4096ull

static void
check_trimmed_load(const void *file, size_t len)
{
	struct pe_image img;
	const char *why = "";
	const struct pe_section *last;
	struct pb_module *m;
	uint64_t before, head, keep;

	REQUIRE(pe_parse(file, len, &img, &why) == PB_OK);
	last = &img.sections[img.nsections - 1];
	CHECK_STR(last->name, ".reloc");
	head = (img.headers_size + PG - 1) & ~(PG - 1);
	keep = last->rva;
	REQUIRE((m = mod_register("serial.mod", file, len)) != NULL);
	before = mem_free_pages();
	REQUIRE(mod_load(m) == PB_OK);
	CHECK_EQ_INT(m->head, head);
	CHECK_EQ_INT(m->size, keep);
	CHECK_EQ_INT(mem_owned(m, MEM_KIND_IMAGE), (keep - head) / PG);
	CHECK_EQ_INT(before - mem_free_pages(), (keep - head) / PG);
	CHECK(img.image_size / PG > (keep - head) / PG + 1);
	/* Neither the header page nor the relocations are the module's. */
	CHECK(hub_module_at(m->base) == NULL);
	CHECK(hub_module_at(m->base + keep) == NULL);
	CHECK(hub_module_at(m->base + head) == m);
	CHECK(hub_module_at(m->base + keep - 1) == m);
	CHECK_EQ_INT((uint64_t)(uintptr_t)m->ops, m->base + m->ops_rva);
	CHECK_EQ_INT(mod_unload(m), PB_OK);
	CHECK_EQ_INT(mem_free_pages(), before);
	/* Loaded again from its file, trimmed the same way. */
	REQUIRE(mod_load(m) == PB_OK);
	CHECK_EQ_INT(mem_owned(m, MEM_KIND_IMAGE), (keep - head) / PG);
	CHECK_EQ_INT(mod_unload(m), PB_OK);
	CHECK_EQ_INT(mem_free_pages(), before);
}

TEST(imgtrim_loaded_module_gives_back_header_and_relocs)
{
	size_t len;
	void *file = slurp("build/mods/serial.mod", &len);

	CHECK_MSG(file != NULL, "build/mods/serial.mod: run make all first");
	if (file) {
		fm_setup();
		check_trimmed_load(file, len);
		fm_teardown();
	}
	free(file);
}
