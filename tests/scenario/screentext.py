"""screentext: is a line of text on a screendump?  The 8x16 font fbcon and
the hub draw with is read from abi/rt/font.c (its '#'/'.' rows), a line
is drawn with it, and a text row of the screen must show exactly those
pixels (the cells' background being the row's commonest colour), at
font scale 1, from the left edge."""

import os
import re

from pbtest import ROOT

ROW, CELL = 16, 8
_glyphs = None


def glyphs():
    """The font: printable ASCII from 0x20, then the box."""
    global _glyphs
    if _glyphs is None:
        with open(os.path.join(ROOT, 'abi', 'rt', 'font.c')) as f:
            rows = re.findall(r'"([#.]{8})"', f.read())
        _glyphs = [rows[i:i + ROW] for i in range(0, len(rows), ROW)]
    return _glyphs


def glyph(ch):
    g = glyphs()
    return g[ord(ch) - 0x20] if 0x20 <= ord(ch) <= 0x7e else g[-1]


def _shows(px, w, row, text):
    band = px[row * ROW * w * 3:(row + 1) * ROW * w * 3]
    if len(band) < ROW * w * 3 or len(text) * CELL > w:
        return False
    counts = {}
    for i in range(0, len(band), 3 * 97):
        counts[band[i:i + 3]] = counts.get(band[i:i + 3], 0) + 1
    bg = max(counts, key=counts.get)
    for i, ch in enumerate(text):
        g = glyph(ch)
        for y in range(ROW):
            line = band[y * w * 3:(y + 1) * w * 3]
            for x in range(CELL):
                p = line[(i * CELL + x) * 3:(i * CELL + x) * 3 + 3]
                if (g[y][x] == '#') != (p != bg):
                    return False
    return True


def rows_showing(w, h, px, text):
    """The text rows that begin with `text`."""
    return [r for r in range(h // ROW) if _shows(px, w, r, text)]


def shows(w, h, px, text):
    return bool(rows_showing(w, h, px, text))
