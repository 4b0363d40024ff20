"""Speed and accuracy of the KSG mutual-information estimator.

Data: x and z of 2 dimensions each, jointly Gaussian with correlation rho
between x_m and z_m, so I(x; z) = -log(1 - rho**2) (2 dimensions times
-log(1 - rho**2) / 2). Cases:

1. ``ksg_mutual_information`` (k = 5) on 10,000, 30,000 and 100,000 rows:
   median seconds of interleaved repeats, the estimate and the closed form.
   The issue's target: 100,000 rows in at most 5 s on two cores.
2. At 100,000 rows, side by side with the same estimator whose marginal
   counts come from a k-d tree (scikit-learn's ``KDTree.query_radius`` with
   ``count_only``, the fastest tree count we measured), to show what the
   sorted-array range counts buy.

Run ``python benchmarks/ksg.py`` (``--quick`` for a smoke run); it prints
tables and writes ``docs/results/ksg.json``.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy
import sklearn
from _common import (
    interleaved_medians,
    print_table,
    settings_table,
    table,
    write_results,
)
from scipy.spatial import KDTree
from scipy.special import digamma
from sklearn.neighbors import KDTree as SkKDTree

from mim_sklearn.metrics import ksg_mutual_information

RHO = 0.5
K = 5


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    return [
        settings_table("Setup", {
            "numpy": "NumPy", "scipy": "SciPy", "scikit_learn": "scikit-learn",
            "cores": "CPU cores", "rho": "correlation rho",
            "n_neighbors": "k (neighbours)", "dimensions": "dimensions of x + z",
            "repeats": "timed repeats", "target": "target"}, results),
        table("Seconds and accuracy against the closed form",
              {"rows": "rows", "seconds": "seconds", "estimate": "estimate (nats)",
               "closed_form": "closed form (nats)", "error": "error (nats)"},
              results["scaling"]),
        table("Sorted-array counts beside k-d tree counts",
              {"case": "case", "ours_s": "sorted arrays (s)",
               "tree_counts_s": "k-d tree counts (s)", "ratio": "ratio",
               "same_value": "same estimate"},
              results["side_by_side"]),
    ]


def correlated_gaussians(n: int, rho: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    z = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, 2))
    return x, z


def closed_form(rho: float, d: int = 2) -> float:
    return float(-d / 2 * np.log(1 - rho**2))


def ksg_tree_counts(x, z, k=K):
    """The same estimator with every marginal count from a k-d tree."""
    joint = np.hstack([x, z])
    eps = KDTree(joint).query(joint, k=[k + 1], p=np.inf, workers=-1)[0][:, 0]
    radius = np.nextafter(eps, 0)

    def count(v):
        return SkKDTree(v, metric="chebyshev").query_radius(v, radius, count_only=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        n_x, n_z = pool.map(count, (x, z))
    n = len(x)
    return float(digamma(k) + digamma(n)
                 - (digamma(n_x).sum() + digamma(n_z).sum()) / n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    sizes = [2_000, 10_000] if args.quick else [10_000, 30_000, 100_000]
    repeats = 2 if args.quick else 5
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
          f"{sklearn.__version__}, {os.cpu_count()} cores; rho = {RHO}, k = {K}")

    data = {n: correlated_gaussians(n, RHO) for n in sizes}
    medians = interleaved_medians(
        {n: (lambda n=n: ksg_mutual_information(*data[n], n_neighbors=K))
         for n in sizes},
        repeats,
    )
    true = closed_form(RHO)
    scaling = []
    for n in sizes:
        estimate = ksg_mutual_information(*data[n], n_neighbors=K)
        scaling.append([n, medians[n], estimate, true, estimate - true])
    print_table(f"ksg_mutual_information, 2 + 2 dimensions (median of {repeats} "
                "interleaved runs)",
                ["rows", "seconds", "estimate", "closed form", "error"], scaling)

    n = sizes[-1]
    side = interleaved_medians(
        {"ours": lambda: ksg_mutual_information(*data[n], n_neighbors=K),
         "tree counts": lambda: ksg_tree_counts(*data[n])},
        max(1, repeats - 2),
    )
    same = ksg_tree_counts(*data[n]) == ksg_mutual_information(*data[n])
    side_rows = [[f"{n} rows", side["ours"], side["tree counts"],
                  side["ours"] / side["tree counts"], same]]
    print_table("Side by side (seconds, medians of interleaved runs)",
                ["case", "ours", "tree counts", "ratio", "same value"], side_rows)

    results = {
        "numpy": np.__version__, "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__, "cores": os.cpu_count(),
        "rho": RHO, "n_neighbors": K, "dimensions": "2 + 2", "repeats": repeats,
        "target": "100,000 rows in <= 5 s on 2 cores",
        "scaling": [dict(zip(["rows", "seconds", "estimate", "closed_form", "error"],
                             r)) for r in scaling],
        "side_by_side": [dict(zip(["case", "ours_s", "tree_counts_s", "ratio",
                                   "same_value"], r)) for r in side_rows],
    }
    path = write_results("ksg_quick" if args.quick else "ksg",
                         {**results, "tables": results_tables(results)})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
