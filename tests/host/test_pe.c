/*
 * test_pe.c - the PE32+ loader (hub/pe.c) on real modules and on broken ones.
 *
 * Real modules: every *.mod under $PB_MODS_DIR (a colon-separated list of
 * directories; build/mods:build/test-mods by default; a directory that does
 * not exist is skipped) must pass pe_parse and pe_read_modinfo, and load at
 * an arbitrary base with every DIR64 slot moved by exactly the base's delta
 * and every other byte as the file has it.  Files named bad-*.mod or
 * broken-*.mod must be refused instead.
 *
 * Generated modules: gen_new() builds, in memory, a minimal valid module as
 * lld-link would lay it out (.text, .rdata, .data, .modinfo, .reloc), and
 * the pe_refuses_* tests break it in one way each and check the refusal's
 * reason.  With PB_WRITE_BROKEN=1, each broken image is also written to
 * build/test-broken/<test>.mod (or $PB_BROKEN_DIR) for scenario tests and as
 * fuzzing seeds.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "../../hub/pe.h"
#include "../../hub/pe_format.h"

/* ------------------------------------------------------------------------
 * Checks shared by real and generated images.
 */

/* pe_parse then pe_read_modinfo: what the hub does before trusting a file. */
static int
try_accept(const void *file, size_t size, struct pe_image *img,
    struct pb_modinfo *mi, uint32_t *ops_rva, const char **why)
{
	int err;

	*why = NULL;
	if ((err = pe_parse(file, size, img, why)) != 0)
		return err;
	return pe_read_modinfo(img, mi, ops_rva, why);
}

/* n bytes at rva as the unrelocated image holds them; 0 if not inside one
 * section. */
static int
file_bytes(const struct pe_image *img, uint64_t rva, void *out, uint32_t n)
{
	const struct pe_section *s = pe_section_at(img, rva);
	uint64_t in;

	if (!s || rva + n > (uint64_t)s->rva + s->vsize)
		return 0;
	in = rva - s->rva;
	memset(out, 0, n);
	for (uint32_t i = 0; i < n; i++)
		if (in + i < s->raw_size)
			((uint8_t *)out)[i] = img->file[s->raw_off + in + i];
	return 1;
}

/*
 * Load an accepted image at `base` and compare the result with the file,
 * walking the relocation blocks independently of pe.c: each DIR64 slot must
 * hold its file value moved by base - ImageBase, each other byte of a
 * section its file byte (zero past the raw data), and every byte outside the
 * sections zero.  Returns 1 if all is well, else records a failure.
 */
static int
check_load(const char *what, const struct pe_image *img, uint64_t base)
{
	uint8_t *dest, *slot;
	const char *why = NULL;
	uint32_t off = 0, bad = 0, first_bad = 0;
	int ok = 1;

	dest = calloc(1, img->image_size);
	slot = calloc(1, img->image_size);
	if (!dest || !slot) {
		free(dest);
		free(slot);
		return check_fail(__FILE__, __LINE__, "%s: out of memory", what);
	}
	if (pe_load(img, dest, base, &why) != 0) {
		ok = check_fail(__FILE__, __LINE__, "%s: pe_load at %#llx: %s",
		    what, (unsigned long long)base, why ? why : "(no reason)");
		goto out;
	}
	while (off + 8 <= img->reloc_size) {
		struct pe_reloc_block b;

		if (!file_bytes(img, img->reloc_rva + off, &b, sizeof(b)) ||
		    b.block_size < 8 || b.block_size > img->reloc_size - off) {
			ok = check_fail(__FILE__, __LINE__,
			    "%s: relocation block at +%u unreadable", what, off);
			goto out;
		}
		for (uint32_t i = 0; i < (b.block_size - 8) / 2; i++) {
			uint16_t e;
			uint32_t at;
			uint64_t fv, lv;

			file_bytes(img, img->reloc_rva + off + 8 + 2 * i, &e, 2);
			if ((e >> 12) != PE_REL_DIR64)
				continue;
			at = b.page_rva + (e & 0xfff);
			if (!file_bytes(img, at, &fv, 8) ||
			    at + 8 > img->image_size) {
				ok = check_fail(__FILE__, __LINE__,
				    "%s: DIR64 slot %#x outside the sections",
				    what, at);
				goto out;
			}
			memcpy(&lv, dest + at, 8);
			if (lv - base != fv - img->image_base) {
				ok = check_fail(__FILE__, __LINE__,
				    "%s: DIR64 slot %#x: loaded %#llx at base "
				    "%#llx, file %#llx at base %#llx", what, at,
				    (unsigned long long)lv,
				    (unsigned long long)base,
				    (unsigned long long)fv,
				    (unsigned long long)img->image_base);
				goto out;
			}
			memset(slot + at, 1, 8);
		}
		off += b.block_size;
	}
	for (uint32_t rva = 0; rva < img->image_size; rva++) {
		uint8_t want = 0;

		if (slot[rva])
			continue;
		if (rva < img->headers_size)	/* the headers are copied too */
			want = img->file[rva];
		else if (pe_section_at(img, rva))
			file_bytes(img, rva, &want, 1);
		if (dest[rva] != want && bad++ == 0)
			first_bad = rva;
	}
	if (bad)
		ok = check_fail(__FILE__, __LINE__,
		    "%s: %u loaded bytes differ from the file, first at rva %#x",
		    what, bad, first_bad);
out:
	free(dest);
	free(slot);
	return ok;
}

/*
 * Feed every prefix of the file (each in a buffer of exactly that size, so
 * ASan sees any read past it) to the loader.  Prefixes shorter than
 * `must_refuse_below` must be refused; the whole file must be accepted.
 * `step` > 1 samples the lengths.
 */
