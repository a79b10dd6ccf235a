"""The fallback ladder on a real machine (hub/recover.c): usb-kbd faults
three times within the fault window on a machine with both a PS/2 and a
USB keyboard.  It is restarted twice, then left stopped with one line that
names where its clients went; the shell, which reads every keyboard, goes
on reading keys from ps2."""

import re
import time

from pbtest import Machine, PROMPT
from images import custom_image


def usb_keyboard_path(m):
    """The QOM path of QEMU's usb-kbd (added without an id)."""
    for child in m.qmp('qom-list', path='/machine/peripheral-anon'):
        if child['type'] == 'child<usb-kbd>':
            return '/machine/peripheral-anon/' + child['name']
    raise AssertionError('no usb-kbd in /machine/peripheral-anon')


def irq_count(m, module):
    hit = re.search(r'^module %s +(\d+)' % re.escape(module),
                    m.cmd('irqs', 30), re.M)
    return int(hit.group(1)) if hit else 0


def test_hangs_usbkbd_faulting_thrice_leaves_the_shell_on_ps2():
    img = custom_image('hangs-ladder', ['target=os'])
    with Machine('usb', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:', 60)
        # usb-kbd's own work (its interrupt transfers) fires each one.
        for i in range(1, 4):
            out = m.cmd('faultinject again usb-kbd work null', 30)
            assert 'faultinject armed: usb-kbd work null' in out, out
            m.sendkey('shift')
            m.expect(r'usb-kbd faulted: vector 14', 60)
            m.expect(r'usb-kbd: (recovered in|faulted 3 times)', 60)
            status = m.cmd('faultinject status', 30)
            assert 'inject: fired usb-kbd' in status, status
            assert 'faults=%d ' % i in status, status
        text = m.serial_text()
        assert len(re.findall(r'usb-kbd faulted: vector 14', text)) == 3
        assert len(re.findall(r'usb-kbd: recovered in', text)) == 2, \
            text[-3000:]
        gave_up = re.findall(r'usb-kbd: faulted 3 times, not restarted '
                             r'\(within 10000 ms\): (.*)', text)
        assert len(gave_up) == 1, gave_up
        assert re.match(r'clients moved to .*\bps2\b', gave_up[0]), gave_up
        assert re.search(r'^usb-kbd +\S+ +failed', m.cmd('mods', 30), re.M)
        # QEMU gives keys to its newest keyboard: with the USB one pulled
        # out, they come from the PS/2 one.
        before = irq_count(m, 'ps2')
        m.qmp('device_del', id=usb_keyboard_path(m))
        time.sleep(1)
        m.skip_output()
        m.typekeys('echo typed on ps2')
        m.sendkey('ret')
        m.expect(r'^typed on ps2\r?$', 60)
        assert irq_count(m, 'ps2') > before
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
