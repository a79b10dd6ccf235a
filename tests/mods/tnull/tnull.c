/*
 * tnull - test module: provides `tnull`, whose one operation does nothing,
 * so tbench can time the cost of a call through a connection.
 *
 * It is also the load benchmark's 16 KiB module, and a module's size is
 * work for the loader only where it is copied and relocated: `tnull_ballast`
 * is 16 KiB of pointers, each one a base relocation, and start reads
 * every one of them, so the compiler keeps the table and a relocation
 * the loader got wrong fails the start.
 */
#include "../../../abi/pbmod.h"

struct tnull_ops {
	int (*nop)(void *ctx, int x);
};

static int
tnull_nop(void *ctx, int x)
{
	return x + 1;
}

static const struct tnull_ops tnull_ops = { tnull_nop };

#define POOL 251	/* a prime: entry i points at pool[i % POOL] */
static const unsigned char pool[POOL] = { 1, 2, 3, 4, 5, 6, 7 };

#define P1(i)		&pool[(i) % POOL]
#define P4(i)		P1(i), P1((i) + 1), P1((i) + 2), P1((i) + 3)
#define P16(i)		P4(i), P4((i) + 4), P4((i) + 8), P4((i) + 12)
#define P64(i)		P16(i), P16((i) + 16), P16((i) + 32), P16((i) + 48)
#define P256(i)		P64(i), P64((i) + 64), P64((i) + 128), P64((i) + 192)
#define P1024(i)	P256(i), P256((i) + 256), P256((i) + 512), \
			P256((i) + 768)
#define BALLAST 2048
/* Not static: a table of internal linkage can be turned into offsets
 * from its own address (LLVM's relative lookup tables), which need no
 * relocation. */
const unsigned char *const tnull_ballast[BALLAST];
const unsigned char *const tnull_ballast[BALLAST] = {
	P1024(0), P1024(1024)
};
_Static_assert(sizeof(tnull_ballast) == 16384, "the load benchmark's 16 KiB");

/* Written by nobody: the compiler cannot know the table's walk. */
static volatile unsigned stride = 1;

/* Does every entry of the table point where it was built to? */
static int
ballast_relocated(void)
{
	for (unsigned i = 0, j = 0; i < BALLAST; i += stride, j += stride) {
		j -= j >= POOL ? POOL : 0;	/* j = i % POOL */
		if (tnull_ballast[i] != &pool[j])
			return 0;
	}
	return 1;
}

static int
tnull_start(struct pb_module *m, const struct pb_hub *hub, int mode)
{
	(void)mode;
	if (!ballast_relocated())
		return PB_EINVAL;
	return hub->publish(m, "tnull", "null0", "", &tnull_ops, NULL) ?
	    PB_OK : PB_ENOMEM;
}

static const struct pb_module_ops ops = { .start = tnull_start };

PB_MODULE(.name = "tnull", .version = "1.0", .desc = "test: a no-op provider",
    .ops = &ops,
    .nprovides = 1, .provides = { PB_PROVIDE("tnull", 1, 0) });
