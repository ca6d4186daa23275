# Copyright (c) mmpanet contributors. All rights reserved.
"""Sphinx configuration of the mmpanet docs (MyST Markdown pages, an API
page generated from mmpanet's registered modules).

    sphinx-build -W -b html docs/en docs/en/_build/html
"""
import os
import os.path as osp

import mmpanet

project = 'mmpanet'
copyright = 'mmpanet contributors'
version = release = mmpanet.__version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['_build', '_generated', 'results']
myst_heading_anchors = 3
autodoc_member_order = 'bysource'
autodoc_default_options = {'show-inheritance': True}
napoleon_use_rtype = False
html_theme = 'furo'
html_title = f'mmpanet {version}'


def write_api_page(app) -> None:
    """``_generated/api_registered.txt`` (included by ``api.rst``): every
    class mmpanet registers, by registry, read from the registries."""
    from mmpanet.utils.registered import registered_modules
    lines = []
    for registry, classes in registered_modules().items():
        title = f'Registered in ``{registry}``'
        lines += [title, '-' * len(title), '']
        lines += [f'.. autoclass:: {path}\n   :members:\n' for path in classes]
    os.makedirs(osp.join(app.srcdir, '_generated'), exist_ok=True)
    with open(osp.join(app.srcdir, '_generated', 'api_registered.txt'),
              'w') as f:
        f.write('\n'.join(lines))


def setup(app):
    app.connect('builder-inited', write_api_page)
