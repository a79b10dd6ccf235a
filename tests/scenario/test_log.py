"""The hub's log on a PC without a serial port: the shell shows it on the
consoles without ever cutting into the line being typed, log=screen puts
all of it on the screen (errors always), it is saved to
/esp/patchbay/log.txt at poweroff, reboot, after a fault and on `log
save`, with the boot's first lines however long the session ran,
`screenshot` writes the screen as a PNG, and the hub draws on the screen
itself where no console does: its log without fbcon, and a fatal fault's
registers."""

import re
import struct
import time
import zlib

from pbtest import Machine, PROMPT, esp_cat, esp_delete, image_copy, \
    read_ppm, workdir
from images import custom_image
from screentext import shows

BOOT_TIMEOUT = 90
# abi/log.h: the boot's first lines the hub keeps for good, and the newest.
LOG_PIN = 256
LOG_RING = 256
DROPPED = re.compile(r'^--- (\d+) lines dropped: the log keeps the boot\'s '
                     r'first %d and the newest %d ---$' % (LOG_PIN, LOG_RING))
BOOT_STEPS = ['Patchbay stub: loading the hub', 'Patchbay hub ',
              'boot services exited', 'efi-console -> fbcon for console',
              'boot done']
# One log line as it reaches COM1, and the erase before a redrawn line.
STAMP = re.compile(r'\[\s*\d+\.\d{6}\] ')
ERASE = '\r\x1b[K'


def booted(m):
    m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
    return m.serial_text()


def screen(m, name, wait=1.0):
    """A screendump once fbcon has drawn what it was given."""
    time.sleep(wait)
    return read_ppm(m.screendump(name + '.ppm'))


def test_typed_line_is_never_split():
    """tlog logs every 30 ms while a line is typed one key at a time: each
    log line starts a line of its own (after a newline, or after the
    shell erased its prompt line), the typed line is drawn again whole
    under them, and the command runs as typed."""
    img = custom_image('typing', ['target=os', 'tlog-ms=30'],
                       mods=['tlog'])
    line = 'echo the quick brown fox'
    with Machine('default', image=img, timeout=150) as m:
        booted(m)
        assert 'tlog: running' in m.cmd('load tlog', 30)
        m.expect(r'tlog: tick 3\n', 30)
        start = len(m.serial_raw())
        for ch in line:
            m.send(ch)
            time.sleep(0.1)
        m.send('\r')
        m.expect(r'^the quick brown fox$', 30)
        m.expect(r'^' + re.escape(PROMPT), 30)
        raw = m.serial_raw()[start:].decode(errors='replace')
        ticks = [t for t in re.finditer(r'\[\s*\d+\.\d{6}\] tlog: tick',
                                        raw)]
        assert len(ticks) >= 20, 'only %d ticks while typing' % len(ticks)
        for t in ticks:
            before = raw[:t.start()]
            assert before.endswith('\n') or before.endswith(ERASE), \
                'a log line cut into a line: %r' % raw[max(0, t.start() - 60):
                                                     t.end()]
        # The typed line was erased and drawn again around the log lines.
        assert raw.count(ERASE) >= 10, raw.count(ERASE)
        assert re.search(r'^%s%s$' % (re.escape(PROMPT), re.escape(line)),
                         m.serial_text(), re.M), m.tail(10)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_log_txt_after_poweroff():
    """poweroff writes the log to /esp/patchbay/log.txt first: the boot's
    lines, from the stub's on, in the order they happened."""
    img = image_copy('build/patchbay.img',
                     workdir() + '/logtxt.img')
    with Machine('default', image=img, timeout=150, snapshot=False) as m:
        booted(m)
        assert 'marker' in m.cmd('echo marker', 20)
        m.sendline('poweroff')
        m.expect(r'^powering off', 60)
        assert m.wait_exit(60) == 0
    text = esp_cat(img, 'patchbay/log.txt').decode()
    lines = text.split('\n')
    assert lines[-1] == '' and all(STAMP.match(l) for l in lines[:-1]), \
        text[:400]
    want = ['Patchbay stub: loading the hub', 'Patchbay hub ',
            'boot services exited', 'efi-console -> fbcon for console',
            'boot done']
    at = [text.find(w) for w in want]
    assert all(a >= 0 for a in at) and at == sorted(at), list(zip(want, at))


def long_session(m, ticks=450):
    """More lines than the hub keeps: tlog logs one every 5 ms until its
    tick `ticks`, and is unloaded.  Returns the last tick's number."""
    booted(m)
    assert 'tlog: running' in m.cmd('load tlog', 30)
    m.expect(r'tlog: tick %d\n' % ticks, 60)
    assert 'tlog unloaded' in m.cmd('unload tlog', 30)
    last = re.findall(r'\] tlog: tick (\d+)$', m.serial_text(), re.M)
    return int(last[-1])


