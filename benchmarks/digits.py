"""The digits acceptance numbers: 5-NN accuracy against PCA, and fit time.

On raw ``load_digits()`` (no scaling by the user):

* 5-fold ``cross_val_score`` of ``Pipeline([MIMEncoder(random_state=0),
  KNeighborsClassifier(5)])`` beside ``PCA`` with as many components,
  for the default ``n_components`` and for 2, 5, 10 and 20 (issue 18: MIM
  should beat PCA at every size);
* seconds of one default ``MIMEncoder`` fit on a fold's 1,437 rows;
* a ``GridSearchCV`` over ``n_components`` in [2, 5, 10] with ``n_jobs=2``.

Run ``python benchmarks/digits.py``; writes ``docs/results/digits.json``.
"""

from __future__ import annotations

import time
import warnings

from _common import print_table, settings_table, table, write_results
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from mim_sklearn import MIMEncoder

# Code sizes at which MIM is set beside PCA (besides the default).
COMPONENTS = (2, 5, 10, 20)


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    sizes = sorted({results["default_n_components"], *COMPONENTS})
    return [
        settings_table("Setup", {"default_n_components": "default n_components"},
                       results),
        table("5-NN accuracy, 5-fold cross-validation on raw digits",
              {"n_components": "n_components", "mim": "MIMEncoder", "pca": "PCA"},
              [{"n_components": n, **results[f"knn_accuracy_{n}"]} for n in sizes]),
        table("One default MIMEncoder fit on 1,437 rows",
              {"seed": "random_state", "seconds": "seconds", "epochs": "epochs"},
              results["fit_1437_rows"]),
        settings_table("GridSearchCV over n_components in [2, 5, 10], cv=3, n_jobs=2",
                       {"best_params": "best parameters",
                        "best_score": "best mean accuracy", "seconds": "seconds"},
                       results["grid_search"]),
    ]


def knn_accuracy(encoder, X, y):
    pipe = Pipeline([("enc", encoder), ("knn", KNeighborsClassifier(5))])
    return float(cross_val_score(pipe, X, y, cv=5).mean())


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    default = MIMEncoder().n_components
    rows, results = [], {"default_n_components": default}
    for n in sorted({default, *COMPONENTS}):
        mim = knn_accuracy(MIMEncoder(n_components=n, random_state=0), X, y)
        pca = knn_accuracy(PCA(n_components=n), X, y)
        rows.append([n, mim, pca])
        results[f"knn_accuracy_{n}"] = {"mim": mim, "pca": pca}
    print_table("5-NN accuracy, 5-fold cross-validation on raw load_digits",
                ["n_components", "MIM", "PCA"], rows)

    fits = []
    for seed in range(3):
        start = time.perf_counter()
        est = MIMEncoder(random_state=seed).fit(X[:1437])
        fits.append([seed, time.perf_counter() - start, est.n_iter_])
    results["fit_1437_rows"] = [dict(zip(["seed", "seconds", "epochs"], f))
                                for f in fits]
    print_table("One default MIMEncoder fit on 1,437 rows",
                ["random_state", "seconds", "epochs"], fits)

    start = time.perf_counter()
    pipe = Pipeline([("mim", MIMEncoder(random_state=0)),
                     ("knn", KNeighborsClassifier(5))])
    search = GridSearchCV(pipe, {"mim__n_components": [2, 5, 10]}, cv=3,
                          n_jobs=2).fit(X, y)
    results["grid_search"] = {"best_params": search.best_params_,
                              "best_score": float(search.best_score_),
                              "seconds": time.perf_counter() - start}
    print(f"\nGridSearchCV(n_jobs=2): best {search.best_params_}, "
          f"score {search.best_score_:.4f}, {results['grid_search']['seconds']:.0f} s")
    path = write_results("digits", {**results, "tables": results_tables(results)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
