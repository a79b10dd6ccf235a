/*
 * cmd_screenshot.c - `screenshot PATH`: the screen as a PNG file.
 *
 * The whole screen is read at once through the display's `read` (so the
 * picture is the screen as the command was typed, not scrolled by the
 * command's own line), the display is let go, and the file is written a
 * band of rows at a time (png.c) as one write after another, the session
 * held until the last is on its way and the file closed.
 */
#include "files.h"
#include "png.h"
#include "../../abi/display.h"

#define BAND_BYTES (256u << 10)		/* raw bytes per IDAT, about */

struct shot {
	struct place p;
	uint32_t w, h;
	uint32_t *px;		/* the screen, w * h */
	uint8_t *out;		/* one band's chunk */
	uint32_t band;		/* rows per band */
	uint32_t handle;
	uint64_t off;		/* bytes written */
	struct png png;
	int ended;		/* IEND is on its way */
};

static void shot_write(struct job *j, struct jreq *r);

static void
shot_cleanup(struct job *j)
{
	struct shot *s = j->data;

	shell_hub->free(shell_self, s->px);
	shell_hub->free(shell_self, s->out);
}

static void
shot_report(struct job *j)
{
	struct shot *s = j->data;

	say("%s: %ux%u, %llu bytes", s->p.abs, s->w, s->h,
	    (unsigned long long)s->off);
}

/* The next piece of the file: the head with the first band, the other
 * bands, then IEND. */
static void
shot_next(struct job *j, struct jreq *r)
{
	struct shot *s = j->data;
	uint32_t n = s->h - s->png.row < s->band ? s->h - s->png.row : s->band;
	size_t len = 0;

	if (s->png.row == 0)
		len = png_begin(&s->png, s->w, s->h, s->out);
	if (n)
		len += png_rows(&s->png, s->px + (size_t)s->png.row * s->w,
		    s->w, n, s->out + len);
	else {
		len = png_end(s->out);
		s->ended = 1;
	}
	r->fs.handle = s->handle;
	r->fs.offset = s->off;
	r->fs.buf = s->out;
	r->fs.len = len;
	job_submit(j, r, s->p.m, FS_WRITE, s->p.abs, shot_write);
}

static void
shot_write(struct job *j, struct jreq *r)
{
	struct shot *s = j->data;

	if (r->fs.status != PB_OK || r->fs.result != r->fs.len) {
		job_error(j, s->p.abs, r->fs.status != PB_OK ? r->fs.status :
		    PB_ENOSPC);
		job_end(j);
		return;
	}
	s->off += r->fs.len;
	if (s->ended)
		job_end(j);	/* closes the file */
	else
		shot_next(j, job_slot(j));
}

static void
shot_opened(struct job *j, struct jreq *r)
{
	struct shot *s = j->data;

	if (r->fs.status != PB_OK) {
		job_error(j, s->p.abs, r->fs.status);
		job_end(j);
		return;
	}
	s->handle = r->fs.handle;
	shot_next(j, job_slot(j));
}

/* The screen into s->px; an error line if it cannot be read. */
static int
grab(const char *cmd, struct shot *s)
{
	struct pb_res_info ri;
	struct display_mode mode;
	struct pb_conn *c = display_open(cmd, &ri);
	int r;

	if (!c)
		return PB_ENOENT;
	if ((r = PB_CALL(c, display_ops, get_mode, &mode)) != PB_OK) {
		display_close(c);
		return fail("%s: %s cannot tell its mode (%d)", cmd, ri.name, r);
	}
	s->w = mode.width;
	s->h = mode.height;
	s->band = BAND_BYTES / (1 + 3 * s->w) ? BAND_BYTES / (1 + 3 * s->w) : 1;
	s->px = shell_hub->alloc(shell_self, (size_t)s->w * s->h * 4);
	/* The biggest piece: the head and a first band that is the last. */
	s->out = shell_hub->alloc(shell_self, PNG_HEAD_LEN + png_rows_len(
	    &(struct png){ .width = s->w, .height = s->band }, s->band));
	if (!s->px || !s->out)
		r = PB_ENOMEM;
	else
		r = PB_CALL(c, display_ops, read, s->px, s->w, 0, 0, s->w,
		    s->h);
	display_close(c);
	if (r != PB_OK)
		return fail("%s: cannot read %s (%d)", cmd, ri.name, r);
	return PB_OK;
}

int
cmd_screenshot(int argc, char **argv)
{
	struct job *j = job_new(argv[0], sizeof(struct shot));
	struct shot *s;

	(void)argc;
	if (!j)
		return PB_ENOMEM;
	s = j->data;
	j->cleanup = shot_cleanup;
	if (job_place(j, argv[1], &s->p) != PB_OK) {
		job_drop(j);
		return PB_ENOENT;
	}
	if (!s->p.m || !*ON_VOLUME(&s->p))
		return job_refuse(j, s->p.abs, fs_strerror(PB_EISDIR));
	if (grab(argv[0], s) != PB_OK) {
		job_drop(j);
		return PB_EIO;
	}
	j->report = shot_report;
	job_path_op(j, &s->p, FS_OPEN, FS_O_WRITE | FS_O_CREATE | FS_O_TRUNC,
	    NULL, 0, shot_opened);
	return job_hold(j);
}