def check_kept(text, last_tick):
    """log.txt (or `log`) of a long session: the boot's first LOG_PIN lines
    from the stub's on, a line saying how many were dropped, and the
    newest LOG_RING, the last tick and tlog's unload among them."""
    lines = text.split('\n')
    assert lines[-1] == '', text[-200:]
    lines = lines[:-1]
    marks = [i for i, l in enumerate(lines) if DROPPED.match(l)]
    assert len(marks) == 1, 'dropped lines: %r' % [lines[i] for i in marks]
    first, after = lines[:marks[0]], lines[marks[0] + 1:]
    assert (len(first), len(after)) == (LOG_PIN, LOG_RING), \
        (len(first), len(after))
    assert all(STAMP.match(l) for l in first + after), text[:400]
    assert BOOT_STEPS[0] in first[0], first[:3]
    head = '\n'.join(first)
    at = [head.find(w) for w in BOOT_STEPS]
    assert all(a >= 0 for a in at) and at == sorted(at), \
        list(zip(BOOT_STEPS, at))
    # The lines either side of the mark are tlog's ticks: the mark counts
    # the ticks between them.
    tick = re.compile(r'\] tlog: tick (\d+)$')
    before_mark, after_mark = tick.search(first[-1]), tick.search(after[0])
    assert before_mark and after_mark, (first[-1], after[0])
    dropped = int(DROPPED.match(lines[marks[0]]).group(1))
    assert dropped == int(after_mark.group(1)) - int(before_mark.group(1)) \
        - 1, (first[-1], lines[marks[0]], after[0])
    ticks = [int(t.group(1)) for t in map(tick.search, after) if t]
    assert ticks == list(range(ticks[0], last_tick + 1)), ticks[-5:]
    assert any('tlog unloaded' in l for l in after[-20:]), after[-20:]


def test_log_save_keeps_the_boot_s_first_lines():
    """A session longer than the hub's log: `log` and `log save` still
    hold the boot from the stub's first line on, then how many lines were
    dropped, then the newest (read back after the machine is killed, so
    the file is the save's, not poweroff's)."""
    img = image_copy(custom_image('logsave', ['target=os', 'tlog-ms=5'],
                                  mods=['tlog']),
                     workdir() + '/logsave-rw.img')
    with Machine('default', image=img, timeout=240, snapshot=False) as m:
        last = long_session(m)
        shown = m.cmd('log', 60)
        check_kept(shown + '\n', last)
        out = m.cmd('log save', 60)
        assert out == 'log: %d lines written to /esp/patchbay/log.txt' % (
            LOG_PIN + 1 + LOG_RING), out
        m.kill()
    check_kept(esp_cat(img, 'patchbay/log.txt').decode(), last)


def test_log_txt_after_reboot_keeps_the_boot_s_first_lines():
    """reboot writes log.txt before the reset, the boot's first lines in
    it after a long session.  The harness's -no-reboot is overridden so
    the reset is seen (a poweroff would end QEMU); the machine is killed
    as the firmware starts the stub again, before that boot writes."""
    img = image_copy(custom_image('logreboot', ['target=os', 'tlog-ms=5'],
                                  mods=['tlog']),
                     workdir() + '/logreboot-rw.img')
    with Machine('default', image=img, timeout=240, snapshot=False,
                 extra='-action reboot=reset') as m:
        last = long_session(m)
        m.sendline('reboot')
        m.expect(r'^rebooting', 60)
        m.expect(r'Patchbay stub: loading the hub', 120)
        assert m.running(), 'QEMU exited instead of resetting'
        m.kill()
    check_kept(esp_cat(img, 'patchbay/log.txt').decode(), last)


def test_log_txt_after_a_fault():
    """A module that faults: the shell writes log.txt a moment later by
    itself, with the fault and the recovery in it (the machine is then
    killed, not powered off)."""
    img = image_copy(custom_image('faultlog', ['target=os'],
                                  mods=['tfault']),
                     workdir() + '/faultlog-rw.img')
    with Machine('default', image=img, timeout=150, snapshot=False) as m:
        booted(m)
        m.cmd('load tfault', 30)
        m.expect(r'tfault: faulted 3 times, not restarted', 30)
        m.expect(r'shell: /esp/patchbay/log\.txt: \d+ lines written', 30)
        m.kill()
    text = esp_cat(img, 'patchbay/log.txt').decode()
    assert re.search(r'error: tfault faulted: vector 14', text), text[-800:]
    assert 'tfault: restarting from its image' in text, text[-800:]


def decode_png(data):
    """Width, height and RGB bytes of an 8-bit RGB PNG (filter 0), every
    chunk's CRC checked."""
    assert data[:8] == b'\x89PNG\r\n\x1a\n', data[:8]
    pos, idat, kinds = 8, b'', []
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]
        assert crc == zlib.crc32(kind + body) & 0xffffffff, kind
        kinds.append(kind)
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert (depth, ctype) == (8, 2), (depth, ctype)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    assert kinds[0] == b'IHDR' and kinds[-1] == b'IEND', kinds
    raw = zlib.decompress(idat)
    stride = 1 + 3 * w
    assert len(raw) == h * stride, (len(raw), h * stride)
    assert all(raw[y * stride] == 0 for y in range(h))
    return w, h, b''.join(raw[y * stride + 1:(y + 1) * stride]
                          for y in range(h))


