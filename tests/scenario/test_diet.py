"""The boot map the stub builds at the exit (efi/pagetables.c) from the
final memory map: on a machine with RAM above 4 GiB it reaches that RAM,
with table pages the stub set aside before the exit, and the hub boots to
its prompt on it."""

import re

from pbtest import Machine


def test_diet_boot_map_covers_ram_above_4gib():
    with Machine('default', timeout=180, extra=['-m', '5G']) as m:
        m.expect(r'^patchbay> ', 150)
        text = m.serial_text()
        found = re.search(r'paging: identity map to 0x([0-9a-f]+), \d+ '
                          r'regions, (\d+)\+\d+ tables', text)
        assert found, text
        # 5 GiB of RAM on q35: 2 GiB below the PCI hole, 3 GiB above 4 GiB.
        assert int(found.group(1), 16) >= 7 << 30, found.group(0)
        assert int(found.group(2)) > 0
        assert 'the stub built no boot map' not in text
        assert 'memory map too long' not in text
        assert 'error: paging' not in text
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
