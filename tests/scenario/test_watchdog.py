"""The watchdog everywhere: a module that hangs where the timer's alarm
cannot reach it is ended by an NMI (an HPET comparator routed as an NMI by
the timer and apic modules), and one that hangs before the takeover by the
firmware's timer event.  Each time the stuck call is ended and charged to
its module, which is restarted twice and then left stopped, and the log
names it with "watchdog"; the system keeps its prompt."""

import re

from pbtest import Machine, PROMPT
from images import custom_image

BOOT_TIMEOUT = 120


def hang_three_times(where, via):
    """Boot to the prompt, load twatch hanging `where`, and check that it
    is ended three times (each line naming `via`), given up, and that the
    shell still answers."""
    img = custom_image('twatch-' + where,
                       ['target=os', 'watchdog=400', 'twatch=' + where],
                       mods=['twatch'])
    with Machine('default', image=img, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.expect(r'watchdog: NMI ticks \(\d+ so far\)', 30)
        m.cmd('load twatch', check=True)
        m.expect(r'twatch: faulted 3 times, not restarted', 60)
        text = m.serial_text()
        ended = re.findall(r'watchdog: twatch has not returned for 400 ms '
                           r'\(rip twatch\+0x[0-9a-f]+([^)]*)\)', text)
        assert len(ended) == 3, text
        assert all(via in e for e in ended), ended
        assert 'hanging (%s)' % where in text, text
        assert len(re.findall(r'twatch hung at rip 0x[0-9a-f]+: stopped '
                              r'by the watchdog', text)) == 3, text
        assert len(re.findall(r'twatch: restarting from its image',
                              text)) == 2, text
        # The shell answers, and twatch is stopped, not running.
        mods = m.cmd('mods', check=True)
        row = [r for r in mods.split('\n') if r.split()[:1] == ['twatch']]
        assert row and 'running' not in row[0], mods
        return text


def test_watchdog_nmi_ends_a_hung_interrupt_handler():
    """The handler spins with interrupts held by its gate: only the NMI
    reaches it."""
    hang_three_times('irq', 'by NMI, interrupts held')


def test_watchdog_nmi_ends_a_work_item_that_holds_interrupts():
    """cli; spin in a work item: the alarm's interrupt never comes."""
    hang_three_times('cli', 'by NMI, interrupts held')


def test_watchdog_ends_a_hung_work_item():
    """A work item spinning with interrupts open: the alarm or the NMI,
    whichever comes first, ends it."""
    hang_three_times('work', '')


def test_watchdog_firmware_timer_ends_a_start_before_the_takeover():
    """twatchfw starts by itself in the firmware phase and never returns:
    the firmware's timer event ends it three times, and the boot goes on
    to the takeover and the prompt."""
    img = custom_image('twatchfw', ['target=os', 'watchdog=400'],
                       mods=['twatchfw'])
    with Machine('default', image=img, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        text = m.serial_text()
        ended = re.findall(r'watchdog: twatchfw has not returned for 400 ms '
                           r'\(rip twatchfw\+0x[0-9a-f]+, by the '
                           r"firmware's timer\)", text)
        assert len(ended) == 3, text
        assert 'twatchfw: faulted 3 times, not restarted' in text, text
        # All three before the takeover: the firmware was still there.
        assert (text.rindex("by the firmware's timer") <
                text.index('boot services exited')), text
        row = [r for r in m.cmd('mods', check=True).split('\n')
               if r.split()[:1] == ['twatchfw']]
        assert row and row[0].split()[2] == 'failed', row


def test_watchdog_without_an_nmi_source_falls_back_to_the_alarm():
    """hpet=no leaves the timer module no comparator: the boot says once
    that no NMI ticks, and the alarm still ends a work item that spins
    with interrupts open."""
    img = custom_image('twatch-nonmi',
                       ['target=os', 'watchdog=400', 'twatch=work', 'hpet=no'],
                       mods=['twatch'])
    with Machine('default', image=img, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        m.expect(r'watchdog: no NMI source; the alarm alone watches', 30)
        m.cmd('load twatch', check=True)
        m.expect(r'twatch: faulted 3 times, not restarted', 60)
        text = m.serial_text()
        assert 'watchdog NMI every' not in text, text
        ended = re.findall(r'watchdog: twatch has not returned for 400 ms '
                           r'\(rip twatch\+0x[0-9a-f]+\)', text)
        assert len(ended) == 3, text
        assert 'alive' in m.cmd('echo alive', check=True)
