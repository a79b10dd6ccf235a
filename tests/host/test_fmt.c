/*
 * test_fmt.c - rt_snprintf (abi/rt/fmt.c) against the C library's
 * snprintf, for the subset rt.h promises: %d %i %u %x %X %o %c %s %p %%,
 * flags '-' and '0', width and precision (also '*'), and l, ll, z, h, hh.
 *
 * Both are called through wrappers without a format attribute, so formats
 * the compiler would frown on (a '0' flag beside '-') can be compared too.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../abi/rt/rt.h"

static int
rt_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static int
libc_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* The same text and return value as snprintf, into a roomy buffer. */
#define SAME(...) \
	do { \
		char a_[160], b_[160]; \
		int ra_, rb_; \
		memset(a_, 'X', sizeof(a_)); \
		memset(b_, 'X', sizeof(b_)); \
		ra_ = rt_fmt(a_, sizeof(a_), __VA_ARGS__); \
		rb_ = libc_fmt(b_, sizeof(b_), __VA_ARGS__); \
		CHECK_MSG(ra_ == rb_ && strcmp(a_, b_) == 0, \
		    "%s: rt \"%s\" (%d), libc \"%s\" (%d)", #__VA_ARGS__, \
		    a_, ra_, b_, rb_); \
	} while (0)

/* The same for every buffer size from 0 to past the end: the bytes written
 * (nothing beyond size, always terminated) and the length returned. */
#define SAME_TRUNC(...) \
	do { \
		for (size_t n_ = 0; n_ < 40; n_++) { \
			char a_[48], b_[48]; \
			int ra_, rb_; \
			memset(a_, 'X', sizeof(a_)); \
			memset(b_, 'X', sizeof(b_)); \
			ra_ = rt_fmt(a_, n_, __VA_ARGS__); \
			rb_ = libc_fmt(b_, n_, __VA_ARGS__); \
			CHECK_MSG(ra_ == rb_ && memcmp(a_, b_, sizeof(a_)) == 0, \
			    "%s, size %zu: rt \"%.*s\" (%d), libc \"%.*s\" " \
			    "(%d)", #__VA_ARGS__, n_, (int)n_, a_, ra_, \
			    (int)n_, b_, rb_); \
		} \
	} while (0)

TEST(fmt_integers)
{
	SAME("%d", 0);
	SAME("%d", 42);
	SAME("%d", -42);
	SAME("%d", INT_MAX);
	SAME("%d", INT_MIN);
	SAME("%i", -7);
	SAME("%u", 0u);
	SAME("%u", UINT_MAX);
	SAME("%x", 0xdeadbeefu);
	SAME("%X", 0xdeadbeefu);
	SAME("%x", 0u);
	SAME("%o", 8u);
	SAME("%o", 0u);
	SAME("%o", UINT_MAX);
	SAME("%x", -1);
	SAME("%u", -1);
	SAME("[%d|%i|%u|%x|%X|%o]", 1, -2, 3u, 0xabu, 0xabu, 9u);
}

TEST(fmt_length_modifiers)
{
	SAME("%ld", LONG_MIN);
	SAME("%ld", LONG_MAX);
	SAME("%lu", ULONG_MAX);
	SAME("%lx", ULONG_MAX);
	SAME("%lld", LLONG_MIN);
	SAME("%lld", LLONG_MAX);
	SAME("%llu", ULLONG_MAX);
	SAME("%llx", 0x0123456789abcdefull);
	SAME("%llX", 0xfedcba9876543210ull);
	SAME("%llo", ULLONG_MAX);
	SAME("%zu", SIZE_MAX);
	SAME("%zx", (size_t)0x1234);
	SAME("%zd", (size_t)12345);
	SAME("%hd", 70000);
	SAME("%hd", -70000);
	SAME("%hu", 70000);
	SAME("%hx", -1);
	SAME("%hhd", 200);
	SAME("%hhd", -129);
	SAME("%hhu", 257);
	SAME("%hhx", -1);
	SAME("%ld %d %lld %hhu %zu", 1L, 2, 3LL, 260, (size_t)5);
}

TEST(fmt_width_and_flags)
{
	SAME("[%5d]", 42);
	SAME("[%5d]", -42);
	SAME("[%-5d]", 42);
	SAME("[%-5d]", -42);
	SAME("[%05d]", 42);
	SAME("[%05d]", -42);
	SAME("[%-05d]", 42);		/* '-' wins over '0' */
	SAME("[%1d]", 12345);		/* no room: nothing cut */
	SAME("[%08x]", 0xbeefu);
	SAME("[%-8X]", 0xbeefu);
	SAME("[%010lld]", -1234567LL);
	SAME("[%20llu]", ULLONG_MAX);
	SAME("[%3o]", 8u);
	SAME("[%03u]", 7u);
	SAME("[%100d]", 1);
}

