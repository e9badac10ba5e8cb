"""A multilevel fit's estimates as saved (see :mod:`.multilevel_files` for the file): a point fit's fixed effects,
group-level sds and correlations and conditional modes, and an MCMC fit's posterior tree, written and read back
checked against the design's labels.

A model of ``M`` linear predictors (one for a binomial model, ``K - 1`` for a categorical one: the logit of each
class against the reference) has its estimates by class: the dim ``class``, labelled with the classes of the
linear predictors (a binomial model's success outcome; a categorical model's non-reference classes), leads the
fixed effects ``beta`` (``class``, ``predictor``) and the per-term arrays, whose class ``c`` of the model's term
``t`` is the layout's term ``t M + c`` (``"g (class B)"``).
"""

import numpy as np

from bayeslogit.exceptions import DataError

ESTIMATE_SCHEMA = {
    "loglik": float,
    "deviance": float,
    "objective": float,
    "iterations": [int],
    "converged": bool,
    "singular": [bool],
    "n_agq": int,
}
"""The shape of a point fit's figures (:func:`point_groups`)."""
PER_TERM = {
    "sd": ("column",),
    "corr": ("column", "column2"),
    "ranef": ("level", "column"),
    "ranef_sd": ("level", "column"),
}
"""A point fit's per-term arrays and their dims after ``class``."""


def point_groups(fit, groups: dict) -> tuple[dict, dict]:
    """A point fit's ``estimate`` node and its terms' estimates (in the nodes ``group_term_<t>`` of ``groups``),
    and its figures."""
    import xarray as xr

    result, layout = fit.result, fit.layout
    M, p = layout.n_predictors, len(layout.coef_names)
    coords = {"predictor": list(layout.coef_names), "class": list(fit.source.response.outcomes[1:])}
    groups["estimate"] = xr.Dataset(
        {
            "beta": (("class", "predictor"), result.beta.reshape(M, p)),
            "beta_cov": (("class", "predictor", "class2", "predictor2"), result.beta_cov.reshape(M, p, M, p)),
            "theta": ("theta", result.theta),
        },
        coords=coords,
    )
    for t in range(len(fit.source.terms)):
        groups[f"group_term_{t}"] = (
            groups[f"group_term_{t}"]
            .assign(
                {
                    name: (("class", *dims), np.stack(getattr(result, name)[t * M : (t + 1) * M]))
                    for name, dims in PER_TERM.items()
                }
            )
            .assign_coords({"class": coords["class"]})
        )
    figures = {
        "loglik": result.loglik,
        "deviance": result.deviance,
        "objective": result.objective,
        "iterations": list(result.iterations),
        "converged": result.converged,
        "singular": list(result.singular),
        "n_agq": fit.n_agq,
    }
    return groups, {"estimate": figures}


def read_point(tree, meta: dict, layout: tuple, factors: tuple) -> tuple:
    """A point fit's ``GroupFit`` and its ``n_agq``, of the layout's fields ``layout`` and its terms' ``factors``.

    Raises
    ------
    DataError
        When an array's dims or a coordinate are not the layout's, or the figures have not a flag per term.
    """
    from bayeslogit.algorithms.group_result import GroupFit  # with SciPy's special functions: not on import

    estimate, figures = tree["estimate"], meta["estimate"]
    coef_names, labels, columns = layout[:3]
    outcomes = meta["response"]["classes"][1:]  # the classes of the linear predictors
    M, p = len(outcomes), len(coef_names)
    if estimate["predictor"].values.tolist() != list(coef_names):
        raise DataError("the estimate's predictor coordinate is not the design's")
    nodes = [tree[f"group_term_{t}"] for t in range(len(meta["model"]["terms"]))]
    for node in (estimate, *nodes):
        if node["class"].values.tolist() != outcomes:
            raise DataError(f"'{node.path}'s class coordinate is not the response's classes {outcomes!r:.60}")
    if len(figures["singular"]) != len(labels) or len(figures["iterations"]) != 2:
        raise DataError(
            f"estimate.singular must hold a flag per term ({len(labels)}) and estimate.iterations two counts"
        )
    per_term = {
        name: tuple(term for node in nodes for term in _values(node, name, ("class", *dims)))
        for name, dims in PER_TERM.items()
    }
    result = GroupFit(
        beta=_values(estimate, "beta", ("class", "predictor")).reshape(M * p),
        beta_cov=_values(estimate, "beta_cov", ("class", "predictor", "class2", "predictor2")).reshape(M * p, M * p),
        theta=_values(estimate, "theta", ("theta",)),
        factors=factors,
        columns=columns,
        **per_term,
        singular=tuple(figures["singular"]),
        loglik=figures["loglik"],
        deviance=figures["deviance"],
        objective=figures["objective"],
        iterations=tuple(figures["iterations"]),
        converged=figures["converged"],
    )
    return result, figures["n_agq"]


def check_posterior(posterior, layout: tuple) -> None:
    """Refuse a posterior tree whose variables are not labelled as the layout's fields ``layout``: the fixed
    effects' ``coef`` (``predictor``, and for a categorical model ``class``, its non-reference classes) and each
    term's ``b__<label>`` (level, column)."""
    coef_names, labels, columns, levels, _, classes = layout
    draws = posterior["posterior"]
    expected = {"coef": ("predictor", "class") if classes else ("predictor",)}
    _check_coordinate(draws, "predictor", coef_names)
    if classes:
        _check_coordinate(draws, "class", classes[1:])
    for label, term_columns, term_levels in zip(labels, columns, levels):
        expected[f"b__{label}"] = (f"{label}__level", f"{label}__column")
        for dim, values in ((f"{label}__level", term_levels), (f"{label}__column", term_columns)):
            _check_coordinate(draws, dim, values)
    for name, dims in expected.items():
        if draws[name].dims != ("chain", "draw", *dims):
            raise DataError(f"the posterior's {name} has the dims {draws[name].dims}")
    if posterior["sample_stats"]["diverging"].dims != ("chain", "draw"):
        raise DataError("the sampler's diverging has not the dims (chain, draw)")


def _check_coordinate(ds, dim: str, labels) -> None:
    found = ds[dim].values.tolist()
    if found != list(labels):
        raise DataError(f"the posterior's {dim} coordinate is {found!r:.80}, but the design's is {list(labels)!r:.80}")


def _values(ds, name: str, dims: tuple) -> np.ndarray:
    """The numbers of ``ds[name]``, of the dims ``dims``."""
    variable = ds[name]
    if variable.dims != dims or variable.dtype.kind not in "iuf":
        raise DataError(f"'{ds.path}'s {name} must be numbers of the dims {dims}; got {variable.dims}")
    return np.asarray(variable.values, dtype=float)
