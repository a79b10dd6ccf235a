/*
 * reset.c - how a reboot resets the machine.  First the firmware's
 * ResetSystem (UEFI 2.10 §8.5.1); when that comes back, the FADT's reset
 * register (ACPI 6.5 §4.8.3.6), which the acpi module publishes on
 * acpi:tables as reset=SPACE:ADDRESS:VALUE; then the 8042's reset pulse;
 * last, a triple fault, which resets every PC (Linux's last resort too).
 * boot.cfg `reboot=acpi` tries the register first, as Linux does on a PC
 * (arch/x86/kernel/reboot.c), for firmware whose ResetSystem hangs once
 * boot services are gone.
 *
 * All of it runs after hub_shutdown (lifecycle.c): every module stopped,
 * no device left armed (a watchdog NMI taken in the firmware's real-mode
 * reset code hung a reset once), and the log the hub's own, written to
 * the screen and COM1 line by line, so each step is said before it is
 * taken.  The register is read before the shutdown, while acpi runs.
 */
#include "hub.h"
#include "cfg.h"
#include "handoff.h"
#include "../abi/firmware.h"
#include "../abi/rt/rt.h"

static const char *const space_names[] = {
	[RESET_MEM] = "mem", [RESET_IO] = "io", [RESET_PCI] = "pci",
};

/* "io:0xcf9:0x0f" into r; 0 when it is not that. */
int
reset_reg_parse(const char *s, struct reset_reg *r)
{
	uint64_t addr, value;
	const char *p;
	unsigned space;

	for (space = 0; space < RESET_SPACES; space++) {
		size_t n = strlen(space_names[space]);

		if (strncmp(s, space_names[space], n) == 0 && s[n] == ':')
			break;
	}
	if (space == RESET_SPACES)
		return 0;
	p = strchr(s, ':') + 1;
	if (strncmp(p, "0x", 2) != 0)
		return 0;
	addr = rt_strtou(p, &p, 0);
	if (*p != ':' || strncmp(p + 1, "0x", 2) != 0)
		return 0;
	value = rt_strtou(p + 1, &p, 0);
	if (*p || !addr || value > 0xff || (space == RESET_IO &&
	    addr > 0xffff))
		return 0;
	*r = (struct reset_reg){ .space = space, .addr = addr,
	    .value = (uint8_t)value };
	return 1;
}

/* The register acpi published, if any. */
static int
reset_reg_find(struct reset_reg *r)
{
	const struct pb_resource *res = res_find("acpi:tables");
	char v[48];

	return res && rt_prop_get(res->props, "reset", v, sizeof(v)) &&
	    reset_reg_parse(v, r);
}

/* Write the register and give the reset RESET_WAIT_NS to come. */
static void
by_register(const struct reset_reg *r)
{
	uint64_t t0;

	log_event(LOG_BOOT, "reset: the FADT's reset register, %s 0x%llx = "
	    "0x%02x", space_names[r->space], (unsigned long long)r->addr,
	    r->value);
	if (arch_reset_write(r) != PB_OK) {
		log_event(LOG_ERROR, "reset: the register in %s space cannot "
		    "be written here", space_names[r->space]);
		return;
	}
	for (t0 = hub_now_ns(); hub_now_ns() - t0 < RESET_WAIT_NS;)
		arch_pause();
	log_event(LOG_ERROR, "reset: no reset %llu ms after the register's "
	    "write", (unsigned long long)(RESET_WAIT_NS / 1000000));
}

void
hub_reset(const struct handoff *h, void *fw_ctx, int kind)
{
	struct reset_reg r;
	char how[8];
	int reboot = kind != FIRMWARE_RESET_SHUTDOWN;
	int reg = reboot && reset_reg_find(&r);
	int reg_first = reg && cfg_get(h->cmdline, "reboot", how,
	    sizeof(how)) && strcmp(how, "acpi") == 0;

	hub_shutdown();
	log_take_back();
	if (reg_first)
		by_register(&r);
	h->fw->reset(fw_ctx, kind);
	if (!reboot)
		return;
	log_event(LOG_ERROR, "reset: the firmware's ResetSystem returned");
	if (reg && !reg_first)
		by_register(&r);
	log_event(LOG_BOOT, "reset: the 8042's reset pulse");
	arch_reset_8042();
	log_event(LOG_ERROR, "reset: no reset from the 8042: a triple fault");
	arch_reset_triple();
}
