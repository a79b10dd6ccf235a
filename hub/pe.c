/*
 * pe.c - validate and lay out PE32+ images (see pe.h).
 *
 * The order of checks follows the file: DOS header, signature, COFF header,
 * optional header, data directories, section table, relocations.  A check
 * reads only bytes an earlier check proved to be inside the file.
 */
#include "pe.h"
#include "pe_format.h"
#include "../abi/rt/rt.h"

#define REFUSE(msg) do { *why = (msg); return PB_EINVAL; } while (0)

static int
in_range(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

static uint32_t
page_up(uint32_t v)
{
	return (v + PE_PAGE - 1) & ~(PE_PAGE - 1);
}

static int
check_headers(struct pe_image *img, struct pe_coff_header *coff,
    struct pe_opt_header *opt, uint32_t *sect_off, const char **why)
{
	struct pe_dos_header dos;
	uint32_t sig, off;

	if (img->file_size < sizeof(dos))
		REFUSE("truncated: no DOS header");
	memcpy(&dos, img->file, sizeof(dos));
	if (dos.e_magic != PE_DOS_MAGIC)
		REFUSE("not a PE image: no MZ signature");
	off = dos.e_lfanew;
	if ((off & 3) || !in_range(off, 4 + sizeof(*coff), img->file_size))
		REFUSE("bad e_lfanew");
	memcpy(&sig, img->file + off, 4);
	if (sig != PE_SIGNATURE)
		REFUSE("not a PE image: no PE signature");
	memcpy(coff, img->file + off + 4, sizeof(*coff));
	if (coff->machine != PE_MACHINE_AMD64)
		REFUSE("machine is not x86-64");
	if (coff->nsections == 0 || coff->nsections > PE_MAX_SECTIONS)
		REFUSE("bad number of sections");
	if (!(coff->characteristics & PE_FILE_EXECUTABLE))
		REFUSE("not an executable image");
	if (coff->characteristics & PE_FILE_RELOCS_STRIPPED)
		REFUSE("relocations stripped");
	off += 4 + sizeof(*coff);
	if (coff->opt_size < offsetof(struct pe_opt_header, dirs) ||
	    coff->opt_size > sizeof(*opt) ||
	    !in_range(off, coff->opt_size, img->file_size))
		REFUSE("bad optional header size");
	memset(opt, 0, sizeof(*opt));
	memcpy(opt, img->file + off, coff->opt_size);
	if (opt->magic != PE_OPT_MAGIC_PE32P)
		REFUSE("not PE32+");
	if (opt->ndirs > PE_DIR_MAX ||
	    coff->opt_size != offsetof(struct pe_opt_header, dirs) +
	    opt->ndirs * sizeof(struct pe_data_dir))
		REFUSE("bad number of data directories");
	*sect_off = off + coff->opt_size;
	return PB_OK;
}

static int
check_layout(struct pe_image *img, const struct pe_opt_header *opt,
    const char **why)
{
	if (opt->section_align != PE_PAGE)
		REFUSE("section alignment is not 4096");
	if (opt->file_align < 512 || opt->file_align > PE_PAGE ||
	    (opt->file_align & (opt->file_align - 1)))
		REFUSE("bad file alignment");
	if (opt->image_size == 0 || opt->image_size > PE_MAX_IMAGE ||
	    (opt->image_size & (PE_PAGE - 1)))
		REFUSE("absurd SizeOfImage");
	if (opt->headers_size == 0 || opt->headers_size > img->file_size ||
	    opt->headers_size > opt->image_size)
		REFUSE("bad SizeOfHeaders");
	if (opt->image_base & (PE_PAGE - 1))
		REFUSE("image base not page aligned");
	img->image_base = opt->image_base;
	img->image_size = opt->image_size;
	img->entry_rva = opt->entry_rva;
	img->headers_size = opt->headers_size;
	return PB_OK;
}

static int
check_dirs(struct pe_image *img, const struct pe_opt_header *opt,
    const char **why)
{
	for (uint32_t i = 0; i < opt->ndirs; i++) {
		const struct pe_data_dir *d = &opt->dirs[i];

		if (d->size == 0)
			continue;
		if (!in_range(d->rva, d->size, img->image_size))
			REFUSE("data directory outside the image");
		if (i == PE_DIR_IMPORT || i == PE_DIR_DELAY_IMPORT ||
		    i == PE_DIR_IAT)
			REFUSE("has imports");
		if (i == PE_DIR_TLS)
			REFUSE("has TLS");
		if (i == PE_DIR_CLR)
			REFUSE("is a .NET image");
	}
	if (opt->ndirs > PE_DIR_BASERELOC) {
		img->reloc_rva = opt->dirs[PE_DIR_BASERELOC].rva;
		img->reloc_size = opt->dirs[PE_DIR_BASERELOC].size;
	}
	if (img->reloc_size == 0)
		REFUSE("no base relocations");
	return PB_OK;
}

static int
section_prot(uint32_t ch, int *prot, const char **why)
{
	int code = (ch & PE_SCN_CNT_CODE) != 0;
	int data = (ch & (PE_SCN_CNT_IDATA | PE_SCN_CNT_UDATA)) != 0;

	if ((ch & PE_SCN_MEM_EXECUTE) && (ch & PE_SCN_MEM_WRITE))
		REFUSE("writable code section (W+X)");
	if ((ch & PE_SCN_MEM_EXECUTE) && (data || !code))
		REFUSE("executable data section");
	if (code && !(ch & PE_SCN_MEM_EXECUTE))
		REFUSE("code section not executable");
	*prot = PE_PROT_R;
	if (ch & PE_SCN_MEM_WRITE)
		*prot |= PE_PROT_W;
	if (ch & PE_SCN_MEM_EXECUTE)
		*prot |= PE_PROT_X;
	return PB_OK;
}

static int
check_sections(struct pe_image *img, const struct pe_coff_header *coff,
    const struct pe_opt_header *opt, uint32_t off, const char **why)
{
	uint32_t next_free = page_up(opt->headers_size);

	if (!in_range(off, (uint64_t)coff->nsections *
	    sizeof(struct pe_section_header), opt->headers_size))
		REFUSE("section table outside the headers");
	img->modinfo = -1;
	for (uint32_t i = 0; i < coff->nsections; i++) {
		struct pe_section_header sh;
		struct pe_section *s = &img->sections[i];
		uint32_t vsize;

		memcpy(&sh, img->file + off + i * sizeof(sh), sizeof(sh));
		memcpy(s->name, sh.name, 8);
		s->name[8] = '\0';
		vsize = sh.vsize ? sh.vsize : sh.raw_size;
		if (sh.rva & (PE_PAGE - 1))
			REFUSE("section not page aligned");
		if (sh.rva < next_free)
			REFUSE("overlapping sections");
		if (vsize == 0 || !in_range(sh.rva, vsize, img->image_size))
			REFUSE("section outside SizeOfImage");
		if (!in_range(sh.raw_ptr, sh.raw_size, img->file_size))
			REFUSE("section data outside the file");
		if (section_prot(sh.characteristics, &s->prot, why))
			return PB_EINVAL;
		s->rva = sh.rva;
		s->vsize = vsize;
		s->raw_off = sh.raw_ptr;
		s->raw_size = sh.raw_size < vsize ? sh.raw_size : vsize;
		next_free = page_up(sh.rva + vsize);
		if (strcmp(s->name, ".modinfo") == 0)
			img->modinfo = (int)i;
	}
	img->nsections = coff->nsections;
	return PB_OK;
}

const struct pe_section *
pe_section_at(const struct pe_image *img, uint64_t rva)
{
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];

		if (rva >= s->rva && rva < (uint64_t)s->rva + s->vsize)
			return s;
	}
	return NULL;
}

