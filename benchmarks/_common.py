"""Helpers shared by the benchmark scripts: data location, timing, output.

Every script writes its results file with ``write_results``: its
measurements under its own keys, and under ``"tables"`` the tables that the
documentation shows of them, built with ``table`` and ``settings_table``.
The documentation renders those tables as they are (formatting the numbers),
so each script's labels and titles live beside the numbers it measures.
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "datasets" / "mnist"
RESULTS_DIR = REPO / "docs" / "results"


def timed(fn) -> float:
    """Wall seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fit_quietly(estimator, *args) -> tuple[float, bool]:
    """Fit; return the seconds and whether the fit reached ``max_iter``
    (raised a ConvergenceWarning, which is recorded, not shown)."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(*args)
    reached = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return time.perf_counter() - start, reached


def interleaved_medians(candidates: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each candidate, runs interleaved round by round.

    Each candidate first runs once untimed, so that one-off start-up costs
    (thread pools, kernel selection) fall on no side. Interleaving spreads the
    machine's load changes over all candidates, so their ratio is fair even
    on a shared, noisy machine.
    """
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    for fn in candidates.values():  # untimed: thread pools, kernel selection
        fn()
    for _ in range(repeats):
        for name, fn in candidates.items():
            seconds[name].append(timed(fn))
    return {name: statistics.median(values) for name, values in seconds.items()}


def knn5_means_and_draws(est, X, y, X_test, y_test,
                         draw_seeds: tuple[int, int]) -> tuple[float, float]:
    """5-NN test accuracy of the codes as posterior means and as one draw per row.

    Each classifier is fitted on the training rows' codes of the same kind:
    the means (``transform``, what a pipeline sees) or one draw z ~ q(z|x)
    (what the MIM paper classifies), the training and test draws seeded by
    ``draw_seeds``.
    """
    def accuracy(codes, codes_test) -> float:
        return KNeighborsClassifier(5).fit(codes, y).score(codes_test, y_test)

    train_seed, test_seed = draw_seeds
    return (accuracy(est.transform(X), est.transform(X_test)),
            accuracy(est.sample_posterior(X, random_state=train_seed),
                     est.sample_posterior(X_test, random_state=test_seed)))


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    """Print rows under a header, columns right-aligned."""
    cells = [header] + [[f"{c:.4g}" if isinstance(c, float) else str(c) for c in r]
                        for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def table(title: str, columns: dict[str, str], records: list[dict]) -> dict:
    """A table for the documentation: a row per record, a column per key.

    Parameters
    ----------
    title : str
        The table's caption.
    columns : dict of str to str
        The keys of ``records`` to show, in the columns' order, each mapped to
        its column label.
    records : list of dict
        The rows' values by key; they are kept as measured (the documentation
        formats them).

    Returns
    -------
    dict
        ``{"title": title, "columns": [label, ...], "rows": [[value, ...], ...]}``.
    """
    return {"title": title, "columns": list(columns.values()),
            "rows": [[record[key] for key in columns] for record in records]}


def settings_table(title: str, labels: dict[str, str], values: dict) -> dict:
    """A two-column table for the documentation: a setting per row, its value beside.

    Parameters
    ----------
    title : str
        The table's caption.
    labels : dict of str to str
        The label of each key of ``values`` to show. Entries of ``values``
        without one (nested tables, values the page does not show) are left
        out.
    values : dict
        The settings, in the order the rows take.

    Returns
    -------
    dict
        A table as ``table`` makes it, with the columns ``""`` and ``"value"``.
    """
    return {"title": title, "columns": ["", "value"],
            "rows": [[labels[key], value] for key, value in values.items()
                     if key in labels]}


def write_results(name: str, results: dict) -> Path:
    """Write a script's results as JSON to ``docs/results/NAME.json``.

    Parameters
    ----------
    name : str
        The file's name, without ``.json``.
    results : dict
        The measurements under the script's own keys (which scripts and tests
        read back) and, under ``"tables"``, the list of tables (from ``table``
        and ``settings_table``) that the documentation shows, in order.

    Returns
    -------
    Path
        The file written.
    """
    if "tables" not in results:
        raise ValueError(f"{name}: the results need their documentation's tables")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
