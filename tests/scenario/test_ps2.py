"""The PS/2 keyboard, interrupt-driven serial input and the wall clock:
keys injected on the i8042 with QEMU's sendkey reach the shell and run a
command; a machine without an i8042 boots with ps2 declining; `date` reads
the CMOS clock, which QEMU keeps at the host's UTC time."""

import contextlib
import datetime
import re

from pbtest import Machine


@contextlib.contextmanager
def booted(**kw):
    with Machine(kw.pop('config', 'default'), timeout=150, **kw) as m:
        m.expect(r'^patchbay> ', 90)
        yield m


def test_sendkey_runs_a_command():
    with booted() as m:
        assert re.search(r'ps2: keyboard on i8042 port 1', m.serial_text()), \
            m.tail()
        m.skip_output()
        m.typekeys('echo typed on ps2')
        m.sendkey('ret')
        # The shell echoes what it reads from the PS/2 keyboard and runs it.
        m.expect(r'^typed on ps2\r?$', 30)
        irqs = m.cmd('irqs', check=True)
        assert re.search(r'^module ps2\s+[1-9]\d*$', irqs, re.M), irqs
        # Shift works: a capital and a symbol.
        m.skip_output()
        m.typekeys('echo A!')
        m.sendkey('ret')
        m.expect(r'^A!\r?$', 30)


def test_no_i8042_declines_and_boots():
    with booted(extra='-machine q35,i8042=off') as m:
        text = m.serial_text()
        assert re.search(r'ps2: .*(no i8042|no controller|absent)', text), \
            m.tail()
        mods = m.cmd('mods', check=True)
        assert not re.search(r'^ps2\s+\S+\s+running', mods, re.M), mods
        assert m.cmd('echo still here') == 'still here'


def test_date_is_the_hosts_utc_time():
    with booted() as m:
        out = m.cmd('date', check=True)
        got = re.fullmatch(r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \(cmos\)',
                           out)
        assert got, out
        t = datetime.datetime.strptime(got.group(1), '%Y-%m-%d %H:%M:%S')
        now = datetime.datetime.utcnow()
        assert abs((now - t).total_seconds()) < 120, (t, now)


def test_keymap_de_types_what_a_german_keyboard_shows():
    """boot.cfg keymap=de: the keys QEMU names by their US places type
    what a German keyboard prints on them, AltGr (right Alt) included;
    the line the shell runs is UTF-8."""
    from images import custom_image
    img = custom_image('keymap_de', ['target=os', 'keymap=de'])
    with booted(image=img) as m:
        assert 'layout de' in m.serial_text(), m.tail()
        m.skip_output()
        m.typekeys('echo ')
        # y, the key right of L, AltGr+q, Shift+7, the key left of 1
        for key in ('y', 'apostrophe', 'alt_r-q', 'shift-7', 'grave_accent'):
            m.sendkey(key)
        m.sendkey('ret')
        m.expect(r'^z\u00e4@/\^\r?$', 30)
