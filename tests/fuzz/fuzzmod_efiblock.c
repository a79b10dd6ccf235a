/*
 * fuzzmod_efiblock.c - libFuzzer target for the stub's spelling of a
 * disk's identity from its UEFI device path (efi/devpath.c), which reads
 * whatever nodes the firmware's device path holds after the PCI function.
 *
 * The first 8 bytes are the PCI location (segment, bus, device, function,
 * two bytes each) and the output buffer's size; the rest is the device
 * path, in a buffer of its exact size so ASan reports any read past it.
 * Beyond the sanitizers it traps when an identity it gives is not a
 * terminated string within the buffer that starts with "pci:", holds a
 * space (it becomes a property word) or is given for a path without End.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../efi/devpath.c"

static int
has_end(const uint8_t *p, size_t n)
{
	while (n >= 4) {
		size_t len = p[2] | (size_t)p[3] << 8;

		if (len < 4 || len > n)
			return 0;
		if (p[0] == 0x7f)
			return 1;
		p += len;
		n -= len;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devpath_pci pci;
	char out[80];
	size_t cap;
	uint8_t *dp;

	if (size < 8)
		return 0;
	pci = (struct devpath_pci){ data[0] | data[1] << 8, data[2], data[3],
	    data[4] };
	cap = 1 + (data[5] | (size_t)data[6] << 8) % sizeof(out);
	size -= 8;
	dp = malloc(size ? size : 1);
	memcpy(dp, data + 8, size);
	memset(out, 0x5a, sizeof(out));
	if (devpath_identity(&pci, dp, size, out, cap)) {
		if (!memchr(out, '\0', cap) || strncmp(out, "pci:", 4) != 0 ||
		    strchr(out, ' ') || !has_end(dp, size))
			__builtin_trap();
	}
	for (size_t i = cap; i < sizeof(out); i++)
		if (out[i] != 0x5a)
			__builtin_trap();	/* written past cap */
	free(dp);
	return 0;
}
