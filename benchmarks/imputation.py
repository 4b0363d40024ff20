"""Imputation of entries missing at random, and codes of a table with gaps.

1. Imputation (issue 21), on two tables:

   * digits: ``load_digits()``, 1,797 rows of 64 pixel columns (0 to 16),
     given to every method as an ndarray with NaN in its gaps;
   * cars: the cars table of ``vega_datasets``, read from the file in that
     package (``local_data``; no download), as a DataFrame of 406 rows:
     Name dropped (an identifier), Year as the model year (1970 to 1982);
     Cylinders, Weight_in_lbs and Year integer columns (pandas "Int64", so
     that they stay integer with gaps); Origin a "category" column (USA,
     Europe, Japan). Its genuine gaps (8 Miles_per_Gallon, 6 Horsepower)
     have no truth: they stay missing in every input and are never scored.

   For each rate (10, 20 and 30 %) and seed, that share of the observed
   entries of the whole table is removed completely at random (MCAR; a
   seed's removals at a lower rate are part of those at a higher one). Each
   method is fitted on the table with its gaps and completes that same table,
   as imputation is used. Scored over the removed entries only: on digits,
   the RMSE in pixel units; on cars, the RMSE of the numeric entries in units
   of each column's standard deviation (of the observed values of the full
   table), pooled over all removed numeric entries, and the accuracy on the
   removed Origin entries. Mean and s.d. over seeds.

   Methods: ``LatentImputer(MIMEncoder(...))`` and
   ``LatentImputer(VAEEncoder(...))``, with the same settings (below);
   scikit-learn's ``SimpleImputer`` (the mean; through the one-hot block, the
   most frequent category), ``KNNImputer`` (k = 5) and ``IterativeImputer``
   (``BayesianRidge``, ``max_iter=10``, ``random_state`` the seed), all three
   on one encoding (``EncodedImputer``): numeric columns standardised with
   their observed values' mean and s.d., Origin one-hot with its whole block
   NaN where it is missing; decoded by undoing the standardisation (integer
   columns rounded) and taking the block's argmax.

2. Representation, on cars: Origin, left out of the input, predicted from the
   other seven columns (with their genuine gaps) by a 5-NN and a logistic
   regression probe, 5-fold stratified cross-validation (shuffled, seeded)
   with ``cross_val_score``, on (a) ``Pipeline([MIMEncoder(n_components=4),
   probe])`` fed the DataFrame as it is; (b) what one writes otherwise,
   ``SimpleImputer`` (mean) + ``StandardScaler`` + ``PCA(n_components=4)`` +
   probe (all seven columns are numeric, so no ``ColumnTransformer`` is
   needed); (c) the same without PCA, all seven scaled columns, a reference
   for what the columns hold. Mean and s.d. of the accuracy over folds.

Our encoders' settings were fixed before the final run, not tuned on these
scores (``ENCODERS``). Digits: 10 components (the package's default, the code
size of ``benchmarks/digits.py``), layers of (128, 128) (the default),
"global" scaling (the pixels share a unit). Cars: 4 components
(fewer than its 7 numeric columns, so that the code compresses, and the size
of the PCA it is set beside in part 2), layers of (64, 64) (400 rows need no
wider networks), "feature" scaling (its columns are in unrelated units),
batches of 32 rows (about 11 optimisation steps an epoch; chosen when the
default batch was 160, at which its 360 training rows would give 3).
Everything else is the estimators' defaults (since issue 31: ReLU, and the
decoder variance "auto", isotropic on digits and per column on cars).
Both scalings are what "auto" picks, written out so as not to depend on it.
Both: early stopping as by default (a tenth of the rows held out, patience
10 epochs, at most 200), ``device="cpu"`` (reproducible), ``random_state``
the seed (0 in part 2).

Run ``python benchmarks/imputation.py``: 3 seeds; it prints the tables and
writes ``docs/results/imputation.json``. ``--quick`` is a smoke run (one
seed, the 20 % rate, encoders of at most 10 epochs), writing
``imputation_quick.json``. Needs the ``benchmarks`` extra
(``pip install -e ".[benchmarks]"``) for ``vega_datasets``. It runs on one
thread (torch's and the BLAS's), faster than more for tables this small; each
method's seconds (fit and completion) are stored with its scores.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from _common import print_table, settings_table, table, write_results
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from vega_datasets import local_data

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.impute import LatentImputer

# The full protocol and the smoke run's: removal rates, seeds and our
# encoders' epochs at most (None: their default, 200).
BUDGETS = {
    "full": {"rates": [0.1, 0.2, 0.3], "seeds": [0, 1, 2], "max_epochs": None},
    "quick": {"rates": [0.2], "seeds": [0], "max_epochs": 10},
}
# Our encoders' settings per table, chosen beforehand (see the docstring).
ENCODERS = {
    "digits": {"n_components": 10, "hidden_layer_sizes": (128, 128),
               "scaling": "global", "device": "cpu"},
    "cars": {"n_components": 4, "hidden_layer_sizes": (64, 64),
             "scaling": "feature", "batch_size": 32, "device": "cpu"},
}
TABLE_TITLES = {"digits": "digits (64 pixel columns)",
                "cars": "cars (7 numeric columns and Origin)"}


class EncodedImputer(TransformerMixin, BaseEstimator):
    """A numeric-only imputer applied to a table of numeric and category columns.

    Numeric columns are standardised with the mean and s.d. of their
    observed values; each category column becomes a one-hot block, all NaN
    where the category is missing. ``imputer`` fills that matrix; the numeric
    columns are brought back to their units (integer columns rounded), each
    category is its block's argmax, and only X's missing entries are replaced.

    Parameters
    ----------
    imputer : estimator
        A scikit-learn imputer of numeric matrices (``SimpleImputer``,
        ``KNNImputer``, ``IterativeImputer``); a clone is fitted.

    Attributes
    ----------
    categories_ : dict of column to Index
        The categories of each category column, seen in ``fit``.
    mean_, scale_ : Series
        The numeric columns' observed means and s.d. (1 for a constant one).
    imputer_ : estimator
        The fitted clone of ``imputer``.
    """

    def __init__(self, imputer):
        self.imputer = imputer

    def fit(self, X: np.ndarray | pd.DataFrame, y=None) -> EncodedImputer:
        """Learn the encoding from X (ndarray or DataFrame) and fit the imputer."""
        frame = pd.DataFrame(X)
        self.categories_ = {
            column: frame[column].cat.categories for column in frame
            if isinstance(frame[column].dtype, pd.CategoricalDtype)}
        numeric = frame.drop(columns=list(self.categories_)).astype("float64")
        self.mean_ = numeric.mean()
        # Digits' border pixels are constant: keep them as they are.
        self.scale_ = numeric.std(ddof=0).replace(0.0, 1.0)
        self.imputer_ = clone(self.imputer).fit(self._encode(frame))
        return self

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        numeric = frame.drop(columns=list(self.categories_)).astype("float64")
        blocks = [((numeric - self.mean_) / self.scale_).to_numpy()]
        for column, categories in self.categories_.items():
            codes = pd.Categorical(frame[column], categories=categories).codes
            block = np.eye(len(categories))[codes]
            block[codes < 0] = np.nan
            blocks.append(block)
        return np.hstack(blocks)

    def transform(self, X: np.ndarray | pd.DataFrame) -> np.ndarray | pd.DataFrame:
        """X with its missing entries filled, of X's type and dtypes."""
        frame = pd.DataFrame(X)
        filled = self.imputer_.transform(self._encode(frame))
        numeric = [column for column in frame if column not in self.categories_]
        decoded = pd.DataFrame(filled[:, :len(numeric)], columns=numeric,
                               index=frame.index) * self.scale_ + self.mean_
        for column in numeric:
            if pd.api.types.is_integer_dtype(frame[column].dtype):
                decoded[column] = decoded[column].round()
        start = len(numeric)
        for column, categories in self.categories_.items():
            block = filled[:, start:start + len(categories)]
            decoded[column] = pd.Categorical(categories[block.argmax(axis=1)],
                                             categories=categories)
            start += len(categories)
        completed = frame.fillna(decoded)
        return completed if isinstance(X, pd.DataFrame) else completed.to_numpy()


