/*
 * fuzz_pe.c - libFuzzer target for the PE32+ loader (hub/pe.c).
 *
 * Runs what the hub runs on a module file: pe_parse, and on success
 * pe_read_modinfo and pe_load into a zeroed buffer of SizeOfImage bytes at
 * a base derived from the input, then pe_load_range of the part a module
 * holds.  Beyond ASan/UBSan's findings, it traps on
 * broken promises: an image pe_parse accepted must load, refusals carry a
 * reason, and an accepted descriptor's strings are terminated and its
 * counts in range.
 *
 * Seeds: tests/fuzz/run puts the .mod files of build/mods and
 * build/test-mods (and the generated broken images of build/test-broken,
 * see tests/host/test_pe.c) in the corpus.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../hub/pe.h"

#define MAX_LOAD (16u << 20)

static void
must(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva = 0;
	const char *why = NULL;
	uint64_t h = 0xcbf29ce484222325ull, base;
	uint8_t *dest;

	if (pe_parse(data, size, &img, &why) != 0) {
		must(why && *why);
		return 0;
	}
	must(img.image_size > 0 && img.image_size <= PE_MAX_IMAGE);
	must(img.nsections > 0 && img.nsections <= PE_MAX_SECTIONS);
	for (uint32_t i = 0; i < img.nsections; i++) {
		const struct pe_section *s = &img.sections[i];

		must((uint64_t)s->rva + s->vsize <= img.image_size);
		must(s->raw_size <= s->vsize);
		must((uint64_t)s->raw_off + s->raw_size <= size);
		must(!((s->prot & PE_PROT_W) && (s->prot & PE_PROT_X)));
	}

	why = NULL;
	if (pe_read_modinfo(&img, &mi, &ops_rva, &why) == 0) {
		const struct pe_section *s = pe_section_at(&img, ops_rva);

		must(mi.ops == NULL);
		must(strnlen(mi.name, PB_NAME_MAX) < PB_NAME_MAX);
		must(strnlen(mi.version, PB_VERSION_MAX) < PB_VERSION_MAX);
		must(strnlen(mi.desc, PB_DESC_MAX) < PB_DESC_MAX);
		must(mi.nprovides <= PB_MAX_PROVIDES);
		must(mi.nrequires <= PB_MAX_REQUIRES);
		must(mi.nbinds <= PB_MAX_BINDS);
		must(s && !(s->prot & PE_PROT_X));
	} else {
		must(why && *why);
	}

	/* A base that moves with the input: high half, low, page aligned. */
	for (size_t i = 0; i < size && i < 4096; i += 61)
		h = (h ^ data[i]) * 0x100000001b3ull;
	base = (h & 1) ? 0xffff800000000000ull | (h & 0x00007ffffffff000ull) :
	    h & 0x00000000fffff000ull;

	if (img.image_size > MAX_LOAD)
		return 0;
	dest = calloc(1, img.image_size);
	if (!dest)
		return 0;
	why = NULL;
	must(pe_load(&img, dest, base, &why) == 0);
	/* The part a module holds (hub/module.c): after the headers' page,
	 * up to a section's start or the end; refused only with a reason. */
	{
		uint32_t from = (img.headers_size + PE_PAGE - 1) & ~(PE_PAGE - 1);
		uint32_t to = img.sections[img.nsections - 1].rva;

		why = NULL;
		if (pe_load_range(&img, dest, base, from, to > from ? to :
		    img.image_size, &why) != 0)
			must(why && *why);
	}
	free(dest);
	return 0;
}