static int
check_prefixes(const char *what, const uint8_t *file, size_t size,
    size_t must_refuse_below, size_t step)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why;

	for (size_t len = 0; len <= size; len += step) {
		uint8_t *p = malloc(len ? len : 1);
		int err;

		if (!p)
			return check_fail(__FILE__, __LINE__, "out of memory");
		memcpy(p, file, len);
		err = try_accept(p, len, &img, &mi, &ops_rva, &why);
		free(p);
		if (len < must_refuse_below && err == 0)
			return check_fail(__FILE__, __LINE__,
			    "%s: prefix of %zu of %zu bytes accepted", what,
			    len, size);
		if (err != 0 && (!why || !*why))
			return check_fail(__FILE__, __LINE__,
			    "%s: prefix of %zu bytes refused without a reason",
			    what, len);
		if (len == size && err != 0)
			return check_fail(__FILE__, __LINE__,
			    "%s: whole file refused: %s", what, why);
		if (len < size && len + step > size)
			len = size - step;	/* always try the whole file */
	}
	return 1;
}

/* ------------------------------------------------------------------------
 * Broken images on disk, for scenario tests and fuzzing seeds.
 */

static void
write_broken(const char *name, const void *buf, size_t size)
{
	const char *on = getenv("PB_WRITE_BROKEN");
	const char *dir = getenv("PB_BROKEN_DIR");
	char path[512];
	FILE *f;

	if (!on || strcmp(on, "1") != 0)
		return;
	if (!dir || !*dir) {
		dir = "build/test-broken";
		mkdir("build", 0777);
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		check_fail(__FILE__, __LINE__, "mkdir %s: %s", dir,
		    strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.mod", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
		check_fail(__FILE__, __LINE__, "write %s: %s", path,
		    strerror(errno));
		if (f)
			fclose(f);
	}
}

/* ------------------------------------------------------------------------
 * Real modules.
 */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static uint8_t *
read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(n ? n : 1)) &&
	    fread(buf, 1, n, f) == (size_t)n) {
		*size = n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

typedef void (*mod_fn)(const char *path, const char *base,
    const uint8_t *file, size_t size);

/* Call fn on every *.mod in the module directories; returns how many. */
static unsigned
each_module(mod_fn fn)
{
	const char *env = getenv("PB_MODS_DIR");
	char dirs[1024], *save = NULL;
	unsigned count = 0;

	snprintf(dirs, sizeof(dirs), "%s",
	    env && *env ? env : "build/mods:build/test-mods");
	for (char *d = strtok_r(dirs, ":", &save); d;
	    d = strtok_r(NULL, ":", &save)) {
		DIR *dir = opendir(d);
		struct dirent *de;

		if (!dir) {
			if (errno != ENOENT)
				check_fail(__FILE__, __LINE__, "%s: %s", d,
				    strerror(errno));
			continue;
		}
		while ((de = readdir(dir))) {
			char path[1536];
			uint8_t *file;
			size_t size;

			if (!ends_with(de->d_name, ".mod"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
			if (!(file = read_file(path, &size))) {
				check_fail(__FILE__, __LINE__, "%s: %s", path,
				    strerror(errno));
				continue;
			}
			fn(path, de->d_name, file, size);
			free(file);
			count++;
		}
		closedir(dir);
	}
	return count;
}

static int
meant_broken(const char *base)
{
	return strncmp(base, "bad-", 4) == 0 || strncmp(base, "broken-", 7) == 0;
}

static void
real_module(const char *path, const char *base, const uint8_t *file,
    size_t size)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why;
	const struct pe_section *s;
	int err = try_accept(file, size, &img, &mi, &ops_rva, &why);

	if (meant_broken(base)) {
		CHECK_MSG(err != 0, "%s: accepted, but named as broken", path);
		CHECK_MSG(err == 0 || (why && *why),
		    "%s: refused without a reason", path);
		return;
	}
	if (!CHECK_MSG(err == 0, "%s: refused: %s", path, why))
		return;
	CHECK_MSG(mi.ops == NULL, "%s: modinfo ops not cleared", path);
	CHECK_MSG(mi.name[0] != '\0', "%s: empty name", path);
	s = pe_section_at(&img, ops_rva);
	CHECK_MSG(s && !(s->prot & PE_PROT_X),
	    "%s: ops table at rva %#x not in data", path, ops_rva);
	for (uint32_t i = 0; i < img.nsections; i++) {
		int p = img.sections[i].prot;
		CHECK_MSG(!((p & PE_PROT_W) && (p & PE_PROT_X)),
		    "%s: section %s is W+X", path, img.sections[i].name);
	}
	/* Bases: the preferred one, a low one, a high-half one, one that
	 * makes the delta negative. */
	check_load(path, &img, img.image_base);
	check_load(path, &img, 0x200000);
	check_load(path, &img, 0xffffffff80000000ull);
	check_load(path, &img, 0xffff800123456000ull);
	check_load(path, &img, img.image_base > 0x100000 ?
	    img.image_base - 0x100000 : img.image_base + 0x7ff000);
}

/* The real modules are built before the host tests run (make test): none
 * found means nothing was checked, which is a failure, not a pass. */
TEST(pe_real_modules)
{
	CHECK_MSG(each_module(real_module) > 0, "no modules in build/mods: "
	    "run make all first (or set PB_MODS_DIR)");
}

static void
real_module_prefixes(const char *path, const char *base, const uint8_t *file,
    size_t size)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why;
	size_t end = 0, step;

	if (meant_broken(base) || try_accept(file, size, &img, &mi, &ops_rva, &why))
		return;		/* pe_real_modules reports it */
	for (uint32_t i = 0; i < img.nsections; i++) {
		size_t e = (size_t)img.sections[i].raw_off +
		    img.sections[i].raw_size;
		if (e > end)
			end = e;
	}
	step = size <= 65536 ? 1 : size / 65536 + 1;
	check_prefixes(path, file, size, end, step);
}

TEST(pe_real_modules_truncated)
{
	CHECK_MSG(each_module(real_module_prefixes) > 0, "no modules in "
	    "build/mods: run make all first (or set PB_MODS_DIR)");
}

/* ------------------------------------------------------------------------
 * The generated module.
 *
 *   file     rva      what
 *   0x000             DOS header, e_lfanew = 0x40
 *   0x040             "PE\0\0", COFF header, optional header (16 dirs),
 *   0x148             section table (5 entries); SizeOfHeaders 0x400
 *   0x400    0x1000   .text     R-X  start: xor eax,eax; ret  stop: ret
 *   0x600    0x2000   .rdata    R--  struct pb_module_ops (start, stop)
 *   0x800    0x3000   .data     RW-  two pointers; 0x1000 in memory
 *   0xa00    0x4000   .modinfo  R--  struct pb_modinfo, ops -> .rdata
 *   0x1000   0x5000   .reloc    R--  3 blocks, 5 DIR64 relocations
 *   0x1200            end of file; SizeOfImage 0x6000
 */

#define G_BASE		0x180000000ull
#define G_FILE		0x1200u
#define G_IMAGE		0x6000u
#define OFF_PE		0x40u
#define OFF_COFF	(OFF_PE + 4)
#define OFF_OPT		(OFF_COFF + 20)
#define OFF_SH		(OFF_OPT + 240)
#define G_RELOC_SIZE	36u

enum { S_TEXT, S_RDATA, S_DATA, S_MODINFO, S_RELOC, G_NSECT };

static const struct {
	const char *name;
	uint32_t rva, vsize, raw, raw_size, ch;
} g_sect[G_NSECT] = {
	{ ".text", 0x1000, 0x10, 0x400, 0x200,
	    PE_SCN_CNT_CODE | PE_SCN_MEM_EXECUTE | PE_SCN_MEM_READ },
	{ ".rdata", 0x2000, sizeof(struct pb_module_ops), 0x600, 0x200,
	    PE_SCN_CNT_IDATA | PE_SCN_MEM_READ },
	{ ".data", 0x3000, 0x1000, 0x800, 0x200,
	    PE_SCN_CNT_IDATA | PE_SCN_MEM_READ | PE_SCN_MEM_WRITE },
	{ ".modinfo", 0x4000, sizeof(struct pb_modinfo), 0xa00, 0x600,
	    PE_SCN_CNT_IDATA | PE_SCN_MEM_READ },
	{ ".reloc", 0x5000, G_RELOC_SIZE, 0x1000, 0x200,
	    PE_SCN_CNT_IDATA | PE_SCN_MEM_DISCARDABLE | PE_SCN_MEM_READ },
};

struct gen {
	uint8_t *buf;
	size_t size;
	struct pe_dos_header *dos;
	struct pe_coff_header *coff;
	struct pe_opt_header *opt;
	struct pe_section_header *sh;	/* [G_NSECT] */
	uint64_t *ops;			/* the ops table, in .rdata */
	uint64_t *data;			/* .data */
	struct pb_modinfo *mi;		/* in .modinfo */
};

static void *
at_rva(struct gen *g, uint32_t rva)
{
	for (int i = 0; i < G_NSECT; i++)
		if (rva >= g_sect[i].rva && rva < g_sect[i].rva + g_sect[i].raw_size)
			return g->buf + g_sect[i].raw + (rva - g_sect[i].rva);
	return NULL;
}

/* Relocation block k (0: .rdata, 1: .data, 2: .modinfo) and its entries. */
static struct pe_reloc_block *
rel_block(struct gen *g, int k)
{
	return (struct pe_reloc_block *)(g->buf + g_sect[S_RELOC].raw + 12 * k);
}

static uint16_t *
rel_entry(struct gen *g, int k, int i)
{
	return (uint16_t *)((uint8_t *)rel_block(g, k) + 8 + 2 * i);
}

static void
set_ops_ptr(struct gen *g, uint64_t v)
{
	memcpy((uint8_t *)g->mi + offsetof(struct pb_modinfo, ops), &v, 8);
}

static void
add_reloc(struct gen *g, int k, uint32_t page, int n, const uint16_t *offs)
{
	struct pe_reloc_block *b = rel_block(g, k);

	b->page_rva = page;
	b->block_size = 12;
	for (int i = 0; i < 2; i++)
		*rel_entry(g, k, i) = i < n ?
		    (uint16_t)(PE_REL_DIR64 << 12 | offs[i]) : 0;
}

static struct gen *
gen_new(void)
{
	struct gen *g = calloc(1, sizeof(*g));
	struct pb_modinfo *m;
	uint8_t *text;

	if (!g || !(g->buf = calloc(1, G_FILE))) {
		free(g);
		return NULL;
	}
	g->size = G_FILE;
	g->dos = (struct pe_dos_header *)g->buf;
	g->coff = (struct pe_coff_header *)(g->buf + OFF_COFF);
	g->opt = (struct pe_opt_header *)(g->buf + OFF_OPT);
	g->sh = (struct pe_section_header *)(g->buf + OFF_SH);

	g->dos->e_magic = PE_DOS_MAGIC;
	g->dos->e_lfanew = OFF_PE;
	memcpy(g->buf + OFF_PE, "PE\0\0", 4);
	g->coff->machine = PE_MACHINE_AMD64;
	g->coff->nsections = G_NSECT;
	g->coff->opt_size = sizeof(struct pe_opt_header);
	/* executable, large address aware, DLL */
	g->coff->characteristics = PE_FILE_EXECUTABLE | 0x0020 | 0x2000;

	g->opt->magic = PE_OPT_MAGIC_PE32P;
	g->opt->linker_major = 14;
	g->opt->code_size = 0x200;
	g->opt->idata_size = 0xa00;
	g->opt->code_base = 0x1000;
	g->opt->image_base = G_BASE;
	g->opt->section_align = PE_PAGE;
	g->opt->file_align = 0x200;
	g->opt->os_major = g->opt->subsys_major = 6;
	g->opt->image_size = G_IMAGE;
	g->opt->headers_size = 0x400;
	g->opt->subsystem = 1;			/* native */
	g->opt->dll_characteristics = 0x0160;	/* high entropy, dynamic, NX */
	g->opt->stack_reserve = g->opt->stack_commit = 0x1000;
	g->opt->heap_reserve = g->opt->heap_commit = 0x1000;
	g->opt->ndirs = PE_DIR_MAX;
	g->opt->dirs[PE_DIR_BASERELOC].rva = g_sect[S_RELOC].rva;
	g->opt->dirs[PE_DIR_BASERELOC].size = G_RELOC_SIZE;

	for (int i = 0; i < G_NSECT; i++) {
		struct pe_section_header *sh = &g->sh[i];

		memcpy(sh->name, g_sect[i].name, strlen(g_sect[i].name));
		sh->vsize = g_sect[i].vsize;
		sh->rva = g_sect[i].rva;
		sh->raw_size = g_sect[i].raw_size;
		sh->raw_ptr = g_sect[i].raw;
		sh->characteristics = g_sect[i].ch;
	}

	text = at_rva(g, 0x1000);
	memcpy(text, "\x31\xc0\xc3\xcc\xc3", 5);	/* start; int3; stop */
	g->ops = at_rva(g, 0x2000);
	g->ops[0] = G_BASE + 0x1000;			/* start */
	g->ops[1] = G_BASE + 0x1004;			/* stop */
	g->data = at_rva(g, 0x3000);
	g->data[0] = G_BASE + 0x1000;
	g->data[1] = G_BASE + 0x3010;
	memcpy(&g->data[2], "patchbay", 8);

	g->mi = m = at_rva(g, 0x4000);
	m->magic = PB_MODINFO_MAGIC;
	m->abi_major = PB_ABI_MAJOR;
	m->abi_minor = PB_ABI_MINOR;
	strcpy(m->name, "testmod");
	strcpy(m->version, "1.2.3");
	strcpy(m->desc, "generated by tests/host/test_pe.c");
	m->rank = 5;
	m->flags = PB_MOD_BOOT;
	m->nprovides = 2;
	strcpy(m->provides[0].iface, "display");
	m->provides[0].major = 1;
	m->provides[0].minor = 1;
	strcpy(m->provides[0].extends, "fb");
	m->provides[0].ext_major = 1;
	strcpy(m->provides[1].iface, "test-iface_2.x");
	m->provides[1].major = 2;
	m->nrequires = 2;
	strcpy(m->requires[0].iface, "console");
	m->requires[0].major = 1;
	m->requires[0].card = PB_CARD_ALL;
	m->requires[0].when = PB_LATER;
	strcpy(m->requires[1].iface, "timer");
	m->requires[1].major = 1;
	m->requires[1].minor = 2;
	m->nbinds = 1;
	strcpy(m->binds[0].iface, "pci");
	strcpy(m->binds[0].match, "class=03.00.* vendor=1234");
	set_ops_ptr(g, G_BASE + 0x2000);

	add_reloc(g, 0, 0x2000, 2, (const uint16_t[]){ 0x000, 0x008 });
	add_reloc(g, 1, 0x3000, 2, (const uint16_t[]){ 0x000, 0x008 });
	add_reloc(g, 2, 0x4000, 1,
	    (const uint16_t[]){ offsetof(struct pb_modinfo, ops) });
	return g;
}

static void
gen_free(struct gen *g)
{
	if (g)
		free(g->buf);
	free(g);
}

TEST(pe_generated_accepted)
{
	struct gen *g = gen_new();
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva = 0;
	const char *why = NULL;

	REQUIRE(g);
	if (CHECK_EQ_INT(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why),
	    0)) {
		CHECK_EQ_INT(img.image_base, G_BASE);
		CHECK_EQ_INT(img.image_size, G_IMAGE);
		CHECK_EQ_INT(img.nsections, G_NSECT);
		CHECK_EQ_INT(img.modinfo, S_MODINFO);
		CHECK_EQ_INT(img.reloc_rva, 0x5000);
		CHECK_EQ_INT(img.reloc_size, G_RELOC_SIZE);
		CHECK_EQ_INT(img.sections[S_TEXT].prot, PE_PROT_R | PE_PROT_X);
		CHECK_EQ_INT(img.sections[S_RDATA].prot, PE_PROT_R);
		CHECK_EQ_INT(img.sections[S_DATA].prot, PE_PROT_R | PE_PROT_W);
		CHECK_EQ_INT(img.sections[S_MODINFO].prot, PE_PROT_R);
		CHECK_EQ_INT(img.sections[S_DATA].vsize, 0x1000);
		CHECK_EQ_INT(img.sections[S_DATA].raw_size, 0x200);
		CHECK_STR(img.sections[S_MODINFO].name, ".modinfo");
		CHECK_EQ_INT(ops_rva, 0x2000);
		CHECK(mi.ops == NULL);
		CHECK_STR(mi.name, "testmod");
		CHECK_STR(mi.version, "1.2.3");
		CHECK_EQ_INT(mi.nprovides, 2);
		CHECK_STR(mi.provides[0].extends, "fb");
		CHECK_EQ_INT(mi.requires[0].card, PB_CARD_ALL);
		CHECK_STR(mi.binds[0].match, "class=03.00.* vendor=1234");
		CHECK(pe_section_at(&img, 0x1000) == &img.sections[S_TEXT]);
		CHECK(pe_section_at(&img, 0x3fff) == &img.sections[S_DATA]);
		CHECK(pe_section_at(&img, 0x2048) == NULL);
		CHECK(pe_section_at(&img, 0x0) == NULL);
		CHECK(pe_section_at(&img, 0x100000000ull + 0x1000) == NULL);
	} else {
		check_fail(__FILE__, __LINE__, "refused: %s", why);
	}
	gen_free(g);
}