def load_cars() -> pd.DataFrame:
    """The cars table, typed as the docstring says (genuine gaps kept)."""
    cars = local_data.cars().drop(columns="Name")
    return cars.assign(Year=cars["Year"].dt.year,
                       Origin=cars["Origin"].astype("category")).astype(
        {"Cylinders": "Int64", "Weight_in_lbs": "Int64", "Year": "Int64"})


def remove_at_random(X: np.ndarray | pd.DataFrame, rate: float,
                     seed: int) -> tuple[np.ndarray | pd.DataFrame, np.ndarray]:
    """X with a share of its observed entries removed completely at random.

    The removals are the first entries of one seeded permutation of the
    observed ones, so a seed's removals at a lower rate are kept at a higher.

    Parameters
    ----------
    X : ndarray or DataFrame
        The table; its missing entries (genuine gaps) stay missing.
    rate : float
        The share of X's observed entries to remove.
    seed : int
        Seeds the permutation.

    Returns
    -------
    X_gaps : ndarray or DataFrame
        X, of its type and dtypes, with the removed entries missing.
    removed : ndarray of bool, of X's shape
        True at the removed entries.
    """
    frame = pd.DataFrame(X)
    observed = np.flatnonzero(frame.notna().to_numpy())
    order = np.random.default_rng(seed).permutation(observed)
    removed = np.zeros(frame.shape, dtype=bool)
    removed.flat[order[:round(rate * observed.size)]] = True
    gaps = frame.mask(removed)
    return (gaps if isinstance(X, pd.DataFrame) else gaps.to_numpy()), removed


