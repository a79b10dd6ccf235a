"""The gpt module (mods/gpt) under QEMU: the boot disk's GPT, as this test
reads it from build/patchbay.img itself, is published partition by
partition (`res`: block:<disk>.p1 with esp=1 and the same first/last LBA,
type and unique GUID), and a second SATA disk that this test writes with an
MBR layout (two primaries, an extended partition with three logical ones)
lists exactly those partitions; `update gpt gpt.mod` swaps a second
instance of gpt in that takes the partitions over without reading the disk
again.  Needs a block provider in the image (efi-block before the
takeover, ahci after it).

Damaged tables cannot be shown here reliably: OVMF's partition driver
rewrites a damaged primary GPT from the backup before gpt reads the disk.
tests/host/mod_gpt.c covers them, and the fuzzer (fuzzmod_gpt) more."""

import contextlib
import os
import re
import struct
import time
import uuid

from pbtest import Machine, PROMPT, ROOT, workdir
from images import custom_image

BOOT_TIMEOUT = 150
IMAGE = os.path.join(ROOT, 'build', 'patchbay.img')
_RES = re.compile(r'^  (block:\S+) (.*) \((\d+) clients?\)$')


@contextlib.contextmanager
def booted(extra=None):
    with Machine('default', timeout=300, extra=extra) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        yield m


def props(text):
    return dict(w.split('=', 1) for w in text.split() if '=' in w)


def res_blocks(text):
    """{name: props} of every visible block resource in `res` output
    (disks and partitions: partitions have disk=)."""
    found = {}
    for line in text.split('\n'):
        r = _RES.match(line)
        if r and not r.group(2).startswith('[standby] '):
            found[r.group(1)] = props(r.group(2))
    return found


def block_resources(m):
    return res_blocks(m.cmd('res', timeout=60))


def settled(m, ok, what, timeout=60):
    """The block resources once ok(them) holds: the native driver probes
    its disks after the prompt, and a firmware disk stays parked (its
    partitions naming it) until the driver takes it over."""
    deadline = time.monotonic() + timeout
    while True:
        blocks = block_resources(m)
        if ok(blocks):
            return blocks
        assert time.monotonic() < deadline, '%s: %s' % (what, blocks)
        time.sleep(2)


def partitions_on_listed_disks(blocks):
    return [p for p in blocks.values() if p.get('disk') in blocks]


def partitions_of(blocks, disk):
    """{N: props} of the partitions of disk, by the N of path=.../part:N."""
    parts = {}
    for name, p in blocks.items():
        if p.get('disk') == disk:
            num = int(p['path'].rsplit('/part:', 1)[1])
            assert name.endswith('.p%d' % num), (name, p)
            parts[num] = p
    return parts


def image_gpt(path):
    """The used entries of the image's primary GPT (UEFI 2.10 §5.3):
    {N: (type, uuid, first, last)}."""
    with open(path, 'rb') as f:
        f.seek(512)
        hdr = f.read(92)
        assert hdr[:8] == b'EFI PART', 'no GPT in %s' % path
        entry_lba, n, size = struct.unpack_from('<QII', hdr, 72)
        f.seek(entry_lba * 512)
        array = f.read(n * size)
    entries = {}
    for i in range(n):
        e = array[i * size:i * size + 128]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from('<QQ', e, 32)
        entries[i + 1] = (str(uuid.UUID(bytes_le=e[:16])).upper(),
                          str(uuid.UUID(bytes_le=e[16:32])).upper(),
                          first, last)
    return entries


def test_boot_disk_partitions():
    want = image_gpt(IMAGE)
    assert 1 in want, want
    with booted() as m:
        blocks = settled(m, lambda b: any(
            p.get('esp') == '1' for p in partitions_on_listed_disks(b)),
            'no ESP on a listed disk')
        disks = {n: p for n, p in blocks.items() if 'disk' not in p}
        assert disks, 'no block disk listed: %s' % blocks
        esp = [(n, p) for n, p in blocks.items() if p.get('esp') == '1']
        assert len(esp) == 1, 'one ESP expected: %s' % blocks
        name, p = esp[0]
        # Named after the disk it was found on (a partition found through
        # the firmware's disk before the takeover keeps its name when the
        # native driver takes the disk over: disk= names the disk now);
        # gpt's path adds /part:1 to the disk's.
        assert p['disk'] in disks, (p, disks)
        assert re.fullmatch(r'block:[\w.-]+\.p1', name), name
        assert p['path'] == disks[p['disk']]['path'] + '/part:1', \
            (p, disks[p['disk']])
        parts = partitions_of(blocks, p['disk'])
        assert sorted(parts) == sorted(want), (parts, want)
        for num, (typ, uid, first, last) in want.items():
            q = parts[num]
            assert (q['type'], q['uuid']) == (typ, uid), (num, q)
            assert (int(q['first']), int(q['last'])) == (first, last), (num, q)
            assert int(q['size']) == (last - first + 1) * 512, q
            assert q['bs'] == '512', q
        assert p['type'] == 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', p


