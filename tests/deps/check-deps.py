#!/usr/bin/python3
"""tests/deps/check-deps.py: is every program that the build and the tests
run installed by tools/install-deps?

    tests/deps/check-deps.py            the checks, PASS/FAIL lines (make test)
    tests/deps/check-deps.py --list     every program found, where, and what covers it
    tests/deps/check-deps.py --base     the base programs assumed on every Debian

It reads the Makefile (its recipes and $(shell ...) calls, *.mk too) and every
shell and Python script under tools/, tests/ and ci/: a shell script's command
words (with the ones run through `command`, `exec`, `env`, `timeout`,
`xargs` and through the script's own wrapper functions that run "$@"), a
Python script's subprocess/os.system/shutil.which calls (also through its own
wrapper functions, and names resolved to constants where it can), and the
interpreters of every #! line.  Each program must be one of:

  - an entry of the DEPS table of tools/install-deps,
  - a shell builtin or keyword, or a function the script defines,
  - one of the programs of a minimal Debian 12 (debootstrap --variant=minbase:
    the Essential and required packages and apt), the BASE table below,
  - a file of the repository (tools/mkimage, build/tools/modinfo...),
  - git, the README's prerequisite, or a program a script installs for
    itself (SELF_INSTALLED: debootstrap in tools/fresh-check), or sudo,
    which install-deps uses only when it is there.

A new program is a FAIL naming the file and line that runs it: add its
package to install-deps (or, if minbase really has it, to BASE).  The test
also checks itself: its parsers against small scripts with known answers,
and, with a fake install-deps whose table lacks one program, that the
program is reported.  Python scripts may import only the standard library
and the project's own modules.  Names computed at run time (a QEMU binary
from the environment, self.argv) cannot be followed; --list shows them.
"""

import ast
import os
import re
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
INSTALL_DEPS = os.path.join(ROOT, 'tools', 'install-deps')
SCAN_DIRS = ('tools', 'tests', 'ci', '.ci')
SKIP_DIRS = {'build', '__pycache__', '.git', 'seeds'}

# What debootstrap --variant=minbase bookworm has, by package (the ones a
# script here may reasonably use; checked against a real minbase root by
# tools/fresh-check).  Anything else must come from install-deps.
BASE = {
    'coreutils': '''arch b2sum base32 base64 basename basenc cat chcon chgrp chmod
        chown chroot cksum comm cp csplit cut date dd df dir dircolors dirname du
        echo env expand expr factor false fmt fold groups head hostid id install
        join link ln logname ls md5sum mkdir mkfifo mknod mktemp mv nice nl nohup
        nproc numfmt od paste pathchk pinky pr printenv printf ptx pwd readlink
        realpath rm rmdir runcon seq sha1sum sha224sum sha256sum sha384sum
        sha512sum shred shuf sleep sort split stat stdbuf stty sum sync tac tail
        tee test timeout touch tr true truncate tsort tty uname unexpand uniq
        unlink users vdir wc who whoami yes [''',
    'bash': 'bash',
    'dash': 'sh dash',
    'grep': 'grep egrep fgrep',
    'sed': 'sed',
    'mawk': 'awk mawk',
    'findutils': 'find xargs',
    'diffutils': 'cmp diff diff3 sdiff',
    'gzip': 'gzip gunzip zcat',
    'tar': 'tar',
    'debianutils': 'which run-parts',
    'util-linux': '''blkid blockdev findmnt flock getopt ionice losetup lsblk
        mountpoint nsenter partx prlimit renice script setsid taskset unshare
        wipefs''',
    'mount': 'mount umount',
    'hostname': 'hostname',
    'dpkg': 'dpkg dpkg-query',
    'apt': 'apt apt-get apt-cache',
}
# Used only when present, never needed: install-deps runs apt-get through
# sudo when it is not root and sudo exists.
OPTIONAL = {'sudo'}
# The README's prerequisites, there before anything runs: a user clones the
# repository with git and types make (make is in install-deps too).
PREREQUISITES = {'git'}
# Programs a script installs for itself before it runs them, and only there.
SELF_INSTALLED = {'tools/fresh-check': {'debootstrap'}}

SHELL_BUILTINS = set('''. : [ alias bg bind break builtin caller cd command
    compgen complete continue declare dirs disown echo enable eval exec exit
    export false fc fg getopts hash help history jobs kill let local logout
    mapfile popd printf pushd pwd read readarray readonly return set shift
    shopt source suspend test times trap true type typeset ulimit umask
    unalias unset wait'''.split())
SHELL_KEYWORDS = set('''if then else elif fi do done while until for select
    in case esac function time ! { } [[ ]] coproc'''.split())
# Words that run the command after them: PREFIX [options] COMMAND ARGS.
# The value is how many non-option arguments come before COMMAND.
PREFIXES = {'exec': 0, 'command': 0, 'env': 0, 'nice': 0, 'nohup': 0,
            'timeout': 1, 'xargs': 0, 'sudo': 0, 'setsid': 0, 'stdbuf': 0,
            'builtin': 0, 'chroot': 1, 'ionice': 0, 'taskset': 1}
