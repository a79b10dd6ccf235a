"""pbtest: the scenario-test harness.  Boots the Patchbay image under QEMU +
OVMF and drives it through COM1 (the test contract: prompt `patchbay> ` at the
start of a line, errors as lines beginning `error: `, `poweroff` ends QEMU).

A scenario test is a function `test_<name>()` in tests/scenario/test_<file>.py;
it fails by raising (assert, TestFailure).  tests/scenario/run runs them.

    from pbtest import *

    def test_prompt():
        with Machine() as m:                       # config='default', snapshot
            m.expect(r'^patchbay> ', timeout=60)
            out = m.cmd('mods')                    # text between echo and prompt
            assert 'console' in out, out
            m.screendump('screen.png')             # build/test-logs/<test>.screen.png
            m.send('poweroff\\r')
            assert m.wait_exit(30) == 0

Machine(config, image, timeout, extra, snapshot=True):
  * QEMU is built from tools/qemuconf.py (the table tools/qemu-run uses), with
    -display none, -no-reboot, COM1 on a pipe and QMP on a unix socket.
  * A thread reads COM1 into a buffer; the text is kept with ANSI escape
    sequences, CR and NUL removed (OVMF's console writes all three) and is
    written to build/test-logs/<test>.serial.log as it arrives
    (QEMU's stderr goes to build/test-logs/<test>.qemu.log).  A line the
    shell erases (CR, then EL) to write the hub's log lines above its
    prompt is removed from the text as a terminal would (the log file
    keeps it), and once expect() has matched a prompt, it does not take
    that prompt drawn again after log lines for a new one.
  * `timeout` is a hard limit on the machine's life: QEMU is killed when it
    runs out, and any wait fails at once.
  * Leaving the `with` block (normally or by exception) kills QEMU and removes
    its temporary files (VARS copy, socket).  QEMU also gets SIGKILL if the
    test process dies (PR_SET_PDEATHSIG).
  * Relative image paths are taken from the repository root.  The disk is
    attached with snapshot=on unless snapshot=False (then QEMU writes the
    image: use image_copy() first).

Machine methods:
  expect(regex, timeout=60) -> match     search COM1 text after the last match
  expect_seen(regex, timeout=60)          the same, anywhere in COM1 text so far
  cmd(line, timeout=30, check=False)      type line+CR, wait for the next prompt,
                                          return the output (expect the first
                                          prompt before the first cmd)
  send(text) / sendline(line)             raw COM1 input / line + CR
  serial_text() / serial_raw() / tail(n)  COM1 so far (cleaned / bytes / last n)
  skip_output()                           forget unread output
  without_log(text) (module function)     a command's output minus log lines
  monitor(hmp) -> str, qmp(cmd, **args)   QEMU monitor
  screendump(path), sendkey(key), typekeys(text)
  wait_exit(timeout=60) -> exit code      the guest powered off / reset / died
  kill(), running(), elapsed(), fail(reason)
Helpers: image_copy, esp_ls, esp_mkdir, esp_put, esp_delete, esp_cat (mtools
on the ESP at 1 MiB), read_ppm, write_png, ppm_to_png, workdir, strip_ansi.

Environment: PB_QEMU (QEMU binary, e.g. the harness's fake), PB_ACCEL,
PB_OVMF_CODE/PB_OVMF_VARS (see tools/qemuconf.py), PB_TEST_ID (log names; set
by the runner), PB_LOG_DIR (instead of build/test-logs).
"""

import codecs
import ctypes
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import qemuconf  # noqa: E402

__all__ = ['Machine', 'TestFailure', 'PROMPT', 'ROOT', 'LOG_DIR',
           'image_copy', 'esp_delete', 'esp_put', 'esp_cat', 'esp_ls',
           'esp_mkdir', 'read_ppm', 'write_png', 'ppm_to_png', 'workdir',
           'test_id', 'strip_ansi']

