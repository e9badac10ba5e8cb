"""The learning animation: the decision boundary moving and the objective falling, optimiser beside optimiser.

The figure is drawn once; each frame then restores that background and draws only the artists that move (the
boundaries, the paths and markers on the objective, the panel title), updated in place. The frames are written
by Pillow (GIF, one palette for all of them) or by matplotlib's ffmpeg writer (MP4).
"""

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayeslogit.algorithms.newton import OPTIMIZERS, minimize
from bayeslogit.atomic import staged_write
from bayeslogit.checks import check_count
from bayeslogit.exceptions import ConvergenceWarning, OptionError
from bayeslogit.fits.statistics.boundary import boundary_quantities, slice_directions
from bayeslogit.held_warnings import held_warnings, reissue
from bayeslogit.plots.boundary_plane import make_plane
from bayeslogit.plots.boundary_scene import MANY_POINTS
from bayeslogit.plots.fonts import draw_names
from bayeslogit.plots.style import CLASS_COLORS, plot_units, response_name

_LOOKS = {
    "newton": {"color": "#D55E00", "linestyle": "-", "marker": "o"},
    "gradient_descent": {"color": "#0072B2", "linestyle": "--", "marker": "s"},
}
_CLASS_LOOKS = (("o", "white", "0.25"), ("^", CLASS_COLORS[1], "0.2"))  # marker, face, edge of classes 0 and 1
_MOVIE_WRITERS = {".mp4": "ffmpeg"}  # matplotlib's writer of each movie format; GIFs are Pillow's own
FIGURE_INCHES = (12.8, 6.8)  # at the default 100 dpi, 1280 x 680 pixels
MARGINS = (0.01, 0.02, 0.98, 0.96)  # the figure's part the layout fills (left, bottom, width, height): clear edges
LECTURE_FONTS = {"font.size": 13, "legend.fontsize": 12}
"""Font sizes (points) of the animation, legible on a projected 1280-pixel frame (titles 1.2 times larger)."""
ROUNDING_ULPS = 16
"""The objective's rounding error, in units in the last place of its minimum: distances to the minimum below it
are noise, so the objective panel stops there."""
LEGEND_CHARACTERS = 60  # a legend line under a panel wraps at this many characters
HOLD_LAST_MS = 2000  # a GIF shows its last frame this long before it starts again


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
        method -> the ConvergenceWarning the optimiser raised (not warned), or None.
    frames : tuple of int
        The iteration shown in each frame.
    outcomes : dict
        method -> how it stopped, as the animation's legend says it (see :func:`describe_stop`).
    """

    path: Path
    results: dict
    messages: dict
    frames: tuple
    outcomes: dict

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


def rounding_error(value: float) -> float:
    """:data:`ROUNDING_ULPS` units in the last place of ``value`` (at least of 1)."""
    return ROUNDING_ULPS * float(np.finfo(float).eps) * max(1.0, abs(value))


def describe_stop(result, max_iter: int, resolution: float) -> str:
    """How an optimiser stopped, from its own record: converged (its gradient and, for Newton, decrement tests
    passed), at the step limit with the objective flat (changing by less than ``resolution`` since some step),
    at the step limit still falling, or stalled before it (no step lowered the objective)."""
    n = result.n_iter
    if result.converged:
        return f"converged in {n} steps"
    if n < max_iter:
        return f"stalled after {n} steps: no step lowered the objective"
    objectives = np.array([iteration.objective for iteration in result.iterations])
    if objectives[-2] - objectives[-1] > resolution:
        return f"stopped at the {n}-step limit, still falling ({objectives[-2] - objectives[-1]:.1e} in its last step)"
    since = int(np.flatnonzero(objectives - objectives[-1] <= resolution)[0])
    return (
        f"stopped at the {n}-step limit; the objective flat (to rounding) since step {since}, "
        f"max |gradient| {result.iterations[-1].grad_norm:.1e} above its tolerance"
    )


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
    dpi: int = 100,
):
    """Animate optimisers fitting a binary model: the boundary moving and the objective falling, side by side.

    Each optimiser starts from zero coefficients and minimises ``model.objective(prior)`` (the negative
    log-likelihood, or the negative log posterior under ``prior``). The left panel draws every optimiser's
    boundary at the frame's iteration over the data (two features; with one feature, the probability
    curve); the right panel the objective's distance to its minimum against the iteration, on log scales, down
    to the objective's rounding error. The legend says how each optimiser stopped (:func:`describe_stop`)
    instead of warning.

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
        The one or two features to draw when the model has more; the others are held fixed, as the figure says.
    max_iter : int
        Iteration limit of each optimiser.
    max_frames : int
        Frames at most: all the first iterations, then geometrically spaced ones.
    fps, dpi : int
        Frames per second and resolution of the file: the frames are :data:`FIGURE_INCHES` times ``dpi`` pixels
        (1280 wide at the default). A GIF holds its last frame for two seconds.

    Returns
    -------
    OptimizationAnimation
        The path, the optimisers' results with their iterations, their warnings and how each stopped.
    """
    path = Path(path)
    if path.suffix != ".gif" and path.suffix not in _MOVIE_WRITERS:
        raise OptionError(f"`path` must end in {' or '.join(['.gif', *_MOVIE_WRITERS])}; got {path.name!r}")
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
    from matplotlib.animation import writers

    if path.suffix in _MOVIE_WRITERS and not writers.is_available(_MOVIE_WRITERS[path.suffix]):
        raise OptionError(
            f"writing {path.suffix} needs {_MOVIE_WRITERS[path.suffix]}, which is not installed; save as .gif"
        )
    plane = make_plane(model, model.data.X, None, features, None, (1, 2), units=plot_units(model, None, None))
    runs = {method: _run(method, objective, max_iter) for method in methods}
    results = {method: result for method, (result, _) in runs.items()}
    messages = {method: message for method, (_, message) in runs.items()}
    frames = frame_schedule(max(r.n_iter for r in results.values()), max_frames)
    drawing = OptimizationDrawing(model, objective, plane, results, max_iter, dpi)
    images = drawing.render(frames)
    with staged_write(path) as staged:
        if path.suffix == ".gif":
            write_gif(images, staged, fps)
        else:
            write_movie(images, staged, fps, dpi, _MOVIE_WRITERS[path.suffix])
    return OptimizationAnimation(path, results, messages, frames, drawing.outcomes)


def write_gif(images: list, path: Path, fps: int):
    """Frames (each an ndarray of shape (height, width, 4), RGBA uint8) as a looping GIF with the palette of the last
    frame, which holds every moving artist's colours; the last frame shown :data:`HOLD_LAST_MS`."""
    from PIL import Image

    pictures = [Image.fromarray(image).convert("RGB") for image in images]
    palette = pictures[-1].quantize(256, method=Image.Quantize.MAXCOVERAGE)
    indexed = [picture.quantize(palette=palette, dither=Image.Dither.NONE) for picture in pictures]
    durations = [1000 / fps] * len(images)
    durations[-1] = max(HOLD_LAST_MS, durations[-1])
    indexed[0].save(path, save_all=True, append_images=indexed[1:], duration=durations, loop=0)


