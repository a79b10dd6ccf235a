"""Protection domains: a module cannot write its own code or run its own
data, from its first instruction, in the firmware phase (the firmware's
page tables, edited by the hub) and after the takeover (the hub's); with
isolation on, it cannot write the hub's memory.  Each forbidden access
faults, is charged to tdomain (three times: restarted twice, then left
stopped) and the system goes on."""

import re

from pbtest import Machine, cpu_with
from images import custom_image

TEST_MODS = ['tfw', 'tser', 'tbuf', 'tbad', 'tos', 'tleaf', 'tdomain',
             'tdomainp']


def run(cfg, timeout=150, extra=None):
    img = custom_image('domain', ['target=testos'] + cfg, mods=TEST_MODS)
    with Machine('default', image=img, timeout=timeout, extra=extra) as m:
        m.expect(r'powering off', timeout - 20)
        assert m.wait_exit(30) == 0
        return m.serial_text()


def domain_run(what, phase, extra=None):
    cfg = ['tdomain=' + what, 'exec=load tdomain', 'poweroff=3000']
    if phase == 'firmware':
        cfg.insert(0, 'takeover=no')
    text = run(cfg, extra=extra)
    if phase == 'firmware':
        assert 'takeover=no: staying in the firmware phase' in text, text
        assert 'paging: W^X in the firmware\'s tables' in text, text
    else:
        assert 'takeover=no' not in text
    return text


def check_stopped(text, verb, what, fetch):
    """tdomain announced the address, faulted on exactly it (a write, or
    an instruction fetch at it) three times, and never got past it."""
    m = re.search(r'%s %s at (0x[0-9a-f]+)' % (verb, what), text)
    assert m, text
    addr = int(m.group(1), 16)
    faults = re.findall(r'tdomain faulted: vector 14 at rip (0x[0-9a-f]+) '
                        r'addr (0x[0-9a-f]+)', text)
    assert len(faults) == 3, text
    for rip, cr2 in faults:
        assert int(cr2, 16) == addr, (cr2, addr)
        if fetch:
            assert int(rip, 16) == addr, (rip, addr)
    how = 'read, supervisor, instruction fetch' if fetch else 'write'
    assert re.search(r'cr2 0x0*%x: protection, %s' % (addr, how), text), text
    assert 'tdomain: faulted 3 times, not restarted' in text
    assert ('wrote ' + what) not in text and ('ran ' + what) not in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_domain_code_not_writable_in_firmware_phase():
    check_stopped(domain_run('code', 'firmware'), 'writing', 'my code', False)


def test_domain_data_not_executable_in_firmware_phase():
    check_stopped(domain_run('data', 'firmware'), 'running', 'my data', True)


def test_domain_heap_not_executable_in_firmware_phase():
    check_stopped(domain_run('heap', 'firmware'), 'running', 'my heap', True)


def test_domain_code_not_writable_after_takeover():
    check_stopped(domain_run('code', 'native'), 'writing', 'my code', False)


def test_domain_data_not_executable_after_takeover():
    check_stopped(domain_run('data', 'native'), 'running', 'my data', True)


def test_domain_hub_memory_read_only_to_modules():
    """With isolation on (the default), the hub's memory is read-only
    while a module runs: its write to its own module record faults."""
    text = domain_run('hub', 'native', extra=cpu_with('pks=on'))
    assert 'domains: on (supervisor protection keys)' in text, text
    check_stopped(text, 'writing', "the hub's memory", False)
    assert re.search(r'cr2 0x[0-9a-f]+: protection, write, supervisor',
                     text), text


def test_domain_hub_s_own_ops_leave_the_module_its_rights():
    """An op of the hub's own resource (log:hub's watch, which writes the
    hub's memory) runs as a service does, in the hub's domain, and the
    module's rights come back with its return: tdomain's write into the
    hub's memory right after faults.  Before, the op's write took the
    hub's domain for the rest of tdomain's call, and the write went
    through."""
    for pks in ('on', 'off'):
        text = domain_run('log', 'native', extra=cpu_with('pks=' + pks))
        assert re.search(r'tdomain: watching the log: 0\b', text), text
        check_stopped(text, 'writing', "the hub's memory", False)


