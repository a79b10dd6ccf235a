/*
 * depgraph - the dependency graph of a set of modules, in Graphviz DOT.
 *
 *	depgraph FILE.mod... > deps.dot; dot -Tsvg deps.dot > deps.svg
 *
 * One node per module, labelled "name\nversion".  For each requirement, an
 * edge from the module to every module that provides the interface in a
 * version that serves it (same major, minor at least the one asked for),
 * directly or as the base it extends, labelled with the interface: dashed
 * when the requirement is optional or accepted later, bold when it wants
 * every instance.  A requirement nobody serves points to a "no provider"
 * node: red when it blocks a start (exactly one, at start), grey otherwise.
 * The interfaces the hub publishes itself (firmware, firmware-rt,
 * module-source) lead to a "hub" node, drawn when something uses it.  A
 * bind rule gives a dashed blue "binds" edge, labelled with the rule's
 * properties, to each provider of the rule's interface, or to a note when
 * there is none.
 *
 * Files are validated as the hub validates them (hub/pe.c); a refused one
 * gives "depgraph: error: FILE: <reason>" on stderr, is left out of the
 * graph, and makes the exit status 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../abi/firmware.h"
#include "../abi/modsrc.h"
#include "../hub/pe.h"
#include "slurp.h"

struct mod {
	const char *path;
	struct pb_modinfo m;
};

/* A DOT string's contents: quotes and backslashes escaped. */
static void
put_escaped(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

/* Does provide p serve requirement (iface, major, minor)? */
static int
serves(const struct pb_provide *p, const char *iface, unsigned major,
    unsigned minor)
{
	if (strcmp(p->iface, iface) == 0 && p->major == major &&
	    p->minor >= minor)
		return 1;
	return p->extends[0] && strcmp(p->extends, iface) == 0 &&
	    p->ext_major == major && p->ext_minor >= minor;
}

static int
provides(const struct pb_modinfo *m, const char *iface, unsigned major,
    unsigned minor, int any_version)
{
	for (unsigned i = 0; i < m->nprovides; i++) {
		const struct pb_provide *p = &m->provides[i];

		if (any_version ? strcmp(p->iface, iface) == 0 ||
		    (p->extends[0] && strcmp(p->extends, iface) == 0) :
		    serves(p, iface, major, minor))
			return 1;
	}
	return 0;
}

/* What the hub publishes itself (hub/boot.c), as a pseudo-module. */
static const struct pb_modinfo hub_info = {
	.name = "hub",
	.nprovides = 3,
	.provides = {
		PB_PROVIDE(FIRMWARE_IFACE, FIRMWARE_MAJOR, FIRMWARE_MINOR),
		PB_PROVIDE("firmware-rt", FIRMWARE_MAJOR, FIRMWARE_MINOR),
		PB_PROVIDE(MODSRC_IFACE, MODSRC_MAJOR, MODSRC_MINOR),
	},
};

/* The DOT id of module j; j == n is the hub. */
static const char *
node(unsigned j, unsigned n)
{
	static char buf[4][16];
	static unsigned k;

	if (j == n)
		return "hub";
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "m%u", j);
	return buf[k];
}

