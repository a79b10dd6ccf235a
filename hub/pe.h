/*
 * pe.h - the PE32+ loader: validate an image completely, then lay it out.
 *
 * pe_parse() trusts nothing: it checks every header field, section bound,
 * alignment, overlap, data directory and relocation block, and refuses
 * imports, TLS, writable code and executable data.  Only an image that
 * passed pe_parse() may be given to pe_load(), which copies the sections
 * and applies the relocations.  pe_read_modinfo() reads and validates a
 * module's descriptor from the file, without running any of its code.
 *
 * Portable C with no hardware access: the stub, the hub and the host tests
 * compile this same file.  Every refusal sets *why to a short reason.
 */
#ifndef PB_HUB_PE_H
#define PB_HUB_PE_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/pb.h"

#define PE_MAX_SECTIONS 16
#define PE_MAX_IMAGE (16u << 20)	/* larger images are refused */
#define PE_PAGE 4096u

/* Protection a section is mapped with. */
enum pe_prot {
	PE_PROT_R = 1,
	PE_PROT_W = 2,
	PE_PROT_X = 4,
};

struct pe_section {
	char name[9];
	uint32_t rva;		/* page aligned */
	uint32_t vsize;		/* bytes in memory */
	uint32_t raw_off;	/* file offset of the initialised bytes */
	uint32_t raw_size;	/* initialised bytes, <= vsize */
	int prot;		/* PE_PROT_* */
};

struct pe_image {
	const uint8_t *file;
	size_t file_size;
	uint64_t image_base;	/* preferred base */
	uint32_t image_size;	/* SizeOfImage, page aligned */
	uint32_t entry_rva;	/* 0: none */
	uint32_t headers_size;	/* SizeOfHeaders: copied to the image too */
	uint32_t nsections;
	struct pe_section sections[PE_MAX_SECTIONS];
	uint32_t reloc_rva, reloc_size;
	int modinfo;		/* index of the .modinfo section, or -1 */
};

int pe_parse(const void *file, size_t size, struct pe_image *img,
    const char **why);
/* dest holds img->image_size bytes; load_addr is where dest will execute
 * (dest itself before paging changes it).  Every byte is written: the
 * file's, or zero. */
int pe_load(const struct pe_image *img, void *dest, uint64_t load_addr,
    const char **why);
/* The same for the image's bytes [from, to) only, at dest + rva: from is
 * the first page after the headers; relocations outside are refused. */
int pe_load_range(const struct pe_image *img, void *dest, uint64_t load_addr,
    uint32_t from, uint32_t to, const char **why);
/* The descriptor as the file holds it; ops is turned into an RVA. */
int pe_read_modinfo(const struct pe_image *img, struct pb_modinfo *out,
    uint32_t *ops_rva, const char **why);
/* The section containing rva, or NULL. */
const struct pe_section *pe_section_at(const struct pe_image *img,
    uint64_t rva);

#endif
