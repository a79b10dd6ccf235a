/*
 * boot.c - the boot policy: from the handoff to the target, and then the
 * event loop.
 *
 *  1. firmware phase: the pool the stub set aside feeds the allocator; the
 *     hub publishes `firmware` and the boot ramdisk, reads every module's
 *     descriptor and resolves the target (`os` unless boot.cfg says
 *     otherwise).  Hardware drivers are loaded but not started.
 *  2. takeover: each firmware-backed provider with clients is swapped for
 *     the best native one (steps 1-3 now, 4-6 after the exit), boot
 *     services are exited, and `firmware` is withdrawn like any resource.
 *     A disk's clients are held instead, until its native driver
 *     appears after the exit (park.c).
 *  3. native: the CPU and page tables become the hub's, the rest of memory
 *     joins the allocator, deferred modules start, exec= commands run, gc.
 */
#include "hub.h"
#include "cfg.h"
#include "swap.h"
#include "match.h"
#include "../abi/acpi.h"
#include "../abi/framebuffer.h"
#include "../abi/modsrc.h"
#include "../abi/rt/rt.h"

void arch_after_exit(void);
void arch_poweroff(void);
void arch_cpu_init_firmware(void);
void arch_cpu_init_native(void);
int arch_paging_init(const struct handoff *h);
int arch_paging_early(const struct handoff *h);

static struct handoff *handoff;
static struct pb_resource *firmware_res;

#define MAX_TAKEOVER 8

static void
add_memory(const struct handoff *h, uint32_t type)
{
	for (uint64_t off = 0; off < h->memmap_size; off += h->desc_size) {
		const struct handoff_memdesc *d = (const void *)
		    ((const uint8_t *)h->memmap + off);

		if (d->type == type)
			mem_add_range(d->phys, d->npages * 4096);
	}
}

/* A file by path, through the firmware while it is there. */
int
hub_read_path(const char *path, const void **data, size_t *len, char *err,
    size_t cap)
{
	void *buf;
	int r;

	if (hub_native || !handoff->fw->read_file) {
		rt_strlcpy(err, "no module source reads paths since the "
		    "firmware left", cap);
		return PB_ENOENT;
	}
	r = handoff->fw->read_file(handoff->fw_ctx, path, &buf, len);
	if (r != PB_OK) {
		rt_snprintf(err, cap, "cannot read it (%d)", r);
		return r;
	}
	*data = buf;
	return PB_OK;
}

/* The GOP framebuffer, in the ABI's terms, for a display driver. */
static struct fb_info fb;

_Static_assert(sizeof(struct fb_info) == sizeof(struct handoff_fb),
    "fb_info mirrors handoff_fb");

static void
publish_framebuffer(const struct handoff *h)
{
	if (!h->fb_props[0])
		return;
	memcpy(&fb, &h->fb, sizeof(fb));
	screen_init(&fb);
	res_publish_own(FRAMEBUFFER_IFACE, 1, "gop0", h->fb_props, &fb, NULL);
}

/* The ACPI RSDP the stub found, for the module that parses the tables. */
static struct acpi_rsdp rsdp;

static void
publish_rsdp(const struct handoff *h)
{
	if (!h->rsdp_props[0])
		return;
	rsdp = (struct acpi_rsdp){ .phys = h->rsdp, .revision = h->acpi_rev };
	res_publish_own(RSDP_IFACE, 1, "uefi", h->rsdp_props, &rsdp, NULL);
}

/* boot.cfg's one-word settings and the boot partition's identity, as
 * properties of `config:boot`, for modules with settings of their own
 * (the stub wrote them: efi/props.c). */
static void
publish_config(const struct handoff *h)
{
	_Static_assert(sizeof(h->config_props) <= RES_PROPS_MAX, "props");
	res_publish_own("config", 1, "boot", h->config_props, h->config_props,
	    NULL);
}

static int
requires_firmware(const struct pb_module *m)
{
	return mod_requires(m, FIRMWARE_IFACE);
}

