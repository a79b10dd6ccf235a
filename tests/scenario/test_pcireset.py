"""Function-level reset of a faulted driver's function (mods/pci/flr.c).

QEMU 7.2's virtio-rng-pci behind a pcie-root-port offers FLR (PCIe Device
Capabilities bit 28, `x-pcie-flr-init`, on by default).  tests/mods/
tpcireset binds to it and sets the virtio device status register to
ACKNOWLEDGE | DRIVER (QEMU's monitor reads it back through the BAR).  When
it faults, pci resets the function, withdraws it for the 100 ms, puts its
BARs and COMMAND back and publishes it again; the restarted driver binds to
it and finds the register at its reset value, 0.  An orderly unload and
load keeps the device as it was: no reset, the register still set.

QEMU 7.2's NVMe controller offers FLR there too, and it masters the bus:
tests/mods/tnvmeflr sets up its admin queues in DMA memory and has it
write the Identify data there.  When it faults, pci turns bus mastering off
before the hub frees the driver's memory, resets the function, and the
restarted driver finds the controller disabled (CC and CSTS 0: its queues
deleted; QEMU's reset keeps AQA, ASQ and ACQ as written, which NVMe 1.4
§7.3.2 also does for a controller reset) and runs the Identify again.  (ICH9's AHCI, QEMU's xHCI, e1000e and edu
offer no FLR.)"""

import os
import re

from pbtest import Machine, PROMPT, LOG_DIR, esp_delete, esp_ls
from images import custom_image

RNG = ('-device pcie-root-port,id=rp9,bus=pcie.0,chassis=9,addr=0x9 '
       '-device virtio-rng-pci,bus=rp9,disable-legacy=on')


def booted_with_driver(m):
    m.expect(r'^' + re.escape(PROMPT), 150)
    # The line's end too: an address still arriving would be cut.
    return m.expect_seen(r'tpcireset: device status set to 0x([0-9a-f]{2}) '
                         r'at (0x[0-9a-f]+)\r?\n', 60)


def status_reg(m, addr):
    """The virtio device status byte, read by QEMU at its bus address."""
    out = m.monitor('xp /1bx %s' % addr)
    hit = re.search(r':\s*0x([0-9a-f]{2})', out)
    assert hit, out
    return int(hit.group(1), 16)


def starts(text):
    return re.findall(r'tpcireset: device status at start 0x([0-9a-f]{2})',
                      text)


def test_pcireset_faulted_driver_function_is_reset_and_bound_again():
    img = custom_image('pcireset', ['target=os'], mods=['tpcireset'])
    with Machine('default', image=img, timeout=300, extra=RNG) as m:
        set_to = booted_with_driver(m)
        addr = set_to.group(2)
        assert set_to.group(1) == '03', set_to.group(0)
        assert status_reg(m, addr) == 0x03
        listing = m.cmd('pci', check=True)
        assert re.search(r'1af4:1044.*driver=tpcireset', listing), listing
        out = m.cmd('faultinject tpcireset work null', check=True)
        assert 'faultinject armed: tpcireset' in out, out
        m.expect(r'tpcireset faulted: vector', 30)
        reset = m.expect(r'(\S+): its driver faulted: function-level reset '
                         r'\(PCIe\), withdrawn until it is back', 30)
        bdf = reset.group(1)
        m.expect(r'tpcireset: waits for its device', 30)
        back = m.expect(r'%s: back (\d+) ms after its reset: BARs and '
                        r'COMMAND 0x([0-9a-f]{4}) restored, offered again'
                        % re.escape(bdf), 30)
        again = m.expect(r'tpcireset: device status set to 0x03 at '
                         r'(0x[0-9a-f]+)\r?\n', 30)
        assert 'fired tpcireset' in m.cmd('faultinject status')
        listing = m.cmd('pci', check=True)
        text = m.serial_text()
    # Not touched for 100 ms; decode back on, bus mastering off.
    assert int(back.group(1)) >= 100, back.group(0)
    cmd = int(back.group(2), 16)
    assert cmd & 0x2 and not cmd & 0x4, back.group(0)
    # The second instance found the register at its reset value, the
    # BAR at the same address as before the reset.
    assert starts(text) == ['00', '00'], starts(text)
    assert again.group(1) == addr, (again.group(1), addr)
    assert re.search(r'1af4:1044.*driver=tpcireset', listing), listing
    assert len(re.findall(r'tpcireset binds to pci:', text)) == 2, \
        text[-3000:]
    assert 'not back' not in text


def test_pcireset_orderly_unload_keeps_the_device_state():
    img = custom_image('pcireset_unload', ['target=os'], mods=['tpcireset'])
    with Machine('default', image=img, timeout=300, extra=RNG) as m:
        set_to = booted_with_driver(m)
        addr = set_to.group(2)
        m.cmd('unload tpcireset', check=True)
        assert status_reg(m, addr) == 0x03
        m.cmd('load tpcireset', 60, check=True)
        m.expect_seen(r'tpcireset: device status at start 0x([0-9a-f]{2})'
                      r'(?![\s\S]*device status at start 0x00)', 30)
        text = m.serial_text()
    assert starts(text) == ['00', '03'], starts(text)
    assert 'function-level reset' not in text


NVME_IMG = os.path.join(LOG_DIR, 'pcireset-nvme.raw')
NVME = ('-device pcie-root-port,id=rp9,bus=pcie.0,chassis=9,addr=0x9 '
        '-drive if=none,id=nv,format=raw,file=%s '
        '-device nvme,serial=flr,drive=nv,bus=rp9' % NVME_IMG)