TEST(pe_generated_load)
{
	struct gen *g = gen_new();
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why = NULL;
	static const uint64_t bases[] = {
		G_BASE, 0x1000, 0x200000, G_BASE + 0x10000, G_BASE - 0x10000,
		0xffffffff80000000ull, 0xffff800000000000ull,
	};

	REQUIRE(g);
	if (!CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) == 0,
	    "refused: %s", why)) {
		gen_free(g);
		return;
	}
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		check_load("generated", &img, bases[i]);

	/* The loaded descriptor's ops and the ops table's entries. */
	{
		uint8_t *d = calloc(1, G_IMAGE);
		uint64_t b = 0xffffffff80400000ull, v;

		if (CHECK(d) && CHECK_EQ_INT(pe_load(&img, d, b, &why), 0)) {
			memcpy(&v, d + 0x4000 + offsetof(struct pb_modinfo, ops),
			    8);
			CHECK_MSG(v == b + 0x2000, "ops %#llx",
			    (unsigned long long)v);
			memcpy(&v, d + 0x2000, 8);
			CHECK_MSG(v == b + 0x1000, "start %#llx",
			    (unsigned long long)v);
			memcpy(&v, d + 0x2008, 8);
			CHECK_MSG(v == b + 0x1004, "stop %#llx",
			    (unsigned long long)v);
			memcpy(&v, d + 0x3008, 8);
			CHECK_MSG(v == b + 0x3010, "data %#llx",
			    (unsigned long long)v);
			CHECK(memcmp(d + 0x3010, "patchbay", 8) == 0);
			CHECK(d[0x3200] == 0 && d[0x3fff] == 0);
			CHECK(d[0] == 'M' && d[1] == 'Z');	/* headers are copied */
		}
		free(d);
	}
	gen_free(g);
}

