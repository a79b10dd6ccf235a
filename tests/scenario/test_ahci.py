"""The ahci module (mods/ahci) on q35's AHCI controller at 00:1f.2: it binds
by class, probes the ports and publishes one `block` resource per device
with the properties abi/block.h names, sized as QEMU's backing files are;
a second SATA disk (config twodisks) and an ATAPI CD-ROM (config cdrom,
read-only, 2048-byte blocks) are listed too.  The test module tdisk reads
the first and last 64 KiB of every disk through the driver (requests of
four DMA segments) and the test compares its checksums with the files on
the host; on the second disk it also writes, flushes and reads back.
boot.cfg `ahci=no` keeps the module off the controller, `ahci-msi=no`
makes it poll.  blkswaptest swaps it with a second build of itself
(tests/mods/tahci) under streaming reads: nothing lost, duplicated or
corrupt, no HBA reset."""

import os
import re
import time

from pbtest import Machine, workdir
from images import custom_image

BOOT_TIMEOUT = 150
SPAN = 64 << 10

# ahci: port 1: ATA QEMU_HARDDISK, 24576 x 512 bytes (12 MiB), NCQ, ...
PUBLISHED = r'ahci: port %d: .* as block:sata%d'


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def ends(path):
    """(head, tail) checksums of a file as tdisk computes them."""
    with open(path, 'rb') as f:
        head = f.read(SPAN)
        f.seek(-SPAN, os.SEEK_END)
        tail = f.read(SPAN)
    return fnv1a64(head), fnv1a64(tail)


def block_line(res, name):
    """The `res` line of block:name, as a dict of its properties."""
    m = re.search(r'^  block:%s (.*) \(\d+ clients?\)$' % name, res, re.M)
    assert m, 'no block:%s in res:\n%s' % (name, res)
    return dict(kv.split('=', 1) for kv in m.group(1).split())


def image(name, cfg=(), media=None, mods=()):
    """A test image with tdisk loaded; media: {suffix: bytes} beside it."""
    img = custom_image(name, ['target=os', 'exec=load tdisk'] + list(cfg),
                       mods=['tdisk'] + list(mods))
    for suffix, data in (media or {}).items():
        with open(img + '.' + suffix, 'wb') as f:
            f.write(data)
    return img