# Their options that take the next word as a value.
PREFIX_OPTARGS = {'timeout': {'-k', '-s'}, 'nice': {'-n'}, 'env': {'-u', '-C'},
                  'xargs': {'-n', '-I', '-P', '-L', '-d', '-a', '-s', '-E'},
                  'sudo': {'-u', '-g'}, 'ionice': {'-c', '-n', '-p'}}


def base_programs():
    return {p for names in BASE.values() for p in names.split()}


# ------------------------------------------------------------ install-deps

def parse_install_deps(text):
    """The DEPS='...' table of tools/install-deps: {program name: package}.
    A path entry in a bin directory (/usr/bin/python3) covers its base name;
    another path (a header) stays a path."""
    m = re.search(r"^DEPS='\n(.*?)^'", text, re.M | re.S)
    if not m:
        raise ValueError("no DEPS='...' table in tools/install-deps")
    table = {}
    for line in m.group(1).splitlines():
        words = line.split()
        if not words or words[0].startswith('#'):
            continue
        if len(words) != 2:
            raise ValueError('install-deps DEPS: not "WHAT PACKAGE": %r' % line)
        what = words[0]
        if re.search(r'/s?bin/[^/]+$', what):
            what = os.path.basename(what)
        table[what] = words[1]
    return table


# -------------------------------------------------------------- shell lexer

OPS = ('&&', '||', ';;', ';&', '|&', '|', '&', ';', '(', ')')
REDIRS = ('<<<', '<<-', '<<', '>>', '>&', '<&', '&>>', '&>', '>|', '<>', '<', '>')
NAME_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=')


class Word:
    def __init__(self, text, line, dynamic):
        self.text = text        # quotes removed
        self.line = line
        self.dynamic = dynamic  # has an expansion: its value is not known here

    def __repr__(self):
        return 'Word(%r%s)' % (self.text, ', dyn' if self.dynamic else '')


