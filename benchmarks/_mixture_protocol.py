"""The MIM paper's mixture protocol, shared by the 2-D and 20-D benchmarks.

Livne, Swersky and Fleet ("MIM: Mutual Information Machine", arXiv:1910.03175)
train MIM and a VAE of the same networks on draws from a mixture of five
Gaussians and compare, on held-out draws: the KSG mutual information between
x and z ~ q(z|x), the negative log-likelihood, the reconstruction error and
the 5-NN accuracy of the mixture component from the code. Their reference
code (github.com/seraphlabs-ca/MIM, ``vae-as-mim-dataset.py``) trains for at
most 200 epochs of 10,000 draws in batches of 128 (Adam, learning rate 1e-3),
ramps the warm-up over 3 epochs, stops 3 epochs after the best held-out
loss, and repeats each configuration over 10 seeds.

This module holds what both scripts share: the settings, one fit and its
measurements, the summary over seeds, the metric plot, and the results file
(rewritten after every fit, so that an interrupted run leaves a valid one).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from _common import (
    RESULTS_DIR,
    knn5_means_and_draws,
    print_table,
    settings_table,
    table,
    write_results,
)
from sklearn.exceptions import ConvergenceWarning

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import make_mixture
from mim_sklearn.metrics import encoder_mutual_information, reconstruction_error

MODELS = {"MIM": MIMEncoder, "VAE": VAEEncoder}
# The reference code's model and training settings (vae-as-mim-dataset.py
# and the commands of its README): its decoder outputs a scale per z, and
# early stopping's patience is the warm-up length.
TRAINING = {"activation": "tanh", "decoder_variance": "decoded", "batch_size": 128,
            "learning_rate_init": 1e-3, "warmup_epochs": 3, "n_iter_no_change": 3,
            "device": "cpu"}
# Metric key -> (title, unit). The keys are those of the per-seed records.
METRICS = {
    "mutual_information": ("KSG I(x; z), k = 5", "nats"),
    "test_nll": ("test NLL, importance-sampled (K = 1000)", "nats"),
    "reconstruction_rmse": ("reconstruction RMSE", "x units"),
    "knn5_accuracy": ("5-NN accuracy of the component, posterior means", "fraction"),
    "knn5_accuracy_draws": ("5-NN accuracy, one posterior draw per row", "fraction"),
}
# The documentation's title of each metric's table.
TABLE_TITLES = {
    "mutual_information": "KSG I(x; z), k = 5 (nats), test rows",
    "test_nll": "Test NLL (nats a row), K = 1000; paper: a one-draw bound, "
                "another quantity",
    "reconstruction_rmse": "Reconstruction RMSE of the posterior mean; paper: "
                           "distance to a decoder draw, another quantity",
    "knn5_accuracy": "5-NN accuracy of the component, posterior means",
    "knn5_accuracy_draws": "5-NN accuracy of the component, one posterior draw "
                           "per row (the paper's measure)",
}
# Labels of the settings (both scripts' own, the training's, the budget's)
# and of the configurations' keys.
SETTING_LABELS = {
    "data": "data", "hidden_units": "hidden units", "latent_dims": "latent dimensions",
    "quick": "quick", "paper_source": "paper's values", "activation": "activation",
    "decoder_variance": "decoder variance", "batch_size": "batch size",
    "learning_rate_init": "learning rate", "warmup_epochs": "warm-up epochs",
    "n_iter_no_change": "patience (epochs)", "device": "device",
    "train_rows": "training rows", "test_rows": "test rows",
    "scored_rows": "test rows scored (NLL)", "max_iter": "max epochs",
    "seeds": "seeds planned", "wall_s": "wall time (s)",
}
# Metrics the paper measures as we do. Its NLL is a one-draw estimate (in
# expectation the negative ELBO, not the likelihood) and its reconstruction
# error the mean distance to a decoder draw: listed, but not plotted beside ours.
SAME_AS_PAPER = ("mutual_information", "knn5_accuracy_draws")


@dataclass(frozen=True)
class Budget:
    """Rows, epochs and seeds of a run: the paper's, or a smoke run's."""

    train_rows: int
    test_rows: int
    scored_rows: int
    max_iter: int
    seeds: tuple[int, ...]


def paper_budget(n_seeds: int) -> Budget:
    """The paper's protocol with its first ``n_seeds`` seeds (10 in the paper).

    NLL is scored on the first 1,000 test rows (K = 1000 draws each): the
    full 10,000 would take minutes per fit with 500 hidden units here.
    """
    return Budget(10_000, 10_000, 1_000, 200, tuple(range(n_seeds)))


QUICK_BUDGET = Budget(2_000, 2_000, 200, 15, (0,))


def draw_data(n_features: int, budget: Budget, seed: int) -> tuple:
    """Training and test draws of the mixture, both from ``seed``'s stream."""
    rng = np.random.RandomState(seed)
    X, y = make_mixture(budget.train_rows, n_features, random_state=rng)
    X_test, y_test = make_mixture(budget.test_rows, n_features, random_state=rng)
    return X, y, X_test, y_test


