"""Small data at the defaults: codes and imputation on the tables and images
people start with, beside PCA, UMAP and scikit-learn's imputers.

Every encoder runs at its defaults (only ``n_components``, ``random_state``
and, for the held-out score, nothing else is set), as a new user would run
it. Three seeds (``random_state`` 0, 1, 2 of the encoders and, where the
protocol shuffles, of the folds and the removals); each cell is the mean
and the standard deviation over the seeds of a seed's mean over its folds.

1. **digits**, the README's pipeline: ``Pipeline([encoder,
   KNeighborsClassifier(5)])`` on raw ``load_digits()`` (no scaling by the
   user), scored by ``StratifiedKFold(5)`` *without* shuffling (the data is
   ordered by writer, so this is harder than shuffled folds: raw pixels
   score 0.963 here, 0.986 on shuffled ones), at ``n_components`` 2, 5, 10
   and 20. MIM at every size, A-MIM and the VAE at 10, beside PCA, raw
   pixels and UMAP (when ``umap-learn`` is installed). For our encoders also
   the seconds of a fit, its epochs, how many of the 15 fits reached
   ``max_iter`` (the rest stopped early) and, at 10 components, the held-out
   fold's mean log-likelihood (``score``, K = 1000).
2. **cars** (``vega_datasets``' table, 406 rows with genuine gaps, read as
   ``benchmarks/imputation.py`` reads it): Origin predicted from the other
   seven columns by a 5-NN and a logistic-regression probe on
   ``MIMEncoder(n_components=4)`` fed the DataFrame, against
   ``SimpleImputer + StandardScaler + PCA(4)`` and the seven scaled columns;
   ``StratifiedKFold(5, shuffle=True, random_state=seed)``.
3. **cars imputation**: ``LatentImputer()`` at its defaults (a
   ``VAEEncoder()``) at 10, 20 and 30 % of the entries removed completely
   at random, against ``KNNImputer`` and ``IterativeImputer`` on
   ``imputation.py``'s encoding; RMSE of the removed numeric entries in
   units of each column's s.d., accuracy on the removed Origin entries.
4. **a rank-2 table**: 400 rows, 8 columns, x = 3 a b + 5 + N(0, 0.1^2)
   with a, b standard normal (``tests/test_tables.py``'s ``low_rank``, the
   seed as its seed), 20 % of the entries missing; imputation RMSE in units
   of each column's s.d., ``LatentImputer()`` against the same imputers.

Run ``python benchmarks/small_data.py`` (about 25 minutes on two cores);
it prints the tables and writes ``docs/results/small_data.json``.
``--quick`` is a smoke run (one seed, digits at 10 components, at most 5
epochs), writing ``small_data_quick.json``. Needs the ``benchmarks`` extra.
Each fit runs on one thread, as in ``imputation.py``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _common import fit_quietly, print_table, settings_table, table, write_results
from imputation import (
    EncodedImputer,
    imputation_scores,
    load_cars,
    remove_at_random,
)
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.impute import LatentImputer

BUDGETS = {
    "full": {"seeds": [0, 1, 2], "sizes": [2, 5, 10, 20], "rates": [0.1, 0.2, 0.3],
             "max_iter": None},
    "quick": {"seeds": [0], "sizes": [10], "rates": [0.2], "max_iter": 5},
}
# The size at which every method is compared on digits (the default).
MAIN_SIZE = 10


def umap_or_none(n_components: int, seed: int):
    """UMAP with ``n_components``, or None when umap-learn is not installed."""
    try:
        from umap import UMAP
    except ImportError:
        return None
    return UMAP(n_components=n_components, random_state=seed)


def over_seeds(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "sd": float(np.std(values))}


def digits_encoders(size: int, seed: int, budget: dict) -> dict:
    """The encoders compared at ``size`` components, unfitted."""
    ours = {"max_iter": budget["max_iter"]} if budget["max_iter"] else {}
    encoders = {"MIMEncoder": MIMEncoder(size, random_state=seed, **ours)}
    if size == MAIN_SIZE:
        encoders["AMIMEncoder"] = AMIMEncoder(size, random_state=seed, **ours)
        encoders["VAEEncoder"] = VAEEncoder(size, random_state=seed, **ours)
    encoders["PCA"] = PCA(size, random_state=seed)
    umap = umap_or_none(size, seed)
    if umap is not None:
        encoders["UMAP"] = umap
    return encoders


def digits_runs(budget: dict) -> list[dict]:
    """One record per method and size: 5-NN accuracy and our fits' figures."""
    X, y = load_digits(return_X_y=True)
    folds = list(StratifiedKFold(5).split(X, y))
    records = []
    for size in budget["sizes"]:
        by_method: dict[str, dict[str, list]] = {}
        for seed in budget["seeds"]:
            for method, encoder in digits_encoders(size, seed, budget).items():
                seen = by_method.setdefault(method, {"accuracy": [], "seconds": [],
                                                     "epochs": [], "at_max_iter": 0,
                                                     "score": []})
                accuracies, scores = [], []
                for train, test in folds:
                    pipe = Pipeline([("encoder", clone(encoder)),
                                     ("knn", KNeighborsClassifier(5))])
                    seconds, reached = fit_quietly(pipe, X[train], y[train])
                    accuracies.append(pipe.score(X[test], y[test]))
                    fitted = pipe.named_steps["encoder"]
                    if hasattr(fitted, "n_iter_"):
                        seen["seconds"].append(seconds)
                        seen["epochs"].append(fitted.n_iter_)
                        seen["at_max_iter"] += reached
                        if size == MAIN_SIZE:
                            scores.append(fitted.score(X[test]))
                seen["accuracy"].append(np.mean(accuracies))
                if scores:
                    seen["score"].append(np.mean(scores))
                print(f"digits, {size} components, seed {seed}, {method}: "
                      f"5-NN {np.mean(accuracies):.4f}", flush=True)
        for method, seen in by_method.items():
            accuracy = over_seeds(seen["accuracy"])
            record = {"n_components": size, "method": method,
                      **{f"knn5_{k}": v for k, v in accuracy.items()}}
            if seen["seconds"]:
                record.update(fit_seconds=float(np.mean(seen["seconds"])),
                              epochs=float(np.mean(seen["epochs"])),
                              fits_at_max_iter=seen["at_max_iter"],
                              fits=len(seen["seconds"]))
            if seen["score"]:
                record.update({f"score_{k}": v
                               for k, v in over_seeds(seen["score"]).items()})
            records.append(record)
    raw = np.mean([KNeighborsClassifier(5).fit(X[tr], y[tr]).score(X[te], y[te])
                   for tr, te in folds])
    records.append({"n_components": X.shape[1], "method": "raw pixels",
                    "knn5_mean": float(raw), "knn5_sd": 0.0})
    return records