class Lexer:
    """Tokens of a shell script: Word or an operator string ('\\n' ends a
    line).  Command substitutions, process substitutions and backquotes are
    lexed recursively; their token lists land in self.nested."""

    def __init__(self, text, line=1):
        self.s = text
        self.i = 0
        self.line = line
        self.nested = []        # token lists of $(...), <(...), `...`
        self.heredocs = []      # (delimiter, strip tabs) waiting for a newline

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def error(self, what):
        raise SyntaxError('line %d: %s' % (self.line, what))

    def tokens(self, stop=None):
        """Lex until the end, or until an unmatched `stop` (')' or '`')."""
        out = []
        depth = 0
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in ' \t':
                self.i += 1
            elif self.s.startswith('\\\n', self.i):
                self.i += 2
                self.line += 1
            elif c == '#':
                while self.i < len(self.s) and self.s[self.i] != '\n':
                    self.i += 1
            elif c == '\n':
                self.i += 1
                self.line += 1
                out.append('\n')
                self.skip_heredocs()
            elif stop == '`' and c == '`':
                self.i += 1
                return out
            elif stop == ')' and c == ')' and depth == 0:
                self.i += 1
                return out
            elif self.s.startswith('((', self.i) and (
                    not out or out[-1] in OPS + ('\n',) or
                    isinstance(out[-1], Word) and out[-1].text == 'for'):
                out.append(Word(self.arith(2), self.line, True))
            elif c in '<>' and self.peek(2) in ('<(', '>('):
                self.i += 2
                self.sub_tokens(')')
                out.append(Word('<(...)', self.line, True))
            elif any(self.s.startswith(r, self.i) for r in REDIRS) and \
                    not self.s.startswith('&&', self.i):
                r = next(r for r in REDIRS if self.s.startswith(r, self.i))
                self.i += len(r)
                out.append(('redir', r))
            elif any(self.s.startswith(o, self.i) for o in OPS):
                o = next(o for o in OPS if self.s.startswith(o, self.i))
                self.i += len(o)
                if o == '(':
                    depth += 1
                elif o == ')':
                    depth -= 1
                out.append(o)
            else:
                w = self.word()
                # 2>&1, 3<file: the digits belong to the redirection.
                if w.text.isdigit() and not w.dynamic and self.peek() in ('<', '>'):
                    continue
                out.append(w)
                if len(out) >= 2 and out[-2] == ('redir', '<<') or \
                        len(out) >= 2 and out[-2] == ('redir', '<<-'):
                    self.heredocs.append((w.text, out[-2][1] == '<<-'))
        if stop:
            self.error('unterminated %s' % stop)
        return out

    def sub_tokens(self, stop):
        sub = Lexer(self.s, self.line)
        sub.i = self.i
        toks = sub.tokens(stop)
        self.i = sub.i
        self.line = sub.line
        self.nested.append(toks)
        self.nested.extend(sub.nested)
        return toks

    def skip_heredocs(self):
        for delim, strip in self.heredocs:
            while self.i < len(self.s):
                end = self.s.find('\n', self.i)
                end = len(self.s) if end < 0 else end
                line = self.s[self.i:end]
                self.i = end + 1
                self.line += 1
                if (line.lstrip('\t') if strip else line) == delim:
                    break
        self.heredocs = []

    def arith(self, skip):
        """Skip (( ... )) or $(( ... )); return its text."""
        start = self.i
        self.i += skip
        depth = 2
        while self.i < len(self.s) and depth:
            c = self.s[self.i]
            depth += {'(': 1, ')': -1}.get(c, 0)
            if c == '\n':
                self.line += 1
            self.i += 1
        return self.s[start:self.i]

    def word(self):
        text = []
        dynamic = False
        line = self.line
        while self.i < len(self.s):
            c = self.s[self.i]
            array = c == '(' and NAME_RE.fullmatch(''.join(text))
            if not array and (c in ' \t\n' or c in '<>' or
                              any(self.s.startswith(o, self.i) for o in OPS)):
                break
            if c == '\\':
                text.append(self.s[self.i + 1:self.i + 2])
                self.i += 2
            elif c == "'":
                end = self.s.find("'", self.i + 1)
                if end < 0:
                    self.error('unterminated quote')
                text.append(self.s[self.i + 1:end])
                self.line += self.s.count('\n', self.i, end)
                self.i = end + 1
            elif c == '"':
                self.i += 1
                dynamic |= self.dquoted(text)
            elif c == '$' or c == '`':
                self.dollar(text)
                dynamic = True
            elif array:
                # name=(a b c), an array: its words are no commands, but
                # a $(...) among them is.
                self.i += 1
                sub = Lexer(self.s, self.line)
                sub.i = self.i
                sub.tokens(')')
                self.i, self.line = sub.i, sub.line
                self.nested.extend(sub.nested)
                text.append('(...)')
                dynamic = True
            else:
                text.append(c)
                self.i += 1
        return Word(''.join(text), line, dynamic)

    def dquoted(self, text):
        dynamic = False
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == '"':
                self.i += 1
                return dynamic
            if c == '\\':
                text.append(self.s[self.i + 1:self.i + 2])
                self.i += 2
            elif c == '$' or c == '`':
                self.dollar(text)
                dynamic = True
            else:
                if c == '\n':
                    self.line += 1
                text.append(c)
                self.i += 1
        self.error('unterminated "')

    def dollar(self, text):
        """An expansion at self.i: $(cmd), `cmd`, $((...)), ${...}, $name.
        The word keeps a parameter's text ("$@" stays $@), not a command's."""
        start = self.i
        if self.s.startswith('$((', self.i):
            self.arith(3)
        elif self.s.startswith('$(', self.i):
            self.i += 2
            self.sub_tokens(')')
        elif self.s[self.i] == '`':
            self.i += 1
            self.sub_tokens('`')
        elif self.s.startswith('${', self.i):
            depth = 0
            while self.i < len(self.s):
                c = self.s[self.i]
                self.i += 1
                depth += {'{': 1, '}': -1}.get(c, 0)
                if depth == 0 and c == '}':
                    break
        else:
            self.i += 1
            m = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]').match(self.s, self.i)
            if m:
                self.i = m.end()
            text.append(self.s[start:self.i])
            return
        text.append('${...}' if self.s[start + 1] == '{' else '$(...)')


