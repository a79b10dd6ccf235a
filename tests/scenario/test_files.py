"""Files through the shell on the real image (mods/shell: mounts.c,
cmd_fs.c, cmd_fsedit.c, cmd_mounts.c), over `fs` from the fat module on
the disks' partitions: the boot ESP is /esp, a second disk's FAT volume
is at its label; `ls` shows exactly the module files the image holds;
`sha256sum` and `hexdump` agree with the host's reading of the same
files; files written, copied, moved (within and across volumes) and
removed under Patchbay are there afterwards for the host's mtools, and
`fsck.vfat -n` finds each volume clean after `poweroff`; errors are one
`error: ` line and the prompt comes back."""

import hashlib
import os
import re
import struct
import subprocess
import time

from pbtest import Machine, PROMPT, ROOT, esp_cat, esp_ls, esp_put, \
    image_copy, workdir
from images import custom_image

BOOT_TIMEOUT = 120
# The hub's log goes to COM1 too, and a line of it may come anywhere, in
# the middle of the echoed command or of its output (the boot disk's
# native driver taking over after the prompt, say): taken out whole, what
# was cut by it joins again.
LOG_LINE = re.compile(r'\[\s*\d+\.\d{6}\] [^\n]*\n')
PROMPT_AT_LINE_START = re.compile(r'(?:\A|\n)' + re.escape(PROMPT))
IMAGE = os.path.join(ROOT, 'build', 'patchbay.img')
STAGE = os.path.join(ROOT, 'build', 'esp')
MODS = os.path.join(STAGE, 'patchbay', 'mods')


def booted(image=IMAGE, snapshot=True, extra=None, mounts=('esp',)):
    """A machine at the shell's prompt with those volumes mounted."""
    m = Machine('default', image=image, timeout=600, snapshot=snapshot,
                extra=extra)
    m.start()
    try:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        for name in mounts:
            if 'mounted at /%s\n' % name not in m.serial_text():
                m.expect(r'mounted at /%s$' % re.escape(name), 60)
    except BaseException:
        m.close()
        raise
    return m


def cmd(m, line, timeout=60, check=True):
    """Type line, wait for the prompt after its output, and return that
    output without the hub's log lines (m.cmd() would not find an echo
    that a log line cut in two).  check: an error line fails the test."""
    start = len(m.serial_text())
    m.sendline(line)
    echo = re.compile(re.escape(line) + r'[ \t]*\n')
    deadline = time.monotonic() + timeout
    while True:
        text = LOG_LINE.sub('', m.serial_text()[start:])
        e = echo.search(text)
        p = e and PROMPT_AT_LINE_START.search(text, e.end() - 1)
        if p:
            break
        if not m.running() or time.monotonic() > deadline:
            m.fail('no prompt after %r within %ds' % (line, timeout))
        time.sleep(0.05)
    m.skip_output()
    out = text[e.end():p.start()]
    if check and re.search(r'^error: ', out, re.M):
        m.fail('%r: %s' % (line, out))
    return out


def one_error(m, command, pattern):
    """`command` answers exactly one line, an error matching pattern, and
    the prompt comes back (cmd() waits for it)."""
    out = cmd(m, command, check=False)
    if '\n' in out or not re.fullmatch(pattern, out):
        m.fail('%r answered %r, wanted one line like /%s/'
               % (command, out, pattern))
    return out


def hexdump_c(data):
    """What `hexdump -C` prints for data (util-linux's format)."""
    out, prev, starred = [], None, False
    for off in range(0, len(data), 16):
        line = data[off:off + 16]
        if len(line) == 16 and line == prev:
            if not starred:
                out.append('*')
            starred = True
            continue
        starred = False
        prev = line
        hx = ''.join('%02x ' % b + (' ' if i == 7 else '')
                     for i, b in enumerate(line))
        text = ''.join(chr(b) if 0x20 <= b < 0x7f else '.' for b in line)
        out.append('%08x  %-49s |%s|' % (off, hx, text))
    if data:
        out.append('%08x' % len(data))
    return '\n'.join(out)


def esp_partition(image, out_path):
    """Copy the image's first GPT partition (the ESP) to out_path."""
    with open(image, 'rb') as f:
        f.seek(2 * 512)      # LBA 2: the partition entries
        entry = f.read(128)
        first, last = struct.unpack_from('<QQ', entry, 32)
        assert first and last >= first, (first, last)
        f.seek(first * 512)
        data = f.read((last - first + 1) * 512)
    with open(out_path, 'wb') as o:
        o.write(data)
    return out_path


