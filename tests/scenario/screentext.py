"""screentext: is a line of text on a screendump?  The font fbcon and the
hub draw with is read from what they are built with, tools/mkfont's
build/gen/font_console.c (the hub's font_ascii is its ASCII part): its
glyph rows, and its Unicode table for the glyph of each character, the
box for one it lacks.  A line is drawn with it, and a text row of the
screen must show exactly those pixels (the cells' background being the
row's commonest colour), from the left edge, at font scale 1 unless
told.  rows_in_order finds lines shown one under the other (however far
the screen scrolled), console_scale the scale fbcon said it draws at."""

import os
import re

from pbtest import ROOT

FONT_C = os.path.join(ROOT, 'build', 'gen', 'font_console.c')
_font = None


class Font:
    """build/gen/font_console.c, parsed: its cell and its tables."""

    def __init__(self, path=FONT_C):
        with open(path) as f:
            src = f.read()

        def field(name):
            return int(re.search(r'\.%s = (\d+)' % name, src).group(1))

        def array(name):
            body = re.search(r'%s\[\d*\] = \{(.*?)\};' % name, src, re.S)
            if not body:
                return []
            # Comments name code points ("U+00E9"), never numbers.
            text = re.sub(r'/\*.*?\*/', '', body.group(1), flags=re.S)
            return [int(v, 0) for v in re.findall(r'0x[0-9a-f]+|\d+', text)]

        self.w, self.h, self.pitch = field('w'), field('h'), field('pitch')
        self.nglyphs = field('nglyphs')
        self.bits = bytes(array('glyphs'))
        self.ascii = array('ascii')
        self.map = dict(zip(array('map_cp'), array('map_glyph')))
        assert len(self.bits) == self.nglyphs * self.h * self.pitch
        assert len(self.ascii) == 128 and len(self.map) == field('nmap')

    def index(self, ch):
        """The glyph number that draws character ch: the box (the last)
        for one the font lacks, and for U+FFFD."""
        cp = ord(ch)
        if cp < 0x80:
            return self.ascii[cp]
        return self.map.get(cp, self.nglyphs - 1)

    def rows(self, ch):
        """ch's glyph as h strings of w '#'/'.'."""
        g = self.index(ch) * self.h * self.pitch
        return [''.join('#' if self.bits[g + y * self.pitch + x // 8] &
                        (0x80 >> x % 8) else '.' for x in range(self.w))
                for y in range(self.h)]


def font():
    global _font
    if _font is None:
        _font = Font()
    return _font


def glyph(ch):
    return font().rows(ch)


def cell_shows(px, w, row, col, ch, bg, scale=1):
    """Does the cell at (col, row) show ch, its background bg (a pixel's
    3 bytes) and any other colour its ink, at font scale `scale`?"""
    f = font()
    g = glyph(ch)
    for y in range(f.h * scale):
        line = (row * f.h * scale + y) * w * 3
        for x in range(f.w * scale):
            p = line + (col * f.w * scale + x) * 3
            if (g[y // scale][x // scale] == '#') != (px[p:p + 3] != bg):
                return False
    return True


def row_background(px, w, row, scale=1):
    """The commonest colour of a text row."""
    ch = font().h * scale
    band = px[row * ch * w * 3:(row + 1) * ch * w * 3]
    counts = {}
    for i in range(0, len(band), 3 * 97):
        counts[band[i:i + 3]] = counts.get(band[i:i + 3], 0) + 1
    return max(counts, key=counts.get)


def row_shows(px, w, row, text, scale=1):
    """Does text row `row` begin with `text`?"""
    f = font()
    if len(px) < (row + 1) * f.h * scale * w * 3 or \
            len(text) * f.w * scale > w:
        return False
    bg = row_background(px, w, row, scale)
    return all(cell_shows(px, w, row, i, ch, bg, scale)
               for i, ch in enumerate(text))


def rows_showing(w, h, px, text, scale=1):
    """The text rows that begin with `text`."""
    return [r for r in range(h // (font().h * scale))
            if row_shows(px, w, r, text, scale)]


def shows(w, h, px, text):
    return bool(rows_showing(w, h, px, text))


def blank_row(px, w, row, scale=1):
    """Is a text row one colour (nothing drawn on it)?"""
    ch = font().h * scale
    band = px[row * ch * w * 3:(row + 1) * ch * w * 3]
    return band == band[:3] * (len(band) // 3)


def rows_in_order(w, h, px, lines, scale=1):
    """The text rows r0 < r1 < ... that begin with lines[0], lines[1], ...
    (the lowest such row for the last line, and for each line before it
    the lowest above the next one's), or None when the screen does not
    show them in that order.  The rows between may hold anything: the
    hub's error lines may come in between."""
    rows = []
    below = h // (font().h * scale)
    for text in reversed(lines):
        r = below - 1
        while r >= 0 and not row_shows(px, w, r, text, scale):
            r -= 1
        if r < 0:
            return None
        rows.append(r)
        below = r
    return rows[::-1]


# fbcon's line as it starts (mods/fbcon/fbcon.c, fbcon_start), again
# after each restart: the last one is the scale it draws at now.
CELLS_RX = re.compile(r'fbcon: \d+x\d+ cells on \S+ \(\d+x\d+, font '
                      r'\d+x\d+ x(\d+),')


def console_scale(serial_text):
    """The font scale fbcon draws at, from its last start line in the
    serial transcript (font-scale=N, or chosen by the screen's height);
    1 when it said none."""
    found = CELLS_RX.findall(serial_text)
    return int(found[-1]) if found else 1


def screen_lines(text, cols):
    """How many screen lines `text` (serial output) takes at most on a
    console `cols` wide: each line, wrapped.  More than the screen shows:
    serial also gets the hub's log lines that only go there."""
    return sum(max(1, -(-len(l) // cols))
               for l in text.replace('\r', '').split('\n'))
