/*
 * log.h - interface `log` 1.0: the hub's event log, for the module that
 * shows it on the consoles (the shell) and for whoever reads it back
 * (the shell's `log` and log.txt, efi-console's hand-over).
 *
 * The hub publishes one resource, `log:hub`.  Every load, start, bind,
 * swap, unload, refusal and fault is one line, numbered from 0 at the
 * boot (`seq`).  The hub keeps the boot's first LOG_PIN lines (the stub,
 * the firmware phase, the takeover, the first prompt: how the boot went)
 * and the newest LOG_RING; the lines between them, once there are more
 * than both hold, are gone.  (1.0 hubs kept the newest LOG_RING only: a
 * reader from seq 0 on gets what the hub keeps either way.)
 *
 * Who shows the lines: the hub itself (its own writers: the firmware
 * console before the takeover, COM1 after it, and the screen while no
 * module draws there) until a client `watch`es; from then on that client
 * (the reader) is told of new lines by its work item and `take`s them
 * one by one, and shows them where it likes, so a line never lands
 * inside one being typed.  While the boot runs in the firmware phase the
 * hub still writes them on the firmware console itself (nobody types
 * yet, and a hang leaves the last line on the screen): lines flagged
 * LOG_F_SHOWN are there already, and the reader does not show them again.  The hub takes the log back (writes what the
 * reader has not taken, and goes on itself) when the reader stops or
 * faults, before a reset, and at a fatal fault.
 *
 * The operations (ctx is the resource's):
 *   read	line number `seq`, or the oldest kept after it if that one
 *		is gone; PB_ENOENT past the newest.  Anyone may read.  From
 *		seq 0 on, each next read asking for `l.seq + 1`, a reader
 *		gets every line kept, oldest first; a jump in `seq` is the
 *		lines dropped between the boot's first and the newest.
 *   watch	become the reader: `w` (set up with work_init, in the
 *		reader's memory) is posted whenever a line is added; NULL
 *		gives the log back.  PB_EBUSY while another module reads,
 *		for NULL too: only the reader gives the log back.
 *		Lines from before the watch are not the reader's to take.
 *   take	the reader's next line, oldest first; PB_ENOENT when it has
 *		them all, PB_EBUSY to a module that is not the reader.  A
 *		jump in `seq` means lines went out of the ring before the
 *		reader took them.
 * An `out` or `w` the caller could not write itself is PB_EFAULT, with
 * one error line: the ops run in the hub's domain.
 */
#ifndef PB_ABI_LOG_H
#define PB_ABI_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define LOG_IFACE "log"
#define LOG_MAJOR 1
#define LOG_MINOR 0

#define LOG_PIN 256		/* the boot's first lines, kept for good */
#define LOG_RING 256		/* the newest lines the hub keeps */
/* Bytes of a line's text, with the NUL: room for an exec= output line
 * such as `res` prints (a resource's name, its properties of up to 255
 * bytes and its client count). */
#define LOG_TEXT_MAX 360

/* What a line is about.  Errors, refusals and faults are the errors
 * (log_is_error); LOG_OUTPUT is a boot.cfg exec= command's output,
 * shown as it is, without a time. */
enum log_kind {
	LOG_BOOT, LOG_LOAD, LOG_START, LOG_BIND, LOG_SWAP, LOG_UNLOAD,
	LOG_REFUSE, LOG_FAULT, LOG_ERROR, LOG_MOD, LOG_INFO, LOG_OUTPUT,
};

#define LOG_F_QUIET 0x01	/* kept, never shown (routine detail) */
#define LOG_F_SHOWN 0x02	/* the hub wrote it on its own console */

struct log_line {
	uint64_t seq;
	uint64_t ns;		/* since the boot */
	uint8_t kind;		/* enum log_kind */
	uint8_t flags;		/* LOG_F_* */
	uint8_t reserved[6];
	char text[LOG_TEXT_MAX];
};
_Static_assert(sizeof(struct log_line) == 384, "log_line layout");

struct log_ops {
	int (*read)(void *ctx, uint64_t seq, struct log_line *out);
	int (*watch)(void *ctx, struct pb_work *w);
	int (*take)(void *ctx, struct log_line *out);
};

static inline int
log_is_error(const struct log_line *l)
{
	return l->kind == LOG_ERROR || l->kind == LOG_REFUSE ||
	    l->kind == LOG_FAULT;
}

/*
 * The line as consoles show it, with its newline: "[    1.234567] text",
 * errors as "[    1.234567] error: text", output as it is.  Returns the
 * length (cut to fit cap).  abi/rt/logfmt.c.
 */
size_t log_format(const struct log_line *l, char *buf, size_t cap);
#define LOG_FORMAT_MAX (LOG_TEXT_MAX + 32)

#endif
