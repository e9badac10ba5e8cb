"""The learning animation: its frames, drawn by moving artists made once, and what its legend says of each stop."""

import re

import matplotlib.figure
import numpy as np
import pytest
from matplotlib.animation import writers
from PIL import Image

import bayeslogit as bl
from bayeslogit.algorithms.descent import Iteration, OptimizeResult
from bayeslogit.plots import animation
from bayeslogit.plots.boundary_plane import make_plane

EPS = np.finfo(float).eps


@pytest.fixture(scope="module")
def wells_model():
    return bl.LogisticModel.from_formula("switched ~ dist100 + arsenic", bl.datasets.load_wells())


@pytest.fixture(scope="module")
def wells_drawing(wells_model):
    """The animation's figure of both optimisers on wells (1,000 steps at most), rendered at 40 frames."""
    objective = wells_model.objective()
    results = {m: animation._run(m, objective, 1000)[0] for m in ("gradient_descent", "newton")}
    plane = make_plane(wells_model, wells_model.data.X, None, None, None, (1, 2))
    drawing = animation.OptimizationDrawing(wells_model, objective, plane, results, 1000, 100)
    frames = animation.frame_schedule(1000, 40)
    return drawing, frames, drawing.render(frames)


def test_forty_frames_on_wells_1280_pixels_wide_from_one_drawing_of_the_figure(wells_model, tmp_path, monkeypatch):
    draws = []
    full_draw = matplotlib.figure.Figure.draw
    monkeypatch.setattr(
        matplotlib.figure.Figure, "draw", lambda fig, renderer: draws.append(fig) or full_draw(fig, renderer)
    )
    result = bl.animate_optimization(wells_model, path=tmp_path / "wells.gif")
    assert len(draws) == 1  # the still parts drawn once; every frame after it draws only the moving artists
    assert len(result.frames) == 40 and result.frames[0] == 0 and result.frames[-1] == 1000
    with Image.open(result.path) as gif:
        assert (gif.n_frames, gif.size) == (40, (1280, 680))  # FIGURE_INCHES at 100 dpi
        durations = []
        for k in range(gif.n_frames):
            gif.seek(k)
            durations.append(gif.info["duration"])
        assert durations == [250] * 39 + [2000]  # 4 frames a second; the last held two seconds
        assert gif.convert("RGB").getpixel((2, 2)) == (255, 255, 255)  # the palette keeps the white background white
    assert list(tmp_path.iterdir()) == [tmp_path / "wells.gif"]  # written whole, nothing staged left beside it


def test_frames_move_the_same_artists_made_once(wells_drawing, wells_model):
    drawing, frames, images = wells_drawing
    figure = drawing.figure
    drawing.update(frames[1])
    artists_at_frame_1 = figure.findobj()
    drawing.update(frames[-1])
    assert len(figure.findobj()) == len(artists_at_frame_1)
    assert all(artist.get_animated() for artist in drawing.moving)
    newton = drawing.results["newton"]
    floor = min(result.value for result in drawing.results.values())
    c0, c1, c2 = newton.x  # at frame 40 each optimiser is at its last step: Newton's boundary is its ML line
    x, y = drawing.boundaries["newton"].get_data()
    np.testing.assert_allclose(y, -(c0 + c1 * x) / c2, rtol=1e-12)
    steps, gaps = drawing.paths["gradient_descent"].get_data()
    assert len(steps) == 1001 and steps[0] == 1 and steps[-1] == 1001
    objectives = np.array([iteration.objective for iteration in drawing.results["gradient_descent"].iterations])
    np.testing.assert_array_equal(gaps, np.maximum(objectives - floor, 16 * EPS * floor))
    assert drawing.markers["newton"].get_data() == ([newton.n_iter + 1], [max(newton.value - floor, 16 * EPS * floor)])
    assert len(images) == 40 and images[0].shape == (680, 1280, 4) and images[0].dtype == np.uint8
    assert not np.array_equal(images[0], images[-1]) and all(
        not np.array_equal(a, b) for a, b in zip(images, images[1:])
    )