PROMPT = 'patchbay> '
LOG_DIR = os.environ.get('PB_LOG_DIR') or os.path.join(ROOT, 'build', 'test-logs')
WORK_DIR = os.path.join(ROOT, 'build', 'test-work')
ESP_OFFSET = 1 << 20           # the ESP starts 1 MiB into the image
TAIL_LINES = 40

_PROMPT_RE = re.compile(r'(?:\A|\n)' + re.escape(PROMPT))
# One line of the hub's log as it reaches COM1: "[    0.123456] text".
_LOG_LINE = re.compile(r'\[\s*\d+\.\d{6}\] [^\n]*\n')


class TestFailure(AssertionError):
    """A scenario check failed.  `reason` is one line; `tail` the last lines
    of COM1 (if any) for the report."""

    def __init__(self, reason, tail=None):
        self.reason = reason
        self.tail = tail
        msg = reason
        if tail:
            msg += '\n--- last %d lines of serial ---\n%s' % (
                tail.count('\n') + 1, tail)
        super().__init__(msg)


def cpu_with(feature):
    """QEMU arguments for the test's CPU with one feature set, whatever
    PB_CPU says: 'pks=on' for a test of protection keys, 'pks=off' for a
    CPU like many PCs' (PKS is recent: Sapphire Rapids servers first)."""
    return ['-cpu', ('host' if qemuconf.accel() == 'kvm' else 'max') + ',' +
            feature]


def test_id():
    """The current test's id for file names: PB_TEST_ID or 'manual'."""
    return re.sub(r'[^A-Za-z0-9_.-]', '_', os.environ.get('PB_TEST_ID', 'manual'))


_workdirs = set()


def workdir():
    """The per-test scratch directory build/test-work/<test>/, emptied the
    first time a test process asks for it."""
    d = os.path.join(WORK_DIR, test_id())
    if d not in _workdirs:
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        _workdirs.add(d)
    return d


def _root_path(p):
    return p if os.path.isabs(p) else os.path.join(ROOT, p)


# ---------------------------------------------------------------- ANSI

# CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ST), and the
# two/three-byte escapes (ESC ( B, ESC c, ESC =...).
_ESC_RE = re.compile(r'\x1b(?:\[[0-?]*[ -/]*[@-~]'
                     r'|\][^\x07\x1b]*(?:\x07|\x1b\\)'
                     r'|[ -/]*[0-Z\\^-~])')
_JUNK_RE = re.compile(r'[\r\x00\x1b]')
# CR then EL ("erase to the end of the line"): the shell erases its prompt
# and the line being typed to put the hub's log lines above them, then draws
# them again.  The cleaner keeps it as one mark; Machine then drops the
# erased line from serial_text(), as a terminal would.
_ERASE = '\r\x1b[K'
_ERASE_MARK = '\ue000'


def without_log(text):
    """A command's output without the hub's log lines that came while it
    ran (cmd() keeps them: some tests look for them)."""
    return _LOG_LINE.sub('', text if text.endswith('\n') else text + '\n'
                         ).rstrip('\n')


def strip_ansi(text):
    """Remove ANSI escape sequences, CR and NUL from text."""
    return _JUNK_RE.sub('', _ESC_RE.sub('', text))


class _Cleaner:
    """Incremental strip_ansi over a byte stream (UTF-8, errors replaced):
    an escape sequence cut by a read boundary is held until it completes."""

    def __init__(self):
        self._dec = codecs.getincrementaldecoder('utf-8')('replace')
        self._held = ''

    def feed(self, data, final=False):
        s = self._held + self._dec.decode(data, final)
        self._held = ''
        for k in range(len(_ERASE) - 1, 0, -1):   # an erase cut by the read
            if not final and s.endswith(_ERASE[:k]):
                s, self._held = s[:-k], s[-k:]
                break
        i = s.rfind('\x1b')
        if i >= 0 and not final and len(s) - i < 256 and not _ESC_RE.match(s, i):
            s, self._held = s[:i], s[i:] + self._held
        return strip_ansi(s.replace(_ERASE, _ERASE_MARK))


