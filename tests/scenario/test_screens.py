"""Real screens: fbcon's font scale follows the firmware's mode unless
boot.cfg sets it (QEMU's std VGA with an EDID asking for 1920x1080 or
2560x1440: OVMF's GOP takes that mode)."""

import re

from pbtest import Machine, PROMPT
from images import custom_image


def fbcon_props(cfg, w, h):
    img = custom_image('screen%dx%d' % (w, h), ['target=os'] + cfg)
    with Machine('default', image=img, timeout=240,
                 extra='-global VGA.xres=%d -global VGA.yres=%d' % (w, h)) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        assert re.search(r'display: %dx%d stride' % (w, h), m.serial_text())
        found = re.search(r'console:fb0 cols=(\d+) rows=(\d+) font=8x16 '
                          r'scale=(\d)', m.cmd('res', 30))
        assert found, m.serial_text()
        return tuple(int(x) for x in found.groups())


def test_font_scale_from_1920x1080():
    assert fbcon_props([], 1920, 1080) == (240, 67, 1)


def test_font_scale_from_2560x1440():
    assert fbcon_props([], 2560, 1440) == (160, 45, 2)


def test_font_scale_set_in_boot_cfg():
    assert fbcon_props(['font-scale=3'], 2560, 1440) == (106, 30, 3)
