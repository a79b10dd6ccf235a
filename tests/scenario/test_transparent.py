"""Transparent recovery (issue 15): a fault injected into a storage driver
while a file is read through it is hidden from the reader.  The file's
SHA-256 comes out right and no error line shows; the log says the driver
faulted, was restarted, and its clients were served again.

A wrong answer to a block submit (an error that is no refusal block.h
allows) is charged as ahci's fault, and its request kept (hub/shadow.c).

What makes it transparent (hub/replay.c, hub/shadow.c):
  ahci         block requests in flight are issued again by the hub's shadow
               once the restarted ahci publishes block:sata0 again (gpt's
               connection waits for it, held)
  fat          PB_MOD_RESTATE: its open handles and the requests it had not
               completed are exported at the fault and imported by the new
               instance, which publishes fs:PATCHBAY before its mount
  usb-storage  as ahci, for block:usb0 (the stick probed again)
  xhci         PB_MOD_RESTATE: the USB requests it held go to the new
               controller, which runs them once the bus found each device
               again

The injection is armed on the line right before the read, so the driver's
next work item, the one the read makes it do, is where it faults.
"""

import hashlib
import os
import random
import re
import struct

from pbtest import Machine, PROMPT, ROOT, esp_cat, workdir
from images import custom_image

BOOT_TIMEOUT = 150
FILE_BYTES = 1 << 20


def big_file():
    """1 MiB of seeded bytes, and its SHA-256."""
    data = random.Random(15).randbytes(FILE_BYTES)
    path = os.path.join(workdir(), 'transparent.bin')
    with open(path, 'wb') as f:
        f.write(data)
    return path, hashlib.sha256(data).hexdigest()


