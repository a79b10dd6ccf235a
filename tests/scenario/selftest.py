#!/usr/bin/python3
"""The harness's own tests: tools/qemuconf.py, tools/qemu-run, pbtest.Machine,
tests/scenario/run and tests/run, against tests/scenario/fakeqemu.py (a fake
QEMU with a Patchbay-like shell), so no image is needed.

    tests/scenario/selftest.py [--filter SUBSTR] [--no-real]

Prints `PASS harness/<name> (0.4s)` / `FAIL harness/<name>: reason` lines
(tests/run counts them).  With a real qemu-system-x86_64 and OVMF present
(and without --no-real or PB_SELFTEST_REAL=0) it also boots OVMF on a small
GPT+FAT image in the default and usb configurations and checks COM1, QMP and
screendump end to end (about 10 s).
"""

import glob
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(HERE, 'fakeqemu.py')
RUNNER = os.path.join(HERE, 'run')
AGGREGATOR = os.path.join(ROOT, 'tests', 'run')
QEMU_RUN = os.path.join(ROOT, 'tools', 'qemu-run')
PY = sys.executable

# Everything runs against the fake unless a test says otherwise.  Set before
# pbtest is imported so its LOG_DIR points into the scratch directory.
SCRATCH = tempfile.mkdtemp(prefix='pbselftest.')
PIDS = os.path.join(SCRATCH, 'pids')
os.makedirs(PIDS)
_fw = os.path.join(SCRATCH, 'fw')
os.makedirs(_fw)
for _n in ('CODE.fd', 'VARS.fd'):
    with open(os.path.join(_fw, _n), 'wb') as _f:
        _f.write(b'\0' * 4096)
IMAGE = os.path.join(SCRATCH, 'disk.img')
with open(IMAGE, 'wb') as _f:
    _f.truncate(1 << 20)
FAKE_ENV = {
    'PB_QEMU': FAKE,
    'PB_OVMF_CODE': os.path.join(_fw, 'CODE.fd'),
    'PB_OVMF_VARS': os.path.join(_fw, 'VARS.fd'),
    'PB_ACCEL': 'tcg',
    'PB_LOG_DIR': os.path.join(SCRATCH, 'logs'),
    'PB_FAKE_PIDS': PIDS,
}
REAL_ENV_KEYS = ('PB_QEMU', 'PB_OVMF_CODE', 'PB_OVMF_VARS', 'PB_ACCEL', 'PB_FAKE_PIDS')
_saved_env = {k: os.environ.get(k) for k in FAKE_ENV}
os.environ.update(FAKE_ENV)

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import pbtest  # noqa: E402
import qemuconf  # noqa: E402
from pbtest import Machine, TestFailure  # noqa: E402


class Skip(Exception):
    """Raised by a test that cannot run here."""


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def raises(fn, kind=TestFailure, contains=None):
    try:
        fn()
    except kind as e:
        if contains is not None and contains not in str(e):
            raise AssertionError('%s raised, but %r is not in %r' % (kind.__name__, contains, str(e)[:300]))
        return e
    raise AssertionError('%s not raised' % kind.__name__)


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def fake_pids():
    return [int(p) for p in os.listdir(PIDS)]


def no_fakes_alive(within=5.0):
    deadline = time.monotonic() + within
    while True:
        live = [p for p in fake_pids() if alive(p)]
        if not live:
            return
        if time.monotonic() > deadline:
            raise AssertionError('fake QEMU still running: %s' % live)
        time.sleep(0.1)


