"""Named QEMU machine configurations for Patchbay, shared by tools/qemu-run and
the scenario harness (tests/scenario/pbtest.py).

Every configuration is q35 + OVMF as split pflash: OVMF_CODE read-only from
/usr/share/OVMF, OVMF_VARS copied per run into a temporary file (never written
in place).  A configuration names the memory size, the CPU count, the display
device, how the boot disk is attached and any extra devices.  To add one, add
an entry to CONFIGS; both the runner and the harness pick it up.

The command this module builds for `default` looks like:

    qemu-system-x86_64 -name patchbay-default -machine q35 -m 512M -smp 1
      -accel tcg -cpu max                      (or -enable-kvm -cpu host)
      -drive if=pflash,format=raw,unit=0,readonly=on,file=OVMF_CODE_4M.fd
      -drive if=pflash,format=raw,unit=1,file=/tmp/.../OVMF_VARS_4M.fd
      -vga std -nic none
      -drive if=none,id=disk,format=raw,file=IMG
      -device ide-hd,drive=disk,bus=ide.0
      <mode arguments: display, serial, monitor>  <extra arguments>

Environment overrides: PB_QEMU (the QEMU binary), PB_OVMF_CODE and
PB_OVMF_VARS (firmware files), PB_ACCEL=kvm|tcg (force an accelerator),
PB_CPU (the -cpu model, e.g. max,pks=off for a CPU like many PCs', without
supervisor protection keys).
"""

import os
import shlex
import shutil

QEMU = 'qemu-system-x86_64'

# OVMF CODE/VARS pairs, best first.  The 4M build pairs only with the 4M VARS.
# Secure-boot and Microsoft-keyed builds are left out on purpose: the stub is
# not signed, and the secboot build needs SMM.
OVMF_DIRS = ['/usr/share/OVMF', '/usr/share/edk2/ovmf', '/usr/share/ovmf']
OVMF_PAIRS = [('OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd'),
              ('OVMF_CODE.fd', 'OVMF_VARS.fd')]

# How the boot disk (-drive id=disk) is attached to the machine.
DISKS = {
    # q35's built-in AHCI controller (ICH9, 00:1f.2), port 0.
    'sata': ['-device', 'ide-hd,drive=disk,bus=ide.0'],
    # USB mass storage on an xHCI controller the config adds (id=xhci).
    'usb': ['-device', 'usb-storage,bus=xhci.0,drive=disk,bootindex=0'],
    # The same behind a USB hub the config adds (on xhci port 1).  No
    # bootindex: OVMF cannot translate QEMU's boot path of a device behind
    # a hub and would then offer only its shell; unlisted, the stick is
    # its first boot option anyway.
    'usbhub': ['-device', 'usb-storage,bus=xhci.0,port=1.1,drive=disk'],
    # QEMU's NVMe controller (1b36:0010), the disk its namespace 1.
    'nvme': ['-device', 'nvme,serial=PBNVMEBOOT,drive=disk,bootindex=0'],
    # No disk at all (firmware experiments).
    'none': [],
}

# Media beside the boot disk, each in a file next to the image (IMG.NAME),
# made as a sparse file of the given size when missing (a test makes its
# own first, of the size it checks): name -> (bytes, QEMU arguments with
# {file} for the file).  q35's AHCI is ide.0-ide.5, one device per port.
MEDIA = {
    'disk2': (8 << 20, ['-drive', 'if=none,id=disk2,format=raw,file={file}',
                        '-device', 'ide-hd,drive=disk2,bus=ide.1']),
    'cdrom': (4 << 20, ['-drive', 'if=none,id=cdrom,format=raw,media=cdrom,'
                        'readonly=on,file={file}',
                        '-device', 'ide-cd,drive=cdrom,bus=ide.2']),
    # QEMU's NVMe controller (1b36:0010) with one namespace, as most PCs'
    # internal disk is now.
    'nvme': (16 << 20, ['-drive', 'if=none,id=nvme0,format=raw,file={file}',
                        '-device', 'nvme,serial=PBNVME0001,drive=nvme0']),
}

_BASE = {
    'about': '',
    'memory': '512M',
    'smp': 1,
    'vga': 'std',      # -vga value; 'none' for no legacy VGA device
    'disk': 'sata',    # key of DISKS
    'devices': [],     # extra QEMU arguments, placed before the disk
    'media': [],       # keys of MEDIA, after the boot disk
    'machine': 'q35',  # -machine value
}


def _config(about, **fields):
    unknown = set(fields) - set(_BASE)
    if unknown:
        raise ValueError('unknown configuration fields: %s' % sorted(unknown))
    c = dict(_BASE)
    c.update(fields)
    c['about'] = about
    return c