TEST(pe_generated_truncated)
{
	struct gen *g = gen_new();

	REQUIRE(g);
	check_prefixes("generated", g->buf, g->size, g->size, 1);
	write_broken("truncated_headers", g->buf, 0x100);
	write_broken("truncated_sections", g->buf, 0x1100);
	gen_free(g);
}

/* A few accepted variations, so the refusals below are about one thing. */
TEST(pe_generated_variants)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why = NULL;
	struct gen *g;

	/* vsize 0: the raw size stands for it. */
	REQUIRE((g = gen_new()));
	g->sh[S_RDATA].vsize = 0;
	CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) == 0,
	    "vsize 0: %s", why);
	gen_free(g);

	/* An entry point inside .text. */
	REQUIRE((g = gen_new()));
	g->opt->entry_rva = 0x1000;
	CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) == 0,
	    "entry point: %s", why);
	gen_free(g);

	/* ABSOLUTE entries, whatever their offset, are skipped. */
	REQUIRE((g = gen_new()));
	*rel_entry(g, 2, 1) = 0x0fff;
	*rel_entry(g, 1, 0) = 0x0123;
	*rel_entry(g, 1, 1) = 0;
	CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) == 0,
	    "padding: %s", why);
	gen_free(g);

	/* An optional entry point left NULL; a PB_CARD_OPTIONAL one. */
	REQUIRE((g = gen_new()));
	g->ops[1] = 0;
	*rel_entry(g, 0, 1) = 0;	/* a NULL pointer has no relocation */
	g->mi->requires[1].card = PB_CARD_OPTIONAL;
	CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) == 0,
	    "no stop: %s", why);
	gen_free(g);
}

