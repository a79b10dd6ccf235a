/*
 * modsrc.h - interface `module-source` 1.0: somewhere module files come
 * from.  The hub publishes the boot ramdisk (the files the stub read);
 * a file system module can publish the ESP's \patchbay\mods\ later.
 */
#ifndef PB_ABI_MODSRC_H
#define PB_ABI_MODSRC_H

#include <stddef.h>

#define MODSRC_IFACE "module-source"
#define MODSRC_MAJOR 1
#define MODSRC_MINOR 0

struct modsrc_ops {
	/* The index-th file's name; PB_ENOENT past the last. */
	int (*name)(void *ctx, unsigned index, char *buf, size_t cap);
	/* The whole file, read-only, valid while the source is. */
	int (*read)(void *ctx, const char *name, const void **data,
	    size_t *len);
};

#endif
