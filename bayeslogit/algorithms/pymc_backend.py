"""The MCMC back end: with :mod:`.pymc_model`, the modules of bayeslogit that import nutpie, PyMC and PyTensor
(inside their functions).

Every sampler draws the posterior ``exp(-objective)`` in whitened coordinates: a flat vector ``z`` of shape
(n_free,) with ``u = mean + R z`` in the objective's free coordinates, i.e. ``vec(coef) = vec(MAP) + W z`` with
``W = T R`` (``R R^T = H^-1`` the Laplace covariance, ``T`` the objective's transform). Under the Laplace
Gaussian ``z`` is standard normal, so NUTS starts with its mass matrix and step size nearly adapted and the
posterior's correlations are gone (:class:`WhitenedPosterior`).

The NUTS implementations are a table, :data:`KERNELS`:

* ``"nutpie"``: nutpie's NUTS (Rust) on the package's own objective, evaluated in NumPy by a Python callback
  (``nutpie.compiled_pyfunc.from_pyfunc``). Nothing is compiled, so nothing needs caching, a fresh process pays
  only for importing nutpie (without the ``arviz`` namespace, which it imports but this path never uses) and for
  the gradients, and the density sampled is the objective itself; :mod:`.nutpie_trace` reads its raw trace. The
  callback holds the GIL except inside NumPy's array operations, so chains run in parallel threads only when
  one evaluation touches at least :data:`PARALLEL_ELEMENTS` data elements, each chain then with one BLAS thread.
  On large data the objective's passes are compiled kernels that release the GIL (:mod:`bayeslogit.numerics.fused`);
  chains in parallel threads then each run their passes on their own thread, a single chain over every core.
* ``"pymc"`` and ``"numpyro"``: ``pymc.sample`` on the PyTensor model of :func:`build_model`, whose log density
  is tested equal to the objective; PyTensor compiles it and keeps what it compiled in its own compiledir.

Coordinates of what comes back: ``predictor`` (the coefficient names) and ``class`` (the coefficient columns'
class labels, where the family has that dim).
"""

import os
from dataclasses import dataclass
from functools import cached_property
from importlib.util import find_spec

import numpy as np

from bayeslogit.algorithms.laplace import Gaussian, coef_draws
from bayeslogit.algorithms.nutpie_trace import import_nutpie, trace_arrays
from bayeslogit.algorithms.pymc_model import PRIOR_DISTRIBUTIONS
from bayeslogit.checks import check_choice
from bayeslogit.numerics.blas_threads import blas_threads
from bayeslogit.numerics.fused import in_this_thread

SAMPLERS = {
    "auto": ("nutpie", "pymc"),
    "nutpie": ("nutpie",),
    "pymc": ("pymc",),
    "numpyro": ("numpyro",),
}
"""Sampler name -> the NUTS implementations (keys of :data:`KERNELS`) it may run, in order of preference."""

_REQUIRES = {"nutpie": ("nutpie",), "pymc": (), "numpyro": ("numpyro", "jax")}
"""NUTS implementation -> modules it needs besides PyMC (a dependency)."""

PARALLEL_ELEMENTS = 250_000
"""Data elements (rows x coefficients per linear predictor x linear predictors) from which nutpie's chains run
in parallel threads.

The objective's callback holds the GIL but inside NumPy's array operations, so a second thread gains only where
one evaluation's array operations are long: below the threshold, chains in two threads were slower than in one
(wells has 9,060 elements), above it faster. ``benchmarks/mcmc_wells.py`` and ``benchmarks/mcmc_large.py``
(200,000 x 20) time ``fit_mcmc`` on either side of it.
"""


def resolve_sampler(name: str) -> str:
    """The NUTS implementation that ``sampler=name`` runs, checked without importing it.

    Raises
    ------
    ValueError
        For a name not in :data:`SAMPLERS`.
    ImportError
        When the implementation's packages are not installed.
    """
    check_choice("sampler", name, tuple(SAMPLERS))
    for candidate in SAMPLERS[name]:
        if all(find_spec(module) is not None for module in _REQUIRES[candidate]):
            return candidate
    raise ImportError(
        f"sampler={name!r} needs the packages {list(_REQUIRES[SAMPLERS[name][0]])}; install them "
        "(pip install 'bayeslogit[numpyro]') or use sampler='pymc'"
    )


