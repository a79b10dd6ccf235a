"""USB on the real image: the bus driver (mods/usb) on QEMU's xHCI, with
the shell's `usb` tree and hot plug through QEMU's monitor.

The whole stack is xhci (the controller, `usb-hci`), usb (the bus, one
`usb` resource per interface) and the class drivers usb-kbd, usb-storage
and usb-hub, each its own module.  A build without xhci has no controller
driver: then the bus is never loaded (it binds to `usb-hci`) and `usb`
says so; a class driver not built shows as `driver=-`.

Machines (tools/qemuconf.py): `usbonly` (the boot disk a USB stick, a USB
keyboard, no PS/2, no SATA) and `usbhub` (the two behind QEMU's usb-hub).
QEMU's qemu-xhci numbers its USB 3 ports first, so where a device lands
depends on its speed: the tests find devices by ids and class, not by
port."""

import contextlib
import os
import re
import time

from pbtest import Machine, PROMPT, ROOT

BOOT_TIMEOUT = 180
MODS = os.path.join(ROOT, 'build', 'mods')
XHCI_BUILT = os.path.exists(os.path.join(MODS, 'xhci.mod'))
KBD = ('0627', '0001', '03')          # QEMU's usb-kbd, HID
STICK = ('46f4', '0001', '08')        # QEMU's usb-storage, mass storage
HUB = ('0409', '55aa', '09')          # QEMU's usb-hub

TREE_LINE = re.compile(
    r'^(?P<indent> *)\|__ (?P<dev>\d+-[\d.]+) if (?P<iface>\d+): '
    r'(?P<vid>[0-9a-f]{4}):(?P<pid>[0-9a-f]{4}) .*\[(?P<cls>[0-9a-f]{2})\.'
    r'(?P<sub>[0-9a-f]{2})\.(?P<proto>[0-9a-f]{2})\], (?P<speed>\S+) speed, '
    r'driver=(?P<driver>\S+)$')
HCI_LINE = re.compile(r'^usb-hci:\S+ (?P<path>\S+), (?P<ports>\d+) ports, '
                      r'driver=(?P<driver>\S+)$')


def driver(name):
    """The driver `usb` shows for a class driver's interfaces."""
    return name if os.path.exists(os.path.join(MODS, name + '.mod')) else '-'


def tree(m):
    """`usb`: the controller lines and the interface rows (log lines the
    hub writes to COM1 meanwhile are left out)."""
    out = m.cmd('usb', check=True)
    hcis, rows = [], []
    for line in out.split('\n'):
        h, r = HCI_LINE.match(line), TREE_LINE.match(line)
        if h:
            hcis.append(h.groupdict())
        elif r:
            rows.append(r.groupdict())
    return out, hcis, rows


def find(rows, ids):
    return [r for r in rows if (r['vid'], r['pid'], r['cls']) == ids]


def wait_tree(m, want, timeout=90):
    """`usb` until want(rows) holds: enumeration and the class drivers'
    loading go on after the first prompt."""
    deadline = time.monotonic() + timeout
    while True:
        out, hcis, rows = tree(m)
        if want(rows):
            return out, hcis, rows
        if time.monotonic() > deadline:
            m.fail('`usb` never showed what was wanted:\n' + out)
        time.sleep(2)


@contextlib.contextmanager
def booted(config):
    """A machine booted up to the shell's first prompt.  OVMF does not
    always find the boot option of a stick behind a hub in time (the hub's
    ports come up late under emulation) and starts its own shell: then the
    stub is started from there, on the same disk."""
    with Machine(config, timeout=600) as m:
        first = m.expect(r'^(?:%s|Shell> )' % re.escape(PROMPT),
                         BOOT_TIMEOUT)
        if first.group(0) == 'Shell> ':
            m.sendline(r'fs0:\EFI\BOOT\BOOTX64.EFI')
            m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        yield m


def no_controller(m):
    """Without xhci nothing drives the controller: no bus, no tree."""
    assert m.cmd('usb') == 'no USB controllers'
    assert not re.search(r'\] usb: ', m.serial_text()), m.serial_text()


