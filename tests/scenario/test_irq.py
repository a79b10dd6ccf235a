"""Interrupts and time on the real image: the apic module (`irq`) and the
timer module (`timer`, the hub's clock and alarm) start after the takeover
with nothing asking for them (timer is AUTOSTART), the local APIC timer
interrupts the hub's sleep (its vector's count grows under `irqs`), the
shell keeps answering (its 10 ms keyboard poll is a hub timer the alarm
must wake), `uptime` keeps pace with the host, the PM timer replaces a
missing HPET (or one switched off by `hpet=no`), and the TSC alone is the
clock with neither (`hpet=no pm-timer=no`, as on a low-power platform).  No timing is asserted beyond a 5% agreement of two clocks
over 10 s."""

import contextlib
import re
import time

from pbtest import Machine, PROMPT
from images import custom_image

BOOT_TIMEOUT = 90
CLOCK_LINE = re.compile(r'timer: clock (\S+) at (\d+) Hz.*, alarm local APIC '
                        r'timer at (\d+) Hz on vector (\d+)')
UPTIME = re.compile(r'up \d+:\d\d:\d\d \((\d+)\.(\d{3}) s\)')


@contextlib.contextmanager
def boot(config='default', extra=None, image=None):
    """A machine booted up to the shell's first prompt, with the test
    module ttick on its disk (see ticks_by_interrupt)."""
    if image is None:
        image = custom_image('ttick', ['target=os'], mods=['ttick'])
    with Machine(config, image=image, timeout=240, extra=extra) as m:
        m.expect(r'^' + re.escape(PROMPT), BOOT_TIMEOUT)
        yield m


def running(m, *names):
    rows = m.cmd('mods', check=True).split('\n')[1:]
    states = {r.split()[0]: r.split()[2] for r in rows if r.strip()}
    for n in names:
        if states.get(n) != 'running':
            m.fail('%s is %s, not running: %s' % (n, states.get(n), states))


def timer_setup(m):
    """(clock name, alarm vector) from the timer module's log line."""
    c = CLOCK_LINE.search(m.serial_text())
    if not c:
        m.fail('no "timer: clock ... alarm local APIC timer" line')
    return c.group(1), int(c.group(4))


def vector_count(m, vector):
    """Interrupts counted on vector, and its module, from `irqs`."""
    out = m.cmd('irqs', check=True)
    r = re.search(r'^%d\s+(\d+)\s+(\S+)$' % vector, out, re.M)
    if not r:
        m.fail('vector %d not in irqs:\n%s' % (vector, out))
    return int(r.group(1)), r.group(2)


def ticks_by_interrupt(m):
    """The alarm interrupts while a timer is pending.  An idle system has
    none (the hub sleeps until the next deadline), so ttick sets one every
    20 ms; its ticks must come, by the alarm's vector."""
    m.cmd('load ttick', check=True)
    clock, vector = timer_setup(m)
    n1, owner = vector_count(m, vector)
    assert owner == 'timer', owner
    time.sleep(1)
    n2, _ = vector_count(m, vector)
    if n2 <= n1:
        m.fail('vector %d: %d then %d interrupts a second later' %
               (vector, n1, n2))
    ticks = re.search(r'ttick:t0 ticks=(\d+)', m.cmd('res', check=True))
    assert ticks and int(ticks.group(1)) >= 10, m.tail()
    return clock


def uptime_s(m):
    """The guest's uptime, and the host's monotonic time at mid-command."""
    t0 = time.monotonic()
    u = UPTIME.fullmatch(m.cmd('uptime'))
    t1 = time.monotonic()
    if not u:
        m.fail('uptime printed no time')
    return int(u.group(1)) + int(u.group(2)) / 1000.0, (t0 + t1) / 2


def uptime_follows_host(m, seconds=10):
    """The guest's uptime and the host's clock agree within 5% over
    `seconds`."""
    g1, h1 = uptime_s(m)
    time.sleep(seconds)
    g2, h2 = uptime_s(m)
    ratio = (g2 - g1) / (h2 - h1)
    if not 0.95 <= ratio <= 1.05:
        m.fail('uptime advanced %.3f s in %.3f s of host time' %
               (g2 - g1, h2 - h1))


def test_timer_ticks_by_interrupt():
    with boot() as m:
        running(m, 'acpi', 'apic', 'timer')
        assert re.search(r'apic: x?APIC id \d+ .*LINT1 NMI, 1 I/O APIC',
                         m.serial_text()), m.tail()
        assert re.search(r'apic: I/O APIC 0 at 0xfec00000: version 0x\w+, '
                         r'GSIs 0-23', m.serial_text()), m.tail()
        assert ticks_by_interrupt(m) in ('hpet', 'tsc')
        res = m.cmd('res', check=True)
        assert re.search(r'irq:apic\b', res), res
        assert re.search(r'ioapic:0\b.*gsi=0-23', res), res
        assert re.search(r'timer:system\b', res), res
        # no spurious interrupt, no stray vector of the 8259s
        irqs = m.cmd('irqs', check=True)
        assert not re.search(r'^(3\d|4[0-7])\s+[1-9]', irqs, re.M), irqs


def test_uptime_follows_host_time():
    with boot() as m:
        uptime_follows_host(m)


def test_pm_timer_without_hpet():
    with boot(extra='-machine q35,hpet=off') as m:
        running(m, 'apic', 'timer')
        assert 'timer: no HPET in the ACPI tables' in m.serial_text(), m.tail()
        assert ticks_by_interrupt(m) == 'pm-timer'
        g1, h1 = uptime_s(m)
        time.sleep(2)
        g2, h2 = uptime_s(m)
        assert g2 - g1 >= 1.0, (g1, g2)


def test_hpet_switched_off_in_boot_cfg():
    img = custom_image('nohpet', ['target=os', 'hpet=no'], mods=['ttick'])
    with boot(image=img) as m:
        assert 'timer: hpet=no: the HPET is not used' in m.serial_text(), \
            m.tail()
        assert ticks_by_interrupt(m) == 'pm-timer'


def test_tsc_alone_without_hpet_and_pm_timer():
    """A low-power platform hides the HPET and the PM timer: the TSC is the
    clock (TCG has no CPUID 0x15, so its rate is measured against the
    hub's clock, which the stub timed with Stall()), and the local APIC
    timer, measured against it, still wakes the hub."""
    img = custom_image('tsconly', ['target=os', 'hpet=no', 'pm-timer=no'],
                       mods=['ttick'])
    with boot(image=img) as m:
        assert 'timer: pm-timer=no: the PM timer is not used' in \
            m.serial_text(), m.tail()
        assert ticks_by_interrupt(m) == 'tsc'
        uptime_follows_host(m)


def test_smp2_boots_with_interrupts():
    with boot('smp2') as m:
        running(m, 'apic', 'timer')
        ticks_by_interrupt(m)


def test_bigmem_boots_with_interrupts():
    with boot('bigmem') as m:
        running(m, 'apic', 'timer')
        ticks_by_interrupt(m)
