/*
 * name.c - names: UTF-8 (the interface) and UTF-16 (long names on disk,
 * spec "Long File Name Implementation"), 8.3 short names and the aliases
 * made for new long names (spec "Basis-Name Generation Algorithm",
 * "Numeric-Tail Generation Algorithm"), the checksum tying them, and the
 * case-insensitive compare (ASCII letters only; everything else exact).
 *
 * Short-name bytes from 0x80 are read in code page 437, the OEM code
 * page FAT drivers assume by default; new aliases use ASCII only.
 */
#include "fat.h"

static const uint16_t cp437_high[128] = {
	0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7,
	0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5,
	0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
	0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192,
	0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba,
	0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
	0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510,
	0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
	0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567,
	0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
	0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
	0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4,
	0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229,
	0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248,
	0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static int
is_high_surrogate(uint16_t u)
{
	return u >= 0xD800 && u <= 0xDBFF;
}

static int
is_low_surrogate(uint16_t u)
{
	return u >= 0xDC00 && u <= 0xDFFF;
}

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF)
 * to UTF-16; PB_EINVAL if invalid or longer than cap units. */
int
utf8_to_utf16(const char *s, size_t len, uint16_t *out, unsigned cap,
    unsigned *n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + len;
	unsigned k = 0;

	while (p < end) {
		uint32_t cp, min;
		int more;

		if (*p < 0x80) {
			cp = *p++;
			more = 0;
			min = 0;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p++ & 0x1F;
			more = 1;
			min = 0x80;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p++ & 0x0F;
			more = 2;
			min = 0x800;
		} else if ((*p & 0xF8) == 0xF0) {
			cp = *p++ & 0x07;
			more = 3;
			min = 0x10000;
		} else {
			return PB_EINVAL;
		}
		if (end - p < more)
			return PB_EINVAL;
		for (; more > 0; more--, p++) {
			if ((*p & 0xC0) != 0x80)
				return PB_EINVAL;
			cp = cp << 6 | (*p & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return PB_EINVAL;
		if (cp >= 0x10000) {
			if (k + 2 > cap)
				return PB_EINVAL;
			cp -= 0x10000;
			out[k++] = (uint16_t)(0xD800 | cp >> 10);
			out[k++] = (uint16_t)(0xDC00 | (cp & 0x3FF));
		} else {
			if (k + 1 > cap)
				return PB_EINVAL;
			out[k++] = (uint16_t)cp;
		}
	}
	*n = k;
	return PB_OK;
}

/* Every surrogate paired? */
int
utf16_valid(const uint16_t *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (is_high_surrogate(s[i])) {
			if (i + 1 >= n || !is_low_surrogate(s[i + 1]))
				return 0;
			i++;
		} else if (is_low_surrogate(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* UTF-16 to NUL-terminated UTF-8; PB_EINVAL for an unpaired surrogate
 * or too small a buffer. */
int
utf16_to_utf8(const uint16_t *s, unsigned n, char *out, size_t cap,
    size_t *len)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t cp = s[i];
		uint8_t b[4];
		int m;

		if (is_high_surrogate(s[i])) {
			if (i + 1 >= n || !is_low_surrogate(s[i + 1]))
				return PB_EINVAL;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (s[++i] - 0xDC00);
		} else if (is_low_surrogate(s[i])) {
			return PB_EINVAL;
		}
		if (cp < 0x80) {
			b[0] = (uint8_t)cp;
			m = 1;
		} else if (cp < 0x800) {
			b[0] = (uint8_t)(0xC0 | cp >> 6);
			b[1] = (uint8_t)(0x80 | (cp & 0x3F));
			m = 2;
		} else if (cp < 0x10000) {
			b[0] = (uint8_t)(0xE0 | cp >> 12);
			b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
			b[2] = (uint8_t)(0x80 | (cp & 0x3F));
			m = 3;
		} else {
			b[0] = (uint8_t)(0xF0 | cp >> 18);
			b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
			b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
			b[3] = (uint8_t)(0x80 | (cp & 0x3F));
			m = 4;
		}
		if (k + m + 1 > cap)
			return PB_EINVAL;
		memcpy(out + k, b, m);
		k += m;
	}
	if (k + 1 > cap)
		return PB_EINVAL;
	out[k] = '\0';
	*len = k;
	return PB_OK;
}

/* spec "Long File Name Implementation": the checksum of the 11-byte
 * short name, in each of its long-name entries. */
uint8_t
lfn_checksum(const uint8_t name[11])
{
	uint8_t sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name[i]);
	return sum;
}

/* A name a long entry may hold: 1..255 units, none of " * / : < > ? \ |
 * or a control character, not "." or "..", not ending in a period or
 * space (Windows would strip those, making another name). */
int
name_valid_long(const uint16_t *s, unsigned n)
{
	if (n == 0 || n > LFN_MAX_UNITS || !utf16_valid(s, n))
		return 0;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	if (s[n - 1] == '.' || s[n - 1] == ' ')
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t c = s[i];

		if (c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' ||
		    c == '<' || c == '>' || c == '?' || c == '\\' || c == '|')
			return 0;
	}
	return 1;
}

/* May c stand in a short name as it is (spec "Directory Structure")? */
static int
short_char_ok(uint16_t c)
{
	if (c >= 'A' && c <= 'Z')
		return 1;
	if (c >= '0' && c <= '9')
		return 1;
	return c == '$' || c == '%' || c == '\'' || c == '-' || c == '_' ||
	    c == '@' || c == '~' || c == '`' || c == '!' || c == '(' ||
	    c == ')' || c == '{' || c == '}' || c == '^' || c == '#' ||
	    c == '&';
}

static uint16_t
upper(uint16_t c)
{
	return c >= 'a' && c <= 'z' ? (uint16_t)(c - 32) : c;
}

static uint16_t
lower(uint16_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint16_t)(c + 32) : c;
}