def test_usb_tree_usbonly():
    with booted('usbonly') as m:
        if not XHCI_BUILT:
            no_controller(m)
            return
        kbd_driver, stick_driver = driver('usb-kbd'), driver('usb-storage')

        def ready(rows):
            k, s = find(rows, KBD), find(rows, STICK)
            return (len(k) == 1 and len(s) == 1 and
                    k[0]['driver'] == kbd_driver and
                    s[0]['driver'] == stick_driver)
        out, hcis, rows = wait_tree(m, ready)
        assert len(hcis) == 1 and hcis[0]['driver'] == 'xhci', out
        assert hcis[0]['path'].startswith('pci:'), out
        assert len(rows) == 2, out
        kbd, stick = find(rows, KBD)[0], find(rows, STICK)[0]
        # QEMU's usb-kbd is a USB 2 device (usb_version=2): high speed on
        # a root port, full speed behind QEMU's full-speed usb-hub.
        assert (kbd['sub'], kbd['proto']) == ('01', '01'), out
        assert kbd['speed'] in ('full', 'high'), out
        assert (stick['sub'], stick['proto']) == ('06', '50'), out
        assert stick['speed'] in ('high', 'super'), out
        for r in rows:      # both on root ports
            assert r['indent'] == '  ' and '.' not in r['dev'], out
        text = m.serial_text()
        assert re.search(r'usb: %s: 0627:0001 QEMU USB Keyboard \(%s '
                         r'speed\) plugged' % (re.escape(kbd['dev']),
                                               kbd['speed']), text)
        assert re.search(r'usb: %s: 46f4:0001 .*plugged' %
                         re.escape(stick['dev']), text)
        res = m.cmd('res', check=True)
        assert 'usb:%s-0' % kbd['dev'] in res, res
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usb_tree_usbhub():
    with booted('usbhub') as m:
        if not XHCI_BUILT:
            no_controller(m)
            return
        hub_driver = driver('usb-hub')

        def ready(rows):
            return (len(find(rows, HUB)) == 1 and
                    find(rows, HUB)[0]['driver'] == hub_driver and
                    (hub_driver == '-' or
                     (len(find(rows, KBD)) == 1 and
                      len(find(rows, STICK)) == 1)))
        out, _, rows = wait_tree(m, ready)
        if hub_driver == '-':
            return      # nobody reports the hub's ports
        hub = find(rows, HUB)[0]
        for ids in (KBD, STICK):
            child = find(rows, ids)[0]
            assert child['dev'].startswith(hub['dev'] + '.'), out
            assert len(child['indent']) == len(hub['indent']) + 4, out
        assert [r['dev'] for r in rows][0] == hub['dev'], out
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usb_hot_plug():
    with booted('usbonly') as m:
        if not XHCI_BUILT:
            m.monitor('device_add usb-kbd,bus=xhci.0,id=k2')
            no_controller(m)
            return
        wait_tree(m, lambda rows: len(find(rows, KBD)) == 1)
        before = m.serial_text()
        old = set(re.findall(r'usb: (\S+): 0627:0001 QEMU USB Keyboard',
                             before))
        m.monitor('device_add usb-kbd,bus=xhci.0,id=k2')
        plug = re.compile(r'usb: (\S+): 0627:0001 QEMU USB Keyboard '
                          r'\((?:full|high) speed\) plugged')
        deadline = time.monotonic() + 60
        new = []
        while not new:
            new = [d for d in plug.findall(m.serial_text()) if d not in old]
            if time.monotonic() > deadline:
                m.fail('no plug line for the second keyboard')
            time.sleep(1)
        dev = new[0]
        out, _, rows = wait_tree(m, lambda rows: len(find(rows, KBD)) == 2)
        assert dev in [r['dev'] for r in find(rows, KBD)], out
        m.monitor('device_del k2')
        m.expect(r'usb: %s: unplugged' % re.escape(dev), 60)
        out, _, rows = wait_tree(m, lambda rows: len(find(rows, KBD)) == 1)
        assert dev not in [r['dev'] for r in rows], out
        text = m.serial_text()
        assert len(re.findall(r'usb: %s: [0-9a-f]{4}:[0-9a-f]{4} .* plugged'
                              % re.escape(dev), text)) == 1, text
        assert len(re.findall(r'usb: %s: unplugged' % re.escape(dev),
                              text)) == 1, text
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usb_two_step_addressing():
    """boot.cfg usb-address=two-step: every device is addressed in two
    steps at its first attempt (ADD leaves it at address 0, xHCI's
    Address Device with BSR=1, its descriptor is read there, then
    SET_ADDRESS): QEMU's keyboard and stick come up so, and the stick
    serves the ESP."""
    if not XHCI_BUILT:
        return
    from images import custom_image
    img = custom_image('usb-two-step', ['target=os',
                                        'usb-address=two-step'])
    with Machine('usbonly', image=img, timeout=600) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)

        def ready(rows):
            k, s = find(rows, KBD), find(rows, STICK)
            return (len(k) == 1 and len(s) == 1 and
                    k[0]['driver'] == driver('usb-kbd') and
                    s[0]['driver'] == driver('usb-storage'))
        out, _, rows = wait_tree(m, ready)
        text = m.serial_text()
        assert re.search(r'usb: devices addressed in two steps first '
                         r'\(boot\.cfg usb-address=two-step\)$', text,
                         re.M), m.tail()
        assert 'trying again' not in text, m.tail()
        assert len(re.findall(r'usb: \S+: .* plugged$', text, re.M)) == 2, \
            m.tail()
        ls = m.cmd('ls /esp/patchbay', check=True)
        assert 'boot.cfg' in ls, ls
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