@dataclass(frozen=True)
class WhitenedPosterior:
    """The posterior ``exp(-objective)`` in the coordinates ``z`` that the Laplace Gaussian makes standard normal.

    Parameters
    ----------
    objective : Objective
        The negative log posterior in free coordinates ``u``.
    gaussian : Gaussian
        The Laplace approximation: ``u = gaussian.mean + gaussian.root @ z``.
    """

    objective: object
    gaussian: Gaussian

    @property
    def n_free(self) -> int:
        return len(self.gaussian.mean)

    @cached_property
    def mean(self) -> np.ndarray:
        """The MAP as a coefficient matrix, shape (P, M)."""
        return self.objective.coef(self.gaussian.mean)

    @cached_property
    def whitening(self) -> np.ndarray:
        """``W = T R`` of shape (P * M, n_free): ``vec(coef) = vec(mean) + W z``."""
        return self.gaussian.whitening(self.objective.transform)

    def logp(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        """Log density ``-objective(u)`` (up to a constant) and its gradient ``-R^T grad objective(u)``, of shape
        (n_free,), at ``z`` of shape (n_free,)."""
        value, grad = self.objective.value_and_gradient(self.gaussian.mean + self.gaussian.root @ z)
        return -value, -(grad @ self.gaussian.root)

    def coef(self, z: np.ndarray) -> np.ndarray:
        """Coefficient matrices of shape (..., P, M) of points ``z`` of shape (..., n_free)."""
        return coef_draws(self.objective, self.gaussian, z)

    @property
    def elements(self) -> int:
        """Data elements one evaluation of the objective reads: rows x predictors x linear predictors."""
        P, M = self.mean.shape
        return self.objective.design.n_samples * P * M


def sample(
    posterior: WhitenedPosterior,
    coef_coords: dict,
    nuts_sampler: str,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed,
    progressbar: bool,
    **kwargs,
) -> tuple[np.ndarray, object]:
    """Run NUTS on ``posterior`` from ``z = 0`` (the MAP, jittered per chain).

    Parameters
    ----------
    posterior : WhitenedPosterior
    coef_coords : dict
        Labels of the coefficient dims, ``{"predictor": names}`` plus ``{"class": labels}`` when the family's
        ``coef_dims`` have a class axis.
    nuts_sampler : {"nutpie", "pymc", "numpyro"}
        A key of :data:`KERNELS`, from :func:`resolve_sampler`.
    draws, tune, chains : int
    random_seed : int, numpy.random.Generator or None
        nutpie takes an int: a Generator gives one.
    progressbar : bool
        Show the sampler's progress; False also silences PyMC's logging.
    **kwargs
        Passed to ``nutpie.sample`` or ``pymc.sample`` (``cores``, ``target_accept``, ...).

    Returns
    -------
    coef_draws : ndarray of shape (chains, draws, P, M)
    sample_stats : xarray.Dataset
        The sampler's statistics (``diverging``, ``step_size``, ...), dims (chain, draw).
    """
    return KERNELS[nuts_sampler](
        posterior,
        coef_coords,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        progressbar=progressbar,
        **kwargs,
    )


def _sample_nutpie(
    posterior: WhitenedPosterior,
    coef_coords: dict,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed,
    progressbar: bool,
    cores: int | None = None,
    **kwargs,
):
    """nutpie's NUTS with the objective as a Python callback; see the module's docstring.

    A Python exception inside the callback would make nutpie's Rust threads panic, so the callback answers
    ``-inf`` instead (a divergent transition), and the first such exception is raised once sampling stops.
    """
    import xarray as xr

    nutpie = import_nutpie()
    from nutpie.compiled_pyfunc import from_pyfunc

    failures = []
    if cores is None:
        cores = min(chains, os.cpu_count() or 1) if posterior.elements >= PARALLEL_ELEMENTS else 1

    def logp(z, **_):
        try:  # chains in parallel threads each run their passes alone; one chain shares them over the cores
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), in_this_thread(cores > 1):
                return posterior.logp(z)
        except Exception as error:
            failures.append(error)
            return -np.inf, np.full(len(z), np.nan)

    def make_expand(*_):
        return lambda z, **__: {"z": z.copy()}

    compiled = from_pyfunc(
        posterior.n_free,
        lambda: logp,
        make_expand,
        [np.dtype("float64")],
        [(posterior.n_free,)],
        ["z"],
        coords={"free": np.arange(posterior.n_free)},
        dims={"z": ("free",)},
    )
    if random_seed is not None and not isinstance(random_seed, int | np.integer):
        random_seed = int(np.random.default_rng(random_seed).integers(2**63))
    with blas_threads(1 if cores > 1 else None):
        trace = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=random_seed,
            progress_bar=progressbar,
            save_warmup=False,
            return_raw_trace=True,
            **kwargs,
        )
    if failures:
        raise failures[0]
    z, stats = trace_arrays(trace, "z", draws)
    sample_stats = xr.Dataset(
        {stat: (("chain", "draw"), values) for stat, values in stats.items()},
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
        attrs={"inference_library": "nutpie", "inference_library_version": nutpie.__version__},
    )
    return posterior.coef(z), sample_stats