/* The best native provider of iface to take over from firmware-backed f. */
static struct pb_module *
native_for(const struct pb_module *f, const char *iface)
{
	struct pb_module *best = NULL;

	for (unsigned i = 0; i < nmodules; i++) {
		struct pb_module *n = &modules[i];

		if (n == f || requires_firmware(n) ||
		    (n->state != MOD_KNOWN && n->state != MOD_LOADED) ||
		    (n->desc.nbinds && !hub_bind_match(n)))
			continue;	/* a driver without its device too */
		for (unsigned p = 0; p < n->desc.nprovides; p++)
			if (strcmp(n->desc.provides[p].iface, iface) == 0 &&
			    (!best || n->desc.rank > best->desc.rank))
				best = n;
	}
	return best;
}

/*
 * Plan the swaps that take f's clients over: each interface of f's with
 * clients goes to its best native provider, and interfaces going to the
 * same provider share one swap (`ifaces` lists them).
 */
static unsigned
plan_takeover(struct pb_module *f, struct swap *sw, char (*ifaces)[64],
    unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_RESOURCES; i++) {
		struct pb_resource *r = &resources[i];
		struct pb_module *to;
		unsigned k;

		if (!r->used || r->owner != f || r->standby || !res_clients(r) ||
		    !(to = native_for(f, r->iface.iface)))
			continue;
		for (k = 0; k < n && sw[k].new != to; k++)
			;
		if (k == n) {
			if (n == max)
				break;
			sw[n] = (struct swap){ .old = f, .new = to,
			    .iface = ifaces[n] };
			ifaces[n][0] = '\0';
			n++;
		}
		if (!list_has(ifaces[k], r->iface.iface)) {
			size_t len = strlen(ifaces[k]);
			rt_snprintf(ifaces[k] + len, 64 - len, "%s%s",
			    len ? " " : "", r->iface.iface);
		}
	}
	return n;
}

static int exited_cleanly;

/* The CPU is the hub's; the firmware's page tables stay in use (they map
 * all of memory) until go_paged, after the takeover's swaps.  Interrupts
 * go off first, with our GDT and IDT, before anything else runs: after
 * ExitBootServices gates 32-255 still lead to the firmware's handlers, in
 * memory that is no longer the firmware's (UEFI 2.10 §7.4.6), and IF is
 * as the firmware left it (EDK2 clears it; nothing promises that). */
static void
go_native(struct handoff *h, int exited)
{
	arch_cpu_init_native();
	arch_after_exit();
	hub_native = 1;
	exited_cleanly = exited;
	add_memory(h, EFI_MT_CONVENTIONAL);
}

/* The functions the stub stopped mastering the bus (efi/dmaoff.c). */
static void
tell_dma_off(const struct handoff *h)
{
	char list[HANDOFF_DMA_OFF_MAX * 12 + 1];
	size_t n = 0;
	unsigned stopped = 0;

	list[0] = '\0';
	for (uint32_t i = 0; i < h->dma_off_count &&
	    i < HANDOFF_DMA_OFF_MAX; i++) {
		const struct handoff_pci_loc *l = &h->dma_off[i];

		if (!l->stopped) {
			log_event(LOG_ERROR, "takeover: %02x:%02x.%x still "
			    "masters the bus after the firmware was told to "
			    "stop it", l->bus, l->dev, l->fn);
			continue;
		}
		n += rt_snprintf(list + n, sizeof(list) - n, " %02x:%02x.%x",
		    l->bus, l->dev, l->fn);
		stopped++;
	}
	if (stopped)
		log_event(LOG_BOOT, "takeover: bus mastering off on the "
		    "storage and network function%s the firmware left "
		    "mastering:%s", stopped == 1 ? "" : "s", list);
}

static void
go_paged(struct handoff *h)
{
	/* Before the firmware's memory is ours, and after the takeover's
	 * blackouts (under TCG, QEMU rebuilds its memory map at each bus
	 * mastering change: most of a millisecond).  No native driver has a
	 * PCI function yet: pci starts after the takeover, never in standby
	 * before it. */
	h->quiet_dma(h);
	tell_dma_off(h);
	/* Images mapped before this are re-mapped W^X by the arch side. */
	h->build_boot_map(h);
	if (arch_paging_init(h) != PB_OK)
		log_event(LOG_ERROR, "hub: own page tables failed; "
		    "staying on the firmware's");
	/* The firmware's page tables and data are ours now too, unless it
	 * never let go of them. */
	if (exited_cleanly) {
		add_memory(h, EFI_MT_BS_CODE);
		add_memory(h, EFI_MT_BS_DATA);
	}
}

