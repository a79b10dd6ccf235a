/*
 * fsfmt.c - how the file commands say things: an error's words, a size
 * as df -h writes it, a file's date, a transfer rate.  Pure C,
 * host-tested.
 */
#include "files.h"

/* What a PB_* error means for a file, in the words of an `error:` line. */
const char *
fs_strerror(int err)
{
	switch (err) {
	case PB_ENOENT:		return "no such file or directory";
	case PB_ENOTDIR:	return "not a directory";
	case PB_EISDIR:		return "is a directory";
	case PB_EEXIST:		return "file exists";
	case PB_ENOTEMPTY:	return "directory not empty";
	case PB_ENOSPC:		return "no space left on the volume";
	case PB_EROFS:		return "read-only file system";
	case PB_EBUSY:		return "in use (open)";
	case PB_EINVAL:		return "invalid name or argument";
	case PB_EIO:		return "input/output error";
	case PB_EMEDIA:		return "the medium changed";
	case PB_ECANCELED:	return "the volume went away";
	case PB_ECORRUPT:	return "the file system is damaged";
	case PB_ENOMEM:		return "out of memory";
	case PB_ETIMEDOUT:	return "timed out";
	case PB_ENOTSUP:	return "not supported";
	case PB_ENODEV:		return "no such device";
	case PB_EAGAIN:		return "try again";
	case PB_EFAULT:		return "the file system faulted";
	}
	return "unknown error";
}

/*
 * bytes as df -h shows them: powers of 1024 with one letter, one decimal
 * below 10 ("512B", "1.5K", "64M", "1.2G"), rounded to the nearest.
 */
void
size_text(uint64_t bytes, char *out, size_t cap)
{
	static const char unit[] = "BKMGTPE";
	uint64_t d = 1, q, r, tenths, whole;
	unsigned k = 0;

	if (bytes < 1024) {
		rt_snprintf(out, cap, "%lluB", (unsigned long long)bytes);
		return;
	}
	for (;;) {
		d *= 1024, k++;
		/* bytes / d rounded, in tenths and whole, without overflow */
		q = bytes / d, r = bytes % d;
		tenths = q * 10 + (r * 10 + d / 2) / d;
		whole = q + (r >= d - r);
		if (tenths < 100) {
			rt_snprintf(out, cap, "%llu.%llu%c",
			    (unsigned long long)(tenths / 10),
			    (unsigned long long)(tenths % 10), unit[k]);
			return;
		}
		if (whole < 1024 || k == 6)
			break;
	}
	rt_snprintf(out, cap, "%llu%c", (unsigned long long)whole, unit[k]);
}

/* "2024-05-01 12:34", or "-" when the volume kept no date. */
void
time_text(const struct fs_time *t, char *out, size_t cap)
{
	if (!t->year) {
		rt_strlcpy(out, "-", cap);
		return;
	}
	rt_snprintf(out, cap, "%04u-%02u-%02u %02u:%02u", t->year, t->month,
	    t->day, t->hour, t->minute);
}

/* bytes in ns as "12.3 MiB/s" (one decimal, rounded down). */
void
rate_text(uint64_t bytes, uint64_t ns, char *out, size_t cap)
{
	uint64_t us = ns / 1000 ? ns / 1000 : 1;
	/* KiB/s first: bytes/1024 * 1e6 fits 64 bits below 16 EiB/1e6. */
	uint64_t kibps = bytes / 1024 * 1000000 / us +
	    bytes % 1024 * 1000000 / 1024 / us;
	uint64_t tenths = kibps * 10 / 1024;

	rt_snprintf(out, cap, "%llu.%llu MiB/s",
	    (unsigned long long)(tenths / 10),
	    (unsigned long long)(tenths % 10));
}
