"""fbcon's console font, the one the build took from Debian's
console-setup-linux (build/gen/font_console.c, read by screentext.py):
UTF-8 that the shell prints (`cat` of a file, since the line editor
takes ASCII only) shows each character's own glyph from the font,
accented letters, box drawing and arrows, and a box for a character the
font lacks and for a byte that is no UTF-8; the same at font-scale=2."""

import os
import re
import time

from pbtest import Machine, PROMPT, read_ppm, workdir
from images import custom_image
from screentext import cell_shows, glyph, row_background, rows_showing

BOOT_TIMEOUT = 90
# é ─ → ★, a byte that starts no UTF-8 character, then ASCII.
TEXT = 'caf\u00e9 \u2500\u2192 \u2605 '.encode() + b'\xff' + b' ok\n'
SHOWN = 'caf\u00e9 \u2500\u2192 \u2605 \ufffd ok'


def font_file():
    path = os.path.join(workdir(), 'font-text.txt')
    with open(path, 'wb') as f:
        f.write(TEXT)
    return path


def screen_showing(m, name, scale, timeout=10):
    """A screendump once a row shows SHOWN (fbcon draws at its next
    frame, which may come after the prompt), and that row."""
    end = time.monotonic() + timeout
    while True:
        w, h, px = read_ppm(m.screendump(name + '.ppm'))
        rows = rows_showing(w, h, px, SHOWN, scale)
        if rows or time.monotonic() > end:
            return w, h, px, rows
        time.sleep(0.2)


def check_cells(w, px, row, scale):
    """The cells of é ─ → ★ and the bad byte, one by one, against the
    font: each shows its own glyph, not the box nor its ASCII look-alike;
    ★ (not in the font) and the bad byte show the box."""
    box = glyph('\ufffd')
    bg = row_background(px, w, row, scale)
    for col, ch, other in ((3, '\u00e9', 'e'), (5, '\u2500', '-'),
                           (6, '\u2192', '>')):
        assert glyph(ch) != box, 'the font lacks %r' % ch
        assert cell_shows(px, w, row, col, ch, bg, scale), \
            'cell %d does not show %r' % (col, ch)
        assert not cell_shows(px, w, row, col, other, bg, scale)
        assert not cell_shows(px, w, row, col, '\ufffd', bg, scale)
    assert glyph('\u2605') == box, 'the font has a star now: pick another'
    for col in (8, 10):
        assert cell_shows(px, w, row, col, '\ufffd', bg, scale), \
            'cell %d is not the box' % col


def run(name, cfg, scale):
    img = custom_image(name, ['target=os'] + cfg,
                       files=[(font_file(), '/font.txt')])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.cmd('cat /esp/font.txt', 30)
        w, h, px, rows = screen_showing(m, name, scale)
        assert rows, 'no row shows %r at scale %d' % (SHOWN, scale)
        check_cells(w, px, rows[-1], scale)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_font_unicode_glyphs_and_boxes():
    run('font1', [], 1)


def test_font_unicode_at_font_scale_2():
    run('font2', ['font-scale=2'], 2)