int
main(int argc, char **argv)
{
	struct mod *mods;
	unsigned n = 0;
	int status = 0, hub_used = 0;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: depgraph FILE.mod... > graph.dot\n");
		return 2;
	}
	if (!(mods = calloc(argc + 1, sizeof(*mods)))) {
		fprintf(stderr, "depgraph: error: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct pe_image img;
		uint32_t ops_rva;
		const char *why = NULL;
		unsigned char *file;
		size_t size;

		if (!(file = slurp(argv[i], &size))) {
			fprintf(stderr, "depgraph: error: %s: %s\n", argv[i],
			    strerror(errno));
			status = 1;
			continue;
		}
		if (pe_parse(file, size, &img, &why) ||
		    pe_read_modinfo(&img, &mods[n].m, &ops_rva, &why)) {
			fprintf(stderr, "depgraph: error: %s: %s\n", argv[i],
			    why ? why : "refused");
			status = 1;
		} else {
			mods[n++].path = argv[i];
		}
		free(file);
	}

	/* The hub comes last; it requires nothing. */
	mods[n].path = "(hub)";
	mods[n].m = hub_info;
	for (unsigned i = 0; i < n; i++) {
		const struct pb_modinfo *m = &mods[i].m;

		for (unsigned r = 0; r < m->nrequires; r++)
			hub_used |= provides(&hub_info, m->requires[r].iface,
			    m->requires[r].major, m->requires[r].minor, 0);
		for (unsigned b = 0; b < m->nbinds; b++)
			hub_used |= provides(&hub_info, m->binds[b].iface,
			    0, 0, 1);
	}

	printf("digraph patchbay {\n");
	printf("\trankdir=LR;\n");
	printf("\tnode [shape=box, fontname=\"monospace\"];\n");
	printf("\tedge [fontname=\"monospace\", fontsize=10];\n");
	for (unsigned i = 0; i < n; i++) {
		printf("\tm%u [label=\"", i);
		put_escaped(mods[i].m.name);
		printf("\\n");
		put_escaped(mods[i].m.version);
		printf("\"];\n");
	}
	if (hub_used)
		printf("\thub [shape=ellipse, style=filled, "
		    "fillcolor=lightgrey, label=\"hub\"];\n");
	for (unsigned i = 0; i < n; i++) {
		const struct pb_modinfo *m = &mods[i].m;

		for (unsigned r = 0; r < m->nrequires; r++) {
			const struct pb_require *q = &m->requires[r];
			int soft = q->card == PB_CARD_OPTIONAL ||
			    q->when == PB_LATER;
			const char *style = q->card == PB_CARD_ALL ?
			    (soft ? "bold,dashed" : "bold") :
			    soft ? "dashed" : "solid";
			/* Only "exactly one, at start" blocks a start. */
			const char *color = q->card == PB_CARD_ONE &&
			    q->when == PB_AT_START ? "red" : "gray";
			unsigned found = 0;

			for (unsigned j = 0; j <= n; j++) {
				if (j == i || !provides(&mods[j].m, q->iface,
				    q->major, q->minor, 0))
					continue;
				printf("\tm%u -> %s [label=\"%s\", "
				    "style=\"%s\"];\n", i, node(j, n), q->iface,
				    style);
				found++;
			}
			if (found)
				continue;
			printf("\tmissing%u_%u [shape=plaintext, "
			    "fontcolor=%s, label=\"%s >= %u.%u\\n"
			    "(no provider)\"];\n", i, r, color,
			    q->iface, q->major, q->minor);
			printf("\tm%u -> missing%u_%u [label=\"%s\", "
			    "style=\"%s\", color=%s];\n", i, i, r, q->iface,
			    style, color);
		}
		for (unsigned b = 0; b < m->nbinds; b++) {
			const struct pb_bind *bd = &m->binds[b];
			unsigned found = 0;

			for (unsigned j = 0; j <= n; j++) {
				if (j == i || !provides(&mods[j].m, bd->iface,
				    0, 0, 1))
					continue;
				printf("\tm%u -> %s [label=\"binds ", i,
				    node(j, n));
				put_escaped(bd->match);
				printf("\", style=dashed, color=blue, "
				    "fontcolor=blue];\n");
				found++;
			}
			if (found)
				continue;
			printf("\tbind%u_%u [shape=note, style=dashed, "
			    "color=blue, fontcolor=blue, label=\"%s ", i, b,
			    bd->iface);
			put_escaped(bd->match);
			printf("\"];\n");
			printf("\tm%u -> bind%u_%u [label=\"binds\", "
			    "style=dashed, color=blue, fontcolor=blue];\n",
			    i, i, b);
		}
	}
	printf("}\n");
	free(mods);
	return status;
}