class ShellScript:
    """The simple commands of a script, its functions, and which of them
    are wrappers that run their arguments ("$@") or look them up
    (command -v "$1")."""

    def __init__(self, text, line=1):
        lx = Lexer(text, line)
        lists = [lx.tokens()] + lx.nested
        self.commands = []      # (list of Word, enclosing function or None)
        self.functions = set()
        for toks in lists:
            self.parse(toks)
        self.runners = set()
        self.lookups = set()
        for words, f in self.commands:
            if f and [w.text for w in words[:3]] in (['command', '-v', '$1'],
                                                     ['command', '-v', '${1}']):
                self.lookups.add(f)
        # A runner may run "$@" through another runner: repeat until stable.
        while True:
            more = {f for words, f in self.commands
                    if f and self._run(words)[1] in ('$@', '${@}')} - self.runners
            if not more:
                break
            self.runners |= more

    def parse(self, toks):
        cmd = None              # words of the simple command being read
        func_stack = []         # (name, brace depth at its body)
        depth = 0
        case_pattern = []       # a stack: True while reading a case pattern
        skip_until = None
        i = 0

        def end_command():
            nonlocal cmd
            if cmd:
                self.commands.append((cmd, func_stack[-1][0] if func_stack else None))
            cmd = None

        while i < len(toks):
            t = toks[i]
            i += 1
            if skip_until:
                if t in skip_until or isinstance(t, Word) and t.text in skip_until:
                    skip_until = None
                continue
            if isinstance(t, tuple):        # a redirection: skip its target
                if i < len(toks) and isinstance(toks[i], Word):
                    i += 1
                continue
            if not isinstance(t, Word):
                end_command()
                if t == ';;' and case_pattern:
                    case_pattern[-1] = True
                continue
            if case_pattern and case_pattern[-1]:
                # A pattern runs up to its ')'; '|' separates alternatives.
                if t.text == 'esac':
                    case_pattern.pop()
                    continue
                while i < len(toks) and toks[i] != ')':
                    i += 1
                i += 1
                case_pattern[-1] = False
                continue
            if cmd is not None:
                cmd.append(t)
                continue
            # Command position.
            w = t.text
            if t.dynamic:
                cmd = [t]
            elif w == 'case':
                skip_until = ('in',)
                case_pattern.append(True)
            elif w == 'esac' and case_pattern:
                case_pattern.pop()
            elif w in ('for', 'select'):
                skip_until = (';', '\n', 'do')
            elif w == '[[':
                skip_until = (']]',)
            elif w == 'function':
                if i < len(toks) and isinstance(toks[i], Word):
                    self.functions.add(toks[i].text)
                    func_stack.append((toks[i].text, depth + 1))
                    i += 1
            elif w == '{':
                depth += 1
            elif w == '}':
                if func_stack and func_stack[-1][1] == depth:
                    func_stack.pop()
                depth -= 1
            elif w in SHELL_KEYWORDS:
                pass
            elif NAME_RE.match(w):
                pass            # an assignment before the command, or alone
            elif toks[i:i + 2] == ['(', ')']:
                self.functions.add(w)
                func_stack.append((w, depth + 1))
                i += 2
            else:
                cmd = [t]
        end_command()

    def invoked(self):
        """[(program, line)]: the programs this script runs."""
        out = []
        for words, _ in self.commands:
            out += self._run(words)[0]
        return out

    def _run(self, words):
        """([(program, line)] a simple command runs, the text of the word it
        finally runs): `env A=1 timeout -k 5 10 "$@"` runs env and timeout,
        and its target is $@."""
        if not words:
            return [], None
        first = words[0].text
        if words[0].dynamic:
            return [], first
        found = [(first, words[0].line)]
        rest = words[1:]
        first = os.path.basename(first)     # /usr/bin/env is env
        if first in PREFIXES:
            if first == 'command' and rest and rest[0].text in ('-v', '-V'):
                return found + [(w.text, w.line) for w in rest[1:] if not w.dynamic], None
            while rest and (rest[0].text.startswith('-') or
                            (first == 'env' and NAME_RE.match(rest[0].text))):
                rest = rest[1 + (rest[0].text in PREFIX_OPTARGS.get(first, ())):]
            sub, target = self._run(rest[PREFIXES[first]:])
            return found + sub, target
        if first in self.runners:
            sub, target = self._run(rest)
            return found + sub, target
        if first in self.lookups:
            return found + [(w.text, w.line) for w in rest[:1] if not w.dynamic], None
        # sh -c 'TEXT': TEXT is a script of its own.
        if first in ('sh', 'bash') and len(rest) >= 2 and \
                rest[0].text == '-c' and not rest[1].dynamic:
            return found + ShellScript(rest[1].text, rest[1].line).invoked(), None
        return found, first


# ----------------------------------------------------------------- Makefile

def make_expand(s, vars_, depth=0):
    """Expand $(VAR) and ${VAR} of a recipe line with the Makefile's simple
    variables; $(if C,THEN,ELSE) becomes THEN; anything else ($@,
    $(foreach ...), $(B)-like unknowns) becomes a dynamic word."""
    out = []
    i = 0
    while i < len(s):
        if s.startswith('$$', i):
            out.append('\0')        # the shell's $, after expansion
            i += 2
            continue
        if s[i] != '$' or i + 1 >= len(s):
            out.append(s[i])
            i += 1
            continue
        if s[i + 1] not in '({':
            out.append('$_')        # $@, $<, $^...
            i += 2
            continue
        close = ')' if s[i + 1] == '(' else '}'
        j, d = i + 2, 1
        while j < len(s) and d:
            d += {s[i + 1]: 1, close: -1}.get(s[j], 0)
            j += 1
        inner = s[i + 2:j - 1]
        i = j
        if inner.startswith('if '):
            parts = split_make_args(inner[3:])
            out.append(make_expand(parts[1], vars_, depth + 1) if len(parts) > 1 else '')
        elif inner in vars_ and depth < 10:
            out.append(make_expand(vars_[inner], vars_, depth + 1))
        else:
            out.append('$_')
    return ''.join(out)


def split_make_args(s):
    parts, d, cur = [], 0, []
    for c in s:
        if c == ',' and d == 0:
            parts.append(''.join(cur))
            cur = []
            continue
        d += {'(': 1, ')': -1}.get(c, 0)
        cur.append(c)
    parts.append(''.join(cur))
    return parts


