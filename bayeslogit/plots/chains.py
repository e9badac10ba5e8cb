"""MCMC diagnostics plots, drawn by arviz-plots on the fit's DataTree."""

from bayeslogit.exceptions import OptionError
from bayeslogit.plots.fonts import draw_names


def plot_trace(fit, **kwargs):
    """Trace of each coefficient per chain, by ``arviz_plots.plot_trace``, with divergences marked.

    Parameters
    ----------
    fit : MCMCFit
    **kwargs
        Passed to ``arviz_plots.plot_trace`` (e.g. ``coords={"predictor": ["dist100"]}``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _arviz_figure("plot_trace", fit, kwargs)


def plot_rank(fit, **kwargs):
    """Rank plot of each coefficient (fractional ranks of each chain's draws against all chains', as ECDF
    differences with a simultaneous envelope), by ``arviz_plots.plot_rank``: chains that mix stay inside.

    Parameters
    ----------
    fit : MCMCFit
    **kwargs
        Passed to ``arviz_plots.plot_rank``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _arviz_figure("plot_rank", fit, kwargs)


def _arviz_figure(name: str, fit, kwargs: dict):
    if not getattr(fit, "markov_chains", False):  # a fit of another method, a failed fit, or no fit
        raise OptionError(
            f"{name} shows Markov chains, so it needs an MCMC fit (model.fit_mcmc(prior)); got a "
            f"{getattr(fit, 'method', type(fit).__name__)!r} fit, which has no chains to diagnose"
        )
    import arviz_plots

    collection = getattr(arviz_plots, name)(fit.to_datatree(), backend="matplotlib", **kwargs)
    fig = collection.get_viz("figure")
    for ax in fig.axes:  # "coef\n<name>": the variable is always coef, and a second line runs into the row above
        ax.set_title(ax.get_title().removeprefix("coef\n"), fontsize="medium")
    fig.set_layout_engine("constrained")
    return draw_names(fig)
