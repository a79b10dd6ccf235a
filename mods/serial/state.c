/*
 * state.c - what the serial console hands over in a swap, and takes:
 * struct console_state (abi/console.h) followed by the text.
 *
 * Export: COM1's unread keys and the recent output, so a console taking
 * over (fbcon) can show what was printed.  The size of a terminal on the
 * other end of a wire is not known: cols and rows are 0.
 * Import: the unread keys, ahead of anything typed later; the text is kept
 * for a later export, not printed again, since the line showed it already.
 * Keys and text belong to the primary port (the first present; COM1 in
 * standby), the counterpart of the other provider's first console and
 * keyboard.
 */
#include "serial.h"

#define DEFAULT_FG 0xaaaaaa		/* what a terminal shows by default */
#define DEFAULT_BG 0x000000

_Static_assert(sizeof(struct console_state) == 32 + 8 * CONSOLE_STATE_KEYS,
    "console_state layout");

int
state_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	struct port *p = ser.primary;
	struct console_state st = { .fg = DEFAULT_FG, .bg = DEFAULT_BG };
	size_t max = CONSOLE_STATE_TEXT_MAX, text;

	*version = CONSOLE_STATE_VERSION;
	if (!buf) {
		*len = sizeof(st) + rt_textring_copy(&ser.text, NULL, max);
		return PB_OK;
	}
	if (cap < sizeof(st))
		return PB_EINVAL;
	if (cap - sizeof(st) < max)
		max = cap - sizeof(st);
	text = rt_textring_copy(&ser.text, (char *)buf + sizeof(st), max);
	st.text_len = (uint32_t)text;
	st.nkeys = keyq_peek(&p->keys, st.keys, CONSOLE_STATE_KEYS);
	if (keyq_len(&p->keys) > st.nkeys)
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: %u unread keys "
		    "beyond the state's %u are not handed over", p->name,
		    keyq_len(&p->keys) - st.nkeys, CONSOLE_STATE_KEYS);
	memcpy(buf, &st, sizeof(st));
	*len = sizeof(st) + text;
	return PB_OK;
}

/* Check everything before taking anything. */
static int
state_valid(const struct console_state *st, size_t len, uint32_t version)
{
	return version == CONSOLE_STATE_VERSION && len >= sizeof(*st) &&
	    st->nkeys <= CONSOLE_STATE_KEYS &&
	    st->text_len <= len - sizeof(*st);
}

int
state_import(const void *buf, size_t len, uint32_t version)
{
	struct port *p = ser.primary;
	struct console_state st;

	if (!buf || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (!state_valid(&st, len, version))
		return PB_ESTATE;
	rt_textring_put(&ser.text, (const char *)buf + sizeof(st), st.text_len);
	for (uint32_t i = 0; i < st.nkeys; i++)
		keyq_put(&p->keys, &st.keys[i]);
	if (st.nkeys)
		pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s: %u unread keys "
		    "taken over", p->name, (unsigned)st.nkeys);
	return PB_OK;
}