/* Read n bytes at rva as the loaded image would hold them (before
 * relocation): file bytes where the section has them, zero beyond. */
static int
read_rva(const struct pe_image *img, uint32_t rva, void *out, uint32_t n)
{
	const struct pe_section *s = pe_section_at(img, rva);
	uint32_t in;

	if (!s || !in_range(rva - s->rva, n, s->vsize))
		return PB_EINVAL;
	in = rva - s->rva;
	memset(out, 0, n);
	if (in < s->raw_size) {
		uint32_t k = s->raw_size - in < n ? s->raw_size - in : n;
		memcpy(out, img->file + s->raw_off + in, k);
	}
	return PB_OK;
}

/* Called with the target of every DIR64 relocation; nonzero refuses. */
typedef int (*reloc_visit_fn)(void *arg, uint32_t at, const char **why);

/* Where relocations are applied: dest holds the image's bytes [from, to)
 * (dest + rva, for rva in it); NULL: only check. */
struct reloc_dest {
	uint8_t *dest;
	uint64_t delta;
	uint32_t from, to;
};

/* The relocation directory's bytes in the file: all of it must lie in
 * the raw data of one section (where linkers put it, in .reloc). */
static const uint8_t *
reloc_dir(const struct pe_image *img)
{
	const struct pe_section *s = pe_section_at(img, img->reloc_rva);

	if (!s || !in_range(img->reloc_rva - s->rva, img->reloc_size,
	    s->raw_size))
		return NULL;
	return img->file + s->raw_off + (img->reloc_rva - s->rva);
}

