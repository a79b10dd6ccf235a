/*
 * test_speed_string.c - the freestanding memcpy, memmove and memset
 * (abi/rt/string.c: eight bytes a step, then the rest) against plain
 * byte loops, at every length and alignment up to a few words, and a
 * large block; compiled here under other names beside the C library's.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"

#define memcpy speed_memcpy
#define memmove speed_memmove
#define memset speed_memset
#define memcmp speed_memcmp
#define strlen speed_strlen
#define strnlen speed_strnlen
#define strcmp speed_strcmp
#define strncmp speed_strncmp
#define strchr speed_strchr
#include "../../abi/rt/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr

#define AREA 4096

static unsigned char src[AREA + 64], got[AREA + 64], want[AREA + 64];

static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

/* Every length 0-40 at every alignment 0-7 of each side, and 4 KiB:
 * the bytes asked for change, and not one byte around them. */
TEST(speed_rt_memcpy_every_length_and_alignment)
{
	unsigned bad = 0;

	for (size_t n = 0; n <= 40 + AREA; n += n == 40 ? AREA - 40 : 1)
		for (size_t so = 0; so < 8; so++)
			for (size_t d = 0; d < 8; d++) {
				fill(src, sizeof(src), (unsigned)(n + so));
				fill(got, sizeof(got), 99);
				fill(want, sizeof(want), 99);
				for (size_t i = 0; i < n; i++)
					want[8 + d + i] = src[so + i];
				bad += speed_memcpy(got + 8 + d, src + so, n) !=
				    got + 8 + d;
				bad += memcmp(got, want, sizeof(got)) != 0;
			}
	CHECK_EQ_INT(bad, 0);
}

TEST(speed_rt_memset_every_length_and_alignment)
{
	unsigned bad = 0;

	for (size_t n = 0; n <= 40 + AREA; n += n == 40 ? AREA - 40 : 1)
		for (size_t d = 0; d < 8; d++) {
			fill(got, sizeof(got), 5);
			fill(want, sizeof(want), 5);
			for (size_t i = 0; i < n; i++)
				want[8 + d + i] = 0xa5;
			/* only the low byte of c counts */
			bad += speed_memset(got + 8 + d, 0x7a5, n) != got + 8 + d;
			bad += memcmp(got, want, sizeof(got)) != 0;
		}
	CHECK_EQ_INT(bad, 0);
}

/* Overlapping moves both ways, by every distance up to 17 bytes. */
TEST(speed_rt_memmove_overlapping)
{
	unsigned bad = 0;

	for (size_t n = 0; n <= 100; n++)
		for (size_t dist = 0; dist <= 17; dist++)
			for (int up = 0; up < 2; up++) {
				size_t from = up ? 20 : 20 + dist;
				size_t to = up ? 20 + dist : 20;

				fill(got, sizeof(got), (unsigned)n);
				memcpy(want, got, sizeof(want));
				memmove(want + to, want + from, n);
				speed_memmove(got + to, got + from, n);
				bad += memcmp(got, want, sizeof(got)) != 0;
			}
	CHECK_EQ_INT(bad, 0);
}
