/*
 * sha256.h - SHA-256 (FIPS 180-4), incremental: init, update with any
 * number of bytes in any pieces, final.  Pure C with no hub calls, so the
 * host test includes sha256.c as is.
 */
#ifndef PB_SHELL_SHA256_H
#define PB_SHELL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK 64		/* bytes of a message block */
#define SHA256_DIGEST 32	/* bytes of the hash */

struct sha256 {
	uint32_t h[8];		/* the hash value H(i) */
	uint64_t len;		/* message bytes so far */
	uint8_t block[SHA256_BLOCK];	/* the partial block */
	size_t used;		/* its bytes */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST]);
/* The digest as 64 lower-case hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST], char out[65]);

#endif