def test_titles_and_legends_keep_clear_of_the_edges_and_of_the_panels(wells_drawing):
    drawing, frames, _ = wells_drawing
    figure = drawing.figure
    renderer = figure.canvas.get_renderer()
    inside = figure.bbox.padded(-4)  # at least 4 pixels from every edge
    for iteration in (frames[0], frames[-1]):
        drawing.update(iteration)
        for text in (figure._suptitle, drawing.title):
            box = text.get_window_extent(renderer)
            assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and box.y1 <= inside.y1, text.get_text()
    for panel in figure.axes:
        legend = panel.get_legend().get_window_extent(renderer)
        assert legend.y1 < panel.get_window_extent(renderer).y0  # under its panel: it hides no path or point
        assert inside.y0 <= legend.y0 and inside.x0 <= legend.x0 and legend.x1 <= inside.x1


def test_the_legend_says_how_each_optimiser_stopped(wells_drawing):
    drawing, _, _ = wells_drawing
    descent = drawing.results["gradient_descent"]
    objectives = np.array([iteration.objective for iteration in descent.iterations])
    flat_since = np.flatnonzero(objectives - objectives[-1] <= 16 * EPS * objectives[-1])[0]
    assert 141 < flat_since < 1000  # 141: the first step within 1e-6 of the minimum, as the example prints
    assert drawing.outcomes == {
        "gradient_descent": "stopped at the 1000-step limit; the objective flat (to rounding) since step "
        f"{flat_since}, max |gradient| {descent.iterations[-1].grad_norm:.1e} above its tolerance",
        "newton": "converged in 5 steps",
    }
    texts = [text.get_text().replace("\n", " ") for text in drawing.figure.axes[1].get_legend().get_texts()]
    assert texts[:2] == [
        f"Steepest descent: {drawing.outcomes['gradient_descent']}",
        "Newton's method: converged in 5 steps",
    ]
    assert re.fullmatch(r"the objective's rounding error \(16 ulp of its minimum, 7e-12\)", texts[2])


def _result(objectives, converged: bool, grad_norm: float = 1e-3) -> OptimizeResult:
    records = tuple(Iteration(f, grad_norm, np.nan, 1.0, np.zeros(1)) for f in objectives)
    return OptimizeResult(np.zeros(1), objectives[-1], np.zeros(1), None, len(objectives) - 1, converged, records)


def test_each_kind_of_stop_is_told_from_the_run_itself():
    falling = [10.0, 5.0, 2.0, 1.0]
    assert animation.describe_stop(_result(falling, True), 100, 1e-12) == "converged in 3 steps"
    assert animation.describe_stop(_result(falling, False), 3, 1e-12) == (
        "stopped at the 3-step limit, still falling (1.0e+00 in its last step)"
    )
    assert animation.describe_stop(_result(falling, False), 100, 1e-12) == (
        "stalled after 3 steps: no step lowered the objective"
    )
    flat = [10.0, 1.0, 1.0 + 1e-13, 1.0 + 5e-14, 1.0]  # within 1e-12 of the last value from step 1 on
    assert animation.describe_stop(_result(flat, False, 2e-5), 4, 1e-12) == (
        "stopped at the 4-step limit; the objective flat (to rounding) since step 1, max |gradient| 2.0e-05 "
        "above its tolerance"
    )


def test_rounding_error_is_sixteen_units_in_the_last_place():
    assert animation.rounding_error(1965.3) == 16 * EPS * 1965.3
    assert animation.rounding_error(-0.25) == 16 * EPS  # at least that of 1


def test_a_movie_writer_gets_the_frames_unchanged_in_size_and_number(wells_drawing, tmp_path):
    _, _, images = wells_drawing
    animation.write_movie(images[:3], tmp_path / "three.gif", fps=2, dpi=100, writer="pillow")  # ffmpeg's way
    with Image.open(tmp_path / "three.gif") as gif:
        assert (gif.n_frames, gif.size) == (3, (1280, 680))
        gif.seek(2)
        shown = np.asarray(gif.convert("RGB"), dtype=int)
    assert np.mean(np.abs(shown - images[2][..., :3])) < 2  # the same picture, through the writer's own palette


@pytest.mark.skipif(writers.is_available("ffmpeg"), reason="ffmpeg is installed here")
def test_mp4_without_ffmpeg_is_explained(wells_model, tmp_path):
    with pytest.raises(bl.OptionError, match=r"^writing \.mp4 needs ffmpeg, which is not installed; save as \.gif$"):
        bl.animate_optimization(wells_model, path=tmp_path / "wells.mp4")
    assert not list(tmp_path.iterdir())
