"""The scene of a boundary plot: the model, its fits, the rows drawn and the plane they are drawn in."""

from dataclasses import dataclass

import numpy as np

from bayeslogit.numerics import predictive
from bayeslogit.numerics.blocks import block_slices
from bayeslogit.numerics.design import Design
from bayeslogit.plots.boundary_plane import Plane
from bayeslogit.plots.style import MAX_SURFACE_DRAWS, failure_note, labelled, response_name, style

CLASS_MARKERS = ("o", "^", "s", "v", "D", "P", "X", "*")
SCATTER_BATCHES = 12  # the rows are drawn in this many interleaved batches per class, so no class hides another


@dataclass(frozen=True)
class Scene:
    """What every drawing needs: the model, fits, rows to draw and the plane they are drawn in."""

    model: object
    fitted: dict
    failed: dict
    plane: Plane
    codes: np.ndarray
    ci_prob: float
    ci_kind: str
    grid_size: int
    rng: np.random.Generator

    def posterior_method(self) -> str | None:
        """The posterior fit whose draws are shown: the first exact one (MCMC) when present, else the first one."""
        posteriors = [m for m, f in self.fitted.items() if f.draws_are_posterior]
        return max(posteriors, key=lambda m: self.fitted[m].exact) if posteriors else None

    def label(self, method: str, what: str = "") -> str:
        """The fit given under ``method`` as a legend names it, followed by ``what`` and by its trouble, if any:
        ``"MCMC 89% ETI of the boundary (53 divergences)"``."""
        return labelled(" ".join(filter(None, (style(method)["label"], what))), self.fitted[method])

    def class_label(self, k: int) -> str:
        return f"{response_name(self.model)} = {self.model.classes_[k]}"

    def notes(self) -> list[str]:
        return [self.plane.note(), failure_note(self.failed)]


def thinned(draws: np.ndarray, max_draws: int = MAX_SURFACE_DRAWS) -> np.ndarray:
    """At most ``max_draws`` of the draws (S, P, M), evenly spaced."""
    if len(draws) <= max_draws:
        return draws
    return draws[np.linspace(0, len(draws) - 1, max_draws).astype(int)]


def winner_share(fit, rows: np.ndarray) -> np.ndarray:
    """At each design row, the share of the posterior draws in which the class winning most often wins, (n,).

    Where it is below ``(1 + ci_prob) / 2`` no class is the most probable one with posterior probability
    ``(1 + ci_prob) / 2``: that region is the ``ci_prob`` band of the boundary. For two classes it is where the
    equal-tailed ``ci_prob`` interval of ``Pr(classes_[1])`` contains 0.5.
    """
    draws, K = thinned(fit.pooled_draws()), fit.model.n_classes
    shares = []
    for block in block_slices(len(rows), len(draws) * K):
        design = Design(rows[block], fit.model.intercept)
        winners = predictive.proba_per_draw(fit.layout.family, design, draws).argmax(axis=2)  # (S, b)
        counts = np.stack([(winners == k).sum(axis=0) for k in range(K)], axis=1)
        shares.append(counts.max(axis=1) / len(draws))
    return np.concatenate(shares)


MANY_POINTS = 200  # beyond this many rows, points are drawn small, translucent and without edges
LATTICE_VALUES = 20  # a drawn column of at most this many distinct values (each on several rows) is jittered
JITTER = 0.3  # ... by up to this share of the smallest spacing of its values, either way


def jitter_lattice(values: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """``values`` (n,) with uniform jitter of up to :data:`JITTER` of their smallest spacing where they lie on a
    lattice (rating scales, counts: at most :data:`LATTICE_VALUES` distinct values, on two rows each on average),
    so that rows at one point do not hide each other; else as they are. Whether they were jittered comes second."""
    distinct = np.unique(values)
    if not 2 <= len(distinct) <= LATTICE_VALUES or len(values) < 2 * len(distinct):
        return values, False
    spacing = float(np.diff(distinct).min())
    return values + rng.uniform(-JITTER, JITTER, len(values)) * spacing, True


def points_look(n_rows: int) -> dict:
    """Size, opacity and edge of the points of ``n_rows`` rows: small and translucent where many would bury each
    other and the lines, larger and outlined where few must each be seen (over a band, say)."""
    if n_rows > MANY_POINTS:
        return {"size": 9, "alpha": 0.55, "edgecolor": "none"}
    return {"size": 28, "alpha": 0.9, "edgecolor": "black"}


def scatter_classes(
    scene: Scene,
    ax,
    x: np.ndarray,
    y: np.ndarray,
    colors,
    size: float = 14,
    alpha: float = 0.6,
    edgecolor: str = "black",
):
    """The rows drawn, one marker and colour per class, in interleaved batches of random order (``gid``
    ``"points-<k>"``), so that where the data are dense no class is drawn over all of another."""
    order = scene.rng.permutation(len(x))
    batches = [np.array_split(order[scene.codes[order] == k], SCATTER_BATCHES) for k in range(scene.model.n_classes)]
    for b in range(SCATTER_BATCHES):
        for k, split in enumerate(batches):
            ax.scatter(
                x[split[b]],
                y[split[b]],
                marker=CLASS_MARKERS[k % len(CLASS_MARKERS)],
                s=size,
                facecolor=colors[k],
                edgecolor=edgecolor,
                linewidth=0.4,
                alpha=alpha,
                zorder=3,
                label=scene.class_label(k) if b == 0 else None,
                gid=f"points-{k}",
            )
