"""The boot chart: the shell's `bootchart` shows when each module loaded
and started, when a driver was bound to its device and when a module was
swapped in as a new provider, between the boot's milestones; tools/bootchart
(make bootchart) draws the same numbers as an SVG with a row per module."""

import os
import re
import subprocess
import xml.dom.minidom

from pbtest import Machine, PROMPT, ROOT, test_id, workdir


def ms(ns):
    """As the shell prints it: ms with one decimal, truncated."""
    return '%d.%d' % (ns // 1000000, ns // 100000 % 10)


def svg_rows(path):
    """{module: its row's <g>} of an SVG tools/bootchart drew."""
    doc = xml.dom.minidom.parse(path)
    rows = {}
    for g in doc.getElementsByTagName('g'):
        if g.getAttribute('class') != 'row':
            continue
        name = g.getElementsByTagName('text')[0].firstChild.data
        assert name not in rows, 'two rows for %s' % name
        rows[name] = g
    return rows


def marked(g, tag, cls):
    return [e for e in g.getElementsByTagName(tag)
            if e.getAttribute('class') == cls]


def test_bootchart_rows_and_svg():
    with Machine('default', timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        raw = m.cmd('bootchart -r', 30)
        text = m.cmd('bootchart', 30)
        mods_out = m.cmd('mods', 30)
    marks = dict((n, int(t)) for n, t in
                 re.findall(r'^mark (\S+) (\d+)$', raw, re.M))
    rows = re.findall(r'^mod (\S+) (\S+) (\d+) (\d+) (\d+) (\d+)$', raw, re.M)
    # The milestones, in the order a boot passes them.
    assert list(marks) == ['hub', 'takeover', 'boot-done', 'prompt'], marks
    assert (marks['hub'] < marks['takeover'] < marks['boot-done'] <=
            marks['prompt']), marks
    # Every module that runs has a row, started after it loaded and ready
    # before the prompt (the boot resolves before the shell prompts).
    running = set(re.findall(r'^(\S+)\s+\S+\s+running\b', mods_out, re.M))
    names = {r[0] for r in rows}
    assert running and running <= names, (running, names)
    mods = {}
    for name, state, load_at, load, start_at, start in rows:
        load_at, load, start_at, start = (int(x) for x in
                                          (load_at, load, start_at, start))
        mods[name] = (load_at, load, start_at, start)
        assert marks['hub'] <= load_at, name
        if name in running:
            assert start_at >= load_at + load, name
            assert start_at + start <= marks['prompt'], name
    # Binds and swaps: an ev line right after its module's mod line.
    ev = dict((n, (int(b), int(s), int(t))) for n, b, s, t in
              re.findall(r'^ev (\S+) (\d+) (\d+) (\d+)$', raw, re.M))
    assert re.findall(r'^mod (\S+) .*\nev (\S+) ', raw, re.M) == \
        [(n, n) for n in ev if n in names] and set(ev) <= names, raw
    # ahci is bound to its pci function once loaded, before its start
    # runs (the start finds the device connected); it swapped nothing in.
    load_at, load, start_at, start = mods['ahci']
    bound, swap_at, _ = ev['ahci']
    assert load_at + load <= bound <= start_at, (mods['ahci'], ev['ahci'])
    assert swap_at == 0, ev['ahci']
    # bochs-display, bound to its pci function, is swapped in for gop-fb
    # once its standby start is done, before the prompt; the takeover's
    # new providers (fbcon for the console, serial for the keyboard) are
    # blacked out across the firmware's exit, the takeover mark.  The old
    # providers took part only as the ones swapped out: no swap of theirs.
    bound, swap_at, took = ev['bochs-display']
    load_at, load, start_at, start = mods['bochs-display']
    assert load_at + load <= bound <= start_at, ev['bochs-display']
    assert start_at + start <= swap_at and took > 0 and \
        swap_at + took <= marks['prompt'], (mods['bochs-display'], ev)
    for name in ('fbcon', 'serial'):
        _, swap_at, took = ev[name]
        assert swap_at < marks['takeover'] < swap_at + took, (name, ev, marks)
    for name in ('gop-fb', 'efi-console', 'acpi', 'pci'):
        assert ev.get(name, (0, 0, 0))[1:] == (0, 0), (name, ev)
    # The text chart has the same rows, each with its timeline and its
    # BOUND column; a swap's line follows its row.
    for name in names:
        bound, swap_at, took = ev.get(name, (0, 0, 0))
        row = re.search(r'^%s\s+[\d.]+\s+[\d.]+\s+[\d.-]+\s+[\d.]+\s+(\S+)\s+'
                        r'\|([ =#bS]+)\|$' % re.escape(name), text, re.M)
        assert row, (name, text)
        assert row.group(1) == (ms(bound) if bound else '-'), (name, text)
        swapped = re.match(r'\n\s+swapped in at ([\d.]+) ms, blackout (\d+) '
                           r'us$', text[row.end():row.end() + 80], re.M)
        if swap_at:
            assert swapped and swapped.groups() == (ms(swap_at),
                                                    str(took // 1000)), \
                (name, text)
            assert 'S' in row.group(2), (name, text)
        else:
            assert not swapped and 'S' not in row.group(2), (name, text)
    assert 'b' in re.search(r'^ahci .*$', text, re.M).group(0), text
    # tools/bootchart draws them: one labelled row per module.
    raw_file = os.path.join(workdir(), 'bootchart.raw')
    svg_file = os.path.join(workdir(), 'bootchart.svg')
    with open(raw_file, 'w') as f:
        f.write(raw)
    subprocess.run([os.path.join(ROOT, 'tools', 'bootchart'), '--from',
                    raw_file, '--out', svg_file], check=True,
                   stdout=subprocess.DEVNULL)
    drawn = svg_rows(svg_file)
    assert set(drawn) == names, (names, set(drawn))
    for name, g in drawn.items():
        bound, swap_at, took = ev.get(name, (0, 0, 0))
        assert len(marked(g, 'rect', 'load')) == 1, name
        assert len(marked(g, 'path', 'bind')) == (1 if bound else 0), name
        spans = marked(g, 'rect', 'swap')
        assert len(spans) == (1 if swap_at else 0), name
        if swap_at:
            title = spans[0].getElementsByTagName('title')[0].firstChild.data
            assert 'blackout %d us' % (took // 1000) in title, title


def test_make_bootchart():
    """`make bootchart` itself: it boots the default machine and writes
    build/bootchart.svg, a row for each module the boot loaded (those of
    another default boot: the same modules load every time), with the
    binds and swaps marked."""
    with Machine('default', timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        raw = m.cmd('bootchart -r', 30)
        m.sendline('poweroff')
        m.wait_exit(60)
    names = set(re.findall(r'^mod (\S+) ', raw, re.M))
    svg_file = os.path.join(ROOT, 'build', 'bootchart.svg')
    if os.path.exists(svg_file):
        os.unlink(svg_file)
    env = dict(os.environ, PB_TEST_ID=test_id() + '.make')
    done = subprocess.run(['make', '-s', 'bootchart'], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:]
    assert re.search(r'^bootchart: %d modules, prompt at [\d.]+ ms; wrote '
                     r'build/bootchart.svg$' % len(names), done.stdout,
                     re.M), done.stdout[-3000:]
    drawn = svg_rows(svg_file)      # parses as XML, one row per module
    assert set(drawn) == names, (names, set(drawn))
    assert marked(drawn['ahci'], 'path', 'bind'), 'no bind mark for ahci'
    for name in ('bochs-display', 'fbcon', 'serial'):
        assert marked(drawn[name], 'rect', 'swap'), 'no swap for ' + name
    assert not marked(drawn['gop-fb'], 'rect', 'swap'), 'gop-fb swapped in'
