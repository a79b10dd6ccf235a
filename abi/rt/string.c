/*
 * string.c - mem* and str* for freestanding images.
 *
 * memcpy and memset use the string instructions, which recent x86 CPUs
 * run at cache-line speed ("fast strings", Intel SDM 1 §7.3.9.3): eight
 * bytes a step (movsq/stosq), then the rest, because QEMU's TCG runs a
 * rep string instruction one step at a time, whatever the step's width
 * (zeroing a module's 20 KiB image took 20480 steps of stosb); the rest
 * are plain byte loops.  They keep their C names because the compiler
 * calls memcpy/memset for struct copies.
 */
#include "rt.h"

void *
memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n / 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
	n %= 8;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *
memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t q = n / 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) :
	    "a"((unsigned char)c * 0x0101010101010101ull) : "memory");
	n %= 8;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t
strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *
strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}