def fit_and_measure(model: str, params: dict, data: tuple, budget: Budget,
                    seed: int) -> tuple[object, dict]:
    """Fit one estimator and measure it on the test draws.

    Returns the fitted estimator and a flat record of its measurements. The
    5-NN classifier is fitted on the training codes and scored on the test
    codes, twice: codes as posterior means (``transform``, what a pipeline
    sees) and as one draw from q(z|x) per row (what the paper's code uses).
    """
    X, y, X_test, y_test = data
    start = time.perf_counter()
    est = MODELS[model](**TRAINING, **params, max_iter=budget.max_iter,
                        random_state=seed).fit(X)
    fit_s = time.perf_counter() - start
    means, draws = knn5_means_and_draws(est, X, y, X_test, y_test,
                                        draw_seeds=(seed, seed + 1))
    record = {
        "mutual_information": encoder_mutual_information(est, X_test,
                                                         random_state=seed),
        "test_nll": -est.score(X_test[: budget.scored_rows]),
        "reconstruction_rmse": reconstruction_error(est, X_test),
        "knn5_accuracy": means,
        "knn5_accuracy_draws": draws,
        "epochs": est.n_iter_,
        "fit_s": round(fit_s, 1),
    }
    return est, record


def summarize(per_seed: list[dict], config_key: str, paper: dict) -> dict[str, list]:
    """One table per metric: mean and s.d. over seeds beside the paper's value.

    ``paper`` maps a metric to ``{(model, config): value}``; the s.d. is
    numpy's (ddof=0), as the paper's error bars.
    """
    groups: dict[tuple, list[dict]] = {}
    for record in per_seed:
        groups.setdefault((record["model"], record[config_key]), []).append(record)
    tables = {}
    for metric in METRICS:
        rows = []
        for (model, config), records in groups.items():
            values = [r[metric] for r in records]
            rows.append({"model": model, config_key: config, "seeds_run": len(values),
                         "mean": float(np.mean(values)), "std": float(np.std(values)),
                         "paper": paper.get(metric, {}).get((model, config))})
        tables[metric] = sorted(rows, key=lambda r: (r["model"], r[config_key]))
    return tables


def results_tables(results: dict, config_key: str) -> list[dict]:
    """The documentation's tables of a results file that ``run_protocol`` writes.

    The settings; per metric, ``summarize``'s table; and each fit.
    ``config_key`` is ``run_protocol``'s: the key of the configurations.
    """
    config_label = SETTING_LABELS[config_key]
    per_metric = [
        table(TABLE_TITLES[metric],
              {"model": "model", config_key: config_label, "seeds_run": "seeds run",
               "mean": "ours, mean", "std": "ours, s.d.",
               "paper": "paper (read off its figure)"},
              results[metric])
        for metric in METRICS
    ]
    each_fit = table("Each fit", {
        "model": "model", config_key: config_label, "seed": "random_state",
        "mutual_information": "KSG I(x; z)", "test_nll": "test NLL",
        "reconstruction_rmse": "reconstruction RMSE",
        "knn5_accuracy": "5-NN acc. (means)",
        "knn5_accuracy_draws": "5-NN acc. (draws)", "epochs": "epochs",
        "fit_s": "fit (s)"}, results["per_seed"])
    return [settings_table("Setup", SETTING_LABELS, results), *per_metric, each_fit]