def write_movie(images: list, path: Path, fps: int, dpi: int, writer: str):
    """Frames (height, width, 4) through matplotlib's ``writer``, shown one after another on a sheet of their
    size (a figure holding one unresampled image)."""
    from matplotlib.animation import writers
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height, width = images[0].shape[:2]
    sheet = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(sheet)
    picture = sheet.figimage(images[0])
    movie = writers[writer](fps=fps)
    with movie.saving(sheet, path, dpi):
        for image in images:
            picture.set_data(image)
            movie.grab_frame()


class OptimizationDrawing:
    """The animation's figure: everything that stays drawn once; the boundaries, the paths and markers on the
    objective and the title moved by :meth:`update`.

    Parameters
    ----------
    model : LogisticModel
    objective : Objective
    plane : Plane
        The one or two features drawn.
    results : dict
        method -> ``OptimizeResult``.
    max_iter : int
        The optimisers' step limit.
    dpi : int
    """

    def __init__(self, model, objective, plane, results, max_iter: int, dpi: int):
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        self.model, self.objective, self.plane, self.results = model, objective, plane, results
        self.floor = min(r.value for r in results.values())
        self.resolution = rounding_error(self.floor)
        self.outcomes = {method: describe_stop(r, max_iter, self.resolution) for method, r in results.items()}
        with matplotlib.rc_context(LECTURE_FONTS):
            self.figure = Figure(figsize=FIGURE_INCHES, dpi=dpi, layout=ConstrainedLayoutEngine(rect=MARGINS))
            FigureCanvasAgg(self.figure)
            data_panel, loss_panel = self.figure.subplots(1, 2)
            self._draw_data(data_panel)
            self._draw_objective(loss_panel)
            self._legends(data_panel, loss_panel)
        dashed_last = sorted(
            self.boundaries.values(), key=lambda line: line.get_linestyle() != "-"
        )  # coinciding, both show
        self.moving = [*dashed_last, *self.paths.values(), *self.markers.values(), self.title]
        for artist in self.moving:
            artist.set_animated(True)

    def _draw_data(self, panel):
        """The rows by class and an empty boundary per optimiser."""
        from matplotlib import patheffects

        model, codes, plane = self.model, self.model.data.y, self.plane
        self.x_grid, self.grid_rows = plane.line(200) if len(plane.names) == 1 else (plane.axis(0, 200), None)
        if len(plane.names) == 2:
            vertical, ylim, ylabel = plane.points[:, 1], plane.spans[1], plane.labels[1]
        else:  # the classes at 0 and 1, jittered, under the probability curve
            vertical = codes + np.random.default_rng(0).uniform(-0.02, 0.02, len(codes))
            ylim, ylabel = (-0.08, 1.08), f"Pr({response_name(model)} = {model.classes_[1]})"
        many = len(codes) > MANY_POINTS
        for k, (marker, face, edge) in enumerate(_CLASS_LOOKS):
            panel.scatter(
                plane.points[codes == k, 0],
                vertical[codes == k],
                marker=marker,
                facecolor=face,
                edgecolor=edge,
                linewidth=0.5,
                s=16 if many else 50,
                alpha=0.6 if many else 0.9,
                label=f"{response_name(model)} = {model.classes_[k]}",
            )
        halo = {
            "linewidth": 3,
            "path_effects": [patheffects.Stroke(linewidth=6, foreground="white"), patheffects.Normal()],
        }
        self.boundaries = {}
        for method in self.results:
            label, gid = OPTIMIZERS[method][0], f"{method}-boundary"
            (self.boundaries[method],) = panel.plot([], [], **_line(method), **halo, label=label, gid=gid)
        panel.set(xlim=plane.spans[0], ylim=ylim, xlabel=plane.labels[0], ylabel=ylabel)
        self.title = panel.set_title("")

    def _draw_objective(self, panel):
        """Each optimiser's whole path, faint; its path so far and its current point, empty until updated."""
        self.gaps, self.paths, self.markers = {}, {}, {}
        for method, result in self.results.items():
            objectives = np.array([iteration.objective for iteration in result.iterations])
            self.gaps[method] = np.maximum(objectives - self.floor, self.resolution)
            steps = np.arange(len(objectives)) + 1
            panel.plot(steps, self.gaps[method], **_line(method), linewidth=1.5, alpha=0.3, gid=f"{method}-objective")
            (self.paths[method],) = panel.plot([], [], **_line(method), linewidth=2.5, gid=f"{method}-path")
            (self.markers[method],) = panel.plot(
                [], [], marker=_LOOKS[method]["marker"], color=_LOOKS[method]["color"], markersize=11, linestyle="none"
            )
        panel.axhline(self.resolution, color="0.45", linestyle=":", linewidth=1.5, gid="rounding", zorder=1)
        top = max(gaps.max() for gaps in self.gaps.values())
        panel.set(
            xscale="log",
            yscale="log",
            ylim=(self.resolution / 4, top * 4),
            xlabel="iteration + 1 (log scale)",
            ylabel="objective - its minimum (log scale)",
            title="The objective falling",
        )

    def _legends(self, data_panel, loss_panel):
        """Under each panel its legend (the classes and boundaries; how each optimiser stopped, and the rounding
        line), clear of the data; above them what is minimised, and under them the features held."""
        from matplotlib.lines import Line2D

        below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.16)}
        data_panel.legend(ncols=2, **below)
        handles = [
            Line2D(
                [],
                [],
                **_line(method),
                linewidth=2.5,
                marker=_LOOKS[method]["marker"],
                label=textwrap.fill(f"{OPTIMIZERS[method][0]}: {self.outcomes[method]}", LEGEND_CHARACTERS),
            )
            for method in self.results
        ]
        rounding = f"the objective's rounding error ({ROUNDING_ULPS} ulp of its minimum, {self.resolution:.0e})"
        handles.append(Line2D([], [], color="0.45", linestyle=":", label=rounding))
        loss_panel.legend(handles=handles, **below)
        kind = "negative log-likelihood" if self.objective.prior.flat.all() else "negative log posterior"
        self.figure.suptitle(textwrap.fill(f"Minimising the {kind} of {self.model.formula or 'the model'}", 90))
        if self.plane.note():
            self.figure.supxlabel(self.plane.note(), x=0.01, ha="left", fontsize=LECTURE_FONTS["legend.fontsize"])

    def update(self, iteration: int) -> list:
        """Move every optimiser to step ``min(iteration, its last step)``; returns the artists that moved."""
        for method, result in self.results.items():
            step = min(iteration, result.n_iter)
            B = self.objective.coef(result.iterations[step].x)
            if self.grid_rows is None:
                chosen, held = list(self.plane.columns), self.plane.held_row()
                line = boundary_quantities(slice_directions(self.model.layout, B[None], chosen, held), True)
                heights = line["intercept"][0, 0] + line["slope"][0, 0] * self.x_grid
            else:  # Pr(classes_[1]) along the feature, the others held fixed
                heights = np.exp(self.model.log_probabilities(B, self.grid_rows)[:, 1])
            self.boundaries[method].set_data(self.x_grid, heights)
            self.paths[method].set_data(np.arange(step + 1) + 1, self.gaps[method][: step + 1])
            self.markers[method].set_data([step + 1], [self.gaps[method][step]])
        drawn = "boundary" if self.grid_rows is None else "fitted curve"
        self.title.set_text(f"The {drawn} at iteration {iteration}" if iteration else "The start: all coefficients 0")
        return self.moving

    def render(self, frames: tuple) -> list:
        """The frames, each an ndarray (height, width, 4) of RGBA uint8: the layout fixed and the still parts drawn
        once (at the last frame), then for each frame the background restored and only :attr:`moving` drawn."""
        import matplotlib

        canvas = self.figure.canvas
        with matplotlib.rc_context(LECTURE_FONTS):
            self.update(frames[-1])  # the widest title: the layout leaves room for every frame's
            draw_names(self.figure).canvas.draw()  # lays out the panels (moving artists included), draws the rest
            self.figure.set_layout_engine("none")
            background = canvas.copy_from_bbox(self.figure.bbox)
            images = []
            for iteration in frames:
                canvas.restore_region(background)
                for artist in self.update(iteration):
                    self.figure.draw_artist(artist)
                images.append(np.array(canvas.buffer_rgba()))
        return images


def _line(method: str) -> dict:
    return {"color": _LOOKS[method]["color"], "linestyle": _LOOKS[method]["linestyle"]}
