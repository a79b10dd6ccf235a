"""The acpi module (mods/acpi) on QEMU q35 + OVMF, and the shell's `acpi`
and `cpus` commands: the tables QEMU provides are all found and verified,
the platform they describe matches what QEMU's monitor says it built (CPUs
from `info cpus`, the ECAM window and the HPET from `info mtree`), and the
commands fail with one error line when no acpi provider is loaded.

Corrupt tables cannot be made here (QEMU recomputes the checksums of
-acpitable): tests/host/mod_acpi.c covers them."""

import contextlib
import os
import re

from pbtest import (Machine, PROMPT, ROOT, esp_delete, esp_ls, image_copy,
                    workdir)

BOOT_TIMEOUT = 90
# The tables QEMU's q35 builds (hw/i386/acpi-build.c), and the FADT's two.
QEMU_TABLES = ('XSDT', 'FACP', 'APIC', 'HPET', 'MCFG', 'DSDT', 'FACS')
_HUB_LOG = re.compile(r'^\[\s*\d+\.\d+\] ')
_ROW = re.compile(r'(\S{4}) (0x[0-9a-f]{16}) +(\d+) +(\d+) (.*\S)')


@contextlib.contextmanager
def booted(config='default', image='build/patchbay.img'):
    """A machine booted up to the shell's first prompt."""
    with Machine(config, image=image, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        yield m


def run(m, command):
    """The command's own lines: the hub logs the shell's connection to the
    provider on the console in the middle of them."""
    return [l for l in m.cmd(command).split('\n') if not _HUB_LOG.match(l)]


def tables(m):
    """{signature: (address, length, revision, status)} from `acpi`."""
    out = run(m, 'acpi')
    assert out[0].split() == ['SIG', 'ADDRESS', 'LENGTH', 'REV', 'OEM',
                              'TABLE', 'STATUS'], out
    found = {}
    for line in out[1:-1]:
        row = _ROW.fullmatch(line)
        assert row, 'acpi row: %r' % line
        sig, addr, length, rev, rest = row.groups()
        found[sig] = (int(addr, 16), int(length), int(rev), rest.split()[-1])
    assert re.fullmatch(r'%d tables, 0 bad' % len(found), out[-1]), out
    return found


def cpus(m):
    out = run(m, 'cpus')
    assert out[0].split() == ['APIC', 'UID', 'ENABLED'], out
    rows = [l.split() for l in out[1:-1]]
    return rows, out[-1]


def mtree_region(m, name):
    """(start, end) of the memory region `name` in QEMU's memory tree."""
    for line in m.monitor('info mtree').split('\n'):
        r = re.search(r'([0-9a-f]{16})-([0-9a-f]{16}) \(.*\): %s$' % name, line)
        if r:
            return int(r.group(1), 16), int(r.group(2), 16)
    m.fail('no %s in info mtree' % name)


def qemu_cpus(m):
    return len(re.findall(r'CPU #\d+', m.monitor('info cpus')))


def test_tables_and_platform():
    """default: every table QEMU provides is found and ok; 1 CPU; the
    resources match QEMU's memory map."""
    with booted() as m:
        log = re.search(r'acpi: (\d+) tables, 1 cpu, 1 ioapic, '
                        r'5 overrides, 1 nmi, 1 ecam, hpet yes, '
                        r'pm timer yes', m.serial_text())
        assert log, m.tail()
        found = tables(m)
        assert len(found) == int(log.group(1)), (found, log.group(0))
        for sig in QEMU_TABLES:
            assert sig in found, 'no %s in %s' % (sig, sorted(found))
            assert found[sig][3] == 'ok', (sig, found[sig])
        assert found['FACP'][2] >= 3, found['FACP']    # ACPI 2.0+ FADT
        assert found['FACS'][1] >= 64, found['FACS']

        rows, total = cpus(m)
        assert rows == [['0', '0', 'yes']], rows
        assert total == '1 CPU, 1 enabled', total
        assert qemu_cpus(m) == 1

        res = m.cmd('res', check=True)
        assert re.search(r'^  cpu:0 apic=0 uid=0 enabled=1 ', res, re.M), res
        assert re.search(r'^  irq-override:0 isa=0 gsi=2 flags=0x0 '
                         r'pol=conform trig=conform ', res, re.M), res
        assert re.search(r'^  irq-override:1 isa=5 gsi=5 flags=0xd '
                         r'pol=high trig=level ', res, re.M), res
        start, end = mtree_region(m, 'pcie-mmcfg-mmio')
        buses = (end + 1 - start) >> 20
        assert re.search(r'^  ecam:0 seg=0 bus=0-%d base=0x%x ' % (
            buses - 1, start), res, re.M), (hex(start), buses, res)
        start, _ = mtree_region(m, 'hpet')
        assert re.search(r'^  hpet:0 base=0x%x ' % start, res, re.M), res
        assert re.search(r'^  acpi:tables tables=%d bad=0 rev=2 ' %
                         len(found), res, re.M), res


def test_two_cpus():
    """smp2: two Local APICs, as many as QEMU has CPUs."""
    with booted('smp2') as m:
        rows, total = cpus(m)
        assert rows == [['0', '0', 'yes'], ['1', '1', 'yes']], rows
        assert total == '2 CPUs, 2 enabled', total
        assert qemu_cpus(m) == 2
        res = m.cmd('res', check=True)
        assert re.search(r'^  cpu:1 apic=1 uid=1 enabled=1 ', res, re.M), res


def unload_with_dependants(m, name, depth=0):
    """Unload name, first unloading what uses it (the platform modules
    that need acpi: apic, timer...), as the refusal names them."""
    assert depth < 6, m.tail()
    out = m.cmd('unload ' + name)
    if 'is not loaded' in out and depth:
        return      # a dependant of an earlier dependant: already gone
    used = re.search(r'is in use by (.*)$', out)
    if used:
        for dep in used.group(1).split(', '):
            unload_with_dependants(m, dep.strip(), depth + 1)
        out = m.cmd('unload ' + name)
    assert '%s unloaded' % name in out, out


def test_unload_and_load_again():
    """Both commands are in help.  Without an acpi provider each answers one
    error line; the module loads again and they work.  (Without ps2: the
    shell takes every keyboard and keeps each, so apic could not go.)"""
    img = image_copy(os.path.join(ROOT, 'build', 'patchbay.img'),
                     os.path.join(workdir(), 'nops2.img'))
    esp_delete(img, 'patchbay/mods/ps2.mod')
    with booted(image=img) as m:
        for command in ('acpi', 'cpus'):
            assert m.cmd('help ' + command).startswith(
                'usage: %s\n  ' % command), m.tail()
        # bochs-display draws fbcon's screen through pci, which needs
        # acpi: the screen goes back to gop-fb before pci can go.
        assert 'swapped display' in m.cmd('swap display gop-fb', check=True)
        unload_with_dependants(m, 'acpi')
        for command in ('acpi', 'cpus'):
            out = m.cmd(command)
            assert out == 'error: %s: no acpi provider' % command, out
        m.cmd('load acpi', check=True)
        rows, total = cpus(m)
        assert total == '1 CPU, 1 enabled', total
        assert 'APIC' in tables(m)


def test_no_acpi_module():
    """An image without acpi.mod boots to the shell all the same (what
    needs acpi does not start); `acpi` and `cpus` answer one error line."""
    img = image_copy(os.path.join(ROOT, 'build', 'patchbay.img'),
                     os.path.join(workdir(), 'noacpi.img'))
    esp_delete(img, 'patchbay/mods/acpi.mod')
    assert 'acpi.mod' not in esp_ls(img, 'patchbay/mods')
    with booted(image=img) as m:
        for command in ('acpi', 'cpus'):
            out = m.cmd(command)
            assert out == 'error: %s: no acpi provider' % command, out
        assert m.cmd('echo still here') == 'still here'
