# Copyright (c) mmpanet contributors. All rights reserved.
"""Checkpoints and pickles are loaded without running code from them.

Unpickling can call any function a file names. Here every file is read with
``torch.load(weights_only=True)`` (tensors, containers, numbers and strings)
plus the few objects an MMEngine ``Runner`` checkpoint holds beyond those
(:data:`RUNNER_GLOBALS`); a file that names anything else is refused with
:class:`UntrustedCheckpointError`, which says what was refused and how to
load the file anyway if you trust it (:func:`trusted_checkpoint`, or the
tools' ``--trust-checkpoint FILE``).

Importing :mod:`mmpanet` registers the loaders below for every scheme of
mmengine's ``CheckpointLoader`` (local files, ``http(s)://``,
``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``s3://``,
``pavi://``), so ``load_from``, ``--resume``, ``load_checkpoint``,
``Pretrained`` init, mmdet's ``init_detector`` and ``DetInferencer`` all go
through :func:`load`. Downloads are checked against a pinned SHA-256
(:func:`check_download`) before they are loaded. mmengine's ``.pkl`` reader
(proposal files, dumped results) gets a restricted unpickler
(:class:`SafePickleHandler`).
"""
import collections
import contextlib
import hashlib
import io
import os
import os.path as osp
import pickle
import re
import shutil
import tempfile
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional

import _compat_pickle
import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.fileio import get_file_backend, register_handler
from mmengine.fileio.handlers import PickleHandler
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import (CheckpointLoader, _get_mmengine_home,
                                        get_deprecated_model_names,
                                        get_external_models, get_mmcls_models,
                                        get_torchvision_models)

