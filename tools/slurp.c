/*
 * slurp.c - read a whole module file into memory (see slurp.h).  Files
 * much larger than the loader accepts are refused with EFBIG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../hub/pe.h"
#include "slurp.h"

unsigned char *
slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > PE_MAX_IMAGE * 4u + 65536) {
				errno = EFBIG;
				break;
			}
			if (!(nb = realloc(buf, cap)))
				break;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				break;
			fclose(f);
			*size = n;
			return buf ? buf : malloc(1);
		}
	}
	fclose(f);
	free(buf);
	if (!errno)
		errno = EIO;
	return NULL;
}
