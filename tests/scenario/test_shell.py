"""The shell (mods/shell) on the real image, driven over COM1: every command
of `help` and what it prints, errors as one `error: ` line followed by a
prompt, line editing with the keys a serial terminal sends, the prompt on
the screen, and poweroff through the firmware's runtime services.

Input goes over the serial line only: QEMU's sendkey feeds the PS/2 or USB
keyboard, and their drivers do not exist yet (issues 5 and 7)."""

import contextlib
import re
import time

from pbtest import Machine, PROMPT, read_ppm
from images import custom_image

BOOT_TIMEOUT = 90
# The modules a booted system runs: the shell and the native consoles that
# took over from the firmware's.
RUNNING = ('shell', 'serial', 'fbcon')
CONSOLES = ('serial', 'fbcon')
COMMANDS = {
    'help': 'help [COMMAND]', 'mods': 'mods', 'res': 'res', 'deps': 'deps',
    'log': 'log [save]', 'mem': 'mem', 'load': 'load PATH|NAME',
    'unload': 'unload NAME', 'swap': 'swap INTERFACE|RESOURCE MODULE',
    'gc': 'gc', 'ls': 'ls [-l|-c] [PATH]', 'cat': 'cat PATH', 'echo': 'echo',
    'date': 'date', 'uptime': 'uptime', 'reboot': 'reboot',
    'poweroff': 'poweroff',
}
CSI = '\x1b['
_PROMPT_AT_LINE_START = re.compile(r'(?:\A|\n)' + re.escape(PROMPT))
# A line of the hub's log (on COM1 too), wherever it cut in: ahci takes
# the boot disk over after the first prompt.
_LOG_LINE = re.compile(r'\[\s*\d+\.\d{6}\] [^\n]*\n')


@contextlib.contextmanager
def booted(config='default', timeout=240, image='build/patchbay.img'):
    """A machine booted up to the shell's first prompt."""
    with Machine(config, image=image, timeout=timeout) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        yield m


def lines(out):
    return out.split('\n') if out else []


def one_error(m, command, pattern):
    """`command` answers exactly one line, an error matching pattern, and
    the shell then shows a prompt (cmd() waits for it)."""
    out = m.cmd(command)
    if len(lines(out)) != 1 or not re.fullmatch(pattern, out):
        m.fail('%r answered %r, wanted one line like /%s/' % (command, out, pattern))
    assert out.startswith('error: '), out
    return out


def typed(m, keys, timeout=30):
    """Send raw keys (ending in CR) and return what the shell printed after
    the echoed line, up to the next prompt.  For edited lines, whose echo
    holds cursor moves, where cmd() cannot find the echo."""
    m.skip_output()
    start = len(m.serial_text())
    m.send(keys)
    m.expect(r'\n' + re.escape(PROMPT), timeout)
    # From the start of the line the keys went to, so that a log line
    # being printed then goes whole, and the prompt before them with it.
    text = m.serial_text()
    text = _LOG_LINE.sub('', text[text.rfind('\n', 0, start) + 1:])
    if text.startswith(PROMPT):
        text = text[len(PROMPT):]
    body = _PROMPT_AT_LINE_START.split(text)[0]
    out = body.split('\n', 1)[1] if '\n' in body else ''
    return out[:-1] if out.endswith('\n') else out


def module_states(mods_out):
    rows = lines(mods_out)
    assert rows and rows[0].split()[:3] == ['NAME', 'VER', 'STATE'], rows[:1]
    return {r.split()[0]: r.split()[2] for r in rows[1:] if r.strip()}


