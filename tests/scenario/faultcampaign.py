"""faultcampaign: a seeded fault-injection campaign driven from outside the
machine (tests/scenario/test_inject.py in CI, tests/bench/run for the full
one).

Each injection i of seed S: `write NOTE TOKEN` writes a line, which stays
in fat's cache (its next sync is seconds away), then `faultinject pick S i
MODULES...` arms the shell's seeded choice in the hub (hub/inject.c), a key
is pressed on the emulated keyboard (PS/2 or USB: Shift, which types
nothing), `sha256sum FILE` reads a file through fat and the disk driver and
prints through the consoles, `faultinject status` (after a flipped code
bit, once the hub's scrub has had time to find it) disarms it and says
whether it fired, the faults charged since and the target's state, and then
keys are typed on the emulated keyboard: `echo ` on COM1, a token of three
letters on the keyboard and Enter, and the token must come back, whole and
in order, and last NOTE must read back as written (a write fat said was
done and lost with its memory at the fault is a silent corruption). The
token is typed once the injection is disarmed and recovered from: a key
typed into a driver while it dies, or into a USB keyboard that a restarted
xhci resets (QEMU empties the device's queue then, as a real keyboard's
reset does), may be lost, and says nothing about the recovery; a key typed
after it must arrive. Only from outside can a hang (no prompt in time) or a
dead hub (QEMU gone, or the hub's fatal line) be seen; the machine is then
booted again and the campaign goes on with injection i + 1 (a choice
depends only on seed and index, so the sequence is the same).

With `updates` (a share, 0 by default), that share of the injections,
chosen by seed and index, is followed at once by `update MODULE` from the
module's own file: the injection then fires in the new instance, in its
standby start or import (the swap fails and the old instance resumes) or
inside its watch window (the hub gives the clients back to the old
instance, which resumes after the new one drove its device: the ahci bug
the demo found).  The record says `update`.

An injection into a module that draws the screen (fbcon, the display
drivers: SCREEN_MODULES) is judged from the screen too, once the
workload came through intact: a screendump must show, one under another,
the line typed before the injection (`write NOTE TOKEN`, when so little
was printed since that it cannot have scrolled away), the keyboard's
`echo TOKEN` and its output, `cat NOTE` and the note, and the prompt as
the last text drawn.  The serial transcript alone passes a screen left
black, stale or without its text (screentext.py reads the screen).

Outcomes (classify):
  transparent  the workload is intact: the right checksum, no error line,
               the keys typed afterwards echoed (`fault` tells whether a
               fault was caught and recovered, or none showed)
  visible      the workload saw an error, and works again within HEAL_S
               (a note lost after fat said so on the console is one, and
               a screen that does not show the workload's text after an
               injection into a module that draws it)
  stopped      the system is alive, but a module was left stopped, or the
               workload does not work again (the service is lost); the
               machine is booted again for the next injection
  hang         no prompt within the timeout
  hubcrash     the hub itself died (fatal line, or QEMU gone)
  corrupt      the workload finished without an error and a wrong checksum,
               or a note it was told was written reads back otherwise and
               nothing said it was lost
  notfired     the moment never came (not an injection; not counted)
"""

import hashlib
import itertools
import os
import random
import re
import time

from pbtest import Machine, PROMPT, ROOT, TestFailure, read_ppm
from screentext import blank_row, console_scale, font, rows_in_order, \
    rows_showing, screen_lines

OUTCOMES = ['transparent', 'visible', 'stopped', 'hang', 'hubcrash',
            'corrupt']
FILE = '/esp/patchbay/mods/shell.mod'
NOTE = '/esp/campaign.txt'
HEAL_S = 8          # how long a service may take to come back
FILE_LOCAL = os.path.join(ROOT, 'build', 'esp', 'patchbay', 'mods',
                          'shell.mod')
DRIVERS = {
    'default': ['ahci', 'fat', 'fbcon', 'bochs-display', 'serial', 'ps2'],
    'usb': ['xhci', 'usb-kbd', 'usb-storage', 'fat', 'fbcon',
            'bochs-display', 'serial', 'ps2'],
    'usbonly': ['xhci', 'usb-kbd', 'usb-storage', 'fat', 'fbcon',
                'bochs-display', 'serial'],
}
KEYS = {'default': 'shift', 'usb': 'shift', 'usbonly': 'shift'}
KEYS_S = 10         # how long typed keys may take to come back
SCRUB_S = 1.5       # a flipped code bit that never faults is found by the
                    # hub's scrub, every module's code about once a second
                    # (hub/scrub.c): its recovery is this injection's
