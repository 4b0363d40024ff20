"""The mutual autoencoder poster's two demos, at full size.

1. "Splitting the normal": x ~ N(0, 1) in 1-D, a 1-D latent. For each target
   M, an ``MAEEncoder`` is fitted and the mutual information of draws from
   p(z) p(x|z) is measured with the KSG estimator (k = 5), beside the bound
   the model trains (``mutual_info_``). A ``VAEEncoder`` of the same capacity
   is the baseline: it is expected to ignore z. Mean and standard deviation
   over seeds.
2. Categorical x, uniform on {0, ..., 9}: for growing M, the rows p(x|z) over
   a grid of z, drawn as the poster does (one panel per M).

Run ``python benchmarks/mae.py`` (``--quick`` for a smoke run). It prints
tables and writes ``docs/results/mae.json`` and ``mae_categorical.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from _common import RESULTS_DIR, print_table, settings_table, table, write_results
from sklearn.exceptions import ConvergenceWarning

from mim_sklearn import MAEEncoder, VAEEncoder
from mim_sklearn.datasets import make_standard_normal, make_uniform_categorical
from mim_sklearn.metrics import ksg_mutual_information

NORMAL_TARGETS = (0.4, 0.8, 1.2)
CATEGORICAL_TARGETS = (0.5, 1.0, 1.5, 2.0)
CAPACITY = dict(n_components=1, hidden_layer_sizes=(32, 32), device="cpu")


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    return [
        settings_table("Setup", {"rows": "rows", "seeds": "random_state values"},
                       results),
        table("Splitting the normal: mutual information of the decoding distribution",
              {"model": "model", "ksg_mean": "KSG I(x; z), mean",
               "ksg_std": "KSG, s.d. over seeds", "bound_mean": "trained bound, mean",
               "heldout_loglik": "held-out log-likelihood", "fit_s": "fit (s)"},
              results["splitting_the_normal"]),
        table("Uniform categorical data: growing targets",
              {"target": "target M", "bound": "trained bound", "ksg": "KSG I(x; z)",
               "mean_entropy": "mean entropy of p(x|z)", "epochs": "epochs"},
              results["categorical"]),
    ]


def decoding_information(est, n_samples: int) -> float:
    X, Z = est.sample(n_samples, random_state=12345, return_latent=True)
    return ksg_mutual_information(X, Z)


def splitting_the_normal(n_rows: int, seeds: list[int]) -> list[list]:
    X = make_standard_normal(n_rows, random_state=0)
    held_out = make_standard_normal(2000, random_state=1)
    rows = []
    candidates = [(f"MAE, M = {m}", MAEEncoder, {"target_mutual_info": m})
                  for m in NORMAL_TARGETS] + [("VAE", VAEEncoder, {})]
    for name, cls, params in candidates:
        ksg, bound, score, seconds = [], [], [], []
        for seed in seeds:
            start = time.perf_counter()
            est = cls(**CAPACITY, **params, random_state=seed).fit(X)
            seconds.append(time.perf_counter() - start)
            ksg.append(decoding_information(est, n_rows))
            bound.append(getattr(est, "mutual_info_", np.nan))
            score.append(est.score(held_out))
        rows.append([name, np.mean(ksg), np.std(ksg), np.mean(bound),
                     np.mean(score), np.mean(seconds)])
    return rows


def categorical_rows(n_rows: int, grid: np.ndarray) -> tuple[list[list], dict]:
    X = make_uniform_categorical(n_rows, random_state=0)
    table, panels = [], {}
    for target in CATEGORICAL_TARGETS:
        est = MAEEncoder(**{**CAPACITY, "hidden_layer_sizes": (64, 64)},
                         target_mutual_info=target, likelihood="categorical",
                         random_state=0).fit(X)
        with torch.no_grad():
            params = est.model_.decode(torch.as_tensor(grid[:, None],
                                                       dtype=torch.float32))
            rows = est.model_.likelihood.log_probabilities(params).exp()[:, 0].numpy()
        panels[target] = rows
        entropy = -(rows * np.log(np.clip(rows, 1e-12, None))).sum(1).mean()
        table.append([target, est.mutual_info_,
                      decoding_information(est, n_rows), float(entropy), est.n_iter_])
    return table, panels


def plot_panels(panels: dict, grid: np.ndarray, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.0),
                             sharey=True, constrained_layout=True)
    for ax, (target, rows) in zip(axes, panels.items()):
        image = ax.imshow(rows.T, aspect="auto", origin="lower", cmap="viridis",
                          extent=(grid[0], grid[-1], -0.5, 9.5), vmin=0, vmax=1)
        ax.set_title(f"M = {target} nats")
        ax.set_xlabel("z")
    axes[0].set_ylabel("x (category)")
    axes[0].set_yticks(range(10))
    fig.colorbar(image, ax=axes, label="p(x | z)", shrink=0.9)
    fig.suptitle("Mutual autoencoder on uniform categorical x: p(x|z) over z")
    fig.savefig(path, dpi=130)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    n_rows, seeds = (2000, [0]) if args.quick else (10_000, [0, 1, 2])
    normal = splitting_the_normal(n_rows, seeds)
    print_table(f"Splitting the normal: {n_rows} rows, {len(seeds)} seed(s)",
                ["model", "KSG I(x;z)", "std", "bound", "held-out log-lik", "fit s"],
                normal)
    grid = np.linspace(-3, 3, 121)
    categorical, panels = categorical_rows(n_rows, grid)
    print_table("Uniform categorical x on {0..9} (log 10 = 2.303 nats at most)",
                ["target M", "bound", "KSG I(x;z)", "mean entropy of p(x|z)", "epochs"],
                categorical)
    suffix = "_quick" if args.quick else ""
    figure = RESULTS_DIR / f"mae_categorical{suffix}.png"
    plot_panels(panels, grid, figure)
    results = {
        "rows": n_rows, "seeds": seeds,
        "splitting_the_normal": [dict(zip(
            ["model", "ksg_mean", "ksg_std", "bound_mean", "heldout_loglik",
             "fit_s"], r))
            for r in normal],
        "categorical": [dict(zip(
            ["target", "bound", "ksg", "mean_entropy", "epochs"], r))
            for r in categorical],
    }
    path = write_results(f"mae{suffix}", {**results, "tables": results_tables(results)})
    print(f"\nwrote {path} and {figure}")


if __name__ == "__main__":
    main()