/* Is part [s, s+n) all one case (or caseless)?  *low: all lower. */
static int
one_case(const uint16_t *s, unsigned n, int *low)
{
	int up = 0, lo = 0;

	for (unsigned i = 0; i < n; i++) {
		up |= s[i] >= 'A' && s[i] <= 'Z';
		lo |= s[i] >= 'a' && s[i] <= 'z';
	}
	*low = lo;
	return !(up && lo);
}

/*
 * Does the name fit a short entry exactly (no long name needed)?  ASCII,
 * base 1-8 and extension 0-3 valid characters, one period at most, each
 * part in one case: lower case is kept in NT's case bits (*ntres).
 */
int
name_to_83(const uint16_t *s, unsigned n, uint8_t out[11], uint8_t *ntres)
{
	unsigned dot = n, base, ext;
	int low;

	for (unsigned i = 0; i < n; i++)
		if (s[i] == '.') {
			if (dot != n)
				return 0;
			dot = i;
		}
	base = dot;
	ext = dot < n ? n - dot - 1 : 0;
	if (base == 0 || base > 8 || ext > 3 || (dot < n && ext == 0))
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (i != dot && !short_char_ok(upper(s[i])))
			return 0;
	*ntres = 0;
	if (!one_case(s, base, &low))
		return 0;
	if (low)
		*ntres |= NTRES_LOWER_BASE;
	if (!one_case(s + dot + (dot < n), ext, &low))
		return 0;
	if (low)
		*ntres |= NTRES_LOWER_EXT;
	memset(out, ' ', 11);
	for (unsigned i = 0; i < base; i++)
		out[i] = (uint8_t)upper(s[i]);
	for (unsigned i = 0; i < ext; i++)
		out[8 + i] = (uint8_t)upper(s[dot + 1 + i]);
	if (out[0] == DIR_FREE)
		out[0] = DIR_KANJI_E5;
	return 1;
}

/* One long-name unit as a short-name character ('_' when it has none). */
static uint8_t
basis_char(uint16_t c)
{
	c = upper(c);
	return short_char_ok(c) ? (uint8_t)c : '_';
}