CONFIGS = {
    'default': _config(
        'q35, 512 MiB, std VGA, SATA disk on the AHCI, PS/2 keyboard, COM1'),
    'usb': _config(
        'as default, but the disk is USB storage on xHCI and a USB keyboard is added',
        disk='usb',
        devices=['-device', 'qemu-xhci,id=xhci',
                 '-device', 'usb-kbd,bus=xhci.0']),
    'usbonly': _config(
        'a modern laptop: the disk is a USB stick on xHCI, a USB keyboard, '
        'no PS/2 controller, no SATA disk',
        machine='q35,i8042=off',
        disk='usb',
        devices=['-device', 'qemu-xhci,id=xhci',
                 '-device', 'usb-kbd,bus=xhci.0']),
    'usbhub': _config(
        'as usbonly, with the keyboard and the stick behind a USB hub',
        machine='q35,i8042=off',
        disk='usbhub',
        devices=['-device', 'qemu-xhci,id=xhci',
                 '-device', 'usb-hub,bus=xhci.0,port=1',
                 '-device', 'usb-kbd,bus=xhci.0,port=1.2']),
    'nodisplay': _config(
        'as default, with no display device at all (-vga none)',
        vga='none'),
    'bochs': _config(
        'as default, with bochs-display (PCI, no legacy VGA) instead of std VGA',
        vga='none',
        devices=['-device', 'bochs-display']),
    'smp2': _config(
        'as default, with 2 CPUs',
        smp=2),
    'bigmem': _config(
        'as default, with 4 GiB of memory (RAM above 4 GiB too)',
        memory='4G'),
    'twodisks': _config(
        'as default, with a second SATA disk (IMG.disk2) on AHCI port 1',
        media=['disk2']),
    'cdrom': _config(
        'as default, with a SATA CD-ROM (ide-cd, IMG.cdrom) on AHCI port 2',
        media=['cdrom']),
    'nvme': _config(
        'as default, with an NVMe SSD (QEMU nvme, IMG.nvme) beside the SATA '
        'boot disk',
        media=['nvme']),
    'nvmeboot': _config(
        'as default, but the boot disk is an NVMe SSD (a PC of today)',
        disk='nvme'),
}


class ConfigError(Exception):
    """A configuration cannot be used here (unknown name, no firmware...)."""


def config(name):
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError('unknown configuration %r (known: %s)'
                          % (name, ', '.join(sorted(CONFIGS))))


def qemu_binary():
    return os.environ.get('PB_QEMU') or QEMU


def find_ovmf():
    """Return (code, vars) paths of the OVMF firmware, or raise ConfigError."""
    code = os.environ.get('PB_OVMF_CODE')
    vars_ = os.environ.get('PB_OVMF_VARS')
    if code or vars_:
        if not (code and vars_):
            raise ConfigError('set both PB_OVMF_CODE and PB_OVMF_VARS')
        for p in (code, vars_):
            if not os.path.isfile(p):
                raise ConfigError('OVMF file not found: %s' % p)
        return code, vars_
    for d in OVMF_DIRS:
        for c, v in OVMF_PAIRS:
            c, v = os.path.join(d, c), os.path.join(d, v)
            if os.path.isfile(c) and os.path.isfile(v):
                return c, v
    raise ConfigError('OVMF firmware not found in %s (run tools/install-deps)'
                      % ', '.join(OVMF_DIRS))


def copy_vars(directory):
    """Copy the OVMF VARS template into directory; return the copy's path."""
    _, vars_ = find_ovmf()
    dst = os.path.join(directory, os.path.basename(vars_))
    shutil.copyfile(vars_, dst)
    os.chmod(dst, 0o600)
    return dst


