"""Streams under swaps (tests/mods/tfsread): a file read over and over
through one open `fs` handle stays right while the disk driver is
updated from the very disk it reads (`update ahci PATH`) and while the
file system provider itself is swapped under the handle (`update fat
fat.mod`), and while the updated driver faults in its watch window and
the disk goes back to the instance it replaced; and a disk whose primary GPT header is damaged is read from
its backup (mods/gpt)."""

import os
import re
import subprocess
import time

from pbtest import Machine, PROMPT, ROOT, workdir
from images import custom_image
from test_files import booted, cmd
from test_modfiles import native

BIG = 4 << 20           # bytes of the streamed file: 64 reads a pass
PASSES = 100
PAUSE_MS = 5            # between passes: reads are in flight most of the time
FNV_OFFSET = 0xcbf29ce484222325
FNV_PRIME = 0x100000001b3


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xffffffffffffffff
    return h


def logged(m, pattern, timeout):
    """The first match of pattern anywhere in COM1's output, waiting up to
    timeout seconds for it (m.expect() would not look before the output
    cmd() skipped)."""
    rx = re.compile(pattern, re.M)
    deadline = time.monotonic() + timeout
    while True:
        found = rx.search(m.serial_text())
        if found:
            return found
        if not m.running() or time.monotonic() > deadline:
            m.fail('no /%s/ within %ds' % (pattern, timeout))
        time.sleep(0.2)


# An error the shell answered, or one the hub logged.
ERROR = re.compile(r'^(?:\[[ \d.]+\] )?error: ', re.M)
PASS_LINE = re.compile(r'tfsread: pass (\d+) of big\.bin: (\d+) bytes, '
                       r'fnv1a64 ([0-9a-f]{16}), via (\S+)')


def stream_image(name, size, passes, pause_ms):
    """An image whose boot.cfg has tfsread stream /big.bin, `size` random
    bytes, `passes` times: (image, the file's bytes, their FNV-1a 64)."""
    big = os.path.join(workdir(), 'big.bin')
    data = os.urandom(size)
    with open(big, 'wb') as f:
        f.write(data)
    img = custom_image(name, ['target=os', 'tfsread=big.bin',
                              'tfsread-passes=%d' % passes,
                              'tfsread-pause=%d' % pause_ms],
                       mods=['tfsread'], files=[(big, '/big.bin')])
    return img, data, '%016x' % fnv1a64(data)


def test_stream_across_ahci_and_fat_updates():
    img, data, want = stream_image('streams', BIG, PASSES, PAUSE_MS)
    m = booted(img)
    try:
        native(m)
        cmd(m, 'update ahci /esp/patchbay/mods/ahci.mod', 180)
        cmd(m, 'update ahci /esp/patchbay/mods/ahci.mod', 180)
        cmd(m, 'update fat fat.mod', 180)
        swapped = len(m.serial_text())
        done = logged(m, r'tfsread: done, (\d+) passes, (\d+) mismatched',
                      900)
        log = m.serial_text()
        assert (int(done.group(1)), int(done.group(2))) == (PASSES, 0), \
            done.group(0)
        passes = PASS_LINE.findall(log)
        assert [int(p[0]) for p in passes] == list(range(1, PASSES + 1)), \
            passes
        for num, size, got, via in passes:
            assert (int(size), got) == (BIG, want), (num, size, got, want)
            assert via.startswith('fs:'), via
        # Every swap happened while the file was being streamed: passes
        # ran before the first and after the last.
        ahci = [s.start() for s in re.finditer(
            r'ahci -> ahci\b.*blackout \d+ us', log)]
        fat = [s.start() for s in re.finditer(
            r'fat -> fat\b.*blackout \d+ us', log)]
        assert len(ahci) == 2 and len(fat) == 1, (ahci, fat)
        first = log.index('tfsread: pass 1 ')
        last = log.rindex('tfsread: pass %d ' % PASSES)
        assert first < ahci[0] and fat[0] < swapped < last, \
            'the swaps were not under the stream'
        # The handle's connection followed the fat swap.
        assert re.search(r'tfsread: rebound: now fs:', log), 'no rebound'
        assert not ERROR.search(log), log
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()


def stream_across_a_fault_in_an_updates_watch_window(module, path,
                                                     recovered):
    """`update MODULE PATH` under the stream, and the new instance faults
    at once, inside its watch window; `recovered` is the hub's line for
    it.  The stream reads right to its end: no pass mismatched, no
    request timed out, no module charged but the one injected."""
    passes = 60
    img, data, want = stream_image('streams_window_' + module, BIG, passes,
                                   PAUSE_MS)
    m = booted(img)
    try:
        native(m)
        logged(m, r'tfsread: pass 2 ', 120)
        cmd(m, 'update %s %s' % (module, path), 180)
        swapped = len(m.serial_text())
        cmd(m, 'faultinject %s work null' % module, 30)
        logged(m, recovered, 60)
        done = logged(m, r'tfsread: done, (\d+) passes, (\d+) mismatched',
                      900)
        log = m.serial_text()
        assert (int(done.group(1)), int(done.group(2))) == (passes, 0), \
            done.group(0)
        after = [p for p in PASS_LINE.finditer(log) if p.start() > swapped]
        assert after, 'no pass after the fault'
        for p in PASS_LINE.finditer(log):
            assert (int(p.group(2)), p.group(3)) == (BIG, want), p.group(0)
        assert not re.search(r'timed out|out 500 ms|hung|not answered|'
                             r'no answer', log), log[swapped:]
        faults = re.findall(r'(\S+) faulted: vector', log)
        assert faults == [module], faults
        assert 'hello' in cmd(m, 'echo hello', 30)
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()