def test_domain_hub_stack_out_of_a_module_s_reach():
    """A module writing up its stack from its own frame (a runaway copy)
    meets the guard page over the modules' half of the stack, not the
    hub's frames: the fault is charged to it, three times, and the hub
    goes on.  With the hub's frames above the module's on one stack, the
    same writes went through ('wrote the stack') and the hub returned
    into them."""
    text = domain_run('stack', 'native')
    top = re.search(r'stacks: modules run on 0x[0-9a-f]+-(0x[0-9a-f]+), '
                    r'the hub on (0x[0-9a-f]+)-', text)
    assert top, text
    assert int(top.group(2), 16) == int(top.group(1), 16) + 4096
    faults = re.findall(r'tdomain faulted: vector 14 at rip 0x[0-9a-f]+ '
                        r'addr (0x[0-9a-f]+): a write past the top of its '
                        r'stack', text)
    assert faults and all(int(a, 16) == int(top.group(1), 16)
                          for a in faults), text
    assert len(faults) == 3, text
    assert 'tdomain: faulted 3 times, not restarted' in text
    assert 'tdomain: wrote the stack' not in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_domain_services_write_no_output_a_module_could_not():
    """A service that writes its answer through a module's pointer, in
    the hub's domain, writes only where the module could itself: asked to
    write into the hub's memory, hub_info and alloc_pages refuse with one
    error line each, as do the ops of log:hub and the ramdisk, and the
    module goes on (no fault is charged)."""
    text = domain_run('deputy', 'native')
    m = re.search(r"tdomain: hub_info into the hub's memory at "
                  r"(0x[0-9a-f]+): (-?\d+)", text)
    assert m and int(m.group(2)) == -11, text
    assert re.search(r'error: tdomain: inventory: bad output (0x[0-9a-f]+)',
                     text), text
    assert 'error: tdomain: alloc_pages: bad phys pointer' in text, text
    assert 'tdomain: alloc_pages with its phys there: NULL' in text, text
    # The ops of the hub's own resources run in the hub's domain too.
    assert 'error: tdomain: log:hub: bad output' in text, text
    assert "tdomain: log:hub read into the hub's memory: -11" in text, text
    assert 'error: tdomain: ramdisk: bad output' in text, text
    assert "tdomain: ramdisk read into the hub's memory: -11" in text, text
    assert 'tdomain faulted' not in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_domain_log_reader_keeps_its_lines_and_its_place():
    """log:hub's take and watch(NULL) are its reader's own: tdomain,
    loaded from the shell (the log's reader), can neither take the
    shell's next line nor give the log back for it (-4, PB_EBUSY); and
    the hub's own ops write no output it could not (-11)."""
    img = custom_image('domain_reader', ['target=os', 'tdomain=deputy'],
                       mods=TEST_MODS)
    with Machine('default', image=img, timeout=300) as m:
        m.expect(r'^patchbay> ', 150)
        m.cmd('load tdomain', 60)
        text = m.serial_text()
        assert "tdomain: log:hub take of the reader's line: -4" in text, text
        assert ("tdomain: log:hub watch(NULL) of the reader's watch: -4"
                in text), text
        assert "tdomain: log:hub read into the hub's memory: -11" in text
        assert "tdomain: ramdisk read into the hub's memory: -11" in text
        assert 'tdomain faulted' not in text
        assert 'hub: fatal' not in text
        m.sendline('poweroff')
        assert m.wait_exit(60) == 0


WP_ON = ("domains: on (page protection, CR0.WP; no supervisor protection "
         "keys): the hub's memory is read-only to modules")


def test_domain_without_pks_hub_memory_read_only_to_modules():
    """On a CPU without PKS the hub's pages lose their write bit and
    modules run with CR0.WP set: the same write into the hub's memory
    faults, is charged to tdomain, and the hub goes on."""
    text = domain_run('hub', 'native', extra=cpu_with('pks=off'))
    assert WP_ON in text, text
    check_stopped(text, 'writing', "the hub's memory", False)
    assert re.search(r'cr2 0x[0-9a-f]+: protection, write, supervisor',
                     text), text


def test_domain_without_pks_code_not_writable():
    """W^X still holds for a module's own code without PKS."""
    text = domain_run('code', 'native', extra=cpu_with('pks=off'))
    assert WP_ON in text, text
    check_stopped(text, 'writing', 'my code', False)


