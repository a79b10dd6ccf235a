"""The screen after a fault in what draws it (issue 15): fbcon, the
console, and bochs-display, the display driver under it, faulted with the
shell's `faultinject` while text is on the screen.  Each recovery must
leave the screen showing the text that was there before the fault and a
line typed on the keyboard after it: a screendump read with fbcon's own
font (screentext.py), at the scale fbcon says it draws at, must show row
for row what the shell gave COM1 since the line before the fault (but
the hub's log lines that are no errors, which a screen does not get),
the prompt last.  The serial transcript alone cannot tell: it is the
same whether the screen came back or stayed black, stale or half drawn.

  fbcon          restarted with its text (PB_MOD_RESTATE: what it exports
                 is its clients' text), drawn again in full as it starts
  bochs-display  restarted; fbcon hears PB_EV_REBOUND and draws the
                 screen again from its cells
  the ladder     a third fault within fault-window leaves bochs-display
                 stopped, and fbcon goes down to gop-fb on the same
                 framebuffer (hub/recover.c)
"""

import re
import time

from pbtest import Machine, PROMPT, read_ppm
from images import custom_image
from screentext import blank_row, console_scale, font, row_shows

BOOT_TIMEOUT = 150


def booted(m):
    m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)


def swapped_in(m):
    """bochs-display took the screen from gop-fb at the takeover; once the
    swap's watch window is over (gop-fb unloaded), a fault of it is a
    restart, not the swap's rollback."""
    m.expect_seen(r'gop-fb unloaded; ledger empty', 60)


def typed(m, text):
    """`echo TEXT` typed on the emulated keyboard, run: the screen lines
    it makes (the echoed line, the output)."""
    m.typekeys('echo ' + text)
    m.sendkey('ret')
    m.expect(r'^%s\r?$' % re.escape(text), 30)
    m.expect(r'^' + re.escape(PROMPT), 30)
    return [PROMPT + 'echo ' + text, text]


def waited_for(m, pattern, start, timeout=30):
    """The first match of pattern in the serial text from start on,
    waiting for it (it may come before or after the prompt of the
    command that made it)."""
    rx = re.compile(pattern)
    end = time.monotonic() + timeout
    while True:
        found = rx.search(m.serial_text(), start)
        if found:
            return found
        assert time.monotonic() < end, \
            'no /%s/: %s' % (pattern, m.serial_text()[start:][-3000:])
        time.sleep(0.2)


# A hub log line that is no error: COM1 gets it, a screen does not
# (mods/shell/logview.c: a console on a screen gets only the errors).
QUIET_LOG = re.compile(r'^\[\s*\d+\.\d{6}\] (?!error: )')


def screen_rows(text, cols):
    """The text rows a screen console `cols` wide was given while COM1 was
    given `text`: its lines but the hub's log lines that are no errors,
    each cut into rows of cols."""
    rows = []
    for line in text.replace('\r', '').split('\n'):
        if not QUIET_LOG.match(line):
            rows += [line[k:k + cols] for k in range(0, len(line) or 1, cols)]
    return rows


def screen_differs(w, h, px, rows, scale):
    """None when the screen's text rows up to the last one drawn on show
    `rows`, one for one, the last at the bottom; else where not."""
    nrows = h // (font().h * scale)
    drawn = [r for r in range(nrows) if not blank_row(px, w, r, scale)]
    if not drawn:
        return 'nothing is drawn'
    top = drawn[-1] - len(rows) + 1
    for k, text in enumerate(rows):
        if top + k < 0:
            return 'no room above row 0 for %r' % text
        if not row_shows(px, w, top + k, text, scale):
            return 'row %d does not show %r' % (top + k, text)
    return None