# Modules that draw the screen or the text on it (the console, the display
# drivers): their injections are judged from a screendump too.
SCREEN_MODULES = ('fbcon', 'bochs-display', 'gop-fb')
SCREEN_S = 3        # fbcon's frame for the last line may come after the
                    # prompt reached COM1
MOMENTS = ['entry', 'work', 'irq']            # mods/shell/faultinject.c
TYPES = ['stray', 'pointer', 'null', 'wild', 'regbit', 'codebit', 'loop',
         'loopheld', 'retcode', 'svcarg', 'skip', 'slot']
RUNNING = re.compile(r'faultinject: (\d+) modules running')
STATUS = re.compile(r'inject: (armed|fired|none) (\S+) (\d):(\d+):0x[0-9a-f]+ '
                    r'faults=(\d+) total=(\d+) state=(\S+)')


def classify(fired, faults, stopped, workload):
    """The outcome of one injection: fired (bool), faults (charged since it
    was armed), stopped (a module that ran before is not running now),
    workload ('ok', 'error' or 'mismatch')."""
    if not fired:
        return 'notfired'
    if workload == 'mismatch':
        return 'corrupt'
    if stopped:
        return 'stopped'
    if workload == 'error':
        return 'visible'
    return 'transparent'


def judge_sum(out, sha):
    """'ok', 'error' or 'mismatch' for sha256sum's output (the hub's log
    lines in between, "[  1.234567] error: ...", are not its own)."""
    lines = out.split('\n')
    sums = [l.split()[0] for l in lines if re.match(r'[0-9a-f]{64}  /', l)]
    if shell_error(out) or len(sums) != 1:
        return 'error'
    return 'ok' if sums[0] == sha else 'mismatch'


