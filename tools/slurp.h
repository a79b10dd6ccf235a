/*
 * slurp.h - read a whole module file into memory, for the host tools.
 */
#ifndef PB_TOOLS_SLURP_H
#define PB_TOOLS_SLURP_H

#include <stddef.h>

/* The file's bytes (malloc'ed), or NULL with errno set. */
unsigned char *slurp(const char *path, size_t *size);

#endif