def print_summary(tables: dict[str, list], config_key: str) -> None:
    """Print each metric's table as ``summarize`` made it."""
    for metric, rows in tables.items():
        title, unit = METRICS[metric]
        print_table(f"{title} ({unit})", ["model", config_key, "seeds", "mean", "s.d.",
                                           "paper"],
                    [[r["model"], r[config_key], r["seeds_run"], r["mean"], r["std"],
                      r["paper"]] for r in rows])


def plot_metrics(tables: dict[str, list], config_key: str, xlabel: str, path) -> None:
    """The paper's Fig. 2 layout: each metric against ``config_key``, per model.

    Our mean and s.d. over seeds as points with error bars; the paper's values
    (read off its figures) as open markers where it measures what we do.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(3.4 * len(tables), 3.2),
                             layout="constrained")
    for ax, (metric, rows) in zip(axes, tables.items()):
        for model, color in zip(MODELS, ("tab:blue", "tab:red")):
            mine = [r for r in rows if r["model"] == model]
            x = [r[config_key] for r in mine]
            ax.errorbar(x, [r["mean"] for r in mine], yerr=[r["std"] for r in mine],
                        fmt="o:", color=color, capsize=3, label=f"{model} (ours)")
            paper = [(r[config_key], r["paper"]) for r in mine
                     if r["paper"] is not None]
            if paper and metric in SAME_AS_PAPER:
                ax.plot(*zip(*paper), "s", mfc="none", color=color,
                        label=f"{model} (paper)")
        title, unit = METRICS[metric]
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(unit)
    axes[-1].legend(fontsize="small", frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_protocol(
    name: str,
    n_features: int,
    configs: dict,
    config_key: str,
    budget: Budget,
    setup: dict,
    paper: dict,
    xlabel: str,
    on_first_seed: Callable[[dict, tuple], None] | None = None,
) -> None:
    """Fit every model and configuration for each seed; write as results come.

    ``configs`` maps a configuration's value (hidden units, latent size) to
    its estimator parameters. Seeds are the outer loop, so a run cut short
    has all configurations for its first seeds. ``on_first_seed`` receives
    the first seed's fitted estimators, keyed by ``(model, config)``, and
    its data. Results go to ``docs/results/NAME.json`` and the metric plot
    to ``NAME_metrics.png``.
    """
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the protocol's
    per_seed: list[dict] = []
    start = time.perf_counter()
    for seed in budget.seeds:
        data = draw_data(n_features, budget, seed)
        fitted = {}
        for config, params in configs.items():
            for model in MODELS:
                est, record = fit_and_measure(model, params, data, budget, seed)
                fitted[model, config] = est
                per_seed.append({"model": model, config_key: config, "seed": seed,
                                 **record})
                print(f"seed {seed}, {model}, {config_key} = {config}: {record}",
                      flush=True)
                summary = summarize(per_seed, config_key, paper)
                results = {**setup, **TRAINING, **asdict(budget),
                           "wall_s": round(time.perf_counter() - start),
                           **summary, "per_seed": per_seed}
                write_results(name, {**results,
                                     "tables": results_tables(results, config_key)})
        plot_metrics(summary, config_key, xlabel, RESULTS_DIR / f"{name}_metrics.png")
        if on_first_seed is not None and seed == budget.seeds[0]:
            on_first_seed(fitted, data)
    print_summary(summary, config_key)
    print(f"\nwrote {RESULTS_DIR / name}.json and figures; "
          f"{time.perf_counter() - start:.0f} s in all")


def parse_args(doc: str, option: str, defaults: tuple[int, ...],
               quick: tuple[int, ...], help_text: str
               ) -> tuple[Budget, tuple[int, ...], bool]:
    """The command line: ``--quick``, ``--seeds`` and one list of configurations.

    Returns the budget, the configurations to run and whether it is a smoke
    run (which writes ``NAME_quick`` files).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: one seed, 2,000 rows, 15 epochs")
    parser.add_argument("--seeds", type=int, default=10,
                        help="seeds 0, 1, ... to run (the paper's 10 by default)")
    parser.add_argument(option, type=int, nargs="+", default=None, help=help_text)
    args = parser.parse_args()
    chosen = getattr(args, option.lstrip("-").replace("-", "_"))
    configs = tuple(chosen or (quick if args.quick else defaults))
    return ((QUICK_BUDGET if args.quick else paper_budget(args.seeds)), configs,
            args.quick)
