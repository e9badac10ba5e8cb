"""The HTML report of ``bayeslogit compare`` for a formula with group terms: one self-contained file, as
:mod:`bayeslogit.surface.report` writes for models without them.

The page holds the run's settings, the comparison table (fixed effects, group sds, fit, diagnostics), each fit's
summary with its random-effects block, the shrinkage and caterpillar plots of the first group term (PNG, inline),
each group's decision boundary along the first predictor of more than two values (with R-hat and ESS of its draws
for MCMC), the warnings
raised while fitting and the methods refused. Every string from the data or the command line is escaped.
"""

import time
from collections.abc import Callable

import numpy as np

from bayeslogit.surface.report import NOTE, PAGE, SECTION, STYLE, esc, figure_html, key_values_html, list_html


def render_multilevel_report(
    formula: str,
    source: str,
    settings: dict,
    fits: dict,
    table,
    warnings: list[str],
    refused: dict,
    progress: Callable[[str], None],
) -> str:
    """The report's page as one string.

    Parameters
    ----------
    formula, source : str
        The formula and the data's name, for the title.
    settings : dict of str to str
        The run's settings, shown first.
    fits : dict of str to fit
        The multilevel fits, by method.
    table : Comparison
        ``compare(fits, ...)``.
    warnings : list of str
        What the fits warned, in the command's words.
    refused : dict of str to str
        Method -> why it was not fitted.
    progress : callable
        Called with a line per figure drawn, with its time.
    """
    sections = [
        ("settings", "Data and settings", key_values_html(settings.items())),
        ("comparison", "Comparison", table._repr_html_()),
        (
            "summaries",
            "Fits",
            "\n".join(f"<h3>{esc(method)}</h3>\n{fit.summary()._repr_html_()}" for method, fit in fits.items()),
        ),
        ("plots", "Group effects", _plots(fits, progress)),
        ("boundaries", "Each group's decision boundary", _boundaries(fits)),
        ("warnings", "Warnings", list_html(warnings) if warnings else "<p>None.</p>"),
        ("refused", "Methods not fitted", key_values_html(refused.items()) if refused else "<p>None.</p>"),
    ]
    body = "\n".join(SECTION.format(id=key, heading=esc(heading), body=content) for key, heading, content in sections)
    return PAGE.format(title=esc(f"bayeslogit: {formula} on {source}"), style=STYLE, sections=body)


def _plots(fits: dict, progress: Callable[[str], None]) -> str:
    """The shrinkage and caterpillar plots of the first group term's first column, inline."""
    import bayeslogit as bl  # the plots load on first use, as the report of models without groups loads them

    figures = []
    for name, caption, draw in (
        ("Shrinkage", "Each group's own estimate against each fit's: the pull towards the group mean.", "shrinkage"),
        ("Caterpillar", "Every group's effect with its interval, by method, sorted.", "caterpillar"),
    ):
        started = time.perf_counter()
        figure, drawn = figure_html(name, caption, lambda draw=draw: getattr(bl, f"plot_{draw}")(fits))
        figures.append(figure)
        if drawn:
            progress(f"{name.lower()} plot drawn in {time.perf_counter() - started:.1f} s")
    return "\n".join(figures)


def _boundaries(fits: dict) -> str:
    """Each group's boundary along the first fixed-effect predictor, by fit: a table each."""
    first = next(iter(fits.values()))
    if first.layout.classes:
        return NOTE.format(
            text=f"A model of {len(first.layout.classes)} classes has a boundary per pair of classes, not one place "
            "per group on a line: read the groups' class probabilities from predict_proba."
        )
    X = first.source.X
    predictors = [
        name
        for j, name in enumerate(first.layout.coef_names)
        if name != "Intercept" and len(np.unique(X[:, j])) > 2  # along an indicator a boundary is no place
    ]
    if not predictors:
        return NOTE.format(
            text="The model has no predictor of more than two values: its groups' boundaries are not places on a line."
        )
    feature, parts = predictors[0], []
    for method, fit in fits.items():
        table = fit.group_boundaries(feature).round(4)
        parts.append(f"<h3>{esc(method)}</h3>\n{table.to_html(escape=True)}")
    intro = (
        f"<p>Where each group's probability of success is 0.5 along {esc(feature)}, the other predictors held at "
        "their means and the other terms' effects at zero.</p>"
    )
    return intro + "\n".join(parts)
