# Copyright (c) mmpanet contributors. All rights reserved.
"""Install mmpanet.

``pip install -e .`` (development) links ``configs/``, ``tools/`` and
``model-index.yml`` into ``mmpanet/.mim`` so that ``mim train mmpanet CONFIG``
finds them; ``pip install .`` copies them into the package instead.
torch is not imported here.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    scope = {}
    with open(osp.join(ROOT, 'mmpanet', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def link_or_copy_mim_files() -> None:
    """Make ``mmpanet/.mim/{configs,tools,model-index.yml}``: symbolic links
    for a development install, copies for a wheel or regular install."""
    develop = any(arg in ('develop', 'editable_wheel') for arg in sys.argv)
    mim_dir = osp.join(ROOT, 'mmpanet', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(ROOT, name)
        dst = osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if develop:
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def parse_requirements(path: str = 'requirements.txt') -> list:
    with open(osp.join(ROOT, path)) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


if __name__ == '__main__':
    link_or_copy_mim_files()
    setup(
        name='mmpanet',
        version=read_version(),
        description='PANet (Path Aggregation Network for Instance '
        'Segmentation) for MMDetection 3.x',
        long_description=open(osp.join(ROOT, 'README.md')).read(),
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        python_requires='>=3.8',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        install_requires=parse_requirements(),
        extras_require={
            extra:
            parse_requirements(osp.join('requirements', f'{extra}.txt'))
            for extra in ('deploy', 'docs')
        },
        zip_safe=False)
