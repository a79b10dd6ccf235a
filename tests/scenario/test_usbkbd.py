"""USB keyboards (mods/usb-kbd) and the keyboard at the takeover on a PC
with no PS/2 (hub/kbdhold.c).

The takeover tests run today: tests/mods/tusbkbd-absent is a keyboard
driver ranked above serial whose device is not there, so the takeover
chooses it for the firmware's keyboard and it declines after the exit, as
serial does on a PC without COM1; the keys typed into ConIn before the
exit (over COM1, through OVMF's terminal) must then reach the shell
through the first native keyboard that starts.

The usb-kbd tests need the whole USB stack in the image (xhci, usb: other
branches); until it is there they fail at once saying so."""

import os
import re

from images import custom_image
from pbtest import ROOT, Machine

USB_STACK = ('xhci', 'usb', 'usb-kbd')


def need_usb_stack():
    missing = [m for m in USB_STACK if not os.path.exists(
        os.path.join(ROOT, 'build', 'mods', m + '.mod'))]
    assert not missing, ('needs the USB stack in the image: no %s.mod '
                         '(the xhci and usbbus branches)' % ', '.join(missing))


def stamp(text, pattern):
    """The hub's timestamp (seconds) of the first log line matching."""
    m = re.search(r'^\[\s*(\d+\.\d+)\] .*' + pattern, text, re.M)
    assert m, 'no log line like %r' % pattern
    return float(m.group(1))


def test_keys_typed_before_the_takeover_kept_by_efi_console():
    """usbonly: the takeover's keyboard declines and ps2 finds no 8042:
    efi-console stays after the exit with the keys typed before it
    (hub/kbdhold.c) and the shell reads them from it: the command typed
    before the exit runs."""
    img = custom_image('kbdhold', ['target=os', 'exec=load serial',
                                   'kbd-wait=1500'],
                       mods=['tusbkbd-absent'])
    with Machine('usbonly', image=img, timeout=150) as m:
        m.expect(r'Patchbay stub: loading the hub', 90)
        m.send('echo early\r')  # OVMF's ConIn holds about 16 keys
        m.expect(r'^patchbay> ', 90)
        m.expect(r'^early\r?$', 30)
        text = m.serial_text()
        assert re.search(r'takeover efi-console -> tusbkbd-absent: '
                         r'tusbkbd-absent cannot take the hardware', text), text
        assert re.search(r"takeover: efi-console stays for keyboard:efi's "
                         r"1 client: the keys typed before the exit wait",
                         text), text
        # ps2 finds no 8042 in standby (one status read) and declines
        # without taking the keys, at once.
        assert re.search(r"ps2: start failed \(-10\): no device, "
                         r"declined", text), text
        assert stamp(text, r'ps2: start failed') - stamp(
            text, r'boot services exited') < 0.25, text
        # kbd-wait later it goes, and the shell types on as before.
        m.expect(r'takeover: efi-console goes, 1500 ms after the exit', 30)
        m.expect(r'efi-console unloaded; ledger empty', 30)
        assert 'again' in m.cmd('echo again', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_kept_keys_and_ps2_and_com1_all_type():
    """default (with PS/2), the takeover's keyboard declining: efi-console
    stays with the keys typed before the exit while ps2 starts beside it:
    `load serial`, typed before the exit, runs and brings the serial
    console; then the PS/2 keyboard and COM1 both type."""
    img = custom_image('kbdhold-ps2', ['target=os'], mods=['tusbkbd-absent'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'Patchbay stub: loading the hub', 90)
        m.send('load serial\r')
        m.expect(r'^patchbay> ', 90)
        text = m.serial_text()
        assert re.search(r"takeover: efi-console stays for keyboard:efi's "
                         r"1 client: the keys typed before the exit wait",
                         text), text
        assert re.search(r'shell -> keyboard:ps2 \(ps2\)', text), text
        m.skip_output()
        m.typekeys('echo typed on ps2')
        m.sendkey('ret')
        m.expect(r'^typed on ps2\r?$', 30)
        assert 'typed on com1' in m.cmd('echo typed on com1', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_usbkbd_sendkey_runs_a_command():
    need_usb_stack()
    with Machine('usbonly', timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:', 60)
        m.skip_output()
        m.typekeys('echo typed on usb')
        m.sendkey('ret')
        m.expect(r'^typed on usb\r?$', 30)
        out = m.cmd('res', 30)
        assert re.search(r'keyboard:usbkbd0 .*path=pci:', out), out
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_usbkbd_caps_lock_makes_upper_case():
    need_usb_stack()
    with Machine('usbonly', timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:', 60)
        m.skip_output()
        m.typekeys('echo ')
        m.sendkey('caps_lock')
        m.typekeys('abc1')
        m.sendkey('shift-x')     # shift undoes caps lock on letters
        m.sendkey('caps_lock')
        m.typekeys(' def')
        m.sendkey('ret')
        m.expect(r'^ABC1x def\r?$', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_usbkbd_keymap_fr_and_altgr():
    """boot.cfg keymap=fr on the USB keyboard: AZERTY (US q types a,
    US ; types m), digits shifted, AltGr (right Alt) for @."""
    from images import custom_image
    need_usb_stack()
    img = custom_image('keymap_fr', ['target=os', 'keymap=fr'])
    with Machine('usbonly', image=img, timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:.*layout fr', 60)
        m.skip_output()
        m.typekeys('echo ')
        for key in ('q', 'semicolon', 'alt_r-0', 'shift-1', 'w', '2'):
            m.sendkey(key)
        m.sendkey('ret')
        m.expect(r'^am@1z\u00e9\r?$', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_usbkbd_update_while_typing_loses_nothing():
    """usb-kbd replaced by another instance of itself (`update`: the swap
    of keyboard:usbkbd0 to a new usb-kbd, the device handed over) while
    keys keep coming: the update is typed on the USB keyboard and the
    next line right behind it, so its keys arrive during the swap; every
    one reaches the shell once, in order."""
    need_usb_stack()
    with Machine('usbonly', timeout=180) as m:
        m.expect(r'^patchbay> ', 90)
        m.expect_seen(r'usbkbd0: boot keyboard on usb:', 60)
        m.skip_output()
        words = ' '.join('w%02d' % i for i in range(10))
        m.typekeys('update usb-kbd usb-kbd.mod')
        m.sendkey('ret')
        m.typekeys('echo ' + words, delay=0.01)
        m.sendkey('ret')
        m.expect(r'updated usb-kbd: 1\.0 -> 1\.0', 60)
        m.expect(r'^' + words + r'\r?$', 30)
        text = m.serial_text()
        assert re.search(r'usb-kbd -> usb-kbd', text), text
        m.skip_output()
        m.typekeys('echo still typing')
        m.sendkey('ret')
        m.expect(r'^still typing\r?$', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0