NVME_START = (r'tnvmeflr: at start: COMMAND 0x([0-9a-f]{4}) CC 0x([0-9a-f]{8}) '
              r'CSTS 0x([0-9a-f]{8}) AQA 0x[0-9a-f]{8} ASQ 0x[0-9a-f]{16}')
IDENTIFIED = (r"tnvmeflr: identify: status 0x0, model 'QEMU NVMe Ctrl *': "
              r"the controller masters the bus")


def tnvmeflr_image(name, cfg):
    """An image where tnvmeflr drives QEMU's NVMe controller: the nvme
    module, whose bind rule takes the same function, left out."""
    img = custom_image(name, ['target=os'] + cfg, mods=['tnvmeflr'])
    if 'nvme.mod' in esp_ls(img, '/patchbay/mods'):
        esp_delete(img, '/patchbay/mods/nvme.mod')
    return img


def test_pcireset_nvme_dma_driver_faulted_is_reset_and_bound_again():
    os.makedirs(LOG_DIR, exist_ok=True)
    with open(NVME_IMG, 'wb') as f:
        f.truncate(1 << 20)
    img = tnvmeflr_image('pcireset_nvme', [])
    with Machine('default', image=img, timeout=300, extra=NVME) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.expect_seen(IDENTIFIED, 60)
        listing = m.cmd('pci', check=True)
        assert re.search(r'1b36:0010.*driver=tnvmeflr', listing), listing
        out = m.cmd('faultinject tnvmeflr work null', check=True)
        assert 'faultinject armed: tnvmeflr' in out, out
        m.expect(r'tnvmeflr faulted: vector', 30)
        reset = m.expect(r'(\S+): its driver faulted: function-level reset '
                         r'\(PCIe\), withdrawn until it is back', 30)
        bdf = reset.group(1)
        m.expect(r'tnvmeflr: waits for its device', 30)
        back = m.expect(r'%s: back (\d+) ms after its reset: BARs and '
                        r'COMMAND 0x([0-9a-f]{4}) restored, offered again'
                        % re.escape(bdf), 30)
        m.expect(r'tnvmeflr: enabled: CC', 30)
        m.expect(IDENTIFIED, 30)
        assert 'fired tnvmeflr' in m.cmd('faultinject status')
        text = m.serial_text()
    fault = text.index('tnvmeflr faulted: vector')
    after = text[fault:]
    # Bus mastering off (read back) before the driver's memory went.
    silenced = re.search(r'%s: its driver is gone: bus mastering and '
                         r'interrupts off \(COMMAND 0x([0-9a-f]{4})\)'
                         % re.escape(bdf), after)
    assert silenced, after[:3000]
    assert int(silenced.group(1), 16) & 0x4 == 0, silenced.group(0)
    freed = after.index('tnvmeflr unloaded; ledger empty')
    assert silenced.start() < freed, after[:3000]
    assert after.index('function-level reset') < freed
    # Not touched for 100 ms; decode back on, bus mastering off.
    assert int(back.group(1)) >= 100, back.group(0)
    cmd = int(back.group(2), 16)
    assert cmd & 0x2 and not cmd & 0x4, back.group(0)
    # The first instance found the controller as the firmware left it
    # (enabled, its queues in boot-services memory) and left it enabled
    # with its own queues; the one after the fault found it reset: CC and
    # CSTS 0 (disabled, no queue left), bus mastering off.  Each had it
    # write its Identify data.
    starts = re.findall(NVME_START, text)
    assert len(starts) == 2, starts
    command, cc, csts = starts[1]
    assert int(command, 16) & 0x4 == 0, starts
    assert int(cc, 16) == 0 and int(csts, 16) == 0, starts
    assert len(re.findall(IDENTIFIED, text)) == 2, text[-3000:]
    assert text.count('tnvmeflr: disabled the controller found enabled') \
        == (1 if int(starts[0][1], 16) & 1 else 0), starts
    assert 'not back' not in text


def nvme_start_command(cfg):
    """Boot with the NVMe controller (and boot.cfg cfg): the takeover's
    line about bus mastering, and COMMAND as tnvmeflr first finds it."""
    os.makedirs(LOG_DIR, exist_ok=True)
    disk = os.path.join(LOG_DIR, 'pcireset-fwdma.raw')   # its own: tests
    with open(disk, 'wb') as f:                          # run side by side
        f.truncate(1 << 20)
    img = tnvmeflr_image('pcireset_fwdma', cfg)
    with Machine('default', image=img, timeout=300,
                 extra=NVME.replace(NVME_IMG, disk)) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.expect_seen(IDENTIFIED, 60)
        text = m.serial_text()
    line = re.search(r'takeover: bus mastering off on the storage and '
                     r'network functions? the firmware left mastering:(.*)',
                     text)
    start = re.search(NVME_START, text)
    assert start, text[-3000:]
    return line.group(1).split() if line else None, int(start.group(1), 16)


def test_firmware_dma_off_at_the_takeover():
    """OVMF leaves its NVMe controller enabled and mastering the bus, its
    queues in boot-services memory the hub takes over (efi/dmaoff.c): the
    stub turns bus mastering off on it and on the AHCI controller at the
    takeover, and each native driver turns it on again
    (tnvmeflr, then the disk reads through ahci).  firmware-dma=keep
    leaves COMMAND as the firmware left it: bus mastering on."""
    stopped, command = nvme_start_command([])
    assert stopped is not None and '00:1f.2' in stopped, stopped
    assert any(bdf.endswith(':00.0') and bdf != '00:00.0'
               for bdf in stopped), stopped       # the NVMe, behind rp9
    assert command & 0x4 == 0, hex(command)
    assert command & 0x2, hex(command)             # decode stays on
    stopped, command = nvme_start_command(['firmware-dma=keep'])
    assert stopped is None
    assert command & 0x4, hex(command)