def makefile_commands(text):
    """[(shell text, line)]: the recipes of a Makefile, made variables
    expanded, and the text of its $(shell ...) calls."""
    vars_ = {'MAKE': 'make', 'Q': '', 'SHELL': '/bin/sh'}
    lines = text.split('\n')
    for line in lines:
        m = re.match(r'^([A-Za-z_][A-Za-z0-9_]*)\s*(\?|:|::)?=\s*(.*)$', line)
        if m and m.group(1) not in vars_:
            vars_[m.group(1)] = m.group(3).strip()
    out = []
    in_define = False
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        while line.endswith('\\') and i + 1 < len(lines):
            i += 1
            line = line[:-1] + ' ' + lines[i].lstrip('\t')
        i += 1
        if re.match(r'^define\b', line):
            in_define = True
        elif line.startswith('endef'):
            in_define = False
        for m in re.finditer(r'\$\(shell ', line):
            j, d = m.end(), 1
            while j < len(line) and d:
                d += {'(': 1, ')': -1}.get(line[j], 0)
                j += 1
            out.append((make_expand(line[m.end():j - 1], vars_), start + 1))
        if not line.startswith('\t'):
            continue
        body = line[1:]
        if in_define:               # $(eval) strips one level of $
            body = body.replace('$$', '$')
        body = make_expand(body, vars_).lstrip()
        body = body.lstrip('@+-').replace('\0', '$')
        out.append((body, start + 1))
    return out


# ------------------------------------------------------------------ Python

SUBPROCESS_FUNCS = {'run', 'Popen', 'call', 'check_call', 'check_output',
                    'getoutput', 'getstatusoutput'}
OS_FUNCS = {'system', 'popen'}