def cars_codes(cars, budget: dict) -> list[dict]:
    """Origin from the other columns: 5-NN and logistic regression probes."""
    X, y = cars.drop(columns="Origin"), cars["Origin"].astype(str)
    ours = {"max_iter": budget["max_iter"]} if budget["max_iter"] else {}
    features = {
        "MIMEncoder(4), fed the DataFrame":
            lambda seed: [("mim", MIMEncoder(4, random_state=seed, **ours))],
        "SimpleImputer + StandardScaler + PCA(4)":
            lambda seed: [("impute", SimpleImputer()), ("scale", StandardScaler()),
                          ("pca", PCA(4, random_state=seed))],
        "SimpleImputer + StandardScaler, all 7 columns":
            lambda seed: [("impute", SimpleImputer()), ("scale", StandardScaler())],
    }
    probes = {"knn5": lambda: KNeighborsClassifier(5),
              "logistic": lambda: LogisticRegression(max_iter=1000)}
    records = []
    for name, steps in features.items():
        record = {"features": name}
        for probe, make_probe in probes.items():
            per_seed = []
            for seed in budget["seeds"]:
                folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y)
                scores = []
                for train, test in folds:
                    pipe = Pipeline([*steps(seed), ("probe", make_probe())])
                    fit_quietly(pipe, X.iloc[train], y.iloc[train])
                    scores.append(pipe.score(X.iloc[test], y.iloc[test]))
                per_seed.append(np.mean(scores))
            record.update({f"{probe}_{k}": v for k, v in over_seeds(per_seed).items()})
        print(record, flush=True)
        records.append(record)
    return records


