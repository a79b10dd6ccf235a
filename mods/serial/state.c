/*
 * state.c - what the serial console hands over in a swap, and takes:
 * struct console_state (abi/console.h) followed by the text, then the
 * unread keys that do not fit its keys[].
 *
 * Export: COM1's unread keys and the recent output, so a console taking
 * over (fbcon) can show what was printed.  The size of a terminal on the
 * other end of a wire is not known: cols and rows are 0.  Every unread
 * key goes: keys[] takes the first CONSOLE_STATE_KEYS, the rest follow
 * the text (abi/console.h).  A line typed while serial was stopped (a
 * work item that hung for a watchdog period, the receive interrupt
 * queueing all the while) is longer than keys[], and its tail must reach
 * the restarted instance too; when the blob is short, keys go before
 * text, which the other end of the line has shown already.
 * Import: the unread keys, ahead of anything typed later; the text is kept
 * for a later export, not printed again, since the line showed it already.
 * Keys and text belong to the primary port (the first present; COM1 in
 * standby), the counterpart of the other provider's first console and
 * keyboard.
 */
#include "serial.h"

#define DEFAULT_FG 0xaaaaaa		/* what a terminal shows by default */
#define DEFAULT_BG 0x000000
#define KEY_BYTES sizeof(struct key_event)

_Static_assert(sizeof(struct console_state) == 32 + 8 * CONSOLE_STATE_KEYS,
    "console_state layout");

/* Unread keys beyond keys[] that fit in room bytes. */
static unsigned
more_keys(const struct port *p, size_t room)
{
	unsigned n = keyq_len(p->keys);

	n = n > CONSOLE_STATE_KEYS ? n - CONSOLE_STATE_KEYS : 0;
	return room / KEY_BYTES < n ? (unsigned)(room / KEY_BYTES) : n;
}

int
state_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	struct port *p = ser.primary;
	struct console_state st = { .fg = DEFAULT_FG, .bg = DEFAULT_BG };
	struct key_event keys[KEYQ_SIZE];
	size_t max = CONSOLE_STATE_TEXT_MAX, text;
	unsigned more;

	*version = CONSOLE_STATE_VERSION;
	if (!buf) {
		*len = sizeof(st) + rt_textring_copy(&ser.text, NULL, max) +
		    more_keys(p, SIZE_MAX) * KEY_BYTES;
		return PB_OK;
	}
	if (cap < sizeof(st))
		return PB_EINVAL;
	more = more_keys(p, cap - sizeof(st));
	if (cap - sizeof(st) - more * KEY_BYTES < max)
		max = cap - sizeof(st) - more * KEY_BYTES;
	text = rt_textring_copy(&ser.text, (char *)buf + sizeof(st), max);
	st.text_len = (uint32_t)text;
	st.nkeys = keyq_peek(p->keys, keys, CONSOLE_STATE_KEYS + more);
	if (st.nkeys > CONSOLE_STATE_KEYS) {
		memcpy((char *)buf + sizeof(st) + text, keys +
		    CONSOLE_STATE_KEYS, (st.nkeys - CONSOLE_STATE_KEYS) *
		    KEY_BYTES);
		more = st.nkeys - CONSOLE_STATE_KEYS;
		st.nkeys = CONSOLE_STATE_KEYS;
	} else {
		more = 0;
	}
	memcpy(st.keys, keys, st.nkeys * KEY_BYTES);
	if (keyq_len(p->keys) > st.nkeys + more)
		pb_logf(ser.hub, ser.self, PB_LOG_WARN, "%s: %u unread keys "
		    "do not fit the state's %llu bytes and are not handed "
		    "over", p->name, keyq_len(p->keys) - st.nkeys - more,
		    (unsigned long long)cap);
	memcpy(buf, &st, sizeof(st));
	*len = sizeof(st) + text + more * KEY_BYTES;
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
	const char *rest;
	struct console_state st;
	struct key_event ev;
	size_t more;

	if (!buf || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (!state_valid(&st, len, version))
		return PB_ESTATE;
	rest = (const char *)buf + sizeof(st) + st.text_len;
	more = (len - sizeof(st) - st.text_len) / KEY_BYTES;
	rt_textring_put(&ser.text, (const char *)buf + sizeof(st), st.text_len);
	for (uint32_t i = 0; i < st.nkeys; i++)
		keyq_put(p->keys, &st.keys[i]);
	for (size_t i = 0; i < more; i++) {
		memcpy(&ev, rest + i * KEY_BYTES, KEY_BYTES);
		keyq_put(p->keys, &ev);
	}
	if (st.nkeys)
		pb_logf(ser.hub, ser.self, PB_LOG_INFO, "%s: %u unread keys "
		    "taken over", p->name, (unsigned)(st.nkeys + more));
	return PB_OK;
}
