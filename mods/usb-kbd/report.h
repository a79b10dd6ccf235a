/*
 * report.h - the boot keyboard's input report (HID 1.11, Appendix B.1):
 * the modifier byte, a reserved byte, and the usages of up to six keys
 * held down, in no particular order.  A report says what is down now;
 * what was pressed and released since is the difference from the one
 * before.  When more keys are down than the array holds, the keyboard
 * reports the phantom state: every slot ErrorRollOver (Appendix C),
 * which says nothing about which keys are down and is ignored.
 * Pure logic, tested on the host (tests/host/mod_usb_kbd.c).
 */
#ifndef USBKBD_REPORT_H
#define USBKBD_REPORT_H

#include <stdint.h>

#define HID_BOOT_KEYS	6

struct hid_boot_report {
	uint8_t mods;			/* HID_MOD_* (hidmap.h) */
	uint8_t reserved;
	uint8_t keys[HID_BOOT_KEYS];	/* usages; 0: an empty slot */
} __attribute__((packed));
_Static_assert(sizeof(struct hid_boot_report) == 8, "boot report layout");

/* What changed between two reports, in the order the events go out:
 * the keys released, then the modifiers, then the keys pressed. */
struct report_diff {
	uint8_t up[HID_BOOT_KEYS], down[HID_BOOT_KEYS];
	unsigned nup, ndown;
	uint8_t mods_down, mods_up;	/* modifier bits that changed */
};

/* 1 when the report is the phantom state (an ErrorRollOver slot). */
int report_phantom(const struct hid_boot_report *r);
/* The difference from `was` to `now`; error usages (1-3) and repeated
 * usages count once or not at all. */
void report_diff(const struct hid_boot_report *was,
    const struct hid_boot_report *now, struct report_diff *d);

#endif