/*
 * Walk the relocation blocks (spec 6.6); with d NULL, only check.  A
 * module has thousands of relocations, and every load walks them twice
 * (pe_parse, then pe_load_range), so an entry costs a few comparisons:
 * sections are page aligned, so a block's page lies in one section (or
 * none), found once per block.
 */
static int
walk_relocs(const struct pe_image *img, const struct reloc_dest *d,
    reloc_visit_fn visit, void *arg, const char **why)
{
	const uint8_t *dir = reloc_dir(img);
	uint32_t off = 0;

	if (!dir)
		REFUSE("truncated relocation block");
	while (off < img->reloc_size) {
		struct pe_reloc_block b;
		const struct pe_section *s;
		uint32_t n, end;

		if (img->reloc_size - off < sizeof(b))
			REFUSE("truncated relocation block");
		memcpy(&b, dir + off, sizeof(b));
		if (b.block_size < sizeof(b) || (b.block_size & 1) ||
		    b.block_size > img->reloc_size - off)
			REFUSE("bad relocation block size");
		if ((b.page_rva & (PE_PAGE - 1)) || b.page_rva >= img->image_size)
			REFUSE("relocation block outside the image");
		s = pe_section_at(img, b.page_rva);
		end = s ? s->rva + s->vsize : 0;
		n = (b.block_size - sizeof(b)) / 2;
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *e = dir + off + sizeof(b) + 2 * i;
			uint32_t at = b.page_rva + (e[0] | (e[1] & 0xf) << 8);
			uint64_t v;

			if ((e[1] >> 4) == PE_REL_ABSOLUTE)
				continue;
			if ((e[1] >> 4) != PE_REL_DIR64)
				REFUSE("unknown relocation type");
			/* All 8 bytes inside one section: not in a gap, not
			 * across two sections of different protections. */
			if (!s || at > end || end - at < 8)
				REFUSE("relocation target outside the sections");
			if (visit && visit(arg, at, why))
				return PB_EINVAL;
			if (!d)
				continue;
			if (at < d->from || !in_range(at, 8, d->to))
				REFUSE("relocation target outside the loaded part");
			__builtin_memcpy(&v, d->dest + at, 8);
			v += d->delta;
			__builtin_memcpy(d->dest + at, &v, 8);
		}
		off += b.block_size;
	}
	return PB_OK;
}

int
pe_parse(const void *file, size_t size, struct pe_image *img, const char **why)
{
	struct pe_coff_header coff;
	struct pe_opt_header opt;
	uint32_t sect_off;
	int err;

	memset(img, 0, sizeof(*img));
	img->file = file;
	img->file_size = size;
	if ((err = check_headers(img, &coff, &opt, &sect_off, why)) ||
	    (err = check_layout(img, &opt, why)) ||
	    (err = check_dirs(img, &opt, why)) ||
	    (err = check_sections(img, &coff, &opt, sect_off, why)))
		return err;
	if (img->entry_rva) {
		const struct pe_section *s = pe_section_at(img, img->entry_rva);
		if (!s || !(s->prot & PE_PROT_X))
			REFUSE("entry point outside code");
	}
	return walk_relocs(img, NULL, NULL, NULL, why);
}

/* Do the n bytes at d hold src's (NULL: zeros)? */
static int
holds(const uint8_t *d, const uint8_t *src, uint32_t n)
{
	uint64_t x, y = 0;
	uint32_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, d + i, 8);
		if (src)
			memcpy(&y, src + i, 8);
		if (x != y)
			return 0;
	}
	for (; i < n; i++)
		if (d[i] != (src ? src[i] : 0))
			return 0;
	return 1;
}

/*
 * Write n bytes of src (NULL: zeros) at d; in code (keep), only pages
 * that do not hold them already.  An emulator keeps the code it has
 * translated from a page until the page is written (QEMU's TCG), so a
 * module loaded again where it was (a restart, a swap back, unload and
 * load) runs without being translated again; on hardware this only
 * saves the writes.  A page of a new build differs in its first bytes.
 */
