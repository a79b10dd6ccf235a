/*
 * state.c - what the keyboard hands over in a swap, and takes:
 * struct keyboard_state (abi/keyboard.h).
 *
 * Export: the modifiers held and the locks on (a key held across the swap
 * is released on the other side, which then knows it was down), what the
 * LEDs show, and the unread keys, oldest first, the bytes read but not
 * decoded included (a restart after a fault exports without a quiesce).
 * Import: the same, or a console's struct console_state, of which only
 * the keys concern a keyboard.  The keys go ahead of anything typed
 * later; the locks are what activate's LED command shows.
 */
#include "ps2.h"
#include "../../abi/console.h"

int
state_export(void *buf, size_t cap, size_t *len, uint32_t *version)
{
	struct keyboard_state st = { 0 };

	*version = KEYBOARD_STATE_VERSION;
	*len = sizeof(st);
	if (!buf)
		return PB_OK;
	if (cap < sizeof(st))
		return PB_EINVAL;
	ps2_decode_quiet();	/* after a fault there was no quiesce */
	st.mods = scan_mods(&ps2.scan, ps2.map);
	st.leds = ps2.scan.locks;
	st.nkeys = keyq_peek(&ps2.keys, st.keys, KEYBOARD_STATE_KEYS);
	if (keyq_len(&ps2.keys) > st.nkeys)
		pb_logf(ps2.hub, ps2.self, PB_LOG_WARN, "%u unread keys beyond "
		    "the state's %u are not handed over",
		    keyq_len(&ps2.keys) - st.nkeys, KEYBOARD_STATE_KEYS);
	memcpy(buf, &st, sizeof(st));
	return PB_OK;
}

static void
take_keys(const struct key_event *keys, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		keyq_put(&ps2.keys, &keys[i]);
	if (n)
		pb_logf(ps2.hub, ps2.self, PB_LOG_INFO, "%u unread keys taken "
		    "over", (unsigned)n);
}

/* Check everything before taking anything. */
static int
import_console(const void *buf, size_t len)
{
	struct console_state cs;

	if (len < sizeof(cs))
		return PB_ESTATE;
	memcpy(&cs, buf, sizeof(cs));
	if (cs.nkeys > CONSOLE_STATE_KEYS || cs.text_len > len - sizeof(cs))
		return PB_ESTATE;
	take_keys(cs.keys, cs.nkeys);
	return PB_OK;
}

int
state_import(const void *buf, size_t len, uint32_t version)
{
	struct keyboard_state st;

	if (!buf)
		return PB_ESTATE;
	if (version == CONSOLE_STATE_VERSION)
		return import_console(buf, len);
	if (version != KEYBOARD_STATE_VERSION || len < sizeof(st))
		return PB_ESTATE;
	memcpy(&st, buf, sizeof(st));
	if (st.nkeys > KEYBOARD_STATE_KEYS)
		return PB_ESTATE;
	scan_set_mods(&ps2.scan, st.mods);
	scan_set_locks(&ps2.scan, (uint16_t)((st.mods & (KEYMOD_CAPS |
	    KEYMOD_NUM)) | (st.leds & LOCK_SCROLL)));
	take_keys(st.keys, st.nkeys);
	return PB_OK;
}
