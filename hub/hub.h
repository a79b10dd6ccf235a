/*
 * hub.h - the hub's internal interfaces, between its portable logic
 * (the files in hub/) and its x86-64 parts (hub/x86_64/).
 *
 * The portable side never touches hardware: it asks the arch side through
 * the `arch_*` functions below, which the host tests implement with fakes.
 */
#ifndef PB_HUB_HUB_H
#define PB_HUB_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/pb.h"
#include "handoff.h"
#include "log.h"
#include "pe.h"

#define HUB_VERSION "0.1"
#define MAX_MODULES 64
#define MAX_RESOURCES 128
#define MAX_CONNS 256
#define MAX_ALLOCS 1024
#define RES_NAME_MAX 48
#define RES_PROPS_MAX 256

enum mod_state {
	MOD_KNOWN,	/* descriptor read, not loaded */
	MOD_REFUSED,	/* the loader or the descriptor check refused it */
	MOD_LOADED,	/* mapped and relocated, not started */
	MOD_STANDBY,	/* started in standby for a swap */
	MOD_RUNNING,
	MOD_QUIESCED,	/* being swapped out */
	MOD_FAILED,	/* start failed or it faulted */
	MOD_UNLOADED,
};

struct pb_module {
	char name[PB_NAME_MAX];
	int state;
	const char *why;		/* reason for REFUSED/FAILED */
	char path[64];			/* where it came from */
	const uint8_t *file;		/* the image file, kept for restarts */
	size_t file_size;
	struct pb_modinfo desc;		/* as read from the file */
	uint32_t ops_rva;
	const struct pb_module_ops *ops;	/* in the loaded image */
	uint64_t base;			/* where the image runs */
	uint32_t size;
	uint64_t load_ns;		/* load + relocate + start time */
	unsigned generation;		/* bumped on unload: stale work dies */
	int boot_loaded;		/* loaded by the boot, not by hand */
};

struct pb_resource {
	int used;
	int standby;			/* published by a standby module */
	char name[RES_NAME_MAX];
	struct pb_provide iface;	/* interface, version and base */
	char props[RES_PROPS_MAX];
	const void *ops;
	void *ctx;
	struct pb_module *owner;	/* NULL: the hub itself */
};

struct conn {
	struct pb_conn pub;		/* first: the client sees this */
	int used;
	struct pb_module *client;
	struct pb_resource *res;
	int req;			/* requirement index, -1 if by hand */
};

/* --- the arch side (hub/x86_64, or fakes in tests) ---------------------- */
uint64_t arch_now_ns(void);
uint64_t arch_cycles(void);
/* Map a module's image: sections by their PE protections (W^X). */
int arch_map_image(uint64_t base, const struct pe_image *img);
void arch_unmap_image(uint64_t base, uint32_t size);
void *arch_map_mmio(uint64_t phys, size_t len, int cache);
void arch_unmap_mmio(void *va, size_t len);
uint64_t arch_irq_hold(void);		/* hold interrupts back */
void arch_irq_release(uint64_t held);
void arch_idle(void);			/* wait for an interrupt */

/* --- the page allocator (mem.c) ----------------------------------------- */
void mem_add_range(uint64_t base, uint64_t size);
void *mem_alloc(struct pb_module *owner, size_t npages, uint32_t flags,
    int kind);
int mem_free(struct pb_module *owner, void *p);
uint64_t mem_free_pages(void);
uint64_t mem_owned_pages(const struct pb_module *owner);
void mem_reclaim(struct pb_module *owner);
enum { MEM_KIND_PAGES, MEM_KIND_HEAP, MEM_KIND_IMAGE };

#endif