def read_under_fault(config, module, spec, name):
    """Boot `config`, arm `faultinject MODULE SPEC` and read the file at
    once; the read's output and everything the machine said."""
    local, sha = big_file()
    img = custom_image(name, ['target=os', 'watchdog=1000', 'fs-flush=0'],
                       files=[(local, '/transparent.bin')])
    with Machine(config, image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        # The boot's own file work (the log file) is done before arming.
        m.cmd('sha256sum /esp/transparent.bin', 60)
        start = len(m.serial_text())
        m.sendline('faultinject %s %s' % (module, spec))
        m.sendline('sha256sum /esp/transparent.bin')
        out = m.expect(r'([0-9a-f]{64})  /esp/transparent.bin|'
                       r'error: sha256sum[^\n]*', 120)
        m.expect(r'^' + re.escape(PROMPT), 30)
        status = m.cmd('faultinject status', 30)
        text = m.serial_text()[start:]
    return out.group(0), sha, status, text


def check_hidden(out, sha, status, text, module,
                 fault=r'faulted: vector 14 at rip 0x0 '):
    """The reader saw nothing: the right sum, no error; the driver did
    fault (`fault` says how), was restarted, and the injection was its
    only fault."""
    assert out == '%s  /esp/transparent.bin' % sha, (out, text[-3000:])
    assert 'error: sha256sum' not in text, text[-3000:]
    assert re.search(r'inject: fired %s .* faults=1 total=1 state=running'
                     % re.escape(module), status), (status, text[-3000:])
    assert re.search(r'%s %s' % (re.escape(module), fault), text), \
        text[-3000:]
    assert re.search(r'%s: recovered in \d+ us' % re.escape(module), text), \
        text[-3000:]
    assert not re.search(r'shell: /\S+ \(\S+\) is gone', text), \
        text[-3000:]                                # no volume went
    assert 'not back within' not in text, text[-3000:]


def test_transparent_ahci_fault_during_a_read():
    out, sha, status, text = read_under_fault('default', 'ahci', 'work null',
                                              'transparent_ahci')
    check_hidden(out, sha, status, text, 'ahci')
    assert re.search(r'ahci: block:sata0 back for gpt, \d+ requests issued '
                     r'again', text), text[-3000:]


def test_transparent_ahci_wrong_answer_during_a_read():
    """A wrong return code (Nooks' fault class): ahci takes gpt's request
    and answers PB_EIO (-5), which block.h does not allow as a refusal.
    Given back to gpt, the request would fail a read the disk never
    failed, and be reused while ahci still writes into it.  The hub
    charges ahci instead and keeps the request: the reader sees
    nothing."""
    out, sha, status, text = read_under_fault(
        'default', 'ahci', 'entry retcode 0xfffffffffffffffb',
        'transparent_ahci_answer')
    check_hidden(out, sha, status, text, 'ahci',
                 fault=r'faulted: it answered a block submit -5, which is '
                       r'no refusal abi/block.h allows')
    assert re.search(r'ahci: recovered in \d+ us \(answered a block '
                     r'submit -5\)', text), text[-3000:]


def test_transparent_fat_fault_during_a_read():
    out, sha, status, text = read_under_fault('default', 'fat', 'work null',
                                              'transparent_fat')
    check_hidden(out, sha, status, text, 'fat')
    # The open file and the read in flight went to the new instance.
    took = re.search(r'fat: took over 1 volumes, (\d+) handles, (\d+) '
                     r'requests', text)
    assert took and int(took.group(1)) + int(took.group(2)) >= 1, \
        text[-3000:]
    assert re.search(r'fat: its state of \d+ bytes given back \(0\)', text)
    # The shell's connection went to the volume the new instance
    # published before mounting it: no unmount, no mount.
    assert re.search(r'fat: recovered in \d+ us \(vector 14 at 0x0\), '
                     r'1 client rebound', text), text[-3000:]
    assert 'mounted at /esp' not in text, text[-3000:]


def test_transparent_usb_storage_fault_during_a_read():
    out, sha, status, text = read_under_fault('usbonly', 'usb-storage',
                                              'work null',
                                              'transparent_usbstor')
    check_hidden(out, sha, status, text, 'usb-storage')
    assert re.search(r'usb-storage: block:usb0 back for gpt', text), \
        text[-3000:]


def test_transparent_xhci_fault_during_a_read():
    out, sha, status, text = read_under_fault('usbonly', 'xhci', 'work null',
                                              'transparent_xhci')
    check_hidden(out, sha, status, text, 'xhci')
    took = re.search(r'xhci: xhci0: took over (\d+) requests? \((\d+) held',
                     text)
    assert took and int(took.group(1)) >= 1, text[-3000:]
    assert re.search(r'usb: 1-\d: back after the controller swap', text), \
        text[-3000:]


def test_transparent_stick_kept_through_an_xhci_restart_without_its_state():
    """xhci restarted without its state (its export faulted too: a pointer
    of its data damaged before, without a fault) resets the controller, and
    usb takes its devices for unplugged: usb-storage withdraws block:usb0.
    The hub parks the disk's clients (hub/park.c, park_withdrawn: a
    recovery under its driver) until the stick is published again with the
    same path and properties, so fat keeps the note it had not written and
    gpt its partition: the file reads back, and is on the stick after the
    poweroff.  Before, fat said `block:usb0.p1 went with N blocks not
    written` and mounted the stick again read-only (campaign usbonly seed
    7070, injections 83 and 84, replayed here)."""
    img = custom_image('transparent_xhci_fresh',
                       ['target=os', 'watchdog=1000', 'fs-flush=0'])
    with Machine('usbonly', image=img, timeout=300, snapshot=False) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.cmd('sha256sum /esp/patchbay/mods/shell.mod', 60)
        start = len(m.serial_text())
        # 83: a write through a pointer of xhci's interrupt handler's
        # argument, at the next key's interrupt; no fault follows.
        m.cmd('faultinject xhci irq pointer 0x529680ea1', 30)
        m.sendkey('shift')
        status = m.cmd('faultinject status', 30)
        assert 'inject: fired xhci' in status, status
        out = m.cmd('write /esp/kept.txt written before the fault', 60)
        assert 'error' not in out, out
        # 84: xhci's next entry calls NULL; its export then faults on
        # what 83 wrote.
        m.cmd('faultinject xhci entry null', 30)
        out = m.cmd('sha256sum /esp/patchbay/mods/shell.mod', 120)
        assert re.search(r'^[0-9a-f]{64}  ', out, re.M), out
        out = m.cmd('cat /esp/kept.txt', 60)
        text = m.serial_text()[start:]
        assert re.search(r'^written before the fault\r?$', out, re.M), \
            (out, text[-3000:])
        m.sendline('poweroff')
        m.expect(r'^powering off', 120)
        assert m.wait_exit(120) == 0
    # The recipe still reaches the path it is for.
    assert 'xhci: no state to restart with' in text, (
        'the injections no longer make xhci restart without its state '
        '(its data moved?): pick another pair with faultcampaign.py',
        text[-3000:])
    assert re.search(r'block:usb0 \(path=\S+\) went with a recovery under '
                     r'it: parked, 2 clients kept', text), text[-3000:]
    assert re.search(r'back: block:usb0 \(path=\S+\) -> block:usb0 '
                     r'\(usb-storage\), \d+ requests? handed over, 2 clients',
                     text), text[-3000:]
    assert 'blocks not written' not in text, text[-3000:]
    assert 'read-only' not in text, text[-3000:]
    assert esp_cat(img, 'kept.txt') == b'written before the fault\n'


def fault_over_a_cached_file(name, path, line, inject, trigger, recovered):
    """fs-flush=0: `line` written to /esp/`path` stays in fat's cache.
    Then `faultinject fat INJECT`, TRIGGER to make it fire, and the
    `recovered` line: the file must read back, and be on the disk after
    the poweroff.  The serial text from the injection on, and the image."""
    img = custom_image(name, ['target=os', 'watchdog=1000', 'fs-flush=0'])
    with Machine('default', image=img, timeout=300, snapshot=False) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        out = m.cmd('write /esp/%s %s' % (path, line), 60)
        assert 'error' not in out, out
        start = len(m.serial_text())
        m.sendline('faultinject fat ' + inject)
        m.sendline(trigger)
        m.expect(recovered, 60)
        m.expect(r'^' + re.escape(PROMPT), 30)
        out = m.cmd('cat /esp/' + path, 60)
        assert re.search(r'^%s\r?$' % re.escape(line), out, re.M), out
        text = m.serial_text()[start:]
        m.sendline('poweroff')
        m.expect(r'^powering off', 120)
        assert m.wait_exit(120) == 0
    assert esp_cat(img, path) == line.encode() + b'\n'
    return text, img


def test_transparent_fat_fault_keeps_what_was_written_before_it():
    """A file written (done, in fat's cache only: fs-flush=0) before fat
    faults is handed to the restarted instance (abi/fs.h struct
    fs_state_run, mods/fat/vouch.c): it reads back, and is on the disk
    after the poweroff.  Before, it died with the faulted instance's
    memory."""
    text, img = fault_over_a_cached_file(
        'transparent_fat_kept', 'kept.txt', 'written before the fault',
        'work null', 'write /esp/after.txt two', r'fat: recovered in \d+ us')
    assert 'fat faulted: vector 14 at rip 0x0 ' in text, text[-3000:]
    assert re.search(r'block:\S+: \d+ blocks written before the restart '
                     r'taken back', text), text[-3000:]
    assert esp_cat(img, 'after.txt') == b'two\n'


def code_padding(mod):
    """An offset in the last page of a module's .text past its last byte,
    where nothing runs (PE/COFF spec 3, 4: the section table)."""
    data = open(os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods',
                             mod + '.mod'), 'rb').read()
    pe = struct.unpack_from('<I', data, 0x3c)[0]
    nsect = struct.unpack_from('<H', data, pe + 6)[0]
    table = pe + 24 + struct.unpack_from('<H', data, pe + 20)[0]
    for i in range(nsect):
        name, vsize, rva = struct.unpack_from('<8sII', data, table + 40 * i)
        if name.rstrip(b'\0') == b'.text':
            end = rva + vsize
            assert end % 4096 and 4096 - end % 4096 >= 16, (mod, end)
            return (end | 4095) - 7
    raise AssertionError('%s.mod has no .text' % mod)


