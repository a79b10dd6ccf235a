"""The skeleton's contract: the image boots under OVMF as a SATA disk and as
a USB stick, shows the handoff banner, powers off when asked, and says
clearly what is wrong when the hub or a module cannot be read."""

import os
import re

from pbtest import Machine, esp_delete, esp_mkdir, workdir
from images import custom_image

BANNER = [r'Patchbay hub \d', r'memory: \d+ MiB usable', r'display: \d+x\d+',
          r'acpi: rsdp 0x[0-9a-f]+ \(revision 2\)', r'boot device: \S+',
          r'tsc: \d+ MHz']


def boot_and_poweroff(config):
    img = custom_image('poweroff', ['target=os', 'poweroff'])
    with Machine(config, image=img, timeout=150) as m:
        m.expect(r'Patchbay stub: loading the hub', 90)
        for line in BANNER:
            m.expect(line, 30)
        m.expect(r'boot services exited', 30)
        m.expect(r'powering off', 30)
        assert m.wait_exit(30) == 0
        return m.serial_text()


def test_default_sata():
    text = boot_and_poweroff('default')
    assert 'Sata(' in text, 'boot device is not the SATA disk'
    # Module code runs from loader-code pages even where the firmware maps
    # loader data no-execute (OVMF here has no memory attribute protocol).
    for what in ('hub image', 'module pool'):
        assert re.search(r'stub: %s: loader code pages' % what, text), what


def test_usb_stick():
    text = boot_and_poweroff('usb')
    assert 'USB(' in text, 'boot device is not the USB stick'


def test_missing_hub():
    img = custom_image('nohub', ['poweroff'])
    esp_delete(img, '/patchbay/hub.pe')
    with Machine('default', image=img, timeout=120) as m:
        m.expect(r'error: stub: cannot read \\patchbay\\hub\.pe: not found', 90)
        m.expect(r'returning to the firmware', 10)


def test_bad_module_files():
    """An unreadable entry and a garbage file: one clear line each, and the
    boot goes on to the end."""
    junk = os.path.join(workdir(), 'junk.mod')
    with open(junk, 'wb') as f:
        f.write(b'MZ this is not a module' * 10)
    img = custom_image('badmods', ['poweroff'],
                       files=[(junk, '/patchbay/mods/junk.mod')])
    esp_mkdir(img, '/patchbay/mods/dir.mod')
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'powering off', 120)
        assert m.wait_exit(30) == 0
        text = m.serial_text()
    for line in [r'error: stub: cannot read \\patchbay\\mods\\dir\.mod: '
                 r'access denied',
                 r'error: \\patchbay\\mods\\dir\.mod: refused: unreadable',
                 r'error: \\patchbay\\mods\\junk\.mod: refused: \S']:
        assert re.search(line, text), line


def test_exit_boot_services_retried():
    """A stale map key (an event allocated memory after GetMemoryMap) is
    retried: the boot ends normally and says how many tries it took."""
    img = custom_image('exitretry', ['efi-exit-fail=3'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'boot services exited \(\d+ map entries, after 4 tries',
                 90)
        m.expect(r'takeover: block:efi0 .*-> block:sata0 \(ahci\)', 60)
        out = m.cmd('disks')
        assert re.search(r'block:sata0 .*ahci', out), out


def test_exit_boot_services_never_succeeds():
    """ExitBootServices failing every time leaves no firmware to stay with
    (it may have shut down in part): the takeover goes on natively, says so
    in one error line, and the system works."""
    img = custom_image('exitfail', ['efi-exit-fail=1000'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'error: hub: ExitBootServices failed after 64 tries '
                 r'\(the map key kept changing\); going native', 90)
        m.expect(r'takeover: block:efi0 .*-> block:sata0 \(ahci\)', 60)
        out = m.cmd('disks')
        assert re.search(r'block:sata0 .*ahci', out), out
        out = m.cmd('ls /esp/patchbay')
        assert 'boot.cfg' in out, out