/* ABI 1.2 keeps loading modules built for 1.1 (and 1.0): the descriptor
 * did not change.  Interface names of 15 characters fit it. */
TEST(pe_abi_11_descriptor_still_loads)
{
	struct gen *g = gen_new();
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why = NULL;

	REQUIRE(g);
	for (unsigned minor = 0; minor <= PB_ABI_MINOR; minor++) {
		g->mi->abi_minor = (uint16_t)minor;
		strcpy(g->mi->provides[1].iface, minor ? "block-partition" :
		    "display");
		if (CHECK_MSG(try_accept(g->buf, g->size, &img, &mi, &ops_rva,
		    &why) == 0, "ABI 1.%u refused: %s", minor, why)) {
			CHECK_EQ_INT(mi.abi_minor, minor);
			check_load("ABI 1.1", &img, G_BASE);
		}
	}
	CHECK_STR(mi.provides[1].iface, "block-partition");
	g->mi->abi_minor = PB_ABI_MINOR + 1;
	CHECK(try_accept(g->buf, g->size, &img, &mi, &ops_rva, &why) != 0);
	CHECK_CONTAINS(why, "unsupported ABI version");
	gen_free(g);
}

/* Break the generated module with `stmt`, then expect a refusal whose
 * reason contains `want`. */
static void
expect_refused(const char *file, int line, struct gen *g, const char *name,
    const char *want)
{
	struct pe_image img;
	struct pb_modinfo mi;
	uint32_t ops_rva;
	const char *why = NULL;
	uint8_t *copy;
	int err;

	/* An exactly sized copy, so ASan sees any read past the end. */
	if (!(copy = malloc(g->size))) {
		check_fail(file, line, "out of memory");
		return;
	}
	memcpy(copy, g->buf, g->size);
	err = try_accept(copy, g->size, &img, &mi, &ops_rva, &why);
	if (err == 0)
		check_fail(file, line, "accepted, expected \"%s\"", want);
	else if (!why || !strstr(why, want))
		check_fail(file, line, "refused with \"%s\", expected \"%s\"",
		    why ? why : "(null)", want);
	else if (err != PB_EINVAL)
		check_fail(file, line, "refused with error %d", err);
	write_broken(name, copy, g->size);
	free(copy);
}

