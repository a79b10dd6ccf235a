"""USB mass storage on the real image (mods/usb-storage) on the `usbonly`
machine (tools/qemuconf.py: the boot disk is a usb-storage stick on
qemu-xhci, no SATA, no PS/2): the firmware's disk (efi-block's block:efi0)
handed to usb-storage at the takeover by its path (hub/park.c), its files
read through gpt and fat; a second stick plugged in and pulled out with
the monitor; usb-storage updated under streaming reads.

These need the whole USB stack: xhci (the controller) and usb (the bus
driver, which publishes one `usb` resource per interface with dev=), built
on other branches.  Without them the disk goes at the takeover and these
tests fail waiting for block:usb0."""

import hashlib
import os
import re
import zlib

from pbtest import Machine, PROMPT, ROOT, workdir
from images import custom_image
from test_disks import disk_rows, human, no_errors, seen
from test_files import cmd, data_disk

BOOT_TIMEOUT = 180
IMAGE = os.path.join(ROOT, 'build', 'patchbay.img')
MODS = os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods')
# The takeover: the firmware's disk by its path, to block:usbN.
CLAIM = (r'takeover: block:efi0 \(path=(\S+/lun:0)\) -> (block:usb\d+) '
         r'\(usb-storage\), (\d+) requests? handed over')


def usb_booted(image=IMAGE, extra=None, snapshot=True):
    """A usbonly machine at the prompt whose boot disk usb-storage took
    over, with /esp mounted: (machine, the disk's path, its resource)."""
    m = Machine('usbonly', image=image, timeout=900, extra=extra,
                snapshot=snapshot)
    m.start()
    try:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        claim = seen(m, CLAIM, 120)
        if 'mounted at /esp\n' not in m.serial_text():
            m.expect(r'mounted at /esp$', 60)
    except BaseException:
        m.close()
        raise
    return m, claim.group(1), claim.group(2)