/*
 * End boot services.  When the stub could not even read the memory map,
 * nothing was called and the firmware phase goes on (PB_ENOMEM).  Once an
 * ExitBootServices call has failed, the firmware may have stopped its
 * drivers in part and only memory services may be called (UEFI 2.10
 * §7.4.6): there is no firmware phase to stay in, so the takeover goes on
 * natively, leaving the firmware's boot-services memory alone (its timer
 * and DMA may still be running there), and says so.
 */
static int
exit_firmware(struct handoff *h)
{
	char buf[16];
	int err;

	if (cfg_get(h->cmdline, "efi-exit-fail", buf, sizeof(buf)))
		h->exit_fail_test = (uint32_t)rt_strtou(buf, NULL, 10);
	h->dma_off_keep = cfg_get(h->cmdline, "firmware-dma", buf,
	    sizeof(buf)) && strcmp(buf, "keep") == 0;
	err = h->exit_boot_services(h);
	if (err == PB_ENOMEM) {
		log_event(LOG_ERROR, "hub: cannot read the memory map for "
		    "ExitBootServices; staying in the firmware phase");
		return err;
	}
	go_native(h, err == PB_OK);
	chart_mark("takeover");
	if (err != PB_OK)
		log_event(LOG_ERROR, "hub: ExitBootServices failed after %u "
		    "tries (%s); going native without the firmware's "
		    "boot-services memory", h->exit_tries,
		    err == PB_ETIMEDOUT ? "the map key kept changing" :
		    "refused");
	else if (h->exit_tries > 1)
		log_event(LOG_BOOT, "boot services exited (%u map entries, "
		    "after %u tries: the map changed)",
		    (unsigned)(h->memmap_size / h->desc_size), h->exit_tries);
	else
		log_event(LOG_BOOT, "boot services exited (%u map entries)",
		    (unsigned)(h->memmap_size / h->desc_size));
	return PB_OK;
}

/*
 * A native provider that takes over at the exit may itself need a provider
 * that is not running yet (fbcon needs gop-fb's display): start that one in
 * standby now, visible to it, and activate it right after the exit.
 */
static unsigned
standby_providers(const struct pb_module *n, struct pb_module **early,
    unsigned nearly, unsigned max, int depth)
{
	for (unsigned i = 0; i < n->desc.nrequires && depth < 4; i++) {
		const struct pb_require *q = &n->desc.requires[i];
		struct pb_module *d;

		if (q->when != PB_AT_START || q->card != PB_CARD_ONE ||
		    res_best(q->iface, q->major, q->minor, n) ||
		    !(d = native_for(n, q->iface)) || nearly == max)
			continue;
		nearly = standby_providers(d, early, nearly, max, depth + 1);
		if ((d->state != MOD_LOADED && mod_load(d) != PB_OK) ||
		    res_connect_requirements(d, 1) != PB_OK ||
		    mod_start(d, PB_START_STANDBY) != PB_OK) {
			log_event(LOG_ERROR, "takeover: %s cannot stand by for %s",
			    d->name, n->name);
			continue;
		}
		for (unsigned k = 0; k < MAX_RESOURCES; k++)
			if (resources[k].used && resources[k].owner == d)
				resources[k].standby = 0;
		early[nearly++] = d;
	}
	return nearly;
}

static void
activate_early(struct pb_module **early, unsigned nearly)
{
	for (unsigned i = 0; i < nearly; i++) {
		if (mod_activate(early[i]) != PB_OK) {
			log_event(LOG_ERROR, "takeover: %s cannot take the "
			    "hardware", early[i]->name);
			continue;
		}
		res_offer_module(early[i]);
	}
}

/* Bus enumerators and platform services start though nothing asks:
 * at boot, and the hardware ones (pci) right after the takeover. */
