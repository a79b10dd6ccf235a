"""The xhci module (mods/xhci) on QEMU's qemu-xhci (config usb: at
00:02.0, a USB stick on a SuperSpeed port and a usb-kbd on a USB 2 one):
it binds by class, takes MSI-X, finds its ports from the Supported
Protocol capabilities, resets them and reports the devices, and publishes
usb-hci:xhci0 with the properties abi/usb.h names.  The test module
txhcibus plays the bus driver: it sets each device up through the
driver (ADD, descriptors, EP0_MPS, SET_CONFIGURATION, EP_ENABLE), reads
the stick's block 0 with a Bulk-Only READ(10) (checked against the image
file on the host) and keeps an interrupt IN on the keyboard (a key sent
through QEMU's monitor comes back as a boot report).  `update xhci`
replaces the driver by another instance of itself: the standing requests
are handed over, the devices set up again and resumed, and the keyboard's
held report request answers the next key.  xhci-msi=no polls; xhci=no
keeps the module off.  Images with txhcibus leave out the real USB bus
driver and class drivers (mods usb, usb-*), which would be a second
client of the controller."""

import re
import time

from pbtest import Machine, esp_delete, esp_ls
from images import custom_image

BOOT_TIMEOUT = 150
UP = (r'xhci: xhci0: pci:00:02\.0: xHCI 1\.00, 8 ports \(usb2 5-8, usb3 '
      r'1-4\), 64 slots, 32-byte contexts, 64-bit DMA, %s$')


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def seen(m, pattern, timeout=90):
    """Wait until pattern is anywhere in COM1's output; return the match."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.search(pattern, m.serial_text(), re.M)
        if found:
            return found
        if not m.running():
            break
        time.sleep(0.2)
    m.fail('no /%s/ in %gs' % (pattern, timeout))


def image(name, cfg=(), bus=True):
    """A test image; with txhcibus as the only client of the controller."""
    lines = ['target=os'] + (['exec=load txhcibus'] if bus else [])
    img = custom_image(name, lines + list(cfg),
                       mods=['txhcibus'] if bus else [])
    if bus:
        for f in esp_ls(img, '/patchbay/mods'):
            if re.match(r'^usb(-[a-z]+)?\.mod$', f):
                esp_delete(img, '/patchbay/mods/' + f)
    return img


def block0(m, img):
    """txhcibus read the stick's block 0 as the image file holds it."""
    with open(img, 'rb') as f:
        want = fnv1a64(f.read(512))
    got = seen(m, r'txhcibus: dev 2: block 0 fnv=([0-9a-f]{16}) '
               r'\(512 bytes\)')
    assert int(got.group(1), 16) == want, \
        'block 0 read through xhci is not the image file\'s'
    seen(m, r'txhcibus: dev 2: csw ok status 0')


def key_report(m, key='a', usage='04', timeout=30):
    """A key sent through QEMU's keyboard comes back as a boot report."""
    before = len(re.findall(r'txhcibus: dev 5: report', m.serial_text()))
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m.sendkey(key)
        time.sleep(1)
        reports = re.findall(r'txhcibus: dev 5: report (.*)$',
                             m.serial_text(), re.M)
        if len(reports) > before and any(
                r.split()[2] == usage for r in reports[before:]):
            return
    m.fail('no report with usage %s for key %s' % (usage, key))


def test_binds_and_reports_ports():
    """The driver binds to qemu-xhci, takes MSI-X, resets and reports both
    ports, publishes usb-hci:xhci0; the firmware's disk still ends."""
    with Machine('usb', image='build/patchbay.img',
                 timeout=BOOT_TIMEOUT) as m:
        seen(m, r'xhci binds to pci:00:02\.0')
        seen(m, UP % r'MSI-X on vector \d+')
        seen(m, r'xhci: xhci0: port 2: connected, super speed')
        seen(m, r'xhci: xhci0: port 5: connected, high speed')
        m.expect(r'patchbay> ', 60)
        res = m.cmd('res', 30, check=True)
        assert re.search(r'usb-hci:xhci0 path=pci:00:02\.0 ports=8 usb2=5-8 '
                         r'usb3=1-4', res), res
        seen(m, r'takeover: block:efi0 \(path=pci:00:02\.0/usb:2/lun:0\) ')
        assert 'xhci: event dropped' not in m.serial_text(), m.tail()


