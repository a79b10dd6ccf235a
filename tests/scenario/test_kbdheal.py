"""A driver's fault inside its client's call, healed without the client
seeing it (issue 15: every driver >= 95 % transparent in the campaign):

- xhci faulting in the submit of the USB keyboard's report request: the
  request waits in the bus for the restarted controller (mods/usb/swap.c
  swap_fault_hold) instead of failing, which made usb-kbd stop reading
  the keyboard for good; keys typed afterwards come back;
- serial faulting in the shell's write of a line: the line is kept and
  written once the restarted serial is rebound (mods/shell/consoles.c),
  not lost.
"""

import re

from pbtest import Machine, PROMPT
from images import custom_image


def echo_typed_on_the_usb_keyboard(m, token):
    """'echo ' on COM1, the token and Enter on the USB keyboard (QEMU's
    newest): True when the shell prints the token."""
    m.send('echo ')
    m.expect(r'echo $', 30)
    m.typekeys(token)
    m.sendkey('ret')
    m.expect(r'^%s\r?$' % token, 20)
    m.expect(r'^' + re.escape(PROMPT), 30)


def test_kbdheal_xhci_fault_in_the_keyboards_submit():
    img = custom_image('kbdheal-xhci', ['target=os', 'watchdog=1000'])
    with Machine('usb', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:', 60)
        kbd = re.search(r'usb: (\S+): \S+ QEMU USB Keyboard',
                        m.serial_text()).group(1)
        echo_typed_on_the_usb_keyboard(m, 'kbd')
        # Armed at xhci's entry: a key's report completes, and usb-kbd
        # submits the next report request into it.
        out = m.cmd('faultinject xhci entry null', 30)
        assert 'faultinject armed: xhci entry null' in out, out
        m.sendkey('shift')
        m.expect(r'xhci faulted: vector 14', 60)
        m.expect(r'xhci: recovered in', 60)
        status = m.cmd('faultinject status', 30)
        assert 'inject: fired xhci' in status, status
        text = m.serial_text()
        assert 'keyboard input stopped' not in text, text[-3000:]
        # Keys typed while the restarted controller resets the keyboard
        # are the device's to lose (QEMU empties its queue); after:
        m.expect_seen(r'usb: %s: back after the controller swap' %
                      re.escape(kbd), 30)
        echo_typed_on_the_usb_keyboard(m, 'heal')
        assert re.search(r'^xhci +\S+ +running', m.cmd('mods', 30), re.M)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_kbdheal_serial_fault_in_a_console_write():
    img = custom_image('kbdheal-serial', ['target=os', 'watchdog=1000'])
    with Machine('default', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        # Armed at serial's entry: the shell's next call into it is the
        # write of the line that says so, which faults.
        out = m.cmd('faultinject serial entry null', 30)
        m.expect(r'serial: recovered in', 60)
        text = m.serial_text()
        assert 'serial faulted: vector 14' in text, text[-3000:]
        # The line written while serial faulted reached COM1 after all.
        assert re.search(r'^faultinject armed: serial entry null', text,
                         re.M), text[-3000:]
        status = m.cmd('faultinject status', 30)
        assert 'inject: fired serial' in status, status
        out = m.cmd('echo after', 30)
        assert out.strip() == 'after', out
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
