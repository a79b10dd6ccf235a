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
 */
#ifndef PB_ABI_FIRMWARE_H
#define PB_ABI_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#define FIRMWARE_IFACE "firmware"
#define FIRMWARE_MAJOR 1
#define FIRMWARE_MINOR 0

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
};

#endif