def sha256_of(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_boot_stick_taken_over():
    """At the takeover the firmware's disk goes to usb-storage by its path
    (dev= of the stick's usb resource, then /lun:0), with its clients:
    disks lists it, /esp lists and hashes as the host's files."""
    m, path, res = usb_booted()
    try:
        assert res == 'block:usb0', res
        size = os.path.getsize(IMAGE)
        text = m.serial_text()
        assert re.search(r'usb-storage: block:usb0: QEMU QEMU HARDDISK '
                         r'\S+, \S+ \S+ \(%d x 512\), path=%s$' % (
                             size // 512, re.escape(path)), text, re.M), text
        assert 'efi-block unloaded; ledger empty' in text, text
        rows = disk_rows(cmd(m, 'disks'))
        assert rows['block:usb0'] == [human(size), '0', 'usb-storage',
                                      'QEMU_QEMU_HARDDISK', path], rows
        assert 'block:efi0' not in rows, rows
        mounts = [l.split() for l in cmd(m, 'mounts').split('\n')[1:]]
        esp = [r for r in mounts if r[0] == '/esp']
        assert esp and esp[0][5] == path + '/part:1', mounts
        listed = cmd(m, 'ls /esp/patchbay/mods').split('\n')
        assert listed == sorted(os.listdir(MODS), key=lambda s: s.encode())
        for name in ('shell.mod', 'usb-storage.mod'):
            out = cmd(m, 'sha256sum /esp/patchbay/mods/' + name, 120)
            assert out.split()[0] == sha256_of(os.path.join(MODS, name)), \
                out
        # Below the ESP (which fat marks in use): the image's bytes.
        with open(IMAGE, 'rb') as f:
            want = '%08x' % zlib.crc32(f.read(1 << 20))
        out = cmd(m, 'blkread usb0 1 -q 4', 120)
        assert 'crc32 %s,' % want in out, out
        no_errors(m.serial_text())
        m.sendline('poweroff')
        assert m.wait_exit(120) == 0
    finally:
        m.close()


def test_second_stick_comes_and_goes():
    """A stick plugged in with the monitor is block:usb1 with its
    partition, its volume mounted at its label and read; pulled out, it
    goes with its partition and volume, one line, no error."""
    big = bytes((i * 11 + (i >> 9)) & 0xff for i in range(300 << 10))
    disk, _ = data_disk(os.path.join(workdir(), 'stick2.img'),
                        {'notes.txt': b'on the second stick\n',
                         'big.bin': big})
    m, path, _ = usb_booted()
    try:
        m.monitor('drive_add 0 if=none,id=stick2,format=raw,file=%s' % disk)
        m.monitor('device_add usb-storage,bus=xhci.0,drive=stick2,id=stick2')
        added = seen(m, r'(?m)usb-storage: block:usb1: QEMU QEMU HARDDISK \S+, '
                        r'17 MiB \(34816 x 512\), path=(\S+/lun:0)$', 120)
        path2 = added.group(1)
        assert path2 != path, (path, path2)
        seen(m, r'(?m)mounted at /DATA$', 60)
        out = cmd(m, 'disks')
        rows = disk_rows(out)
        assert rows['block:usb1'][1:] == ['0', 'usb-storage',
                                          'QEMU_QEMU_HARDDISK', path2], rows
        assert re.search(r'^block:usb1\.p1 .* %s/part:1$' % re.escape(path2),
                         out, re.M), out
        assert cmd(m, 'cat /DATA/notes.txt') == 'on the second stick'
        out = cmd(m, 'sha256sum /DATA/big.bin', 120)
        assert out.split()[0] == hashlib.sha256(big).hexdigest(), out
        m.monitor('device_del stick2')
        seen(m, r'usb-storage: usb1: the stick went', 60)
        out = cmd(m, 'disks')
        assert 'block:usb1' not in out, out
        assert 'block:usb0' in out, out
        assert '/DATA' not in cmd(m, 'mounts')
        # The boot stick serves on.
        out = cmd(m, 'sha256sum /esp/patchbay/mods/shell.mod', 120)
        assert out.split()[0] == sha256_of(os.path.join(MODS, 'shell.mod'))
        no_errors(m.serial_text())
    finally:
        m.close()


def test_update_under_streaming_reads():
    """blkswaptest: usb-storage replaced by fresh copies of itself 10
    times under reads 4 at a time (every read once, right); then updated
    from the very stick it drives."""
    img = custom_image('usbstor-update', ['target=os'])
    m, _, _ = usb_booted(img)
    try:
        out = cmd(m, 'blkswaptest usb0 10', 600)
        assert re.search(r'^blkswaptest: block:usb0, 4096 KiB, \d+ reads '
                         r'checked, 0 failed, usb-storage <-> usb-storage$',
                         out, re.M), out
        assert re.search(r'^blkswaptest: 10 swaps, 0 lost, 0 duplicated, 0 '
                         r'corrupt, blackout median \d+ us worst \d+ us$',
                         out, re.M), out
        # Each new side took the stick over without a command first.
        seen(m, r'(?s)(?:usb-storage: took over 1 stick and \d+ requests?'
                r'\n.*){10}', 60)
        since = len(m.serial_text())
        cmd(m, 'update usb-storage /esp/patchbay/mods/usb-storage.mod', 180)
        log = m.serial_text()[since:]
        assert re.search(r'usb-storage -> usb-storage\b.*blackout \d+ us',
                         log), log
        rows = disk_rows(cmd(m, 'disks'))
        assert rows['block:usb0'][2] == 'usb-storage', rows
        out = cmd(m, 'sha256sum /esp/patchbay/mods/fbcon.mod', 120)
        assert out.split()[0] == sha256_of(os.path.join(MODS, 'fbcon.mod'))
        no_errors(m.serial_text())
    finally:
        m.close()


def test_update_rolled_back_by_a_fault_in_its_watch_window():
    """`update usb-storage`, and the new instance faults at its first work,
    inside its watch window, under a file read: the hub gives the disks
    back to the instance it replaced and connects it to the boot stick
    again (it had handed the stick over at the rebind).  That one takes
    the stick back (a reset recovery first: the new one may have left a
    command half way) with its disks as they were: the read the new one
    held is issued again, and every file reads right after."""
    img = custom_image('usbstor-rollback', ['target=os'])
    m, _, disk = usb_booted(img)
    try:
        cmd(m, 'update usb-storage /esp/patchbay/mods/usb-storage.mod', 180)
        cmd(m, 'faultinject usb-storage work null', 30)
        for name in ('ahci', 'xhci', 'fbcon'):
            out = cmd(m, 'sha256sum /esp/patchbay/mods/%s.mod' % name, 120)
            assert out.split()[0] == \
                sha256_of(os.path.join(MODS, name + '.mod')), out
        log = m.serial_text()
        assert 'usb-storage faulted in its watch window: back to ' \
               'usb-storage' in log, m.tail()
        assert re.search(r'usb-storage: recovered in \d+ us \(vector 14 at '
                         r'0x0\), by its swap\'s rollback', log), m.tail()
        rows = disk_rows(cmd(m, 'disks'))
        assert rows[disk][2] == 'usb-storage', rows
        assert not re.search(r'timed out|out 500 ms|stopped answering|'
                             r'went during', log), m.tail()
        faults = re.findall(r'(\S+) faulted: vector', log)
        assert faults == ['usb-storage'], faults
    finally:
        m.close()
