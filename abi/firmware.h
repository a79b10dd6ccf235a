/*
 * firmware.h - interface `firmware` 1.0: the UEFI firmware as a resource.
 *
 * The hub publishes one `firmware` resource while boot services run.
 * ExitBootServices is its withdrawal: the boot-services operations below
 * stop working then, and every module that requires `firmware` is stopped
 * after its clients were rebound to native providers.  The runtime
 * operations (get_time, reset) keep working afterwards; the hub offers them
 * to native modules through the `firmware-rt` resource, same operations.
 *
 * Strings are UTF-8; the stub converts to and from UCS-2.
 *
 * 1.1 appends the firmware's whole disks (Block I/O, boot services): one
 * index per disk, in the firmware's handle order, partitions left out.
 * A provider of `block` over them (efi-block) uses them until the
 * takeover; the native driver that publishes the same `path` takes its
 * clients over (abi/block.h).
 */
#ifndef PB_ABI_FIRMWARE_H
#define PB_ABI_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_IFACE "firmware"
#define FIRMWARE_MAJOR 1
#define FIRMWARE_MINOR 1

/* A key from ConIn: a Unicode character, or a UEFI scan code when zero. */
struct firmware_key {
	uint32_t ch;
	uint16_t scan;		/* UEFI scan code (1 up, 2 down, 3 right, 4 left...) */
	uint16_t reserved;
};

/* Wall-clock time, as UEFI GetTime() gives it. */
struct firmware_time {
	uint16_t year;
	uint8_t month, day, hour, minute, second, pad;
	uint32_t nanosecond;
	int16_t tz_minutes;	/* 2047: unspecified (local time) */
	uint8_t daylight, pad2;
};

enum firmware_reset {
	FIRMWARE_RESET_COLD = 0,
	FIRMWARE_RESET_WARM = 1,
	FIRMWARE_RESET_SHUTDOWN = 2,
};

#define FIRMWARE_DISK_PATH_MAX 64	/* BLOCK_PATH_MAX: a swap state carries it */
#define FIRMWARE_DISK_MODEL_MAX 48
#define FIRMWARE_DISK_SERIAL_MAX 24

/*
 * One whole disk: EFI_BLOCK_IO_MEDIA (UEFI 2.10 §13.9) in plain form, and
 * its identity.  `path` is spelled as the native drivers spell theirs
 * (abi/block.h), from the handle's device path (UEFI 2.10 §10.3):
 *   pci:BB:DD.F/sata:P           Sata(P,0xFFFF,0): the HBA port P
 *   pci:BB:DD.F/sata:P.M         ... behind port M of a port multiplier
 *   pci:BB:DD.F/nvme:N           NVMe(N,...): namespace N
 *   pci:BB:DD.F/usb:A.B.C/lun:L  Usb(A-1,i)/Usb(B-1,i)/Usb(C-1,i)[/Unit(L)]:
 *                                USB port numbers from 1, the root hub's
 *                                port first (xHCI: PORTSC n is port n),
 *                                then each hub's; the interface number is
 *                                left out; L is 0 without a Unit node
 *   pci:BB:DD.F                  the PCI function is the disk (virtio-blk)
 *   anything else: the device path as text (spaces as '_'), which no
 *   native driver claims.
 * BB:DD.F is the PCI location as PCI I/O GetLocation tells it (lower
 * case hex, `SSSS:` in front for a segment other than 0), as mods/pci
 * names its resources.
 */
struct firmware_disk {
	uint32_t size;		/* set by the caller: sizeof as built */
	uint32_t block_size;	/* bytes */
	uint64_t last_block;	/* LBA of the last block */
	uint32_t media_id;	/* changes with the medium */
	uint32_t io_align;	/* buffer alignment the firmware wants, 0/1 none */
	uint8_t read_only, removable, media_present;
	uint8_t write_caching;	/* writes may sit in a cache: flush them */
	uint32_t reserved2;
	char path[FIRMWARE_DISK_PATH_MAX];
	/* From the Disk Info protocol when the firmware has it (ATA
	 * IDENTIFY, SCSI INQUIRY, NVMe Identify), "" otherwise. */
	char model[FIRMWARE_DISK_MODEL_MAX];
	char serial[FIRMWARE_DISK_SERIAL_MAX];
};
_Static_assert(sizeof(struct firmware_disk) == 32 + FIRMWARE_DISK_PATH_MAX +
    FIRMWARE_DISK_MODEL_MAX + FIRMWARE_DISK_SERIAL_MAX, "firmware_disk");

struct firmware_ops {
	/* Boot services: console text out and key in. */
	int (*con_write)(void *ctx, const char *utf8, size_t len);
	int (*con_read_key)(void *ctx, struct firmware_key *key); /* PB_EAGAIN */
	int (*con_clear)(void *ctx);
	int (*con_size)(void *ctx, uint32_t *cols, uint32_t *rows);
	/* Boot services: read a whole file from the boot volume. */
	int (*read_file)(void *ctx, const char *path, void **data,
	    size_t *len);
	/* Runtime services: these survive ExitBootServices. */
	int (*get_time)(void *ctx, struct firmware_time *t);
	void (*reset)(void *ctx, int kind);

	/* 1.1, boot services: the firmware's whole disks. */
	/* Disk `index` from 0: PB_ENOENT past the last.  Fills no more of
	 * *out than out->size says. */
	int (*disk_info)(void *ctx, unsigned index, struct firmware_disk *out);
	/* Read (write 0) or write `len` bytes, a multiple of the block size,
	 * from block `lba` on; any buffer alignment (the stub bounces what
	 * io_align refuses).  `media_id` is disk_info's: PB_EMEDIA when the
	 * medium changed or went, PB_EROFS, PB_EINVAL (outside the disk),
	 * PB_EIO (the device failed). */
	int (*disk_io)(void *ctx, unsigned index, uint32_t media_id, int write,
	    uint64_t lba, void *buf, size_t len);
	/* The disk's write cache to the medium: PB_OK, PB_EIO. */
	int (*disk_flush)(void *ctx, unsigned index);
};

#endif
