/*
 * entry.c - hub_entry: where the stub hands over.
 *
 * Order: log to the firmware console; read the settings; publish the
 * firmware; resolve and load the boot modules; exit boot services (the
 * firmware's withdrawal); take the CPU (GDT, IDT, page tables); start the
 * native world; run the event loop.
 */
#include "arch.h"
#include "watch.h"
#include "../hub.h"
#include "../cfg.h"
#include "../../abi/rt/rt.h"

void uart_write(const char *s, size_t len);
int uart_init(void);

static struct handoff *handoff;
static uint64_t tsc_hz;

uint64_t
arch_cycles(void)
{
	return rdtsc();
}

uint64_t
arch_now_ns(void)
{
	uint64_t t = rdtsc() - handoff->tsc_start;

	/* Split to avoid overflow: seconds, then the remainder. */
	return t / tsc_hz * 1000000000ull + t % tsc_hz * 1000000000ull / tsc_hz;
}

/* Before ExitBootServices: the firmware console (which OVMF copies to
 * the serial port as well) while no reader shows the log. */
static void
sink_firmware(const char *s, size_t len, int direct)
{
	if (direct)
		handoff->fw->con_write(handoff->fw_ctx, s, len);
}

/* After it: COM1 while no reader shows the log, and the screen while no
 * module draws there. */
static void
sink_native(const char *s, size_t len, int direct)
{
	if (direct)
		uart_write(s, len);
	screen_log(s, len);
}

static const char *
pixfmt_name(uint32_t f)
{
	static const char *const names[] = { "rgbx", "bgrx", "bitmask",
	    "blt-only", "none" };

	return f <= HANDOFF_PIX_NONE ? names[f] : "?";
}

static void
banner(struct handoff *h)
{
	uint64_t ram = 0;

	for (uint64_t off = 0; off < h->memmap_size; off += h->desc_size) {
		const struct handoff_memdesc *d = (const void *)
		    ((const uint8_t *)h->memmap + off);
		if (d->type == EFI_MT_CONVENTIONAL || d->type == EFI_MT_BS_CODE ||
		    d->type == EFI_MT_BS_DATA || d->type == EFI_MT_LOADER_CODE ||
		    d->type == EFI_MT_LOADER_DATA)
			ram += d->npages * 4096;
	}
	log_event(LOG_BOOT, "Patchbay hub %s", HUB_VERSION);
	chart_mark("hub");
	log_event(LOG_BOOT, "memory: %u MiB usable, %u map entries",
	    (unsigned)(ram >> 20), (unsigned)(h->memmap_size / h->desc_size));
	log_event(LOG_BOOT, "display: %ux%u stride %u %s at 0x%llx",
	    h->fb.width, h->fb.height, h->fb.stride, pixfmt_name(h->fb.format),
	    (unsigned long long)h->fb.base);
	log_event(LOG_BOOT, "acpi: rsdp 0x%llx (revision %u)",
	    (unsigned long long)h->rsdp, h->acpi_rev);
	log_event(LOG_BOOT, "boot device: %s (%s)", h->boot_device,
	    h->boot_path);
	log_event(LOG_BOOT, "tsc: %llu MHz; %u module files",
	    (unsigned long long)(h->tsc_hz / 1000000), h->nfiles);
}

/* The stub's lines, on the firmware console already, into the log. */
static void
stub_lines(const struct handoff *h)
{
	char line[LOG_TEXT_MAX];
	const char *p = h->stub_text, *nl;

	while (p && *p && (nl = strchr(p, '\n'))) {
		size_t n = (size_t)(nl - p) < sizeof(line) ? (size_t)(nl - p) :
		    sizeof(line) - 1;

		memcpy(line, p, n);
		line[n] = '\0';
		log_shown(LOG_BOOT, line);
		p = nl + 1;
	}
}

/* The hub's whole image, code and data: a fault there during a module's
 * call was the hub running a service for it. */
int
arch_hub_code(uint64_t addr)
{
	return handoff && addr >= handoff->hub_base &&
	    addr - handoff->hub_base < handoff->hub_size;
}

static uint64_t
end_if_in(uint64_t addr, uint64_t base, uint64_t size)
{
	return addr >= base && addr - base < size ? base + size : 0;
}

/*
 * Beside the ledger, modules hand services pointers into three places:
 * the hub's image (names it gave them); the stack module code runs on
 * (their locals, above the guard page); the files the stub read (a boot
 * module's data).  Once the stack is split (stacks.c), only its module
 * half counts: no module hands a service a pointer into the hub's frames.
 */
uint64_t
arch_ram_known(uint64_t addr)
{
	uint64_t end, stack_end, guard = hub_stack_guard ? 4096 : 0;

	if (!handoff)
		return 0;
	stack_end = hub_stack_top_guard ? hub_stack_top_guard :
	    handoff->stack_base + handoff->stack_size;
	if ((end = end_if_in(addr, handoff->hub_base, handoff->hub_size)) ||
	    (end = end_if_in(addr, handoff->stack_base + guard,
	    stack_end - handoff->stack_base - guard)))
		return end;
	for (uint32_t i = 0; i < handoff->nfiles; i++)
		if ((end = end_if_in(addr,
		    (uint64_t)(uintptr_t)handoff->files[i].data,
		    handoff->files[i].size)))
			return end;
	return 0;
}

void hub_main(struct handoff *h);

void
hub_entry(struct handoff *h)
{
	handoff = h;
	guard_depth_set(0);	/* its checks, before the first guarded call */
	tsc_hz = h->tsc_hz ? h->tsc_hz : 1000000000ull;
	log_set_clock(hub_now_ns);
	log_set_sink(sink_firmware);
	stub_lines(h);
	banner(h);
	fw_watch_start(h);
	hub_main(h);
}

/* Called by the boot once the firmware is withdrawn. */
void
arch_after_exit(void)
{
	uart_init();
	log_set_sink(sink_native);
	nmi_watch_start();
}

void
arch_poweroff(void)
{
	handoff->fw->reset(handoff->fw_ctx, FIRMWARE_RESET_SHUTDOWN);
}
