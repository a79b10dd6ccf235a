"""The PCI display driver and the display hot swap: bochs-display takes the
screen from gop-fb at boot once pci publishes the function, both swap
under fbcon on demand, modes change with the text reflowed, and the
swaps lose nothing (screendumps compared pixel for pixel, swaptest reads
the printed lines back from the screen)."""

import re
import time
from pbtest import Machine, read_ppm
from images import custom_image

ROW = 16            # fbcon's text rows at font-scale 1, pixels


def dump(m, name, timeout=5):
    """A screendump of a screen at rest: fbcon's frame for the text just
    printed may come a moment after the prompt reached the serial line,
    so dump until two in a row are the same."""
    end = time.monotonic() + timeout
    last = read_ppm(m.screendump(name + '.ppm'))
    while time.monotonic() < end:
        time.sleep(0.05)
        now = read_ppm(m.screendump(name + '.ppm'))
        if now == last:
            break
        last = now
    return last


def settled_dump(m, name, ready, timeout=10):
    """A screendump once ready(w, h, px) holds: fbcon draws the text it is
    given at its next frame, which may come just after the prompt."""
    end = time.monotonic() + timeout
    while True:
        w, h, px = dump(m, name)
        if ready(w, h, px) or time.monotonic() > end:
            return w, h, px
        time.sleep(0.1)