__all__ = [
    'UntrustedCheckpointError', 'DownloadHashError', 'load',
    'trusted_checkpoint', 'check_download', 'download_cache', 'PINNED_SHA256'
]


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A file names objects that loading it would have to call; refused."""


class DownloadHashError(RuntimeError):
    """A downloaded file's SHA-256 is not the pinned one."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as a Runner checkpoint's ``HistoryBuffer`` pickles use it
    (``getattr(HistoryBuffer, 'mean')`` for its statistics methods), and for
    nothing else."""
    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


_reconstruct = np.ndarray.__reduce__(np.zeros(0))[0]
_scalar = np.float64(0).__reduce__()[0]
# what a Runner checkpoint holds beyond tensors and containers: its message
# hub's HistoryBuffers (with their statistics methods, reached through a
# restricted getattr), numpy arrays, dtypes and scalars (the random states
# and logged values); files written under numpy 1.x name ``numpy.core``
RUNNER_GLOBALS = [
    HistoryBuffer,
    (_history_buffer_getattr, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    # the dtypes of its arrays: logged values, their counts, the random state
    type(np.dtype(np.float64)),
    type(np.dtype(np.int64)),
    type(np.dtype(np.uint32)),
    (_reconstruct, 'numpy._core.multiarray._reconstruct'),
    (_reconstruct, 'numpy.core.multiarray._reconstruct'),
    (_scalar, 'numpy._core.multiarray.scalar'),
    (_scalar, 'numpy.core.multiarray.scalar'),
]

_trusted: List[str] = []
# how torch's weights-only unpickler names what it refused
_REFUSED = re.compile(r"GLOBAL (\S+) (?:was not an allowed global|whose "
                      r"module)|but got <class '([^']+)'>")


def _key(name: str) -> str:
    """How a trusted file or URL is matched."""
    if '://' in name:
        return name
    return osp.realpath(osp.expanduser(name))


@contextlib.contextmanager
def trusted_checkpoint(*names: str) -> Iterator[None]:
    """Within this context, the files (or URLs) ``names`` are loaded with a
    full unpickle (``weights_only=False``), and downloads among them need no
    pinned hash. Use it only for files you trust: unpickling can run any
    code the file names. Other files stay refused as usual.

    Example::

        with mmpanet.trusted_checkpoint('old.pth'):
            model = init_detector(config, 'old.pth')
    """
    keys = [_key(n) for n in names]
    _trusted.extend(keys)
    try:
        yield
    finally:
        for k in keys:
            _trusted.remove(k)


def is_trusted(name: str) -> bool:
    return _key(name) in _trusted


def _refused_globals(source: Any, error: Exception) -> List[str]:
    names: List[str] = []
    if isinstance(source, str):
        try:
            names = torch.serialization.get_unsafe_globals_in_checkpoint(
                source)
        except Exception:  # noqa: BLE001 (a legacy, non-zip file)
            names = []
    allowed = {
        g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
        for g in RUNNER_GLOBALS
    }
    names = [n for n in names if n not in allowed]
    found = [a or b for a, b in _REFUSED.findall(str(error))]
    return names or found or ['an object it does not allow']


def load(source: Any,
         map_location: Any = None,
         name: Optional[str] = None) -> Any:
    """``torch.load`` of ``source`` (a path or a file object) that runs no
    code from it, unless ``name`` (default: ``source``) is trusted (see
    :func:`trusted_checkpoint`).

    Raises:
        UntrustedCheckpointError: in one line, the objects refused and how
            to opt in for this file.
    """
    name = name if name is not None else str(source)
    if is_trusted(name):
        return torch.load(
            source, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(RUNNER_GLOBALS):
            return torch.load(
                source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        refused = ', '.join(_refused_globals(source, e))
        raise UntrustedCheckpointError(
            f'{name} was not loaded: it names {refused}, which loading would '
            'have to call (unpickling can run code from the file). If you '
            'trust the file, load it with --trust-checkpoint '
            f'{name} (Python: with mmpanet.trusted_checkpoint({name!r}): '
            '...)') from None


# ---------------------------------------------------------------- downloads
# SHA-256 of downloadable weights, by URL. A URL may also carry its own pin
# as a fragment, ``https://host/file.pth#sha256=<hex>`` (pip's convention);
# a file named as torch hub names them, ``name-<first hex digits of the
# SHA-256>.pth``, is checked against that prefix (torch's ``check_hash``).
PINNED_SHA256: Dict[str, str] = {}
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,})\.')


def _split_pin(url: str):
    """``(url without the fragment, the SHA-256 pinned in it or None)``."""
    parts = urllib.parse.urlsplit(url)
    pin = urllib.parse.parse_qs(parts.fragment).get('sha256', [None])[0]
    return urllib.parse.urlunsplit(parts._replace(fragment='')), pin


def pinned_hash(url: str) -> Optional[str]:
    """The full or leading hex digits of ``url``'s pinned SHA-256, or
    None."""
    bare, pin = _split_pin(url)
    if pin or bare in PINNED_SHA256:
        return (pin or PINNED_SHA256[bare]).lower()
    match = _HASH_IN_NAME.search(
            osp.basename(urllib.parse.urlsplit(bare).path))
    return match.group(1) if match else None


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_download(path: str, url: str) -> None:
    """Raise :class:`DownloadHashError` unless ``path``'s SHA-256 is the one
    pinned for ``url`` (or ``url`` is trusted)."""
    expected = pinned_hash(url)
    if expected is None:
        if is_trusted(url) or is_trusted(_split_pin(url)[0]):
            return
        raise DownloadHashError(
            f'{url}: no SHA-256 is pinned for this download, so it is not '
            f'loaded ({path}). Check the file, then pin it in the config '
            f"(checkpoint='{url}#sha256=<sha256 of the file>') or trust it "
            f'for this run (--trust-checkpoint {url})')
    actual = sha256_of(path)
    if not actual.startswith(expected):
        raise DownloadHashError(
            f'{url}: SHA-256 mismatch for {path}: expected {expected}, got '
            f'{actual}. The file is not loaded; delete it to download it '
            'again')


def download_cache(url: str) -> str:
    """Where the file of ``url`` is kept: torch hub's cache,
    ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``),
    where mmengine's ``load_url`` looks too."""
    bare = _split_pin(url)[0]
    name = osp.basename(urllib.parse.urlsplit(bare).path)
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def _fetch(url: str, progress: bool) -> str:
    """Download ``url`` into the cache unless it is there; check it."""
    cached = download_cache(url)
    if not osp.isfile(cached):
        os.makedirs(osp.dirname(cached), exist_ok=True)
        with tempfile.TemporaryDirectory(dir=osp.dirname(cached)) as tmp:
            part = osp.join(tmp, osp.basename(cached))
            torch.hub.download_url_to_file(
                _split_pin(url)[0], part, progress=progress)
            check_download(part, url)
            shutil.move(part, cached)
        return cached
    check_download(cached, url)
    return cached


def load_url(url: str, map_location: Any = None) -> Any:
    """Download (once, on local rank 0 first), check and load ``url``."""
    rank, world_size = get_dist_info()
    progress = os.isatty(0)
    if rank == 0:
        path = _fetch(url, progress)
    if world_size > 1:
        barrier()
        if rank > 0:
            path = _fetch(url, progress)
    return load(path, map_location, name=url)


# ------------------------------------------- mmengine's CheckpointLoader
@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location: Any = None) -> Any:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load(filename, map_location)


@CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), force=True)
def load_from_http(filename: str, map_location: Any = None) -> Any:
    return load_url(filename, map_location)


@CheckpointLoader.register_scheme(
    prefixes=('modelzoo://', 'torchvision://'), force=True)
