/*
 * os.h - interface `os` 1.0: what the hub boots to.  The provider (the
 * shell) is the root of the dependency tree; it offers other modules a way
 * to run a command line as if typed.
 */
#ifndef PB_ABI_OS_H
#define PB_ABI_OS_H

#define OS_IFACE "os"
#define OS_MAJOR 1
#define OS_MINOR 0

struct os_ops {
	int (*run)(void *ctx, const char *line);
};

#endif
