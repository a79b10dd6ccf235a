/* tkeysp's interface, for tkeysc (protection keys per module). */
#ifndef TKEYSP_H
#define TKEYSP_H

#include <stdint.h>

/* Both start with their size, as block_req and usb_req do. */
struct tkeys_where {
	uint32_t size;
	uint32_t reserved;
	volatile uint32_t *secret;	/* set by the provider: its own data */
};

struct tkeys_req {
	uint32_t size;
	int32_t status;			/* set by the provider */
	volatile uint32_t *other;	/* the client's, not handed: the
					 * provider writes it last */
};

struct tkeysp_ops {
	int (*where)(void *ctx, struct tkeys_where *w);
	int (*serve)(void *ctx, struct tkeys_req *req);
};

#define TKEYS_SECRET 0x5eedu
#define TKEYS_OTHER 0x1111u
#define TKEYS_STATUS 42

#endif
