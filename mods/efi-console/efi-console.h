/*
 * efi-console.h - the firmware console module's shared state.
 *
 *   efi-console.c	the module: descriptor, console and keyboard
 *			operations over the `firmware` connection, swap steps
 *   state.c		struct console_state export and import
 *   hublines.c		the hub's own lines on ConOut, for the export
 *   ansi.c		what of the text ConOut can show (pure)
 *   keys.c		ConIn keys as key events, keys held back (pure)
 */
#ifndef EFICON_H
#define EFICON_H

#include "../../abi/pbmod.h"
#include "../../abi/console.h"
#include "../../abi/firmware.h"
#include "../../abi/keyboard.h"
#include "../../abi/log.h"
#include "ansi.h"
#include "keys.h"
#include "../../abi/rt/textring.h"

#define EFICON_TEXT (32u << 10)		/* output kept for the takeover */

struct eficon {
	const struct pb_hub *hub;
	struct pb_module *self;
	struct pb_conn *fw;	/* requirement 0; NULL once withdrawn */
	struct pb_resource *kbd;	/* keyboard:efi, while published */
	struct pb_conn *log;	/* requirement 1, optional: log:hub */
	int quiet;		/* quiesced: accepts nothing new */
	uint64_t settle_ns;	/* a quiesce waits for ConIn since; 0: not */
	uint64_t wrote_ns;	/* a client's last write on ConOut ended */
	uint64_t hub_wrote_ns;	/* the hub's last line on ConOut ended */
	uint64_t key_ns;	/* a quiesce found the last key in ConIn */
	uint64_t settle_seq;	/* the log's next line to look at */
	int kept;		/* the hub's lines were read for the exports */
	uint32_t cols, rows;	/* ConOut's mode, as last asked */
	struct ansi ansi;	/* escape sequences, colours, cursor */
	struct rt_textring text;	/* recent output, as written */
	struct keybuf keys;	/* read from ConIn, not yet by the client */
};

extern struct eficon efc;

/* efi-console.c */
int eficon_drain_conin(void);
/* hublines.c */
size_t eficon_hub_lines(char *out, size_t max);
void eficon_hub_lines_keep(int keep);
/* state.c */
int eficon_export(void *buf, size_t cap, size_t *len, uint32_t *version);
int eficon_import(const void *buf, size_t len, uint32_t version);

#endif
