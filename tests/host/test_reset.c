/*
 * test_reset.c - how a reboot resets the machine (hub/reset.c): the
 * register acpi publishes on acpi:tables, parsed and refused; the order of
 * the firmware's ResetSystem, the FADT's reset register, the 8042's pulse
 * and a triple fault, by default and with reboot=acpi; a poweroff that
 * comes back tries none of them.  Each step after a hub_shutdown.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fakemod.h"
#include "fake_arch.h"
#include "../../hub/handoff.h"
#include "../../abi/firmware.h"

static char fw_calls[64];

static void
fw_reset(void *ctx, int kind)
{
	size_t n = strlen(fw_calls);

	(void)ctx;
	snprintf(fw_calls + n, sizeof(fw_calls) - n, "%sfw:%d", n ? " " : "",
	    kind);
	n = strlen(fake_resets);
	snprintf(fake_resets + n, sizeof(fake_resets) - n, "%sfw", n ? " " :
	    "");
}

static const struct firmware_ops fw = { .reset = fw_reset };
static struct handoff ho = { .fw = &fw };

/* acpi publishes its tables with `props`; a reset of `kind` asked. */
static void
reset_with(const char *props, const char *cmdline, int kind)
{
	struct fm *acpi;

	fm_setup();
	acpi = fm_add("acpi", 0);
	fm_provide(acpi, "acpi", 1, 0);
	fm_publish(acpi, "acpi", "tables", props);
	REQUIRE(fm_start(acpi) == PB_OK);
	fw_calls[0] = fake_resets[0] = '\0';
	rt_strlcpy(ho.cmdline, cmdline, sizeof(ho.cmdline));
	hub_reset(&ho, NULL, kind);
	CHECK_EQ_INT(acpi->m->state, MOD_LOADED);	/* shut down first */
}

TEST(reset_register_parsed_from_its_property)
{
	struct reset_reg r;

	CHECK(reset_reg_parse("io:0xcf9:0x0f", &r));
	CHECK(r.space == RESET_IO && r.addr == 0xcf9 && r.value == 0x0f);
	CHECK(reset_reg_parse("pci:0x1f0003004d:0x06", &r));
	CHECK(r.space == RESET_PCI && r.addr == 0x1f0003004dull);
	CHECK(reset_reg_parse("mem:0xfed00000:0x01", &r));
	CHECK_EQ_INT(r.space, RESET_MEM);
	CHECK(!reset_reg_parse("io:0x10000:0x0f", &r));	/* no such port */
	CHECK(!reset_reg_parse("io:0xcf9:0x100", &r));	/* a byte */
	CHECK(!reset_reg_parse("io:0:0x0f", &r));
	CHECK(!reset_reg_parse("io:cf9:0x0f", &r));
	CHECK(!reset_reg_parse("io:0xcf9", &r));
	CHECK(!reset_reg_parse("io:0xcf9:0x0fz", &r));
	CHECK(!reset_reg_parse("smbus:0x10:0x01", &r));
	CHECK(!reset_reg_parse("", &r));
}

/* By default the firmware's ResetSystem; when it comes back, the
 * register, then the 8042, each said in the log first. */
TEST(reset_firmware_first_then_register_then_8042)
{
	reset_with("tables=9 bad=0 reset=io:0xcf9:0x0f", "", FIRMWARE_RESET_COLD);
	CHECK_STR(fake_resets, "fw reg:io:0xcf9=0x0f 8042 triple");
	CHECK(fm_log_has("reset: the firmware's ResetSystem returned"));
	CHECK(fm_log_has("reset: the FADT's reset register, io 0xcf9 = 0x0f"));
	CHECK(fm_log_has("reset: no reset 100 ms after the register's write"));
	CHECK(fm_log_has("reset: the 8042's reset pulse"));
	CHECK(fm_log_has("reset: no reset from the 8042: a triple fault"));
	fm_teardown();
}

/* reboot=acpi: the register first, then the firmware's, then the 8042. */
TEST(reset_reboot_acpi_tries_the_register_first)
{
	reset_with("tables=9 reset=pci:0x1f0003004d:0x06", "reboot=acpi\n",
	    FIRMWARE_RESET_WARM);
	CHECK_STR(fake_resets, "reg:pci:0x1f0003004d=0x06 fw 8042 triple");
	CHECK_STR(fw_calls, "fw:1");
	fm_teardown();
}

/* No register published, or one in memory (not mapped any more): the
 * firmware's and the 8042's; a poweroff: the firmware's alone. */
TEST(reset_without_a_register_and_poweroff)
{
	reset_with("tables=9 bad=0", "reboot=acpi\n", FIRMWARE_RESET_COLD);
	CHECK_STR(fake_resets, "fw 8042 triple");
	fm_teardown();
	fake_reset_write_err = PB_ENOTSUP;
	reset_with("tables=9 reset=mem:0xfee0:0x06", "", FIRMWARE_RESET_COLD);
	CHECK_STR(fake_resets, "fw reg:mem:0xfee0=0x06 8042 triple");
	CHECK(fm_log_has("reset: the register in mem space cannot be "
	    "written here"));
	fake_reset_write_err = 0;
	fm_teardown();
	reset_with("tables=9 reset=io:0xcf9:0x0f", "reboot=acpi\n",
	    FIRMWARE_RESET_SHUTDOWN);
	CHECK_STR(fake_resets, "fw");
	CHECK_STR(fw_calls, "fw:2");
	fm_teardown();
}
