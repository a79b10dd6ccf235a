"""The takeover never leaves the user with nothing: with no keyboard a
driver here could serve after the firmware, or a screen no console here
could draw on (a blt-only GOP), the system stays in the firmware phase,
says why on the firmware's console, and works there; a framebuffer from
ramfb is taken over as any other."""

import re

from pbtest import Machine, PROMPT, esp_delete
from images import custom_image

BOOT = 150


def stays(m, why):
    m.expect(r'error: takeover: %s[^;\n]*; staying in the firmware phase '
             r'\(takeover=force in boot.cfg overrides\)' % why, BOOT)
    m.expect(r'^' + re.escape(PROMPT), 60)
    text = m.serial_text()
    assert 'boot services exited' not in text, text
    # The shell works on the firmware's console and keyboard.
    states = dict(re.findall(r'^(\S+)\s+\S+\s+(\S+)', m.cmd('mods', 30),
                             re.M))
    assert states.get('efi-console') == 'running', states
    assert m.cmd('echo still here', 30) == 'still here'


def test_no_keyboard_driver_stays_with_the_firmware():
    """A laptop shape (no PS/2, USB keyboard) whose image has no USB
    keyboard driver and no serial driver: ps2 finds no 8042 in standby,
    nothing else would read a key after the exit."""
    img = custom_image('stay-nokbd', ['target=os'])
    esp_delete(img, '/patchbay/mods/usb-kbd.mod')
    esp_delete(img, '/patchbay/mods/serial.mod')
    with Machine('usbonly', image=img, timeout=240) as m:
        stays(m, r'no keyboard driver here would serve after the firmware')


def test_blt_only_gop_stays_with_the_firmware():
    """virtio-gpu's GOP draws by Blt only: no framebuffer for fbcon, so the
    screen would go dark at the takeover."""
    img = custom_image('stay-blt', ['target=os'])
    with Machine('nodisplay', image=img, timeout=240,
                 extra='-device virtio-gpu-pci') as m:
        stays(m, r'no console here would draw on the screen after the '
                 r'firmware \(its GOP has no framebuffer\)')


def test_takeover_force_overrides():
    img = custom_image('stay-force', ['target=os', 'takeover=force'])
    with Machine('nodisplay', image=img, timeout=240,
                 extra='-device virtio-gpu-pci') as m:
        m.expect(r'boot services exited', BOOT)
        m.expect(r'^' + re.escape(PROMPT), 60)
        assert 'staying in the firmware phase' not in m.serial_text()


def test_ramfb_boots_to_fbcon():
    """ramfb's GOP has a framebuffer in RAM: gop-fb and fbcon take it."""
    img = custom_image('ramfb', ['target=os'])
    with Machine('nodisplay', image=img, timeout=240,
                 extra='-device ramfb') as m:
        m.expect(r'efi-console -> fbcon for console: blackout', BOOT)
        m.expect(r'^' + re.escape(PROMPT), 60)
        out = m.cmd('res', 30)
        assert re.search(r'console:fb0 .*\(1 client\)', out), out
        assert re.search(r'display:gop0', out), out