def test_stream_across_a_fault_in_an_ahci_updates_watch_window():
    """The hub gives the disk back to the ahci the update replaced, whose
    ports the new one drove meanwhile (its command lists, in memory freed
    with it): the old one takes its ports back."""
    stream_across_a_fault_in_an_updates_watch_window(
        'ahci', '/esp/patchbay/mods/ahci.mod',
        r'ahci: recovered in \d+ us \(vector 14 at 0x0\), by its swap\'s '
        r'rollback')


def test_stream_across_a_fault_in_a_fat_updates_watch_window():
    """fat's state survives a restart (the handles, the blocks not yet
    written): the new instance is restarted with it, not rolled back to
    the old one, which holds none of what was done since the swap and
    no longer has the disk."""
    stream_across_a_fault_in_an_updates_watch_window(
        'fat', 'fat.mod', r'fat: recovered in \d+ us \(vector 14 at '
        r'0x0\), \d+ clients? rebound')


def test_load_after_boot():
    """tfsread loaded by hand from the disk after the boot (not in
    /esp/patchbay/mods, so nothing started it) finds the volumes that
    are there already and reads a module file off the ESP."""
    tfsread = os.path.join(ROOT, 'build', 'test-mods', 'tfsread.mod')
    fbcon = os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods',
                         'fbcon.mod')
    with open(fbcon, 'rb') as f:
        data = f.read()
    img = custom_image('streams-load', ['target=os',
                                        'tfsread=patchbay/mods/fbcon.mod',
                                        'tfsread-passes=3'],
                       files=[(tfsread, '/extra/tfsread.mod')])
    m = booted(img)
    try:
        native(m)
        assert 'tfsread' not in m.serial_text()
        cmd(m, 'load /esp/extra/tfsread.mod', 120)
        done = logged(m, r'tfsread: done, (\d+) passes, (\d+) mismatched',
                      300)
        assert done.group(1, 2) == ('3', '0'), done.group(0)
        log = m.serial_text()
        passes = re.findall(r'tfsread: pass (\d) of patchbay/mods/fbcon\.mod: '
                            r'(\d+) bytes, fnv1a64 ([0-9a-f]{16})', log)
        assert passes == [(str(k), str(len(data)), '%016x' % fnv1a64(data))
                          for k in (1, 2, 3)], passes
        assert not ERROR.search(log), log
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()


DISK_MIB = 16
SECOND_DISK = 'pci:00:1f.2/sata:1'      # q35's AHCI, port 1 (ide.1)
HEADER_CRC = 512 + 16                   # the primary GPT header's CRC-32


def run_sbin(*argv):
    env = dict(os.environ)
    env['PATH'] = env.get('PATH', '') + ':/usr/sbin:/sbin'
    subprocess.run(list(argv), check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_damaged_primary_gpt_read_from_backup():
    """OVMF's partition driver writes a damaged primary GPT back from the
    backup while it boots, so the header is damaged through QEMU's
    monitor once the firmware has handed over to the stub (BdsDxe's
    `loading` line), before gpt reads the disk: in the firmware phase, or
    again when ahci takes the disk over (another medium id)."""
    disk = os.path.join(workdir(), 'backup-gpt.img')
    with open(disk, 'wb') as f:
        f.truncate(DISK_MIB << 20)
    run_sbin('sgdisk', '-n', '1:2048:+4M', '-t', '1:0700', '-c', '1:DATA',
             disk)
    run_sbin('mkfs.fat', '-n', 'DATA', '--offset=2048', disk, '4096')
    extra = ['-drive', 'if=none,id=d2,format=raw,file=%s' % disk,
             '-device', 'ide-hd,drive=d2,bus=ide.1']
    m = Machine('default', timeout=600, extra=extra)
    m.start()
    try:
        m.expect(r'^BdsDxe: loading', 120)
        # The write is done when the monitor answers.  qemu-io prints
        # its "wrote 4/4 bytes" through QEMU's own buffered stdout, which
        # reaches the serial pipe whenever QEMU flushes it (or never):
        # what proves the damage is gpt's line below.
        m.monitor('qemu-io d2 "write -P 0xde %d 4"' % HEADER_CRC)
        m.expect(r'^' + re.escape(PROMPT), 120)
        native(m)
        # ahci's disk is another medium to gpt: it is read again, and
        # the damage seen again (the firmware phase may or may not have
        # read it before the write above).
        note = logged(m, r'gpt: block:sata1: primary GPT damaged \(header '
                      r'CRC dededede, .*\); the backup at LBA (\d+) is good',
                      120)
        assert int(note.group(1)) == (DISK_MIB << 20) // 512 - 1, \
            note.group(0)
        # The partition, as gpt serves it from the backup's table: 4 MiB
        # on q35's AHCI port 1, served by ahci now.
        part = re.compile(r'^block:\S+\.p1\s+(\S+)\s.*\s%s/part:1$'
                          % re.escape(SECOND_DISK), re.M)
        out = cmd(m, 'disks')
        found = part.search(out)
        assert found, out
        assert found.group(1) == '4.0M', found.group(0)
        # Where the backup's table says it starts, mkfs.fat's volume is.
        assert re.search(r'fat: fs:DATA: fat12 on block:\S+\.p1, 4 MiB',
                         m.serial_text()), 'no DATA volume'
        cmd(m, 'ls /DATA')
        assert not ERROR.search(m.serial_text()), m.serial_text()
        m.sendline('poweroff')
        m.wait_exit(60)
    finally:
        m.close()
    with open(disk, 'rb') as f:
        f.seek(HEADER_CRC)
        assert f.read(4) == b'\xde' * 4, 'the damaged header was rewritten'
