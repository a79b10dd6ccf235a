"""A class driver's device reset (abi/usb.h USB_OP_RESET_DEVICE) on
QEMU's usb-storage behind qemu-xhci (config usb, the stick on
SuperSpeed root port 2; config usbhub, the stick behind QEMU's usb-hub,
whose driver resets the port when the bus asks, USB_OP_HUB_RESET_WAIT).  The test module tusbreset is the stick's
driver (the image has no usb-storage): it leaves the stick waiting to
send an INQUIRY's data, sees its next command stalled, and asks the bus
for a reset.  The bus cancels what the stick had, frees its slot, has
xhci reset the port (usb-hci 1.2 USB_OP_PORT_RESET), and sets the stick
up again under its number; the same INQUIRY then runs whole, which a
stick still waiting to send the old data would not answer."""

import re

from pbtest import Machine, PROMPT, esp_delete
from images import custom_image

BOOT_TIMEOUT = 150


def wedged_stick_reset(config, port_line):
    """Boot config with tusbreset as the stick's driver; the stick is
    wedged, reset, and answers INQUIRY whole; port_line is the log line
    of the port's reset."""
    img = custom_image('usbreset-' + config, ['target=os'],
                       mods=['tusbreset'])
    esp_delete(img, '/patchbay/mods/usb-storage.mod')
    with Machine(config, image=img, timeout=BOOT_TIMEOUT) as m:
        # OVMF may not find the boot option of a stick behind a hub in
        # time and start its shell: the stub is started from there.
        first = m.expect(r'^(?:%s|Shell> )' % re.escape(PROMPT), 120)
        if first.group(0) == 'Shell> ':
            m.sendline(r'fs0:\EFI\BOOT\BOOTX64.EFI')
            m.expect(r'^' + re.escape(PROMPT), 120)
        for line in (r'tusbreset: usb:\S+: bulk in 0x8\d, out 0x0\d$',
                     r'tusbreset: wedged: the second CBW ended -64$',
                     r"usb: [\d.-]+: reset at its driver's request$",
                     port_line,
                     r'tusbreset: reset ended 0, resets 1$',
                     r"tusbreset: after the reset: INQUIRY 'QEMU    QEMU "
                     r"HARDDISK   ' csw status 0$"):
            m.expect_seen(line, 60)
        text = m.serial_text()
        dev = re.search(r"usb: ([\d.-]+): reset at its driver's request",
                        text).group(1)
        assert re.search(r'usb: %s: back after its reset$' % re.escape(dev),
                         text, re.M), m.tail()
        assert 'tusbreset: failed' not in text, m.tail()
        assert 'unplugged' not in text, m.tail()
        usb = m.cmd('usb', 30, check=True)
        assert re.search(r'%s if 0: .* driver=tusbreset$' % re.escape(dev),
                         usb, re.M), usb


def test_device_reset_brings_a_wedged_stick_back():
    """The stick stalls a command while it waits to send data; after the
    bus reset it (xhci resets the root port), it answers INQUIRY whole,
    under the same device, its info counting one reset, nothing
    unplugged."""
    wedged_stick_reset('usb', r"xhci: xhci0: port 2: reset again for its "
                       r"device's driver$")


def test_device_reset_behind_a_hub():
    """The same behind QEMU's usb-hub: the hub's driver resets the port."""
    wedged_stick_reset('usbhub', r"usb-hub: usb:[\d.-]+: port 1: reset for "
                       r"its device's driver$")