static void
put(uint8_t *d, const uint8_t *src, uint32_t n, int keep)
{
	while (n) {
		uint32_t k = PE_PAGE - ((uintptr_t)d & (PE_PAGE - 1));

		k = k < n ? k : n;
		if (!keep || !holds(d, src, k)) {
			if (src)
				memcpy(d, src, k);
			else
				memset(d, 0, k);
		}
		d += k;
		src = src ? src + k : NULL;
		n -= k;
	}
}

int
pe_load_range(const struct pe_image *img, void *dest, uint64_t load_addr,
    uint32_t from, uint32_t to, const char **why)
{
	struct reloc_dest d = { dest, load_addr - img->image_base, from, to };
	uint32_t at = from;
	int keep = 0;

	/* Every byte of [from, to) gets the file's data, or zero in the gaps
	 * and past a section's file data (put). */
	if (from > to || to > img->image_size ||
	    from != page_up(img->headers_size))
		REFUSE("bad part of the image to load");
	for (uint32_t i = 0; i < img->nsections; i++) {
		const struct pe_section *s = &img->sections[i];
		uint32_t end = s->rva + s->raw_size;

		if (s->rva >= to)
			break;		/* sections are in order (check_sections) */
		if (end > to)
			end = to;
		put(d.dest + at, NULL, s->rva - at, keep);	/* gap, tail */
		keep = (s->prot & PE_PROT_X) != 0;
		put(d.dest + s->rva, img->file + s->raw_off, end - s->rva, keep);
		at = end;
	}
	put(d.dest + at, NULL, to - at, keep);
	return walk_relocs(img, &d, NULL, NULL, why);
}

/* A whole image, headers included: the stub maps the hub's sections from
 * them (a module is loaded by pe_load_range, without its headers). */
int
pe_load(const struct pe_image *img, void *dest, uint64_t load_addr,
    const char **why)
{
	uint32_t head = page_up(img->headers_size);

	memcpy(dest, img->file, img->headers_size);
	memset((uint8_t *)dest + img->headers_size, 0, head - img->headers_size);
	return pe_load_range(img, dest, load_addr, head, img->image_size, why);
}

static int
check_name(const char *s, size_t max, int allow_empty)
{
	size_t n = strnlen(s, max);

	if (n == max || (n == 0 && !allow_empty))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.'))
			return -1;
	}
	return 0;
}

static int
check_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -1;
	return 0;
}

static int
check_interfaces(const struct pb_modinfo *m, const char **why)
{
	for (unsigned i = 0; i < m->nprovides; i++)
		if (check_name(m->provides[i].iface, PB_IFACE_MAX, 0) ||
		    check_name(m->provides[i].extends, PB_IFACE_MAX, 1))
			REFUSE("descriptor: bad provided interface name");
	for (unsigned i = 0; i < m->nrequires; i++) {
		const struct pb_require *r = &m->requires[i];
		if (check_name(r->iface, PB_IFACE_MAX, 0))
			REFUSE("descriptor: bad required interface name");
		if (r->card > PB_CARD_ALL || r->when > PB_LATER)
			REFUSE("descriptor: bad requirement kind");
	}
	for (unsigned i = 0; i < m->nbinds; i++)
		if (check_name(m->binds[i].iface, PB_IFACE_MAX, 0) ||
		    check_text(m->binds[i].match, PB_MATCH_MAX))
			REFUSE("descriptor: bad bind rule");
	return PB_OK;
}

#define NOPS (sizeof(struct pb_module_ops) / 8)

/* Each entry point is 0 or an address inside an executable section. */
static int
check_ops(const struct pe_image *img, uint32_t ops_rva, uint64_t *fn,
    const char **why)
{
	const struct pe_section *s = pe_section_at(img, ops_rva);

	_Static_assert(sizeof(struct pb_module_ops) == NOPS * 8, "ops");
	if (!s || (s->prot & PE_PROT_X) ||
	    read_rva(img, ops_rva, fn, NOPS * 8))
		REFUSE("descriptor: entry points table outside the data");
	for (unsigned i = 0; i < NOPS; i++) {
		const struct pe_section *t;

		if (fn[i] == 0) {
			if (i == 0)
				REFUSE("descriptor: no start entry point");
			continue;
		}
		t = fn[i] >= img->image_base ?
		    pe_section_at(img, fn[i] - img->image_base) : NULL;
		if (!t || !(t->prot & PE_PROT_X))
			REFUSE("descriptor: entry point outside code");
	}
	return PB_OK;
}

