/*
 * fmt.c - rt_vsnprintf: C99 printf formatting for the subset the hub and
 * modules use.  Always terminates when size > 0; returns the length the
 * full output would have had, as C99 snprintf does.
 */
#include "rt.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

struct spec {
	int left;		/* '-' flag */
	char pad;		/* ' ' or '0' */
	int width;
	int prec;		/* -1: none */
	int lmod;		/* 0 int, 1 long, 2 long long, 3 size_t, -1 short, -2 char */
	char conv;
};

static void
put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
put_padding(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void
put_str(struct out *o, const struct spec *sp, const char *s)
{
	int n;

	if (!s)
		s = "(null)";
	n = (int)strnlen(s, sp->prec >= 0 ? (size_t)sp->prec : (size_t)-1);
	if (!sp->left)
		put_padding(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		put_padding(o, ' ', sp->width - n);
}

static void
put_num(struct out *o, const struct spec *sp, uint64_t v, int neg)
{
	char digits[24];
	const char *set = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned base = sp->conv == 'o' ? 8 :
	    (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p') ? 16 : 10;
	/* C: with a precision, the '0' flag is ignored. */
	char pad = sp->prec >= 0 ? ' ' : sp->pad;
	int n = 0, zeros, total;

	/* C: a zero value with a zero precision is no characters. */
	while (v || (n == 0 && sp->prec != 0)) {
		digits[n++] = set[v % base];
		v /= base;
	}
	zeros = sp->prec > n ? sp->prec - n : 0;
	total = n + zeros + neg + (sp->conv == 'p' ? 2 : 0);
	if (!sp->left && pad == ' ')
		put_padding(o, ' ', sp->width - total);
	if (neg)
		put(o, '-');
	if (sp->conv == 'p') {
		put(o, '0');
		put(o, 'x');
	}
	if (!sp->left && pad == '0')
		put_padding(o, '0', sp->width - total);
	put_padding(o, '0', zeros);
	while (n)
		put(o, digits[--n]);
	if (sp->left)
		put_padding(o, ' ', sp->width - total);
}

static const char *
parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .pad = ' ', .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = 1;
		else if (*f == '0')
			sp->pad = '0';
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {	/* C: a '-' flag and a positive width */
			sp->left = 1;
			sp->width = sp->width < -0x7fffffff ? 0x7fffffff :
			    -sp->width;
		}
		f++;
	} else {
		while (*f >= '0' && *f <= '9')
			sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				sp->prec = sp->prec * 10 + (*f++ - '0');
		}
	}
	for (;; f++) {
		if (*f == 'l')
			sp->lmod++;
		else if (*f == 'z')
			sp->lmod = 3;
		else if (*f == 'h')
			sp->lmod--;
		else
			break;
	}
	sp->conv = *f;
	return f;
}

static uint64_t
arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->lmod) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	case -1: return (unsigned short)va_arg(*ap, unsigned int);
	case -2: return (unsigned char)va_arg(*ap, unsigned int);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t
arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->lmod) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (int64_t)va_arg(*ap, size_t);
	case -1: return (short)va_arg(*ap, int);
	case -2: return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

static void
put_conv(struct out *o, struct spec *sp, va_list *ap)
{
	int64_t s;

	switch (sp->conv) {
	case 'd':
	case 'i':
		s = arg_signed(sp, ap);
		put_num(o, sp, s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s,
		    s < 0);
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		put_num(o, sp, arg_unsigned(sp, ap), 0);
		break;
	case 'p':
		put_num(o, sp, (uintptr_t)va_arg(*ap, void *), 0);
		break;
	case 'c':
		if (!sp->left)
			put_padding(o, ' ', sp->width - 1);
		put(o, (char)va_arg(*ap, int));
		if (sp->left)
			put_padding(o, ' ', sp->width - 1);
		break;
	case 's':
		put_str(o, sp, va_arg(*ap, const char *));
		break;
	case '%':
		put(o, '%');
		break;
	default:	/* unknown conversion: show it as written */
		put(o, '%');
		put(o, sp->conv);
	}
}

int
rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (!*fmt)
			break;
		put_conv(&o, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

void
rt_use_hub(const struct pb_hub *hub)
{
	(void)hub;
}
