"""Disks on the real image: efi-block serving the boot disk through the
firmware's Block I/O, the shell's disks/blkread/blkswaptest, and the disks'
takeover (hub/park.c): a read in flight across it, or, without a native
driver, the disk going away cleanly with its clients told.

Checksums are zlib's CRC-32 of the image file's first MiBs, computed here:
the disk is the image (QEMU attaches it with snapshot=on), and these images
leave fat out, which marks the ESP in use when it mounts it (a write into
its first MiBs), so nothing in the guest writes the disk."""

import os
import re
import time
import zlib

from pbtest import Machine, PROMPT, ROOT, esp_delete, esp_ls
from images import custom_image

BOOT_TIMEOUT = 120
PATH = 'pci:00:1f.2/sata:0'      # q35's AHCI at 00:1f.2, port 0
AHCI_BUILT = os.path.exists(os.path.join(ROOT, 'build', 'mods', 'ahci.mod'))


def disk_image(name, cfg, mods=()):
    """An image for these tests: nothing in it writes the disk."""
    img = custom_image(name, cfg, mods=mods)
    if 'fat.mod' in esp_ls(img, 'patchbay/mods'):
        esp_delete(img, 'patchbay/mods/fat.mod')
    return img


def crc_of(img, mib):
    with open(img, 'rb') as f:
        return '%08x' % zlib.crc32(f.read(mib << 20))


def human(n):
    """The shell's sizes: binary units with one decimal, like lsblk."""
    units, div, u = 'KMGTPE', 1024, 0
    while u + 1 < len(units) and n // div >= 1024:
        div *= 1024
        u += 1
    return '%d.%d%s' % (n // div, n % div * 10 // div, units[u])


def disk_rows(out):
    """The whole disks `disks` lists (not gpt's partitions, whose paths end
    in /part:N): name -> the other columns."""
    rows = out.split('\n')
    if rows == ['disks: none']:
        return {}
    assert rows[0].split() == ['NAME', 'SIZE', 'RO', 'DRIVER', 'MODEL',
                               'PATH'], rows
    return {r.split()[0]: r.split()[1:] for r in rows[1:]
            if r.strip() and '/part:' not in r}


def seen(m, pattern, timeout):
    """The first match of pattern in everything COM1 said, waiting for it
    (before or after the prompt: the boot's work and the loop's interleave)."""
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, m.serial_text())
        if found:
            return found
        if time.monotonic() > deadline:
            m.fail('timed out after %gs waiting for /%s/' % (timeout, pattern))
        time.sleep(0.5)


def no_errors(text):
    errors = [l for l in text.split('\n') if 'error: ' in l]
    assert not errors, errors


def test_disks_and_blkread_before_the_takeover():
    img = disk_image('disks', ['target=os', 'takeover=no'])
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        rows = disk_rows(m.cmd('disks', check=True))
        assert list(rows) == ['block:efi0'], rows
        size, ro, driver, model, path = rows['block:efi0']
        assert (size, ro, driver, path) == (
            human(os.path.getsize(img)), '0', 'efi-block', PATH), rows
        assert model == 'QEMU_HARDDISK', rows
        # The first 8 MiB, one request at a time and four at a time.
        want = crc_of(img, 8)
        for cmd in ('blkread efi0 8', 'blkread block:efi0 8 -q 4'):
            out = m.cmd(cmd, 120, check=True)
            got = re.fullmatch(r'blkread: block:efi0 \(efi-block\): 8192 KiB '
                               r'in \d+\.\d{3} s, \d+\.\d\d MiB/s, crc32 '
                               r'([0-9a-f]{8}), [14] at a time', out)
            assert got and got.group(1) == want, (cmd, out, want)
        # More than the disk holds: the whole disk.
        out = m.cmd('blkread efi0 100000 -q 8', 240, check=True)
        assert re.search(r': %d KiB in .* crc32 %s,' % (
            os.path.getsize(img) >> 10,
            '%08x' % zlib.crc32(open(img, 'rb').read())), out), out
        for cmd, err in (('blkread nosuch', 'no disk nosuch (see disks)'),
                         ('blkread efi0 x', 'x is not a number of MiB'),
                         ('blkread efi0 -q 99', '-q takes 1 to 32'),
                         ('blkswaptest efi0 0', 'N must be 1 to 1000')):
            assert m.cmd(cmd) == 'error: %s: %s' % (cmd.split()[0], err), cmd