def pattern(n, seed):
    return bytes((i * 7 + i // 512 + seed) & 0xff for i in range(n))


def seen(m, pattern, timeout=90):
    """Wait until pattern is anywhere in COM1's output (lines of several
    disks come in any order); return the match."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.search(pattern, m.serial_text(), re.M)
        if found:
            return found
        if not m.running():
            break
        time.sleep(0.2)
    m.fail('no /%s/ in %gs' % (pattern, timeout))


def checked(m, img, name, suffix=None):
    """The disk's resource matches its backing file: size, and what tdisk
    read at both ends."""
    path = img + ('.' + suffix if suffix else '')
    size = os.path.getsize(path)
    line = seen(m, r'tdisk: block:%s bs=(\d+) count=(\d+) '
                r'head=([0-9a-f]{16}) tail=([0-9a-f]{16})' % name)
    bs, count, head, tail = line.groups()
    assert int(bs) * int(count) == size, (bs, count, size)
    assert (int(head, 16), int(tail, 16)) == ends(path), \
        'tdisk read other bytes than %s holds' % path
    return size


def test_boot_disk_published_and_read():
    """default: the boot disk on port 0, its size the image's."""
    img = image('ahci-boot')
    with Machine('default', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'ahci: pci:00:1f\.2: AHCI 1\.0, 6 ports')
        seen(m, PUBLISHED % (0, 0))
        size = checked(m, img, 'sata0')
        res = m.cmd('res', 30, check=True)
        p = block_line(res, 'sata0')
        assert p['path'] == 'pci:00:1f.2/sata:0', p
        assert int(p['size']) == size, (p, size)
        assert p['bs'] == '512' and p['ro'] == '0' and p['rm'] == '0', p
        assert p['model'] == 'QEMU_HARDDISK', p
        assert p['serial'].startswith('QM0000'), p
        assert 'block:sata1' not in res, res
        assert 'error: ' not in m.serial_text(), m.tail()


def test_second_disk_read_and_written():
    """twodisks: a second disk of an odd size on port 1, read at both
    ends, then written, flushed and read back through the driver."""
    size = (10 << 20) + 3 * 512
    img = image('ahci-two', ['tdisk-write=sata1'],
                {'disk2': pattern(size, 3)})
    with Machine('twodisks', image=img, timeout=BOOT_TIMEOUT,
                  snapshot=True) as m:
        seen(m, PUBLISHED % (1, 1))
        checked(m, img, 'sata0')
        assert checked(m, img, 'sata1', 'disk2') == size
        seen(m, r'tdisk: block:sata1 wrote 32 blocks, read back equal')
        p = block_line(m.cmd('res', 30, check=True), 'sata1')
        assert p['path'] == 'pci:00:1f.2/sata:1', p
        assert int(p['size']) == size, (p, size)
        assert 'error: ' not in m.serial_text(), m.tail()


def test_atapi_listed_read_only():
    """cdrom: QEMU's ide-cd on port 2, read-only, 2048-byte blocks, its
    size the medium's; tdisk reads it too (READ(10) through PACKET)."""
    size = 700 * 2048
    img = image('ahci-cd', media={'cdrom': pattern(size, 9)})
    with Machine('cdrom', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'ahci: port 2: ATAPI .*read-only.* as block:sata2')
        assert checked(m, img, 'sata2', 'cdrom') == size
        p = block_line(m.cmd('res', 30, check=True), 'sata2')
        assert p['path'] == 'pci:00:1f.2/sata:2', p
        assert p['ro'] == '1' and p['rm'] == '1' and p['bs'] == '2048', p
        assert int(p['size']) == size, (p, size)
        assert 'error: ' not in m.serial_text(), m.tail()


def test_off_by_boot_cfg():
    """ahci=no: the module declines, no disk is published."""
    img = image('ahci-off', ['ahci=no'])
    with Machine('default', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'ahci: off \(boot\.cfg ahci=no\)')
        res = m.cmd('res', 30, check=True)
        assert 'block:sata' not in res, res


def test_swap_with_reads_streaming():
    """blkswaptest: ahci and a second build of it (tests/mods/tahci) swap
    20 times under reads 4 at a time; every read completes once with the
    bytes of the first read, and each swap takes the controller's ports
    as they run (no HBA reset, no COMRESET in the log)."""
    img = image('ahci-swap', mods=['tahci'])
    with Machine('default', image=img, timeout=400) as m:
        seen(m, PUBLISHED % (0, 0))
        m.expect(r'patchbay> ', 60)
        out = m.cmd('blkswaptest sata0 20 tahci', 300, check=True)
        assert re.search(r'^blkswaptest: block:sata0, 4096 KiB, (\d+) reads '
                         r'checked, 0 failed, ahci <-> tahci$', out,
                         re.M), out
        swaps = re.search(r'^blkswaptest: 20 swaps, 0 lost, 0 duplicated, 0 '
                          r'corrupt, blackout median (\d+) us worst (\d+) us$',
                          out, re.M)
        assert swaps, out
        # Each new side took the running port over (its log line comes
        # after the blackout, the last one maybe after the report).
        text = seen(m, r'(?s)(?:took over 1 disk and \d+ requests? without '
                       r'a reset.*){20}').string
        assert 'the HBA is reset' not in text, text
        # At the boot both builds' bind rules match the controller, which
        # takes one driver: the hub refuses tahci (its own error line).
        errors = [l for l in text.split('\n') if 'error: ' in l and
                  'refused to tahci: it takes 1 client' not in l]
        assert not errors, errors


def test_polling_without_msi():
    """ahci-msi=no: the controller's timer finds what the HBA finished;
    tdisk reads the boot disk as with MSI."""
    img = image('ahci-poll', ['ahci-msi=no'])
    with Machine('default', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'ahci: polling every 1 ms \(boot\.cfg ahci-msi=no; INTx')
        checked(m, img, 'sata0')
        assert 'interrupts by MSI' not in m.serial_text(), m.tail()
        assert 'error: ' not in m.serial_text(), m.tail()