# A poweroff through the shell reaches the hub's firmware-rt reset, which
# first quiesces every fs provider (hub_shutdown): fat writes back and
# clears the volume's dirty flag, so fsck finds it unmounted cleanly.
CLEAN_FLAG_AT_POWEROFF = True
FSCK_DIRTY_ONLY = re.compile(
    r'fsck\.fat [^\n]*\nDirty bit is set\. Fs was not properly unmounted '
    r'and some data may be corrupt\.\n Automatically removing dirty bit\.\n'
    r'\nLeaving filesystem unchanged\.\n[^\n]*: \d+ files, \d+/\d+ '
    r'clusters\n')


def fsck(part):
    r = subprocess.run(['fsck.vfat', '-n', part], capture_output=True,
                       text=True)
    return r.returncode, r.stdout + r.stderr


def without_dirty_flag(part, out):
    """A copy of the volume with the flags of an unclean unmount cleared:
    FAT[1]'s clean bit (FAT16 bit 15, FAT32 bit 27, in every FAT) and the
    boot sector's dirty bit."""
    d = bytearray(open(part, 'rb').read())
    bps, rsv = struct.unpack_from('<HH', d, 11)[0], \
        struct.unpack_from('<H', d, 14)[0]
    nfats, fatsz16 = d[16], struct.unpack_from('<H', d, 22)[0]
    fat32 = fatsz16 == 0
    fatsz = struct.unpack_from('<I', d, 36)[0] if fat32 else fatsz16
    for i in range(nfats):
        at = (rsv + i * fatsz) * bps
        if fat32:
            v = struct.unpack_from('<I', d, at + 4)[0]
            struct.pack_into('<I', d, at + 4, v | 0x08000000)
        else:
            v = struct.unpack_from('<H', d, at + 2)[0]
            struct.pack_into('<H', d, at + 2, v | 0x8000)
    d[0x41 if fat32 else 0x25] &= 0xfe
    with open(out, 'wb') as f:
        f.write(d)
    return out


def fsck_clean(part):
    """fsck.vfat -n finds nothing to say about the volume: its structures
    consistent, and (CLEAN_FLAG_AT_POWEROFF) unmounted cleanly."""
    code, out = fsck(part)
    if code == 0:
        return
    name = os.path.basename(part)
    assert not CLEAN_FLAG_AT_POWEROFF and FSCK_DIRTY_ONLY.fullmatch(out), \
        'fsck.vfat -n %s: %s' % (name, out)
    code, out = fsck(without_dirty_flag(part, part + '.flagless'))
    assert code == 0, 'fsck.vfat -n %s (dirty flag cleared): %s' % (name, out)


DATA_LBA = 2048
DATA_SECTORS = 32768         # 16 MiB: FAT16


def data_disk(path, files):
    """A disk with an MBR and one FAT16 partition labelled DATA at 1 MiB
    (mformat into a file, then placed), holding files {name: bytes}."""
    part = path + '.part'
    if os.path.exists(part):
        os.unlink(part)
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    subprocess.run(['mformat', '-C', '-i', part, '-T', str(DATA_SECTORS),
                    '-h', '16', '-s', '32', '-H', str(DATA_LBA), '-v', 'DATA',
                    '::'], env=env, check=True, capture_output=True)
    for name, data in files.items():
        local = os.path.join(workdir(), 'data-' + name)
        with open(local, 'wb') as f:
            f.write(data)
        subprocess.run(['mcopy', '-i', part, local, '::/' + name], env=env,
                       check=True, capture_output=True)
    mbr = bytearray(512)
    # One primary partition: FAT16 (0x06), LBA start and count (MBR).
    struct.pack_into('<B3xB3xII', mbr, 446, 0, 0x06, DATA_LBA, DATA_SECTORS)
    mbr[510:512] = b'\x55\xaa'
    with open(path, 'wb') as f:
        f.write(mbr)
        f.seek(DATA_LBA * 512)
        with open(part, 'rb') as p:
            f.write(p.read())
        f.truncate((DATA_LBA + DATA_SECTORS) * 512)
    return path, part


