"""The hub with the test modules of tests/mods: the resolver's order, the
takeover as a swap, swaps on demand with state carried and rollback, the
ledger after unload, gc, refusal of a broken module, and a faulting module
that the hub survives."""

import re

from pbtest import Machine
from images import custom_image

TEST_MODS = ['tfw', 'tser', 'tbuf', 'tbad', 'tos', 'tleaf', 'tdiet']


def run(cfg, mods=TEST_MODS, broken=(), timeout=150):
    img = custom_image('hub', ['target=testos'] + cfg, mods=mods, broken=broken)
    with Machine('default', image=img, timeout=timeout) as m:
        m.expect(r'powering off', timeout - 20)
        assert m.wait_exit(30) == 0
        return m.serial_text()


def lines_with(text, word):
    return [l for l in text.split('\n') if word in l]


def test_resolve_takeover_and_swaps():
    text = run(['exec=swap tcon tbuf', 'exec=swap tcon tser',
                'exec=swap tcon tbad', 'tdiet=res,mods', 'exec=load tdiet',
                'poweroff'],
               broken=['wx_section'])
    # The firmware phase resolves os on the firmware-backed tcon.
    assert re.search(r'resolved testos: tfw tos', text), text
    assert '[tfw] tos: hello via tcon:tfw0' in text
    # The broken module is refused with its reason; the boot goes on.
    assert re.search(r'error: \\patchbay\\mods\\broken-wx_section\.mod: '
                     r'refused: writable code section', text), text
    # The takeover swaps tfw for tser; the line count carries over.
    assert re.search(r'tfw -> tser for tcon: blackout \d+ us', text), text
    assert '[tser] took over with 1 lines written' in text
    assert '[tser] tos: rebound #1 via tcon:tser0' in text
    # On demand: to tbuf and back, state carried each time (each console
    # counts its own two lines, "took over" and the rebound notice, too).
    assert '[tbuf] took over with 3 lines written' in text
    assert '[tbuf] tos: rebound #2 via tcon:tbuf0' in text
    assert '[tser] took over with 5 lines written' in text
    assert '[tser] tos: rebound #3 via tcon:tser0' in text
    # A failing import rolls back: tser keeps the client.
    assert re.search(r'error: swap tcon: tbad cannot import the state '
                     r'\(-8\); nothing changed', text), text
    assert re.search(r'\] tdiet:   tcon:tser0 port=0x3f8 \(1 client\)\n',
                     text), text
    assert 'rebound #4' not in text
    # The firmware-backed module is gone after the takeover.
    assert re.search(r'tfw unloaded; ledger empty', text), text


def test_ledger_unload_and_gc():
    # tdiet logs `mem` as it starts: loaded for each count, so each
    # counts it the same.
    mem = ['exec=load tdiet', 'exec=unload tdiet']
    text = run(['tdiet=mem'] + mem + ['exec=load tleaf'] + mem +
               ['exec=unload tleaf'] + mem + ['exec=load tleaf', 'exec=gc'] +
               mem + ['poweroff=1500'])
    free = [(int(k), int(v)) for k, v in
            re.findall(r'free: (\d+) KiB, (\d+) vectors', text)]
    assert len(free) == 4, free
    before, loaded, after, after_gc = free
    assert loaded[0] < before[0] and loaded[1] < before[1], free
    assert after == before, 'unload left residue: %s' % (free,)
    assert after_gc == before, 'gc left residue: %s' % (free,)
    assert 'tleaf: holding 16+3 pages' in text
    assert re.search(r'tleaf unloaded; ledger empty', text), text
    assert re.search(r'gc: [1-9]\d* modules unloaded', text), text
    # The timer of the unloaded tleaf never fires (poweroff waits 1.5 s).
    assert 'timer of an unloaded module ran' not in text


def test_unload_in_use_refused():
    text = run(['exec=unload tser', 'exec=load nosuch', 'exec=frobnicate',
                'poweroff'])
    assert re.search(r'error: unload tser: tser is in use by tos', text), text
    assert re.search(r'error: load nosuch: no such module', text), text
    assert re.search(r'error: unknown command or bad arguments: frobnicate',
                     text), text


def test_fault_restart_and_give_up():
    text = run(['exec=load tfault', 'poweroff=3000'],
               mods=TEST_MODS + ['tfault'])
    faults = lines_with(text, 'tfault faulted: vector 14')
    assert len(faults) == 3, text
    assert len(lines_with(text, 'tfault: restarting from its image')) == 2
    assert 'tfault: faulted 3 times, not restarted' in text
    # The rest of the system lives on: the delayed poweroff still runs.
    assert 'powering off' in text


