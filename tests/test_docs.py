# Copyright (c) mmpanet contributors. All rights reserved.
"""The docs and the README: the site builds with warnings as errors, every
results table is the one its results file gives, every repository path,
config name and link they mention exists, the README renders as PyPI's
long description, and the docs' Python examples run on a checkpoint the
project's own training wrote."""
import fnmatch
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from tool_utils import ROOT

import mmpanet
from mmpanet.analysis.results_tables import (doc_pages, results_files,
                                             update_page)
from mmpanet.utils.registered import registered_modules

DOCS = osp.join(ROOT, 'docs', 'en')
PAGES = doc_pages(ROOT)
# a repository path: from a top-level folder of the repository, as far as
# path characters go
REPO_PATH = re.compile(r'(?<![\w./-])((?:mmpanet|configs|tools|tests|docs|'
                       r'requirements|\.ci)/[\w./{}*<>-]*)')
# a config's file name: ``{algorithm}_{backbone}_..._{dataset}.py``, the
# datasets read from the configs themselves
DATASETS = sorted({
    osp.splitext(p)[0].rsplit('_', 1)[-1]
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if '_base_' not in p
})
CONFIG_NAME = re.compile(r'(?<![\w./*-])([\w.*-]+_(?:%s)\.py)\b' %
                         '|'.join(DATASETS))
LINK = re.compile(r'\]\(([^)\s]+)\)')
CONFIGS = {
    osp.basename(p)
    for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
}


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def rel(path: str) -> str:
    return osp.relpath(path, ROOT)


def test_the_pages_are_the_readme_the_configs_readmes_and_the_docs():
    names = {rel(p) for p in PAGES}
    assert {
        'README.md', 'configs/panet/README.md', 'configs/shapes/README.md',
        'configs/benchmark/README.md', 'docs/en/index.md',
        'docs/en/user_guides/main_job.md'
    } <= names
    assert not [n for n in names if '_build' in n]