class PyModule:
    def __init__(self, path, text, project):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.tree = ast.parse(text, path)
        self.project = project          # {module name: PyModule}
        self.parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.funcs = {n.name: n for n in ast.walk(self.tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.wrappers = {}              # function name -> index of its argv parameter
        for f in self.funcs.values():
            params = [a.arg for a in f.args.args]
            for call in ast.walk(f):
                argv = runs_argv(call) if isinstance(call, ast.Call) else None
                if isinstance(argv, ast.Name) and argv.id in params:
                    self.wrappers[f.name] = params.index(argv.id)

    def enclosing(self, node):
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None

    def assigned(self, name, scope):
        """The values assigned to `name` in function `scope` (or the module)."""
        body = scope if scope is not None else self.tree
        vals = []
        for node in ast.walk(body):
            if isinstance(node, ast.Assign) and \
                    any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if scope is None and self.enclosing(node) is not None:
                    continue
                vals.append(node.value)
        return vals

    def resolve(self, expr, scope, depth=0):
        """The strings `expr` may have, as far as they can be known
        statically: (list of str, resolved completely?)."""
        if depth > 8:
            return [], False
        r = lambda e, s=scope: self.resolve(e, s, depth + 1)    # noqa: E731
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value], True
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            if (expr.value.id, expr.attr) == ('sys', 'executable'):
                return ['python3'], True
            mod = self.project.get(expr.value.id)
            if mod:
                return mod.resolve(ast.Name(expr.attr), None, depth + 1)
        if isinstance(expr, ast.Name) and expr.id == '__file__':
            return [os.path.join(ROOT, self.path)], True
        if isinstance(expr, ast.Name):
            vals = self.assigned(expr.id, scope) if scope is not None else []
            if vals:
                return merge(r(v) for v in vals)
            vals = self.assigned(expr.id, None)
            if vals:
                return merge(r(v, None) for v in vals)
            return [], False
        if isinstance(expr, ast.BoolOp):
            got = [r(v) for v in expr.values]
            return [s for g, _ in got for s in g], any(ok for _, ok in got)
        if isinstance(expr, ast.IfExp):
            return merge([r(expr.body), r(expr.orelse)])
        if isinstance(expr, ast.Call):
            f = expr.func
            if is_attr(f, 'shutil', 'which') and expr.args:
                return r(expr.args[0])
            if isinstance(f, ast.Attribute) and ast.unparse(f.value) == 'os.path' and \
                    f.attr in ('join', 'dirname', 'realpath', 'abspath', 'normpath'):
                # Paths of the project's own files: ROOT = dirname(__file__)...
                parts = [r(a) for a in expr.args]
                if not parts or not all(ok and len(v) == 1 for v, ok in parts):
                    return [], False
                return [getattr(os.path, f.attr)(*[v[0] for v, _ in parts])], True
            if is_attr(f, 'os.environ', 'get') or is_attr(f, 'os', 'getenv'):
                return (r(expr.args[1])[0] if len(expr.args) > 1 else []), False
            mod, fname = self, None
            if isinstance(f, ast.Name):
                fname = f.id
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                    and f.value.id in self.project:
                mod, fname = self.project[f.value.id], f.attr
            fdef = mod.funcs.get(fname) if fname else None
            if fdef is not None:
                rets = [n.value for n in ast.walk(fdef)
                        if isinstance(n, ast.Return) and n.value is not None]
                return merge(mod.resolve(v, fdef, depth + 1) for v in rets)
        return [], False

    def invoked(self):
        """([(program or shell text, line, is shell)], [(line, what)] not followed)."""
        found, unknown = [], []
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            scope = self.enclosing(node)
            f = node.func
            if is_attr(f, 'shutil', 'which') and node.args:
                names, ok = self.resolve(node.args[0], scope)
                found += [(n, node.lineno, False) for n in names]
                if not ok:
                    unknown.append((node.lineno, ast.unparse(node)))
                continue
            argv = runs_argv(node)
            name = f.id if isinstance(f, ast.Name) else \
                f.attr if isinstance(f, ast.Attribute) else None
            if argv is None and name in self.wrappers and \
                    not (scope is not None and scope.name == name):
                k = self.wrappers[name]
                argv = node.args[k] if len(node.args) > k else None
            if argv is None:
                continue
            shell = is_attr(f, 'os', 'system') or is_attr(f, 'os', 'popen') or any(
                k.arg == 'shell' and isinstance(k.value, ast.Constant) and k.value.value
                for k in node.keywords)
            if isinstance(argv, ast.Name) and scope is not None and \
                    scope.name in self.wrappers and \
                    argv.id in [a.arg for a in scope.args.args]:
                continue        # inside a wrapper: its callers are followed
            if isinstance(argv, ast.Name):
                vals = self.assigned(argv.id, scope) or self.assigned(argv.id, None)
                lists = [v for v in vals if isinstance(v, (ast.List, ast.Tuple))]
                if lists:
                    argv = lists[0]
            if isinstance(argv, (ast.List, ast.Tuple)):
                if not argv.elts:
                    continue
                names, ok = self.resolve(argv.elts[0], scope)
                found += [(n, node.lineno, False) for n in names]
                # ['/bin/sh', '-c', 'text']: the text is a shell script.
                if names and os.path.basename(names[0]) in ('sh', 'bash') and \
                        len(argv.elts) > 2:
                    flags, _ = self.resolve(argv.elts[1], scope)
                    if flags == ['-c']:
                        texts, ok2 = self.resolve(argv.elts[2], scope)
                        found += [(t, node.lineno, True) for t in texts]
                        ok = ok and ok2
            else:
                names, ok = self.resolve(argv, scope)
                found += [(n, node.lineno, shell) for n in names]
            if not ok:
                unknown.append((node.lineno, ast.unparse(node.args[0] if node.args else node)))
        return found, unknown

    def imports(self):
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                out += [(a.name.split('.')[0], node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                out.append((node.module.split('.')[0], node.lineno))
        return out


def is_attr(f, base, attr):
    return isinstance(f, ast.Attribute) and f.attr == attr and \
        ast.unparse(f.value) == base


def runs_argv(call):
    """The argv expression of a call that runs a program, else None."""
    f = call.func
    if not isinstance(f, ast.Attribute):
        return None
    base = ast.unparse(f.value)
    if (base == 'subprocess' and f.attr in SUBPROCESS_FUNCS) or \
            (base == 'os' and (f.attr in OS_FUNCS or f.attr.startswith(('exec', 'spawn')))):
        if base == 'os' and f.attr.startswith(('execl', 'execv', 'spawn')):
            # os.execvp(file, args), os.spawnlp(mode, file, ...)
            k = 1 if f.attr.startswith('spawn') else 0
            return call.args[k] if len(call.args) > k else None
        if call.args:
            return call.args[0]
        for k in call.keywords:
            if k.arg == 'args':
                return k.value
    return None


def merge(results):
    names, ok = [], True
    for n, o in results:
        names += n
        ok = ok and o
    return names, ok


# -------------------------------------------------------------- the scan

class Found:
    def __init__(self):
        self.programs = {}      # name -> [where]
        self.functions = {}     # file -> set of shell functions it defines
        self.unknown = []       # where, what: invocations not followed
        self.imports = []       # (module, where)
        self.errors = []        # files that could not be read or parsed

    def add(self, name, where):
        places = self.programs.setdefault(name, [])
        if where not in places:
            places.append(where)


def program_name(s):
    """The program a command word runs, or None for a file of the project
    (relative path, $ROOT/...) or something that is no program name."""
    if not s or any(c in s for c in ' \t\n$*?'):
        return None
    if '/' in s:
        if not s.startswith('/') or s.startswith(ROOT + '/'):
            return None
        return os.path.basename(s)
    return s


def add_shell(found, text, rel, line=1):
    sh = ShellScript(text, line)
    for name, ln in sh.invoked():
        p = program_name(name)
        if p is None or p in sh.functions:
            continue
        found.add(p, '%s:%d' % (rel, ln))


def scan_files(root):
    files = []
    for d in ('Makefile',) + SCAN_DIRS:
        top = os.path.join(root, d)
        if os.path.isfile(top):
            files.append(top)
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(x for x in dirnames if x not in SKIP_DIRS)
            files += [os.path.join(dirpath, f) for f in sorted(filenames)]
    files += sorted(os.path.join(dp, f)
                    for dp, dn, fs in os.walk(os.path.join(root, 'mods'))
                    for f in fs if f.endswith('.mk'))
    return files


def kind(path, text):
    first = text.split('\n', 1)[0]
    if os.path.basename(path) == 'Makefile' or path.endswith('.mk'):
        return 'make'
    if path.endswith('.py') or first.startswith('#!') and 'python' in first:
        return 'python'
    if first.startswith('#!') and re.search(r'\b(ba)?sh\b', first):
        return 'shell'
    return None


def scan(root=ROOT):
    found = Found()
    texts = {}
    for path in scan_files(root):
        try:
            with open(path, encoding='utf-8') as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        k = kind(path, text)
        if k:
            texts[path] = (k, text)
    project = {}        # importable modules (NAME.py) by name, for imports
    scripts = {}        # every Python file by path (tests/run, tests/bench/run...)
    for path, (k, text) in texts.items():
        rel = os.path.relpath(path, root)
        try:
            if k == 'python':
                scripts[path] = PyModule(rel, text, project)
                if path.endswith('.py'):
                    project[scripts[path].name] = scripts[path]
        except SyntaxError as e:
            found.errors.append('%s: %s' % (rel, e))
    for path, (k, text) in texts.items():
        rel = os.path.relpath(path, root)
        first = text.split('\n', 1)[0]
        if first.startswith('#!'):
            for w in first[2:].split()[:2]:
                if not w.startswith('-'):
                    p = program_name(w)
                    if p:
                        found.add(p, rel + ':1')
        try:
            if k == 'make':
                for cmd, line in makefile_commands(text):
                    add_shell(found, cmd, rel, line)
            elif k == 'shell':
                add_shell(found, text, rel)
            elif path in scripts:
                mod = scripts[path]
                progs, unknown = mod.invoked()
                for s, line, is_shell in progs:
                    if is_shell:
                        add_shell(found, s, rel, line)
                    else:
                        p = program_name(s)
                        if p:
                            found.add(p, '%s:%d' % (rel, line))
                found.unknown += [('%s:%d' % (rel, line), w) for line, w in unknown]
                found.imports += [(m, '%s:%d' % (rel, line)) for m, line in mod.imports()]
        except SyntaxError as e:
            found.errors.append('%s: %s' % (rel, e))
    found.project_modules = set(project)
    return found


def covered_by(name, table, where=()):
    """What provides program `name`, run at `where` ['file:line'...], or None."""
    if name in table:
        return 'install-deps (%s)' % table[name]
    if name in SHELL_BUILTINS:
        return 'shell builtin'
    for pkg, names in BASE.items():
        if name in names.split():
            return 'base (%s)' % pkg
    if name in OPTIONAL:
        return 'optional'
    if name in PREREQUISITES:
        return 'prerequisite'
    files = {w.rsplit(':', 1)[0] for w in where}
    if files and all(name in SELF_INSTALLED.get(f, ()) for f in files):
        return 'installed by %s' % ' '.join(sorted(files))
    return None


def uncovered(found, table):
    return sorted(n for n, where in found.programs.items()
                  if covered_by(n, table, where) is None)


# -------------------------------------------------------------- self-tests

def selftest_shell():
    text = r'''#!/bin/bash
set -u
run() { "$@" </dev/null || die "failed: $*"; }
have() { command -v "$1" >/dev/null; }
die() { echo "$*" >&2; exit 1; }
X=$(prog1 -a | prog2) && FOO=1 prog3 arg1 "arg 2"
case $1 in
--x|-y) prog4 ;;
*.log) continue ;;
"") ;;
esac
for ((i = 0; i < 3; i++)); do prog5; done
for f in notprog1 notprog2; do [[ $f == x ]] && prog6; done
cat <<EOF | prog7
notprog3 inside a here-document
EOF
run prog8 -x
have prog9 || exec prog10
"$fz" -flag 2>&1 | env A=1 timeout 5 prog11 <(prog12) >out
if prog13; then :; fi
inroot() { chroot /x /usr/bin/env -i A=1 "$@"; }
inroot sh -c 'cd /x && exec timeout -k 5 10 prog14'
'''
    want = {'set', 'command', 'echo', 'exit', 'prog1', 'prog2', 'prog3', 'prog4',
            'continue', 'prog5', 'prog6', 'cat', 'prog7', 'prog8', 'prog9',
            'exec', 'prog10', 'env', 'timeout', 'prog11', 'prog12', 'prog13',
            'run', 'have', ':', 'die', 'chroot', '/usr/bin/env', 'sh', 'cd',
            'prog14', 'inroot'}
    sh = ShellScript(text)
    got = {n for n, _ in sh.invoked()}
    return got == want, 'got %s, want %s' % (sorted(got), sorted(want))


def selftest_python():
    text = '''
import shutil, subprocess, os
TOOL = 'prog1'
def sh(args, timeout=5):
    return subprocess.run(args, timeout=timeout)
def binary():
    return os.environ.get('X') or TOOL
def f():
    sh(['prog2', '-x'])
    subprocess.Popen(['/usr/bin/prog3'])
    subprocess.run('prog4 | prog5', shell=True)
    cmd = ['prog6', 'a']
    subprocess.check_output(cmd)
    p = shutil.which('prog7') or '/usr/sbin/prog7'
    subprocess.run([p])
    subprocess.run([binary(), '-v'])
    subprocess.run(['/bin/sh', '-c', 'prog8 && prog9'])
    subprocess.run([os.path.join('tools', 'x')])
    os.system('prog10')
def g(x):
    subprocess.run([x, '-v'])       # not known here: reported as not followed
'''
    project = {}
    mod = project['m'] = PyModule('m.py', text, project)
    progs, unknown = mod.invoked()
    got = set()
    for s, _, is_shell in progs:
        if is_shell:
            got |= {n for n, _ in ShellScript(s).invoked()}
        elif program_name(s):
            got.add(program_name(s))
    want = {'prog%d' % i for i in range(1, 11)} | {'sh'}
    ok = got == want and len(unknown) == 1
    return ok, 'got %s, want %s; not followed %s' % (sorted(got), sorted(want), unknown)


def selftest_make():
    text = '''CC ?= prog1
Q := $(if $(V),,@)
X := $(shell prog2 -x)
all:
\t$(Q)$(CC) -o $@ $<
\t@mkdir -p $(@D) && prog3 $$(prog4)
\t$(if $(FILES),prog5 $(FILES) dir/)
\t$(MAKE) image \\
\t\tother
define rule
$(1):
\t@mkdir -p $$(@D)
\t$(Q)prog6 $$@
endef
'''
    got = set()
    for cmd, _ in makefile_commands(text):
        got |= {n for n, _ in ShellScript(cmd).invoked()}
    want = {'prog1', 'prog2', 'mkdir', 'prog3', 'prog4', 'prog5', 'make', 'prog6'}
    return got == want, 'got %s, want %s' % (sorted(got), sorted(want))


def selftest_removed(found, real_text, table, prog):
    """A fake install-deps whose table lacks `prog`: the check must report
    exactly that program."""
    lines = real_text.split('\n')
    fake = '\n'.join(l for l in lines
                     if not (l.split()[:1] and os.path.basename(l.split()[0]) == prog
                             and len(l.split()) == 2 and not l.startswith('#')))
    if fake == real_text:
        return False, '%s is not in the table to remove' % prog
    before = uncovered(found, table)
    missing = [p for p in uncovered(found, parse_install_deps(fake)) if p not in before]
    return missing == [prog], 'with %s removed the check reports %s' % (prog, missing)


# -------------------------------------------------------------------- main

def main(argv):
    if argv == ['--base']:
        print('\n'.join(sorted(base_programs())))
        return 0
    if argv not in ([], ['--list']):
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    failed = False

    def result(name, ok, why=''):
        nonlocal failed
        failed |= not ok
        print(('PASS deps/%s' % name) if ok else ('FAIL deps/%s: %s' % (name, why)), flush=True)

    with open(INSTALL_DEPS) as f:
        real_text = f.read()
    try:
        table = parse_install_deps(real_text)
    except ValueError as e:
        result('install-deps-table', False, str(e))
        return 1
    found = scan(ROOT)

    if argv == ['--list']:
        w = max(len(n) for n in found.programs)
        for name in sorted(found.programs):
            where = found.programs[name]
            print('%-*s  %-28s %s%s' % (w, name, covered_by(name, table, where) or 'NOT COVERED',
                                        ', '.join(where[:3]),
                                        ' (+%d)' % (len(where) - 3) if len(where) > 3 else ''))
        unused = sorted(n for n in set(table) - set(found.programs) if not n.startswith('/'))
        if unused:
            print('\nin install-deps, run by nothing found: %s' % ' '.join(unused))
        print('\nnot followed (names computed at run time):')
        for where, what in found.unknown:
            print('  %s: %s' % (where, what))
        return 0

    for name, test in (('parse-shell', selftest_shell), ('parse-python', selftest_python),
                       ('parse-make', selftest_make)):
        try:
            ok, why = test()
        except Exception as e:      # a parser crash is a failure, not a traceback
            ok, why = False, '%s: %s' % (type(e).__name__, e)
        result(name, ok, why)

    result('scan', not found.errors, '; '.join(found.errors))
    missing = uncovered(found, table)
    for name in missing:
        result('program/%s' % name, False,
                'run by %s; not in tools/install-deps DEPS nor in the base system'
                % ', '.join(found.programs[name][:3]))
    if not missing:
        print('PASS deps/programs (%d programs run, each covered: --list says by what)'
              % len(found.programs), flush=True)

    # The check must catch a program dropped from the table: sgdisk (run by
    # tests/image/check-image), and every other entry that something runs
    # and nothing else covers.
    ok, why = selftest_removed(found, real_text, table, 'sgdisk')
    result('fake-list-without-sgdisk', ok, why)
    bad = []
    for prog in sorted(table):
        if prog in found.programs and covered_by(prog, {}) is None:
            ok, why = selftest_removed(found, real_text, table, prog)
            if not ok:
                bad.append(why)
    result('fake-list-each-entry', not bad, '; '.join(bad))

    std = set(sys.stdlib_module_names)
    foreign = ['%s (%s)' % (m, where) for m, where in found.imports
               if m not in std and m not in found.project_modules]
    result('python-imports', not foreign,
           'not in the standard library: %s; install-deps installs python3 only'
           % ', '.join(foreign))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