static void
start_autostart(void)
{
	char err[160];

	for (unsigned i = 0; i < nmodules; i++)
		if ((modules[i].desc.flags & PB_MOD_AUTOSTART) &&
		    modules[i].state == MOD_KNOWN && (hub_native ||
		    !(modules[i].desc.flags & PB_MOD_HARDWARE)))
			hub_start_module(&modules[i], err, sizeof(err));
}

/*
 * Would the takeover leave the user with no keyboard, or a dark screen
 * (stay.c)?  Then it does not happen, and the firmware's console says why
 * (an error line, shown there at once).
 */
static int
stays_for_the_user(struct handoff *h, const struct swap *sw, unsigned nsw)
{
	char why[160], mode[16];
	int screen = h->fb.format == HANDOFF_PIX_NONE ? 0 :
	    h->fb.format == HANDOFF_PIX_BLT_ONLY ? 2 : 1;

	if ((cfg_get(h->cmdline, "takeover", mode, sizeof(mode)) &&
	    strcmp(mode, "force") == 0) ||
	    !takeover_leaves_nothing(screen, sw, nsw, why, sizeof(why)))
		return 0;
	log_event(LOG_ERROR, "takeover: %s; staying in the firmware phase "
	    "(takeover=force in boot.cfg overrides)", why);
	return 1;
}

/*
 * The takeover's swaps, prepared: every native provider started in
 * standby (with the providers it needs before the exit) before any old
 * one quiesces, so that no blackout holds a load or a start.
 */
static unsigned
prepare_takeover(struct swap *sw, struct pb_module **early, unsigned *nearly)
{
	static char ifaces[MAX_TAKEOVER][64];
	struct swap plan[MAX_TAKEOVER];
	unsigned nsw = 0, nnames = 0;
	char err[160];

	for (unsigned i = 0; i < nmodules && nnames < MAX_TAKEOVER; i++) {
		struct pb_module *f = &modules[i];
		unsigned planned;

		if (f->state != MOD_RUNNING || !requires_firmware(f))
			continue;
		park_module(f);	/* its disks wait for their native drivers */
		planned = plan_takeover(f, plan, ifaces + nnames,
		    MAX_TAKEOVER - nnames);
		nnames += planned;
		for (unsigned k = 0; k < planned; k++) {
			/* After the exit, the keys the stub read from ConIn
			 * last go with the state (efi/firmware.c). */
			plan[k].export_again = 1;
			*nearly = standby_providers(plan[k].new, early, *nearly,
			    MAX_TAKEOVER, 0);
			if (swap_prepare(&plan[k], err, sizeof(err)) == PB_OK)
				sw[nsw++] = plan[k];
			else
				log_event(LOG_ERROR, "takeover %s -> %s: %s",
				    f->name, plan[k].new->name, err);
		}
	}
	return nsw;
}

/* Steps 2-3 of each prepared swap: the old providers quiesce (efi-console
 * first lets the firmware's terminal settle, serving meanwhile) and hand
 * their state over.  The swaps that began stay in sw. */
static unsigned
begin_takeover(struct swap *sw, unsigned nsw)
{
	unsigned n = 0;
	char err[160];

	for (unsigned i = 0; i < nsw; i++) {
		if (swap_begin(&sw[i], err, sizeof(err)) == PB_OK)
			sw[n++] = sw[i];
		else
			log_event(LOG_ERROR, "takeover %s -> %s: %s",
			    sw[i].old->name, sw[i].new->name, err);
	}
	return n;
}

/* Steps 4-6: the firmware is gone, so an old provider cannot resume.
 * Every swap's blackout ends before any swap settles: the keyboard's
 * clients need not wait for the console's to hear of fbcon. */
static void
finish_takeover(struct swap *sw, unsigned nsw)
{
	char err[160];
	unsigned n = 0;

	for (unsigned i = 0; i < nsw; i++) {
		if (swap_serve(&sw[i], err, sizeof(err)) == PB_OK)
			sw[n++] = sw[i];
		else
			log_event(LOG_ERROR, "takeover %s -> %s: %s",
			    sw[i].old->name, sw[i].new->name, err);
	}
	/* No watch window: there is no firmware to go back to. */
	for (unsigned i = 0; i < n; i++) {
		swap_settle(&sw[i]);
		sw[i].new->swapped_from = NULL;
	}
}

