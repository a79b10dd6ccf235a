/*
 * hublines.c - the lines the stub and the hub wrote on ConOut themselves
 * (before the shell became the log's reader, and whenever no reader
 * shows the log), read back from the hub's log (`log:hub`, the lines
 * flagged LOG_F_SHOWN), so that the console taking over at the takeover
 * shows them above what clients wrote here.  They came before it: the
 * shell starts writing here when it starts reading the log.
 */
#include "efi-console.h"

static int
shown(struct log_line *l, uint64_t seq)
{
	while (PB_CALL(efc.log, log_ops, read, seq, l) == PB_OK) {
		if (l->flags & LOG_F_SHOWN)
			return 1;
		seq = l->seq + 1;
	}
	return 0;
}

/*
 * The newest of those lines that fit in max bytes, oldest first, into out
 * (NULL only counts); returns the bytes.
 */
static size_t
scan_hub_lines(char *out, size_t max)
{
	char text[LOG_FORMAT_MAX];
	struct log_line l;
	size_t total = 0, n, skip;
	uint64_t s;

	if (!efc.log)
		return 0;
	for (s = 0; shown(&l, s); s = l.seq + 1)
		total += log_format(&l, text, sizeof(text));
	skip = total > max ? total - max : 0;
	total = 0;
	for (s = 0; shown(&l, s); s = l.seq + 1) {
		n = log_format(&l, text, sizeof(text));
		if (skip) {		/* whole lines go, oldest first */
			skip = skip > n ? skip - n : 0;
			continue;
		}
		if (total + n > max)
			break;
		if (out)
			memcpy(out + total, text, n);
		total += n;
	}
	return total;
}

/* The lines, read once the firmware's terminal has settled (before the
 * blackout): the exports then copy them (nothing is written on ConOut
 * while quiesced). */
static char kept[CONSOLE_STATE_TEXT_MAX];
static size_t nkept;
static int have_kept;

void
eficon_hub_lines_keep(int keep)
{
	have_kept = keep;
	if (keep)
		nkept = scan_hub_lines(kept, sizeof(kept));
}

size_t
eficon_hub_lines(char *out, size_t max)
{
	size_t skip;

	if (!have_kept)
		return scan_hub_lines(out, max);
	/* The newest that fit: whole lines, as scan_hub_lines cuts them. */
	for (skip = 0; nkept - skip > max; skip++)
		while (skip < nkept && kept[skip] != '\n')
			skip++;
	if (out)
		memcpy(out, kept + skip, nkept - skip);
	return nkept - skip;
}
