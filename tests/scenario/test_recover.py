"""Recovery of a faulted DMA driver (hub/recover.c): QEMU's `edu` device
(1234:11e8) driven by tests/mods/trecover-edu, which is killed three times
with a DMA in flight.  Before any of its memory is reused, the pci module
turns the function's bus mastering off and reads COMMAND back; every new
instance finds it off, and a DMA the dead instance left running lands
nowhere; after the third fault inside the window the driver is left
stopped, and QEMU itself (the monitor reading the function's COMMAND
through ECAM) shows no bus mastering."""

import re
import zlib

from pbtest import Machine, PROMPT
from images import custom_image

EDU_DEV = 5
ECAM = 0xb0000000		# q35's MCFG base (tools/qemuconf.py default)


def lines_with(text, word):
    return [line for line in text.split('\n') if word in line]


def monitor_command_reg(m, dev):
    """COMMAND of 00:dev.0, read by QEMU from ECAM (PCIe 5.0 §7.2.2)."""
    out = m.monitor('xp /1hx 0x%x' % (ECAM + (dev << 15) + 4))
    hit = re.search(r':\s*0x([0-9a-f]{4})', out)
    assert hit, out
    return int(hit.group(1), 16)


def test_recover_edu_dma_driver_killed_leaves_no_bus_mastering():
    img = custom_image('recover-edu', ['target=os', 'trecover-edu=crash'],
                       mods=['trecover-edu'])
    extra = '-device edu,addr=%d' % EDU_DEV
    with Machine('default', image=img, timeout=300, extra=extra) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.expect(r'trecover-edu: faulted 3 times, not restarted', 120)
        cmd = monitor_command_reg(m, EDU_DEV)
        listing = m.cmd('pci', check=True)
        text = m.serial_text()
    # The device is the edu, and QEMU says it masters the bus no more.
    assert re.search(r'00:%02x\.0 .*1234:11e8.* driver=-' % EDU_DEV,
                     listing), listing
    assert cmd & 0x4 == 0, 'COMMAND 0x%04x: bus master on' % cmd
    assert cmd & 0x400, 'COMMAND 0x%04x: INTx not disabled' % cmd
    # Each instance ran its DMA round trip before being killed mid-DMA.
    assert len(lines_with(text, 'dma round trip: ok')) == 3, text[-3000:]
    assert len(lines_with(text, 'crashing with a DMA to')) == 3
    assert len(lines_with(text, 'trecover-edu faulted: vector 14')) == 3
    # Each fault: the pci module silenced the function, read back.
    gone = re.findall(r'00:%02x\.0: its driver is gone: bus mastering and '
                      r'interrupts off \(COMMAND 0x([0-9a-f]{4})\)' % EDU_DEV,
                      text)
    assert len(gone) == 3, text[-3000:]
    assert all(int(c, 16) & 0x4 == 0 for c in gone), gone
    # The instances after a fault found bus mastering off, and the
    # DMA their predecessor left running wrote nothing into the page.
    starts = re.findall(r'COMMAND at start 0x([0-9a-f]{4}): bus master '
                        r'(on|off)', text)
    assert len(starts) == 3, starts
    assert [s[1] for s in starts[1:]] == ['off', 'off'], starts
    pages = re.findall(r'trecover-edu: page at (0x[0-9a-f]+)', text)
    dmas = re.findall(r'crashing with a DMA to (0x[0-9a-f]+)', text)
    sentinels = re.findall(r'sentinel at (0x[0-9a-f]+): (\w+)', text)
    assert len(sentinels) == 3, sentinels
    assert all(s[1] == 'untouched' for s in sentinels), sentinels
    # Two restarts, each recovered and timed; then left stopped in one line.
    assert len(lines_with(text, 'trecover-edu: restarting from its image')) \
        == 2
    assert len(re.findall(r'trecover-edu: recovered in \d+ us \(vector 14',
                          text)) == 2, text[-3000:]
    assert len(lines_with(text, 'not restarted (within 10000 ms)')) == 1
    # The restarted instances reused the page the dead one's DMA aimed at
    # (the allocator hands the freed page out again): the sentinel shows
    # the DMA was stopped, not that it went elsewhere.
    assert any(d == p for d, p in zip(dmas, pages[1:])) or \
        any(int(d, 16) - 2048 == int(p, 16) for d, p in zip(dmas, pages[1:])), \
        (dmas, pages)


def trb_bytes(n):
    """tests/mods/trecover-blk's disk: byte o is (o * 131 + (o >> 9) * 7)
    mod 256."""
    return bytes((o * 131 + (o >> 9) * 7) & 0xff for o in range(n))