def sh(args, timeout=60, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def procs_with_env(var, value):
    """Command lines of the live processes whose environment has var=value.
    A scan of /proc rather than pgrep: a minimal Debian has no procps, and
    the value tells this run's processes from another run's."""
    want = ('%s=%s' % (var, value)).encode()
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/environ' % pid, 'rb') as f:
                if want not in f.read().split(b'\0'):
                    continue
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read()
        except OSError:
            continue            # gone meanwhile, or not ours to read
        if cmd:                 # a zombie's is empty: it is dead already
            found.append('%s %s' % (pid, cmd.replace(b'\0', b' ').decode(errors='replace')))
    return found


# ---------------------------------------------------------------- qemuconf

def without_pb_cpu(test):
    """test() with PB_CPU unset (a run with PB_CPU=max,pks=off too)."""
    def run():
        cpu = os.environ.pop('PB_CPU', None)
        try:
            test()
        finally:
            os.environ.pop('PB_CPU', None)
            if cpu is not None:
                os.environ['PB_CPU'] = cpu
    run.__name__ = test.__name__
    return run


@without_pb_cpu
def test_conf_table():
    v = '/tmp/x/VARS.fd'
    for name in ('default', 'usb', 'nodisplay', 'bochs', 'smp2', 'bigmem'):
        check(name in qemuconf.CONFIGS, 'missing config ' + name)
        argv = qemuconf.command(name, '/i.img', v, accel_kind='tcg')
        j = ' '.join(argv)
        check('-machine q35' in j and 'if=pflash,format=raw,unit=0,readonly=on,file=' in j, j)
        check('if=pflash,format=raw,unit=1,file=' + v in j, j)
    d = ' '.join(qemuconf.command('default', '/i.img', v, accel_kind='tcg'))
    check('-m 512M' in d and '-vga std' in d, d)
    check('-drive if=none,id=disk,format=raw,file=/i.img -device ide-hd,drive=disk,bus=ide.0' in d, d)
    u = ' '.join(qemuconf.command('usb', '/i.img', v, accel_kind='tcg'))
    check('ide-hd' not in u, u)
    for frag in ('-device qemu-xhci,id=xhci', '-device usb-storage,bus=xhci.0,drive=disk,bootindex=0',
                 '-device usb-kbd,bus=xhci.0'):
        check(frag in u, frag)
    check(u.index('qemu-xhci') < u.index('usb-storage'), 'xhci must come before its devices')
    check('-vga none' in ' '.join(qemuconf.command('nodisplay', '/i', v, accel_kind='tcg')), 'nodisplay')
    b = ' '.join(qemuconf.command('bochs', '/i', v, accel_kind='tcg'))
    check('-vga none' in b and '-device bochs-display' in b, b)
    check('-smp 2' in ' '.join(qemuconf.command('smp2', '/i', v, accel_kind='tcg')), 'smp2')
    check('-m 4G' in ' '.join(qemuconf.command('bigmem', '/i', v, accel_kind='tcg')), 'bigmem')
    s = qemuconf.command('default', '/a,b.img', v, snapshot=True, extra="-d 'int,cpu_reset'", accel_kind='kvm')
    check('if=none,id=disk,format=raw,file=/a,,b.img,snapshot=on' in s, s)
    check(s[-2:] == ['-d', 'int,cpu_reset'], s)
    check('-enable-kvm' in s and 'host' in s, s)
    check(qemuconf.accel_args('tcg') == ['-accel', 'tcg', '-cpu', 'max'], 'tcg args')
    raises(lambda: qemuconf.config('nope'), qemuconf.ConfigError)
    t = qemuconf.test_mode_args('stdio', monitor='/m.sock', qmp='/q.sock')
    check(t == ['-display', 'none', '-no-reboot', '-serial', 'stdio',
                '-monitor', 'unix:/m.sock,server=on,wait=off',
                '-qmp', 'unix:/q.sock,server=on,wait=off'], t)
    d = tempfile.mkdtemp(dir=SCRATCH)
    c = qemuconf.copy_vars(d)
    check(c.startswith(d) and os.path.getsize(c) == 4096, c)


def test_conf_accel_env():
    old = os.environ.get('PB_ACCEL')
    try:
        os.environ['PB_ACCEL'] = 'kvm'
        check(qemuconf.accel() == 'kvm', 'forced kvm')
        os.environ['PB_ACCEL'] = ''
        check(qemuconf.accel() == ('kvm' if qemuconf.kvm_usable() else 'tcg'), 'auto')
        os.environ['PB_ACCEL'] = 'hax'
        raises(qemuconf.accel, qemuconf.ConfigError)
    finally:
        os.environ['PB_ACCEL'] = old or ''


@without_pb_cpu
def test_conf_cpu_env():
    os.environ['PB_CPU'] = 'max,pks=off'
    check(qemuconf.accel_args('tcg') == ['-accel', 'tcg', '-cpu',
                                         'max,pks=off'], 'PB_CPU tcg')
    check(qemuconf.accel_args('kvm')[-1] == 'max,pks=off', 'PB_CPU kvm')


def _fake_qemu(body):
    path = os.path.join(tempfile.mkdtemp(dir=SCRATCH), 'qemu')
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n' + body + '\n')
    os.chmod(path, 0o755)
    return path


def test_conf_kvm_probe():
    """An openable /dev/kvm that cannot run OVMF (nested KVM stopping with
    an emulation failure) must not be chosen; one that prints is."""
    broken = _fake_qemu('echo "KVM internal error. Suberror: 1" >&2; '
                        'echo "emulation failure" >&2; exec sleep 30')
    works, why = qemuconf.probe_kvm(broken, seconds=10)
    check(not works and 'internal error' in why, why)
    good = _fake_qemu('printf "BdsDxe: loading"; exec sleep 30')
    works, why = qemuconf.probe_kvm(good, seconds=10)
    check(works, why)
    silent = _fake_qemu('exec sleep 30')
    works, why = qemuconf.probe_kvm(silent, seconds=1)
    check(not works and 'no output' in why, why)
    gone = _fake_qemu('exit 3')
    works, why = qemuconf.probe_kvm(gone, seconds=10)
    check(not works and 'exited (3)' in why, why)


# ---------------------------------------------------------------- qemu-run

def test_qemu_run_dry_run():
    for name in qemuconf.CONFIGS:
        r = sh([QEMU_RUN, '--dry-run', '--config', name, IMAGE])
        check(r.returncode == 0, r.stderr)
        argv = shlex.split(r.stdout)
        check(argv[0] == FAKE and 'patchbay-' + name in argv, r.stdout)
        check('mon:stdio' in argv, 'interactive serial: ' + r.stdout)
        check('/usr/share' not in r.stdout.split('unit=1,file=')[1].split()[0], 'VARS copied')
    r = sh([QEMU_RUN, '-n', '--test', '--snapshot', '--serial', 'out.log', '--timeout', '5',
            '--extra', '-d int', '--extra', '-S', IMAGE])
    check(r.returncode == 0, r.stderr)
    for frag in ('-display none', '-no-reboot', 'snapshot=on', '-monitor unix:', 'server=on,wait=off',
                 '-serial file:' + os.path.abspath('out.log'), '-d int -S'):
        check(frag in r.stdout, '%r not in %s' % (frag, r.stdout))
    r = sh([QEMU_RUN, '--list'])
    check(r.returncode == 0 and 'bigmem' in r.stdout and 'usb' in r.stdout, r.stdout)
    r = sh([QEMU_RUN, '--config', 'nope', '-n', IMAGE])
    check(r.returncode == 2 and 'unknown configuration' in r.stderr, r.stderr)
    r = sh([QEMU_RUN, '--test', '--serial', '-', os.path.join(SCRATCH, 'absent.img')])
    check(r.returncode == 2 and 'image not found' in r.stderr, r.stderr)


def _tmpdirs():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), 'qemu-run.*')))


