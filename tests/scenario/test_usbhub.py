"""The USB hub driver (mods/usb-hub) under QEMU, on the `usbhub` machine
(tools/qemuconf.py): QEMU's usb-hub (8 ports, full speed) on an xHCI root
port, the boot stick on its port 1 and a keyboard on its port 2.

It needs the whole USB stack: xhci (the controller), usb (the bus, and
the shell's `usb` tree) and the class drivers usb-hub, usb-kbd and
usb-storage.  Checked: the hub's set-up line; `usb` shows the keyboard
and the stick one level below the hub, on its ports 2 and 1, each with
its driver; the ESP is read through the stick behind the hub after the
takeover; a keyboard added behind the hub at run time through QEMU's
monitor (port 1.3) appears there and goes with `device_del`; a second
hub plugged behind the first is driven too, and takes its keyboard with
it when it goes; `update usb-hub /esp/patchbay/mods/usb-hub.mod` (read
through the stick behind the hub) swaps the driver under its hub without
a device going, the new instance serving the next plug; and after
`update xhci xhci.mod` the hub's ports are reset and reported again, and
the bus finds the same devices there."""

import os
import re
import time

from pbtest import ROOT, without_log
from test_usb import HUB, KBD, STICK, booted, find, wait_tree

MODS = os.path.join(ROOT, 'build', 'mods')
# usb-hub: usb:1-5-0: 8 ports, full-speed hub
SETUP_LINE = re.compile(r'usb-hub: usb:(?P<dev>\d+-[\d.]+)-0: 8 ports, '
                        r'full-speed hub')


def tree_wait(m, want):
    """`usb` (test_usb's reading of it) until want(rows) holds."""
    out, _, rs = wait_tree(m, want, timeout=120)
    return out, rs


def behind_the_hub(rs):
    """The hub and its two devices, each with its driver."""
    hub, kbd, stick = find(rs, HUB), find(rs, KBD), find(rs, STICK)
    return (len(hub) == 1 and len(kbd) == 1 and len(stick) == 1 and
            hub[0]['driver'] == 'usb-hub' and
            kbd[0]['driver'] == 'usb-kbd' and
            stick[0]['driver'] == 'usb-storage')


def logged(m, pattern, count=1, timeout=60):
    """Wait until COM1 holds `count` lines matching pattern anywhere
    (a log line may land inside a command's output, which cmd() has
    already passed)."""
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, m.serial_text())) < count:
        if time.monotonic() > deadline:
            m.fail('never logged %d times: %s' % (count, pattern))
        time.sleep(1)


def hub_ready(m):
    """Wait for the tree; check where the devices sit; the hub's dev."""
    out, rs = tree_wait(m, behind_the_hub)
    hub = find(rs, HUB)[0]
    kbd, stick = find(rs, KBD)[0], find(rs, STICK)[0]
    # QEMU's port=1.2 and 1.1: the hub's ports 2 and 1, one level down.
    assert kbd['dev'] == hub['dev'] + '.2', out
    assert stick['dev'] == hub['dev'] + '.1', out
    for child in (kbd, stick):
        assert len(child['indent']) == len(hub['indent']) + 4, out
    setup = SETUP_LINE.findall(m.serial_text())
    assert setup == [hub['dev']], (setup, hub['dev'])
    return hub['dev']


def esp_readable(m, hub_dev):
    """The ESP is the stick's behind the hub, and reads."""
    listed = without_log(m.cmd('ls /esp/patchbay/mods', check=True)
                         ).split('\n')
    assert 'usb-hub.mod' in listed, listed
    assert sorted(listed, key=lambda s: s.encode()) == \
        sorted(os.listdir(MODS), key=lambda s: s.encode()), listed
    mounts = [l.split() for l in m.cmd('mounts', check=True).split('\n')
              if l.startswith('/esp ')]
    assert len(mounts) == 1, mounts
    ports = hub_dev.split('-', 1)[1] + '.1'
    assert re.fullmatch(r'pci:[0-9a-f:.]+/usb:%s/lun:0/part:1' %
                        re.escape(ports), mounts[0][5]), mounts


def plug_and_unplug(m, hub_dev, times):
    """A keyboard added on the hub's port 3 and taken away again (the
    times-th time): one PORT_ON and one disconnect line each."""
    dev = hub_dev + '.3'
    port3 = r'usb-hub: usb:%s-0: port 3: ' % re.escape(hub_dev)
    m.monitor('device_add usb-kbd,bus=xhci.0,port=1.3,id=k3')
    out, rs = tree_wait(m, lambda rs: dev in [r['dev'] for r in
                                              find(rs, KBD)])
    assert [r['driver'] for r in rs if r['dev'] == dev] == ['usb-kbd'], out
    logged(m, port3 + 'full-speed device', times)
    m.monitor('device_del k3')
    out, rs = tree_wait(m, lambda rs: dev not in [r['dev'] for r in rs])
    assert len(find(rs, KBD)) == 1 and len(find(rs, STICK)) == 1, out
    logged(m, port3 + 'disconnected', times)
    text = m.serial_text()
    assert len(re.findall(port3 + 'full-speed device', text)) == times, text


