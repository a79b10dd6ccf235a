"""The out-of-tree module SDK (make sdk): unpacked alone into an empty
directory outside the tree, it builds its example module and runs its host
test with clang, lld and cc only, in an environment that names nothing of
the tree, and no file it compiles comes from the tree; the module, put on
the ESP, loads and runs."""

import os
import re
import shutil
import subprocess
import tarfile
import tempfile

from pbtest import Machine, PROMPT, ROOT, workdir
from images import custom_image

TARBALL = os.path.join(ROOT, 'build', 'patchbay-sdk.tar.gz')


def run(argv, cwd, env=None):
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, env=env,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 0, '%s: %s' % (' '.join(argv), r.stdout)
    return r.stdout


def user_env(home):
    """What a user's shell gives make: no variable of the tree's build."""
    return {'PATH': '/usr/local/bin:/usr/bin:/bin', 'HOME': home,
            'LANG': 'C'}


def files_read(where, cwd):
    """The files the compilers read (the -MMD lists under where; their
    paths are relative to make's folder, cwd)."""
    read = []
    for d, _, files in os.walk(where):
        for f in files:
            if f.endswith('.d'):
                with open(os.path.join(d, f)) as dep:
                    read += [os.path.realpath(os.path.join(cwd, w))
                             for w in dep.read().split()
                             if w != '\\' and not w.endswith(':')]
    return read


def test_sdk_builds_and_loads_a_module():
    run(['make', '-s', 'sdk'], ROOT)
    # An empty directory away from the tree, with the tarball only.
    where = tempfile.mkdtemp(prefix='pb-sdk-user-')
    try:
        assert not os.path.realpath(where).startswith(ROOT + '/')
        with tarfile.open(TARBALL) as t:
            names = t.getnames()
            assert not [n for n in names if '/build/' in n or
                        n.endswith(('.o', '.mod'))], names
            t.extractall(where)
        example = os.path.join(where, 'patchbay-sdk', 'example')
        env = user_env(where)
        # -MMD beside each object: the files each compile read.
        deps = ['CLANG=clang -MMD', 'HOSTCC=cc -MMD']
        out = run(['make'] + deps, example, env)
        out += run(['make', 'test'] + deps, example, env)
        assert re.findall(r'^PASS ', out, re.M) and 'FAIL' not in out, out
        assert ROOT not in out, out
        read = files_read(where, example)
        assert [f for f in read if f.endswith('/abi/pb.h')], read
        assert not [f for f in read if f.startswith(ROOT + '/')], read
        info = run(['build/modinfo', 'hello.mod'], example, env)
        assert re.search(r'\bhello\b', info) and 'greeting' in info, info
        mod = os.path.join(workdir(), 'sdk-hello.mod')
        shutil.copyfile(os.path.join(example, 'hello.mod'), mod)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    img = custom_image('sdk', ['target=os'],
                       files=[(mod, '/patchbay/extra/hello.mod')])
    with Machine('default', image=img, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        m.cmd('load /esp/patchbay/extra/hello.mod', 60, check=True)
        assert re.search(r'hello: hello, world, from a module built '
                         r'outside the tree', m.serial_text())
        assert re.search(r'greeting:hello0 lang=en', m.cmd('res', 30))
        m.cmd('unload hello', 30, check=True)
        assert 'greeting:hello0' not in m.cmd('res', 30)