def data_read_back(path, part):
    """The DATA partition of the disk at `path`, into `part` again."""
    with open(path, 'rb') as f:
        f.seek(DATA_LBA * 512)
        data = f.read(DATA_SECTORS * 512)
    with open(part, 'wb') as p:
        p.write(data)
    return part


def mtools_cat(part, name):
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    return subprocess.run(['mcopy', '-n', '-i', part, '::/' + name, '-'],
                          env=env, check=True, capture_output=True).stdout


def mtools_ls(part):
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    out = subprocess.run(['mdir', '-b', '-i', part, '::/'], env=env,
                         check=True, capture_output=True).stdout.decode()
    return sorted(os.path.basename(l.rstrip('/')) for l in out.splitlines()
                  if l)


def test_reading():
    """ls, mounts, df, sha256sum, hexdump, cat, fsread, cd and pwd on
    the boot ESP, against the files the image was built from."""
    m = booted()
    try:
        mods = sorted(os.listdir(MODS))
        listed = cmd(m, 'ls /esp/patchbay/mods').split('\n')
        assert listed == sorted(mods, key=lambda s: s.encode()), \
            (listed, mods)

        mounts = cmd(m, 'mounts').split('\n')
        esp = [l.split() for l in mounts if l.startswith('/esp ')]
        assert len(esp) == 1, mounts
        # mount, resource, type, label, mode, path
        assert esp[0][1].startswith('fs:') and esp[0][4] == 'rw', esp
        assert re.fullmatch(r'fat(12|16|32)', esp[0][2]), esp
        assert re.fullmatch(r'pci:00:1f\.2/sata:\d+/part:1', esp[0][5]), esp
        assert 'esp/' in cmd(m, 'ls /').split('\n')

        df = [l for l in cmd(m, 'df').split('\n')
              if l.startswith('/esp ')]
        assert len(df) == 1 and re.fullmatch(
            r'/esp +\S+ +\S+ +\S+ +\d+%  fat(12|16|32) +rw', df[0]), df

        for name in ('shell.mod', mods[0]):
            with open(os.path.join(MODS, name), 'rb') as f:
                want = hashlib.sha256(f.read()).hexdigest()
            out = cmd(m, 'sha256sum /esp/patchbay/mods/' + name)
            assert out == '%s  /esp/patchbay/mods/%s' % (want, name), out

        with open(os.path.join(STAGE, 'patchbay', 'boot.cfg'), 'rb') as f:
            cfg = f.read()
        assert cmd(m, 'hexdump /esp/patchbay/boot.cfg') == \
            hexdump_c(cfg)
        assert cmd(m, 'cd /esp/patchbay') == ''
        assert cmd(m, 'pwd') == '/esp/patchbay'
        assert cmd(m, 'cat boot.cfg') == \
            cfg.decode().rstrip('\n')
        with open(os.path.join(STAGE, 'patchbay', 'hub.pe'), 'rb') as f:
            size = len(f.read())
        out = cmd(m, 'fsread ../patchbay/hub.pe', 120)
        assert re.fullmatch(r'fsread /esp/patchbay/hub\.pe: %d bytes in '
                            r'\d+\.\d{3} s, \d+\.\d MiB/s' % size, out), out
        ls_l = cmd(m, 'ls -l /esp/patchbay').split('\n')
        assert any(re.fullmatch(r'-[-r][-h][-s][-a] +%d  \d{4}-\d\d-\d\d '
                                r'\d\d:\d\d  hub\.pe' % size, l)
                   for l in ls_l), ls_l
        assert any(l.startswith('d') and l.endswith('  mods/')
                   for l in ls_l), ls_l
    finally:
        m.close()


def test_before_the_takeover():
    """takeover=no: the firmware's disk (efi-block) under gpt and fat, and
    the same paths: /esp by the boot identity, read and written."""
    img = custom_image('files-fw', ['target=os', 'takeover=no'])
    m = booted(img)
    try:
        assert 'efi-block' in cmd(m, 'res')
        mounts = [l.split() for l in cmd(m, 'mounts').split('\n')[1:]]
        assert [r[0] for r in mounts] == ['/esp'], mounts
        assert mounts[0][5] == 'pci:00:1f.2/sata:0/part:1', mounts
        listed = cmd(m, 'ls /esp/patchbay/mods').split('\n')
        assert listed == sorted(os.listdir(MODS), key=lambda s: s.encode())
        with open(os.path.join(MODS, 'shell.mod'), 'rb') as f:
            want = hashlib.sha256(f.read()).hexdigest()
        assert cmd(m, 'sha256sum /esp/patchbay/mods/shell.mod').split()[0] \
            == want
        assert cmd(m, 'write /esp/fw.txt "on the firmware\'s disk"') == ''
        assert cmd(m, 'cat /esp/fw.txt') == "on the firmware's disk"
    finally:
        m.close()


