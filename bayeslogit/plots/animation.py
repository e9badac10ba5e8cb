"""The learning animation: the decision boundary moving and the objective falling, optimiser beside optimiser."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayeslogit.algorithms.newton import OPTIMIZERS, minimize
from bayeslogit.checks import check_count
from bayeslogit.exceptions import ConvergenceWarning, OptionError
from bayeslogit.fits.statistics.boundary import boundary_quantities, slice_directions
from bayeslogit.held_warnings import held_warnings, reissue
from bayeslogit.plots.boundary_plane import make_plane
from bayeslogit.plots.style import response_name

_LOOKS = {
    "newton": {"color": "#D55E00", "linestyle": "-", "marker": "o"},
    "gradient_descent": {"color": "#0072B2", "linestyle": "--", "marker": "s"},
}
_WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}


@dataclass(frozen=True)
class OptimizationAnimation:
    """What :func:`animate_optimization` ran and wrote.

    Attributes
    ----------
    path : Path
        The animation file.
    results : dict
        method -> ``OptimizeResult`` (its ``iterations`` hold one ``Iteration`` per step, plus the last point).
    messages : dict
        method -> the ConvergenceWarning the optimiser raised (shown on the animation), or None.
    frames : tuple of int
        The iteration shown in each frame.
    """

    path: Path
    results: dict
    messages: dict
    frames: tuple

    @property
    def iterations(self) -> dict:
        """method -> tuple of ``Iteration``."""
        return {method: result.iterations for method, result in self.results.items()}

    @property
    def n_iter(self) -> dict:
        """method -> number of steps taken."""
        return {method: result.n_iter for method, result in self.results.items()}

    def __repr__(self) -> str:
        steps = ", ".join(f"{method} {n} steps" for method, n in self.n_iter.items())
        return f"OptimizationAnimation({str(self.path)!r}, {len(self.frames)} frames; {steps})"


def frame_schedule(n_steps: int, max_frames: int) -> tuple:
    """Iterations to show: every one of the first steps, then geometrically spaced ones up to ``n_steps``."""
    if n_steps + 1 <= max_frames:
        return tuple(range(n_steps + 1))
    head = max_frames // 3
    tail = np.geomspace(head, n_steps, max_frames - head).round().astype(int)
    return tuple(sorted(set(range(head)) | set(tail.tolist())))


def _run(method: str, objective, max_iter: int):
    """Run one optimiser from zero, catching its ConvergenceWarning (expected for steepest descent)."""
    with held_warnings(ConvergenceWarning) as caught:
        result = minimize(objective, method, max_iter=max_iter)
    reissue(warning for warning in caught if not issubclass(warning.category, ConvergenceWarning))
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    return result, (messages[0] if messages else None)


def animate_optimization(
    model,
    methods=("gradient_descent", "newton"),
    *,
    path,
    prior=None,
    features=None,
    max_iter: int = 1000,
    max_frames: int = 40,
    fps: int = 4,
    dpi: int = 80,
):
    """Animate optimisers fitting a binary model: the boundary moving and the objective falling, side by side.

    Each optimiser starts from zero coefficients and minimises ``model.objective(prior)`` (the negative
    log-likelihood, or the negative log posterior under ``prior``). The left panel draws every optimiser's
    boundary at the frame's iteration over the data (two features; with one feature, the probability
    curve); the right panel the objective's distance to its minimum against the iteration, on log scales.
    An optimiser that stops at ``max_iter`` without converging (steepest descent often does) says so on the
    plot instead of warning.

    Parameters
    ----------
    model : LogisticModel
        A binary model.
    methods : sequence of {"gradient_descent", "newton"}
    path : str or Path
        Where to write: ``.gif`` (Pillow) or ``.mp4`` (needs ffmpeg).
    prior : Normal, StudentT or Cauchy, optional
        None: maximum likelihood.
    features : str or sequence of str, optional
        The one or two features to draw when the model has more; the others are held at their means.
    max_iter : int
        Iteration limit of each optimiser.
    max_frames : int
        Frames at most: all the first iterations, then geometrically spaced ones.
    fps, dpi : int
        Frames per second and resolution of the file.

    Returns
    -------
    OptimizationAnimation
        The path, the optimisers' results with their iterations, and their warnings.
    """
    path = Path(path)
    if path.suffix not in _WRITERS:
        raise OptionError(f"`path` must end in {' or '.join(_WRITERS)}; got {path.name!r}")
    max_iter = check_count("max_iter", max_iter, 1)
    model.data.require_in_memory(
        "animate_optimization, which draws every row,", "animate a model of an in-memory sample of the rows"
    )
    objective = model.objective(prior)  # checks the prior
    unknown = [m for m in methods if m not in OPTIMIZERS]
    if unknown or not methods:
        raise OptionError(f"`methods` must name optimisers among {list(OPTIMIZERS)}; got {list(methods)}")
    if len(model.layout.pairs) != 1:
        raise OptionError(
            f"animate_optimization draws the boundary of a binary model; this one has {model.n_classes} "
            "classes. Use plot_boundary for the fitted regions of a multiclass model"
        )
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, writers

    if not writers.is_available(_WRITERS[path.suffix]):
        raise RuntimeError(f"writing {path.suffix} needs {_WRITERS[path.suffix]}, which is not installed; save as .gif")
    plane = make_plane(model, model.data.X, None, features, None, (1, 2))
    runs = {method: _run(method, objective, max_iter) for method in methods}
    results = {method: result for method, (result, _) in runs.items()}
    messages = {method: message for method, (_, message) in runs.items()}
    frames = frame_schedule(max(r.n_iter for r in results.values()), max_frames)
    fig, (data_panel, loss_panel) = plt.subplots(1, 2, figsize=(12, 5.2), layout="constrained")
    update = _Drawing(model, objective, plane, results, data_panel, loss_panel)
    update(frames[-1])
    fig.canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout found for the last frame: one layout, not one per frame
    animation = FuncAnimation(fig, update, frames=frames, blit=False)
    try:
        animation.save(path, writer=_WRITERS[path.suffix], fps=fps, dpi=dpi)
    finally:
        plt.close(fig)
    return OptimizationAnimation(path, results, messages, frames)


class _Drawing:
    """Draws the static parts once; called with an iteration, moves the boundaries and markers there."""

    def __init__(self, model, objective, plane, results, data_panel, loss_panel):
        self.model, self.objective, self.plane, self.results = model, objective, plane, results
        self.chosen = list(plane.columns)
        self.fixed = model.data.X.mean(axis=0)
        self.floor = min(r.value for r in results.values())
        self.data_panel = data_panel
        self._draw_data(data_panel)
        self._draw_objective(loss_panel)

    def _draw_data(self, panel):
        model, X, codes, a = self.model, self.model.data.X, self.model.data.y, self.chosen[0]
        low, high = X[:, a].min(), X[:, a].max()
        self.x_grid = np.linspace(low - 0.05 * (high - low), high + 0.05 * (high - low), 200)
        self.grid_rows = np.tile(self.fixed, (len(self.x_grid), 1))
        self.grid_rows[:, a] = self.x_grid
        event = f"Pr({response_name(model)} = {model.classes_[1]})"
        if len(self.chosen) == 2:
            vertical, ylabel = X[:, self.chosen[1]], model.feature_names[self.chosen[1]]
            ylim = (vertical.min(), vertical.max())
        else:  # the classes at 0 and 1, jittered, under the probability curve
            vertical = codes + np.random.default_rng(0).uniform(-0.02, 0.02, len(codes))
            ylim, ylabel = (-0.08, 1.08), event
        for k, (marker, face) in enumerate((("o", "white"), ("^", "#E69F00"))):
            panel.scatter(
                X[codes == k, a],
                vertical[codes == k],
                marker=marker,
                facecolor=face,
                edgecolor="black",
                linewidth=0.4,
                s=12 if len(codes) > 200 else 30,
                alpha=0.7,
                label=f"{response_name(model)} = {model.classes_[k]}",
            )
        self.lines = {}
        for method in self.results:
            look = _LOOKS[method]
            (self.lines[method],) = panel.plot(
                [],
                [],
                color=look["color"],
                linestyle=look["linestyle"],
                linewidth=2.2,
                label=OPTIMIZERS[method][0],
                gid=f"{method}-boundary",
            )
        panel.set(xlim=self.x_grid[[0, -1]], ylim=ylim, xlabel=model.feature_names[a], ylabel=ylabel)
        panel.legend(loc="center right" if len(self.chosen) == 1 else "upper left", fontsize=8)

    def _draw_objective(self, panel):
        self.markers = {}
        for method, result in self.results.items():
            look, name = _LOOKS[method], OPTIMIZERS[method][0]
            gap = np.array([it.objective for it in result.iterations]) - self.floor
            status = f"{result.n_iter} steps" + ("" if result.converged else ", stopped without converging")
            panel.plot(
                np.arange(len(gap)) + 1,
                np.maximum(gap, 1e-12),
                color=look["color"],
                linestyle=look["linestyle"],
                alpha=0.35,
                label=f"{name} ({status})",
                gid=f"{method}-objective",
            )
            (self.markers[method],) = panel.plot(
                [], [], marker=look["marker"], color=look["color"], markersize=9, linestyle="none"
            )
        panel.set(
            xscale="log",
            yscale="log",
            xlabel="iteration + 1 (log scale)",
            ylabel="objective - its minimum (log scale)",
            title="The objective falling",
        )
        panel.legend(loc="lower left", fontsize=8)
        notes = [
            f"{OPTIMIZERS[method][0]} stopped after {result.n_iter} iterations without converging"
            for method, result in self.results.items()
            if not result.converged
        ]
        notes.append(self.plane.note())
        panel.text(
            0.98,
            0.98,
            "\n".join(n for n in notes if n),
            transform=panel.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            wrap=True,
        )

    def __call__(self, iteration: int):
        for method, result in self.results.items():
            step = min(iteration, result.n_iter)
            B = self.objective.coef(result.iterations[step].x)
            if len(self.chosen) == 2:
                line = boundary_quantities(slice_directions(self.model.layout, B[None], self.chosen, self.fixed), True)
                heights = line["intercept"][0, 0] + line["slope"][0, 0] * self.x_grid
            else:  # Pr(classes_[1]) along the feature, the others held at their means
                heights = np.exp(self.model.log_probabilities(B, self.grid_rows)[:, 1])
            self.lines[method].set_data(self.x_grid, heights)
            self.markers[method].set_data([step + 1], [max(result.iterations[step].objective - self.floor, 1e-12)])
        self.data_panel.set_title(
            f"Iteration {iteration}: "
            + ", ".join(f"{OPTIMIZERS[m][0]} at step {min(iteration, r.n_iter)}" for m, r in self.results.items())
        )
        return [*self.lines.values(), *self.markers.values()]