/*
 * The hub calls the entry points as the loaded image holds them, after
 * relocation, so the values checked in the file must be the ones it gets:
 * the descriptor's ops pointer and every non-NULL entry point are each moved
 * by exactly one aligned DIR64 relocation, and no other relocation touches
 * the descriptor or the entry points table.
 */
struct entry_relocs {
	uint32_t desc_rva, ops_rva;
	const uint64_t *fn;
	uint32_t seen;		/* bit i: fn[i]; bit NOPS: the ops pointer */
};

static int
overlaps(uint32_t at, uint32_t lo, uint32_t len)
{
	return (uint64_t)at + 8 > lo && at < (uint64_t)lo + len;
}

static int
visit_entry_reloc(void *arg, uint32_t at, const char **why)
{
	struct entry_relocs *r = arg;
	uint32_t k;

	if (overlaps(at, r->desc_rva, sizeof(struct pb_modinfo))) {
		if (at != r->desc_rva + offsetof(struct pb_modinfo, ops) ||
		    (r->seen & 1u << NOPS))
			REFUSE("descriptor: relocation inside the descriptor");
		r->seen |= 1u << NOPS;
	}
	if (overlaps(at, r->ops_rva, NOPS * 8)) {
		k = (at - r->ops_rva) / 8;
		if (at < r->ops_rva || (at - r->ops_rva) % 8 || r->fn[k] == 0 ||
		    (r->seen & 1u << k))
			REFUSE("descriptor: bad relocation in the entry points "
			    "table");
		r->seen |= 1u << k;
	}
	return PB_OK;
}

static int
check_entry_relocs(const struct pe_image *img, uint32_t ops_rva,
    const uint64_t *fn, const char **why)
{
	struct entry_relocs r = {
		.desc_rva = img->sections[img->modinfo].rva,
		.ops_rva = ops_rva, .fn = fn,
	};

	if (walk_relocs(img, NULL, visit_entry_reloc, &r, why))
		return PB_EINVAL;
	if (!(r.seen & 1u << NOPS))
		REFUSE("descriptor: entry points table pointer not relocated");
	for (unsigned i = 0; i < NOPS; i++)
		if (fn[i] && !(r.seen & 1u << i))
			REFUSE("descriptor: entry point not relocated");
	return PB_OK;
}

int
pe_read_modinfo(const struct pe_image *img, struct pb_modinfo *m,
    uint32_t *ops_rva, const char **why)
{
	const struct pe_section *s;
	uint64_t ops, fn[NOPS];

	if (img->modinfo < 0)
		REFUSE("no .modinfo section");
	s = &img->sections[img->modinfo];
	if (s->prot != PE_PROT_R)
		REFUSE(".modinfo section is writable or executable");
	if (s->raw_size < sizeof(*m))
		REFUSE("descriptor: truncated");
	memcpy(m, img->file + s->raw_off, sizeof(*m));
	if (m->magic != PB_MODINFO_MAGIC)
		REFUSE("descriptor: bad magic");
	if (m->abi_major != PB_ABI_MAJOR || m->abi_minor > PB_ABI_MINOR)
		REFUSE("descriptor: unsupported ABI version");
	if (check_name(m->name, PB_NAME_MAX, 0) ||
	    check_text(m->version, PB_VERSION_MAX) ||
	    check_text(m->desc, PB_DESC_MAX))
		REFUSE("descriptor: bad name, version or description");
	if (m->nprovides > PB_MAX_PROVIDES || m->nrequires > PB_MAX_REQUIRES ||
	    m->nbinds > PB_MAX_BINDS)
		REFUSE("descriptor: too many entries");
	if (check_interfaces(m, why))
		return PB_EINVAL;
	memcpy(&ops, (const uint8_t *)m + offsetof(struct pb_modinfo, ops), 8);
	if (ops < img->image_base || ops - img->image_base >= img->image_size)
		REFUSE("descriptor: entry points table offset outside the image");
	*ops_rva = (uint32_t)(ops - img->image_base);
	if (check_ops(img, *ops_rva, fn, why) ||
	    check_entry_relocs(img, *ops_rva, fn, why))
		return PB_EINVAL;
	m->ops = NULL;	/* a file address: only the loaded copy is usable */
	return PB_OK;
}
