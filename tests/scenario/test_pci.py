"""The pci module (mods/pci) on QEMU's q35: the shell's `pci` lists exactly
the functions QEMU's monitor reports (`info pci`: bus, device, function,
vendor, device, class), and the properties of each `pci:` resource (`res`)
carry the BARs QEMU says the firmware assigned, on the default machine,
with qemu-xhci (usb), with bochs-display, and with bridges, a
multi-function device and 64-bit prefetchable BARs behind them.  A test
driver (tests/mods/tpci) bound by its rule checks the ops: BAR mapping,
MSI-X programming, one client per function."""

import re

from pbtest import Machine, PROMPT
from images import custom_image

BOOT_TIMEOUT = 120

# `pci`: 00:1f.2 SATA controller [0106]: 8086:2922 (rev 02) driver=-
PCI_LINE = re.compile(
    r'(?:[0-9a-f]{4}:)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) (.+) '
    r'\[([0-9a-f]{4})\]: ([0-9a-f]{4}):([0-9a-f]{4}) \(rev ([0-9a-f]{2})\) '
    r'driver=(\S+)')

# The class descriptions QEMU's `info pci` prints (hw/pci/pci.c
# pci_class_descriptions) for the devices these machines have; other
# classes it prints as "Class NNNN", in decimal.
QEMU_CLASSES = {
    'Host bridge': 0x0600, 'ISA bridge': 0x0601, 'PCI bridge': 0x0604,
    'SATA controller': 0x0106, 'SMBus': 0x0c05, 'USB controller': 0x0c03,
    'VGA controller': 0x0300, 'Display controller': 0x0380,
}

MON_FUNC = re.compile(r'^\s*Bus\s+(\d+), device\s+(\d+), function (\d+):$')
MON_ID = re.compile(r'^\s*(.+): PCI device ([0-9a-f]{4}):([0-9a-f]{4})$')
MON_BAR = re.compile(r'^\s*BAR(\d): (?:I/O|(32|64) bit( prefetchable)? '
                     r'memory) at 0x([0-9a-f]+) \[0x([0-9a-f]+)\]\.$')
MON_IO = re.compile(r'^\s*BAR(\d): I/O at')


def monitor_functions(m):
    """{(bus, dev, fn): {'id': (vendor, device, class), 'bars': {n: kind,
    base, size}}} from `info pci`."""
    funcs, cur = {}, None
    for line in m.monitor('info pci').splitlines():
        f = MON_FUNC.match(line)
        if f:
            cur = {'bars': {}}
            funcs[tuple(int(x) for x in f.groups())] = cur
            continue
        i = MON_ID.match(line)
        if i and cur is not None and 'id' not in cur:
            desc, ven, dev = i.groups()
            c = re.fullmatch(r'Class (\d+)', desc)
            if c:
                cls = int(c.group(1))
            else:
                assert desc in QEMU_CLASSES, \
                    'info pci names a class this test does not know: %r' % desc
                cls = QEMU_CLASSES[desc]
            cur['id'] = (int(ven, 16), int(dev, 16), cls)
            continue
        b = MON_BAR.match(line)
        if b and cur is not None and b.group(1) != '6':	# 6: the ROM
            n, width, pref, start, end = b.groups()
            start, end = int(start, 16), int(end, 16)
            if MON_IO.match(line):
                kind = 'io'
            else:
                kind = 'mem%s%s' % (width, 'p' if pref else '')
            cur['bars'][int(n)] = (kind, start, end - start + 1)
    assert funcs, 'info pci listed nothing'
    return funcs


def shell_functions(out):
    """{(bus, dev, fn): (vendor, device, class, driver)} from `pci`."""
    funcs = {}
    for line in out.splitlines():
        p = PCI_LINE.fullmatch(line)
        assert p, 'pci printed %r' % line
        bus, dev, fn, _, cls, ven, did, _, driver = p.groups()
        funcs[(int(bus, 16), int(dev, 16), int(fn))] = (
            int(ven, 16), int(did, 16), int(cls, 16), driver)
    return funcs


def resource_bars(m):
    """{(bus, dev, fn): {n: (kind, base, size)}} from the props `res` shows."""
    bars = {}
    for line in m.cmd('res', check=True).splitlines():
        r = re.match(r'\s+pci:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) (.*)', line)
        if not r:
            continue
        key = (int(r.group(1), 16), int(r.group(2), 16), int(r.group(3)))
        bars[key] = {int(n): (kind, int(base, 16), int(size, 16))
                     for n, kind, base, size in re.findall(
                         r'\bbar(\d)=(\w+):0x([0-9a-f]+)\+0x([0-9a-f]+)',
                         r.group(4))}
    return bars