def test_bind_rule_loads_driver():
    """A resource whose properties match a bind rule loads the module for
    it (supply-driven loading), connected to that resource."""
    text = run(['exec=load tleaf', 'exec=unload tleaf', 'tdiet=deps',
                'exec=load tdiet', 'poweroff'], mods=TEST_MODS + ['tbind'])
    assert re.search(r'tbind binds to tleaf:leaf0', text), text
    assert 'tbind: started for tleaf:leaf0' in text
    # tleaf now has a client: unloading it is refused, naming it.
    assert 'error: unload tleaf: tleaf is in use by tbind' in text
    # The dependency tree from the target (abi/rt/inventory.c).
    assert re.search(r'\] tdiet: testos: tos\n', text), text
    assert re.search(r'\] tdiet:   tcon -> tcon:tser0 \(tser\)\n', text), text


def test_watchdog_stops_a_hung_module():
    """A work item that never returns is ended by the watchdog at the
    timer's next interrupt, blamed on its module, restarted twice and then
    given up; the rest of the system lives on."""
    text = run(['watchdog=400', 'exec=load thang', 'poweroff=6000'],
               mods=TEST_MODS + ['thang'])
    hangs = lines_with(text, 'thang hung at rip')
    assert len(hangs) == 3, text
    assert len(lines_with(text, 'watchdog: thang has not returned')) == 3
    assert len(lines_with(text, 'thang: restarting from its image')) == 2
    assert 'thang: faulted 3 times, not restarted' in text
    assert 'powering off' in text


def test_watchdog_stops_a_module_hung_in_start():
    """A start() that never returns is ended the same way: the module is
    blamed, restarted twice, given up, and the exec lines after it run."""
    text = run(['watchdog=400', 'thang=start', 'exec=load thang',
                'exec=load tleaf', 'poweroff'],
               mods=TEST_MODS + ['thang'])
    assert len(lines_with(text, 'watchdog: thang has not returned')) == 3, text
    assert len(lines_with(text, 'thang hung at rip')) == 3
    assert len(lines_with(text, 'thang: restarting from its image')) == 2
    assert 'thang: faulted 3 times, not restarted' in text
    # The command after it ran: its result, not the line announcing it.
    assert re.search(r'tleaf started \(load\+start \d+ us\)', text), text
    assert 'powering off' in text


def crash_run(cls, where='work', extra=()):
    cfg = ['tcrash=' + cls, 'exec=load tcrash', 'poweroff=3000'] + \
        list(extra)
    if where == 'start':
        cfg.insert(1, 'tcrash-in=start')
    return run(cfg, mods=TEST_MODS + ['tcrash'])


def check_charged(text, pattern):
    """tcrash faulted three times with pattern on each line, was restarted
    twice and left stopped; the rest of the system lives on."""
    faults = lines_with(text, 'tcrash faulted: vector')
    assert len(faults) == 3, text
    for line in faults:
        assert re.search(pattern, line), line
    assert len(lines_with(text, 'tcrash: restarting from its image')) == 2
    assert 'tcrash: faulted 3 times, not restarted' in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_fault_null_call_charged_to_its_module():
    """A call through NULL runs no module code, yet it is the module's."""
    check_charged(crash_run('null'),
                  r'vector 14 at rip 0x0 .*\(at no code, during its call\)')


def test_fault_wild_jump_charged_to_its_module():
    check_charged(crash_run('wild'),
                  r'vector 14 at rip 0x414141414000 .*\(at no code')


def test_fault_bad_return_charged_to_its_module():
    check_charged(crash_run('ret', 'start'),
                  r'vector 14 at rip 0x424242424000 .*\(at no code')


def test_fault_inside_a_hub_service_charged_to_its_module():
    """The hub faults writing through a pointer the module handed it (its
    own code, read-only): the module's call is innermost, so the module
    is charged.  With isolation off: with it on, the hub writes no output
    the module could not write itself, and refuses (next test)."""
    check_charged(crash_run('svc', extra=['isolate=no']),
                  r'vector 14 at rip 0x[0-9a-f]+ .*\(in the hub, during '
                  r'its call\)')


def test_service_output_into_module_code_refused():
    """With isolation on, the same output pointer (the module's code) is
    refused before the hub writes: one error line, no fault."""
    text = crash_run('svc')
    assert 'error: tcrash: alloc_pages: bad phys pointer' in text, text
    assert 'tcrash faulted' not in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_fault_stack_overflow_charged_to_its_module():
    """Endless recursion reaches the guard page under the stack; the page
    fault runs on its own stack and is charged to the module."""
    text = crash_run('stack')
    assert 'guard page at its bottom' in text, text
    check_charged(text, r'vector 14 .*: stack overflow$')


def test_bad_service_argument_refused_not_fatal():
    text = crash_run('badarg')
    assert 'tcrash: log: bad message 0x10' in text, text
    assert 'tcrash: still running after badarg' in text
    assert 'tcrash faulted' not in text
    assert 'powering off' in text