def imputation_scores(truth: np.ndarray | pd.DataFrame,
                      completed: np.ndarray | pd.DataFrame, removed: np.ndarray,
                      standardize: bool) -> dict[str, float]:
    """RMSE on the removed numeric entries, accuracy on the removed categories.

    Parameters
    ----------
    truth : ndarray or DataFrame
        The table before the removals (with its genuine gaps).
    completed : ndarray or DataFrame
        A method's completion of the table with the removals.
    removed : ndarray of bool
        True at the removed entries, the only ones scored.
    standardize : bool
        Whether each numeric column's errors are in units of the s.d. of its
        observed values in ``truth`` (else in the table's units).

    Returns
    -------
    dict
        ``"rmse"``, pooled over the removed numeric entries, and where
        ``truth`` has category columns, ``"accuracy"`` over their removed
        entries.
    """
    truth, completed = pd.DataFrame(truth), pd.DataFrame(completed)
    categorical = [column for column in truth
                   if isinstance(truth[column].dtype, pd.CategoricalDtype)]
    numeric = [column for column in truth if column not in categorical]
    exact = truth[numeric].astype("float64")
    errors = completed[numeric].astype("float64") - exact
    if standardize:
        errors /= exact.std(ddof=0)
    rows = removed[:, truth.columns.get_indexer(numeric)]
    scores = {"rmse": float(np.sqrt(np.mean(errors.to_numpy()[rows] ** 2)))}
    if categorical:
        rows = removed[:, truth.columns.get_indexer(categorical)]
        hits = (completed[categorical].to_numpy()[rows]
                == truth[categorical].to_numpy()[rows])
        scores["accuracy"] = float(hits.mean())
    return scores


def encoder_settings(name: str, budget: dict) -> dict:
    """Our encoders' settings on table ``name``, within ``budget``'s epochs."""
    epochs = budget["max_epochs"]
    return {**ENCODERS[name], **({"max_iter": epochs} if epochs else {})}


def imputers(name: str, seed: int, budget: dict) -> dict[str, TransformerMixin]:
    """The compared methods for table ``name``, unfitted, seeded by ``seed``."""
    settings = encoder_settings(name, budget)
    return {
        "MIMEncoder": LatentImputer(MIMEncoder(**settings, random_state=seed)),
        "VAEEncoder": LatentImputer(VAEEncoder(**settings, random_state=seed)),
        "SimpleImputer": EncodedImputer(SimpleImputer()),
        "KNNImputer": EncodedImputer(KNNImputer(n_neighbors=5)),
        "IterativeImputer": EncodedImputer(
            IterativeImputer(max_iter=10, random_state=seed)),
    }