# The second disk: 40000 blocks, p1 FAT32 LBA (0x0c) at 2048, p2 extended
# (0x0f) at 10000 with EBRs at 10000, 12000 and 16000, p3 an ESP (0xef).
MBR_BLOCKS = 40000
SECOND_DISK = 'pci:00:1f.2/sata:1'      # q35's AHCI, port 1 (ide.1)
MBR_PARTS = {1: ('mbr:0x0c', 2048, 9999), 3: ('mbr:0xef', 30000, 34999),
             5: ('mbr:0x83', 10063, 11062), 6: ('mbr:0x0c', 12063, 14062),
             7: ('mbr:0x07', 16100, 16599)}


def mbr_sector(records, sig=0):
    b = bytearray(512)
    struct.pack_into('<I', b, 440, sig)
    for i, (boot, typ, first, count) in enumerate(records):
        struct.pack_into('<B3xB3xII', b, 446 + 16 * i, boot, typ, first, count)
    b[510:512] = b'\x55\xaa'
    return bytes(b)


def write_mbr_disk(path):
    sectors = {
        0: mbr_sector([(0x80, 0x0c, 2048, 7952), (0, 0x0f, 10000, 20000),
                       (0, 0xef, 30000, 5000)], 0x1234abcd),
        10000: mbr_sector([(0, 0x83, 63, 1000), (0, 0x05, 2000, 4000)]),
        12000: mbr_sector([(0, 0x0c, 63, 2000), (0, 0x05, 6000, 1000)]),
        16000: mbr_sector([(0, 0x07, 100, 500)]),
    }
    with open(path, 'wb') as f:
        f.truncate(MBR_BLOCKS * 512)
        for lba, data in sectors.items():
            f.seek(lba * 512)
            f.write(data)


def test_second_disk_mbr_partitions():
    disk2 = os.path.join(workdir(), 'mbr-disk.img')
    write_mbr_disk(disk2)
    extra = ['-drive', 'if=none,id=disk2,format=raw,file=%s' % disk2,
             '-device', 'ide-hd,drive=disk2,bus=ide.1']
    with booted(extra) as m:
        blocks = settled(m, lambda b: any(
            p['path'].startswith(SECOND_DISK) for p in
            partitions_on_listed_disks(b)), 'no partition on the second disk')
        disk = [n for n, p in blocks.items() if 'disk' not in p and
                p.get('path') == SECOND_DISK]
        assert len(disk) == 1, 'the second disk: %s' % blocks
        parts = partitions_of(blocks, disk[0])
        assert sorted(parts) == sorted(MBR_PARTS), parts
        for num, (typ, first, last) in MBR_PARTS.items():
            q = parts[num]
            assert q['type'] == typ, (num, q)
            assert (int(q['first']), int(q['last'])) == (first, last), (num, q)
            assert q['uuid'] == '1234abcd-%02x' % num, q
            assert (q.get('fat') == '1') == (typ == 'mbr:0x0c'), q
            assert (q.get('esp') == '1') == (typ == 'mbr:0xef'), q
        assert re.search(r'block:\S+: MBR, 5 partitions: p1 p3 p5 p6 p7\n',
                         m.serial_text()), 'no scan line in the log'


def test_update_keeps_partitions():
    """`update gpt gpt.mod` (from boot.cfg: exec=) swaps a second instance
    of gpt in: it takes the partitions over from the inventory with the
    same names and properties, their clients stay, and the disk is not
    read again."""
    # In the firmware phase (takeover=no): exec= runs as the boot ends,
    # when a disk the native driver has not taken over yet is parked and
    # gpt's partitions on it cannot be taken over (the update is refused,
    # nothing lost); efi-block's disks stay put here.
    # tdiet logs `res` as it starts (the shell's listing).
    res = ['exec=load tdiet', 'exec=unload tdiet']
    img = custom_image('gpt-update', ['target=os', 'takeover=no', 'tdiet=res'] +
                       res + ['exec=update gpt gpt.mod'] + res,
                       mods=['tdiet'])
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        text = re.sub(r'^\[ *[\d.]+\] tdiet: ', '', m.serial_text(),
                      flags=re.M)
    head, _, tail = text.partition('exec: update gpt gpt.mod')
    assert tail, 'the update did not run'
    before = {n: p for n, p in res_blocks(head).items() if 'disk' in p}
    after = {n: p for n, p in res_blocks(tail).items() if 'disk' in p}
    assert before, 'no partitions before the update'
    assert after == before, (before, after)
    assert re.search(r'updated gpt: 1\.0 -> 1\.0, blackout \d+ us', tail), \
        tail
    assert re.search(r'^\[ *[\d.]+\] gpt started in standby', tail, re.M), \
        tail
    assert not re.search(r'block:\S+: (GPT|MBR), ', tail), \
        'the disk was read again after the update'
    assert 'standby: cannot take over' not in tail, tail