def screen_shows(m, name, lines, since):
    """The screen shows, row for row, what the shell gave COM1 from
    `since` on (the start of a line, before the fault) that a screen
    console gets too, the prompt last: no line lost, none stale or
    broken.  `lines` must be among them.  Waits up to 10 s for fbcon's
    frame of the last line, which may come after the prompt.  Fewer lines
    than the screen has rows, or the first may have scrolled away and the
    test proves nothing."""
    end = time.monotonic() + 10
    while True:
        text = m.serial_text()
        scale = console_scale(text)
        w, h, px = read_ppm(m.screendump(name + '.ppm'))
        rows = screen_rows(text[since:], w // (font().w * scale))
        assert len(rows) <= h // (font().h * scale), \
            '%d lines printed since, more than the screen has rows: the ' \
            'first may have scrolled away' % len(rows)
        missing = [l for l in lines if l not in rows]
        assert not missing, (missing, rows)
        why = screen_differs(w, h, px, rows, scale)
        if not why or time.monotonic() > end:
            break
        time.sleep(0.3)
    if why:
        m.screendump(name + '.png')
    assert not why, '%s: the screen was not restored: %s' % (name, why)


def line_start(m):
    """Where the line the serial text ends in starts (the prompt's)."""
    return m.serial_text().rfind('\n') + 1


def fault(m, spec, module, done):
    """Arm `faultinject SPEC`, let the console write (fbcon's frame work,
    its calls into the display) until the recovery's line `done` comes:
    the status line after it and the serial text from the arming on."""
    start = len(m.serial_text())
    out = m.cmd('faultinject ' + spec, 30)
    assert 'faultinject armed: ' in out, out
    m.cmd('echo the fault comes', 30)
    waited_for(m, done, start)
    status = m.cmd('faultinject status', 30)
    assert 'inject: fired %s ' % module in status, status
    text = m.serial_text()[start:]
    assert re.search(r'%s faulted: vector 14 at rip 0x0 ' % re.escape(module),
                     text), text[-3000:]
    return status, text


def test_screen_kept_through_an_fbcon_fault():
    """A NULL call in fbcon's work (its frame): fbcon is restarted with
    its text, the screen shows the lines before the fault, and a line
    typed after the recovery under them.  Before PB_MOD_RESTATE, the new
    instance started with an empty grid: the screen showed only the fault's
    lines and what came after, while COM1 showed nothing wrong."""
    with Machine('default', timeout=300) as m:
        booted(m)
        since = line_start(m)
        before = typed(m, 'on the screen before the fault')
        screen_shows(m, 'before', before + [PROMPT], since)
        status, text = fault(m, 'fbcon work null', 'fbcon',
                             r'fbcon: recovered in \d+ us')
        assert 'faults=1 ' in status and 'state=running' in status, status
        after = typed(m, 'typed after the recovery')
        screen_shows(m, 'after', before + after + [PROMPT], since)


def test_screen_kept_through_a_bochs_display_fault():
    """A NULL call at bochs-display's next entry (fbcon's next call into
    the display): it is restarted from its image, fbcon draws the screen
    again, and it shows the lines before the fault and after it."""
    with Machine('default', timeout=300) as m:
        booted(m)
        swapped_in(m)
        since = line_start(m)
        before = typed(m, 'on the screen before the fault')
        screen_shows(m, 'before', before + [PROMPT], since)
        status, text = fault(m, 'bochs-display entry null', 'bochs-display',
                             r'bochs-display: recovered in \d+ us')
        assert 'faults=1 ' in status and 'state=running' in status, status
        assert 'back to gop-fb' not in text, text[-3000:]   # a restart
        after = typed(m, 'typed after the recovery')
        screen_shows(m, 'after', before + after + [PROMPT], since)


def test_screen_kept_when_bochs_display_is_left_stopped():
    """bochs-display faults three times within the window (fault-window
    long enough for the screendumps between): restarted twice, then left
    stopped, and fbcon goes down the ladder to gop-fb.  After each fault
    the screen shows the lines before it and a line typed after it; after
    the third, gop-fb draws them (bochs-display is gone)."""
    img = custom_image('screenheal_ladder', ['target=os',
                                             'fault-window=120000'])
    with Machine('default', image=img, timeout=400) as m:
        booted(m)
        swapped_in(m)
        for i in (1, 2, 3):
            since = line_start(m)
            before = typed(m, 'on the screen before fault %d' % i)
            status, text = fault(m, 'again bochs-display entry null',
                                 'bochs-display', r'bochs-display: '
                                 r'(recovered in \d+ us|faulted 3 times)')
            assert 'faults=%d ' % i in status, status
            after = typed(m, 'typed after fault %d' % i)
            screen_shows(m, 'fault%d' % i, before + after + [PROMPT], since)
        assert 'state=failed' in status, status
        assert re.search(r'bochs-display: faulted 3 times, not restarted '
                         r'\(within 120000 ms\): clients moved to gop-fb',
                         text), text[-3000:]
        assert re.search(r'fbcon: display:bochs0 gone, rebound to '
                         r'display:gop0', text), text[-3000:]
        mods = m.cmd('mods', 30)
        assert re.search(r'^bochs-display +\S+ +failed', mods, re.M), mods
        assert re.search(r'^gop-fb +\S+ +running', mods, re.M), mods
