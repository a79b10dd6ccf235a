/*
 * mod_shell_sha256.c - the shell's SHA-256 (mods/shell/sha256.c) on the
 * host: the examples of FIPS 180-4 (and the NIST one of a million 'a's),
 * the padding's edges (55, 56, 63, 64 and 65 bytes), and random messages
 * fed in random pieces, against Python's hashlib.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "../../mods/shell/sha256.c"

static void
hash_pieces(const uint8_t *p, size_t len, size_t piece, char hex[65])
{
	struct sha256 s;
	uint8_t d[SHA256_DIGEST];

	sha256_init(&s);
	for (size_t off = 0; off < len; off += piece)
		sha256_update(&s, p + off, len - off < piece ? len - off : piece);
	sha256_final(&s, d);
	sha256_hex(d, hex);
}

static void
hash_str(const char *msg, char hex[65])
{
	hash_pieces((const uint8_t *)msg, strlen(msg), strlen(msg) + 1, hex);
}

TEST(sha256_fips_examples)
{
	char hex[65];

	hash_str("abc", hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	hash_str("", hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	hash_str("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	hash_str("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", hex);
	CHECK_STR(hex, "cf5b16a778af8380036ce59e7b0492370b249b11"
	    "e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a_in_odd_pieces)
{
	size_t n = 1000000;
	uint8_t *a = malloc(n);
	char hex[65];

	REQUIRE(a);
	memset(a, 'a', n);
	hash_pieces(a, n, 997, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	hash_pieces(a, n, n, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* hashlib's answer for the bytes p[0..len), through a temporary file. */
static int
python_sha256(const uint8_t *p, size_t len, char hex[65])
{
	char path[] = "/tmp/pb-sha256-XXXXXX", cmd[160], line[128];
	int fd = mkstemp(path), ok;
	FILE *f;

	if (fd < 0)
		return 0;
	ok = write(fd, p, len) == (ssize_t)len;
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import hashlib,sys; "
	    "print(hashlib.sha256(open(sys.argv[1],\"rb\").read())"
	    ".hexdigest())' %s", path);
	f = ok ? popen(cmd, "r") : NULL;
	ok = f && fgets(line, sizeof(line), f) && strlen(line) == 65 &&
	    line[64] == '\n';
	if (f) {
		while (fgetc(f) != EOF)		/* all of it, before closing */
			;
		ok &= pclose(f) == 0;
	}
	if (ok)
		memcpy(hex, line, 64), hex[64] = '\0';
	unlink(path);
	return ok;
}

TEST(sha256_padding_edges_against_hashlib)
{
	static const size_t lens[] = { 1, 55, 56, 57, 63, 64, 65, 119, 120,
	    127, 128, 129 };
	uint8_t msg[129];
	char want[65], got[65];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		REQUIRE(python_sha256(msg, lens[i], want));
		hash_pieces(msg, lens[i], 1, got);
		CHECK_MSG(strcmp(got, want) == 0, "%zu bytes: %s, hashlib %s",
		    lens[i], got, want);
	}
}

/* A fixed-seed generator: the same "random" data on every run. */
static uint32_t
next_rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

TEST(sha256_random_messages_against_hashlib)
{
	uint32_t x = 0x2545f491;
	char want[65], got[65];
	uint8_t *msg = malloc(300000);

	REQUIRE(msg);
	for (unsigned round = 0; round < 12; round++) {
		size_t len = round < 6 ? next_rnd(&x) % 300 :
		    next_rnd(&x) % 300000;
		size_t piece = 1 + next_rnd(&x) % (round % 3 ? 70 : 70000);

		for (size_t i = 0; i < len; i++)
			msg[i] = (uint8_t)next_rnd(&x);
		if (!CHECK(python_sha256(msg, len, want)))
			break;
		hash_pieces(msg, len, piece, got);
		CHECK_MSG(strcmp(got, want) == 0, "%zu bytes in pieces of %zu: "
		    "%s, hashlib %s", len, piece, got, want);
	}
	free(msg);
}
