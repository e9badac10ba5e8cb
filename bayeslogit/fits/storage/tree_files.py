"""The envelope of every saved fit, flat or multilevel: an ``xarray.DataTree`` written atomically as NetCDF or zarr,
with its JSON metadata and checksum in the root's attribute ``bayeslogit``, read back only once the file parses, its
format and version are known and its checksum matches (see :mod:`.files` for what a flat fit's tree holds and
:mod:`.multilevel_files` for a multilevel one's).

Text statistics of a sampler may hold None (nutpie's ``divergence_message``), which NetCDF and zarr cannot: they are
written with None as "" (:func:`texts_written`) and read back with "" as None (:func:`texts_read`).
"""

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from bayeslogit.atomic import staged_write
from bayeslogit.exceptions import DataError, OptionError
from bayeslogit.fits.storage.checksum import checksum
from bayeslogit.fits.storage.formats import FORMAT, VERSION, check_version, file_format
from bayeslogit.fits.storage.plain import checked


def write(groups: dict, meta: dict, path: Path) -> Path:
    """Write the tree of ``groups`` (node path -> ``xarray.Dataset``) with the metadata ``meta`` (plain data; the
    format, version and checksum added) to ``path``, atomically: an existing file is replaced only once the new one
    is whole, and a failed write leaves nothing behind."""
    import xarray as xr

    writer = file_format(path)[0]
    tree = xr.DataTree.from_dict(groups)
    meta = json.loads(json.dumps({"format": FORMAT, "version": VERSION, **meta}, default=_plain))  # as read back
    tree.attrs["bayeslogit"] = json.dumps(meta | {"checksum": checksum(tree, meta)})
    with staged_write(path) as temporary:
        writer(tree, temporary)
    return path


def _plain(value):
    """JSON for NumPy scalars (class labels held in object arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    raise OptionError(f"cannot save a value of type {type(value).__name__} ({value!r}) in a fit's metadata")


def read(path: Path, schemas: Mapping[str, Callable[[], dict]]) -> tuple:
    """The tree saved at ``path`` and its metadata, checked: format, version, checksum, a fit class of ``schemas``
    (class name -> the shape of its metadata, see :mod:`.plain`) and that shape.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    DataError
        When the file is damaged (does not parse, or fails its checksum), was not written by ``fit.save``, is of
        another format version, or its metadata has not the shape of its class's; the message names the file.
    """
    reader = file_format(path)[1]
    if not path.exists():
        raise FileNotFoundError(f"no saved fit at '{path}'")
    try:
        tree = reader(path)
    except Exception as error:  # h5py, netCDF4 and zarr each raise their own errors on a damaged file
        raise DataError(
            f"cannot read '{path}' as a saved fit ({type(error).__name__}: {error}); the file is damaged "
            "(truncated?) or was not written by fit.save"
        ) from error
    text = tree.attrs.get("bayeslogit")
    try:
        meta = json.loads(text) if isinstance(text, str) else None
    except (json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"'{path}' is damaged: its fit metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(
            f"'{path}' is not a saved bayeslogit fit: its root has no bayeslogit fit metadata (it holds "
            f"the groups {sorted(tree.groups)}); fits are saved with fit.save(path), other files are read "
            "with xarray"
        )
    check_version(meta.get("version"), path)
    if checksum(tree, meta) != meta.get("checksum"):
        raise DataError(
            f"'{path}' is damaged: its arrays and metadata do not match the checksum written with them (a "
            "truncated, partly copied or altered file); save the fit again"
        )
    if not isinstance(meta.get("fit"), str) or meta["fit"] not in schemas:
        raise DataError(f"'{path}' holds a fit of class {meta.get('fit')!r:.40}; this bayeslogit loads {list(schemas)}")
    common = {"format": str, "version": int, "fit": str, "checksum": str}
    return tree, parsed(lambda: checked(meta, common | schemas[meta["fit"]](), "the metadata"), path)


def parsed(read, path: Path):
    """``read()``, with what it finds wrong with the file raised as a :class:`DataError` naming ``path``."""
    try:
        return read()
    except DataError as error:
        raise DataError(
            f"'{path}' does not hold a fit that this bayeslogit reads: {error}; save the fit again"
        ) from None
    except (KeyError, IndexError, TypeError, ValueError) as error:  # arrays missing, or of other shapes
        raise DataError(
            f"'{path}' does not hold the arrays of a saved fit ({type(error).__name__}: {error}); save the fit again"
        ) from None


def texts_written(stats):
    """``stats`` (an ``xarray.Dataset``) with its text variables' None as "", and the names of those variables."""
    texts = [name for name, variable in stats.data_vars.items() if variable.dtype == object]
    return stats.assign({name: stats[name].copy(data=_text(stats[name].values)) for name in texts}), texts


def _text(values: np.ndarray) -> np.ndarray:
    """An object array of text and None as text, None as ""."""
    texts = ["" if value is None else str(value) for value in values.ravel()]
    return np.array(texts, dtype=object).reshape(values.shape)


def texts_read(stats, texts: list):
    """``stats`` with the "" of its variables ``texts`` read back as None (:func:`texts_written`)."""
    return stats.assign(
        {name: stats[name].copy(data=np.where(stats[name].values == "", None, stats[name].values)) for name in texts}
    )
