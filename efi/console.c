/*
 * console.c - the stub's messages, through the firmware's ConOut.
 */
#include "stub.h"
#include "../abi/rt/rt.h"

/* What was written, for the hub's log (handoff.stub_text): whole lines
 * while they fit. */
char stub_text[HANDOFF_STUB_TEXT];
static size_t stub_text_len;

static void
keep(const char *s, size_t len)
{
	if (stub_text_len + len >= sizeof(stub_text))
		return;
	memcpy(stub_text + stub_text_len, s, len);
	stub_text_len += len;
}

/* Write UTF-8 to ConOut, turning "\n" into "\r\n" as ConOut wants. */
void
stub_write(const char *s, size_t len)
{
	CHAR16 buf[128];
	size_t n = 0;

	keep(s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (n + 3 > sizeof(buf) / sizeof(buf[0])) {
			buf[n] = 0;
			st->ConOut->OutputString(st->ConOut, buf);
			n = 0;
		}
		if (c == '\n')
			buf[n++] = L'\r';
		/* Non-ASCII bytes of UTF-8 print as '?': ConOut fonts lack them. */
		buf[n++] = c < 0x80 ? c : L'?';
		while (c >= 0xc0 && i + 1 < len &&
		    ((unsigned char)s[i + 1] & 0xc0) == 0x80)
			i++;
	}
	buf[n] = 0;
	st->ConOut->OutputString(st->ConOut, buf);
}

void
stub_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stub_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

const char *
efi_strerror(EFI_STATUS s)
{
	switch (s) {
	case EFI_SUCCESS: return "success";
	case EFI_NOT_FOUND: return "not found";
	case EFI_OUT_OF_RESOURCES: return "out of memory";
	case EFI_DEVICE_ERROR: return "device error";
	case EFI_VOLUME_CORRUPTED: return "volume corrupted";
	case EFI_ACCESS_DENIED: return "access denied";
	case EFI_UNSUPPORTED: return "unsupported";
	case EFI_INVALID_PARAMETER: return "invalid parameter";
	case EFI_BUFFER_TOO_SMALL: return "buffer too small";
	case EFI_NO_MEDIA: return "no media";
	case EFI_LOAD_ERROR: return "load error";
	case EFI_BAD_BUFFER_SIZE: return "bad buffer size";
	default: return "firmware error";
	}
}

size_t
utf16_to_utf8(const CHAR16 *in, size_t inlen, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < inlen && in[i] && n + 4 < cap; i++) {
		CHAR16 c = in[i];

		if (c < 0x80) {
			out[n++] = (char)c;
		} else if (c < 0x800) {
			out[n++] = (char)(0xc0 | (c >> 6));
			out[n++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[n++] = (char)(0xe0 | (c >> 12));
			out[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}
