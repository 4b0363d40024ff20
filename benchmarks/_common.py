"""Helpers shared by the benchmark scripts: data location, timing, output."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from sklearn.neighbors import KNeighborsClassifier

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO.parent / "shared" / "datasets" / "mnist"
RESULTS_DIR = REPO / "docs" / "results"


def timed(fn) -> float:
    """Wall seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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


def write_results(name: str, results: dict) -> Path:
    """Write results as JSON under docs/results/."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path
