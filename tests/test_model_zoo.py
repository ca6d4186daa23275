# Copyright (c) mmpanet contributors. All rights reserved.
"""metafile.yml, model-index.yml and configs/panet/README.md agree with
mmpanet/paper/tables.py, the one list of the rows and configs."""
import os.path as osp

import yaml
from tool_utils import ROOT, load_tool

from mmpanet.paper import model_zoo
from mmpanet.paper.tables import RELEASED, TABLES, config_names


def test_metafile_and_readme_tables_are_generated_from_the_tables():
    tool = load_tool('tools/misc/update_model_zoo.py')
    tool.main(['--check'])  # exits 1 when a file differs from the tables


def test_model_index_imports_the_metafile():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert index == {'Import': [f'{model_zoo.CONFIG_DIR}/metafile.yml']}


def test_metafile_lists_every_config_and_row():
    models = model_zoo.metafile()['Models']
    assert [m['Name'] for m in models] == config_names()
    for m in models:
        assert osp.isfile(osp.join(ROOT, m['Config'])), m['Config']
    ablations = ' '.join(m['Metadata'].get('Ablation', '') for m in models)
    for table in TABLES:
        for row in table.rows:
            assert f'row {row.key} ' in ablations
    released = {m['Name']: m for m in models if 'Converted From' in m}
    assert sorted(released) == sorted(m.config for m in RELEASED)


def test_readme_shows_every_row_with_the_papers_numbers():
    text = model_zoo.readme_tables()
    for table in TABLES:
        for row in table.rows:
            line = next(li for li in text.splitlines()
                        if li.startswith(f'| {row.key} |'))
            assert f'[{row.config}]({row.config}.py)' in line
            first = row.paper[table.columns[0]]
            assert ('-' if first is None else f'{first:.1f}') in line
    for m in RELEASED:
        assert m.download in text and f'{m.authors_box_ap:.1f}' in text


def test_docs_list_the_released_models_as_the_tables_do():
    page = osp.join(ROOT, 'docs', 'en', 'user_guides', 'authors_weights.md')
    with open(page) as f:
        section = f.read()
    for m in RELEASED:
        assert m.download in section
        assert f'configs/panet/{m.config}.py' in section
        assert osp.basename(m.authors_config) in section
        assert f'{m.authors_box_ap:.1f} box AP' in section
