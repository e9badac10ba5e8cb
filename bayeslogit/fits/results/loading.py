"""``bl.load``: a saved fit of any class, flat (:mod:`bayeslogit.fits.storage.files`) or multilevel
(:mod:`bayeslogit.fits.storage.multilevel_files`), read by the file's own kind. It lives with the results because a
multilevel fit is built here from the parts that storage reads and checks."""

from pathlib import Path

from bayeslogit.fits.storage import files, multilevel_files, tree_files


def load(path, model=None):
    """Read a fit written by ``fit.save(path)``: the class it was saved as.

    Parameters
    ----------
    path : str or Path
        A ``.nc`` file or ``.zarr`` directory.
    model : optional
        For a flat fit, a model of its data (:func:`bayeslogit.fits.storage.files.load_tree`); for a multilevel fit,
        the ``MultilevelModel`` it was made of, or another fit of it, whose formula, labels and training rows must
        be those saved (:func:`bayeslogit.fits.storage.multilevel_files.matching`): the loaded fit then shares its
        source.

    Raises
    ------
    DataError
        When the file is damaged, foreign, of another format version or does not parse into a fit, or ``model``
        is a multilevel model of another formula or other data; the message names the file.
    OptionError
        When ``model`` is of the other kind, or a flat model does not match.
    """
    path = Path(path)
    schemas = {kind: (lambda kind=kind: files.schema(kind)) for kind in files.KINDS} | multilevel_files.schemas()
    tree, meta = tree_files.read(path, schemas)
    if meta["fit"] in files.KINDS:
        return files.load_tree(tree, meta, model, path)
    saved = multilevel_files.saved_fit(tree, meta, path)
    source = None if model is None else multilevel_files.matching(model, saved, path)
    return tree_files.parsed(lambda: _multilevel_fit(saved, source), path)


def _multilevel_fit(saved, source):
    """The multilevel fit of the parts ``saved`` (a :class:`~bayeslogit.fits.storage.multilevel_files.SavedFit`),
    with ``source`` (a given model's ``FitSource``; None: the saved one)."""
    from bayeslogit.fits.results.multilevel import FitSource, GroupLayout
    from bayeslogit.fits.results.multilevel_mcmc import MultilevelMCMCFit, multilevel_diagnosis
    from bayeslogit.fits.results.multilevel_point import MultilevelMAPFit, MultilevelMLFit

    layout = GroupLayout(*saved.layout)
    source = FitSource(*saved.source) if source is None else source
    if saved.kind == MultilevelMCMCFit.__name__:
        posterior = saved.estimate
        return MultilevelMCMCFit(
            posterior, multilevel_diagnosis(posterior, layout), layout, source, saved.prior, saved.group_prior,
            saved.seconds,
        )  # fmt: skip
    point = {cls.__name__: cls for cls in (MultilevelMLFit, MultilevelMAPFit)}[saved.kind]
    return point(saved.estimate, layout, source, saved.prior, saved.group_prior, saved.n_agq, saved.seconds)
