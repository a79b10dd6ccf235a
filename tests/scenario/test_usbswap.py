"""The USB controller driver replaced while it is used (issue 14's swap):
on the usbonly machine (a USB stick and keyboard, no PS/2, no SATA) a file
streams from the stick through one open handle (tests/mods/tfsread) and
keys are typed on the USB keyboard while `update xhci PATH` replaces the
controller's driver with the build on the very stick it drives, twice.
The new driver resets the controller and the bus enumerates every device
again; requests wait, they are not failed: every pass of the file hashes
right and every key typed reaches the shell."""

import hashlib
import re
import time

from pbtest import Machine, PROMPT
from test_streams import PASS_LINE, logged, stream_image

BIG = 2 << 20
PASSES = 800
XHCI = '/esp/patchbay/mods/xhci.mod'


def test_update_xhci_under_keys_and_reads():
    img, data, want = stream_image('usbswap', BIG, PASSES, 10)
    with Machine('usbonly', image=img, timeout=900) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        logged(m, r'shell -> keyboard:usbkbd0', 60)
        logged(m, r'tfsread: pass 1 of big\.bin', 120)
        for n, word in enumerate(('first', 'second')):
            # The update typed on the USB keyboard itself: its standing
            # request is on the controller as the driver is replaced, held
            # across the update and resumed.  (Keys pressed and released
            # while the new driver resets the ports, about 110 ms, are the
            # device's to lose: a USB reset clears a HID device's queue.)
            m.typekeys('update xhci %s\n' % XHCI, delay=0)
            logged(m, r'(?:updated xhci: \S+ -> \S+, blackout \d+ us'
                      r'(?:.|\n)*){%d}' % (n + 1), 120)
            logged(m, r'(?:usb: 1-\d: back after the controller swap'
                      r'(?:.|\n)*){%d}' % (2 * (n + 1)), 60)
            m.typekeys('echo keys %s\n' % word, delay=0)
            logged(m, r'^keys %s\r?$' % word, 60)
        done = logged(m, r'tfsread: done, (\d+) passes, (\d+) mismatched',
                      900)
        log = m.serial_text()
        assert (int(done.group(1)), int(done.group(2))) == (PASSES, 0), \
            done.group(0)
        passes = PASS_LINE.findall(log)
        assert [int(p[0]) for p in passes] == list(range(1, PASSES + 1)), \
            passes
        for num, size, got, via in passes:
            assert (int(size), got) == (BIG, want), (num, size, got, want)
        # Both updates happened while the file streamed.
        swaps = [s.start() for s in re.finditer(r'updated xhci: ', log)]
        assert len(swaps) == 2, swaps
        assert log.index('tfsread: pass 1 ') < swaps[0] < swaps[1] < \
            log.rindex('tfsread: pass %d ' % PASSES), \
            'the updates were not under the stream'
        # The devices came back under their numbers: no unplug.
        assert not re.search(r'usb: \S+: unplugged', log), log
        assert not re.search(r'^(?:\[[ \d.]+\] )?error: ', log, re.M), log
        m.sendline('poweroff')
        m.wait_exit(60)



def test_xhci_fault_in_an_updates_watch_window():
    """`update xhci` under the stream and the keyboard, and the new driver
    faults at once, inside its watch window.  xhci's state survives a
    restart (PB_MOD_RESTATE: the requests it holds), so the hub restarts
    the new driver with it, as at any other fault, instead of giving the
    bus back to the driver it replaced (which would find its controller
    run on the other's rings and reset it: every device found afresh, the
    requests in flight lost).  Keys typed after reach the shell, the file
    on the stick reads right, no pass of the stream ever hashed wrong, and
    no module faults but the one injected."""
    img, data, want = stream_image('usbswap_rollback', BIG, PASSES, 10)
    with Machine('usbonly', image=img, timeout=900) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        logged(m, r'shell -> keyboard:usbkbd0', 60)
        logged(m, r'tfsread: pass 2 of big\.bin', 120)
        m.cmd('update xhci %s' % XHCI, 180)
        m.cmd('faultinject xhci work null', 30)
        logged(m, r'xhci: recovered in \d+ us \(vector 14 at 0x0\), \d+ '
               r'clients? rebound', 60)
        m.typekeys('echo keys after\n', delay=0)
        logged(m, r'^keys after\r?$', 60)
        sums = ''
        for _ in range(30):     # until the volume is mounted again
            sums = m.cmd('sha256sum /esp/big.bin', 120)
            if hashlib.sha256(data).hexdigest() in sums:
                break
            time.sleep(1)
        assert hashlib.sha256(data).hexdigest() in sums, sums
        log = m.serial_text()
        assert 'faulted in its watch window' not in log, m.tail()
        assert re.search(r'xhci: its state of \d+ bytes given back \(0\)',
                         log), m.tail()
        whole = [p for p in PASS_LINE.finditer(log) if int(p.group(2)) == BIG]
        assert whole, 'no pass read the file whole'
        for p in whole:
            assert p.group(3) == want, p.group(0)
        faults = re.findall(r'(\S+) faulted: vector', log)
        assert faults == ['xhci'], faults
        m.sendline('poweroff')
        m.wait_exit(60)