def check_against_qemu(config, extra=None, image='build/patchbay.img'):
    with Machine(config, timeout=240, extra=extra, image=image) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        ours = shell_functions(m.cmd('pci', check=True))
        qemu = monitor_functions(m)
        bars = resource_bars(m)
        log = m.serial_text()
    got = {k: v[:3] for k, v in ours.items()}
    want = {k: v['id'] for k, v in qemu.items()}
    assert got == want, 'pci lists %s, QEMU %s' % (sorted(got.items()),
                                                   sorted(want.items()))
    for key, f in qemu.items():
        for n, bar in f['bars'].items():
            if bar[1] == 0xffffffffffffffff:
                continue		# not mapped: nothing to compare
            assert bars[key].get(n) == bar, \
                '%02x:%02x.%x bar%d: ours %r, QEMU %r' % (
                    key + (n, bars[key].get(n), bar))
        for n in bars[key]:
            assert n in f['bars'], '%02x:%02x.%x bar%d: QEMU has none' % (
                key + (n,))
    # One log line per function, and nothing refused or unusable.
    for (bus, dev, fn), (ven, did, _) in want.items():
        assert re.search(r'pci: %02x:%02x\.%x %04x:%04x class ' % (
            bus, dev, fn, ven, did), log), (bus, dev, fn)
    assert 'unusable' not in log and 'not followed' not in log
    return ours, bars, log


def test_pci_default():
    ours, _, _ = check_against_qemu('default')
    assert ours[(0, 0x1f, 2)][:3] == (0x8086, 0x2922, 0x0106)


def test_pci_usb_xhci():
    ours, bars, _ = check_against_qemu('usb')
    xhci = [k for k, v in ours.items() if v[:3] == (0x1b36, 0x000d, 0x0c03)]
    assert len(xhci) == 1, ours
    # qemu-xhci has a 64-bit BAR0 (HARDWARE.md: MSI-X, no MSI).
    assert bars[xhci[0]][0][0] == 'mem64', bars[xhci[0]]


def test_pci_bochs_display():
    ours, bars, _ = check_against_qemu('bochs')
    disp = [k for k, v in ours.items() if v[:3] == (0x1234, 0x1111, 0x0380)]
    assert len(disp) == 1, ours
    assert bars[disp[0]][0][0] == 'mem32p', bars[disp[0]]


def test_pci_bridges_and_multifunction():
    """A PCIe root port (bus 1) with a two-function device, and a PCIe-PCI
    bridge (bus 2) with one more: buses behind bridges, functions other
    than 0, 64-bit prefetchable BARs."""
    extra = ('-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=4 '
             '-device virtio-rng-pci,bus=rp1,addr=0.0,multifunction=on '
             '-device virtio-rng-pci,bus=rp1,addr=0.3 '
             '-device pcie-pci-bridge,id=pb1,bus=pcie.0,addr=5 '
             '-device virtio-rng-pci,bus=pb1,addr=2')
    ours, bars, _ = check_against_qemu('default', extra)
    for key in [(1, 0, 0), (1, 0, 3), (2, 2, 0)]:
        assert key in ours, ours
    assert any(b[0] == 'mem64p' for b in bars[(1, 0, 3)].values())


def test_pci_driver_bound_by_rule():
    """tpci's bind rule (vendor=1af4 device=1044) loads it for a modern
    virtio-rng; `pci` names it as the driver, and its calls land."""
    img = custom_image('tpci', ['target=os'], mods=['tpci'])
    extra = '-device virtio-rng-pci,disable-legacy=on,addr=6'
    ours, _, log = check_against_qemu('default', extra, image=img)
    assert ours[(0, 6, 0)] == (0x1af4, 0x1044, 0x00ff, 'tpci'), ours
    # The std VGA and the AHCI have their drivers too (bochs-display's
    # and ahci's rules); no other.
    assert ours[(0, 1, 0)][3] == 'bochs-display', ours
    assert ours[(0, 31, 2)][3] == 'ahci', ours
    assert all(v[3] == '-' for k, v in ours.items()
               if k not in ((0, 6, 0), (0, 1, 0), (0, 31, 2))), ours
    assert re.search(r'tpci binds to pci:00:06\.0', log), log
    assert re.search(r'tpci: bound to pci:00:06\.0: 1af4:1044 msix=\d+ '
                     r'entries', log)
    e = re.search(r'tpci: msix entry 1: r=0 addr=00000000:fee00000 '
                  r'data=0x([0-9a-f]+) vector=0x([0-9a-f]+) masked=0 '
                  r'enabled=1 fmask=0 intx-off=1', log)
    assert e and e.group(1) == e.group(2), log
    assert re.search(r'tpci: entry \d+: -2\b', log)	# past the table
    assert 'tpci: msi_disable: r=0 enabled=0 masked=1' in log
    assert 'tpci: second connection refused' in log
    assert re.search(r'error: hub: pci:00:06\.0 refused to tpci: it takes '
                     r'1 client', log)
