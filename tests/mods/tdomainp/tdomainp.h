/* tdomainp's interface, for tdomain. */
#ifndef TDOMAINP_H
#define TDOMAINP_H

struct tdomainp_ops {
	int (*crash)(void *ctx);
	/* a + b + c + d + e: two arguments on the stack through a gate */
	int (*add)(void *ctx, int a, int b, int c, int d, int e);
};

#endif
