/*
 * devpath.h - a disk's identity from its UEFI device path, spelled as the
 * native drivers spell theirs (abi/firmware.h, struct firmware_disk).
 *
 * Pure C without UEFI headers, so the host tests check it: the caller
 * (disk.c) finds the PCI function under the disk with LocateDevicePath and
 * PCI I/O GetLocation, and passes what is left of the device path.
 */
#ifndef PB_EFI_DEVPATH_H
#define PB_EFI_DEVPATH_H

#include <stddef.h>
#include <stdint.h>

struct devpath_pci {
	uint32_t segment;
	uint32_t bus, dev, fn;
};

/*
 * The identity of the disk whose device path continues with `tail` (at
 * most `max` bytes, up to its End node) after the PCI function `pci`, and
 * `/part:N` when the path ends in a partition's Hard Drive node:
 * 1 and out filled, or 0 when the nodes are not ones we spell (the caller
 * then uses the text of the whole path) or out is too small.
 */
int devpath_identity(const struct devpath_pci *pci, const void *tail,
    size_t max, char *out, size_t cap);

#endif
