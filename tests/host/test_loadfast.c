/*
 * test_loadfast.c - a module's image is written once, and only the part
 * it holds (hub/pe.c pe_load_range, hub/module.c mod_load): the bytes of
 * [from, to) equal a whole load's, nothing outside them is written, and a
 * relocation outside them or a part not starting after the headers is
 * refused; a code page that holds its bytes already is not written
 * (issue 16: load+relocate+start of a 16 KiB module, the disk swap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "../../tools/slurp.h"
#include "../../hub/pe.h"

#define PG 4096u
#define BASE 0xffffffff80400000ull

/* serial.mod parsed, with the part the hub loads: [head, keep). */
static void *
part_of(const char *path, struct pe_image *img, uint32_t *head,
    uint32_t *keep)
{
	size_t len;
	void *file = slurp(path, &len);
	const char *why = "";
	const struct pe_section *last;

	if (!file) {
		CHECK_MSG(0, "%s: run make all first", path);
		return NULL;
	}
	if (!CHECK_MSG(pe_parse(file, len, img, &why) == PB_OK, "%s", why)) {
		free(file);
		return NULL;
	}
	last = &img->sections[img->nsections - 1];
	*head = (img->headers_size + PG - 1) & ~(PG - 1);
	*keep = strcmp(last->name, ".reloc") == 0 ? last->rva :
	    img->image_size;
	return file;
}

TEST(loadfast_part_equals_the_whole_load_and_writes_nothing_else)
{
	struct pe_image img;
	uint32_t head, keep;
	void *file = part_of("build/mods/serial.mod", &img, &head, &keep);
	uint8_t *whole, *part;
	const char *why = "";

	if (!file)
		return;
	whole = calloc(1, img.image_size);
	part = malloc(img.image_size);
	REQUIRE(whole && part);
	memset(part, 0xa5, img.image_size);	/* not zeroed beforehand */
	CHECK_EQ_INT(pe_load(&img, whole, BASE, &why), PB_OK);
	CHECK_EQ_INT(pe_load_range(&img, part, BASE, head, keep, &why), PB_OK);
	CHECK(keep > head);
	CHECK_MSG(memcmp(whole + head, part + head, keep - head) == 0,
	    "the part differs from the whole load");
	for (uint32_t i = 0; i < img.image_size; i++)
		if ((i < head || i >= keep) && part[i] != 0xa5) {
			CHECK_MSG(0, "byte %#x outside the part written", i);
			break;
		}
	free(whole);
	free(part);
	free(file);
}

TEST(loadfast_whole_load_zeroes_what_the_file_does_not_fill)
{
	struct pe_image img;
	uint32_t head, keep;
	void *file = part_of("build/mods/serial.mod", &img, &head, &keep);
	uint8_t *d;
	const char *why = "";
	int bss = 0;

	if (!file)
		return;
	REQUIRE((d = malloc(img.image_size)) != NULL);
	memset(d, 0xa5, img.image_size);
	CHECK_EQ_INT(pe_load(&img, d, BASE, &why), PB_OK);
	CHECK(d[0] == 'M' && d[1] == 'Z');	/* the headers, from 0 */
	for (uint32_t i = 0; i < img.nsections; i++) {
		const struct pe_section *s = &img.sections[i];
		uint32_t end = (s->rva + s->vsize + PG - 1) & ~(PG - 1);

		/* Past a section's file bytes, to its page's end: zero. */
		for (uint32_t at = s->rva + s->raw_size; at < end; at++, bss++)
			if (d[at] != 0) {
				CHECK_MSG(0, "%s: byte %#x not zeroed", s->name,
				    at);
				break;
			}
	}
	CHECK_MSG(bss > 0, "serial.mod has no bytes beyond its file data");
	free(d);
	free(file);
}

TEST(loadfast_part_refuses_bad_bounds_and_relocations_outside)
{
	struct pe_image img;
	uint32_t head, keep;
	void *file = part_of("build/mods/serial.mod", &img, &head, &keep);
	uint8_t *d;
	const char *why = "";

	if (!file)
		return;
	REQUIRE((d = calloc(1, img.image_size)) != NULL);
	/* A part starting inside the headers, past the end, reversed. */
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, 0x200, keep, &why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "part");
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, head + PG, keep, &why),
	    PB_EINVAL);
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, head, img.image_size + PG,
	    &why), PB_EINVAL);
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, keep, head, &why),
	    PB_EINVAL);
	/* serial.mod has relocations: none may land outside an empty part. */
	why = "";
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, head, head, &why),
	    PB_EINVAL);
	CHECK_CONTAINS(why, "outside the loaded part");
	free(d);
	free(file);
}

/* Loaded again where it was, the code pages are only read: made
 * read-only, a write to them would fault the test. */
TEST(loadfast_code_holding_its_bytes_is_not_written_again)
{
	struct pe_image img;
	uint32_t head, keep, ncode = 0;
	void *file = part_of("build/mods/serial.mod", &img, &head, &keep);
	uint8_t *d, *whole;
	const char *why = "";

	if (!file)
		return;
	d = mmap(NULL, img.image_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(d != MAP_FAILED);
	REQUIRE((whole = calloc(1, img.image_size)) != NULL);
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, head, keep, &why), PB_OK);
	for (uint32_t i = 0; i < img.nsections; i++) {
		const struct pe_section *s = &img.sections[i];

		if (!(s->prot & PE_PROT_X))
			continue;
		CHECK_EQ_INT(mprotect(d + s->rva, (s->vsize + PG - 1) & ~(PG - 1),
		    PROT_READ), 0);
		ncode++;
	}
	CHECK_MSG(ncode > 0, "serial.mod has no code section");
	CHECK_EQ_INT(pe_load_range(&img, d, BASE, head, keep, &why), PB_OK);
	CHECK_EQ_INT(pe_load(&img, whole, BASE, &why), PB_OK);
	CHECK_MSG(memcmp(whole + head, d + head, keep - head) == 0,
	    "the second load differs from a whole load");
	munmap(d, img.image_size);
	free(whole);
	free(file);
}