/*
 * The takeover.  Boot services end; `firmware` is withdrawn; what used it
 * is swapped for native providers or stopped.  Runtime services remain as
 * `firmware-rt`.  The blackouts hold only the quiesce, the exports, the
 * exit and the new providers' import and activate: the loads and standby
 * starts come before, the hub's page tables after.
 */
static void
takeover(struct handoff *h)
{
	struct swap sw[MAX_TAKEOVER];
	struct pb_module *early[MAX_TAKEOVER];
	unsigned nsw, began, nearly = 0;
	int stay;
	char err[160];

	log_set_direct(LOG_DIRECT_ERRORS);	/* efi-console settles meanwhile */
	nsw = prepare_takeover(sw, early, &nearly);
	/* Asked before the first quiesce, so that no blackout holds it; again
	 * only if a swap could not begin. */
	if (!(stay = stays_for_the_user(h, sw, nsw))) {
		began = begin_takeover(sw, nsw);
		kbd_keep_prepare();	/* the keys, if no native keyboard
					 * takes them */
		stay = began != nsw && stays_for_the_user(h, sw, began);
		nsw = began;
	}
	if (stay || exit_firmware(h) != PB_OK) {
		for (unsigned i = 0; i < nsw; i++)
			swap_abort(&sw[i]);
		park_abort();
		kbd_keep_abort();
		log_set_direct(LOG_DIRECT);
		return;
	}
	finish_takeover(sw, nsw);
	park_start_clock();	/* the disks' clients wait for their drivers */
	/* The lines held since the takeover began go to the reader now:
	 * the hub's screen writer would have drawn them in the blackouts. */
	log_set_direct(0);
	activate_early(early, nearly);
	/* The firmware keyboard, if keys wait.  Before go_paged turns the
	 * domains on: told the firmware went, it reads the keys the stub
	 * kept from ConIn, and the stub's code writes the stub's memory. */
	kbd_keep(firmware_res);
	go_paged(h);
	res_withdraw(firmware_res);
	firmware_res = NULL;
	for (unsigned i = 0; i < nmodules; i++)
		if (requires_firmware(&modules[i]) && modules[i].base &&
		    !kbd_kept(&modules[i]))
			mod_unload(&modules[i]);
	hub_start_deferred();
	start_autostart();
	/* What only native providers could serve is resolved now. */
	hub_resolve_and_start(hub_target, 1, 0, err, sizeof(err));
}

/* exec= output goes to the log: its reader shows it on every console. */
static void
print_line(void *arg, const char *line)
{
	(void)arg;
	log_event(LOG_OUTPUT, "%s", line);
}

static void
run_exec_lines(const char *cfg)
{
	char cmd[160];

	for (unsigned i = 0; cfg_get_nth(cfg, "exec", i, cmd, sizeof(cmd)); i++) {
		log_event(LOG_INFO, "exec: %s", cmd);
		hub_control(NULL, cmd, print_line, NULL);
		while (work_run_one())
			;
	}
}

static void
drain_work(void)
{
	while (work_run_one())
		;
}

/*
 * One turn of the event loop.  Work items run with interrupts held; the
 * loop opens a window between two items so a busy queue cannot starve
 * the devices, and sleeps until the next interrupt when there is nothing
 * to do: the timer provider's alarm wakes it for the next timer.  Without
 * an alarm (the firmware phase, or no timer module) a pending timer is
 * polled.
 */
void
hub_loop_once(void)
{
	uint64_t held, next;

	timers_run(hub_now_ns());
	if (work_run_one()) {
		arch_irq_window();
		return;
	}
	held = arch_irq_hold();
	next = timers_next();
	if (hub_arm_alarm(next) || next == ~0ull)
		arch_idle();
	else
		__asm__ volatile("pause");
	arch_irq_release(held);
}

static void
poweroff_now(void *arg)
{
	(void)arg;
	hub_shutdown();
	log_event(LOG_BOOT, "powering off");
	log_take_back();	/* no reader runs again: the hub writes it */
	arch_poweroff();
}

/* firmware-rt's reset: what a poweroff or reboot from the shell calls. */
static struct firmware_ops rt_ops;