def test_transparent_fat_code_bit_put_back_before_its_state():
    """A bit flipped in fat's code (where nothing runs), with a file
    written and in its cache only: the scrub finds it, and the hub puts
    the code back as loaded before it asks the faulted instance for its
    state (hub/scrub.c scrub_repair), so the export runs the code the file
    holds.  The file is handed over, and on the disk after the poweroff."""
    text, _ = fault_over_a_cached_file(
        'transparent_fat_codebit', 'bit.txt', 'written before the bit',
        'work codebit 0x3%08x' % code_padding('fat'), 'ls /esp',
        r'fat: recovered in \d+ us \(its code changed\)')
    assert 'fat: its code put back as loaded (1 words changed) before ' \
        'its state is taken' in text, text[-3000:]


def test_transparent_fat_fault_on_a_volume_it_marked_dirty():
    """fat faults while the ESP is marked dirty by its own write (fs-flush=0:
    no sync since).  The restarted instance keeps it read-write, since the
    mark is its own (abi/fs.h FS_STATE_VOL_DIRTY; before, every fault of
    fat left the ESP read-only until the next boot): the write the fault
    hit is done, and the shell's log.txt after the fault and a file after
    that are written too."""
    img = custom_image('transparent_fat_dirty',
                       ['target=os', 'watchdog=1000', 'fs-flush=0'])
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        out = m.cmd('write /esp/before.txt one', 60)
        assert 'error' not in out, out
        start = len(m.serial_text())
        m.sendline('faultinject fat work null')
        m.sendline('write /esp/after.txt two')
        m.expect(r'fat: recovered in \d+ us', 60)
        m.expect(r'^' + re.escape(PROMPT), 30)
        out = m.cmd('cat /esp/after.txt', 60)
        assert re.search(r'^two\r?$', out, re.M), out
        out = m.cmd('write /esp/third.txt three', 60)
        assert 'error' not in out, out
        assert re.search(r'^three\r?$', m.cmd('cat /esp/third.txt', 60),
                         re.M)
        text = m.serial_text()[start:]
    assert 'fat faulted: vector 14 at rip 0x0 ' in text, text[-3000:]
    assert 'the dirty flag is the one this driver set before its ' \
        'restart: kept read-write' in text, text[-3000:]
    assert 'not unmounted cleanly' not in text, text[-3000:]
    assert 'read-only' not in text, text[-3000:]
