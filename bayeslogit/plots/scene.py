"""The scene of a boundary plot: the model, its fits, the rows drawn and the plane they are drawn in."""

from dataclasses import dataclass

import numpy as np

from ..fits.posterior import PosteriorFit
from .style import failure_note, held_note, response_name

CLASS_MARKERS = ("o", "^", "s", "v", "D", "P", "X", "*")


@dataclass(frozen=True)
class Scene:
    """What every drawing needs: the model, fits, rows to draw and the plane they are drawn in."""

    model: object
    fitted: dict
    failed: dict
    X: np.ndarray
    codes: np.ndarray
    chosen: list
    ci_prob: float
    ci_kind: str
    grid_size: int
    rng: np.random.Generator

    @property
    def fixed(self) -> np.ndarray:
        return self.X.mean(axis=0)

    def limits(self, column: int) -> tuple[float, float]:
        low, high = self.X[:, column].min(), self.X[:, column].max()
        margin = 0.05 * (high - low or 1.0)
        return low - margin, high + margin

    def grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mesh of the two plotted features: G1, G2 (n, n) and the full rows (n*n, n_features)."""
        a, b = self.chosen
        G1, G2 = np.meshgrid(np.linspace(*self.limits(a), self.grid_size), np.linspace(*self.limits(b), self.grid_size))
        rows = np.tile(self.fixed, (G1.size, 1))
        rows[:, a], rows[:, b] = G1.ravel(), G2.ravel()
        return G1, G2, rows

    def posterior_method(self) -> str | None:
        """The posterior fit whose draws are shown: the first exact one (MCMC) when present, else the first one."""
        posteriors = [m for m, f in self.fitted.items() if isinstance(f, PosteriorFit)]
        return max(posteriors, key=lambda m: self.fitted[m].exact) if posteriors else None

    def class_label(self, k: int) -> str:
        return f"{response_name(self.model)} = {self.model.classes_[k]}"

    def notes(self) -> list[str]:
        return [held_note(self.model, self.chosen, self.fixed), failure_note(self.failed)]




def scatter_classes(scene: Scene, ax, x: np.ndarray, y: np.ndarray, colors, size: float = 14, alpha: float = 0.6):
    """The rows drawn, one marker and colour per class."""
    for k in range(scene.model.n_classes):
        mask = scene.codes == k
        ax.scatter(x[mask], y[mask], marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], s=size, facecolor=colors[k],
                   edgecolor="black", linewidth=0.4, alpha=alpha, label=scene.class_label(k), zorder=3)