def check_listings(m):
    """mods, res, deps, log and mem: the inventory reads true."""
    states = module_states(m.cmd('mods', check=True))
    for name in RUNNING:
        assert states.get(name) == 'running', (name, states)

    res = m.cmd('res', check=True)
    heads = [l for l in lines(res) if not l.startswith('  ')]
    # "No Kernel" appendix 1: NAME, provides "x", requires "y", "z".
    head_re = re.compile(r'[a-z0-9._-]+, provides "[^"]+"(, "[^"]+")*'
                         r'(, requires "[^"]+"(, "[^"]+")*)?')
    for h in heads:
        assert head_re.fullmatch(h), 'res module line: %r' % h
    assert 'shell, provides "os", requires "console", "keyboard", ' \
        '"firmware-rt", "block", "fs", "log"' in heads, heads
    for name in CONSOLES:
        assert any(h.startswith(name + ', provides ') and '"console"' in h
                   for h in heads), (name, heads)
    # One indented line per resource, with its properties, under its owner.
    block = res.split('\nshell, provides', 1)[1].split('\n')
    assert re.fullmatch(r'  os:shell0 consoles=[1-9]\d* keyboards=\d+ '
                        r'\(\d+ clients?\)', block[1]), block[:2]
    assert re.search(r'^  console:\S+ .*\([1-9]\d* clients?\)$', res, re.M), res

    deps = lines(m.cmd('deps', check=True))
    assert deps[0] == 'os: shell', deps
    for iface in ('console', 'keyboard', 'firmware-rt'):
        assert any(re.match(r'  %s -> %s:\S+ \(\S+\)' % (iface, iface), l)
                   for l in deps), (iface, deps)
    assert any(re.match(r'  console -> console:\S+ \((%s)\)'
                        % '|'.join(CONSOLES), l) for l in deps), deps

    log = m.cmd('log', check=True)
    assert re.search(r'^\[\s*\d+\.\d{6}\] shell 1\.0 loaded at 0x', log, re.M), log
    assert re.search(r'^\[\s*\d+\.\d{6}\] shell started', log, re.M), log
    assert re.search(r'^\[\s*\d+\.\d{6}\] boot services exited', log, re.M), log

    mem = m.cmd('mem', check=True)
    assert re.search(r'^shell\s+\d+\s+\d+\s+\d+$', mem, re.M), mem
    rows = re.findall(r'^(\S+)\s+(\d+|-)\s+(\d+)\s+(\d+)$', mem, re.M)
    assert rows and rows[-1][0] == 'total', mem
    assert [int(rows[-1][k]) for k in (1, 2, 3)] == [
        sum(int(r[k]) if r[k] != '-' else 0 for r in rows[:-1])
        for k in (1, 2, 3)], mem
    assert re.search(r'^free: [1-9]\d* KiB', mem, re.M), mem


def test_commands():
    with booted() as m:
        out = m.cmd('help', check=True)
        for name, usage in COMMANDS.items():
            assert re.search(r'^  %s\s+\S' % re.escape(usage), out, re.M), \
                'help lacks %r:\n%s' % (usage, out)
        assert m.cmd('help swap') == ('usage: swap INTERFACE|RESOURCE MODULE\n'
                                      '  hand a provider\'s clients to another '
                                      'module')
        check_listings(m)
        assert m.cmd('echo hello   world') == 'hello world'
        assert m.cmd('echo') == ''
        assert m.cmd('') == ''
        # The rtc provider's time and source (cmos on QEMU), or the
        # firmware's clock with its zone when there is no rtc.
        assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
                            r'( UTC([+-]\d\d:\d\d)?)? \((cmos|uefi)\)',
                            m.cmd('date')), m.tail()
        up = re.compile(r'up \d+:\d\d:\d\d \((\d+)\.(\d{3}) s\)')
        u1 = up.fullmatch(m.cmd('uptime'))
        time.sleep(1.2)
        u2 = up.fullmatch(m.cmd('uptime'))
        assert u1 and u2, m.tail()
        t1, t2 = (int(u.group(1)) * 1000 + int(u.group(2)) for u in (u1, u2))
        assert 1000 <= t2 - t1 < 30000, (t1, t2)
        gc = m.cmd('gc', check=True)
        assert re.search(r'^gc: \d+ modules unloaded', gc, re.M), gc
        # The system still answers after all that.
        assert m.cmd('echo done') == 'done'


