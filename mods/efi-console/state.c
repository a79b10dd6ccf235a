/*
 * state.c - what the firmware console hands over at the takeover:
 * struct console_state (abi/console.h), then the text.
 *
 * The text is the recent output exactly as written, escape sequences and
 * all, after the stub's and the hub's own lines on ConOut (hublines.c),
 * for the console that takes over to show again (fbcon redraws it);
 * the keys are those ConIn had but the client had not read, including any
 * typed while the swap runs (the quiesce waited for the firmware's
 * terminal to settle; what ConIn holds since is read again here).  The
 * colours are those the text's SGR sequences left; the cursor is where
 * this module's own output moved it (ConOut's real cursor is not exposed
 * through `firmware`).  Export may be asked twice at the takeover, once
 * per new provider (console to fbcon, keyboard to serial): it hands over
 * copies and keeps everything, so a failed swap can resume.
 *
 * Import (a swap back to the firmware console, before the takeover)
 * takes the keys, to be read before ConIn's, and keeps the text for a
 * later export; ConOut is not asked to print it again.
 */
#include "efi-console.h"

_Static_assert(sizeof(struct console_state) == 32 + 8 * CONSOLE_STATE_KEYS,
    "console_state layout");

/* The text: the hub's own lines on ConOut, then what clients wrote,
 * which has the room first.  out NULL only counts. */
static size_t
export_text(char *out, size_t max)
{
	size_t own = rt_textring_copy(&efc.text, NULL, max);
	size_t hub = eficon_hub_lines(out, max - own);

	return hub + rt_textring_copy(&efc.text, out ? out + hub : NULL, own);
}

int
eficon_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	struct console_state st;
	size_t max = CONSOLE_STATE_TEXT_MAX, text;

	*version = CONSOLE_STATE_VERSION;
	if (!buf) {
		*len = sizeof(st) + export_text(NULL, max);
		return PB_OK;
	}
	if (cap < sizeof(st))
		return PB_EINVAL;
	eficon_drain_conin();
	if (cap - sizeof(st) < max)
		max = cap - sizeof(st);
	text = export_text((char *)buf + sizeof(st), max);
	st = (struct console_state){
		.cols = efc.cols, .rows = efc.rows,
		.cur_x = efc.ansi.col, .cur_y = efc.ansi.row,
		.fg = efc.ansi.fg, .bg = efc.ansi.bg,
		.text_len = (uint32_t)text, .nkeys = efc.keys.n,
	};
	memcpy(st.keys, efc.keys.ev, efc.keys.n * sizeof(st.keys[0]));
	memcpy(buf, &st, sizeof(st));
	*len = sizeof(st) + text;
	return PB_OK;
}

/* Check everything before taking anything. */
static int
eficon_state_valid(const struct console_state *st, size_t len,
    uint32_t version)
{
	return version == CONSOLE_STATE_VERSION && len >= sizeof(*st) &&
	    st->nkeys <= CONSOLE_STATE_KEYS &&
	    st->text_len <= len - sizeof(*st);
}

int
eficon_import(const void *buf, size_t len, uint32_t version)
{
	struct console_state st;

	if (!buf || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (!eficon_state_valid(&st, len, version))
		return PB_ESTATE;
	rt_textring_put(&efc.text, (const char *)buf + sizeof(st), st.text_len);
	for (uint32_t i = 0; i < st.nkeys; i++)
		keybuf_put(&efc.keys, &st.keys[i]);
	return PB_OK;
}