/*
 * The basis of an alias (spec "Basis-Name Generation Algorithm"): upper
 * case, spaces and leading periods dropped, the base up to the first
 * period (8 at most), the extension from after the last period (3 at
 * most), anything else '_'.
 */
void
name_basis(const uint16_t *s, unsigned n, uint8_t basis[11],
    unsigned *baselen)
{
	unsigned i = 0, k = 0, last = n;

	memset(basis, ' ', 11);
	for (unsigned j = 0; j < n; j++)
		if (s[j] == '.')
			last = j;
	while (i < n && (s[i] == '.' || s[i] == ' '))
		i++;
	if (last < i)
		last = n;	/* the only periods led the name */
	for (; i < n && s[i] != '.' && k < 8; i++)
		if (s[i] != ' ')
			basis[k++] = basis_char(s[i]);
	if (k == 0)
		basis[k++] = '_';
	*baselen = k;
	k = 0;
	for (i = last + 1; last < n && i < n && k < 3; i++)
		if (s[i] != ' ')
			basis[8 + k++] = basis_char(s[i]);
}

static unsigned
digits(unsigned num)
{
	unsigned d = 1;

	while (num >= 10) {
		num /= 10;
		d++;
	}
	return d;
}

/* basis with the numeric tail ~num (spec "Numeric-Tail Generation"). */
void
name_tail(const uint8_t basis[11], unsigned baselen, unsigned num,
    uint8_t out[11])
{
	unsigned d = digits(num), keep = baselen < 7 - d ? baselen : 7 - d;

	memcpy(out, basis, 11);
	memset(out, ' ', 8);
	memcpy(out, basis, keep);
	out[keep] = '~';
	for (unsigned i = 0; i < d; i++, num /= 10)
		out[keep + d - i] = (uint8_t)('0' + num % 10);
}

/* The tail number of `name` if it is basis~N (with N's own base
 * length), else 0. */
int
name_tail_of(const uint8_t basis[11], unsigned baselen,
    const uint8_t name[11])
{
	unsigned t, num = 0, end = 8, d, keep;

	if (memcmp(name + 8, basis + 8, 3) != 0)
		return 0;
	while (end > 0 && name[end - 1] == ' ')
		end--;
	for (t = end; t > 0 && name[t - 1] >= '0' && name[t - 1] <= '9'; t--)
		;
	if (t == 0 || t == end || name[t - 1] != '~' || name[t] == '0')
		return 0;
	d = end - t;
	for (unsigned i = t; i < end; i++)
		num = num * 10 + (name[i] - '0');
	keep = baselen < 7 - d ? baselen : 7 - d;
	if (t - 1 != keep || memcmp(name, basis, keep) != 0)
		return 0;
	return (int)num;
}

/* The short name as it is shown: "BASE.EXT", NT's case bits applied. */
unsigned
name_83_to_utf16(const uint8_t name[11], uint8_t ntres, uint16_t *out)
{
	unsigned k = 0, base = 8, ext = 3;

	while (base > 0 && name[base - 1] == ' ')
		base--;
	while (ext > 0 && name[8 + ext - 1] == ' ')
		ext--;
	for (unsigned i = 0; i < base; i++) {
		uint8_t b = i == 0 && name[0] == DIR_KANJI_E5 ? DIR_FREE :
		    name[i];
		uint16_t c = b < 0x80 ? b : cp437_high[b - 0x80];

		out[k++] = ntres & NTRES_LOWER_BASE ? lower(c) : c;
	}
	if (ext)
		out[k++] = '.';
	for (unsigned i = 0; i < ext; i++) {
		uint8_t b = name[8 + i];
		uint16_t c = b < 0x80 ? b : cp437_high[b - 0x80];

		out[k++] = ntres & NTRES_LOWER_EXT ? lower(c) : c;
	}
	return k;
}

int
name_eq_ci(const uint16_t *a, unsigned an, const uint16_t *b, unsigned bn)
{
	if (an != bn)
		return 0;
	for (unsigned i = 0; i < an; i++)
		if (upper(a[i]) != upper(b[i]))
			return 0;
	return 1;
}