static void
reset_cleanly(void *ctx, int kind)
{
	hub_reset(handoff, ctx, kind);
}

/* boot.cfg's durations in milliseconds, each into its hub variable. */
static const struct ms_setting {
	const char *name;
	uint64_t *ns;
} ms_settings[] = {
	{ "watch", &swap_watch_ns },
	/* how long a swap waits for its provider to drain */
	{ "swap-drain", &swap_drain_ns },
	/* how long a work item may run; 0 turns the watchdog off */
	{ "watchdog", &hub_watchdog_ns },
	/* a module's third fault within it leaves it stopped (recover.c) */
	{ "fault-window", &fault_window_ns },
	/* how long a parked disk waits for its native driver */
	{ "disk-wait", &park_wait_ns },
	/* how long the firmware keyboard stays after the exit with the keys
	 * typed before it, when no native keyboard took them */
	{ "kbd-wait", &kbd_hold_wait_ns },
};

static void
read_ms_settings(const char *cfg)
{
	char buf[24];

	for (unsigned i = 0; i < sizeof(ms_settings) / sizeof(ms_settings[0]);
	    i++)
		if (cfg_get(cfg, ms_settings[i].name, buf, sizeof(buf)))
			*ms_settings[i].ns = rt_strtou(buf, NULL, 10) *
			    1000000ull;
}

void
hub_main(struct handoff *h)
{
	struct pb_resource *rt;
	char buf[64], err[160];

	handoff = h;
	log_set_direct(LOG_DIRECT);
	mem_add_range(h->pool_base, h->pool_size);
	arch_cpu_init_firmware();
	arch_paging_early(h);
	if (cfg_get(h->cmdline, "target", buf, sizeof(buf)) && buf[0])
		rt_strlcpy(hub_target, buf, sizeof(hub_target));
	read_ms_settings(h->cmdline);
	firmware_res = res_publish_own(FIRMWARE_IFACE, FIRMWARE_MAJOR, "uefi",
	    "services=console,files,time,reset,disks", h->fw, h->fw_ctx);
	/* Runtime services outlive the takeover: their own resource, the
	 * stub's firmware_ops at its minor version, except that a reset
	 * first lets the file systems write back and mark their volumes
	 * clean (hub_shutdown). */
	rt_ops = *h->fw;
	rt_ops.reset = reset_cleanly;
	rt = res_publish_own("firmware-rt", 1, "uefi", "services=time,reset",
	    &rt_ops, h->fw_ctx);
	if (firmware_res && rt)
		firmware_res->iface.minor = rt->iface.minor = FIRMWARE_MINOR;
	publish_framebuffer(h);
	res_publish_own(LOG_IFACE, LOG_MAJOR, "hub", "", &log_ops, NULL);
	publish_rsdp(h);
	publish_config(h);
	ramdisk_publish(h);
	start_autostart();
	hub_resolve_and_start(hub_target, 1, 0, err, sizeof(err));
	drain_work();

	if (cfg_get(h->cmdline, "takeover", buf, sizeof(buf)) &&
	    strcmp(buf, "no") == 0)
		log_event(LOG_BOOT, "takeover=no: staying in the firmware phase");
	else
		takeover(h);
	drain_work();
	/* takeover=no: the shell's reader shows every line from here on, so
	 * exec= output keeps its place among the lines held until now. */
	log_set_direct(0);
	park_check();	/* disks whose controller no driver took go now */
	run_exec_lines(h->cmdline);
	if (!cfg_get(h->cmdline, "gc", buf, sizeof(buf)) || strcmp(buf, "no"))
		hub_gc(hub_target, NULL, NULL);
	log_event(LOG_BOOT, "boot done");
	chart_mark("boot-done");
	scrub_start();
	/* poweroff, or poweroff=MS to let the event loop run that long. */
	if (cfg_get(h->cmdline, "poweroff", buf, sizeof(buf))) {
		uint64_t ms = rt_strtou(buf, NULL, 10);
		if (!ms || timer_add(NULL, ms * 1000000ull, poweroff_now,
		    NULL) < 0)
			poweroff_now(NULL);
	}
	for (;;)
		hub_loop_once();
}
