/*
 * commands.c - the command table: a line is split into words, the first
 * names the command, the argument count is checked against its usage, and
 * `help` prints the table.
 *
 * Words are separated by spaces and tabs; double quotes keep spaces in a
 * word (words.c: file names with spaces).  Every failure is one line
 * starting "error: ", printed by the command or here.
 */
#include "shell.h"
#include "lineedit.h"

/* A line of LE_LINE_MAX bytes cannot hold more words than this. */
#define MAX_WORDS (LE_LINE_MAX / 2 + 1)
#define MANY 1000

struct command {
	const char *name;
	const char *usage;
	const char *about;
	int min, max;		/* arguments after the name */
	int (*run)(int argc, char **argv);
};

static int cmd_timed(int argc, char **argv);

static const struct command commands[] = {
	{ "help", "help [COMMAND]", "what the commands do", 0, 1, cmd_help },
	{ "time", "time COMMAND [ARGS...]",
	    "run a command and say how long it took", 1, MANY, cmd_timed },
	{ "mods", "mods", "modules: state, image, provides, requires", 0, 0,
	    cmd_inventory },
	{ "res", "res", "resources, module by module", 0, 0, cmd_inventory },
	{ "deps", "deps", "the dependency tree from os", 0, 0,
	    cmd_inventory },
	{ "log", "log [save]",
	    "the hub's event log (save: to /esp/patchbay/log.txt)", 0, 1,
	    cmd_log },
	{ "mem", "mem", "memory held by the hub and each module", 0, 0,
	    cmd_inventory },
	{ "bootchart", "bootchart [-r]",
	    "when each module loaded, started, bound, swapped in (-r: raw)", 0, 1,
	    cmd_bootchart },
	{ "load", "load PATH|NAME", "load and start a module", 1, 1, cmd_load },
	{ "unload", "unload NAME", "stop and unload a module nothing uses",
	    1, 1, cmd_unload },
	{ "swap", "swap INTERFACE|RESOURCE MODULE",
	    "hand a provider's clients to another module", 2, 2, cmd_hub },
	{ "update", "update MODULE SOURCE",
	    "replace a running module by another build of itself", 2, 2,
	    cmd_update },
	{ "gc", "gc", "unload the modules nothing needs", 0, 0, cmd_hub },
	{ "irqs", "irqs", "interrupts taken, per vector and module", 0, 0,
	    cmd_inventory },
	{ "ls", "ls [-l|-c] [PATH]",
	    "list a directory (-l: sizes, dates; -c: count)", 0, 2,
	    cmd_ls },
	{ "cat", "cat PATH", "print a file", 1, 1, cmd_cat },
	{ "echo", "echo [ARGS...] [> PATH|>> PATH]",
	    "print the arguments, or write them to a file", 0, MANY,
	    cmd_echo },
	{ "pci", "pci", "PCI functions and their drivers, like lspci -nn",
	    0, 0, cmd_pci },
	{ "date", "date", "the date and time, and the clock it came from",
	    0, 0, cmd_date },
	{ "uptime", "uptime", "the time since the boot", 0, 0, cmd_uptime },
	{ "reboot", "reboot", "restart the machine", 0, 0, cmd_reboot },
	{ "poweroff", "poweroff", "turn the machine off", 0, 0,
	    cmd_poweroff },
	{ "acpi", "acpi", "the ACPI tables and their checks", 0, 0, cmd_acpi },
	{ "cpus", "cpus", "the CPUs the ACPI MADT lists", 0, 0, cmd_cpus },
	{ "modes", "modes", "the display's modes, the current one marked",
	    0, 0, cmd_modes },
	{ "mode", "mode WIDTHxHEIGHT", "switch the display's mode", 1, 1,
	    cmd_mode },
	{ "screenshot", "screenshot PATH", "the screen as a PNG file", 1, 1,
	    cmd_screenshot },
	{ "swaptest", "swaptest N [MODULE]",
	    "swap the display N times under printing; blackouts, losses",
	    1, 2, cmd_swaptest },
	{ "disks", "disks", "the disks: size, driver, model, identity path",
	    0, 0, cmd_disks },
	{ "blkread", "blkread DISK [MIB] [-q N] [-s KIB] [-n]",
	    "read a disk's first MiBs: MiB/s and their CRC-32 (-n: none)", 1, 7,
	    cmd_blkread },
	{ "blkswaptest", "blkswaptest DISK N [MODULE]",
	    "swap a disk's provider N times under reads; losses, blackouts",
	    2, 3, cmd_blkswaptest },
	{ "hexdump", "hexdump PATH", "a file in hex and text, like hexdump -C",
	    1, 1, cmd_hexdump },
	{ "sha256sum", "sha256sum PATH", "a file's SHA-256", 1, 1,
	    cmd_sha256sum },
	{ "fsread", "fsread PATH",
	    "read a file in 1 MiB requests: bytes and MiB/s", 1, 1,
	    cmd_fsread },
	{ "cp", "cp SRC DST", "copy a file (DST may be a directory)", 2, 2,
	    cmd_cp },
	{ "mv", "mv SRC DST", "move or rename (DST may be a directory)", 2, 2,
	    cmd_mv },
	{ "rm", "rm PATH...", "remove files", 1, MANY, cmd_rm },
	{ "mkdir", "mkdir PATH...", "make directories", 1, MANY, cmd_mkdir },
	{ "rmdir", "rmdir PATH...", "remove empty directories", 1, MANY,
	    cmd_rmdir },
	{ "write", "write PATH TEXT...",
	    "TEXT and a newline as the whole file", 2, MANY, cmd_write },
	{ "mounts", "mounts",
	    "the volumes: mount point, resource, type, label, mode, path",
	    0, 0, cmd_mounts },
	{ "df", "df", "each volume's size, used and free space", 0, 0,
	    cmd_df },
	{ "sync", "sync", "write every volume's cached data to its disk",
	    0, 0, cmd_sync },
	{ "cd", "cd [PATH]", "change the current directory (/ by default)",
	    0, 1, cmd_cd },
	{ "pwd", "pwd", "print the current directory", 0, 0, cmd_pwd },
	{ "usb", "usb", "USB controllers and devices with their drivers, "
	    "like lsusb -t", 0, 0, cmd_usb },
	{ "faultinject", "faultinject [again] MODULE MOMENT TYPE [PARAM] | "
	    "pick SEED INDEX MODULE... | status | hub crash",
	    "inject a fault into a module (see cmd_faultinject.c)", 1, MANY,
	    cmd_faultinject },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
find(const char *name)
{
	for (unsigned i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
commands_run(char *line)
{
	char *argv[MAX_WORDS];
	const struct command *c;
	int argc = words_split(line, argv, MAX_WORDS);

	if (argc < 0)
		return fail("a double quote is not closed");
	if (argc == 0)
		return PB_OK;
	if (!(c = find(argv[0])))
		return fail("unknown command: %s (try help)", argv[0]);
	if (argc - 1 < c->min || argc - 1 > c->max)
		return fail("%s: usage: %s", c->name, c->usage);
	return c->run(argc, argv);
}

/* time COMMAND...: the command as typed, then how long it took. */
static int
cmd_timed(int argc, char **argv)
{
	const struct command *c = find(argv[1]);

	if (!c || c->run == cmd_timed)
		return fail("time: unknown command: %s", argv[1]);
	if (argc - 2 < c->min || argc - 2 > c->max)
		return fail("%s: usage: %s", c->name, c->usage);
	session_time_begin();
	return c->run(argc - 1, argv + 1);
}

int
cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 2) {
		if (!(c = find(argv[1])))
			return fail("help: no command %s", argv[1]);
		say("usage: %s", c->usage);
		say("  %s", c->about);
		return PB_OK;
	}
	for (unsigned i = 0; i < NCOMMANDS; i++)
		say("  %-32s %s", commands[i].usage, commands[i].about);
	return PB_OK;
}
