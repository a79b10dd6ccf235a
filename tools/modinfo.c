/*
 * modinfo - show what a Patchbay module declares, like Linux's modinfo.
 *
 *	modinfo [-F FIELD] FILE.mod...
 *
 * For each file, validated exactly as the hub validates it (hub/pe.c),
 * prints one "field: value" line per item:
 *
 *	filename:    build/mods/gop.mod
 *	name:        gop
 *	version:     1.0
 *	description: GOP framebuffer
 *	abi:         1.0
 *	rank:        10
 *	flags:       boot, firmware
 *	provides:    display 1.1 (extends display 1.0)
 *	requires:    console >= 1.0, all, later
 *	bind:        pci class=03.00.*
 *	entry:       start stop quiesce export_state import_state
 *	size:        24576
 *	sections:    .text r-x, .rdata r--, .data rw-, .modinfo r--, .reloc r--
 *
 * provides, requires and bind repeat once per item.  -F FIELD prints only
 * the values of that field.  A file the hub would refuse gives
 * "modinfo: error: FILE: <reason>" on stderr; the exit status is then 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hub/pe.h"
#include "slurp.h"

static const char *only;	/* -F FIELD */

static void
field(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
field(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (only && strcmp(only, name) != 0)
		return;
	if (!only) {
		printf("%s:", name);
		printf("%*s", (int)(12 - strlen(name)), "");
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* n bytes at rva, as the unrelocated image holds them. */
static int
image_bytes(const struct pe_image *img, uint32_t rva, void *out, uint32_t n)
{
	const struct pe_section *s = pe_section_at(img, rva);
	uint32_t in;

	if (!s || (uint64_t)rva + n > (uint64_t)s->rva + s->vsize)
		return -1;
	in = rva - s->rva;
	memset(out, 0, n);
	for (uint32_t i = 0; i < n; i++)
		if (in + i < s->raw_size)
			((unsigned char *)out)[i] = img->file[s->raw_off + in + i];
	return 0;
}

static const char *const entry_names[] = {
	"start", "stop", "quiesce", "export_state", "import_state",
	"release", "activate", "resume", "event",
};
_Static_assert(sizeof(entry_names) / sizeof(entry_names[0]) * 8 ==
    sizeof(struct pb_module_ops), "one name per entry point");

static const char *
card_name(unsigned c)
{
	return c == PB_CARD_ONE ? "one" : c == PB_CARD_OPTIONAL ? "optional" :
	    c == PB_CARD_ALL ? "all" : "?";
}

static void
show(const char *path, const struct pe_image *img, const struct pb_modinfo *m,
    uint32_t ops_rva)
{
	char buf[512];
	size_t n = 0;
	uint64_t fn[sizeof(entry_names) / sizeof(entry_names[0])];

	field("filename", "%s", path);
	field("name", "%s", m->name);
	field("version", "%s", m->version);
	field("description", "%s", m->desc);
	field("abi", "%u.%u", m->abi_major, m->abi_minor);
	field("rank", "%d", (int)m->rank);

	buf[0] = '\0';
	if (m->flags & PB_MOD_BOOT)
		n += snprintf(buf + n, sizeof(buf) - n, "boot, ");
	if (m->flags & PB_MOD_HARDWARE)
		n += snprintf(buf + n, sizeof(buf) - n, "hardware, ");
	if (m->flags & PB_MOD_FIRMWARE)
		n += snprintf(buf + n, sizeof(buf) - n, "firmware, ");
	if (m->flags & ~(PB_MOD_BOOT | PB_MOD_HARDWARE | PB_MOD_FIRMWARE))
		n += snprintf(buf + n, sizeof(buf) - n, "%#x, ", m->flags &
		    ~(PB_MOD_BOOT | PB_MOD_HARDWARE | PB_MOD_FIRMWARE));
	if (n >= 2)
		buf[n - 2] = '\0';
	field("flags", "%s", n ? buf : "none");

	for (unsigned i = 0; i < m->nprovides; i++) {
		const struct pb_provide *p = &m->provides[i];

		if (p->extends[0])
			field("provides", "%s %u.%u (extends %s %u.%u)",
			    p->iface, p->major, p->minor, p->extends,
			    p->ext_major, p->ext_minor);
		else
			field("provides", "%s %u.%u", p->iface, p->major,
			    p->minor);
	}
	for (unsigned i = 0; i < m->nrequires; i++) {
		const struct pb_require *r = &m->requires[i];

		field("requires", "%s >= %u.%u, %s, %s", r->iface, r->major,
		    r->minor, card_name(r->card),
		    r->when == PB_LATER ? "later" : "start");
	}
	for (unsigned i = 0; i < m->nbinds; i++)
		field("bind", "%s %s", m->binds[i].iface, m->binds[i].match);

	n = 0;
	buf[0] = '\0';
	if (image_bytes(img, ops_rva, fn, sizeof(fn)) == 0)
		for (unsigned i = 0; i < sizeof(fn) / 8; i++)
			if (fn[i])
				n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
				    n ? " " : "", entry_names[i]);
	field("entry", "%s", buf);
	field("size", "%u", (unsigned)img->image_size);

	n = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < img->nsections && n < sizeof(buf); i++) {
		const struct pe_section *s = &img->sections[i];
		char name[9];

		/* Section names are 8 bytes of anything. */
		for (int k = 0; k < 9; k++)
			name[k] = s->name[k] && (s->name[k] < 0x20 ||
			    s->name[k] > 0x7e) ? '?' : s->name[k];
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s %c%c%c",
		    i ? ", " : "", name,
		    s->prot & PE_PROT_R ? 'r' : '-',
		    s->prot & PE_PROT_W ? 'w' : '-',
		    s->prot & PE_PROT_X ? 'x' : '-');
	}
	field("sections", "%s", buf);
}

int
main(int argc, char **argv)
{
	int status = 0, i = 1;

	if (argc > 2 && strcmp(argv[1], "-F") == 0) {
		only = argv[2];
		i = 3;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: modinfo [-F FIELD] FILE.mod...\n");
		return 2;
	}
	for (; i < argc; i++) {
		struct pe_image img;
		struct pb_modinfo m;
		uint32_t ops_rva;
		const char *why = NULL;
		unsigned char *file;
		size_t size;

		if (!(file = slurp(argv[i], &size))) {
			fprintf(stderr, "modinfo: error: %s: %s\n", argv[i],
			    strerror(errno));
			status = 1;
			continue;
		}
		if (pe_parse(file, size, &img, &why) ||
		    pe_read_modinfo(&img, &m, &ops_rva, &why)) {
			fprintf(stderr, "modinfo: error: %s: %s\n", argv[i],
			    why ? why : "refused");
			status = 1;
		} else {
			show(argv[i], &img, &m, ops_rva);
		}
		free(file);
	}
	return status;
}