def test_screenshot_png():
    """screenshot writes the screen as a PNG of the screen's size, and its
    pixels are the screen's (as QEMU's screendump shows it, allowing for
    the line the command itself scrolled in)."""
    img = image_copy('build/patchbay.img', workdir() + '/shot.img')
    with Machine('default', image=img, timeout=150, snapshot=False) as m:
        booted(m)
        m.cmd('echo a screen worth a picture', 20)
        w, h, before = screen(m, 'before')
        out = m.cmd('screenshot /esp/shot.png', 60)
        assert re.fullmatch(r'/esp/shot\.png: %dx%d, \d+ bytes' % (w, h),
                            out), out
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
    pw, ph, px = decode_png(esp_cat(img, 'shot.png'))
    assert (pw, ph) == (w, h) == (1280, 800), (pw, ph, w, h)
    row, rows = 16 * w * 3, h // 16 - 3
    assert px.strip(b'\0'), 'a black screenshot'
    # The screendump was taken before the command was typed, which may
    # have scrolled the screen by a row or two; its last rows differ, and
    # on a screen not full yet so does the prompt's row.
    lit = [y for y in range(h // 16)
           if before[y * row:(y + 1) * row].strip(b'\0')]
    rows = min(rows, lit[-1] if lit else 0)
    assert rows > 0, 'nothing above the prompt'
    assert any(px[:rows * row] == before[k * row:(k + rows) * row]
               for k in range(3)), 'the picture is not the screen'


def log_line(text, what):
    """The last whole log line about `what` as COM1 showed it."""
    found = re.findall(r'^\[\s*\d+\.\d{6}\] [^\n]*%s[^\n]*$' %
                       re.escape(what), text, re.M)
    assert found, 'no log line about %r' % what
    return found[-1]


def test_log_screen():
    """After the takeover fbcon shows the log's errors; with log=screen
    every line.  A line of tfault's start and one of its fault, read back
    from the screen with the font; and exec= output is on the screen too
    (the default boot, where the screen has not scrolled it away)."""
    for cfg in ([], ['log=screen']):
        img = custom_image('logscreen' + str(len(cfg)),
                           ['target=os', 'exec=chart'] + cfg,
                           mods=['tfault'])
        with Machine('default', image=img, timeout=150) as m:
            booted(m)
            m.cmd('load tfault', 30)
            m.expect(r'tfault: faulted 3 times, not restarted', 30)
            text = m.serial_text()
            started = log_line(text, 'tfault started')[:60]
            fault = log_line(text, 'tfault faulted')[:60]
            w, h, px = screen(m, 'screen%d' % len(cfg))
            assert shows(w, h, px, fault), 'the fault is not on the screen'
            # exec=chart's last line: a module's raw boot chart numbers.
            chart = re.findall(r'^mod \S+ \S+ \d+ \d+ \d+ \d+$', text, re.M)
            assert chart, 'no exec=chart output on COM1'
            assert cfg or shows(w, h, px, chart[-1]), 'no exec output'
            assert shows(w, h, px, started) == bool(cfg), \
                'log=screen: %s, yet an info line is %son the screen' % (
                    bool(cfg), '' if cfg else 'not ')
            m.sendline('poweroff')
            assert m.wait_exit(60) == 0


def test_hub_draws_its_log_without_fbcon():
    """Without fbcon nothing draws on the screen after the takeover: the
    hub writes its log lines there itself."""
    # takeover=force: without a console on the screen the hub would stay
    # with the firmware (hub/stay.c); here the takeover is the point.
    img = custom_image('nofbcon', ['target=os', 'bochs-display=no',
                                   'takeover=force'])
    esp_delete(img, 'patchbay/mods/fbcon.mod')
    with Machine('default', image=img, timeout=150) as m:
        text = booted(m)
        assert re.search(r'efi-console -> serial for console', text), text
        done = log_line(text, 'boot done')
        w, h, px = screen(m, 'nofbcon')
        assert shows(w, h, px, done), 'the hub did not draw its log'
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_fatal_fault_drawn_on_the_screen():
    """The hub itself faults (`inject hub crash`: a #GP in hub work, where
    no module's call is below to charge) before fbcon ever ran
    (takeover=no): the screen shows the log's last lines white on red, the
    registers among them."""
    img = custom_image('hubfault', ['target=os', 'takeover=no',
                                    'exec=inject hub crash'])
    with Machine('default', image=img, timeout=150) as m:
        m.expect(r'error: hub: fatal #GP at 0x[0-9a-f]+', BOOT_TIMEOUT)
        text = m.serial_text()
        w, h, px = screen(m, 'fatal', wait=0.5)
        red = px[:16 * w * 3].count(b'\x80\x00\x00')
        assert red > 8 * w, 'the top row is not red: %d pixels' % red
        for what in ('error: #GP general protection', '  rax ',
                     'error: hub: fatal #GP'):
            line = log_line(text, what)[:60]
            assert shows(w, h, px, line), 'not on the screen: %r' % line