def test_usbhub_tree_and_esp():
    """The hub set up once, the keyboard and the stick behind it with
    their drivers, the ESP read through the stick after the takeover."""
    with booted('usbhub') as m:
        hub_dev = hub_ready(m)
        esp_readable(m, hub_dev)
        text = m.serial_text()
        assert not re.search(r'usb-hub: .*(refused|failed|left alone)',
                             text), text
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usbhub_hot_plug():
    """device_add behind the hub appears in `usb`; device_del takes it
    away (the hub's status change endpoint, a reset, PORT_ON/OFF)."""
    with booted('usbhub') as m:
        hub_dev = hub_ready(m)
        plug_and_unplug(m, hub_dev, 1)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usbhub_update():
    """`update usb-hub PATH`, the module file read from the stick behind
    the hub itself: the new instance takes the hub's port table; no
    device goes, nothing is enumerated again, the ESP still reads and the
    next plug is the new instance's."""
    with booted('usbhub') as m:
        hub_dev = hub_ready(m)
        start = len(m.serial_text())
        m.cmd('update usb-hub /esp/patchbay/mods/usb-hub.mod', timeout=90,
              check=True)
        logged(m, r'usb-hub -> usb-hub: blackout \d+ us')
        logged(m, r'usb-hub: usb:%s-0: 8 ports, 2 devices on them: taken '
               r'over' % re.escape(hub_dev))
        tree_wait(m, behind_the_hub)
        after = m.serial_text()[start:]
        assert not re.search(r'usb: \S+: (unplugged|.* plugged)', after), \
            after
        esp_readable(m, hub_dev)
        plug_and_unplug(m, hub_dev, 1)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usbhub_nested_hub():
    """A second hub plugged on the first's port 4 at run time is taken by
    hand (a bind rule loads the module once), set up, and its own port 1
    serves a keyboard; unplugging that hub takes the keyboard with it."""
    with booted('usbhub') as m:
        hub_dev = hub_ready(m)
        hub2 = hub_dev + '.4'
        m.monitor('device_add usb-hub,bus=xhci.0,port=1.4,id=h2')
        logged(m, r'usb-hub: usb:%s-0: 8 ports, full-speed hub' %
               re.escape(hub2))
        m.monitor('device_add usb-kbd,bus=xhci.0,port=1.4.1,id=k4')
        out, rs = tree_wait(m, lambda rs: hub2 + '.1' in
                            [r['dev'] for r in find(rs, KBD)])
        hubs = {r['dev']: r for r in find(rs, HUB)}
        assert set(hubs) == {hub_dev, hub2}, out
        assert hubs[hub2]['driver'] == 'usb-hub', out
        kbd = [r for r in rs if r['dev'] == hub2 + '.1'][0]
        assert kbd['driver'] == 'usb-kbd', out
        assert len(kbd['indent']) == len(hubs[hub2]['indent']) + 4, out
        m.monitor('device_del h2')
        out, rs = tree_wait(m, lambda rs: not [r for r in rs if
                                               r['dev'].startswith(hub2)])
        assert behind_the_hub(rs), out
        logged(m, r'usb-hub: usb:%s-0: port 4: disconnected' %
               re.escape(hub_dev))
        esp_readable(m, hub_dev)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usbhub_controller_swap():
    """`update xhci xhci.mod`: the bus enumerates the hub again and
    replays its port power; the hub reports its ports again and the
    driver resets them and says PORT_ON again, without a PORT_OFF; the
    bus finds the same devices there: nothing unplugged, the ESP reads."""
    with booted('usbhub') as m:
        hub_dev = hub_ready(m)
        port = r'usb-hub: usb:%s-0: port %%u: full-speed device' % \
            re.escape(hub_dev)
        start = len(m.serial_text())
        m.cmd('update xhci xhci.mod', timeout=60, check=True)
        logged(m, r'xhci -> xhci: blackout \d+ us')
        for n in (1, 2):
            logged(m, port % n, 2)
        tree_wait(m, behind_the_hub)
        after = m.serial_text()[start:]
        assert not re.search(r'usb: \S+: unplugged', after), after
        assert 'disconnected' not in after, after
        esp_readable(m, hub_dev)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
