/*
 * util.c - small helpers used both freestanding and on the host.
 */
#include "rt.h"

size_t
rt_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

uint64_t
rt_strtou(const char *s, const char **end, int base)
{
	uint64_t v = 0;

	if (base == 0) {
		base = 10;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
		}
	}
	for (; digit_value(*s) < base; s++)
		v = v * (uint64_t)base + (uint64_t)digit_value(*s);
	if (end)
		*end = s;
	return v;
}

/* rt_vsnprintf's, whichever formatter the image has (fmt.c, thin/fmt.c). */
int
rt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
