"""Images as in the MIM paper: binarized MNIST and Fashion-MNIST with the
convolutional networks, MIM, A-MIM and the VAE, each with the standard prior
and with the VampPrior.

Protocol (the same for both datasets): the first 10,000 training images,
binarized at 127 (pixel > 127 is 1), a Bernoulli likelihood,
``architecture="conv"``, a 20-dimensional latent, one dense layer of 256
units, a VampPrior of 500 pseudo-inputs, and a compute budget of at most 30
epochs for every model (a MIM epoch takes about 20 s here on 2 CPU cores, so
the default 200 would take an hour per MIM fit); the other parameters are the
estimators' defaults (early stopping on a 10 % hold-out). Measured on the test
set: the 5-NN accuracy of the posterior means and of one posterior draw per
image (the paper's measure; the classifier fitted on the training codes of
the same kind) over all 10,000 test images, and the importance-sampled
test log-likelihood (``score``, K = 1000 draws) over the first
``--score-rows`` test images. The MIM paper expects MIM's latents to give the
better 5-NN accuracy, and the VampPrior to narrow the MIM-VAE likelihood gap.

Figures, per dataset, one panel per model (rows: prior; columns: estimator):
64 decoder means of z ~ p(z) (``plot_samples``), the first 10 test images
over their reconstructions (``plot_reconstructions``), and a t-SNE map
(``sklearn.manifold.TSNE``) of the posterior means of the first
``--embed-rows`` test images, coloured by class, as the paper's
``z_embed.png``.

Run ``python benchmarks/paper_images.py --dataset fashion`` (``mnist``,
``both``; ``--quick`` for a smoke run: 1,000 images, 2 epochs, 50
pseudo-inputs, K = 100 draws on 100 test images, t-SNE of 500). MNIST is
read from ``../shared/datasets/mnist``; without it the MNIST part is
skipped. After every model it rewrites
``docs/results/paper_images_DATASET.json`` and the figures
``paper_images_DATASET_*.png``. Measured wall time on 2 CPU cores with
nothing else running: MNIST, all six models with their figures, 25
minutes. Per-model seconds are in the results files.
"""

from __future__ import annotations