#define REFUSES(tname, want, ...) \
	TEST(pe_refuses_##tname) \
	{ \
		struct gen *g = gen_new(); \
		REQUIRE(g); \
		__VA_ARGS__; \
		expect_refused(__FILE__, __LINE__, g, #tname, want); \
		gen_free(g); \
	}

/* Headers. */
REFUSES(bad_mz, "no MZ signature", g->dos->e_magic = 0x4e5a)
REFUSES(lfanew_huge, "bad e_lfanew", g->dos->e_lfanew = 0x7ffffff0)
REFUSES(lfanew_wrapping, "bad e_lfanew", g->dos->e_lfanew = 0xfffffffc)
REFUSES(lfanew_unaligned, "bad e_lfanew", g->dos->e_lfanew = 0x42)
REFUSES(lfanew_at_end, "bad e_lfanew", g->dos->e_lfanew = G_FILE - 8)
REFUSES(no_pe_signature, "no PE signature", g->buf[OFF_PE + 1] = 'X')
REFUSES(wrong_machine, "machine is not x86-64", g->coff->machine = 0x14c)
REFUSES(arm64_machine, "machine is not x86-64", g->coff->machine = 0xaa64)
REFUSES(no_sections, "bad number of sections", g->coff->nsections = 0)
REFUSES(too_many_sections, "bad number of sections",
    g->coff->nsections = PE_MAX_SECTIONS + 1)
REFUSES(not_executable, "not an executable image",
    g->coff->characteristics &= ~PE_FILE_EXECUTABLE)
REFUSES(relocs_stripped, "relocations stripped",
    g->coff->characteristics |= PE_FILE_RELOCS_STRIPPED)
REFUSES(opt_header_small, "bad optional header size", g->coff->opt_size = 96)
REFUSES(opt_header_big, "bad optional header size", g->coff->opt_size = 248)
REFUSES(pe32_not_plus, "not PE32+", g->opt->magic = 0x10b)
REFUSES(ndirs_too_many, "bad number of data directories", g->opt->ndirs = 17)
REFUSES(ndirs_mismatch, "bad number of data directories", g->opt->ndirs = 15)

/* Layout. */
REFUSES(section_align_512, "section alignment is not 4096",
    g->opt->section_align = 0x200)
REFUSES(section_align_64k, "section alignment is not 4096",
    g->opt->section_align = 0x10000)
REFUSES(file_align_odd, "bad file alignment", g->opt->file_align = 0x300)
REFUSES(file_align_small, "bad file alignment", g->opt->file_align = 0x100)
REFUSES(absurd_image_size, "absurd SizeOfImage",
    g->opt->image_size = 0x7fffffff)
REFUSES(huge_image_size, "absurd SizeOfImage",
    g->opt->image_size = PE_MAX_IMAGE + PE_PAGE)
REFUSES(zero_image_size, "absurd SizeOfImage", g->opt->image_size = 0)
REFUSES(unaligned_image_size, "absurd SizeOfImage",
    g->opt->image_size = G_IMAGE + 1)
REFUSES(zero_headers_size, "bad SizeOfHeaders", g->opt->headers_size = 0)
REFUSES(headers_past_file, "bad SizeOfHeaders",
    g->opt->headers_size = G_FILE + 0x200)
REFUSES(section_table_past_headers, "section table outside the headers",
    g->opt->headers_size = 0x200)
REFUSES(image_base_unaligned, "image base not page aligned",
    g->opt->image_base = G_BASE + 0x10)

/* Data directories. */
REFUSES(imports, "has imports",
    g->opt->dirs[PE_DIR_IMPORT].rva = 0x2000;
    g->opt->dirs[PE_DIR_IMPORT].size = 0x28)
REFUSES(import_address_table, "has imports",
    g->opt->dirs[PE_DIR_IAT].rva = 0x2000;
    g->opt->dirs[PE_DIR_IAT].size = 0x10)
REFUSES(delay_imports, "has imports",
    g->opt->dirs[PE_DIR_DELAY_IMPORT].rva = 0x2000;
    g->opt->dirs[PE_DIR_DELAY_IMPORT].size = 0x20)
REFUSES(tls, "has TLS",
    g->opt->dirs[PE_DIR_TLS].rva = 0x2000;
    g->opt->dirs[PE_DIR_TLS].size = 0x28)
REFUSES(dotnet, ".NET",
    g->opt->dirs[PE_DIR_CLR].rva = 0x2000;
    g->opt->dirs[PE_DIR_CLR].size = 0x48)
REFUSES(dir_outside_image, "data directory outside the image",
    g->opt->dirs[PE_DIR_EXPORT].rva = G_IMAGE - 0x10;
    g->opt->dirs[PE_DIR_EXPORT].size = 0x100)
REFUSES(dir_wrapping, "data directory outside the image",
    g->opt->dirs[PE_DIR_EXPORT].rva = 0x1000;
    g->opt->dirs[PE_DIR_EXPORT].size = 0xfffff000)
REFUSES(no_relocs, "no base relocations",
    g->opt->dirs[PE_DIR_BASERELOC].rva = 0;
    g->opt->dirs[PE_DIR_BASERELOC].size = 0)

/* Sections. */
REFUSES(wx_section, "W+X", g->sh[S_TEXT].characteristics |= PE_SCN_MEM_WRITE)
REFUSES(wx_data, "W+X", g->sh[S_DATA].characteristics |= PE_SCN_MEM_EXECUTE)
REFUSES(exec_data, "executable data section",
    g->sh[S_RDATA].characteristics |= PE_SCN_MEM_EXECUTE)
REFUSES(exec_untyped, "executable data section",
    g->sh[S_RDATA].characteristics = PE_SCN_MEM_READ | PE_SCN_MEM_EXECUTE)
REFUSES(code_not_exec, "code section not executable",
    g->sh[S_TEXT].characteristics &= ~PE_SCN_MEM_EXECUTE)
REFUSES(overlapping_sections, "overlapping sections",
    g->sh[S_DATA].rva = 0x2000)
REFUSES(overlapping_vsize, "overlapping sections",
    g->sh[S_RDATA].vsize = 0x1001)
REFUSES(sections_out_of_order, "overlapping sections",
    g->sh[S_RDATA].rva = 0x3000; g->sh[S_DATA].rva = 0x2000)
REFUSES(section_over_headers, "overlapping sections",
    g->sh[S_TEXT].rva = 0)
REFUSES(section_unaligned, "not page aligned", g->sh[S_DATA].rva = 0x3200)
REFUSES(section_outside_image, "section outside SizeOfImage",
    g->sh[S_RELOC].vsize = 0x2000)
REFUSES(section_far_outside_image, "section outside SizeOfImage",
    g->sh[S_RELOC].rva = 0xfffff000)
REFUSES(empty_section, "section outside SizeOfImage",
    g->sh[S_RELOC].vsize = 0; g->sh[S_RELOC].raw_size = 0)
REFUSES(raw_outside_file, "section data outside the file",
    g->sh[S_RELOC].raw_ptr = G_FILE)
REFUSES(raw_size_huge, "section data outside the file",
    g->sh[S_TEXT].raw_size = 0xfffffe00)
REFUSES(raw_ptr_wrapping, "section data outside the file",
    g->sh[S_TEXT].raw_ptr = 0xffffff00)
REFUSES(entry_in_data, "entry point outside code", g->opt->entry_rva = 0x3000)
REFUSES(entry_outside_sections, "entry point outside code",
    g->opt->entry_rva = 0x5800)

/* Relocations. */
REFUSES(reloc_highlow, "unknown relocation type",
    *rel_entry(g, 0, 0) = 3 << 12 | 0x000)
REFUSES(reloc_type_15, "unknown relocation type",
    *rel_entry(g, 1, 1) = 15 << 12 | 0x008)
REFUSES(reloc_target_outside, "relocation target outside the sections",
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | 0x100)
REFUSES(reloc_target_straddles, "relocation target outside the sections",
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | (sizeof(struct pb_module_ops) - 4))
/* 0x2ffb..0x3002: the first bytes in .rdata, the last ones in .data. */
REFUSES(reloc_target_spans_sections, "relocation target outside the sections",
    g->sh[S_RDATA].vsize = 0xffc;
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | 0xffb)
REFUSES(reloc_target_headers, "relocation",
    rel_block(g, 0)->page_rva = 0)
REFUSES(reloc_page_outside, "relocation block outside the image",
    rel_block(g, 1)->page_rva = 0x7000)
REFUSES(reloc_page_unaligned, "relocation block outside the image",
    rel_block(g, 1)->page_rva = 0x3008)
REFUSES(reloc_block_size_0, "bad relocation block size",
    rel_block(g, 0)->block_size = 0)
REFUSES(reloc_block_size_small, "bad relocation block size",
    rel_block(g, 1)->block_size = 4)
REFUSES(reloc_block_size_odd, "bad relocation block size",
    rel_block(g, 1)->block_size = 13)
REFUSES(reloc_block_size_too_big, "bad relocation block size",
    rel_block(g, 2)->block_size = 16)
REFUSES(reloc_block_size_huge, "bad relocation block size",
    rel_block(g, 0)->block_size = 0xfffffff0)
REFUSES(reloc_dir_truncated, "truncated relocation block",
    g->opt->dirs[PE_DIR_BASERELOC].size = G_RELOC_SIZE + 4;
    g->sh[S_RELOC].vsize = G_RELOC_SIZE + 4)
REFUSES(reloc_dir_past_section, "truncated relocation block",
    g->opt->dirs[PE_DIR_BASERELOC].size = G_RELOC_SIZE + 12)
REFUSES(reloc_dir_in_gap, "truncated relocation block",
    g->opt->dirs[PE_DIR_BASERELOC].rva = 0x5800)

/* The descriptor. */
REFUSES(no_modinfo, "no .modinfo section", g->sh[S_MODINFO].name[7] = '2')
REFUSES(modinfo_writable, ".modinfo section is writable",
    g->sh[S_MODINFO].characteristics |= PE_SCN_MEM_WRITE)
REFUSES(modinfo_truncated, "descriptor: truncated",
    g->sh[S_MODINFO].vsize = 0x100; *rel_entry(g, 2, 0) = 0)
REFUSES(modinfo_raw_short, "descriptor: truncated",
    g->sh[S_MODINFO].raw_size = 0x200)
REFUSES(bad_magic, "descriptor: bad magic", g->mi->magic = 0x494d4251)
REFUSES(abi_major_new, "unsupported ABI version",
    g->mi->abi_major = PB_ABI_MAJOR + 1)
REFUSES(abi_major_old, "unsupported ABI version",
    g->mi->abi_major = PB_ABI_MAJOR - 1)
REFUSES(abi_minor_new, "unsupported ABI version",
    g->mi->abi_minor = PB_ABI_MINOR + 1)
REFUSES(ops_outside_image, "entry points table offset outside the image",
    set_ops_ptr(g, G_BASE + G_IMAGE))
REFUSES(ops_below_image, "entry points table offset outside the image",
    set_ops_ptr(g, G_BASE - 0x1000))
REFUSES(ops_null, "entry points table offset outside the image",
    set_ops_ptr(g, 0))
REFUSES(ops_in_code, "entry points table outside the data",
    set_ops_ptr(g, G_BASE + 0x1000))
REFUSES(ops_straddles, "entry points table outside the data",
    set_ops_ptr(g, G_BASE + 0x2008))
REFUSES(ops_in_gap, "entry points table outside the data",
    set_ops_ptr(g, G_BASE + 0x2800))
REFUSES(start_outside_code, "entry point outside code",
    g->ops[0] = G_BASE + 0x3000)
REFUSES(start_in_headers, "entry point outside code", g->ops[0] = G_BASE)
REFUSES(start_below_image, "entry point outside code", g->ops[0] = 0x1000)
REFUSES(stop_outside_image, "entry point outside code",
    g->ops[1] = G_BASE + 0x100000)
REFUSES(event_outside_code, "entry point outside code",
    g->ops[8] = G_BASE + 0x2000)
REFUSES(start_null, "no start entry point", g->ops[0] = 0)
/* The hub calls the entry points of the loaded, relocated image: those
 * checked in the file must be what it gets. */
REFUSES(ops_pointer_not_relocated, "entry points table pointer not relocated",
    *rel_entry(g, 2, 0) = 0)
REFUSES(entry_not_relocated, "entry point not relocated",
    *rel_entry(g, 0, 1) = 0)
REFUSES(entry_reloc_unaligned, "bad relocation in the entry points table",
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | 0x004)
REFUSES(entry_reloc_on_null, "bad relocation in the entry points table",
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | 0x010)
REFUSES(entry_reloc_twice, "bad relocation in the entry points table",
    *rel_entry(g, 0, 1) = PE_REL_DIR64 << 12 | 0x000)
REFUSES(reloc_inside_descriptor, "relocation inside the descriptor",
    *rel_entry(g, 2, 1) = PE_REL_DIR64 << 12 | 0x008)
REFUSES(name_bad_chars, "bad name", strcpy(g->mi->name, "Bad Name"))
REFUSES(name_slash, "bad name", strcpy(g->mi->name, "../evil"))
REFUSES(name_empty, "bad name", g->mi->name[0] = 0)
REFUSES(name_unterminated, "bad name",
    memset(g->mi->name, 'a', sizeof(g->mi->name)))
REFUSES(version_control_char, "bad name, version or description",
    strcpy(g->mi->version, "1.0\n"))
REFUSES(desc_unterminated, "bad name, version or description",
    memset(g->mi->desc, 'x', sizeof(g->mi->desc)))
REFUSES(desc_high_byte, "bad name, version or description",
    g->mi->desc[0] = (char)0xc3)
REFUSES(too_many_provides, "too many entries",
    g->mi->nprovides = PB_MAX_PROVIDES + 1)
REFUSES(too_many_requires, "too many entries",
    g->mi->nrequires = PB_MAX_REQUIRES + 1)
REFUSES(too_many_binds, "too many entries", g->mi->nbinds = PB_MAX_BINDS + 1)
REFUSES(provide_bad_name, "bad provided interface name",
    strcpy(g->mi->provides[0].iface, "Disp!"))
REFUSES(provide_empty_name, "bad provided interface name",
    g->mi->provides[1].iface[0] = 0)
REFUSES(provide_bad_extends, "bad provided interface name",
    strcpy(g->mi->provides[0].extends, "f b"))
REFUSES(require_bad_name, "bad required interface name",
    memset(g->mi->requires[1].iface, 'a', PB_IFACE_MAX))
REFUSES(bad_card, "bad requirement kind", g->mi->requires[0].card = 3)
REFUSES(bad_when, "bad requirement kind", g->mi->requires[1].when = 2)
REFUSES(bind_bad_iface, "bad bind rule", g->mi->binds[0].iface[0] = 0)
REFUSES(bind_bad_match, "bad bind rule", g->mi->binds[0].match[3] = '\t')

/*
 * A deterministic small fuzz: flip a few bytes of the generated module many
 * times.  Whatever pe_parse accepts must load; nothing may crash (ASan).
 * The libFuzzer target tests/fuzz/fuzz_pe.c does this at length.
 */
TEST(pe_random_mutations)
{
	struct gen *g = gen_new();
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned accepted = 0;

	REQUIRE(g);
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *p = malloc(g->size), *dest;
		struct pe_image img;
		struct pb_modinfo mi;
		uint32_t ops_rva;
		const char *why = NULL;
		int n;

		REQUIRE(p);
		memcpy(p, g->buf, g->size);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		n = 1 + (int)(x % 4);
		for (int k = 0; k < n; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Mostly the headers, the descriptor, the relocs. */
			uint32_t where = (x >> 8) % 4 == 0 ?
			    (uint32_t)((x >> 16) % g->size) :
			    (x >> 8) % 4 == 1 ? (uint32_t)((x >> 16) % 0x210) :
			    (x >> 8) % 4 == 2 ?
			    0xa00 + (uint32_t)((x >> 16) % 0x430) :
			    0x1000 + (uint32_t)((x >> 16) % G_RELOC_SIZE);
			p[where] ^= (uint8_t)(1u << ((x >> 40) & 7));
		}
		if (pe_parse(p, g->size, &img, &why) == 0) {
			pe_read_modinfo(&img, &mi, &ops_rva, &why);
			dest = calloc(1, img.image_size);
			if (!CHECK(dest)) {
				free(p);
				break;
			}
			CHECK_MSG(pe_load(&img, dest, 0xffff800000000000ull +
			    (x & 0x7ffff000), &why) == 0,
			    "accepted image failed to load: %s", why);
			accepted++;
			free(dest);
		} else {
			CHECK_MSG(why && *why, "refused without a reason");
		}
		free(p);
		if (check_failures())
			break;
	}
	CHECK_MSG(accepted > 0, "no mutant was accepted at all");
	gen_free(g);
}