def load_from_torchvision(filename: str, map_location: Any = None) -> Any:
    name = filename.split('://', 1)[1]
    return load_url(get_torchvision_models()[name], map_location)


def openmmlab_path(filename: str) -> str:
    """The URL (or local file under mmengine's home) that an
    ``open-mmlab://`` name stands for, deprecated names included."""
    name = filename.split('://', 1)[1]
    name = get_deprecated_model_names().get(name, name)
    url = get_external_models()[name]
    if url.startswith(('http://', 'https://')):
        return url
    return osp.join(_get_mmengine_home(), url)


@CheckpointLoader.register_scheme(
    prefixes=('open-mmlab://', 'openmmlab://'), force=True)
def load_from_openmmlab(filename: str, map_location: Any = None) -> Any:
    path = openmmlab_path(filename)
    if path.startswith(('http://', 'https://')):
        return load_url(path, map_location)
    return load_from_local(path, map_location)


@CheckpointLoader.register_scheme(prefixes='mmcls://', force=True)
def load_from_mmcls(filename: str, map_location: Any = None) -> Any:
    from mmengine.runner.checkpoint import _process_mmcls_checkpoint
    url = get_mmcls_models()[filename[len('mmcls://'):]]
    return _process_mmcls_checkpoint(load_url(url, map_location))


@CheckpointLoader.register_scheme(
    prefixes=[r'(\S+\:)?s3://', r'(\S+\:)?petrel://'], force=True)
def load_from_ceph(filename: str,
                   map_location: Any = None,
                   backend: str = 'petrel') -> Any:
    file_backend = get_file_backend(
        filename, backend_args={'backend': backend})
    with io.BytesIO(file_backend.get(filename)) as buffer:
        return load(buffer, map_location, name=filename)


@CheckpointLoader.register_scheme(prefixes='pavi://', force=True)
def load_from_pavi(filename: str, map_location: Any = None) -> Any:
    from pavi import modelcloud
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp_dir:
        path = osp.join(tmp_dir, model.name)
        model.download(path)
        return load(path, map_location, name=filename)


# ---------------------------------------------------------------- pickles
class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only containers, numbers, strings, numpy
    arrays and mmengine's ``InstanceData`` (what proposal files and dumped
    results hold); tensors inside are read with :func:`load`."""

    def find_class(self, module: str, name: str) -> Any:
        from mmengine.structures import InstanceData
        allowed = {
            'numpy._core.multiarray._reconstruct': _reconstruct,
            'numpy.core.multiarray._reconstruct': _reconstruct,
            'numpy._core.multiarray.scalar': _scalar,
            'numpy.core.multiarray.scalar': _scalar,
            'numpy.ndarray': np.ndarray,
            'numpy.dtype': np.dtype,
            'mmengine.structures.instance_data.InstanceData': InstanceData,
            'builtins.set': set,
            'collections.OrderedDict': collections.OrderedDict,
            'torch._utils._rebuild_tensor_v2': torch._utils._rebuild_tensor_v2,
            'torch.storage._load_from_bytes': _storage_from_bytes,
            '_codecs.encode': _latin1_bytes,
        }
        # protocol 2 files name Python 2 modules (``__builtin__``)
        module, name = _compat_pickle.NAME_MAPPING.get((module, name),
                                                       (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = allowed.get(f'{module}.{name}')
        if found is None:
            raise UntrustedCheckpointError(
                f'the pickle names {module}.{name}, which loading would have '
                'to call (unpickling can run code from the file); refused')
        return found


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as protocol-2 pickles write bytes, and nothing
    else."""
    if not isinstance(text, str) or encoding != 'latin1':
        raise UntrustedCheckpointError(
            f'_codecs.encode({type(text).__name__}, {encoding!r}) refused')
    return text.encode('latin1')


def _storage_from_bytes(data: bytes) -> Any:
    """A tensor storage inside a pickle, read without running code."""
    try:
        with torch.serialization.safe_globals(RUNNER_GLOBALS):
            return torch.load(io.BytesIO(data), weights_only=True)
    except pickle.UnpicklingError as e:
        raise UntrustedCheckpointError(
            'a tensor inside the pickle names ' +
            ', '.join(_refused_globals(None, e)) + ', which loading would '
            'have to call (unpickling can run code from the file); '
            'refused') from None


@register_handler(['pkl', 'pickle'])
class SafePickleHandler(PickleHandler):
    """mmengine's ``.pkl`` handler, reading with :class:`SafeUnpickler`."""

    def load_from_fileobj(self, file, **kwargs):
        return SafeUnpickler(file, **kwargs).load()

    def load_from_path(self, filepath, **kwargs):
        with open(filepath, 'rb') as f:
            return self.load_from_fileobj(f, **kwargs)