def judge_screen(w, h, px, lines, scale):
    """None when the screen (w x h, px RGB) shows `lines` in text rows one
    under another, anything drawn in between, and nothing drawn under the
    last; else what it lacks."""
    rows = rows_in_order(w, h, px, lines, scale)
    if rows is None:
        missing = [t for t in lines if not rows_showing(w, h, px, t, scale)]
        return 'no row shows %r' % missing[0] if missing else \
            'the lines are not in order: %r' % lines
    under = [r for r in range(rows[-1] + 1, h // (font().h * scale))
             if not blank_row(px, w, r, scale)]
    if under:
        return 'rows %s under %r are drawn on' % (under, lines[-1])
    return None


# fat's error lines that say written blocks are lost (mods/fat: its disk
# went, or a restart could not take them over): a note that then reads
# back otherwise was lost with a visible error, not silently.
LOST_RX = re.compile(r'error: fat: .*(went with \d+ blocks not written|'
                     r'blocks written before the restart are lost|'
                     r'are not handed over)')


def shell_error(out):
    """Did the shell say a command failed (its own `error:` line, not the
    hub's log lines, which start with their time)?"""
    return any(l.startswith('error:') for l in out.split('\n'))


def token(i, attempt=0):
    """Three letters for injection i (and a retry): consecutive ones
    differ, so an echo left over from one cannot pass for the next."""
    n = i * 7 + attempt * 331
    return ''.join(chr(ord('a') + (n // 26 ** k) % 26) for k in range(3))


def running_modules(mods_output):
    return {l.split()[0] for l in mods_output.split('\n')
            if len(l.split()) > 2 and l.split()[2] == 'running'}


def expected_sha():
    return hashlib.sha256(open(FILE_LOCAL, 'rb').read()).hexdigest()


class Campaign:
    """Injections seed:[first, first + n) on machines of `config`, booted
    from `image` as often as needed; records() and shares() after run()."""

    # A hang is no answer for longer than any bounded wait in the system
    # takes to end in an error (usb-storage: 10 s for a command, 2 s for
    # its cancel; ahci: 10 s; the shell: 30 s for a volume's answer), so
    # a slow error is judged as the error (visible or stopped) it is.
    def __init__(self, config, image, seed, modules=None, timeout=40,
                 name='campaign', log=None, updates=0.0):
        self.config, self.image, self.seed = config, image, seed
        self.updates = updates
        self.modules = modules or DRIVERS[config]
        self.timeout = timeout
        self.name = name
        self.log = log
        self.sha = expected_sha()
        self.records = []
        self.boots = 0
        self.m = None
        self.before = set()
        self.pending = None

    def _boot(self):
        self.close()
        self.boots += 1
        self.m = Machine(self.config, image=self.image, timeout=0,
                         name='%s.%d' % (self.name, self.boots))
        self.m.start()
        self.m.expect(r'^' + re.escape(PROMPT), 150)
        self._census()

    def _census(self):
        self.before = running_modules(self.m.cmd('mods', self.timeout))

    def close(self):
        if self.m:
            self.m.close()
            self.m = None

    def _dead(self):
        """'hubcrash' or 'hang', judged from outside."""
        if not self.m:
            return 'hang'
        text = self.m.serial_text()[-4000:]
        if not self.m.running() or 'hub: fatal' in text or \
                'hub: NMI' in text:
            return 'hubcrash'
        return 'hang'

    def _answers(self, why):
        """Does the shell still answer a command after a wait that failed?
        Then the injection in flight is finished from its status."""
        if not self.m or not self.m.running():
            return False
        try:
            # The line typed so far runs first (it may be half of the
            # workload's, the rest lost with a console that restarted),
            # and the next is typed at its prompt: the shell drops what
            # is typed ahead while a command fails.
            self.m.skip_output()
            self.m.sendline('')
            self.m.expect(r'^' + re.escape(PROMPT), self.timeout)
            out = self.m.cmd('faultinject status', self.timeout)
        except TestFailure:
            return False
        if self.pending:
            self.pending.update(workload='error', why=why[-300:])
            self._finish(out)
        return True

    def _emit(self, rec):
        self.records.append(rec)
        if self.log:
            self.log(rec)

    def _finish(self, out):
        """The armed injection's record, completed from the status in out
        (`faultinject status`, also the start of `pick`'s answer)."""
        rec, self.pending = self.pending, None
        st = STATUS.search(out)
        n = RUNNING.search(out)
        fired = bool(st) and st.group(1) == 'fired'
        if st and not rec.get('module'):
            # Its line was lost (below): what was armed, from the hub.
            rec.update(module=st.group(2), moment=MOMENTS[int(st.group(3))],
                       type=TYPES[int(st.group(4))],
                       param=re.search(r':(0x[0-9a-f]+) ', st.group(0))
                       .group(1))
        stopped = []
        if n and int(n.group(1)) < len(self.before):
            stopped = sorted(self.before - running_modules(
                self.m.cmd('mods', self.timeout)))
            # Started again by hand for the next injections (the stop is
            # counted); what cannot start stays out.
            for name in stopped:
                self.m.cmd('load ' + name, self.timeout)
            self._census()
        healed = rec['workload'] != 'error' or self._heal(rec['index'])
        rec.update(fired=fired, faults=int(st.group(6)) if st else None,
                   stopped=stopped, healed=healed,
                   outcome=classify(fired, st and int(st.group(6)),
                                    stopped or not healed, rec['workload']))
        self._emit(rec)
        if not healed:
            self.close()    # the next injection starts from a clean boot
        return rec

    def _heal(self, index):
        """After a workload error: does the workload work again within
        HEAL_S (a recovered service)?  Each injection is judged on a
        working system, so one that leaves it broken is the last on this
        boot."""
        until = time.monotonic() + HEAL_S
        for attempt in itertools.count(1):
            out = self.m.cmd('sha256sum ' + FILE, self.timeout)
            if judge_sum(out, self.sha) == 'ok' and \
                    self._keys(index, attempt) == 'ok' and \
                    self._note_again(index, attempt):
                return True
            if time.monotonic() > until:
                return False
            time.sleep(1)

    def _note_again(self, i, attempt):
        """Can a note be written and read back (the heal check)?"""
        note = 'heal%d.%d' % (i, attempt)
        if shell_error(self.m.cmd('write %s %s' % (NOTE, note),
                                  self.timeout)):
            return False
        return bool(re.search(r'^%s\r?$' % re.escape(note),
                              self.m.cmd('cat ' + NOTE, self.timeout), re.M))

    def _keys(self, i, attempt=0):
        """The keyboard's part of the workload: 'echo ' on COM1, a token
        typed on the emulated keyboard, Enter; 'ok' when the shell prints
        the token, else 'error' (the line typed so far is run, so the
        prompt is back either way)."""
        m, tok = self.m, token(i, attempt)
        m.send('echo ')
        m.expect(r'echo $', self.timeout)
        m.typekeys(tok)
        m.sendkey('ret')
        try:
            m.expect(r'^%s\r?$' % tok, KEYS_S)
        except TestFailure:
            m.skip_output()
            m.sendline('')
            m.expect(r'^' + re.escape(PROMPT), self.timeout)
            return 'error'
        m.expect(r'^' + re.escape(PROMPT), self.timeout)
        return 'ok'

    def _screen(self, i, note, since):
        """After an injection into a module that draws the screen, the
        workload intact: does the screen show what the workload put there
        last (since: where its serial text starts, at the note's `write`)?
        Why not, or None.  One screendump when it does; more only while
        fbcon's last frame may still be coming."""
        m = self.m
        text = m.serial_text()
        scale = console_scale(text)
        tok = token(i)
        lines = [PROMPT + 'echo ' + tok, tok, PROMPT + 'cat ' + NOTE, note,
                 PROMPT]
        until = time.monotonic() + SCREEN_S
        while True:
            w, h, px = read_ppm(m.screendump('screen.ppm'))
            cols = w // (font().w * scale)
            want = lines
            # The note's line is on the screen unless more was printed
            # since than the screen has rows (serial gets more lines than
            # the screen: the hub's log lines that are no errors).
            if screen_lines(text[since:], cols) <= h // (font().h * scale):
                want = ['%swrite %s %s' % (PROMPT, NOTE, note)] + lines
            why = judge_screen(w, h, px, want, scale)
            if not why or time.monotonic() > until:
                break
            time.sleep(0.5)
        if why:
            m.screendump('screen%d.png' % i)    # kept, to be looked at
        return why

    def one(self, i):
        """Arm injection i (finishing the one before, if a failure left it
        unjudged), run the workload under it and judge it."""
        m = self.m
        start = len(m.serial_text())
        # Written before the injection is armed, so that it is in fat's
        # cache, told done, when the injection comes.
        note = 'note%d' % i
        wrote = m.cmd('write %s %s' % (NOTE, note), self.timeout)
        out = m.cmd('faultinject pick %d %d %s' %
                    (self.seed, i, ' '.join(self.modules)), self.timeout)
        if self.pending:
            self._finish(out)
            if not self.m:
                return      # left broken: injection i is passed over
        a = re.search(r'faultinject %d: (\S+) (\S+) (\S+) (0x[0-9a-f]+)' % i,
                      out)
        if not a and 'cannot arm' in out:
            self._emit({'index': i, 'outcome': 'notarmed',
                        'why': out.strip()[-200:]})
            return
        rec = self.pending = {'index': i, 'workload': None}
        if shell_error(wrote):
            rec['why'] = 'the note not written: ' + wrote.strip()[-200:]
        if a:
            rec.update(module=a.group(1), moment=a.group(2),
                       type=a.group(3), param=a.group(4))
        else:
            # Armed, and its own line lost: the injection fired at once
            # in the console's write of it (an entry injection reaches a
            # console driver through the shell's next call).  Lost output
            # is a visible error; the status says what was armed.
            rec['lost'] = out.strip()[-200:]
        if a and self._updated(i):
            up = m.cmd('update %s /esp/patchbay/mods/%s.mod' %
                       (rec['module'], rec['module']), self.timeout)
            rec['update'] = up.strip()[-120:]
        m.sendkey(KEYS[self.config])
        rec['workload'] = judge_sum(m.cmd('sha256sum ' + FILE, self.timeout),
                                    self.sha)
        if rec.get('type') == 'codebit':
            time.sleep(SCRUB_S)
        status = m.cmd('faultinject status', self.timeout)   # disarmed
        if self._keys(i) != 'ok' and rec['workload'] == 'ok':
            rec['workload'] = 'error'
            rec['why'] = 'keys typed after the injection did not come back'
        if rec.get('lost') and rec['workload'] == 'ok':
            rec['workload'] = 'error'
            rec['why'] = 'the line that said what was armed was lost'
        back = m.cmd('cat ' + NOTE, self.timeout)
        if shell_error(wrote):
            rec['workload'] = 'error'   # not written, and said so
        elif shell_error(back) and rec['workload'] == 'ok':
            rec['workload'] = 'error'
            rec['why'] = 'the note not read: ' + back.strip()[-200:]
        elif not shell_error(back) and \
                not re.search(r'^%s\r?$' % note, back, re.M):
            lost = LOST_RX.search(m.serial_text()[start:])
            rec['workload'] = 'error' if lost else 'mismatch'
            rec['why'] = 'the note reads back as %s%s' % (
                back.strip()[-200:], ', as fat said: ' + lost.group(0)
                if lost else '')
        if rec['workload'] == 'ok' and rec.get('module') in SCREEN_MODULES:
            why = self._screen(i, note, start)
            if why:
                rec['workload'] = 'error'
                rec['why'] = 'the screen was not restored: ' + why
        # Judged now, before the next is armed: its heal check (a
        # workload that failed must work again) must not run under the
        # next injection, which would be charged to this one.
        self._finish(status)

    def _updated(self, i):
        """Is injection i followed by an update of its module?"""
        return random.Random(self.seed * 1000003 + i).random() < \
            self.updates

    def run(self, first, n, budget=None):
        """Injections from first on until n of them fired, or budget
        seconds are spent; a dead machine is booted again."""
        t0 = time.monotonic()
        i = first
        self.pending = None
        while len(self.counted()) < n and (
                budget is None or time.monotonic() - t0 < budget):
            try:
                if not self.m:
                    self._boot()
                self.one(i)
                i += 1
            except TestFailure as e:
                if self._answers(str(e)):
                    # Alive: what was typed got lost (a console or keyboard
                    # restarted under it), an error the workload saw.  A
                    # half-armed injection i is passed over.
                    i += 1
                    continue
                # The armed injection is the one the machine died of.
                rec = self.pending or {'index': i}
                self.pending = None
                rec.update(outcome=self._dead(), why=str(e)[-300:])
                self._emit(rec)
                if rec['index'] == i:
                    i += 1
                self.close()
        if self.m and self.pending:
            try:
                self._finish(self.m.cmd('faultinject status', self.timeout))
            except TestFailure as e:
                self.pending.update(outcome=self._dead(), why=str(e)[-300:])
                self._emit(self.pending)
        self.close()
        return self.records

    def counted(self):
        return [r for r in self.records
                if r['outcome'] in OUTCOMES]

    def shares(self):
        """{outcome: fraction} over the injections that fired."""
        c = self.counted()
        return {o: (sum(r['outcome'] == o for r in c) / len(c)) if c else 0.0
                for o in OUTCOMES}


def main(argv):
    """By hand: `faultcampaign.py CONFIG SEED FIRST N [OUT.json]` runs a
    campaign on a fresh image (target=os, watchdog=1000) and prints each
    record and the shares; OUT.json gets the records.  CAMPAIGN_UPDATES=F
    in the environment follows a share F of the injections by an update
    of their module."""
    import json
    import sys
    from images import custom_image

    config, seed, first, n = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    img = custom_image('campaign_' + config, ['target=os', 'watchdog=1000'])
    c = Campaign(config, img, seed, name='campaign.%s.%d' % (config, seed),
                 log=lambda r: print(json.dumps(r), flush=True),
                 updates=float(os.environ.get('CAMPAIGN_UPDATES', '0')))
    c.run(first, n)
    print(json.dumps({o: round(100 * s, 1) for o, s in c.shares().items()}))
    if len(argv) > 4:
        with open(argv[4], 'w') as f:
            json.dump(c.records, f, indent=1)
    sys.exit(0)


if __name__ == '__main__':
    import sys
    main(sys.argv[1:])