def imputation_runs(tables: dict, budget: dict) -> list[dict]:
    """One record per table, rate, seed and method: its scores and seconds."""
    runs = []
    for name, truth in tables.items():
        for rate in budget["rates"]:
            for seed in budget["seeds"]:
                X, removed = remove_at_random(truth, rate, seed)
                for method, imputer in imputers(name, seed, budget).items():
                    start = time.perf_counter()
                    completed = imputer.fit_transform(X)
                    seconds = time.perf_counter() - start
                    scores = imputation_scores(truth, completed, removed,
                                               standardize=name == "cars")
                    runs.append({"table": name, "rate": rate, "seed": seed,
                                 "method": method, **scores, "seconds": seconds})
                    print(f"{name}, {percent(rate)}, seed {seed}, {method}: "
                          + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return runs


def summarize(runs: list[dict]) -> list[dict]:
    """Mean and s.d. over seeds of each score, per table, method and rate."""
    frame = pd.DataFrame(runs).drop(columns="seed")
    stats = frame.groupby(["table", "method", "rate"], sort=False).agg(
        ["mean", lambda values: float(np.std(values))])
    stats.columns = [f"{score}_{'mean' if stat == 'mean' else 'std'}"
                     for score, stat in stats.columns]
    return [{key: value for key, value in record.items() if pd.notna(value)}
            for record in stats.reset_index().to_dict("records")]


def representation(cars: pd.DataFrame, budget: dict) -> list[dict]:
    """Cross-validated accuracy of Origin from the other columns, per pipeline."""
    settings = encoder_settings("cars", budget)
    X, y = cars.drop(columns="Origin"), cars["Origin"].astype(str)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    features = {
        "MIMEncoder(n_components=4), fed the DataFrame": lambda: [
            ("mim", MIMEncoder(**settings, random_state=0))],
        "SimpleImputer + StandardScaler + PCA(n_components=4)": lambda: [
            ("impute", SimpleImputer()), ("scale", StandardScaler()),
            ("pca", PCA(n_components=4))],
        "SimpleImputer + StandardScaler, all 7 columns (reference)": lambda: [
            ("impute", SimpleImputer()), ("scale", StandardScaler())],
    }
    probes = {"5-NN": lambda: KNeighborsClassifier(n_neighbors=5),
              "logistic regression": lambda: LogisticRegression(max_iter=1000)}
    records = []
    for name, steps in features.items():
        record = {"features": name}
        for probe, make_probe in probes.items():
            scores = cross_val_score(Pipeline([*steps(), ("probe", make_probe())]),
                                     X, y, cv=cv)
            record[f"{probe}_mean"] = float(scores.mean())
            record[f"{probe}_std"] = float(scores.std())
        records.append(record)
    return records


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    summary = results["imputation"]

    def by_rate(name: str, score: str, title: str) -> dict:
        columns = {"method": "method"}
        for rate in results["rates"]:
            columns[f"{rate}"] = f"{percent(rate)} removed"
            columns[f"{rate}_std"] = f"{percent(rate)}, s.d."
        rows = {}
        for record in summary:
            if record["table"] == name:
                row = rows.setdefault(record["method"], {"method": record["method"]})
                row[f"{record['rate']}"] = record[f"{score}_mean"]
                row[f"{record['rate']}_std"] = record[f"{score}_std"]
        return table(f"{TABLE_TITLES[name]}: {title}, mean and s.d. over seeds",
                     columns, list(rows.values()))

    return [
        settings_table("Setup", {
            "quick": "smoke run (--quick)", "seeds": "seeds (random_state)",
            "rates": "shares of the observed entries removed (MCAR)",
            "digits_encoder": "our encoders on digits",
            "cars_encoder": "our encoders on cars",
            "cars_rows": "cars rows", "cars_genuine_gaps": "cars genuine gaps"},
            results),
        by_rate("digits", "rmse", "RMSE on the removed entries (pixel units)"),
        by_rate("cars", "rmse", "RMSE on the removed numeric entries "
                "(column s.d. units)"),
        by_rate("cars", "accuracy", "accuracy on the removed Origin entries"),
        table("cars: Origin from the other columns (genuine gaps), "
              "5-fold stratified cross-validation, accuracy",
              {"features": "features", "5-NN_mean": "5-NN",
               "5-NN_std": "5-NN, s.d.",
               "logistic regression_mean": "logistic regression",
               "logistic regression_std": "logistic regression, s.d."},
              results["representation"]),
    ]


def percent(rate: float) -> str:
    """A rate as the tables write it: 0.1 -> "10 %"."""
    return f"{100 * rate:.0f} %"


def describe(settings: dict) -> str:
    """Settings as the keyword arguments of a call."""
    return ", ".join(f"{key}={value!r}" for key, value in settings.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    # Tables this small gain nothing from threads, and on a shared machine
    # BLAS and torch threads that wait on each other made the smoke run ten
    # times slower than on one thread.
    torch.set_num_threads(1)
    threadpool_limits(1)
    started = time.perf_counter()
    budget = BUDGETS["quick" if args.quick else "full"]
    cars = load_cars()
    tables = {"digits": load_digits().data, "cars": cars}
    runs = imputation_runs(tables, budget)
    results = {
        "quick": args.quick, **budget,
        **{f"{name}_encoder": describe(encoder_settings(name, budget))
           for name in ENCODERS},
        "cars_rows": len(cars),
        "cars_genuine_gaps": {column: int(count) for column, count
                              in cars.isna().sum().items() if count},
        "imputation": summarize(runs), "imputation_runs": runs,
        "representation": representation(cars, budget),
    }
    results["wall_s"] = time.perf_counter() - started
    results["tables"] = results_tables(results)
    for shown in results["tables"]:
        print_table(shown["title"], shown["columns"], shown["rows"])
    path = write_results("imputation_quick" if args.quick else "imputation", results)
    print(f"\nwrote {path} ({results['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
