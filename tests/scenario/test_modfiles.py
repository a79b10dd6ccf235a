"""Modules from the system's own file system, after the firmware is gone
(mods/shell/cmd_modfile.c, hub/images.c): `load NAME` of a module that is
not in the boot ramdisk finds /esp/patchbay/mods/NAME.mod, `load PATH`
reads any path on a volume, and `update ahci PATH` replaces the disk
driver by the build on the very disk it drives, with the files read
after it still right."""

import hashlib
import os
import re

from pbtest import ROOT
from images import custom_image
from test_files import booted, cmd, one_error

TNULL = os.path.join(ROOT, 'build', 'test-mods', 'tnull.mod')
MODS = os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods')


def native(m):
    """Wait until ahci serves the boot disk: the firmware is long gone."""
    for _ in range(60):
        if re.search(r'^block:sata0 .*ahci', cmd(m, 'disks'), re.M):
            return
    m.fail('ahci never served the boot disk')


def state_of(m, name):
    found = re.search(r'^\s*%s\s+\S+\s+(\w+)' % re.escape(name),
                      cmd(m, 'mods'), re.M)
    return found.group(1) if found else None


def test_load_a_module_only_on_disk():
    img = custom_image('only-on-disk', ['target=os'],
                       files=[(TNULL, '/extra/tnull.mod')])
    m = booted(img)
    try:
        native(m)
        assert state_of(m, 'tnull') is None, cmd(m, 'mods')
        # Not in the ramdisk, not yet in /esp/patchbay/mods.
        one_error(m, 'load tnull',
                  r'error: load /esp/patchbay/mods/tnull\.mod: no such file.*')
        cmd(m, 'cp /esp/extra/tnull.mod /esp/patchbay/mods/tnull.mod')
        cmd(m, 'load tnull')
        assert state_of(m, 'tnull') == 'running', cmd(m, 'mods')
        assert re.search(r'tnull 1\.0 loaded at', m.serial_text())
        cmd(m, 'unload tnull')
        # ls -c counts, and `time` says how long a command took.
        out = cmd(m, 'time ls -c /esp/patchbay/mods')
        want = len(os.listdir(MODS)) + 1      # and tnull.mod, copied
        assert re.fullmatch(r'%d entries\ntime: \d+\.\d{3} ms' % want,
                            out), out
        # A path that is no module, and one that does not exist.
        one_error(m, 'load /esp/patchbay/boot.cfg',
                  r'error: load .*boot\.cfg.*')
        one_error(m, 'load /esp/nosuch.mod',
                  r'error: load /esp/nosuch\.mod: no such file.*')
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()


def test_update_ahci_from_the_disk_it_drives():
    img = custom_image('update-ahci', ['target=os'])
    m = booted(img)
    try:
        native(m)
        want = hashlib.sha256(open(os.path.join(MODS, 'fbcon.mod'),
                                   'rb').read()).hexdigest()
        since = len(m.serial_text())
        cmd(m, 'update ahci /esp/patchbay/mods/ahci.mod', 120)
        log = m.serial_text()[since:]
        swap = re.search(r'ahci -> ahci\b.*blackout (\d+) us', log)
        assert swap, log
        assert re.search(r'^block:sata0 .*ahci', cmd(m, 'disks'), re.M)
        out = cmd(m, 'sha256sum /esp/patchbay/mods/fbcon.mod', 120)
        assert out.split()[0] == want, out
        assert not re.search(r'^error: ', log, re.M), log
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()