def test_recover_block_requests_in_flight_issued_again():
    """trecover-blk faults right after taking its 20th request, with
    requests in flight, once or twice during a `blkread` of its 4 MiB, 4
    requests at a time (gpt's reads count too): the hub's shadow issues
    them again to each restarted instance, and the shell reads every byte
    right, the read never failing."""
    # Started by the boot: the shell takes every block resource.
    img = custom_image('recover-blk', ['target=os', 'trecover-blk=20'],
                       mods=['trecover-blk'])
    want = zlib.crc32(trb_bytes(4 << 20))
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.sendline('blkread trb0 4 -q 4')
        crc = m.expect(r'blkread: block:trb0 \(trecover-blk\): 4096 KiB .*'
                       r'crc32 ([0-9a-f]{8})', 120)
        m.expect(r'^' + re.escape(PROMPT), 30)
        text = m.serial_text()
    assert int(crc.group(1), 16) == want, (crc.group(1), '%08x' % want)
    assert 'error: blkread' not in text, text[-2000:]
    inflight = [int(n) for n in re.findall(
        r'trecover-blk: crashing with (\d+) requests in flight', text)]
    assert 1 <= len(inflight) <= 2 and all(inflight), \
        (inflight, text[-3000:])
    again = re.findall(r'trecover-blk: recovered in \d+ us \(vector 14 at '
                       r'0x0\), (\d+) clients? rebound, (\d+) requests '
                       r'issued again, (\d+) failed', text)
    assert len(again) == len(inflight), text[-3000:]
    assert all(int(a[1]) > 0 and a[2] == '0' for a in again), again
    assert 'not restarted' not in text


def test_recover_partitions_renamed_by_the_restart_keep_their_clients():
    """gpt faulted after the takeover: the new instance finds the boot
    disk as block:sata0 (ahci's), not block:efi0 (the firmware's, whose
    partition fat and the shell still hold), and names its partition
    block:sata0.p1.  The held connections follow the partition's path=,
    not its old name: /esp stays mounted, its files read right, and nobody
    waits for block:efi0.p1 to come back (seed 2003 default 209: /esp went
    away)."""
    import hashlib
    import os
    from pbtest import ROOT
    with open(os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods',
                           'shell.mod'), 'rb') as f:
        want = hashlib.sha256(f.read()).hexdigest()
    with Machine('default', timeout=120) as m:
        m.expect(r'^' + re.escape(PROMPT), 90)
        m.expect_seen(r'takeover: block:efi0 \(path=\S+\) -> block:sata0 '
                 r'\(ahci\)', 60)
        out = m.cmd('faultinject gpt entry null', 20)
        assert 'armed' in out, out
        out = m.cmd('sha256sum /esp/patchbay/mods/shell.mod', 60)
        assert want in out, out
        # the read went through the restarted gpt, so it is back
        text = m.serial_text()
        assert re.search(r'gpt: recovered in \d+ us', text), text[-2000:]
        assert re.search(r'gpt: block:sata0\.p1 back for fat, \d+ requests?',
                         text), text[-2000:]
        out = m.cmd('mounts', 20)
        assert re.search(r'^/esp +fs:PATCHBAY .* rw ', out, re.M), out
        out = m.cmd('sha256sum /esp/patchbay/mods/shell.mod', 60)
        assert want in out, out
        text = m.serial_text()
        assert 'not back within' not in text, text[-2000:]
        assert '/esp (fs:PATCHBAY) is gone' not in text, text[-2000:]
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_recover_module_that_wrote_over_its_work_items():
    """tlog=overwrite writes a non-canonical address over the link and the
    owner of a work item the hub has queued; when that item runs, over
    the owner of another, which it posts.  The hub keeps its queue in its
    own memory (hub/workq.c): the queued item runs as tlog's, nothing
    follows the link, and the other is refused and charged to tlog, which
    is restarted; each instance does it again, and the third fault within
    the window leaves tlog stopped.  Before, the hub took the #GP walking
    its queue and the machine died."""
    img = custom_image('overwrite', ['target=os', 'tlog=overwrite',
                                     'exec=load tlog'], mods=['tlog'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'tlog: faulted 3 times, not restarted', 150)
        m.expect(r'^' + re.escape(PROMPT), 60)
        assert 'wrote-over-ok' in m.cmd('echo wrote-over-ok', 30)
        text = m.serial_text()
    assert 'fatal' not in text, text[-3000:]
    assert text.count('tlog: the item written over ran') == 3, text[-3000:]
    refused = re.findall(r'hub: the work item at 0x[0-9a-f]+ names a wrong '
                         r'owner \(0x8000000000000000\); it lies in the '
                         r'memory of tlog: not queued', text)
    assert len(refused) == 3, text[-3000:]
    charged = re.findall(r'tlog faulted: its work item at 0x[0-9a-f]+ was '
                         r'written over', text)
    assert len(charged) == 3, text[-3000:]
    recovered = re.findall(r'tlog: recovered in \d+ us \(wrote over its '
                           r'work item at 0x[0-9a-f]+\)', text)
    assert len(recovered) == 2, text[-3000:]
