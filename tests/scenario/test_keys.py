"""Protection keys per module (hub/x86_64/domain.c, hub/keys.c), on a
CPU with PKS (asked of QEMU whatever PB_CPU says): each
module runs with only its own memory (and the shared key's) writable.
tkeysc cannot write tkeysp's data: the write faults, is charged to tkeysc
(restarted twice, then stopped) and tkeysp's data stays as it was.  A
provider may write the request its client handed it (the page is granted
on its first write) but not the client's other memory: that write is
charged to the provider and the client's call returns PB_EFAULT."""

import re

from pbtest import Machine, cpu_with
from images import custom_image

TEST_MODS = ['tfw', 'tser', 'tbuf', 'tbad', 'tos', 'tleaf', 'tkeysp',
             'tkeysc']


def run(what, extra=(), timeout=150, pks='on'):
    cfg = ['target=testos', 'tkeys=' + what, 'exec=load tkeysp',
           'exec=load tkeysc', 'poweroff=3000'] + list(extra)
    img = custom_image('keys', cfg, mods=TEST_MODS)
    with Machine('default', image=img, timeout=timeout,
                 extra=cpu_with('pks=' + pks)) as m:
        m.expect(r'powering off', timeout - 20)
        assert m.wait_exit(30) == 0
        text = m.serial_text()
    assert 'hub: fatal' not in text
    return text


def key_of(text, name):
    m = re.search(r'%s: protection key (\d+)' % name, text)
    assert m, text
    return int(m.group(1))


def test_keys_client_and_provider_get_keys_of_their_own():
    text = run('none')
    assert 'domains: on (supervisor protection keys)' in text, text
    kp, kc = key_of(text, 'tkeysp'), key_of(text, 'tkeysc')
    assert 1 <= kp <= 14 and 1 <= kc <= 14 and kp != kc, (kp, kc)


def test_keys_module_cannot_write_another_modules_data():
    text = run('peer')
    m = re.search(r"writing tkeysp's data at (0x[0-9a-f]+)", text)
    assert m, text
    addr = int(m.group(1), 16)
    faults = re.findall(r'tkeysc faulted: vector 14 at rip 0x[0-9a-f]+ '
                        r'addr (0x[0-9a-f]+)', text)
    assert len(faults) == 3, text
    assert all(int(a, 16) == addr for a in faults), (faults, addr)
    assert re.search(r'cr2 0x0*%x: protection, write' % addr, text), text
    assert 'tkeysc: faulted 3 times, not restarted' in text, text
    assert "wrote tkeysp's data" not in text
    assert 'tkeysp faulted' not in text
    # tkeysp's data is intact each time its client goes.
    seen = re.findall(r'tkeysp: a client went; my data (0x[0-9a-f]+)', text)
    assert seen and all(s == '0x5eed' for s in seen), (seen, text)
    assert 'powering off' in text


def test_keys_isolate_no_lets_a_module_write_another():
    """With isolate=no the same write goes through: what keys stop."""
    text = run('peer', ['isolate=no'])
    assert "wrote tkeysp's data" in text, text
    assert 'tkeysc faulted' not in text


def test_keys_isolate_hub_shares_one_key_between_modules():
    """isolate=hub keeps the hub's memory from modules but gives them one
    key (the cheaper level): the same write goes through."""
    text = run('peer', ['isolate=hub'])
    assert 'which share one key (isolate=hub)' in text, text
    assert not re.search(r': protection key \d', text), text
    assert "wrote tkeysp's data" in text, text
    assert 'tkeysc faulted' not in text


def test_keys_without_pks_modules_share_one_domain():
    """Without PKS (many PCs) domains keep only the hub's memory from
    modules (CR0.WP, hub/x86_64/domain.c): the same write goes through,
    as with isolate=hub, and the boot line says so."""
    text = run('peer', pks='off')
    assert ("domains: on (page protection, CR0.WP; no supervisor "
            "protection keys): the hub's memory is read-only to modules, "
            "not each module's to the others") in text, text
    assert "wrote tkeysp's data" in text, text
    assert 'tkeysc faulted' not in text


def test_keys_provider_writes_the_request_not_the_clients_other_memory():
    text = run('grant')
    m = re.search(r"tkeysp: wrote the request at (0x[0-9a-f]+); writing "
                  r"the client's other memory at (0x[0-9a-f]+)", text)
    assert m, text
    req, other = int(m.group(1), 16), int(m.group(2), 16)
    # The request's page was granted to the provider on its first write
    # (a line for the ring only: the write landing is what shows it, the
    # status 42 its client reads below).
    assert req & ~4095 != other & ~4095, (hex(req), hex(other))
    # The other memory was not: the write is the provider's fault.
    assert re.search(r'tkeysp faulted: vector 14 at rip 0x[0-9a-f]+ addr '
                     r'0x0*%x' % other, text), text
    assert "wrote the client's other memory" not in text
    assert ('tkeysc: serve returned -11; request status 42; my other '
            'memory 0x1111') in text, text
    assert 'tkeysc faulted' not in text
    assert 'powering off' in text
