"""The file formats of a saved fit and their versions: NetCDF-4 (``.nc``, with groups, through h5netcdf) and zarr
(``.zarr``, format 2), chosen by the path's suffix; each needs packages of the ``io`` extra, checked before anything
is written or read.
"""

from importlib import import_module
from pathlib import Path

from bayeslogit.exceptions import DataError, OptionError


def _write_netcdf(tree, path: Path) -> None:
    tree.to_netcdf(path, engine="h5netcdf")


def _read_netcdf(path: Path):
    import xarray as xr

    return xr.load_datatree(path, engine="h5netcdf")


def _write_zarr(tree, path: Path) -> None:
    tree.to_zarr(path, mode="w-", consolidated=True, zarr_format=2)


def _read_zarr(path: Path):
    import xarray as xr

    return xr.load_datatree(path, engine="zarr", consolidated=True)


FORMATS = {".nc": (_write_netcdf, _read_netcdf), ".zarr": (_write_zarr, _read_zarr)}
"""Suffix -> (writer, reader) of its format: NetCDF-4 with groups through h5netcdf, or zarr (format 2)."""
PACKAGES = {".nc": ("h5netcdf", "h5py"), ".zarr": ("zarr",)}
"""Suffix -> the packages its format needs, which the ``io`` extra installs (xarray imports them only when used)."""


FORMAT = "bayeslogit-fit"
VERSION = 4
"""The format version written. Version 3 is read too: it saved point fits as "PointFit" and a Normal prior's scale as
``sigma``; versions 1 and 2 stored a formula's model spec as a pickle and are refused."""
READABLE = (3, VERSION)


def file_format(path: Path) -> tuple:
    """The writer and reader of ``path``'s format, once its packages are found importable."""
    if path.suffix not in FORMATS:
        raise OptionError(
            f"a fit is saved as NetCDF or zarr, chosen by the path's suffix, one of {list(FORMATS)}; got '{path}'"
        )
    _import_packages(path)
    return FORMATS[path.suffix]


def _import_packages(path: Path) -> None:
    """Import the packages of ``path``'s format, or raise an ImportError that names those missing and the extra."""
    missing = []
    for name in PACKAGES[path.suffix]:
        try:
            import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        needs = "; ".join(f"'{suffix}' needs {' and '.join(names)}" for suffix, names in PACKAGES.items())
        raise ImportError(
            f"saving or loading '{path}' needs {' and '.join(missing)}, which cannot be imported ({needs}); "
            'install them with pip install "bayeslogit[io]"',
            name=missing[0],
        )


def check_version(version, path: Path) -> None:
    """Raise :class:`DataError` unless ``version`` is one of :data:`READABLE`, saying why."""
    if type(version) is int and version in (1, 2):
        raise DataError(
            f"'{path}' is in fit format version {version}, written by an earlier bayeslogit, which stored "
            "a formula's model spec as a pickle; this release never unpickles a file (that would run code "
            f"from it) and reads format versions {READABLE} only. Fit the model again and save the fit "
            "again with this release"
        )
    if type(version) is not int or version not in READABLE:
        raise DataError(
            f"'{path}' is in fit format version {version!r:.20}, which this bayeslogit does not read (it "
            f"reads versions {READABLE}); a newer bayeslogit wrote it, or it is damaged"
        )