def kvm_openable():
    """True when /dev/kvm can be opened read-write by this process."""
    try:
        fd = os.open('/dev/kvm', os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


# An openable /dev/kvm is not a working one: under nested virtualisation
# without unrestricted guests KVM stops at OVMF's first real-mode x87
# instruction ("KVM internal error. Suberror: 1 ... emulation failure")
# and the machine hangs.  So KVM is used only after a probe ran OVMF
# under it far enough to print on COM1.  The answer is kept per boot of
# the host (boot_id) in build/, so each test does not probe again.
PROBE_SECONDS = 20
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE_CACHE = os.path.join(_ROOT, 'build', 'kvm-probe')
_probed = None


def _boot_id():
    try:
        with open('/proc/sys/kernel/random/boot_id') as f:
            return f.read().strip()
    except OSError:
        return 'unknown'


def probe_kvm(qemu=None, seconds=PROBE_SECONDS):
    """Run OVMF under KVM until it prints on COM1: (works, why)."""
    import subprocess
    import tempfile
    import time
    code, _ = find_ovmf()
    with tempfile.TemporaryDirectory(prefix='pbkvm.') as d:
        argv = [qemu or QEMU, '-machine', 'q35', '-m', '128M', '-nodefaults',
                '-display', 'none', '-no-reboot', '-serial', 'stdio',
                '-enable-kvm', '-cpu', 'host',
                '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=' +
                _opt(code),
                '-drive', 'if=pflash,format=raw,unit=1,file=' +
                _opt(copy_vars(d))]
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        except OSError as e:
            return False, 'cannot run %s: %s' % (argv[0], e)
        os.set_blocking(p.stdout.fileno(), False)
        os.set_blocking(p.stderr.fileno(), False)
        end = time.monotonic() + seconds
        why = 'no output from OVMF in %ds' % seconds
        works = False
        err = b''
        while time.monotonic() < end:
            if p.stdout.read(4096):
                works, why = True, 'OVMF ran'
                break
            err += p.stderr.read(4096) or b''
            if b'internal error' in err:
                why = 'KVM internal error (emulation failure)'
                break
            if p.poll() is not None:
                why = 'QEMU exited (%d)' % p.returncode
                break
            time.sleep(0.1)
        p.kill()
        p.communicate()
        return works, why


def kvm_usable():
    """True when /dev/kvm opens and OVMF runs under it (probed once per
    host boot, see PROBE_CACHE)."""
    global _probed
    if _probed is not None:
        return _probed
    if not kvm_openable():
        _probed = False
        return False
    key = _boot_id()
    try:
        with open(PROBE_CACHE) as f:
            cached_key, answer = f.read().split()[:2]
        if cached_key == key:
            _probed = answer == 'kvm'
            return _probed
    except (OSError, ValueError):
        pass
    _probed, why = probe_kvm()
    try:
        os.makedirs(os.path.dirname(PROBE_CACHE), exist_ok=True)
        with open(PROBE_CACHE, 'w') as f:
            f.write('%s %s %s\n' % (key, 'kvm' if _probed else 'tcg', why))
    except OSError:
        pass
    return _probed


def accel():
    """'kvm' or 'tcg': PB_ACCEL if set, else KVM when /dev/kvm is usable."""
    forced = os.environ.get('PB_ACCEL', '').strip().lower()
    if forced in ('kvm', 'tcg'):
        return forced
    if forced:
        raise ConfigError('PB_ACCEL must be kvm or tcg, not %r' % forced)
    return 'kvm' if kvm_usable() else 'tcg'


def accel_args(kind):
    cpu = os.environ.get('PB_CPU', '').strip()
    if kind == 'kvm':
        return ['-enable-kvm', '-cpu', cpu or 'host']
    # TCG: 'max' is every feature TCG emulates (NX, SSE4, x2APIC, RDRAND,
    # PKS...).  It also advertises LA57, which only matters if the guest
    # sets CR4.LA57.
    return ['-accel', 'tcg', '-cpu', cpu or 'max']


def _opt(path):
    """Quote a path for QEMU's key=value option syntax (commas double)."""
    return str(path).replace(',', ',,')


def media_args(name, image, snapshot):
    """QEMU arguments for MEDIA[name] in IMG.name, made when missing."""
    size, args = MEDIA[name]
    path = '%s.%s' % (image, name)
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            f.truncate(size)
    out = [a.replace('{file}', _opt(path)) for a in args]
    if snapshot:
        out = [a + ',snapshot=on' if a.startswith('if=none,') and
               'readonly=on' not in a else a for a in out]
    return out


def command(name, image, vars_copy, *, mode_args=(), snapshot=False,
            extra=(), accel_kind=None, qemu=None):
    """Build the QEMU argument list for configuration `name`.

    image      the raw disk image (ignored by disk='none' configurations)
    vars_copy  the per-run copy of OVMF_VARS (see copy_vars)
    mode_args  display/serial/monitor arguments chosen by the caller
    snapshot   attach the disk with snapshot=on (writes go to a temp overlay)
    extra      raw QEMU arguments appended last (a list, or a shell-like string)
    """
    c = config(name)
    code, _ = find_ovmf()
    if accel_kind is None:
        accel_kind = accel()
    if isinstance(extra, str):
        extra = shlex.split(extra)
    argv = [qemu or qemu_binary(),
            '-name', 'patchbay-' + name,
            '-machine', c['machine'],
            '-m', str(c['memory']),
            '-smp', str(c['smp'])]
    argv += accel_args(accel_kind)
    argv += ['-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=' + _opt(code),
             '-drive', 'if=pflash,format=raw,unit=1,file=' + _opt(vars_copy),
             '-vga', c['vga'],
             # No NIC: OVMF would otherwise try PXE and HTTP boot first.
             '-nic', 'none']
    argv += c['devices']
    if c['disk'] != 'none':
        drive = 'if=none,id=disk,format=raw,file=' + _opt(image)
        if snapshot:
            drive += ',snapshot=on'
        argv += ['-drive', drive] + DISKS[c['disk']]
    for name in c['media']:
        argv += media_args(name, image, snapshot)
    argv += list(mode_args)
    argv += list(extra or ())
    return argv


def test_mode_args(serial, monitor=None, qmp=None):
    """Arguments for unattended runs: no display, no reboot, given serial
    chardev spec ('stdio', 'file:PATH'...), HMP and/or QMP on unix sockets."""
    args = ['-display', 'none', '-no-reboot', '-serial', serial]
    if monitor:
        args += ['-monitor', 'unix:%s,server=on,wait=off' % _opt(monitor)]
    if qmp:
        args += ['-qmp', 'unix:%s,server=on,wait=off' % _opt(qmp)]
    return args


def describe():
    """One line per configuration, for --list."""
    w = max(len(n) for n in CONFIGS)
    return '\n'.join('%-*s  %s' % (w, n, CONFIGS[n]['about'])
                     for n in CONFIGS)