def low_rank(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """tests/test_tables.py's rank-2 table and its copy with 20 % gaps."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 8)) * 3 + 5
    X += rng.normal(scale=0.1, size=X.shape)
    gaps = X.copy()
    gaps[rng.random(X.shape) < 0.2] = np.nan
    return X, gaps


def imputers(seed: int, budget: dict, table: bool) -> dict:
    """The compared imputers: ours at its defaults, KNN and iterative."""
    ours = {"max_iter": budget["max_iter"]} if budget["max_iter"] else {}
    plain = {"KNNImputer": KNNImputer(n_neighbors=5),
             "IterativeImputer": IterativeImputer(max_iter=10, random_state=seed)}
    if table:
        plain = {name: EncodedImputer(imputer) for name, imputer in plain.items()}
    return {"LatentImputer()": LatentImputer(VAEEncoder(random_state=seed, **ours)),
            **plain}


def imputation_runs(cars, budget: dict) -> list[dict]:
    """RMSE (and Origin accuracy) per table, rate, method: mean, s.d. over seeds."""
    cases = [("cars", rate) for rate in budget["rates"]] + [("rank-2 table", 0.2)]
    records = []
    for name, rate in cases:
        scores: dict[str, list[dict]] = {}
        for seed in budget["seeds"]:
            if name == "cars":
                truth = cars
                gaps, removed = remove_at_random(cars, rate, seed)
            else:
                truth, gaps = low_rank(seed)
                removed = np.isnan(gaps)
            for method, imputer in imputers(seed, budget, name == "cars").items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    completed = imputer.fit_transform(gaps)
                scores.setdefault(method, []).append(
                    imputation_scores(truth, completed, removed, standardize=True))
        for method, per_seed in scores.items():
            record = {"table": name, "rate": rate, "method": method}
            for score in per_seed[0]:
                record.update({f"{score}_{k}": v for k, v in
                               over_seeds([s[score] for s in per_seed]).items()})
            print(record, flush=True)
            records.append(record)
    return records


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    digits = results["digits"]
    return [
        settings_table("Setup", {"seeds": "seeds", "quick": "smoke run (--quick)",
                                 "umap": "UMAP installed"}, results),
        table("digits, README pipeline, unshuffled StratifiedKFold(5): 5-NN "
              "accuracy of the codes (mean, s.d. over seeds)",
              {"n_components": "n_components", "method": "encoder",
               "knn5_mean": "5-NN", "knn5_sd": "s.d."},
              digits),
        table("digits, our encoders' fits (15 a size: 5 folds, 3 seeds)",
              {"n_components": "n_components", "method": "encoder",
               "fit_seconds": "fit (s)", "epochs": "epochs",
               "fits_at_max_iter": "fits reaching max_iter"},
              [r for r in digits if "epochs" in r]),
        table(f"digits, held-out log-likelihood at {MAIN_SIZE} components",
              {"method": "encoder", "score_mean": "score (nats)", "score_sd": "s.d."},
              [r for r in digits if "score_mean" in r]),
        table("cars: Origin from the other columns, StratifiedKFold(5, shuffled)",
              {"features": "features", "knn5_mean": "5-NN", "knn5_sd": "s.d.",
               "logistic_mean": "logistic regression", "logistic_sd": "s.d."},
              results["cars_codes"]),
        table("Imputation at the defaults: RMSE in column s.d. (and Origin accuracy)",
              {"table": "table", "rate": "removed", "method": "method",
               "rmse_mean": "RMSE", "rmse_sd": "s.d.",
               "accuracy_mean": "Origin accuracy"},
              [{"accuracy_mean": None, **r} for r in results["imputation"]]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    budget = BUDGETS["quick" if args.quick else "full"]
    cars = load_cars()
    torch.set_num_threads(1)  # small data gains nothing from threads
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # umap-learn's own
        results = {"quick": args.quick, "seeds": budget["seeds"],
                   "umap": umap_or_none(2, 0) is not None,
                   "digits": digits_runs(budget),
                   "cars_codes": cars_codes(cars, budget),
                   "imputation": imputation_runs(cars, budget)}
    results["tables"] = results_tables(results)
    for shown in results["tables"][1:]:
        print_table(shown["title"], shown["columns"], shown["rows"])
    write_results("small_data_quick" if args.quick else "small_data", results)


if __name__ == "__main__":
    main()
