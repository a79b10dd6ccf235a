"""`update MODULE SOURCE` (ABI 1.2): a running driver replaced by another
build of itself.  bochs-display drives QEMU's VGA function, a pci resource
that takes one client: the function is handed from the old instance to
the new one inside the swap, fbcon keeps its display, the screen keeps
its pixels, and the old instance goes after the watch window."""

import re
from pbtest import Machine, read_ppm
from images import custom_image


def screen(m, name):
    return read_ppm(m.screendump(name + '.ppm'))


def test_bochs_display_replaces_itself():
    img = custom_image('update', [
        'target=os', 'watch=500',
        'exec=update bochs-display bochs-display.mod',
        'exec=update bochs-display nosuch.mod',
        'exec=update serial bochs-display.mod'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        text = m.serial_text()
        # The boot's own swap first (gop-fb -> bochs-display), then ours.
        assert re.search(r'gop-fb -> bochs-display for display: blackout',
                         text), text
        assert re.search(r'updated bochs-display: (\S+) -> \1, blackout '
                         r'\d+ us', text), text
        assert re.search(r'bochs-display -> bochs-display: blackout \d+ us',
                         text), text
        # The new instance got the function although it takes one client,
        # and the device was never silenced (no client-gone for it).
        assert len(re.findall(r'bochs-display -> pci:00:01\.0 \(pci\)',
                              text)) == 2, text
        assert 'its driver is gone' not in text, text
        # Errors name what is wrong; nothing changes.
        assert ('error: update bochs-display: the boot ramdisk has no '
                'nosuch.mod') in text, text
        assert ('error: update serial: module-source:ramdisk/'
                'bochs-display.mod is module bochs-display, not serial'
                ) in text, text
        before = screen(m, 'before')
        out = m.cmd('echo still drawing', 20)
        assert 'still drawing' in out, out
        # After the watch window the old build is gone for good.
        m.expect(r'bochs-display unloaded; ledger empty', 30)
        mods = m.cmd('mods', 20)
        assert re.search(r'^bochs-display\s+\S+\s+running', mods, re.M), mods
        assert re.search(r'^bochs-display\s+\S+\s+replaced', mods, re.M), mods
        res = m.cmd('res', 20)
        assert re.search(r'pci:00:01\.0 .*\(1 client\)', res), res
        assert re.search(r'display:bochs0 .*\(\d+ clients?\)', res), res
        assert 'its driver is gone' not in m.serial_text()
        after = screen(m, 'after')
        assert after[:2] == before[:2], 'the mode changed'
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0