def test_devices_answer():
    """Through the driver: the stick's descriptors, configuration, bulk
    endpoints (block 0 as the image file holds it), the keyboard's
    interrupt endpoint (a key comes back)."""
    img = image('xhci-devices')
    with Machine('usb', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'txhcibus: dev 2: 46f4:0001 class 00 at super speed, 2 '
             r'endpoints')
        block0(m, img)
        seen(m, r'txhcibus: dev 5: 0627:0001 class 00 at high speed, 1 '
             r'endpoints')
        m.expect(r'patchbay> ', 60)
        key_report(m)
        text = m.serial_text()
        assert 'error: ' not in text, m.tail()
        assert 'xhci: event dropped' not in text, m.tail()


def test_polling_without_msi():
    """xhci-msi=no: the event ring read from a timer; the same answers."""
    img = image('xhci-poll', ['xhci-msi=no'])
    with Machine('usb', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, UP % r'polling \(boot\.cfg xhci-msi=no\)')
        block0(m, img)
        m.expect(r'patchbay> ', 60)
        key_report(m, 'b', '05')
        assert 'MSI-X on vector' not in m.serial_text(), m.tail()


def test_update_hands_requests_over():
    """update xhci: a second instance takes the controller; the standing
    WAIT_EVENT and the keyboard's interrupt IN go with it, the devices
    are set up again and resumed, the held request answers the next key."""
    img = image('xhci-update')
    with Machine('usb', image=img, timeout=BOOT_TIMEOUT + 60) as m:
        seen(m, r'txhcibus: dev 5: 0627:0001')
        m.expect(r'patchbay> ', 60)
        key_report(m)
        out = m.cmd('update xhci xhci.mod', 60, check=True)
        assert re.search(r'updated xhci: 1\.0 -> 1\.0, blackout \d+ us',
                         out), out
        seen(m, r'xhci: xhci0: took over 2 requests \(1 held for their '
             r'devices\); the controller is reset')
        seen(m, r'txhcibus: dev 5: set up again, resumed')
        seen(m, r'txhcibus: dev 2: set up again, resumed')
        key_report(m, 'c', '06')
        text = m.serial_text()
        assert 'error: ' not in text, m.tail()
        assert 'interrupt IN ended' not in text, m.tail()


def test_off_by_boot_cfg():
    """xhci=no: the module declines; no usb-hci resource."""
    img = image('xhci-off', ['xhci=no'], bus=False)
    with Machine('usb', image=img, timeout=BOOT_TIMEOUT) as m:
        seen(m, r'xhci: off \(boot\.cfg xhci=no\)')
        m.expect(r'patchbay> ', 60)
        res = m.cmd('res', 30, check=True)
        assert 'usb-hci:' not in res, res


def test_hot_unplug_and_plug():
    """A keyboard pulled out (QMP device_del) is reported gone and removed;
    plugged in again (device_add) it is reset, reported and set up, and
    answers keys."""
    img = image('xhci-hotplug')
    extra = ['-device', 'usb-kbd,bus=xhci.0,port=3,id=kbd2']
    with Machine('usb', image=img, extra=extra,
                 timeout=BOOT_TIMEOUT + 60) as m:
        seen(m, r'txhcibus: dev 7: 0627:0001')
        m.expect(r'patchbay> ', 60)
        m.qmp('device_del', id='kbd2')
        seen(m, r'xhci: xhci0: port 7: disconnected')
        seen(m, r'txhcibus: port 7 disconnected')
        seen(m, r'txhcibus: dev 7: interrupt IN ended \(-15\)')
        m.qmp('device_add', driver='usb-kbd', bus='xhci.0', port='3',
              id='kbd2')
        seen(m, r'(?s)port 7 disconnected.*xhci: xhci0: port 7: connected, '
             r'high speed')
        seen(m, r'(?s)port 7 disconnected.*txhcibus: dev 7: 0627:0001')
        text = m.serial_text()
        assert 'error: ' not in text, m.tail()
        assert 'xhci: event dropped' not in text, m.tail()
