"""The nvme module (mods/nvme) on QEMU's NVMe controller (1b36:0010): it
binds by class, brings the controller up, publishes one `block` resource
per namespace with the properties abi/block.h names, and serves reads,
writes and flushes.

Config nvmeboot boots from the NVMe disk, as most PCs of today do: the
firmware's disk (efi-block) is parked at the takeover and handed to nvme
by its path (pci:00:02.0/nvme:1), /esp staying mounted and read through
the native driver.  Config nvme has an NVMe SSD beside the SATA boot
disk: the test module tdisk reads both ends of it and writes, flushes
and reads back blocks 64-95, and the file on the host holds what was
written.  `update nvme` swaps the driver for its own image under reads
streaming from the disk."""

import hashlib
import os
import re

from pbtest import Machine, PROMPT, ROOT
from images import custom_image

BOOT_TIMEOUT = 150
SPAN = 64 << 10
MODS = os.path.join(ROOT, 'build', 'mods')


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def pattern(n, seed):
    return bytes((i * 7 + i // 512 + seed) & 0xff for i in range(n))


def block_line(res, name):
    """The `res` line of block:name, as a dict of its properties."""
    m = re.search(r'^  block:%s (.*) \(\d+ clients?\)$' % name, res, re.M)
    assert m, 'no block:%s in res:\n%s' % (name, res)
    return dict(kv.split('=', 1) for kv in m.group(1).split())


def test_nvme_boot_disk_taken_over():
    """nvmeboot: the firmware's disk is handed to nvme at the takeover by
    its path; /esp stays mounted and a file read through the native
    driver has the bytes the image holds."""
    img = custom_image('nvme-boot', ['target=os'])
    with Machine('nvmeboot', image=img, timeout=BOOT_TIMEOUT) as m:
        m.expect(r'^' + re.escape(PROMPT), 120)
        m.expect_seen(r'takeover: block:efi0 \(path=pci:00:02\.0/nvme:1\) '
                      r'-> block:nvme0n1 \(nvme\), \d+ requests? handed '
                      r'over, \d+ clients?, parked \d+ ms', 60)
        res = m.cmd('res', 30, check=True)
        p = block_line(res, 'nvme0n1')
        assert p['path'] == 'pci:00:02.0/nvme:1', p
        assert p['bs'] == '512' and p['ro'] == '0', p
        assert int(p['size']) == os.path.getsize(img), (p, img)
        out = m.cmd('sha256sum /esp/patchbay/mods/nvme.mod', 60,
                    check=True)
        with open(os.path.join(MODS, 'nvme.mod'), 'rb') as f:
            want = hashlib.sha256(f.read()).hexdigest()
        # A log line (gpt's, as the disk comes) may come with the output.
        got = re.search(r'^([0-9a-f]{64})  /esp/patchbay/mods/nvme\.mod$',
                        out, re.M)
        assert got and got.group(1) == want, out
        text = m.serial_text()
        assert 'gone: no driver holds' not in text, m.tail()
        assert 'error: ' not in text, m.tail()


def test_nvme_disk_read_and_written():
    """nvme: a namespace of an odd size beside the boot disk, read at
    both ends, written, flushed and read back through the driver; the
    file on the host then holds the written blocks."""
    size = (10 << 20) + 3 * 512
    img = custom_image('nvme-rw', ['target=os', 'exec=load tdisk',
                                   'tdisk-write=nvme0n1'], mods=['tdisk'])
    data = pattern(size, 5)
    with open(img + '.nvme', 'wb') as f:
        f.write(data)
    with Machine('nvme', image=img, timeout=BOOT_TIMEOUT,
                 snapshot=False) as m:
        line = m.expect_seen(r'tdisk: block:nvme0n1 bs=(\d+) count=(\d+) '
                             r'head=([0-9a-f]{16}) tail=([0-9a-f]{16})', 90)
        bs, count, head, tail = line.groups()
        assert int(bs) * int(count) == size, (bs, count, size)
        assert (int(head, 16), int(tail, 16)) == \
            (fnv1a64(data[:SPAN]), fnv1a64(data[-SPAN:])), line.group(0)
        m.expect_seen(r'tdisk: block:nvme0n1 wrote 32 blocks, read back '
                      r'equal', 60)
        p = block_line(m.cmd('res', 30, check=True), 'nvme0n1')
        assert p['path'].endswith('/nvme:1'), p
        assert int(p['size']) == size, (p, size)
        assert p['serial'] == 'PBNVME0001', p
        assert 'error: ' not in m.serial_text(), m.tail()
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
    with open(img + '.nvme', 'rb') as f:
        after = f.read()
    assert after[:64 * 512] == data[:64 * 512]
    assert after[96 * 512:] == data[96 * 512:]
    assert after[64 * 512:96 * 512] != data[64 * 512:96 * 512], \
        'the written blocks did not reach the file'


def test_nvme_update_with_reads_streaming():
    """blkswaptest: nvme replaced by a fresh copy of itself 10 times under
    reads 4 at a time from the namespace; every read completes once with
    the bytes of the first read."""
    img = custom_image('nvme-swap', ['target=os'])
    with open(img + '.nvme', 'wb') as f:
        f.write(pattern(8 << 20, 11))
    with Machine('nvme', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), 120)
        m.expect_seen(r'nvme: nvme0n1: \d+ blocks of 512 bytes', 60)
        out = m.cmd('blkswaptest nvme0n1 10 nvme', 300, check=True)
        assert re.search(r'^blkswaptest: block:nvme0n1, \d+ KiB, (\d+) '
                         r'reads checked, 0 failed, nvme <-> nvme$', out,
                         re.M), out
        assert re.search(r'^blkswaptest: 10 swaps, 0 lost, 0 duplicated, 0 '
                         r'corrupt, blackout median (\d+) us worst (\d+) '
                         r'us$', out, re.M), out
        assert 'error: ' not in m.serial_text(), m.tail()


def test_nvme_fault_in_an_updates_watch_window():
    """nvmeboot: `update nvme`, and the new driver faults at its first
    work, inside its watch window, under a file read: the hub gives the
    disk back to the driver it replaced, whose controller the new one had
    reset and run on its own queues (memory freed with it).  The old one
    brings the controller up again with its own queues and programs its
    interrupt message again (the function's MSI-X went off as the new
    one went): the read the new one held is issued again and completes
    with the file's bytes, no request waits on a lost interrupt, no
    command times out, and no module faults but the one injected."""
    img = custom_image('nvme-rollback', ['target=os'])
    with Machine('nvmeboot', image=img, timeout=BOOT_TIMEOUT) as m:
        m.expect(r'^' + re.escape(PROMPT), 120)
        m.expect_seen(r'takeover: block:efi0 \(path=pci:00:02\.0/nvme:1\) '
                      r'-> block:nvme0n1 \(nvme\)', 60)
        m.cmd('update nvme /esp/patchbay/mods/nvme.mod', 120, check=True)
        m.cmd('faultinject nvme work null', 30, check=True)
        for name in ('ahci', 'xhci', 'usb-storage'):
            out = m.cmd('sha256sum /esp/patchbay/mods/%s.mod' % name, 120)
            with open(os.path.join(MODS, name + '.mod'), 'rb') as f:
                want = hashlib.sha256(f.read()).hexdigest()
            got = re.search(r'^([0-9a-f]{64})  /esp/patchbay/mods/%s\.mod$'
                            % re.escape(name), out, re.M)
            assert got and got.group(1) == want, out
        text = m.serial_text()
        assert 'nvme faulted in its watch window: back to nvme' in text, \
            m.tail()
        assert re.search(r'nvme: recovered in \d+ us \(vector 14 at 0x0\), '
                         r'by its swap\'s rollback', text), m.tail()
        assert not re.search(r'not completed|timed out|out 500 ms|'
                             r'resetting the controller', text), m.tail()
        faults = re.findall(r'(\S+) faulted: vector', text)
        assert faults == ['nvme'], faults