TEST(fmt_precision)
{
	SAME("[%.3d]", 7);
	SAME("[%.3d]", -7);
	SAME("[%8.3d]", -7);
	SAME("[%-8.3d]", -7);
	SAME("[%.1d]", 12345);
	SAME("[%.8x]", 0xabcu);
	SAME("[%.5u]", 42u);
	SAME("[%.3s]", "abcdef");
	SAME("[%.0s]", "abcdef");
	SAME("[%.10s]", "abc");
	SAME("[%8.3s]", "abcdef");
	SAME("[%-8.3s]", "abcdef");
}

TEST(fmt_star)
{
	SAME("[%*d]", 6, 42);
	SAME("[%-*d]", 6, 42);
	SAME("[%.*d]", 4, 42);
	SAME("[%*.*d]", 8, 4, -42);
	SAME("[%.*s]", 2, "abc");
	SAME("[%*s]", 5, "ab");
	SAME("[%.*s]", -1, "abc");	/* negative precision: none */
	SAME("[%.*d]", -1, 42);
}

TEST(fmt_strings_chars_pointers)
{
	char out[32];
	int x;

	SAME("%s", "");
	SAME("%s", "hello");
	SAME("[%10s]", "hello");
	SAME("[%-10s]", "hello");
	SAME("[%2s]", "hello");
	SAME("%c%c%c", 'a', 'b', 'c');
	SAME("[%c]", 'z');
	SAME("%p", (void *)&x);
	SAME("%p", (void *)(uintptr_t)0x1000);
	SAME("[%20p]", (void *)(uintptr_t)0xdeadbeef);
	SAME("[%-20p]", (void *)(uintptr_t)0xdeadbeef);
	SAME("100%%");
	SAME("%%d %d %%", 5);
	SAME("no conversions");
	SAME("");
	SAME("%s=%d (0x%x) %c%%", "key", -3, 255u, '!');
	/* %s of NULL, as glibc prints it (C leaves it undefined). */
	CHECK_EQ_INT(rt_fmt(out, sizeof(out), "[%s]", (char *)NULL), 8);
	CHECK_STR(out, "[(null)]");
}

TEST(fmt_truncation_and_return)
{
	char buf[8];

	SAME_TRUNC("hello, world");
	SAME_TRUNC("%d", -1234567);
	SAME_TRUNC("[%8s]", "abc");
	SAME_TRUNC("%s-%s", "abcdefghijklmnop", "qrstuvwxyz");
	SAME_TRUNC("%llx", 0x0123456789abcdefull);
	SAME_TRUNC("%c%c", 'x', 'y');
	SAME_TRUNC("%%%%");
	SAME_TRUNC("");
	/* Size 0 with no buffer at all. */
	CHECK_EQ_INT(rt_fmt(NULL, 0, "%d", 12345), 5);
	/* The buffer is terminated at size - 1 and nothing is written past. */
	memset(buf, 'X', sizeof(buf));
	CHECK_EQ_INT(rt_fmt(buf, 4, "%s", "abcdef"), 6);
	CHECK(memcmp(buf, "abc\0XXXX", 8) == 0);
}

/* C: "The result of converting a zero value with a precision of zero is no
 * characters." */
TEST(fmt_zero_with_zero_precision)
{
	SAME("[%.0d]", 0);
	SAME("[%.0u]", 0u);
	SAME("[%.0x]", 0u);
	SAME("[%5.0d]", 0);
	SAME("[%.d]", 0);
	SAME("[%.0d]", 1);
}

/* C: "if a precision is specified, the 0 flag is ignored". */
TEST(fmt_zero_flag_with_precision)
{
	SAME("[%05.3d]", 42);
	SAME("[%08.3x]", 0xabu);
	SAME("[%06.2d]", -1);
}

/* Width applies to %c as to every conversion. */
TEST(fmt_char_width)
{
	SAME("[%3c]", 'a');
	SAME("[%-3c]", 'a');
	SAME("[%*c]", 4, 'b');
}

/* C: "A negative field width argument is taken as a - flag followed by a
 * positive field width." */
TEST(fmt_negative_star_width)
{
	SAME("[%*d]", -6, 42);
	SAME("[%*s]", -5, "ab");
	SAME("[%*u]", -3, 7u);
}
