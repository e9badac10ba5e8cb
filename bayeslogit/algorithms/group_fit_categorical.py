"""Maximum likelihood and MAP for categorical multilevel models: the binary engine's two stages
(:mod:`.group_fit`) on :class:`~bayeslogit.numerics.group_categorical.CategoricalGroupData`.

The model (as brms writes ``categorical`` with group terms): ``K`` classes, class 0 the reference,
``eta_ic = X_i beta_c + z_i b_{c, g[i]}`` for the ``M = K - 1`` others. A term ``(1 + x | g)`` gives each level its
own effects for each class: correlated within a class (``|``; independent with ``||``), independent across classes,
a separate sd (and correlations) per class, so that in a K-class model it behaves like ``M`` terms, one per class,
labelled ``"g (class B)"``. The fixed effects are ``vec(B)``, class-major: ``p`` per class.
"""

from collections.abc import Sequence

import numpy as np

from bayeslogit.algorithms.group_fit import fit_group_data, map_penalty
from bayeslogit.algorithms.group_objective import Penalty
from bayeslogit.algorithms.group_result import GroupFit
from bayeslogit.exceptions import OptionError
from bayeslogit.numerics.group_categorical import categorical_group_data, class_terms
from bayeslogit.numerics.group_design import GroupPrior, GroupTerm

__all__ = ["fit_categorical_ml", "fit_categorical_map"]


def _data(X, codes, classes, terms: Sequence[GroupTerm]):
    if len(terms) != 1:
        factors = ", ".join(term.factor for term in terms)
        raise OptionError(
            f"a categorical multilevel model takes one group term here; got {len(terms)} ({factors}). Several "
            "(crossed or nested) terms couple the levels of different factors through each row's class weights, "
            "which this engine does not factor: keep one term, e.g. (1 | g) or (1 | a:b) for the groups within "
            "groups, or fit a two-class model of each class against the reference"
        )
    return categorical_group_data(X, codes, class_terms(terms[0], classes))


def fit_categorical_ml(
    X: np.ndarray,
    codes: np.ndarray,
    classes: Sequence,
    terms: Sequence[GroupTerm],
    *,
    names: Sequence[str] | None = None,
    hessian: bool | None = None,
) -> GroupFit:
    """Maximum likelihood of a categorical multilevel model on its Laplace marginal likelihood.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        The fixed effects' design, as :func:`~bayeslogit.algorithms.group_fit.fit_group_ml` takes it.
    codes : ndarray of shape (n,), int
        Each row's class, ``0 <= code < K``; class 0 is the reference.
    classes : sequence of length K
        The class labels (for the per-class terms' labels).
    terms : sequence of one GroupTerm
        The group term; it becomes ``K - 1`` per-class terms (``"g (class B)"``, ...).
    names, hessian
        As :func:`~bayeslogit.algorithms.group_fit.fit_group_ml` takes them.

    Returns
    -------
    GroupFit
        Per-class terms, in class order; ``beta`` (p (K - 1),) is ``vec(B)``, class-major.

    Raises
    ------
    OptionError
        When there is more than one group term.
    SeparationError, CollinearityError, ConvergenceError
        As the binary engine.
    """
    data = _data(X, codes, classes, terms)
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(data.design.shape[1]))
    return fit_group_data(data, Penalty(data.system.terms, None, None), 1, names, hessian)


def fit_categorical_map(
    X: np.ndarray,
    codes: np.ndarray,
    classes: Sequence,
    terms: Sequence[GroupTerm],
    prior: GroupPrior | None = None,
    beta_precision: float | np.ndarray = 0.0,
    *,
    names: Sequence[str] | None = None,
    hessian: bool | None = None,
) -> GroupFit:
    """The posterior mode of a categorical multilevel model on its Laplace marginal likelihood: ``prior`` on every
    per-class term's sds and correlations, a Gaussian of precisions ``beta_precision`` (scalar or (p,), the same for
    every class's coefficients) on the fixed effects. Other parameters as :func:`fit_categorical_ml`."""
    data = _data(X, codes, classes, terms)
    p, M = data.design.shape[1], data.system.n_classes
    precision = np.tile(np.broadcast_to(np.asarray(beta_precision, float), (p,)), M)
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(p))
    return fit_group_data(data, map_penalty(data.system.terms, prior, precision, p * M), 1, names, hessian)