def test_docs_build_with_warnings_as_errors(tmp_path):
    out = tmp_path / 'html'
    proc = subprocess.run([
        sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
        'html', '-d',
        str(tmp_path / 'doctrees'), DOCS,
        str(out)
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    # every page is built (each is in a toctree, or -W would have failed)
    for page in glob.glob(osp.join(DOCS, '**', '*.md'), recursive=True):
        name = osp.relpath(page, DOCS)
        if name.split(osp.sep)[0] in ('_build', '_generated', 'results'):
            continue
        assert (out / name.replace('.md', '.html')).is_file(), name
    # the API page documents every class import mmpanet registers
    api = (out / 'api.html').read_text()
    for classes in registered_modules().values():
        for path in classes:
            assert f'id="{path}"' in api, path


def test_every_results_table_is_the_one_its_file_gives():
    stale = {rel(p): update_page(p, write=False) for p in PAGES}
    assert not {
        page: files
        for page, files in stale.items() if files
    }, ('run python tools/misc/update_results_tables.py')


def test_every_results_file_has_a_table():
    shown = {
        osp.normpath(osp.join(osp.dirname(page), path))
        for page in PAGES
        for path in results_files(page)
    }
    stored = set(glob.glob(osp.join(DOCS, 'results', '*.json')))
    assert stored - shown == set()
    assert shown - stored == set()


def test_a_table_that_differs_from_its_file_is_found(tmp_path):
    os.makedirs(tmp_path / 'results')
    data = read(osp.join(DOCS, 'results', 'main_job.json'))
    (tmp_path / 'results' / 'main_job.json').write_text(data)
    page = tmp_path / 'page.md'
    page.write_text('# t\n\n<!-- results: runs results/main_job.json -->\n'
                    '<!-- end results -->\n')
    assert update_page(str(page)) == ['results/main_job.json']
    assert update_page(str(page)) == []
    changed = json.loads(data)
    first = next(iter(changed.values()))
    first['runs'][0]['metrics']['coco/segm_mAP'] = 0.123
    (tmp_path / 'results' / 'main_job.json').write_text(json.dumps(changed))
    assert update_page(str(page), write=False) == ['results/main_job.json']
    assert '0.123' not in page.read_text()


def mentions(page: str):
    text = read(page)
    for match in REPO_PATH.finditer(text):
        path = match.group(1).rstrip('.,:;')
        # placeholders and what the docs build writes
        if not re.search(r'[<>{}]|_build', path):
            yield 'path', path
    for match in CONFIG_NAME.finditer(text):
        # 'panet-det*_...' and '..._1100i_shapes.py' stand for several
        yield 'config', re.sub(r'^\.\.\.', '*', match.group(1))
    for match in LINK.finditer(text):
        target = match.group(1).split('#')[0]
        if target and not re.match(r'[a-z]+:', target):
            yield 'link', osp.normpath(
                osp.join(osp.dirname(rel(page)), target))


def missing(page: str) -> list:
    """What ``page`` mentions that is not in the repository."""
    return [(kind, name) for kind, name in mentions(page)
            if not (fnmatch.filter(CONFIGS, name) if kind ==
                    'config' else glob.glob(osp.join(ROOT, name)))]


@pytest.mark.parametrize('page', PAGES, ids=rel)
def test_every_path_config_and_link_a_page_mentions_exists(page):
    assert missing(page) == []


def test_the_check_finds_a_wrong_path_config_and_link(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('See `tools/no_such_tool.py`, `configs/shapes/`, '
                    '`panet_r99_pafpn-relu_1x_coco.py`, '
                    '`panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py`, '
                    '`panet-det*_r50_pafpn-gn_ms-90k_coco.py`, '
                    '`..._mbn-adamw-550i_shapes.py`, '
                    '`panet-x*_r50_pafpn-gn_ms-90k_coco.py`, '
                    '[x](no_such.md) and [y](page.md).')
    assert missing(str(page)) == [
        ('path', 'tools/no_such_tool.py'),
        ('config', 'panet_r99_pafpn-relu_1x_coco.py'),
        ('config', 'panet-x*_r50_pafpn-gn_ms-90k_coco.py'),
        ('link', osp.normpath(osp.join(rel(str(tmp_path)), 'no_such.md')))
    ]


def test_readme_is_short_and_renders_as_the_pypi_long_description():
    from readme_renderer.markdown import render
    text = read(osp.join(ROOT, 'README.md'))
    assert len(text.encode()) <= 10 * 1024
    html = render(text)  # None when it cannot be rendered (twine check)
    assert html and '<table>' in html and '<h2' in html
    # setup.py gives it to PyPI as Markdown
    setup_py = read(osp.join(ROOT, 'setup.py'))
    assert "long_description_content_type='text/markdown'" in setup_py


def test_readme_names_the_two_commands_and_the_ci_runs_its_test_command():
    readme = read(osp.join(ROOT, 'README.md'))
    assert 'bash tools/run_main_job.sh' in readme
    assert 'bash tools/run_tests.sh' in readme
    assert 'tools/run_tests.sh' in read(osp.join(ROOT, '.ci', 'run'))


def test_citation_and_licence_agree_with_the_package():
    citation = yaml.safe_load(read(osp.join(ROOT, 'CITATION.cff')))
    assert citation['version'] == mmpanet.__version__
    assert citation['license'] == 'Apache-2.0'
    assert 'Apache License 2.0' in read(osp.join(ROOT, 'setup.py'))
    assert 'Apache License' in read(osp.join(ROOT, 'LICENSE'))
    paper = citation['preferred-citation']
    readme = read(osp.join(ROOT, 'README.md'))
    assert f'title     = {{{paper["title"]}}}' in readme
    assert f'year      = {{{paper["year"]}}}' in readme


def python_examples(page: str) -> list:
    return re.findall(r'```python\n(.*?)```', read(page), re.S)


def test_the_inference_examples_run_on_a_trained_checkpoint(
        trained_main_job, tmp_path):
    """Each Python block of the inference page, as written, in a folder laid
    out as the page assumes (the configs, the main job's work dir and the
    shapes data), on the main job's model trained for a few iterations."""
    data_cwd, checkpoint = trained_main_job
    cwd = tmp_path / 'clone'
    os.makedirs(cwd / 'work_dirs' / 'main_job')
    os.symlink(osp.join(ROOT, 'configs'), cwd / 'configs')
    os.symlink(data_cwd / 'data', cwd / 'data')
    shutil.copy(checkpoint, cwd / 'work_dirs' / 'main_job' / 'iter_550.pth')
    examples = python_examples(osp.join(DOCS, 'user_guides', 'inference.md'))
    assert len(examples) == 2
    for code in examples:
        proc = subprocess.run([sys.executable, '-c', code],
                              cwd=cwd,
                              capture_output=True,
                              text=True,
                              timeout=600)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        assert 'Traceback' not in proc.stderr
    # what the examples print and write
    assert (cwd / 'outputs' / 'vis' / '00000.png').is_file()
    assert 'torch.Size([' in proc.stdout


def test_configs_shown_whole_in_the_backbone_guide_are_the_files():
    """A block introduced by a config's path and a colon is that file, less
    its leading comment; an abridged one says so."""
    page = read(osp.join(DOCS, 'user_guides', 'backbones.md'))
    shown = re.findall(r'`(configs/\S+\.py)`:\n\n```python\n(.*?)```', page,
                       re.S)
    assert len(shown) == 2
    for path, code in shown:
        text = read(osp.join(ROOT, path))
        assert re.sub(r'\A(#.*\n)+', '', text) == code, path
    assert '_swin-t-p4-w7_pafpn-relu_rbl-mst-mbn-160k_coco.py` (abridged)' \
        in page
