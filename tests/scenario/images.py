"""images: test images built from build/patchbay.img for scenario tests.

hub_image(mods, cfg_lines) copies the image into the test's work directory,
adds test modules from build/test-mods (and broken ones from
build/test-broken), and replaces \\patchbay\\boot.cfg.
"""

import os

from pbtest import ROOT, esp_put, image_copy, workdir

BASE = os.path.join(ROOT, 'build', 'patchbay.img')


def custom_image(name, cfg_lines, mods=(), broken=(), files=()):
    img = image_copy(BASE, os.path.join(workdir(), name + '.img'))
    for m in mods:
        esp_put(img, os.path.join(ROOT, 'build', 'test-mods', m + '.mod'),
                '/patchbay/mods/%s.mod' % m)
    for b in broken:
        esp_put(img, os.path.join(ROOT, 'build', 'test-broken', b + '.mod'),
                '/patchbay/mods/broken-%s.mod' % b)
    for local, path in files:
        esp_put(img, local, path)
    cfg = os.path.join(workdir(), name + '.cfg')
    with open(cfg, 'w') as f:
        f.write('\n'.join(cfg_lines) + '\n')
    esp_put(img, cfg, '/patchbay/boot.cfg')
    return img