def test_errors():
    with booted() as m:
        one_error(m, 'frobnicate', r'error: unknown command: frobnicate \(try help\)')
        one_error(m, 'frobnicate now please',
                  r'error: unknown command: frobnicate \(try help\)')
        one_error(m, 'unload', r'error: unload: usage: unload NAME')
        one_error(m, 'swap console', r'error: swap: usage: swap '
                  r'INTERFACE\|RESOURCE MODULE')
        one_error(m, 'load', r'error: load: usage: load PATH\|NAME')
        one_error(m, 'mods extra', r'error: mods: usage: mods')
        one_error(m, 'cat', r'error: cat: usage: cat PATH')
        one_error(m, 'help nosuch', r'error: help: no command nosuch')
        # Paths start at a mount point (test_files.py has the files).
        one_error(m, 'ls /nosuch', r'error: ls /nosuch: no such file or '
                  r'directory')
        one_error(m, 'cat /nosuch/boot.cfg', r'error: cat /nosuch/boot.cfg: '
                  r'no such file or directory')
        one_error(m, 'cat "/open quote', r'error: a double quote is not '
                  r'closed')
        # In use: refused, naming who uses it; nothing changes.
        for name in CONSOLES:
            out = one_error(m, 'unload ' + name,
                            r'error: unload %s: .*\bin use by .*' % name)
            assert 'shell' in out.split('in use by', 1)[1], out
        one_error(m, 'unload shell', r'error: unload shell: .*')
        # Missing modules: an error, and the system goes on.
        # A name the hub does not know is looked for on /esp (cmd_modfile).
        one_error(m, 'load nosuch', r'error: load (nosuch|/esp/patchbay/mods/'
                  r'nosuch\.mod): .*')
        one_error(m, 'unload nosuch', r'error: unload nosuch: .*')
        one_error(m, 'swap console nosuch', r'error: swap: .*nosuch.*')
        one_error(m, 'swap nothing shell', r'error: swap nothing: .*')
        states = module_states(m.cmd('mods', check=True))
        for name in RUNNING:
            assert states.get(name) == 'running', (name, states)
        assert m.cmd('echo still here') == 'still here'


def test_line_editing():
    """The keys a serial terminal sends: ANSI cursor keys, DEL, Ctrl-C,
    Ctrl-U, and the history."""
    with booted() as m:
        left = CSI + 'D'
        # Insert in the middle of the line.
        assert typed(m, 'echo wrld' + left * 3 + 'o\r') == 'world'
        # Backspace (DEL), and Home / End.
        assert typed(m, 'echo abcx\x7f\r') == 'abc'
        assert typed(m, 'cho 1' + CSI + 'H' + 'e' + CSI + 'F' + '2\r') == '12'
        # Delete under the cursor.
        assert typed(m, 'echo ab-c' + left * 2 + CSI + '3~\r') == 'abc'
        # History: up recalls, down goes back towards the new line.
        assert typed(m, CSI + 'A\r') == 'abc'
        assert typed(m, CSI + 'A' + CSI + 'A' + CSI + 'A' + CSI + 'B\r') == '12'
        # A recalled line can be edited; the edit is a new history entry.
        assert typed(m, CSI + 'A' + '\x7f' + '3\r') == '13'
        assert typed(m, CSI + 'A' + CSI + 'A\r') == '12'
        # Ctrl-C drops the line: ^C, then a fresh prompt and nothing run.
        m.skip_output()
        m.send('frobnicate\x03')
        m.expect(r'\^C\n' + re.escape(PROMPT), 30)
        assert 'error:' not in m.serial_text()[-200:]
        # Ctrl-U kills what is before the cursor.
        assert typed(m, 'nonsense echo ok' + left * 7 + '\x15\r') == 'ok'
        # CR LF from a terminal is one Enter: one prompt, no empty command.
        m.skip_output()
        m.send('echo crlf\r\n')
        m.expect(r'^crlf\n' + re.escape(PROMPT), 30)
        time.sleep(0.5)
        assert m.serial_text().endswith('crlf\n' + PROMPT), m.tail(3)
        # A line far longer than the editor takes: cut at its limit.
        out = typed(m, 'echo ' + 'x' * 400 + '\r', timeout=60)
        assert out == 'x' * 250, len(out)
        # UTF-8 from the terminal: characters, not bytes, move and go.
        assert typed(m, 'echo caf\u00e9 \u2192 x' + left * 3 + '\x7f\x7f'
                     + '\u00fc' + CSI + '3~\r') == 'caf\u00fc x'


def _background(pixels):
    counts = {}
    for i in range(0, min(len(pixels), 3 * 4096), 3):
        px = pixels[i:i + 3]
        counts[px] = counts.get(px, 0) + 1
    return max(counts, key=counts.get)


