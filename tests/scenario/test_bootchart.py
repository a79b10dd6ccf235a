"""The boot chart: the shell's `bootchart` shows when each module loaded
and started, between the boot's milestones, and tools/bootchart (make
bootchart) draws the same numbers as an SVG with a row per module."""

import os
import re
import subprocess
import xml.dom.minidom

from pbtest import Machine, PROMPT, ROOT, workdir


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
    for name, state, load_at, load, start_at, start in rows:
        load_at, load, start_at, start = (int(x) for x in
                                          (load_at, load, start_at, start))
        assert marks['hub'] <= load_at, name
        if name in running:
            assert start_at >= load_at + load, name
            assert start_at + start <= marks['prompt'], name
    # The text chart has the same rows, each with its timeline.
    for name in names:
        assert re.search(r'^%s\s+[\d.]+\s+[\d.]+\s+[\d.-]+\s+[\d.]+\s+\|'
                         r'[ =#]+\|$' % re.escape(name), text, re.M), text
    # tools/bootchart draws them: one labelled row per module.
    raw_file = os.path.join(workdir(), 'bootchart.raw')
    svg_file = os.path.join(workdir(), 'bootchart.svg')
    with open(raw_file, 'w') as f:
        f.write(raw)
    subprocess.run([os.path.join(ROOT, 'tools', 'bootchart'), '--from',
                    raw_file, '--out', svg_file], check=True,
                   stdout=subprocess.DEVNULL)
    doc = xml.dom.minidom.parse(svg_file)
    labels = {t.firstChild.data for t in doc.getElementsByTagName('text')
              if t.getAttribute('x') == '10' and t.firstChild}
    assert names <= labels, (names, labels)
