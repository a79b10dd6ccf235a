/*
 * i8042.c - the 8042 controller at the register level (see i8042.h).
 *
 * Every wait polls the status register against a deadline from the hub's
 * clock and gives up naming the bit it waited for: a controller that
 * stopped answering (or a board that emulates one badly in SMM) must
 * never hang the boot.
 *
 * Try it: tools/qemu-run (q35 has an i8042 with a keyboard on port 1);
 * tools/qemu-run --extra '-machine q35,i8042=off' has none at all.
 */
#include "ps2.h"
#include "../../abi/portio.h"
#include "i8042.h"

static const char why_ibf[] = "status 0x64 bit 1 (input buffer full) "
    "did not clear";
static const char why_obf[] = "status 0x64 bit 0 (output buffer full) "
    "was not set";

int
i8042_status(void)
{
	return inb(I8042_STATUS);
}

/* Wait until the controller takes a byte (IBF clear). */
static int
wait_ibf_clear(const char **why)
{
	uint64_t deadline = ps2.hub->now_ns() + I8042_WRITE_NS;

	do {
		if (!(inb(I8042_STATUS) & ST_IBF))
			return PB_OK;
	} while (ps2.hub->now_ns() < deadline);
	*why = why_ibf;
	return PB_ETIMEDOUT;
}

int
i8042_write_cmd(uint8_t cmd, const char **why)
{
	if (wait_ibf_clear(why) != PB_OK)
		return PB_ETIMEDOUT;
	outb(I8042_CMD, cmd);
	return PB_OK;
}

int
i8042_write_data(uint8_t v, const char **why)
{
	if (wait_ibf_clear(why) != PB_OK)
		return PB_ETIMEDOUT;
	outb(I8042_DATA, v);
	return PB_OK;
}

int
i8042_read(uint64_t ns, uint8_t *v, const char **why)
{
	uint64_t deadline = ps2.hub->now_ns() + ns;

	do {
		if (inb(I8042_STATUS) & ST_OBF) {
			*v = inb(I8042_DATA);
			return PB_OK;
		}
	} while (ps2.hub->now_ns() < deadline);
	*why = why_obf;
	return PB_ETIMEDOUT;
}

int
i8042_query(uint8_t cmd, uint64_t ns, uint8_t *v, const char **why)
{
	if (i8042_write_cmd(cmd, why) != PB_OK)
		return PB_ETIMEDOUT;
	return i8042_read(ns, v, why);
}

/* Command 0x60 takes the next data byte as the configuration byte. */
int
i8042_write_cfg(uint8_t cfg, const char **why)
{
	if (i8042_write_cmd(CMD_WRITE_CFG, why) != PB_OK)
		return PB_ETIMEDOUT;
	return i8042_write_data(cfg, why);
}

unsigned
i8042_flush(void)
{
	unsigned n = 0;

	while (n < I8042_FLUSH_MAX && (inb(I8042_STATUS) & ST_OBF)) {
		(void)inb(I8042_DATA);
		n++;
	}
	return n;
}

static char ctl_why[96];

static int
answered(const char *what, uint8_t v, const char **why)
{
	rt_snprintf(ctl_why, sizeof(ctl_why), "%s answered 0x%02x", what, v);
	*why = ctl_why;
	return PB_EIO;
}

/* Steps 6 and 8: the controller's self-test, then port 1's lines.  Some
 * controllers come out of the self-test reset: the configuration byte
 * is written again. */
static int
self_tests(uint8_t cfg, const char **why)
{
	uint8_t v;

	if (i8042_query(CMD_SELF_TEST, I8042_TEST_NS, &v, why) != PB_OK)
		return PB_ETIMEDOUT;
	if (v != SELF_TEST_OK)
		return answered("self-test (0xaa)", v, why);
	if (i8042_write_cfg(cfg, why) != PB_OK)
		return PB_ETIMEDOUT;
	if (i8042_query(CMD_PORT1_TEST, I8042_READ_NS, &v, why) != PB_OK)
		return PB_ETIMEDOUT;
	if (v != PORT_TEST_OK)
		return answered("port 1 test (0xab)", v, why);
	return PB_OK;
}

/*
 * Bring the controller up, wiki.osdev.org "8042 PS/2 Controller",
 * "Initialising the PS/2 Controller", steps 3-9 (step 1, the USB legacy
 * handoff, belongs to the USB host driver; step 2, the FADT, to ps2.c).
 * The self-tests (6, 8) only when asked: the 8042 that many laptops'
 * embedded controllers emulate fails them, or comes out of them wedged,
 * while it passes keys along well; Linux skips them on x86 too (its
 * i8042.reset is off there by default).  A real 8042 the firmware
 * already tested needs no second test.
 * Port 2 (the mouse) stays off: nothing here drives it.  The keyboard's
 * interrupt stays off too: ps2.c turns it on last, once IRQ 1 is routed.
 * Returns the configuration byte as written, port 1 on.
 */
int
i8042_init(int selftest, uint8_t *cfgp, unsigned *dropped, const char **why)
{
	uint8_t cfg;
	int r;

	/* 3: both ports off, so no device adds to the buffer meanwhile. */
	if (i8042_write_cmd(CMD_PORT1_OFF, why) != PB_OK ||
	    i8042_write_cmd(CMD_PORT2_OFF, why) != PB_OK)
		return PB_ETIMEDOUT;
	/* 4: what the firmware left, or a key pressed since. */
	*dropped = i8042_flush();
	/* 5: no interrupts while we poll; translation on (see kbd.c). */
	if (i8042_query(CMD_READ_CFG, I8042_READ_NS, &cfg, why) != PB_OK)
		return PB_ETIMEDOUT;
	cfg = (uint8_t)((cfg & ~(CFG_IRQ1 | CFG_IRQ12)) | CFG_XLATE |
	    CFG_CLK2_OFF);
	if (i8042_write_cfg(cfg, why) != PB_OK)
		return PB_ETIMEDOUT;
	if (selftest && (r = self_tests(cfg, why)) != PB_OK)
		return r;
	/* 9: port 1 on (0xae clears the configuration's clock-off bit). */
	if (i8042_write_cmd(CMD_PORT1_ON, why) != PB_OK)
		return PB_ETIMEDOUT;
	*cfgp = (uint8_t)(cfg & ~CFG_CLK1_OFF);
	return PB_OK;
}