def _sample_pymc(nuts_sampler: str):
    """``pymc.sample(nuts_sampler=...)`` on the PyTensor model of :func:`build_model`."""

    def run(
        posterior: WhitenedPosterior,
        coef_coords: dict,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed,
        progressbar: bool,
        **kwargs,
    ):
        import pymc as pm

        pm_model = build_model(posterior.objective, posterior.mean, posterior.whitening, coef_coords)
        kwargs = {"cores": min(chains, os.cpu_count() or 1), **kwargs}
        tree = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            nuts_sampler=nuts_sampler,
            initvals={"z": np.zeros(posterior.n_free)},
            progressbar=progressbar,
            quiet=not progressbar,
            var_names=["coef"],
            compute_convergence_checks=False,
            model=pm_model,
            **kwargs,
        )
        coef = tree["posterior"]["coef"].to_numpy()
        return coef.reshape(*coef.shape[:2], *posterior.mean.shape), tree["sample_stats"].to_dataset()

    return run


KERNELS = {"nutpie": _sample_nutpie, "pymc": _sample_pymc("pymc"), "numpyro": _sample_pymc("numpyro")}
"""NUTS implementation -> the function that samples a :class:`WhitenedPosterior` with it."""


def build_model(objective, mean: np.ndarray, whitening: np.ndarray, coef_coords: dict):
    """The ``pm.Model`` of the posterior ``exp(-objective)``, in whitened coordinates.

    Parameters
    ----------
    objective : Objective
        The negative log posterior: its family, design, class codes, weights and prior term.
    mean : ndarray of shape (P, M)
        The centre of the whitening (the MAP).
    whitening : ndarray of shape (P * M, n_free)
        ``W`` with ``vec(coef) = vec(mean) + W z``.
    coef_coords : dict
        Labels of the coefficient dims, ``{"predictor": names}`` plus ``{"class": labels}`` when the family's
        ``coef_dims`` have a class axis.

    Returns
    -------
    pymc.Model
        Free variable ``z`` (dim ``free``), deterministic ``coef`` with the family's ``coef_dims``, scalar
        potentials ``prior`` and ``loglik``; its log density equals minus the objective up to a constant. The
        log-likelihood is a sum, which PyTensor fuses with the per-row terms into one loop; the pointwise values
        that LOO needs are computed afterwards, in NumPy, from the draws.
    """
    import pymc as pm
    import pytensor.tensor as pt

    P, M = mean.shape
    family, design = objective.family, objective.design
    n = design.n_samples
    coords = {**coef_coords, "free": np.arange(whitening.shape[1])}
    proper = np.flatnonzero(~objective.prior.flat)
    with pm.Model(coords=coords) as pm_model:
        z = pm.Flat("z", dims="free")
        B = (mean.ravel(order="F") + pt.dot(whitening, z)).reshape((M, P)).T
        pm.Deterministic("coef", family.collapse(B), dims=family.coef_dims)
        distribution, parameters = PRIOR_DISTRIBUTIONS[type(objective.prior)](
            pm, objective.prior, objective.prior.scale[proper, None]
        )
        pm.Potential("prior", pm.logp(distribution.dist(**parameters), B[proper]).sum())
        X = pt.as_tensor(design.X)
        eta = pt.dot(X, B[1:]) + B[0] if design.intercept else pt.dot(X, B)
        eta = pt.specify_shape(eta, (n, M))
        pm.Potential("loglik", pt.sum(objective.weights * family.log_likelihood_tensor(eta, objective.y, pt)))
    return pm_model
