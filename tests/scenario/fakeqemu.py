#!/usr/bin/python3
"""A fake qemu-system-x86_64 for the harness self-test (PB_QEMU=this file).

It accepts the command line pbtest.Machine builds and imitates what the
harness relies on: a COM1 on stdio that prints OVMF-like escape sequences and
CRs, then a Patchbay-like shell with the `patchbay> ` prompt; QMP on the unix
socket given by -qmp; exit 0 on `poweroff`.

Shell commands:  echo ARGS | mods | fail | keys | slow SECONDS | hang |
                 crash CODE | poweroff | flood N | <anything else: error>
QMP: qmp_capabilities, human-monitor-command ('info status', 'sendkey K'),
screendump (writes a 4x2 PPM), quit.  An event is sent after capabilities.

PB_FAKE_ARGV=path: write the argument list there as JSON.
PB_FAKE_PIDS=dir: create dir/<pid> at start (for leak checks).
"""

import json
import os
import socket
import sys
import threading
import time

keys = []
KEYS = set('abcdefghijklmnopqrstuvwxyz0123456789') | set(
    'shift ctrl alt delete ret spc esc tab backspace minus equal comma dot slash '
    'semicolon apostrophe grave_accent backslash bracket_left bracket_right up down '
    'left right home end'.split()) | {'f%d' % i for i in range(1, 13)}
out_lock = threading.Lock()


def out(s):
    with out_lock:
        os.write(1, s.encode() if isinstance(s, str) else s)


def arg_after(argv, flag):
    vals = []
    for i, a in enumerate(argv[:-1]):
        if a == flag:
            vals.append(argv[i + 1])
    return vals


def fail(msg):
    sys.stderr.write('qemu-system-x86_64: %s\n' % msg)
    sys.exit(1)


def check_args(argv):
    for d in arg_after(argv, '-drive'):
        opts = dict(kv.split('=', 1) for kv in d.split(',') if '=' in kv)
        f = opts.get('file')
        if f and not os.path.exists(f):
            fail("-drive %s: Could not open '%s': No such file or directory" % (d, f))
        if opts.get('if') == 'pflash' and opts.get('unit') == '1' and f.startswith('/usr/share'):
            fail('VARS must be a per-run copy, not %s' % f)
    if arg_after(argv, '-serial') != ['stdio']:
        fail('fake qemu wants -serial stdio')


def qmp_server(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=qmp_session, args=(conn,), daemon=True).start()


def qmp_session(conn):
    f = conn.makefile('rwb', buffering=0)

    def send(obj):
        f.write(json.dumps(obj).encode() + b'\r\n')
    send({'QMP': {'version': {'qemu': {'major': 7, 'minor': 2, 'micro': 0}}, 'capabilities': []}})
    for line in f:
        try:
            req = json.loads(line)
        except ValueError:
            send({'error': {'class': 'GenericError', 'desc': 'JSON parse error'}})
            continue
        ex = req.get('execute')
        a = req.get('arguments', {})
        if ex == 'qmp_capabilities':
            send({'return': {}})
            send({'event': 'RESUME', 'timestamp': {'seconds': 0, 'microseconds': 0}})
        elif ex == 'human-monitor-command':
            cmd = a.get('command-line', '')
            if cmd == 'info status':
                send({'return': 'VM status: running\r\n'})
            elif cmd.startswith('sendkey '):
                key = cmd.split()[1]
                if all(k in KEYS for k in key.split('-')):
                    keys.append(key)
                    send({'return': ''})
                else:
                    send({'return': 'invalid parameter: %s\r\n' % key})
            else:
                send({'return': "unknown command: '%s'\r\n" % cmd.split()[0]})
        elif ex == 'screendump':
            with open(a['filename'], 'wb') as p:
                p.write(b'P6\n# fake\n4 2\n255\n' + bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]) + bytes(12))
            send({'return': {}})
        elif ex == 'quit':
            send({'return': {}})
            os._exit(0)
        else:
            send({'error': {'class': 'CommandNotFound', 'desc': 'The command %s has not been found' % ex}})


typing = b''    # the line being typed, for `logsoon`


def log_soon(delay):
    """A log line at the prompt after `delay` seconds, the way the shell
    writes one: the line erased (CR, EL), the log line, the prompt and
    what was typed drawn again."""
    def later():
        time.sleep(delay)
        out(b'\r\x1b[K[    9.000000] a late log line\r\npatchbay> ' + typing)
    threading.Thread(target=later, daemon=True).start()


def shell():
    global typing
    out('\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 "UEFI QEMU HARDDISK"\r\n')
    out('\x1b[1m\x1b[33m\x1b[40mpatchbay\x1b[0m hub 0.1 (fake)\r\n')
    out('patchbay> ')
    line = b''
    while True:
        b = os.read(0, 1)
        if not b:
            return 0
        if b in (b'\r', b'\n'):
            out('\r\n')
            r = run(line.decode(errors='replace').strip())
            if r is not None:
                return r
            out('patchbay> ')
            line = b''
        elif b == b'\x7f':
            if line:
                line = line[:-1]
                out('\b \b')
        else:
            line += b
            out(b)  # echo, one byte at a time like a UART
        typing = line


def run(cmdline):
    word, _, rest = cmdline.partition(' ')
    if word == '':
        return None
    if word == 'echo':
        out(rest + '\r\n')
    elif word == 'mods':
        out('hub       0.1  running\r\nconsole   1.0  running\r\n\x1b[32mserial\x1b[0m    1.0  running\r\n')
    elif word == 'logsoon':
        log_soon(float(rest or 0.2))
    elif word == 'lognow':  # the prompt, erased at once for a log line
        out('patchbay> \r\x1b[K[    9.000000] a log line at once\r\n')
    elif word == 'fail':
        out('error: it failed on purpose\r\n')
    elif word == 'keys':
        out(' '.join(keys) + '\r\n')
    elif word == 'slow':
        time.sleep(float(rest or 1))
        out('done\r\n')
    elif word == 'flood':
        for i in range(int(rest or 1000)):
            out('line %d \x1b[0mof flood\r\n' % i)
    elif word == 'hang':
        while True:
            time.sleep(3600)
    elif word == 'crash':
        out('!!! fake crash\r\n')
        os._exit(int(rest or 3))
    elif word == 'poweroff':
        out('powering off\r\n')
        return 0
    else:
        out('error: unknown command: %s\r\n' % word)
    return None


def main(argv):
    if os.environ.get('PB_FAKE_ARGV'):
        with open(os.environ['PB_FAKE_ARGV'], 'w') as f:
            json.dump(argv, f)
    if os.environ.get('PB_FAKE_PIDS'):
        open(os.path.join(os.environ['PB_FAKE_PIDS'], str(os.getpid())), 'w').close()
    check_args(argv)
    for q in arg_after(argv, '-qmp'):
        path = q.split(':', 1)[1].split(',')[0]
        threading.Thread(target=qmp_server, args=(path,), daemon=True).start()
    return shell()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