import argparse
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from _common import (
    MNIST_DIR,
    RESULTS_DIR,
    knn5_means_and_draws,
    print_table,
    settings_table,
    table,
    write_results,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import TSNE

from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.datasets import load_fashion_mnist, load_mnist
from mim_sklearn.plotting import plot_reconstructions, plot_samples

SETTINGS = {"n_components": 20, "architecture": "conv", "image_shape": (1, 28, 28),
            "likelihood": "bernoulli", "hidden_layer_sizes": (256,),
            "n_prior_components": 500, "max_iter": 30, "device": "auto",
            "random_state": 0}
QUICK = {"max_iter": 2, "n_prior_components": 50, "n_importance_samples": 100}
PRIORS = ("standard", "vamp")
ESTIMATORS = (VAEEncoder, MIMEncoder, AMIMEncoder)
CLASSES = {
    "mnist": [str(d) for d in range(10)],
    "fashion": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
TITLES = {"mnist": "Binarized MNIST", "fashion": "Binarized Fashion-MNIST"}


def binarized(dataset: str, subset: str, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n_rows`` images of a split, pixel > 127 as 1, and their labels."""
    if dataset == "mnist":
        X, y = load_mnist(MNIST_DIR, subset)
    else:
        X, y = load_fashion_mnist(subset=subset)
    return (X[:n_rows] > 127).astype(np.float32), y[:n_rows]


def evaluate(est, X, y, X_test, y_test, score_rows: int) -> tuple[float, ...]:
    """5-NN test accuracy of the posterior means and of one posterior draw
    per image (the paper's measure), test log-likelihood, score seconds."""
    means, draws = knn5_means_and_draws(est, X, y, X_test, y_test, draw_seeds=(1, 2))
    start = time.perf_counter()
    log_lik = est.score(X_test[:score_rows])
    return means, draws, log_lik, time.perf_counter() - start


def pictures(est, X_test, y_test, embed_rows: int) -> dict:
    """The model's panels: sample and reconstruction grids (as pixels), t-SNE map."""
    samples = plot_samples(est, 64, random_state=0, X=X_test[:100], decoder_mean=True)
    recons = plot_reconstructions(est, X_test, n_examples=10)
    codes = est.transform(X_test[:embed_rows])
    embedding = TSNE(2, init="pca", random_state=0).fit_transform(codes)
    return {"samples": _pixels(samples), "reconstructions": _pixels(recons),
            "embedding": (embedding, y_test[:embed_rows])}


def _pixels(fig) -> np.ndarray:
    """A figure rendered to an RGBA array (its own title dropped), then closed."""
    fig.suptitle("")
    fig.set_dpi(100)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return image


def draw_figures(name: str, dataset: str, panels: dict) -> None:
    """One figure per kind, a panel per model: rows are priors, columns estimators."""
    for kind, what in [("samples", "decoder means of z ~ p(z)"),
                       ("reconstructions", "test images (top) and reconstructions"),
                       ("embedding", "t-SNE of the test posterior means")]:
        height = {"samples": 4.2, "reconstructions": 1.6, "embedding": 3.6}[kind]
        fig, axes = plt.subplots(len(PRIORS), len(ESTIMATORS), squeeze=False,
                                 figsize=(4.2 * len(ESTIMATORS), height * len(PRIORS)),
                                 layout="constrained")
        for (i, prior), (j, cls) in ((p, c) for p in enumerate(PRIORS)
                                     for c in enumerate(ESTIMATORS)):
            ax = axes[i, j]
            ax.set_title(f"{cls.__name__}, {prior} prior", fontsize="medium")
            ax.set_xticks([])
            ax.set_yticks([])
            panel = panels.get((prior, cls.__name__))
            if panel is None:
                ax.text(0.5, 0.5, "not run", ha="center", va="center", color="0.5",
                        transform=ax.transAxes)
            elif kind == "embedding":
                _scatter(ax, *panel[kind], CLASSES[dataset])
            else:
                ax.imshow(panel[kind], interpolation="lanczos")
                ax.set_axis_off()
        if kind == "embedding":
            fig.legend(handles=_class_handles(CLASSES[dataset]),
                       loc="outside right center", frameon=False, fontsize="small")
        fig.suptitle(f"{TITLES[dataset]}: {what}")
        quick = name.endswith("_quick")
        stem = name.removesuffix("_quick")
        fig.savefig(RESULTS_DIR / f"{stem}_{kind}{'_quick' if quick else ''}.png",
                    dpi=110)
        plt.close(fig)


def _scatter(ax, embedding: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
    palette = plt.get_cmap("tab10")
    for k, label in enumerate(names):
        chosen = labels == k
        ax.scatter(*embedding[chosen].T, s=3, color=palette(k), label=label,
                   linewidths=0)


def _class_handles(names: list[str]) -> list:
    from matplotlib.lines import Line2D

    palette = plt.get_cmap("tab10")
    return [Line2D([], [], marker="o", linestyle="", color=palette(k), label=n,
                   markersize=6) for k, n in enumerate(names)]


def run(dataset: str, quick: bool, score_rows: int, embed_rows: int) -> None:
    n_train, n_test = (1000, 1000) if quick else (10_000, 10_000)
    try:
        X, y = binarized(dataset, "train", n_train)
        X_test, y_test = binarized(dataset, "test", n_test)
    except FileNotFoundError as exc:
        print(f"\n{TITLES[dataset]}: skipped: no MNIST at {MNIST_DIR}"
              if dataset == "mnist" else f"\n{TITLES[dataset]}: skipped: {exc}")
        return
    score_rows = min(score_rows, 100 if quick else n_test)
    embed_rows = min(embed_rows, 500 if quick else n_test)
    settings = {**SETTINGS, **(QUICK if quick else {})}
    name = f"paper_images_{dataset}" + ("_quick" if quick else "")
    rows, panels = [], {}
    for prior in PRIORS:
        for cls in ESTIMATORS:
            start = time.perf_counter()
            est = cls(**settings, prior=prior).fit(X)
            fit_s = time.perf_counter() - start
            means, draws, log_lik, score_s = evaluate(est, X, y, X_test, y_test,
                                                      score_rows)
            rows.append([cls.__name__, prior, means, draws, log_lik, est.n_iter_, fit_s,
                         score_s])
            print(dataset, rows[-1], flush=True)
            results = results_record(n_train, n_test, score_rows, settings, rows)
            path = write_results(name, {**results,
                                        "tables": results_tables(results, dataset)})
            panels[(prior, cls.__name__)] = pictures(est, X_test, y_test, embed_rows)
            if not quick:  # a partial full run still leaves its figures
                draw_figures(name, dataset, panels)
    if quick:
        draw_figures(name, dataset, panels)
    draws = settings.get("n_importance_samples", 1000)
    print_table(f"{TITLES[dataset]}, conv, {n_train} training images "
                f"(log-likelihood on {score_rows} test images, K = {draws})",
                ["estimator", "prior", "5-NN acc, means", "5-NN acc, draws",
                 "test log-lik", "epochs", "fit s", "score s"], rows)
    print(f"\nwrote {path} and its figures")


def results_record(n_train: int, n_test: int, score_rows: int, settings: dict,
                   rows: list) -> dict:
    """What the JSON file holds: the protocol and every row measured so far."""
    return {
        "train_rows": n_train, "test_rows_knn": n_test, "test_rows_scored": score_rows,
        "settings": {k: v for k, v in settings.items() if k != "device"},
        "results": [dict(zip(["estimator", "prior", "knn5_test_accuracy",
                              "knn5_test_accuracy_draws", "test_log_likelihood",
                              "epochs", "fit_s", "score_s"], r))
                    for r in rows],
    }


def results_tables(results: dict, dataset: str) -> list[dict]:
    """The documentation's tables of a ``results_record`` of ``dataset``."""
    return [
        settings_table("Setup", {"train_rows": "training images",
                                 "test_rows_knn": "test images (5-NN)",
                                 "test_rows_scored": "test images scored"}, results),
        settings_table("Estimator settings", {
            "n_components": "n_components", "architecture": "architecture",
            "image_shape": "image shape", "likelihood": "likelihood",
            "hidden_layer_sizes": "hidden layer sizes",
            "n_prior_components": "prior components", "max_iter": "max epochs",
            "random_state": "random state",
            "n_importance_samples": "n importance samples"}, results["settings"]),
        table(f"{TITLES[dataset]} test set", {
            "estimator": "estimator", "prior": "prior",
            "knn5_test_accuracy": "5-NN test accuracy",
            "knn5_test_accuracy_draws": "5-NN test accuracy, one draw",
            "test_log_likelihood": "test log-likelihood", "epochs": "epochs",
            "fit_s": "fit (s)", "score_s": "score (s)"}, results["results"]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion", "both"],
                        default="both")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--score-rows", type=int, default=500,
                        help="test images scored with K = 1000 draws")
    parser.add_argument("--embed-rows", type=int, default=3000,
                        help="test images in the t-SNE map")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for dataset in ("mnist", "fashion") if args.dataset == "both" else (args.dataset,):
        run(dataset, args.quick, args.score_rows, args.embed_rows)


if __name__ == "__main__":
    main()
