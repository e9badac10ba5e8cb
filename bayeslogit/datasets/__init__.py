"""Data sets shipped with bayeslogit, each returned as a pandas DataFrame.

Each frame's ``attrs["units"]`` maps its measured columns to their units as the sources give them (0/1 indicators,
counts of flights and class labels have none); the plots write them beside the columns' names.
"""

from importlib import resources

import pandas as pd

__all__ = ["load_wells", "load_challenger", "load_iris", "load_cbpp", "load_verbagg"]

UNITS = {
    "wells": {"arsenic": "100 µg/L", "dist": "m", "dist100": "100 m", "educ": "yr"},
    "challenger": {"temp": "°F"},
    "iris": {name: "cm" for name in ("sepal_length", "sepal_width", "petal_length", "petal_width")},
    "cbpp": {},
    "verbagg": {},
}
"""Data set -> {column: unit}: what each loader puts in its frame's ``attrs["units"]``."""


def _read(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(f"{name}.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    frame.attrs["units"] = dict(UNITS[name])
    return frame


def load_wells() -> pd.DataFrame:
    """Arsenic in Bangladeshi wells: did 3,020 households switch to a safe well?

    Columns: ``switched`` (1 if the household switched), ``arsenic`` (arsenic level of the
    household's well, in 100 µg/L: hundreds of micrograms per litre), ``dist`` (distance in metres to the
    closest known safe well), ``dist100`` (``dist / 100``, added here), ``assoc`` (1 if a member is
    active in community associations), ``educ`` (years of education of the head of household).

    Source: A. Gelman and J. Hill (2007), *Data Analysis Using Regression and Multilevel/Hierarchical
    Models*, Cambridge University Press, chapter 5.4. Their fit of ``switched ~ dist100 + arsenic``
    gives 0.0027, -0.8966 and 0.4608 (standard errors 0.079, 0.104, 0.041).
    """
    frame = _read("wells")
    frame.insert(frame.columns.get_loc("dist") + 1, "dist100", frame["dist"] / 100)
    return frame


def load_challenger() -> pd.DataFrame:
    """Space Shuttle O-ring damage by launch temperature, the 23 flights before the Challenger disaster.

    Columns: ``flight``, ``temp`` (launch temperature, degrees Fahrenheit), ``damaged`` (1 if any
    O-ring showed thermal distress).

    Source: S. R. Dalal, E. B. Fowlkes and B. Hoadley (1989), "Risk analysis of the space shuttle:
    pre-Challenger prediction of failure", *Journal of the American Statistical Association* 84,
    945-957. The ML logistic fit is 15.0429 - 0.2322 * temp (standard errors 7.379, 0.108).
    """
    return _read("challenger")


def load_iris() -> pd.DataFrame:
    """Fisher's iris data: four measurements (cm) of 150 flowers of three species.

    Columns: ``sepal_length``, ``sepal_width``, ``petal_length``, ``petal_width`` and ``species``
    (a pandas Categorical: setosa, versicolor, virginica).

    Source: R. A. Fisher (1936), "The use of multiple measurements in taxonomic problems",
    *Annals of Eugenics* 7, 179-188.
    """
    frame = _read("iris")
    frame["species"] = pd.Categorical(frame["species"], categories=["setosa", "versicolor", "virginica"])
    return frame


def _factors(frame: pd.DataFrame, levels: dict) -> pd.DataFrame:
    """``frame`` with each column of ``levels`` a pandas Categorical of those levels, in that order (R's)."""
    for column, categories in levels.items():
        frame[column] = pd.Categorical(frame[column], categories=categories, ordered=column == "resp")
    return frame


def load_cbpp() -> pd.DataFrame:
    """Contagious bovine pleuropneumonia: new cases in 15 herds of zebu cattle, over four periods (56 rows).

    Columns: ``herd`` (Categorical, levels "1" to "15"), ``incidence`` (new serological cases in the period),
    ``size`` (the herd's size at the start of the period) and ``period`` (Categorical, "1" to "4"). A binomial
    model takes ``incidence`` successes in ``size`` trials; lme4's example is
    ``cbind(incidence, size - incidence) ~ period + (1 | herd)``.

    Source: lme4's ``cbpp`` (written from R's lme4 1.1-31); the data of F. Lesnoff et al. (2004), "Within-herd
    spread of contagious bovine pleuropneumonia in Ethiopian highlands", *Preventive Veterinary Medicine* 64,
    27-40.
    """
    frame = _read("cbpp")
    return _factors(
        frame.astype({"herd": str, "period": str}),
        {"herd": [str(i) for i in range(1, 16)], "period": ["1", "2", "3", "4"]},
    )


def load_verbagg() -> pd.DataFrame:
    """Verbal aggression: 316 people's answers to 24 items on what they would want or do (7,584 rows).

    Columns: ``Anger`` (the person's trait anger score), ``Gender`` ("F", "M"), ``item`` (the 24 items, e.g.
    "S1WantCurse"), ``resp`` (ordered "no" < "perhaps" < "yes"), ``id`` (the person, "1" to "316"), ``btype``
    (behaviour: "curse", "scold", "shout"), ``situ`` (situation: "other", "self"), ``mode`` ("want", "do") and
    ``r2`` (the dichotomised response, R's coding kept: "N" for no, "Y" for perhaps or yes). All but ``Anger`` are
    pandas Categoricals with R's levels in R's order; a binary model's event is ``r2 == "Y"``. lme4's example is
    ``r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)``.

    Source: lme4's ``VerbAgg`` (written from R's lme4 1.1-31); the data of P. De Boeck and M. Wilson (2004),
    *Explanatory Item Response Models*, Springer.
    """
    frame = _read("verbagg")
    items = list(dict.fromkeys(frame["item"]))  # R's level order is the order of first appearance here
    levels = {
        "Gender": ["F", "M"],
        "item": items,
        "resp": ["no", "perhaps", "yes"],
        "id": [str(i) for i in range(1, 317)],
        "btype": ["curse", "scold", "shout"],
        "situ": ["other", "self"],
        "mode": ["want", "do"],
        "r2": ["N", "Y"],
    }
    return _factors(frame.astype({"id": str}), levels)