def test_domain_without_pks_hub_stack_out_of_a_module_s_reach():
    """The hub's half of the stack is the hub's memory: without PKS too,
    a module writing up its stack meets the guard page and is charged."""
    text = domain_run('stack', 'native', extra=cpu_with('pks=off'))
    assert WP_ON in text, text
    assert len(re.findall(r'tdomain faulted: vector 14 at rip 0x[0-9a-f]+ '
                          r'addr 0x[0-9a-f]+: a write past the top of its '
                          r'stack', text)) == 3, text
    assert 'tdomain: wrote the stack' not in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_domain_without_pks_services_write_no_output_a_module_could_not():
    """The services' output check is the keys' rule, CR0.WP or not."""
    text = domain_run('deputy', 'native', extra=cpu_with('pks=off'))
    assert WP_ON in text, text
    assert 'error: tdomain: alloc_pages: bad phys pointer' in text, text
    assert re.search(r"tdomain: hub_info into the hub's memory at "
                     r"0x[0-9a-f]+: -11", text), text
    assert 'tdomain faulted' not in text
    assert 'hub: fatal' not in text


def test_domain_isolate_wp_chooses_page_protection():
    """isolate=wp takes the CR0.WP domains on a CPU with PKS too (for
    comparison), with the same effect on a write into the hub."""
    text = run(['isolate=wp', 'tdomain=hub', 'exec=load tdomain',
                'poweroff=3000'])
    assert ('domains: on (page protection, CR0.WP; isolate=wp): the hub\'s '
            'memory is read-only to modules') in text, text
    check_stopped(text, 'writing', "the hub's memory", False)


def test_domain_isolate_unknown_value_is_an_error():
    """A misspelt isolate= is one error line, and isolation stays on."""
    text = run(['isolate=off', 'tdomain=hub', 'exec=load tdomain',
                'poweroff=3000'], extra=cpu_with('pks=on'))
    assert ('error: boot.cfg: isolate=off is not yes, no, hub or wp: '
            'isolation stays on') in text, text
    assert 'domains: on (supervisor protection keys)' in text, text
    check_stopped(text, 'writing', "the hub's memory", False)


def test_domain_isolate_no_lets_modules_write_the_hub():
    """isolate=no turns domains off: the same write goes through."""
    text = run(['isolate=no', 'tdomain=hub', 'exec=load tdomain',
                'poweroff=3000'])
    assert 'domains: off (isolate=no)' in text, text
    assert "wrote the hub's memory" in text, text
    assert 'tdomain faulted' not in text
    assert 'powering off' in text


def peer_run(cfg):
    return run(cfg + ['tdomain=peer', 'exec=load tdomainp',
                      'exec=load tdomain', 'poweroff=3000'])


def test_domain_provider_fault_charged_to_the_provider():
    """tdomain calls tdomainp through a connection; tdomainp jumps to
    NULL.  The gate's guard is innermost, so the provider is charged and
    restarted, and the client's call returns PB_EFAULT (-11) and it goes
    on; called again before it is restarted, the gate returns PB_EFAULT
    at once.  Five arguments reach the provider through the gate intact."""
    text = peer_run([])
    assert 'tdomain: provider adds 1..5: 15' in text, text
    assert re.search(r'tdomainp faulted: vector 14 at rip 0x0 .*\(at no '
                     r'code, during its call\)', text), text
    assert 'tdomain: provider call returned -11' in text, text
    # Called again before its recovery (when tdomain's start ends), the
    # faulted provider is not entered: it would fault for ever (seed 2003
    # default 86: the hub's log writing through a faulted serial).
    assert 'tdomain: provider called again before its recovery: -11' in text
    assert text.count('tdomainp: crashing for my client') == 1, text
    assert 'tdomain: still running' in text
    assert 'tdomain faulted' not in text
    assert 'tdomainp: restarting from its image' in text
    assert 'hub: fatal' not in text
    assert 'powering off' in text


def test_domain_isolate_no_charges_the_client():
    """Without gates (isolate=no) the same fault is charged to the client,
    whose guarded call is innermost: what the gates are for."""
    text = peer_run(['isolate=no'])
    assert 'tdomain: provider adds 1..5: 15' in text, text
    assert re.search(r'tdomain faulted: vector 14 at rip 0x0 ', text), text
    assert 'tdomainp faulted' not in text
    assert 'tdomain: still running' not in text
    assert 'powering off' in text
