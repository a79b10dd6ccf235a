/*
 * shell.h - the shell module's parts and what they share.
 *
 *   shell.c     descriptor, start/stop, connection events, the `os` resource
 *   consoles.c  every console connection; output goes to all of them
 *   logview.c   the hub's log on the consoles: the shell is its reader
 *   logfile.c   the log written to /esp/patchbay/log.txt
 *   keyboards.c every keyboard connection; keys come from any of them
 *   poll.c      the 10 ms timer that reads the keyboards
 *   session.c   the prompt, the line editor, running a line
 *   lineedit.c  the line editor itself (pure C, host-tested)
 *   commands.c  the command table: words, usage, dispatch, help
 *   cmd_*.c     the commands, one file per topic (cmd_display.c: modes,
 *               mode, swaptest; cmd_time.c: date, uptime; cmd_disk.c:
 *               disks, blkread, blkswaptest, and the disks' connections)
 *   words.c     a line cut into words, with double quotes
 *   files.h     the files: mounts, paths, file commands (see there)
 */
#ifndef PB_SHELL_H
#define PB_SHELL_H

#include "../../abi/pbmod.h"
#include "../../abi/console.h"
#include "../../abi/keyboard.h"
#include "../../abi/log.h"

#define SHELL_PROMPT "patchbay> "

/* The requirements, in descriptor order: the `req` of events. */
enum { REQ_CONSOLE = 0, REQ_KEYBOARD = 1, REQ_FIRMWARE_RT = 2,
    REQ_BLOCK = 3, REQ_FS = 4, REQ_LOG = 5 };

extern const struct pb_hub *shell_hub;
extern struct pb_module *shell_self;
extern const struct pb_modinfo pb_modinfo;	/* our own descriptor */

/* shell.c: the inventory line of the os resource changed. */
void shell_props_changed(void);

/* consoles.c */
#define CONSOLE_SLOTS 8
void consoles_event(int ev, struct pb_conn *c);
void consoles_forget(void);
unsigned consoles_count(void);
void out_write(const char *s, size_t len);		/* every console */
void out_write_to(struct pb_conn *c, const char *s, size_t len);
void out_str(const char *s);
int out_at_col0(void);
struct pb_conn *console_at(unsigned i);
int console_is_screen(unsigned i);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* keyboards.c */
void keyboards_event(int ev, struct pb_conn *c);
void keyboards_forget(void);
unsigned keyboards_count(void);
unsigned keyboards_slots(void);
int keyboards_polled(void);
int keyboard_read(unsigned slot, struct key_event *ev);

/* poll.c */
int poll_start(void);
void poll_stop(void);
void poll_kick(void);
void keys_read(void);

/* logview.c */
void logview_event(int ev, struct pb_conn *c);
void logview_start(void);
void logview_stop(void);
void logview_flush(void);
void logview_show(void);
void logview_console_added(unsigned slot);
int log_read(uint64_t seq, struct log_line *out);
unsigned log_each(void (*fn)(void *arg, const char *s, size_t len),
    void *arg);
int cmd_log(int argc, char **argv);

/* logfile.c: /esp/patchbay/log.txt */
typedef void (*logfile_fn)(void *arg, int err, unsigned lines);
int logfile_save(logfile_fn then, void *arg);
void logfile_fault(void);
void logfile_forget(void);

/* session.c */
void session_begin(void);
int session_begun(void);
void session_end(void);
int session_key(const struct key_event *ev);
int session_run(const char *line);
void session_console_added(struct pb_conn *c);
void session_hold(void);	/* the command goes on after it returns */
void session_release(void);	/* ...and is done: the prompt */
void session_time_begin(void);	/* `time`: say how long it took */
int session_at_prompt(void);	/* the prompt and the typed line show */
void session_redraw_to(struct pb_conn *c);	/* them again, on c */

/* commands.c */
int commands_run(char *line);

/* cmd_firmware.c */
struct firmware_time;
void firmware_event(int ev, struct pb_conn *c);
void firmware_forget(void);
int firmware_time(struct firmware_time *t);	/* PB_ENOENT: no firmware-rt */

/* cmd_disk.c */
void disks_event(int ev, struct pb_conn *c);
void disks_forget(void);

/* The commands, argv[0] being the command's name. */
int cmd_help(int argc, char **argv);
int cmd_hub(int argc, char **argv);
int cmd_inventory(int argc, char **argv);
int cmd_bootchart(int argc, char **argv);	/* cmd_chart.c */
int cmd_unload(int argc, char **argv);
int cmd_load(int argc, char **argv);		/* cmd_modfile.c */
int cmd_update(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_date(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_poweroff(int argc, char **argv);
int cmd_acpi(int argc, char **argv);
int cmd_cpus(int argc, char **argv);
int cmd_pci(int argc, char **argv);
int cmd_modes(int argc, char **argv);
int cmd_mode(int argc, char **argv);
int cmd_swaptest(int argc, char **argv);
int cmd_screenshot(int argc, char **argv);
/* cmd_display.c: the best display, by hand, or an error line. */
struct pb_conn *display_open(const char *cmd, struct pb_res_info *ri);
void display_close(struct pb_conn *c);
int cmd_disks(int argc, char **argv);
int cmd_blkread(int argc, char **argv);
int cmd_blkswaptest(int argc, char **argv);
int cmd_faultinject(int argc, char **argv);	/* cmd_faultinject.c */

/* mounts.c: the properties of resource `name` now, or "". */
void res_props(const char *name, char *props, size_t cap);

/* words.c */
int words_split(char *s, char **argv, int max);

/* The files (files.h): the mount table's connection events, and the
 * commands. */
void mounts_event(int ev, struct pb_conn *c);
void mounts_forget(void);
void jobs_forget(void);
int sync_then(const char *cmd, void (*then)(void *arg), void *arg);
int echo_redirect(int argc, char **argv, int *result);
int cmd_hexdump(int argc, char **argv);
int cmd_sha256sum(int argc, char **argv);
int cmd_fsread(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_mv(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_mkdir(int argc, char **argv);
int cmd_rmdir(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_mounts(int argc, char **argv);
int cmd_df(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_cd(int argc, char **argv);
int cmd_pwd(int argc, char **argv);

/* cmd_usb.c */
int cmd_usb(int argc, char **argv);

#endif