def test_blkswaptest_between_two_builds_of_efi_block():
    img = disk_image('swap', ['target=os', 'takeover=no'], mods=['tefiblk'])
    with Machine('default', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        out = m.cmd('blkswaptest efi0 20 tefiblk', 300, check=True)
        assert re.search(r'^blkswaptest: block:efi0, 4096 KiB, (\d+) reads '
                         r'checked, 0 failed, efi-block <-> tefiblk$', out,
                         re.M), out
        checked = int(re.search(r'(\d+) reads checked', out).group(1))
        assert checked >= 2 * 20, out
        assert re.search(r'^blkswaptest: 20 swaps, 0 lost, 0 duplicated, 0 '
                         r'corrupt, blackout median \d+ us worst \d+ us$',
                         out, re.M), out
        # Each swap handed reads over: the state listed some (a state
        # without requests is 80 bytes: its header and one disk).
        text = m.serial_text()
        sizes = [int(s) for s in re.findall(
            r'(?:efi-block -> tefiblk|tefiblk -> efi-block): blackout \d+ '
            r'us, state (\d+) bytes', text)]
        assert len(sizes) == 20 and max(sizes) > 80, sizes
        # Twenty swaps later the disk reads the same (from tefiblk: the
        # 20th swap brought efi-block back, an even count).
        out = m.cmd('blkread efi0 4', 120, check=True)
        assert 'crc32 %s,' % crc_of(img, 4) in out, out
        no_errors(m.serial_text())


def test_blkswaptest_updates_efi_block_to_fresh_copies():
    img = disk_image('update', ['target=os', 'takeover=no'])
    with Machine('default', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        out = m.cmd('blkswaptest efi0 10', 300, check=True)
        assert re.search(r'^blkswaptest: 10 swaps, 0 lost, 0 duplicated, 0 '
                         r'corrupt, blackout median \d+ us worst \d+ us$',
                         out, re.M), out
        assert re.search(r'^blkswaptest: block:efi0, 4096 KiB, \d+ reads '
                         r'checked, 0 failed, efi-block <-> efi-block$', out,
                         re.M), out
        swaps = re.findall(r'efi-block -> efi-block: blackout \d+ us, state '
                           r'(\d+) bytes', m.serial_text())
        assert len(swaps) == 10 and max(map(int, swaps)) > 80, swaps
        rows = disk_rows(m.cmd('disks', check=True))
        assert list(rows) == ['block:efi0'] and \
            rows['block:efi0'][2] == 'efi-block', rows
        out = m.cmd('blkread efi0 4', 120, check=True)
        assert 'crc32 %s,' % crc_of(img, 4) in out, out


def tblk_image(cfg, name):
    """An image whose tblk reads the first 8 MiB before and across the
    takeover."""
    return disk_image(name, ['target=os', 'tblk=8'] + cfg, mods=['tblk'])


def test_disk_without_a_native_driver_goes_at_the_takeover():
    # ahci=no makes ahci decline its controller (a real PC whose
    # controller nothing drives); without ahci built, nothing binds to it.
    img = tblk_image(['ahci=no', 'disk-wait=60000'], 'nodriver')
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        text = m.serial_text()
        # The hub held them for the native driver: they fail with
        # PB_EIO when it lets the disk go.
        assert re.search(r'tblk: 2 reads completed after the disk went, the '
                         r'last with -5', text), text
        first = re.search(r'tblk: first pass: 8192 KiB, 64 reads, crc32 '
                          r'([0-9a-f]{8})', text)
        assert first and first.group(1) == crc_of(img, 8), text
        # Its clients: the shell, tblk and gpt.
        assert re.search(r'takeover: block:efi0 \(path=%s\) parked, 3 '
                         r'clients kept' % re.escape(PATH), text), text
        # Gone at the end of the boot, long before disk-wait's minute.
        gone = re.search(r'takeover: block:efi0 \(path=%s\) gone: no driver '
                         r'holds its controller pci:00:1f.2; 3 clients '
                         r'told' % re.escape(PATH), text)
        assert gone, text
        assert text.index(gone.group(0)) < text.index('boot done'), text
        # tblk's second pass was waiting in the hub's shadow: each read
        # completed once, after it was told.  efi-block handed its queue
        # over at the exit and went, cancelling nothing.
        waiting = int(re.search(r'tblk: block:efi0 went away, (\d) reads '
                                r'waiting', text).group(1))
        assert waiting == 2, text
        assert 'efi-block: stopped' not in text, text
        assert 'efi-block unloaded; ledger empty' in text, text
        assert m.cmd('disks') == 'disks: none'
        no_errors(m.serial_text())


def test_read_in_flight_across_the_takeover():
    img = tblk_image([], 'across')
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        want = crc_of(img, 8)
        if not AHCI_BUILT:
            # No native driver in this build: the disk goes as above.
            assert re.search(r'tblk: 2 reads completed after the disk went',
                             m.serial_text())
            assert m.cmd('disks') == 'disks: none'
            return
        done = seen(m, r'tblk: second pass: 8192 KiB, 64 reads, (\d+) '
                        r'mismatched, (\d+) failed, crc32 ([0-9a-f]{8}), '
                        r'(\d+) carried over from block:efi0 to '
                        r'(block:\S+)', 120)
        mismatched, failed, crc, carried, native = done.groups()
        assert (mismatched, failed, crc) == ('0', '0', want), done.group(0)
        assert int(carried) >= 1, done.group(0)
        text = m.serial_text()
        first = re.search(r'tblk: first pass: .* crc32 ([0-9a-f]{8})', text)
        assert first and first.group(1) == want, text
        claim = re.search(r'takeover: block:efi0 \(path=%s\) -> %s \(ahci\), '
                          r'(\d+) requests? handed over, 3 clients, parked '
                          r'\d+ ms' % (re.escape(PATH), re.escape(native)),
                          text)
        assert claim and int(claim.group(1)) >= 1, text
        assert 'efi-block unloaded; ledger empty' in text, text
        rows = disk_rows(m.cmd('disks', check=True))
        assert list(rows) == [native], rows
        assert rows[native][2] == 'ahci' and rows[native][4] == PATH, rows
        out = m.cmd('blkread %s 8 -q 4' % native, 120, check=True)
        assert 'crc32 %s,' % want in out, out
        no_errors(m.serial_text())
