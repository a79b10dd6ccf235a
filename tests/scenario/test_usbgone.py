"""A USB class driver that goes (here faulted and left stopped; an unload
takes the same path, mod_stop, but the shell keeps usb-kbd in use):
before the hub takes its memory back, the bus and xhci drop its requests
and stop its endpoints (mods/xhci/gone.c, usb-hci forget), so keys typed
on the USB keyboard afterwards reach nobody's freed memory: no fault in
xhci, which keeps serving the USB stick."""

import re

from pbtest import Machine, PROMPT
from images import custom_image

# Its interrupt transfer, with whatever else of the driver's was still
# out at that moment (seen: 2 under load): the count is not the point.
STOPPED = r'xhci0: device \d+: its driver went; dropped: [1-9]\d* on ' \
          r'its rings \(stopped first\)'


def type_on_the_usb_keyboard(m):
    """Keys go to QEMU's newest keyboard: the USB one."""
    for key in ('a', 'b', 'shift', 'ret', 'c'):
        m.sendkey(key)


def assert_dropped(text):
    """A gone driver's transfer left xhci with its endpoint stopped, and
    the bus never had to tell the hub to keep the memory."""
    assert re.search(STOPPED, text), text[-4000:]
    assert not re.search(r'did not drop its requests', text), text


def assert_xhci_serves(m, text):
    assert not re.search(r'xhci faulted', text), text[-3000:]
    assert re.search(r'^xhci +\S+ +running', m.cmd('mods', 30), re.M)
    # The stick still answers through xhci.
    out = m.cmd('ls /esp/patchbay', 60)
    assert 'boot.cfg' in out, out


def test_usbgone_faulted_keyboard_left_stopped_then_keys_typed():
    img = custom_image('usbgone-fault', ['target=os'])
    with Machine('usb', image=img, timeout=400) as m:
        m.expect(r'^' + re.escape(PROMPT), 150)
        # Armed at its entry: it faults in the shell's next call into
        # it, made as the shell reads every keyboard after the command's
        # line.  Armed only once the keyboard is read (its interrupt
        # transfer out, after the set-up's control requests), and no key
        # is pressed: a set-up request or a report between its completion
        # and the driver's next request is neither on a ring nor waiting.
        for i in range(1, 4):
            m.expect_seen(r'(?s)(?:usbkbd0: set up: its reports are '
                          r'read.*?){%d}' % i, 60)
            out = m.cmd('faultinject again usb-kbd entry null', 30)
            assert 'faultinject armed: usb-kbd entry null' in out, out
            m.expect(r'usb-kbd faulted: vector 14', 60)
            m.expect(r'usb-kbd: (recovered in|faulted 3 times)', 60)
        assert re.search(r'^usb-kbd +\S+ +failed', m.cmd('mods', 30), re.M)
        text = m.serial_text()
        # It went with its interrupt transfer out, each time: the
        # transfer left xhci with the endpoint stopped, before its memory
        # was freed.
        assert len(re.findall(STOPPED, text)) == 3, text[-4000:]
        assert_dropped(text)
        type_on_the_usb_keyboard(m)
        m.skip_output()
        assert_xhci_serves(m, m.serial_text())
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usbgone_unloaded_hub_driver():
    """usb-hub serves no client, so it can be unloaded: its hub's
    status-change transfer leaves xhci, the endpoint stopped, before its
    memory goes; the hub itself still passes traffic, so the stick and
    the keyboard behind it go on working without a fault in xhci."""
    from test_usb import booted
    from test_usbhub import hub_ready
    with booted('usbhub') as m:
        hub_ready(m)
        out = m.cmd('unload usb-hub', 60)
        assert 'usb-hub unloaded' in out, out
        assert_dropped(m.serial_text())
        # The keyboard behind the hub still types into the shell.
        m.skip_output()
        m.typekeys('echo typed behind the hub')
        m.sendkey('ret')
        m.expect(r'^typed behind the hub\r?$', 60)
        assert_xhci_serves(m, m.serial_text())
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