def test_errors():
    """Each failure is one error line naming the path, then the prompt."""
    m = booted()
    try:
        one_error(m, 'cat /esp/nope.txt',
                  r'error: cat /esp/nope\.txt: no such file or directory')
        one_error(m, 'ls /esp/patchbay/boot.cfg/x',
                  r'error: ls /esp/patchbay/boot\.cfg/x: not a directory')
        one_error(m, 'cat /esp/patchbay',
                  r'error: cat /esp/patchbay: is a directory')
        one_error(m, 'mkdir /esp/patchbay',
                  r'error: mkdir /esp/patchbay: file exists')
        one_error(m, 'rmdir /esp/patchbay',
                  r'error: rmdir /esp/patchbay: directory not empty')
        one_error(m, 'rm /esp', r'error: rm /esp: is a mount point')
        one_error(m, 'cd /esp/patchbay/boot.cfg',
                  r'error: cd /esp/patchbay/boot\.cfg: not a directory')
        one_error(m, 'cat /nomount/x',
                  r'error: cat /nomount/x: no such file or directory')
        assert cmd(m, 'echo still here') == 'still here'
    finally:
        m.close()


def test_writing_survives_poweroff():
    """mkdir, write, echo >, >>, cp, mv, rm, rmdir under Patchbay; after
    poweroff the host finds the volume clean and the files as written."""
    img = image_copy(IMAGE, os.path.join(workdir(), 'files.img'))
    with open(os.path.join(MODS, 'shell.mod'), 'rb') as f:
        shell_mod = f.read()
    m = booted(img, snapshot=False)
    try:
        for line in ('mkdir /esp/t',
                     'write /esp/t/a.txt hello',
                     'echo "two  words" > "/esp/t/long name.txt"',
                     'echo more >> "/esp/t/long name.txt"',
                     'cp /esp/t/a.txt /esp/t/b.txt',
                     'cp /esp/patchbay/mods/shell.mod /esp/t',
                     'mv /esp/t/b.txt /esp/t/c.txt',
                     'mkdir /esp/t/gone',
                     'write /esp/t/gone/x 1',
                     'rm /esp/t/gone/x',
                     'rmdir /esp/t/gone'):
            assert cmd(m, line, 120) == '', line
        assert cmd(m, 'ls /esp/t').split('\n') == \
            ['a.txt', 'c.txt', 'long name.txt', 'shell.mod']
        assert cmd(m, 'cat /esp/t/c.txt') == 'hello'
        out = cmd(m, 'sha256sum /esp/t/shell.mod', 120)
        assert out.split()[0] == hashlib.sha256(shell_mod).hexdigest(), out
        m.sendline('poweroff')
        m.expect(r'^powering off', 120)
        assert m.wait_exit(120) == 0
    finally:
        m.close()

    names = esp_ls(img, 't')
    assert sorted(names) == ['a.txt', 'c.txt', 'long name.txt',
                             'shell.mod'], names
    assert esp_cat(img, 't/a.txt') == b'hello\n'
    assert esp_cat(img, 't/c.txt') == b'hello\n'
    assert esp_cat(img, 't/long name.txt') == b'two  words\nmore\n'
    assert esp_cat(img, 't/shell.mod') == shell_mod
    fsck_clean(esp_partition(img, os.path.join(workdir(), 'files-esp.img')))


