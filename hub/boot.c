/*
 * boot.c - the boot policy: from the handoff to the target.
 */
#include "hub.h"
#include "cfg.h"
#include "../abi/rt/rt.h"

void arch_after_exit(void);
void arch_poweroff(void);

void
hub_main(struct handoff *h)
{
	char buf[64];

	if (cfg_get(h->cmdline, "takeover", buf, sizeof(buf)) &&
	    strcmp(buf, "no") == 0) {
		log_event(LOG_BOOT, "takeover=no: staying in the firmware phase");
	} else {
		if (h->exit_boot_services(h) != PB_OK) {
			log_event(LOG_ERROR, "hub: ExitBootServices failed");
			for (;;)
				;
		}
		arch_after_exit();
		log_event(LOG_BOOT, "boot services exited; %u map entries",
		    (unsigned)(h->memmap_size / h->desc_size));
	}
	if (cfg_get(h->cmdline, "poweroff", buf, sizeof(buf))) {
		log_event(LOG_BOOT, "powering off");
		arch_poweroff();
	}
	for (;;)
		__asm__ volatile("hlt");
}