def _changed_rows(a, b, w):
    stride = 3 * w
    return [y for y in range(len(a) // stride)
            if a[y * stride:(y + 1) * stride] != b[y * stride:(y + 1) * stride]]


def test_screen():
    """The shell's output and prompt reach the framebuffer console too: the
    bottom text rows hold text, and a line being typed shows up there."""
    with booted() as m:
        for c in ('log', 'help', 'mods', 'res'):  # enough to scroll
            m.cmd(c)
        time.sleep(1)
        w, h, before = read_ppm(m.screendump('screen.ppm'))
        m.screendump('screen.png')
        bg = _background(before)
        bottom = before[(h - 64) * w * 3:]
        ink = sum(1 for i in range(0, len(bottom), 3) if bottom[i:i + 3] != bg)
        assert ink > 50, 'no text in the bottom rows (%d pixels)' % ink
        m.send('echo ' + 'W' * 30)
        time.sleep(1.5)
        w2, h2, after = read_ppm(m.screendump('typed.ppm'))
        m.screendump('typed.png')
        assert (w2, h2) == (w, h)
        rows = _changed_rows(before, after, w)
        assert len(rows) >= 8, 'typing did not show on screen: %s' % sorted(rows)
        assert min(rows) >= h - 64, 'typed text not in the bottom rows: %d' % min(rows)
        m.send('\x15')
        assert m.cmd('echo screen ok') == 'screen ok'


def test_poweroff():
    with booted() as m:
        m.sendline('poweroff')
        m.expect(r'^powering off', 30)
        assert m.wait_exit(60) == 0


def test_reboot():
    """reboot resets the machine: the firmware starts again and boots the
    stub a second time (a poweroff would end QEMU instead).  The harness's
    -no-reboot is overridden so the reset is seen, not turned into an
    exit that a poweroff also gives."""
    with Machine('default', timeout=300, extra='-action reboot=reset') as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.sendline('reboot')
        m.expect(r'^rebooting', 30)
        first = m.serial_text().count('Patchbay stub: loading the hub')
        assert first == 1, first
        # After the reset: the firmware, the stub and the prompt again.
        m.expect(r'Patchbay stub: loading the hub', 120)
        assert m.running(), 'QEMU exited instead of resetting'
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_reboot_through_the_acpi_reset_register():
    """reboot=acpi: after every module stopped, the hub writes the FADT's
    reset register (q35: I/O 0xcf9 = 0x0f) before trying the firmware's
    ResetSystem, as Linux reboots a PC, and the machine resets from that
    write.  The hub says each step on COM1 before it takes it: a register
    that did not reset would say so within 100 ms."""
    img = custom_image('reboot_acpi', ['target=os', 'reboot=acpi'])
    with Machine('default', image=img, timeout=300,
                 extra='-action reboot=reset') as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.sendline('reboot')
        m.expect(r"reset: the FADT's reset register, io 0xcf9 = 0x0f", 30)
        m.expect(r'Patchbay stub: loading the hub', 120)
        assert m.running(), 'QEMU exited instead of resetting'
        text = m.serial_text()
        assert 'reset: no reset' not in text, m.tail(40)
        assert "ResetSystem returned" not in text, m.tail(40)
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_firmware_console():
    """takeover=no: the shell on the firmware's console and keyboard
    (efi-console), which OVMF copies to and reads from COM1."""
    img = custom_image('fwcon', ['target=os', 'takeover=no'])
    with booted(image=img) as m:
        states = module_states(m.cmd('mods', check=True))
        assert states.get('efi-console') == 'running', states
        assert m.cmd('echo firmware') == 'firmware'
        # OVMF's terminal turns ESC [ D into the Left key, and BS is
        # backspace (it reads DEL as the Delete key).
        assert typed(m, 'echo wrld' + (CSI + 'D') * 3 + 'o\r') == 'world'
        assert typed(m, 'echo abcx\b\r') == 'abc'
        assert typed(m, CSI + 'A\r') == 'abc'
        one_error(m, 'frobnicate', r'error: unknown command: frobnicate \(try help\)')
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


def test_usb():
    """The same shell when the boot disk is a USB stick."""
    with booted('usb') as m:
        states = module_states(m.cmd('mods', check=True))
        for name in RUNNING:
            assert states.get(name) == 'running', (name, states)
        deps = lines(m.cmd('deps', check=True))
        assert deps[0] == 'os: shell', deps
        assert m.cmd('echo usb') == 'usb'
        one_error(m, 'frobnicate', r'error: unknown command: frobnicate \(try help\)')
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0
