"""The out-of-tree module SDK (make sdk): unpacked alone into an empty
directory, it builds its example module and runs its host test with clang,
lld and cc only; the module, put on the ESP, loads and runs."""

import os
import re
import shutil
import subprocess
import tarfile

from pbtest import Machine, PROMPT, ROOT, workdir
from images import custom_image

TARBALL = os.path.join(ROOT, 'build', 'patchbay-sdk.tar.gz')


def run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 0, '%s: %s' % (' '.join(argv), r.stdout)
    return r.stdout


def test_sdk_builds_and_loads_a_module():
    run(['make', '-s', 'sdk'], ROOT)
    # An empty directory away from the tree, with the tarball only.
    where = os.path.join(workdir(), 'sdk-user')
    shutil.rmtree(where, ignore_errors=True)
    os.makedirs(where)
    with tarfile.open(TARBALL) as t:
        names = t.getnames()
        assert not [n for n in names if '/build/' in n or
                    n.endswith(('.o', '.mod'))], names
        t.extractall(where)
    example = os.path.join(where, 'patchbay-sdk', 'example')
    run(['make'], example)
    out = run(['make', 'test'], example)
    assert re.findall(r'^PASS ', out, re.M) and 'FAIL' not in out, out
    info = run(['build/modinfo', 'hello.mod'], example)
    assert re.search(r'\bhello\b', info) and 'greeting' in info, info
    img = custom_image('sdk', ['target=os'],
                       files=[(os.path.join(example, 'hello.mod'),
                               '/patchbay/extra/hello.mod')])
    with Machine('default', image=img, timeout=240) as m:
        m.expect(r'^' + re.escape(PROMPT), 180)
        m.cmd('load /esp/patchbay/extra/hello.mod', 60, check=True)
        assert re.search(r'hello: hello, world, from a module built '
                         r'outside the tree', m.serial_text())
        assert re.search(r'greeting:hello0 lang=en', m.cmd('res', 30))
        m.cmd('unload hello', 30, check=True)
        assert 'greeting:hello0' not in m.cmd('res', 30)