def test_fat_update_faulting_in_its_watch_window_keeps_its_state():
    """`update fat`, and the new instance faults at its first work, inside
    its watch window.  fat's state survives a restart (PB_MOD_RESTATE:
    handles, blocks not yet written), so the hub restarts the new instance
    with it instead of going back to the one it replaced, which holds
    nothing done since the swap: the read it held is issued again, files
    read right, a file written after is there after poweroff, and the host
    finds the volume clean."""
    img = image_copy(IMAGE, os.path.join(workdir(), 'fat-rollback.img'))
    with open(os.path.join(MODS, 'ahci.mod'), 'rb') as f:
        want = hashlib.sha256(f.read()).hexdigest()
    m = booted(img, snapshot=False)
    try:
        cmd(m, 'update fat /esp/patchbay/mods/fat.mod', 120)
        cmd(m, 'faultinject fat work null', 30)
        out = cmd(m, 'sha256sum /esp/patchbay/mods/ahci.mod', 120)
        assert out.split()[0] == want, out
        assert cmd(m, 'write /esp/rollback.txt after the rollback', 60) == ''
        assert cmd(m, 'cat /esp/rollback.txt') == 'after the rollback'
        log = m.serial_text()
        assert 'faulted in its watch window' not in log, m.tail()
        assert re.search(r'fat: its state of \d+ bytes given back \(0\)',
                         log), m.tail()
        assert re.search(r'fat: recovered in \d+ us \(vector 14 at 0x0\), '
                         r'\d+ clients? rebound', log), m.tail()
        assert re.findall(r'(\S+) faulted: vector', log) == ['fat'], log
        m.sendline('poweroff')
        m.expect(r'^powering off', 120)
        assert m.wait_exit(120) == 0
    finally:
        m.close()
    assert esp_cat(img, 'rollback.txt') == b'after the rollback\n'
    fsck_clean(esp_partition(img, os.path.join(workdir(),
                                               'fat-rollback-esp.img')))


def test_two_volumes():
    """A second disk's FAT volume at its label: both in mounts and df,
    a large file read, hashed and copied across in pipelined requests,
    a move from one volume to the other; both volumes clean after."""
    img = image_copy(IMAGE, os.path.join(workdir(), 'two.img'))
    big = bytes((i * 7 + (i >> 11)) & 0xff for i in range(3 << 20))
    local = os.path.join(workdir(), 'big.bin')
    with open(local, 'wb') as f:
        f.write(big)
    esp_put(img, local, '/big.bin')
    disk, part = data_disk(os.path.join(workdir(), 'data.img'),
                           {'notes.txt': b'one\ntwo\n'})
    extra = ['-drive', 'if=none,id=disk2,format=raw,file=%s' % disk,
             '-device', 'ide-hd,drive=disk2,bus=ide.1']
    m = booted(img, snapshot=False, extra=extra, mounts=('esp', 'DATA'))
    try:
        rows = {l.split()[0]: l.split() for l in cmd(m, 'mounts').split('\n')}
        assert rows['/DATA'][2] == 'fat16' and rows['/DATA'][3] == 'DATA', \
            rows
        assert rows['/DATA'][5] == 'pci:00:1f.2/sata:1/part:1', rows
        assert rows['/esp'][5] == 'pci:00:1f.2/sata:0/part:1', rows
        df = cmd(m, 'df').split('\n')
        assert [l.split()[0] for l in df[1:]] == ['/esp', '/DATA'] or \
            [l.split()[0] for l in df[1:]] == ['/DATA', '/esp'], df
        assert cmd(m, 'cat /DATA/notes.txt') == 'one\ntwo'
        out = cmd(m, 'fsread /esp/big.bin', 300)
        assert re.fullmatch(r'fsread /esp/big\.bin: %d bytes in \d+\.\d{3} '
                            r's, \d+\.\d MiB/s' % len(big), out), out
        want = hashlib.sha256(big).hexdigest()
        assert cmd(m, 'sha256sum /esp/big.bin', 300).split()[0] == want
        for line in ('cp /esp/big.bin /DATA',
                     'cp /DATA/notes.txt /esp/n.txt',
                     'mv /esp/n.txt /DATA/moved.txt'):
            assert cmd(m, line, 300) == '', line
        assert cmd(m, 'sha256sum /DATA/big.bin', 300).split()[0] == want
        assert cmd(m, 'ls /DATA').split('\n') == ['big.bin', 'moved.txt',
                                                   'notes.txt']
        m.sendline('poweroff')
        m.expect(r'^powering off', 120)
        assert m.wait_exit(120) == 0
    finally:
        m.close()

    data_read_back(disk, part)
    assert mtools_ls(part) == ['big.bin', 'moved.txt', 'notes.txt'], \
        mtools_ls(part)
    assert mtools_cat(part, 'moved.txt') == b'one\ntwo\n'
    assert mtools_cat(part, 'big.bin') == big
    assert 'n.txt' not in esp_ls(img, '/')
    fsck_clean(part)
    fsck_clean(esp_partition(img, os.path.join(workdir(), 'two-esp.img')))