# ---------------------------------------------------------------- images

def _child_prep(deathsig):
    """Child side of Popen: no blocked signals; if deathsig, SIGKILL this
    child when the thread that started it ends (PR_SET_PDEATHSIG), which is
    the whole test process when that is the main thread."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    if deathsig:
        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
        except Exception:
            pass


def _mtools(args, image, input_bytes=None):
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    r = subprocess.run(args, env=env, capture_output=True, input=input_bytes)
    if r.returncode != 0:
        raise TestFailure('%s on %s failed: %s' % (
            args[0], image, r.stderr.decode(errors='replace').strip()))
    return r.stdout


def _esp(image):
    return '%s@@%d' % (_root_path(image), ESP_OFFSET)


def _esp_path(path):
    return '::/' + path.replace('\\', '/').lstrip('/')


def image_copy(src, dst):
    """Copy an image (e.g. before writing it with snapshot=False)."""
    dst = _root_path(dst)
    os.makedirs(os.path.dirname(dst) or '.', exist_ok=True)
    shutil.copyfile(_root_path(src), dst)
    return dst


def esp_ls(image, path='/'):
    """Names in a directory of the ESP."""
    out = _mtools(['mdir', '-b', '-i', _esp(image), _esp_path(path)], image)
    return [os.path.basename(l.rstrip('/')) for l in out.decode().splitlines() if l]


def esp_mkdir(image, path):
    """Create a directory (and its parents) on the ESP; existing ones are kept."""
    parts = [p for p in path.replace('\\', '/').split('/') if p]
    for i in range(1, len(parts) + 1):
        d = '/'.join(parts[:i])
        parent = '/'.join(parts[:i - 1]) or '/'
        if parts[i - 1].upper() not in (n.upper() for n in esp_ls(image, parent)):
            _mtools(['mmd', '-i', _esp(image), _esp_path(d)], image)


def esp_put(image, local, path):
    """Copy a local file to `path` on the ESP, replacing it, creating dirs."""
    parent = os.path.dirname(path.replace('\\', '/').strip('/'))
    if parent:
        esp_mkdir(image, parent)
    _mtools(['mcopy', '-o', '-i', _esp(image), local, _esp_path(path)], image)


def esp_delete(image, path):
    """Delete a file on the ESP (`esp_delete(img, 'patchbay/hub.pe')`)."""
    _mtools(['mdel', '-i', _esp(image), _esp_path(path)], image)


def esp_cat(image, path):
    """The bytes of a file on the ESP."""
    return _mtools(['mcopy', '-n', '-i', _esp(image), _esp_path(path), '-'], image)


# ---------------------------------------------------------------- pictures

def read_ppm(path):
    """Read a binary PPM (P6, maxval 255): (width, height, RGB bytes)."""
    with open(path, 'rb') as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            raise ValueError('%s: truncated PPM header' % path)
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte after maxval
    if fields[0] != b'P6' or fields[3] != b'255':
        raise ValueError('%s: not a P6 PPM with maxval 255' % path)
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos:pos + w * h * 3]
    if len(pixels) != w * h * 3:
        raise ValueError('%s: truncated PPM data' % path)
    return w, h, pixels


def write_png(path, w, h, pixels):
    """Write RGB bytes as an 8-bit truecolour PNG (filter 0, zlib)."""
    stride = w * 3
    raw = b''.join(b'\x00' + pixels[y * stride:(y + 1) * stride] for y in range(h))

    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n'
                + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 6))
                + chunk(b'IEND', b''))


def ppm_to_png(ppm, png):
    write_png(png, *read_ppm(ppm))
    return png


# ---------------------------------------------------------------- keys

# Characters that `sendkey` needs spelt out (QEMU's qcode names).
_KEYNAMES = {
    ' ': 'spc', '\n': 'ret', '\r': 'ret', '\t': 'tab', '-': 'minus',
    '=': 'equal', '[': 'bracket_left', ']': 'bracket_right', ';': 'semicolon',
    "'": 'apostrophe', '`': 'grave_accent', '\\': 'backslash', ',': 'comma',
    '.': 'dot', '/': 'slash', '\b': 'backspace', '\x1b': 'esc',
}
_SHIFTED = dict(zip('!@#$%^&*()_+{}:"~|<>?', '1234567890-=[];\'`\\,./'))


def _key_for(ch):
    if ch.isascii() and ch.isalnum():
        return ('shift-' + ch.lower()) if ch.isupper() else ch
    if ch in _KEYNAMES:
        return _KEYNAMES[ch]
    if ch in _SHIFTED:
        return 'shift-' + _KEYNAMES.get(_SHIFTED[ch], _SHIFTED[ch])
    raise ValueError('no key for %r' % ch)


# ---------------------------------------------------------------- Machine

_machine_numbers = itertools.count(1)
logs = []  # serial log paths of the Machines this process started, in order


class Machine:
    """One QEMU running the image in a named configuration (see module doc)."""

    def __init__(self, config='default', image='build/patchbay.img',
                 timeout=120, extra=None, snapshot=True, name=None):
        qemuconf.config(config)  # unknown names fail here, not in QEMU
        self.config = config
        self.image = _root_path(image)
        self.timeout = timeout
        self.extra = extra
        self.snapshot = snapshot
        n = next(_machine_numbers)
        self.name = name or (test_id() if n == 1 else '%s.%d' % (test_id(), n))
        self.log_path = os.path.join(LOG_DIR, self.name + '.serial.log')
        self.qemu_log_path = os.path.join(LOG_DIR, self.name + '.qemu.log')
        self.accel = None
        self.proc = None
        self.events = []       # QMP events seen so far (dicts)
        self._tmp = None
        self._cond = threading.Condition(threading.RLock())
        self._raw = bytearray()
        self._text = ''
        self._pos = 0          # expect() searches from here
        self._erased_at = None  # where an erased line was, until redrawn
        self._redrawn = set()   # where prompts were drawn again
        self._erased_prompts = []  # where erased prompt lines began
        self._eof = False
        self._killed_for_timeout = False
        self._reader = None
        self._watchdog = None
        self._qmp = None
        self._qmp_buf = b''
        self._qmp_lock = threading.Lock()
        self._log = None
        self._started = None

    # -- life

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        if self.proc is not None:
            raise RuntimeError('machine already started')
        c = qemuconf.config(self.config)
        if c['disk'] != 'none' and not os.path.isfile(self.image):
            raise TestFailure('image not found: %s (run make image)' % self.image)
        os.makedirs(LOG_DIR, exist_ok=True)
        self._tmp = tempfile.mkdtemp(prefix='pbtest.')
        try:
            vars_copy = qemuconf.copy_vars(self._tmp)
            self._qmp_path = os.path.join(self._tmp, 'qmp.sock')
            self.accel = qemuconf.accel()
            mode = qemuconf.test_mode_args('stdio', qmp=self._qmp_path)
            self.argv = qemuconf.command(self.config, self.image, vars_copy,
                                         mode_args=mode, snapshot=self.snapshot,
                                         extra=self.extra or (),
                                         accel_kind=self.accel)
            self._log = open(self.log_path, 'w', encoding='utf-8', errors='replace')
            logs.append(self.log_path)
            qlog = open(self.qemu_log_path, 'wb')
            qlog.write(('# ' + ' '.join(self.argv) + '\n').encode())
            qlog.flush()
            main = threading.current_thread() is threading.main_thread()
            try:
                self.proc = subprocess.Popen(
                    self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=qlog, cwd=self._tmp,
                    preexec_fn=lambda: _child_prep(main))
            finally:
                qlog.close()
        except qemuconf.ConfigError as e:
            self.close()
            raise TestFailure(str(e))
        except BaseException:
            self.close()
            raise
        self._started = time.monotonic()
        self._reader = threading.Thread(target=self._read_serial, daemon=True,
                                        name='serial-' + self.name)
        self._reader.start()
        if self.timeout:
            self._watchdog = threading.Timer(self.timeout, self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()
        return self

    def close(self):
        """Stop QEMU (if running) and clean up.  Safe to call twice."""
        if self._watchdog:
            self._watchdog.cancel()
        self._close_qmp()
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.terminate()
                    self.proc.wait(3)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        # QEMU is gone, so the reader sees EOF; only then close its pipe.
        if self._reader:
            self._reader.join(5)
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    if f:
                        f.close()
                except OSError:
                    pass
        with self._cond:
            if self._log:
                self._log.close()
                self._log = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def kill(self):
        """Kill QEMU at once (SIGKILL); the Machine stays inspectable."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _expire(self):
        if self.proc and self.proc.poll() is None:
            self._killed_for_timeout = True
            self.proc.kill()
            self.proc.wait()
        with self._cond:
            self._cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def elapsed(self):
        """Seconds since QEMU started."""
        return time.monotonic() - self._started if self._started else 0.0

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- serial

    def _read_serial(self):
        cleaner = _Cleaner()
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b''
            text = cleaner.feed(data, final=not data)
            with self._cond:
                self._raw += data
                for k, part in enumerate(text.split(_ERASE_MARK)):
                    if k:
                        self._erase_line()
                    self._text += part
                    if self._log and part:
                        self._log.write(part)
                self._follow_redraw()
                if self._log and text:
                    self._log.flush()
                if not data:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    def _erase_line(self):
        """The shell erased its line (prompt and what was typed) to write
        log lines above it: drop it from the text, as the terminal does
        (the log file keeps it, ended there).  expect() goes on from where
        it was, so the log lines are seen."""
        start = self._text.rfind('\n') + 1
        if start == len(self._text):
            return
        # A prompt expect() matched already, or one drawn again already:
        # where it is drawn again is no new prompt.
        seen = self._pos > start or start in self._redrawn
        if self._text.startswith(PROMPT, start):
            self._erased_prompts.append(start)
        self._text = self._text[:start]
        self._pos = min(self._pos, start)
        self._erased_at = start if seen else None
        self._redrawn = {i for i in self._redrawn if i < start - 1}
        if self._log:
            self._log.write('\n')

    def _follow_redraw(self):
        """The erased line is drawn again after the log lines: the first
        prompt at a line start from where it was.  If expect() had seen it
        before, it is not a new prompt: expect() passes over it (see find
        in expect)."""
        if self._erased_at is None:
            return
        p = _PROMPT_RE.search(self._text, max(self._erased_at - 1, 0))
        if p:
            at = p.end() - len(PROMPT)
            self._redrawn |= {at - 1, at}
            self._erased_at = None

    def serial_text(self):
        """Everything COM1 printed so far, escape sequences and CR removed."""
        with self._cond:
            return self._text

    def serial_raw(self):
        """Everything COM1 printed so far, as bytes, untouched."""
        with self._cond:
            return bytes(self._raw)

    def tail(self, n=TAIL_LINES):
        return '\n'.join(self.serial_text().rstrip('\n').split('\n')[-n:])

    def qemu_stderr(self):
        try:
            with open(self.qemu_log_path, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def _dead_reason(self):
        """Why no more output will come, or None while QEMU runs."""
        if self._killed_for_timeout:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            return 'machine timeout (%gs) reached, QEMU killed' % self.timeout
        if self.proc.poll() is None and not self._eof:
            return None
        code = self.proc.poll()
        if code is None:
            try:
                code = self.proc.wait(2)
            except subprocess.TimeoutExpired:
                return 'COM1 closed'
        err = [l for l in self.qemu_stderr().splitlines()[1:] if l.strip()]
        return 'QEMU exited with code %s%s' % (
            code, (': ' + err[-1].strip()) if err else '')

    def fail(self, reason):
        """Raise a TestFailure carrying the serial tail."""
        raise TestFailure(reason, self.tail())

    def _wait_for(self, finder, what, timeout):
        """Wait until finder(text, pos) returns a result; fail on timeout or
        when QEMU is gone.  (self._cond holds an RLock: fail() may re-enter.)"""
        if self.proc is None:
            raise RuntimeError('machine not started')
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                searched = time.monotonic()
                r = finder(self._text, self._pos)
                if r is not None:
                    return r
                if self._eof or self._killed_for_timeout:
                    dead = self._dead_reason()
                    if dead:
                        self.fail('%s while waiting for %s' % (dead, what))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail('timed out after %gs waiting for %s' % (timeout, what))
                self._cond.wait(min(left, 0.5))
                # Search at most every 20 ms: a flood of small reads must
                # not make each wait quadratic in the output's length.
                pause = searched + 0.02 - time.monotonic()
                if pause > 0 and not self._eof:
                    self._cond.wait(pause)

    def expect(self, pattern, timeout=60):
        """Wait for `pattern` in COM1 output after the previous match; return
        the match object (positions index serial_text()).  String patterns
        are compiled with re.MULTILINE, so ^ and $ match at line ends."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern

        def find(text, pos):
            m = rx.search(text, pos)
            # A prompt drawn again after log lines is the same prompt.
            while m and m.start() in self._redrawn and \
                    m.group(0).lstrip('\n') == PROMPT:
                m = rx.search(text, m.start() + 1)
            if m:
                self._pos = m.end()
            return m
        return self._wait_for(find, '/%s/' % rx.pattern, timeout)

    def expect_seen(self, pattern, timeout=60):
        """Wait for `pattern` anywhere in COM1 output, before the previous
        match too: for a line whose order against another is not fixed
        (a USB keyboard may be bound before or after the prompt).  Later
        expect()s go on from the later of the two."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern

        def find(text, pos):
            m = rx.search(text)
            if m:
                self._pos = max(pos, m.end())
            return m
        return self._wait_for(find, '/%s/' % rx.pattern, timeout)

    def skip_output(self):
        """Forget unread output: the next expect() sees only new text."""
        with self._cond:
            self._pos = len(self._text)

    def send(self, text):
        """Write text (str or bytes) to COM1 as is."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            with self._cond:
                dead = self._dead_reason() or 'COM1 closed'
            self.fail('%s, cannot send %r' % (dead, data[:40]))

    def sendline(self, line):
        self.send(line + '\r')

    def cmd(self, line, timeout=30, check=False):
        """Type `line` + CR at the shell and wait for the next prompt.
        Returns the output between the echoed command line and the prompt,
        without the newline that ends it ('' for no output).  With
        check=True an output line starting `error: ` fails the test."""
        # The shell puts the hub's log lines above the line being typed
        # (erased and drawn again), but the hub writes them on COM1 itself
        # where no shell reads the log (other targets, takeover=no before
        # the shell starts): the echo may be cut by whole log lines.  The
        # output keeps them: some tests look for the log lines a command
        # causes.
        echo = re.compile(''.join(re.escape(c) + '(?:%s)?' % _LOG_LINE.pattern
                                  for c in line) + r'[ \t]*\n')

        def find(text, pos):
            e = echo.search(text, pos)
            if not e:
                return None
            p = _PROMPT_RE.search(text[e.end():])
            # The prompt may be gone already, erased for log lines that
            # came after it: the output ends where it was.
            gone = [i for i in self._erased_prompts if i >= e.end()]
            if gone and (not p or gone[0] <= e.end() + p.start() + 1):
                self._pos = self._erased_at = gone[0]
                self._follow_redraw()   # that prompt, drawn again
                return text[e.end():gone[0] - 1]
            if not p:
                return None
            self._pos = e.end() + p.end()
            return text[e.end():e.end() + p.start()]
        self.sendline(line)
        out = self._wait_for(find, 'the prompt after %r' % line, timeout)
        if check:
            for l in out.split('\n'):
                if l.startswith('error: '):
                    self.fail('%r: %s' % (line, l))
        return out

    def wait_exit(self, timeout=60):
        """Wait for QEMU to end (the guest powered off, reset with
        -no-reboot, or crashed); return its exit code."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail('QEMU still running %gs after wait_exit()' % timeout)
        if self._killed_for_timeout:
            self.fail('machine timeout (%gs) reached, QEMU killed' % self.timeout)
        if self._reader:
            self._reader.join(5)
        return code

    # -- monitor (QMP underneath; HMP commands go through human-monitor-command)

    def _qmp_connect(self):
        deadline = time.monotonic() + 15
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self._qmp_path)
                break
            except OSError:
                s.close()
                if self.proc.poll() is not None:
                    self.fail('%s, no monitor' % self._dead_reason())
                if time.monotonic() > deadline:
                    self.fail('QMP socket never appeared')
                time.sleep(0.05)
        s.settimeout(30)
        self._qmp = s
        self._qmp_buf = b''
        greeting = self._qmp_read()
        if 'QMP' not in greeting:
            self.fail('unexpected QMP greeting %r' % greeting)
        self._qmp_call('qmp_capabilities')

    def _qmp_read(self):
        while b'\n' not in self._qmp_buf:
            try:
                data = self._qmp.recv(65536)
            except socket.timeout:
                self.fail('QMP did not answer')
            if not data:
                self.fail('QMP closed: %s' % (self._dead_reason() or 'socket closed'))
            self._qmp_buf += data
        line, self._qmp_buf = self._qmp_buf.split(b'\n', 1)
        return json.loads(line)

    def _qmp_call(self, execute, **arguments):
        msg = {'execute': execute}
        if arguments:
            msg['arguments'] = arguments
        self._qmp.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            r = self._qmp_read()
            if 'event' in r:
                self.events.append(r)
                continue
            if 'error' in r:
                raise TestFailure('QMP %s: %s' % (execute, r['error'].get('desc', r['error'])))
            if 'return' in r:
                return r['return']

    def _close_qmp(self):
        if self._qmp:
            try:
                self._qmp.close()
            except OSError:
                pass
            self._qmp = None

    def qmp(self, execute, **arguments):
        """One QMP command; returns its 'return' value."""
        with self._qmp_lock:
            if self._qmp is None:
                self._qmp_connect()
            return self._qmp_call(execute, **arguments)

    def monitor(self, command):
        """One human-monitor (HMP) command, e.g. 'info status'; its answer."""
        out = self.qmp('human-monitor-command', **{'command-line': command})
        return out.replace('\r\n', '\n')

    def screendump(self, path):
        """Save the display.  A path ending in .png is converted from QEMU's
        PPM; anything else is kept as PPM.  A relative path becomes
        build/test-logs/<test>.<path>.  Returns the path written."""
        if not os.path.isabs(path):
            path = os.path.join(LOG_DIR, '%s.%s' % (self.name, path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if path.lower().endswith('.png'):
            ppm = os.path.join(self._tmp, 'screen.ppm')
            self.qmp('screendump', filename=ppm)
            ppm_to_png(ppm, path)
            os.unlink(ppm)
        else:
            self.qmp('screendump', filename=os.path.abspath(path))
        return path

    def sendkey(self, key, hold_ms=None):
        """Press a key through the emulated keyboard: QEMU names such as
        'a', 'ret', 'shift-a', 'ctrl-alt-delete'."""
        cmd = 'sendkey ' + key + ((' %d' % hold_ms) if hold_ms else '')
        out = self.monitor(cmd)
        if out.strip():
            self.fail('%s: %s' % (cmd, out.strip()))

    def typekeys(self, text, delay=0.02):
        """Type text on the emulated keyboard, one sendkey per character."""
        for ch in text:
            self.sendkey(_key_for(ch))
            if delay:
                time.sleep(delay)
