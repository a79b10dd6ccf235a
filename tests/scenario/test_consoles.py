"""The takeover of the consoles at ExitBootServices: the firmware console
gives way to fbcon (screen) and serial (COM1) with nothing lost."""

import re
from pbtest import Machine, read_ppm


def lit(px, w, y0, y1):
    """How many pixels of rows y0..y1 are not black."""
    n = 0
    for y in range(y0, y1):
        row = px[y * w * 3:(y + 1) * w * 3]
        n += sum(1 for x in range(0, len(row), 3) if row[x:x + 3] != b'\0\0\0')
    return n


def settled_screen(m, name, timeout=20):
    """The screen once fbcon has drawn what it holds: text in the top rows
    and the same picture twice in a row.  fbcon draws as work items after
    the shell's output reached COM1, and at boot the disk drivers' work
    comes first; a loaded host stretches that, so a single screendump may
    come before the drawing."""
    import time
    end = time.monotonic() + timeout
    last = None
    while True:
        w, h, px = read_ppm(m.screendump(name))
        if lit(px, w, 0, 48) > 200 and px == last:
            return w, h, px
        if time.monotonic() > end:
            return w, h, px
        last = px
        time.sleep(0.2)


def test_key_typed_before_takeover_is_not_lost():
    """Keys typed while the firmware still owns the console (ConIn) are
    handed from efi-console to serial and reach the shell."""
    with Machine('default', timeout=120) as m:
        m.expect(r'Patchbay stub: loading the hub', 90)
        m.send('echo early\r')  # OVMF's ConIn holds about 16 keys
        m.expect(r'^patchbay> ', 60)
        m.expect(r'^early$', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_keys_trickled_through_the_takeover_are_not_lost():
    """Keys sent one at a time from the stub's first line until past the
    takeover: each lands at some phase (the firmware's UART FIFO, ConIn,
    efi-console's held keys, the serial module), and none may be lost in
    between, e.g. by a FIFO reset while the firmware still owns COM1."""
    import time
    line = 'echo abcdefgh\r'      # 14 keys: within what ConIn holds
    with Machine('default', timeout=120) as m:
        m.expect(r'Patchbay stub: loading the hub', 90)
        for ch in line:
            m.send(ch)
            time.sleep(0.03)
        m.expect(r'^patchbay> ', 60)
        m.expect(r'^abcdefgh$', 30)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_takeover_swaps_to_fbcon_and_serial():
    with Machine('default', timeout=120) as m:
        m.expect(r'^patchbay> ', 90)
        text = m.serial_text()
        assert re.search(r'efi-console -> fbcon for console: blackout', text), text
        assert re.search(r'efi-console -> serial for keyboard: blackout',
                         text), text
        assert re.search(r'efi-console unloaded; ledger empty', text), text
        out = m.cmd('res', 20)
        assert re.search(r'console:fb0 .*\(1 client\)', out), out
        assert re.search(r'console:com1 .*\(1 client\)', out), out
        # The shell's banner, written before the takeover through the
        # firmware console, is on fbcon's screen after it: the top text
        # row has lit pixels.
        w, h, px = settled_screen(m, 'takeover.ppm')
        assert lit(px, w, 0, 48) > 200, 'no text in the top rows'
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_no_native_driver_before_takeover():
    """With takeover=no the firmware keeps the devices: a swap to a native
    hardware driver is refused with one error line, and nothing changes."""
    from images import custom_image
    img = custom_image('notakeover', ['target=os', 'takeover=no'])
    with Machine('default', image=img, timeout=120) as m:
        m.expect(r'^patchbay> ', 90)
        out = m.cmd('swap console serial', 20)
        assert re.search(r'^error: swap console: serial drives hardware the '
                         r'firmware still owns', out, re.M), out
        assert 'still here' in m.cmd('echo still here', 20)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def rows_kept(before, after, w, nrows=3, scroll=12):
    """Are the first nrows text rows of `after` rows of `before`, where they
    were or scrolled up by new lines (the boot's log fills the screen)?"""
    row = 16 * w * 3
    return any(after[:nrows * row] == before[k * row:(k + nrows) * row]
               for k in range(scroll + 1))


def test_swap_display_both_ways_keeps_the_screen():
    """swap display between gop-fb and the test provider tdisp, there and
    back: fbcon redraws from its cells, so the text already on screen is
    pixel for pixel the same, and the shell keeps working throughout."""
    from images import custom_image
    # gop-fb and tdisp only: bochs-display would take the screen at boot.
    img = custom_image('swapdisp', ['target=os', 'bochs-display=no'],
                       mods=['tdisp'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        m.cmd('echo before the swaps', 20)
        w, h, before = settled_screen(m, 'before.ppm')
        out = m.cmd('swap display tdisp', 30)
        assert 'swapped display: gop-fb -> tdisp' in out, out
        w2, h2, there = settled_screen(m, 'there.ppm')
        assert (w2, h2) == (w, h)
        assert rows_kept(before, there, w), 'text changed after the swap'
        # No long listing here (res): the first rows would scroll away.
        out = m.cmd('swap display gop-fb', 30)
        assert 'swapped display: tdisp -> gop-fb' in out, out
        _, _, back = settled_screen(m, 'back.ppm')
        assert rows_kept(before, back, w), 'text changed after swapping back'
        assert 'after' in m.cmd('echo after', 20)
        text = m.serial_text()
        assert len(re.findall(r'-> [\w-]+(?: for display)?: blackout \d+ us',
                              text)) >= 2, text
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_swap_console_both_ways_under_the_shell():
    """swap the serial console and keyboard to the plain test driver tcom
    and back: the shell keeps answering on COM1 and on the screen, and no
    output is lost on either side of the swaps."""
    from images import custom_image
    img = custom_image('swapcon', ['target=os'], mods=['tcom'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'^patchbay> ', 90)
        assert 'one' in m.cmd('echo one', 20)
        out = m.cmd('swap console:com1 tcom', 30)
        assert 'swapped console: serial -> tcom' in out, out
        assert 'two' in m.cmd('echo two', 20)
        res = m.cmd('res', 20)
        assert re.search(r'console:tcom0 .*\(1 client\)', res), res
        assert re.search(r'keyboard:tcom0 .*\(1 client\)', res), res
        out = m.cmd('swap console:tcom0 serial', 30)
        assert 'swapped console: tcom -> serial' in out, out
        assert 'three' in m.cmd('echo three', 20)
        assert re.search(r'console:com1 .*\(1 client\)', m.cmd('res', 20))
        # fbcon saw all of it too: the screen shows the three echoes.
        w, h, px = read_ppm(m.screendump('after.ppm'))
        assert lit(px, w, 0, h) > 2000, 'screen empty'
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0