def lit_rows(w, h, px):
    """Text rows (of ROW pixels) that have a pixel that is not black."""
    rows = []
    for r in range(h // ROW):
        band = px[r * ROW * w * 3:(r + 1) * ROW * w * 3]
        if band.strip(b'\0'):
            rows.append(r)
    return rows


def kept_text(w, before, top, now, shift=16):
    """Is the text of rows 0 .. top-1 of `before` on `now`, pixel for pixel,
    where it was or moved by up to `shift` rows (the boot's log fills the
    screen, so new lines scroll it; a taller mode brings lines back from
    the history)?  Rows scrolled off the top are not compared."""
    row = ROW * w * 3

    def at(px, r):
        return px[r * row:(r + 1) * row]
    nrows = len(now) // row
    for d in range(-shift, shift + 1):
        rs = [r for r in range(max(d, 0), top) if 0 <= r - d < nrows]
        # Every row still on the screen after the shift is compared, and
        # there is at least one: a shift that leaves none proves nothing.
        if rs and len(rs) >= top - abs(d) and \
                all(at(now, r - d) == at(before, r) for r in rs):
            return True
    return False


def cells(w, px, row, ncells):
    """The pixels of the first ncells cells of a text row."""
    return b''.join(px[(row * ROW + y) * w * 3:(row * ROW + y) * w * 3 +
                       ncells * 8 * 3] for y in range(ROW))


def prompt_row(w, h, px):
    """The row the prompt is on: the last one with anything on it."""
    rows = lit_rows(w, h, px)
    assert rows, 'the screen is black'
    return rows[-1]


def one_error(out):
    return len([l for l in out.split('\n') if l.startswith('error: ')]) == 1


def booted(m):
    m.expect(r'^patchbay> ', 90)
    return m.serial_text()


def last_rows(w, h, px, n):
    """The pixels of the last n text rows with anything on them."""
    rows = lit_rows(w, h, px)[-n:]
    return [px[r * ROW * w * 3:(r + 1) * ROW * w * 3] for r in rows]


def test_boot_swap_keeps_the_screen():
    """The same boot with bochs-display kept away (gop-fb draws to the
    end) and as it is (gop-fb hands over to bochs-display): the shell's
    banner and prompt at the end of the screens are the same pixels, in
    the firmware's mode.  (The boot's log lines above them differ: their
    times, and the lines about bochs-display.)"""
    img = custom_image('nobochs', ['target=os', 'bochs-display=no'])
    with Machine('default', image=img, timeout=120) as m:
        text = booted(m)
        assert 'bochs-display: off (boot.cfg bochs-display=no)' in text, text
        assert not re.search(r'-> bochs-display for display', text)
        w0, h0, gop = dump(m, 'gop')
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0
    with Machine('default', timeout=120) as m:
        text = booted(m)
        assert re.search(r'bochs-display binds to pci:\S+', text), text
        assert re.search(r'gop-fb -> bochs-display for display: blackout '
                         r'\d+ us', text), text
        w, h, bochs = dump(m, 'bochs')
        assert (w, h) == (w0, h0) == (1280, 800), (w, h, w0, h0)
        assert len(lit_rows(w, h, gop)) >= 2
        assert last_rows(w, h, bochs, 2) == last_rows(w, h, gop, 2), \
            'the screen changed with the boot-time swap'
        res = m.cmd('res', 20)
        assert re.search(r'display:bochs0 w=1280 h=800 .* \(\d+ clients?\)',
                         res), res
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_swap_on_demand_both_ways():
    """swap display gop-fb / bochs-display, twice each way: the text on the
    screen stays pixel for pixel, and mods and log show the changes."""
    with Machine('default', timeout=150) as m:
        booted(m)
        assert 'before' in m.cmd('echo before the swaps', 20)
        w, h, before = dump(m, 'before')
        top = prompt_row(w, h, before)
        for i, to in enumerate(['gop-fb', 'bochs-display'] * 2):
            frm = 'bochs-display' if to == 'gop-fb' else 'gop-fb'
            out = m.cmd('swap display ' + to, 30)
            assert re.search(r'swapped display: %s -> %s, blackout \d+ us'
                             % (frm, to), out), out
            w2, h2, now = dump(m, 'swap%d' % i)
            assert (w2, h2) == (w, h)
            assert kept_text(w, before, top, now), \
                'the text changed with swap %d (to %s)' % (i, to)
        # Once its watch window is over, bochs-display is unloaded and
        # lets go of the function; swapped in again it binds to it anew.
        m.cmd('swap display gop-fb', 30)
        m.expect(r'bochs-display unloaded; ledger empty', 30)
        out = m.cmd('swap display bochs-display', 30)
        assert 'swapped display: gop-fb -> bochs-display' in out, out
        assert 'bochs-display -> pci:00:01.0 (pci)' in out, out
        w3, h3, again = dump(m, 'again')
        assert kept_text(w, before, top, again)
        # (Long listings last: they scroll the screen.)
        mods = m.cmd('mods', 20)
        assert re.search(r'^bochs-display\s+\S+\s+running', mods, re.M), mods
        assert re.search(r'^gop-fb\s+\S+\s+(?:quiesced|unloaded)', mods,
                         re.M), mods
        log = m.cmd('log', 30)
        assert len(re.findall(r'(?:gop-fb -> bochs-display|bochs-display '
                              r'-> gop-fb)(?: for display)?: blackout', log)) \
            >= 7, log
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_modes_and_reflow_and_refused_swap():
    """mode 1280x1024: a 1280x1024 screen with the text kept and the prompt
    under it; gop-fb refuses to take that mode over (one error line,
    nothing changes); back in the firmware's mode it takes over."""
    with Machine('default', timeout=150) as m:
        booted(m)
        m.cmd('echo some text to keep', 20)
        w, h, before = dump(m, 'before')
        top = prompt_row(w, h, before)
        prompt = cells(w, before, top, 10)          # "patchbay> "
        modes = m.cmd('modes', 20)
        assert re.search(r'^  \* 1280x800$', modes, re.M), modes
        assert re.search(r'^    1280x1024$', modes, re.M), modes
        out = m.cmd('mode 1280x1024', 30)
        assert out.strip().endswith('display:bochs0: 1280x1024'), out

        def prompt_at_bottom(w2, h2, px):
            # Black until fbcon's next frame, which may come after the
            # prompt reached the serial line.
            return (w2, h2) == (1280, 1024) and lit_rows(w2, h2, px) and \
                cells(w2, px, prompt_row(w2, h2, px), 10) == prompt
        w2, h2, big = settled_dump(m, 'big', prompt_at_bottom)
        assert (w2, h2) == (1280, 1024), (w2, h2)
        assert prompt_at_bottom(w2, h2, big), \
            'no prompt at the bottom of the text'
        assert kept_text(w, before, top, big), 'text lost in the mode change'

        # gop-fb cannot show 1280x1024: the swap is refused, and nothing
        # changes on the screen above the command.
        row = prompt_row(w2, h2, big)
        out = m.cmd('swap display gop-fb', 30)
        assert one_error(out), out
        assert re.search(r'^error: swap display: gop-fb cannot import the '
                         r'state .*nothing changed', out, re.M), out
        text = m.serial_text()
        assert "GOP can show only the firmware's mode, 1280x800" in text
        w4, h4, post = dump(m, 'refused')
        assert (w4, h4) == (1280, 1024)
        assert kept_text(w2, big, row, post)
        assert re.search(r'^bochs-display\s+\S+\s+running',
                         m.cmd('mods', 20), re.M)
        assert 'still here' in m.cmd('echo still here', 20)
        assert re.search(r'^  \* 1280x1024$', m.cmd('modes', 20), re.M)
        res = m.cmd('res', 20)
        assert re.search(r'console:fb0 cols=160 rows=64 ', res), res

        out = m.cmd('mode 1280x800', 30)
        assert 'display:bochs0: 1280x800' in out, out
        out = m.cmd('swap display gop-fb', 30)
        assert 'swapped display: bochs-display -> gop-fb' in out, out
        out = m.cmd('mode 1024x768', 20)
        assert one_error(out) and 'not a mode of display:gop0' in out, out
        out = m.cmd('mode 12x', 20)
        assert one_error(out) and 'not WIDTHxHEIGHT' in out, out
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_swaptest_loses_nothing():
    """swaptest 200: 200 swaps between bochs-display and gop-fb while lines
    are printed; every line read back from the screen, none lost."""
    with Machine('default', timeout=300) as m:
        booted(m)
        out = m.cmd('swaptest 200', 240)
        assert re.search(r'^swaptest: 200 swaps between bochs-display and '
                         r'gop-fb, \d+ lines printed$', out, re.M), out
        assert len(re.findall(r'^blackouts \(us\):', out, re.M)) == 17, out
        assert re.search(r'^blackout median \d+ us, worst \d+ us, over 200 '
                         r'swaps$', out, re.M), out
        m2 = re.search(r'^read back (\d+) times: 0 lines missing, 0 damaged, '
                       r'0 characters lost$', out, re.M)
        assert m2 and int(m2.group(1)) == 201, out
        assert 'error' not in out, out
        assert re.search(r'^bochs-display\s+\S+\s+running',
                         m.cmd('mods', 20), re.M)
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_swaptest_counts_what_it_cannot_do():
    """swaptest with nothing to swap to, or a bad count, is one error."""
    with Machine('default', timeout=120) as m:
        booted(m)
        out = m.cmd('swaptest 0', 20)
        assert one_error(out) and 'N must be' in out, out
        out = m.cmd('swaptest 3 bochs-display', 20)
        assert one_error(out) and 'is the display already' in out, out
        m.cmd('mode 1024x768', 20)
        out = m.cmd('swaptest 3', 60)
        assert one_error(out), out
        assert re.search(r'^error: swaptest: swap 1: error: swap display: '
                         r'gop-fb cannot import', out, re.M), out
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_bochs_display_device():
    """-vga none -device bochs-display: the driver binds there too, with
    no VGA side, and sets modes."""
    with Machine('bochs', timeout=120) as m:
        text = booted(m)
        assert re.search(r'bochs-display: bochs-display pci:\S+: DISPI '
                         r'0xb0c5 via BAR2', text), text
        assert 'gop-fb -> bochs-display for display: blackout' in text
        assert 'vga=no' in m.cmd('res', 20)
        out = m.cmd('mode 1024x768', 30)
        assert 'display:bochs0: 1024x768' in out, out
        w, h, px = settled_dump(m, 'bochs', lambda w, h, px: (w, h) ==
                                (1024, 768) and len(lit_rows(w, h, px)) >= 3)
        assert (w, h) == (1024, 768)
        assert len(lit_rows(w, h, px)) >= 3, 'no text after the mode change'
        out = m.cmd('swaptest 6', 60)
        assert '0 characters lost' in out, out
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def cell(w, px, row, col):
    return b''.join(px[((row * ROW + y) * w + col * 8) * 3:
                       ((row * ROW + y) * w + col * 8 + 8) * 3]
                    for y in range(ROW))


def run_of(w, px, row, glyph):
    """How many cells from the start of a row show glyph."""
    n = 0
    while (n + 1) * 8 <= w and cell(w, px, row, n) == glyph:
        n += 1
    return n


def test_std_vga_through_the_ports_and_reflow():
    """boot.cfg bochs-mmio=no: std VGA driven through the DISPI ports.  A
    line of 130 characters on 160 columns wraps at 100 in 800x600, and is
    one row again back at 1280x800: fbcon reflows, nothing is cut."""
    img = custom_image('ports', ['target=os', 'bochs-mmio=no'])
    with Machine('default', image=img, timeout=120) as m:
        text = booted(m)
        assert re.search(r'std VGA pci:\S+: DISPI 0xb0c5 via ports '
                         r'0x1ce/0x1cf', text), text
        m.cmd('echo ' + 'x' * 130, 20)
        w, h, px = dump(m, 'wide')
        row = prompt_row(w, h, px) - 1
        x = cell(w, px, row, 0)
        assert run_of(w, px, row, x) == 130, run_of(w, px, row, x)
        out = m.cmd('mode 800x600', 30)
        assert 'display:bochs0: 800x600' in out, out

        def wrapped(w, h, px):
            rows = lit_rows(w, h, px)
            return (w, h) == (800, 600) and any(
                run_of(w, px, r, x) == 100 and run_of(w, px, r + 1, x) == 30
                for r in rows)
        w, h, px = settled_dump(m, 'narrow', wrapped)
        assert (w, h) == (800, 600)
        assert wrapped(w, h, px), 'the long line is not wrapped at 100'
        out = m.cmd('mode 1280x800', 30)
        assert 'display:bochs0: 1280x800' in out, out

        def joined(w, h, px):
            return (w, h) == (1280, 800) and any(
                run_of(w, px, r, x) == 130 for r in lit_rows(w, h, px))
        w, h, px = settled_dump(m, 'wide-again', joined)
        assert joined(w, h, px), 'the long line is not one row again'
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0


def test_no_display_boots_to_the_serial_prompt():
    """-vga none: no framebuffer, no PCI display: the serial shell works
    and the display commands say there is none."""
    with Machine('nodisplay', timeout=120) as m:
        text = booted(m)
        assert 'bochs-display binds' not in text
        assert 'hello' in m.cmd('echo hello', 20)
        out = m.cmd('modes', 20)
        assert one_error(out) and 'no display' in out, out
        out = m.cmd('swaptest 5', 20)
        assert one_error(out) and 'no display' in out, out
        m.sendline('poweroff')
        assert m.wait_exit(30) == 0