def test_qemu_run_test_mode():
    before = _tmpdirs()
    # COM1 on stdio: the fake shell powers off on command.
    r = subprocess.run([QEMU_RUN, '--test', '--serial', '-', '--timeout', '20', IMAGE],
                       input=b'echo hi\rpoweroff\r', capture_output=True, timeout=30)
    check(r.returncode == 0, r.stderr)
    check(b'patchbay> ' in r.stdout and b'hi\r\n' in r.stdout and b'powering off' in r.stdout, r.stdout)
    # --timeout kills QEMU: exit 124.
    t = time.monotonic()
    p = subprocess.Popen([QEMU_RUN, '--test', '--serial', '-', '--timeout', '1', IMAGE],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.wait(20)  # stdin stays open: the fake shell waits for input
    err = p.stderr.read()
    p.stdin.close()
    check(p.returncode == 124 and b'timeout' in err, (p.returncode, err))
    check(time.monotonic() - t < 8, 'timeout too slow')
    # SIGTERM to qemu-run: QEMU killed, temp files gone.
    n = len(fake_pids())
    p = subprocess.Popen([QEMU_RUN, '--test', '--serial', '-', '--timeout', '60', IMAGE],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while len(fake_pids()) == n and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    check(p.wait(15) == 128 + signal.SIGTERM, p.returncode)
    p.stdin.close()
    # SIGKILL to qemu-run: QEMU dies with it (PR_SET_PDEATHSIG).
    n = len(fake_pids())
    p = subprocess.Popen([QEMU_RUN, '--test', '--serial', '-', '--timeout', '60', IMAGE],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while len(fake_pids()) == n and time.monotonic() < deadline:
        time.sleep(0.05)
    p.kill()
    p.wait()
    p.stdin.close()
    no_fakes_alive()
    leaked = _tmpdirs() - before
    # The SIGKILLed run cannot clean its directory; the others must.
    check(len(leaked) <= 1, 'temporary directories left: %s' % leaked)
    for d in leaked:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- Machine

def test_machine_cmd():
    with Machine(image=IMAGE, timeout=30) as m:
        m.expect(r'^patchbay> ', 10)
        check(m.cmd('echo hello world') == 'hello world', 'echo')
        mods = m.cmd('mods')
        check(mods.split('\n')[2] == 'serial    1.0  running', repr(mods))
        check(m.cmd('') == '', 'empty line')
        check(m.cmd('echo') == '', 'no output')
        check(m.cmd('fail').startswith('error: it failed'), 'fail')
        raises(lambda: m.cmd('fail', check=True), contains="'fail': error: it failed on purpose")
        raises(lambda: m.cmd('bogus', check=True), contains='error: unknown command: bogus')
        check(m.cmd('slow 0.3', timeout=5) == 'done', 'slow')
        text = m.serial_text()
        check('\x1b' not in text and '\r' not in text, repr(text[:200]))
        check('\x1b[' in m.serial_raw().decode(), 'raw keeps escapes')
        check(text.startswith('BdsDxe: loading Boot0001'), repr(text[:80]))
        m.send('echo a\recho b\r')
        check(m.expect(r'^b$', 5).group(0) == 'b', 'expect after send')
        m.sendline('poweroff')
        check(m.wait_exit(10) == 0, 'exit code')
        log = m.log_path
    with open(log) as f:
        check(f.read() == m.serial_text(), 'the log is serial_text()')
    check(log == os.path.join(pbtest.LOG_DIR, 'selftest.machine_cmd.serial.log'), log)


def test_machine_log_line_at_the_prompt():
    """The shell erases its line to put a log line above it and draws it
    again: serial_text() shows what a terminal shows, and a wait for the
    next prompt is not fooled by the redrawn one."""
    with Machine(image=IMAGE, timeout=30) as m:
        m.expect(r'^patchbay> ', 10)
        check(m.cmd('logsoon 0.5') == '', 'logsoon')
        m.send('echo x')
        m.expect(r'a late log line\n', 5)
        time.sleep(0.2)
        text = m.serial_text()
        check(text.endswith('\npatchbay> logsoon 0.5\n[    9.000000] a late '
                            'log line\npatchbay> echo x'), repr(text[-120:]))
        check('log line' in open(m.log_path).read(), 'log file')
        m.send('\r')
        check(m.expect(r'^x$', 5), 'the line typed across the log line')
        m.expect(r'^patchbay> ', 5)
        m.cmd('logsoon 0.2')
        time.sleep(0.6)                 # the prompt is drawn again
        m.sendline('slow 0.5')
        p = m.expect(r'^patchbay> ', 5)
        done = m.serial_text().rfind('done\n')
        check(done >= 0 and p.start() > done, 'matched the redrawn prompt')
        # A log line right after the prompt: cmd() still ends the output
        # there, and the prompt drawn again is not the next one.
        out = m.cmd('lognow')
        check(out == '', 'output cut at the erased prompt: %r' % out)
        m.sendline('slow 0.3')
        p = m.expect(r'^patchbay> ', 5)
        check(p.start() > m.serial_text().rfind('done\n'), 'redrawn prompt')
        m.sendline('poweroff')
        check(m.wait_exit(10) == 0, 'exit code')


def test_machine_expect_failures():
    with Machine(image=IMAGE, timeout=30) as m:
        m.expect('patchbay> ')
        t = time.monotonic()
        e = raises(lambda: m.expect('never printed', 1), contains='timed out after 1s waiting for /never printed/')
        check(1 <= time.monotonic() - t < 3, 'expect timeout duration')
        check('patchbay> ' in e.tail and 'BdsDxe' in e.tail, e.tail)
        check(e.reason.startswith('timed out'), e.reason)
        e = raises(lambda: m.cmd('crash 3', 10), contains='QEMU exited with code 3')
        check('!!! fake crash' in e.tail, e.tail)
        raises(lambda: m.send('x\r'), contains='QEMU exited with code 3')
        check(m.wait_exit(5) == 3, 'crash code')


def test_machine_tail_is_40_lines():
    with Machine(image=IMAGE, timeout=30) as m:
        m.expect('patchbay> ')
        m.cmd('flood 100')
        e = raises(lambda: m.expect('nope', 0.2))
        lines = e.tail.split('\n')
        check(len(lines) == 40 and lines[-1] == 'patchbay> ', lines[-3:])


def test_machine_flood_is_fast():
    with Machine(image=IMAGE, timeout=60) as m:
        m.expect('patchbay> ')
        t = time.monotonic()
        out = m.cmd('flood 20000', timeout=50)
        check(out.count('\n') == 19999 and out.endswith('line 19999 of flood'), out[-60:])
        check(time.monotonic() - t < 20, 'flood took %.1fs' % (time.monotonic() - t))


def test_machine_monitor():
    with Machine(image=IMAGE, timeout=30) as m:
        m.expect('patchbay> ')
        check(m.monitor('info status') == 'VM status: running\n', 'info status')
        check(any(e['event'] == 'RESUME' for e in m.events), m.events)
        m.sendkey('ctrl-alt-delete')
        m.typekeys('Hi! a', delay=0)
        check(m.cmd('keys') == 'ctrl-alt-delete shift-h i shift-1 spc a', m.cmd('keys'))
        raises(lambda: m.sendkey('nosuch'), contains='sendkey nosuch: invalid parameter: nosuch')
        raises(lambda: m.qmp('no-such-command'), contains='has not been found')
        png = m.screendump('shot.png')
        check(png == os.path.join(pbtest.LOG_DIR, m.name + '.shot.png'), png)
        w, h, px = _read_png(png)
        check((w, h) == (4, 2) and px[:6] == bytes([255, 0, 0, 0, 255, 0]), (w, h, px))
        ppm = m.screendump(os.path.join(SCRATCH, 'shot.ppm'))
        w, h, px = pbtest.read_ppm(ppm)
        check((w, h) == (4, 2) and px[6:9] == bytes([0, 0, 255]) and len(px) == 24, (w, h, px))


def _read_png(path):
    """Decoder for the PNGs pbtest writes (RGB8, filter 0)."""
    data = open(path, 'rb').read()
    check(data[:8] == b'\x89PNG\r\n\x1a\n', 'PNG signature')
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        check(struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body), 'crc')
        if kind == b'IHDR':
            w, h = struct.unpack('>II', body[:8])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    px = b''.join(raw[y * (w * 3 + 1) + 1:(y + 1) * (w * 3 + 1)] for y in range(h))
    return w, h, px


def test_machine_cleanup():
    m = Machine(image=IMAGE, timeout=30)
    try:
        with m:
            m.expect('patchbay> ')
            tmp = m._tmp
            pid = m.pid
            check(os.path.isdir(tmp) and alive(pid), 'running')
            raise ValueError('test body failed')
    except ValueError:
        pass
    check(not alive(pid) and not os.path.exists(tmp), 'QEMU or temp files left')
    m.close()  # twice is fine


def test_machine_watchdog():
    t = time.monotonic()
    with Machine(image=IMAGE, timeout=1.5) as m:
        m.expect('patchbay> ')
        m.sendline('hang')
        raises(lambda: m.expect('never', 30), contains='machine timeout (1.5s) reached')
        check(time.monotonic() - t < 5, 'watchdog too slow')
        check(not m.running(), 'still running')


def test_machine_bad_start():
    raises(lambda: Machine(image=os.path.join(SCRATCH, 'absent.img')).start(), contains='image not found')
    raises(lambda: Machine(config='nope'), qemuconf.ConfigError)
    # QEMU refusing its arguments: the reason carries its error line.
    with Machine(image=IMAGE, extra=['-drive', 'file=/nonexistent/x']) as m:
        raises(lambda: m.expect('patchbay> ', 10), contains="Could not open '/nonexistent/x'")


def test_machine_two_at_once():
    with Machine(image=IMAGE, timeout=30) as a, Machine(image=IMAGE, timeout=30) as b:
        a.expect('patchbay> ')
        b.expect('patchbay> ')
        check(a.cmd('echo A') == 'A' and b.cmd('echo B') == 'B', 'two machines')
        check(a.log_path != b.log_path, 'separate logs')


def test_strip_ansi():
    s = pbtest.strip_ansi('\x1b[2J\x1b[01;01H\x1b[=3hA\r\n\x1b(B\x1b]0;t\x07B\x1b[?25l\x1b[1m\x1b[33m\x1b[40mC\x00')
    check(s == 'A\nBC', repr(s))
    raw = '\x1b[07;01HPress \x1b[1m\x1b[37m\x1b[40mESC\x1b[0m in 5\r\n'.encode() * 3
    for n in (1, 2, 3, 5, 64):
        c = pbtest._Cleaner()
        out = ''.join(c.feed(raw[i:i + n]) for i in range(0, len(raw), n)) + c.feed(b'', True)
        check(out == 'Press ESC in 5\n' * 3, (n, out))
    c = pbtest._Cleaner()
    check(c.feed('é'.encode()[:1]) + c.feed('é'.encode()[1:]) == 'é', 'utf-8 split')


# ---------------------------------------------------------------- images

def test_image_helpers():
    if not (shutil.which('sgdisk') or os.path.exists('/usr/sbin/sgdisk')) or not shutil.which('mformat'):
        raise Skip('needs sgdisk and mtools')
    img = os.path.join(SCRATCH, 'esp.img')
    _make_gpt_fat(img)
    src = os.path.join(SCRATCH, 'hub.pe')
    with open(src, 'wb') as f:
        f.write(b'MZ' + bytes(range(256)) * 4)
    pbtest.esp_put(img, src, 'patchbay/mods/hub.pe')
    check(pbtest.esp_cat(img, '/patchbay/mods/hub.pe') == open(src, 'rb').read(), 'cat')
    check(pbtest.esp_ls(img, 'patchbay') == ['mods'], pbtest.esp_ls(img, 'patchbay'))
    pbtest.esp_put(img, src, 'patchbay/mods/other.mod')   # dirs exist already
    copy = pbtest.image_copy(img, os.path.join(SCRATCH, 'copy.img'))
    pbtest.esp_delete(copy, 'patchbay/mods/hub.pe')
    check(pbtest.esp_ls(copy, 'patchbay/mods') == ['other.mod'], pbtest.esp_ls(copy, 'patchbay/mods'))
    check(sorted(pbtest.esp_ls(img, 'patchbay/mods')) == ['hub.pe', 'other.mod'], 'original untouched')
    raises(lambda: pbtest.esp_cat(img, 'nope.txt'), contains='mcopy')


def _digest(path):
    import hashlib
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _make_gpt_fat(img, size=64 << 20):  # FAT32 needs > 32 MiB
    with open(img, 'wb') as f:
        f.truncate(size)
    sgdisk = shutil.which('sgdisk') or '/usr/sbin/sgdisk'
    r = sh([sgdisk, '-q', '-n1:2048:0', '-t1:ef00', img])
    check(r.returncode == 0, r.stderr)
    r = sh(['mformat', '-i', img + '@@1M', '-F', '-v', 'ESP', '::'],
           env=dict(os.environ, MTOOLS_SKIP_CHECK='1'))
    check(r.returncode == 0, r.stderr)


# ---------------------------------------------------------------- runners

DEMO = '''
import os, time
from pbtest import *
IMG = os.environ['SELFTEST_IMAGE']

def test_pass():
    with Machine(image=IMG) as m:
        m.expect('^patchbay> ')
        assert m.cmd('echo ok') == 'ok'
        m.sendline('poweroff')
        assert m.wait_exit(10) == 0

def test_assert():
    x = 1
    assert x == 2

def test_expect_timeout():
    with Machine(image=IMG) as m:
        m.expect('^patchbay> ')
        m.cmd('echo some output')
        m.expect('never', 1)

def test_hang():
    with Machine(image=IMG) as m:
        m.expect('^patchbay> ')
        m.cmd('hang', timeout=300)

def test_error():
    raise RuntimeError('boom')

def helper_not_a_test():
    pass
'''

OTHER = '''
def test_other():
    pass
'''


def _demo_files():
    d = os.path.join(SCRATCH, 'demo')
    os.makedirs(d, exist_ok=True)
    a = os.path.join(d, 'test_demo.py')
    b = os.path.join(d, 'test_other.py')
    with open(a, 'w') as f:
        f.write(DEMO)
    with open(b, 'w') as f:
        f.write(OTHER)
    return a, b


def _runner_env():
    return dict(os.environ, SELFTEST_IMAGE=IMAGE)


def test_runner():
    a, b = _demo_files()
    r = sh([RUNNER, '--list', a, b], env=_runner_env())
    check(r.stdout.split() == ['scenario/demo/pass', 'scenario/demo/assert', 'scenario/demo/expect_timeout',
                               'scenario/demo/hang', 'scenario/demo/error', 'scenario/other/other'], r.stdout)
    t = time.monotonic()
    r = sh([RUNNER, '--jobs', '3', '--timeout', '8', a, b], env=_runner_env(), timeout=120)
    check(r.returncode == 1, (r.returncode, r.stdout, r.stderr))
    out = r.stdout
    lines = out.split('\n')
    want = {
        'PASS scenario/demo/pass (': 1, 'PASS scenario/other/other (': 1,
        'FAIL scenario/demo/assert: assertion failed: assert x == 2': 1,
        'FAIL scenario/demo/expect_timeout: timed out after 1s waiting for /never/': 1,
        'FAIL scenario/demo/hang: test timed out after 8s, killed': 1,
        'FAIL scenario/demo/error: RuntimeError: boom': 1,
    }
    for prefix, n in want.items():
        check(sum(l.startswith(prefix) for l in lines) == n, '%r in\n%s' % (prefix, out))
    check(sum(l.startswith(('PASS ', 'FAIL ')) for l in lines) == 6, out)
    i = next(k for k, l in enumerate(lines) if l.startswith('FAIL scenario/demo/expect_timeout'))
    where = DEMO.split('\n').index("        m.expect('never', 1)") + 1
    check(lines[i + 1] == '    at test_demo.py:%d' % where, lines[i + 1])
    check('    | some output' in lines[i + 2:i + 40] and '    | patchbay> ' in lines[i + 2:i + 40], out)
    check('scenario: 2 passed, 4 failed' in out, out)
    check(time.monotonic() - t < 40, 'runner slow')
    logs = pbtest.LOG_DIR
    for n in ('demo.pass.serial.log', 'demo.pass.qemu.log', 'demo.hang.out.log'):
        check(os.path.exists(os.path.join(logs, n)), n)
    no_fakes_alive()
    r = sh([RUNNER, '--filter', 'other', '-k', 'demo/error', a, b], env=_runner_env())
    check(r.stdout.count('PASS ') == 1 and r.stdout.count('FAIL ') == 1 and r.returncode == 1, r.stdout)
    r = sh([RUNNER, '-k', 'other', a, b], env=_runner_env())
    check(r.returncode == 0, r.stdout)
    r = sh([RUNNER, '-k', 'nothing-matches', a, b], env=_runner_env())
    check(r.returncode == 0 and 'no tests' in r.stdout, r.stdout)
    bad = os.path.join(SCRATCH, 'demo', 'test_broken.py')
    with open(bad, 'w') as f:
        f.write('def test_x(:\n')
    r = sh([RUNNER, bad], env=_runner_env())
    check(r.returncode == 1 and r.stdout.startswith('FAIL scenario/broken/load: cannot load'), r.stdout)


def _start_hanging_runner():
    a, _ = _demo_files()
    n = len(fake_pids())
    p = subprocess.Popen([RUNNER, '-k', 'demo/hang', '-k', 'demo/pass', '--jobs', '2', a],
                         env=_runner_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(fake_pids()) >= n + 2:
            break
        time.sleep(0.05)
    time.sleep(1)  # let both tests reach their prompt
    return p


def test_runner_interrupt():
    p = _start_hanging_runner()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=20)
    out = out.decode()
    check(p.returncode == 130, (p.returncode, out))
    check('FAIL scenario/demo/hang: interrupted' in out and 'PASS scenario/demo/pass' in out, out)
    no_fakes_alive()


def test_runner_sigkill():
    p = _start_hanging_runner()
    p.kill()
    p.communicate(timeout=10)
    no_fakes_alive(within=10)


def test_aggregator():
    d = os.path.join(SCRATCH, 'agg')
    os.makedirs(d, exist_ok=True)
    r = sh([AGGREGATOR, 'echo "PASS a/1"; echo "PASS a/2"; echo "  PASS not counted"',
            'echo "FAIL b/1: bad"; echo "PASS b/2"; exit 1',
            'echo output; exit 3', 'true', 'kill -9 $$'], cwd=d)
    lines = r.stdout.rstrip('\n').split('\n')
    check(lines[-1] == '3 passed, 4 failed', r.stdout)
    check('FAIL echo output; exit 3: exited 3' in lines, r.stdout)
    # A suite that runs no case proves nothing: it fails.
    check('FAIL true: no test cases' in lines, r.stdout)
    check('FAIL kill -9 $$: killed by signal 9' in lines, r.stdout)
    check(r.returncode == 1, r.returncode)
    r = sh([AGGREGATOR, 'echo PASS x', 'echo "PASS y"; echo "FAILED is not FAIL"'])
    check(r.stdout.rstrip('\n').split('\n')[-1] == '2 passed, 0 failed' and r.returncode == 0, r.stdout)
    r = sh([AGGREGATOR, 'echo PASS one; exit 0'])
    check(r.stdout == 'PASS one\n1 passed, 0 failed\n', repr(r.stdout))
    # Ctrl-C: the running suite's whole group dies, one failure, exit 130.
    p = subprocess.Popen([AGGREGATOR, 'echo PASS before', 'echo started; sleep 300 & sleep 301; echo after',
                          'echo PASS never'], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, PB_SELFTEST_RUN=SCRATCH))
    check(p.stdout.readline() == 'PASS before\n', 'streamed')
    check(p.stdout.readline() == 'started\n', 'streamed')
    p.send_signal(signal.SIGINT)
    out = p.stdout.read()
    check(p.wait(10) == 130, p.returncode)
    check(out.rstrip('\n').split('\n')[-1] == '1 passed, 1 failed' and 'PASS never' not in out, out)
    left = procs_with_env('PB_SELFTEST_RUN', SCRATCH)
    check(not left, 'left running: %s' % left)


# ---------------------------------------------------------------- real QEMU

def _real_env():
    """Undo the fake: real QEMU, real OVMF, auto accelerator."""
    for k in REAL_ENV_KEYS:
        if _saved_env.get(k) is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = _saved_env[k]


def _fake_env():
    os.environ.update(FAKE_ENV)


def test_real_ovmf():
    if os.environ.get('PB_SELFTEST_REAL') == '0' or '--no-real' in sys.argv:
        raise Skip('disabled')
    _real_env()
    try:
        try:
            qemuconf.find_ovmf()
        except qemuconf.ConfigError as e:
            raise Skip('%s' % e)
        if not shutil.which(qemuconf.qemu_binary()):
            raise Skip('no %s' % qemuconf.qemu_binary())
        if not shutil.which('mformat'):
            raise Skip('no mtools')
        img = os.path.join(SCRATCH, 'real.img')
        _make_gpt_fat(img)
        before = _digest(img)
        for config, bus in (('default', 'Sata('), ('usb', 'USB(')):
            with Machine(config, image=img, timeout=120, name='real-' + config) as m:
                t = time.monotonic()
                got = m.expect(r'BdsDxe: (failed to load|loading) Boot\d+ "[^"]*" from ([^\n]*)\n', 90)
                boot = time.monotonic() - t
                check(bus in got.group(2), got.group(0))
                check(m.monitor('info status').startswith('VM status: running'), 'status')
                png = m.screendump(os.path.join(SCRATCH, 'real-%s.png' % config))
                w, h, _ = _read_png(png)
                check(w >= 640 and h >= 480, (w, h))
                m.expect(r'Shell> ', 60)
                m.send('echo harness\r')
                m.expect(r'^harness$', 20)
                m.send('reset -s\r')
                check(m.wait_exit(30) == 0, 'reset -s')
                print('    %s: %s, firmware to boot manager %.1fs' % (config, m.accel, boot), flush=True)
        check(_digest(img) == before, 'snapshot=on must not write the image')
    finally:
        _fake_env()


# ---------------------------------------------------------------- main

def test_inject_classify():
    """faultcampaign's judgement of one injection, and what it reads."""
    import faultcampaign as fc
    c = fc.classify
    assert c(False, 0, [], 'ok') == 'notfired'
    assert c(True, 0, [], 'ok') == 'transparent'
    assert c(True, 1, [], 'ok') == 'transparent'
    assert c(True, 1, [], 'error') == 'visible'
    assert c(True, 1, ['ahci'], 'error') == 'stopped'
    assert c(True, 1, ['ahci'], 'ok') == 'stopped'
    assert c(True, 0, [], 'mismatch') == 'corrupt'
    assert c(True, 1, ['fat'], 'mismatch') == 'corrupt'
    st = fc.STATUS.search('inject: fired ahci 2:3:0xfee00000 faults=2 '
                          'total=1 state=running')
    assert st and st.group(1) == 'fired' and st.group(6) == '1', st
    assert fc.RUNNING.search('faultinject: 14 modules running').group(1) \
        == '14'
    mods = ('NAME  VER STATE BASE\nahci 1.0 running 0x1 72K\n'
            'fat 1.0 failed 0x0 0K\n')
    assert fc.running_modules(mods) == {'ahci'}, fc.running_modules(mods)
    sha = 'ab' * 32
    path = '  /esp/patchbay/mods/shell.mod'
    assert fc.judge_sum(sha + path, sha) == 'ok'
    assert fc.judge_sum('[    4.9] error: #PF page fault\n' + sha + path,
                        sha) == 'ok'
    assert fc.judge_sum('cd' * 32 + path, sha) == 'mismatch'
    assert fc.judge_sum('error: sha256sum /esp/x: I/O error', sha) == 'error'
    assert fc.judge_sum('', sha) == 'error'


def _painted(w, h, rows, scale):
    """An RGB screen, black, with rows[r] drawn in text row r in grey with
    fbcon's font at `scale`, as fbcon draws it."""
    from screentext import font, glyph
    f = font()
    px = bytearray(w * h * 3)
    for r, text in rows.items():
        for col, ch in enumerate(text):
            g = glyph(ch)
            for y in range(f.h * scale):
                for x in range(f.w * scale):
                    if g[y // scale][x // scale] == '#':
                        p = ((r * f.h * scale + y) * w +
                             col * f.w * scale + x) * 3
                        px[p:p + 3] = b'\xaa\xaa\xaa'
    return bytes(px)


def test_inject_judge_screen():
    """faultcampaign's look at the screen after an injection into a module
    that draws it: the lines one under another (other lines between them
    allowed), nothing drawn under the last; at font scale 1 and 2."""
    import faultcampaign as fc
    from screentext import FONT_C, console_scale, screen_lines
    if not os.path.exists(FONT_C):
        raise Skip('no %s: make image builds it' % FONT_C)
    lines = ['patchbay> echo abc', 'abc', 'patchbay> ']
    for scale in (1, 2):
        w, h = 320 * scale, 160 * scale     # 40 x 10 cells
        good = {2: lines[0], 3: '[ 1.0] error: x', 4: lines[1], 5: lines[2]}
        px = _painted(w, h, good, scale)
        assert fc.judge_screen(w, h, px, lines, scale) is None, scale
        # At the other scale nothing matches.
        assert fc.judge_screen(w, h, px, lines, 3 - scale) is not None
        black = bytes(w * h * 3)
        assert 'no row shows' in fc.judge_screen(w, h, black, lines, scale)
        lost = dict(good)
        del lost[2]                       # the text before, gone
        assert "no row shows 'patchbay> echo abc'" in \
            fc.judge_screen(w, h, _painted(w, h, lost, scale), lines, scale)
        swapped = {**good, 2: lines[1], 4: lines[0]}
        assert 'not in order' in fc.judge_screen(
            w, h, _painted(w, h, swapped, scale), lines, scale)
        stale = {**good, 7: 'old text'}     # drawn under the prompt
        assert 'rows [7] under' in fc.judge_screen(
            w, h, _painted(w, h, stale, scale), lines, scale)
    assert console_scale('fbcon: 160x50 cells on display:bochs0 (1280x800, '
                         'font 8x16 x1, 200 lines\nfbcon: 80x25 cells on '
                         'display:gop0 (1280x800, font 8x16 x2, 200') == 2
    assert console_scale('no fbcon here') == 1
    assert screen_lines('a\n' + 'b' * 41 + '\npatchbay> ', 40) == 4


def main(argv):
    filt = None
    if '--filter' in argv:
        filt = argv[argv.index('--filter') + 1]
    tests = [(n[5:], f) for n, f in globals().items() if n.startswith('test_') and callable(f)]
    failed = passed = 0
    try:
        for name, fn in tests:
            if filt and filt not in name:
                continue
            os.environ['PB_TEST_ID'] = 'selftest.' + name
            t = time.monotonic()
            try:
                fn()
            except Skip as e:
                print('SKIP harness/%s: %s' % (name, e), flush=True)
                continue
            except BaseException as e:  # noqa: B902
                if isinstance(e, KeyboardInterrupt):
                    raise
                failed += 1
                first = (str(e).strip().split('\n') or [''])[0] or type(e).__name__
                print('FAIL harness/%s: %s' % (name, first), flush=True)
                print(textwrap.indent(traceback.format_exc().rstrip(), '    '), flush=True)
                continue
            passed += 1
            print('PASS harness/%s (%.1fs)' % (name, time.monotonic() - t), flush=True)
    finally:
        leftover = [p for p in fake_pids() if alive(p)]
        for p in leftover:
            os.kill(p, signal.SIGKILL)
        if leftover:
            print('FAIL harness/leftovers: fake QEMU processes left running: %s' % leftover, flush=True)
            failed += 1
        shutil.rmtree(SCRATCH, ignore_errors=True)
    print('harness: %d passed, %d failed' % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
