"""Images as in the MIM paper: binarized MNIST and Fashion-MNIST with MIM,
A-MIM and the VAE, each with the standard prior and with the VampPrior, in
two families of models (``--family``).

``conv`` (the one-level protocol): the first 10,000 training images,
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

``hvae`` (the paper's own models, Tables 4 and 6): convHVAE, two latent
levels of 40 dimensions (``latent_levels=2``) with the convolutional
networks and one dense layer of 300 units (the paper's width), trained with
MIM, A-MIM and the VAE; and PixelHVAE, the same with a PixelCNN decoder
(``likelihood=PixelCNNLikelihood``, ``PIXELCNN`` below), trained with A-MIM
and the VAE as the paper pairs them (MIM would sample the decoder pixel by
pixel in every step). Dynamic binarization as the paper trains: the first
10,000 training images as grey levels in [0, 1], each drawn anew as 0/1
pixels at every use (``dynamic_binarization=True``); the test set drawn once
with seed 777. A declared CPU budget of ``HVAE_EPOCHS`` epochs for every
model (measured on 2 cores, nothing else running: an epoch of the 9,000
training images takes 4 s (A-MIM) to 13 s (MIM with the VampPrior) for
convHVAE, about 8 s for PixelHVAE). Measured: 5-NN on one draw of both
levels (the paper's measure) and on the posterior means, over all 10,000
test images; the test log-likelihood with K = 5,000 draws (the paper's K) on
the first ``--score-rows`` test images (``--pixel-score-rows`` for PixelHVAE,
whose decoder costs more per draw); and a learning curve, every
``CURVE_EVERY`` epochs: 5-NN on draws and on means (codes of 5,000 training
and 2,000 test images) and the log-likelihood with K = 100 draws on 100 test
images, so the last epochs show how far the numbers still move.

Figures, per dataset and family, one panel per model: 64 decoder means of
z ~ p(z) (``plot_samples``), the first 10 test images over their
reconstructions (``plot_reconstructions``), and a t-SNE map
(``sklearn.manifold.TSNE``) of the posterior means of the first
``--embed-rows`` test images, coloured by class, as the paper's
``z_embed.png``; for ``hvae`` also the learning curves.

Run ``python benchmarks/paper_images.py --family conv --dataset fashion``
(``--dataset mnist`` or ``both``; ``--family hvae`` or ``all``; ``--quick``
for a smoke run: 1,000 images, 2 epochs, 50 pseudo-inputs, few draws on few
test images, t-SNE of 500). MNIST is read from ``../shared/datasets/mnist``;
without it the MNIST part is skipped. After every model it rewrites
``docs/results/paper_images_DATASET.json`` (``paper_images_hvae_DATASET.json``)
and the figures ``paper_images[_hvae]_DATASET_*.png``. An ``hvae`` run keeps
the rows of the models it does not fit in its results file (each row names
its ``activation``), so ``--priors`` and ``--networks convHVAE`` (or
``PixelHVAE``) can complete a table in parts; a part draws its models'
panels into figures named after it, and the learning curves of every row.
Measured wall time on 2 CPU cores with nothing else running: MNIST, all six
``conv`` models with their figures, 25 minutes; ``hvae``: see its results
file.

On a GPU, the paper-scale table (all 60,000 training images, up to 2,000
epochs with the paper's early stopping, K = 5,000 on all 10,000 test images)
is one command: ``python benchmarks/paper_images.py --family hvae --dataset
both --paper-scale`` (``device="auto"`` picks the GPU; every setting but
the budget and the data sizes is the one above).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
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
from sklearn.neighbors import KNeighborsClassifier
from skorch.callbacks import Callback

from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.datasets import load_fashion_mnist, load_mnist
from mim_sklearn.nn import PixelCNNLikelihood
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

# The paper's models (--family hvae): 2 x 40 latent dimensions, its dense
# width, dynamic binarization, K = 5,000 for the test log-likelihood.
HVAE_EPOCHS = 15
# Gradients clipped at norm 1: without it (--no-clip, the first run) the
# VAE and A-MIM with the VampPrior collapsed in this budget (see the images
# page). Every step's gradient norm is far above 1 here (about 300 in the
# first steps, 40 later), so this rescales each step to unit norm, as the
# reference code's AdamNormGrad does per tensor (a likely reason it helps:
# the large first gradients no longer hold down Adam's later steps through
# its second moment; not verified).
HVAE_SETTINGS = {**SETTINGS, "n_components": 40, "latent_levels": 2,
                 "hidden_layer_sizes": (300,), "dynamic_binarization": True,
                 "max_iter": HVAE_EPOCHS, "n_importance_samples": 5000,
                 "max_grad_norm": 1.0}
# The PixelCNN decoder of PixelHVAE, sized for 2 CPU cores (the reference
# code's has 8 gated layers of 64 channels).
PIXELCNN = {"channels": 16, "n_layers": 3}
HVAE_QUICK = {"max_iter": 2, "n_prior_components": 50, "n_importance_samples": 20}
# --paper-scale (for a GPU): the paper's data sizes and training schedule.
PAPER_SCALE = {"max_iter": 2000, "warmup_epochs": 100, "n_iter_no_change": 50,
               "validation_fraction": 1 / 6}
CURVE_EVERY = 3
TEST_SEED = 777  # the reference code's seed for the test set's one draw


@dataclass(frozen=True)
class Model:
    """One row of a family's table: a network family, a prior, an estimator."""

    network: str  # "conv", "convHVAE" or "PixelHVAE"
    prior: str
    estimator: type

    @property
    def label(self) -> str:
        return f"{self.network}, {self.prior} prior"


FAMILIES = {
    "conv": [Model("conv", prior, cls) for prior in PRIORS for cls in ESTIMATORS],
    "hvae": [Model("convHVAE", prior, cls) for prior in PRIORS for cls in ESTIMATORS]
    + [Model("PixelHVAE", prior, cls) for prior in PRIORS
       for cls in (VAEEncoder, AMIMEncoder)],
}


def load_images(dataset: str, subset: str) -> tuple[np.ndarray, np.ndarray]:
    """A split's grey-level images (0 to 255) and labels."""
    if dataset == "mnist":
        return load_mnist(MNIST_DIR, subset)
    return load_fashion_mnist(subset=subset)


def binarized(dataset: str, subset: str, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n_rows`` images of a split, pixel > 127 as 1, and their labels."""
    X, y = load_images(dataset, subset)
    return (X[:n_rows] > 127).astype(np.float32), y[:n_rows]


def grey_levels(dataset: str, n_train: int, n_test: int):
    """Dynamic binarization's data: the training images as grey levels in
    [0, 1], the test images drawn once as 0/1 pixels with ``TEST_SEED``."""
    X, y = load_images(dataset, "train")
    X_test, y_test = load_images(dataset, "test")
    grey_test = X_test[:n_test] / np.float32(255)
    rng = np.random.default_rng(TEST_SEED)
    X_test = (rng.uniform(size=grey_test.shape) < grey_test).astype(np.float32)
    return (X[:n_train] / np.float32(255)).astype(np.float32), y[:n_train], \
        X_test, y_test[:n_test]


class LearningCurve(Callback):
    """Every ``every`` epochs, record in the net's history (key ``"curve"``)
    the 5-NN test accuracy of posterior draws and means and a cheap
    importance-sampled test log-likelihood, read from the model as it trains.

    ``X`` and ``X_test`` are in the model's working units (binary images:
    the user's units); the codes of ``X`` train the classifier.
    """

    def __init__(self, every, X, y, X_test, y_test, score_rows=100, n_draws=100):
        self.every, self.score_rows, self.n_draws = every, score_rows, n_draws
        self.X, self.y, self.X_test, self.y_test = X, y, X_test, y_test

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch % self.every:
            return
        model = net.module_
        model.eval()
        generator = torch.Generator(net.device).manual_seed(0)
        with torch.no_grad():
            train, test = (self._codes(model, X, generator)
                           for X in (self.X, self.X_test))
            x = torch.as_tensor(self.X_test[: self.score_rows], device=net.device)
            log_lik = model.importance_log_likelihood(
                x, self.n_draws, generator, shared_noise=True).mean().item()
        accuracy = {
            kind: KNeighborsClassifier(5).fit(train[kind], self.y)
            .score(test[kind], self.y_test)
            for kind in ("draws", "means")
        }
        net.history.record("curve", {"knn5_draws": accuracy["draws"],
                                     "knn5_means": accuracy["means"],
                                     "log_likelihood_k100": log_lik})

    @staticmethod
    def _codes(model, X, generator) -> dict[str, np.ndarray]:
        draws, means = [], []
        for rows in np.array_split(X, max(1, len(X) // 1000)):
            posterior = model.posterior(torch.as_tensor(rows, device=generator.device))
            means.append(posterior.mean.cpu().numpy())
            draws.append(posterior.rsample_with_log_prob(generator)[0].cpu().numpy())
        return {"draws": np.concatenate(draws), "means": np.concatenate(means)}


def curve_of(est) -> list[dict]:
    """The learning-curve points a ``LearningCurve`` left in the history."""
    return [{"epoch": row["epoch"], **row["curve"]}
            for row in est.net_.history if "curve" in row]


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


def draw_figures(name: str, dataset: str, models: list[Model], panels: dict) -> None:
    """One figure per kind, a panel per model: rows are networks and priors,
    columns estimators."""
    row_labels = list(dict.fromkeys(model.label for model in models))
    columns = list(dict.fromkeys(model.estimator for model in models))
    for kind, what in [("samples", "decoder means of z ~ p(z)"),
                       ("reconstructions", "test images (top) and reconstructions"),
                       ("embedding", "t-SNE of the test posterior means")]:
        height = {"samples": 4.2, "reconstructions": 1.6, "embedding": 3.6}[kind]
        fig, axes = plt.subplots(len(row_labels), len(columns), squeeze=False,
                                 figsize=(4.2 * len(columns), height * len(row_labels)),
                                 layout="constrained")
        for (i, label), (j, cls) in ((r, c) for r in enumerate(row_labels)
                                     for c in enumerate(columns)):
            ax = axes[i, j]
            ax.set_title(f"{cls.__name__}, {label}", fontsize="medium")
            ax.set_xticks([])
            ax.set_yticks([])
            panel = panels.get((label, cls.__name__))
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
        fig.savefig(_figure_path(name, kind), dpi=110)
        plt.close(fig)


def draw_curves(name: str, dataset: str, records: list[dict]) -> None:
    """The learning curves of every model: 5-NN on draws, on means, and the
    K = 100 test log-likelihood, against the epoch."""
    measures = [("knn5_draws", "5-NN test accuracy, one draw"),
                ("knn5_means", "5-NN test accuracy, means"),
                ("log_likelihood_k100", "test log-likelihood, K = 100 (nats)")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    styles = {"VAEEncoder": "-", "MIMEncoder": "--", "AMIMEncoder": ":"}
    for record in records:
        epochs = [point["epoch"] for point in record["curve"]]
        colour = {"standard": "C0", "vamp": "C1"}[record["prior"]]
        marker = "o" if record["network"] == "convHVAE" else "s"
        for ax, (key, _) in zip(axes, measures):
            ax.plot(epochs, [point[key] for point in record["curve"]],
                    styles[record["estimator"]], color=colour, marker=marker,
                    markersize=4, label=f"{record['network']} {record['prior']} "
                    f"{record['estimator'].removesuffix('Encoder')}")
    for ax, (_, title) in zip(axes, measures):
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("epoch")
    axes[-1].legend(fontsize="x-small", loc="lower right")
    fig.suptitle(f"{TITLES[dataset]}: learning curves")
    fig.savefig(_figure_path(name, "curves"), dpi=110)
    plt.close(fig)


def _figure_path(name: str, kind: str):
    quick = name.endswith("_quick")
    stem = name.removesuffix("_quick")
    return RESULTS_DIR / f"{stem}_{kind}{'_quick' if quick else ''}.png"


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


def model_settings(model: Model, settings: dict, X, y, X_test, y_test,
                   curve_every: int | None, quick: bool) -> dict:
    """The estimator's parameters for one model of a family."""
    chosen = {**settings, "prior": model.prior}
    if model.network == "PixelHVAE":
        chosen["likelihood"] = PixelCNNLikelihood(image_shape=(1, 28, 28), **PIXELCNN)
    if curve_every:
        cheap = {"score_rows": 10, "n_draws": 10} if quick else {}
        chosen["callbacks"] = [("learning_curve", LearningCurve(
            curve_every, X[:5000], y[:5000], X_test[:2000], y_test[:2000], **cheap))]
    return chosen


def run(dataset: str, family: str, quick: bool, paper_scale: bool,
        score_rows: int, pixel_score_rows: int, embed_rows: int,
        priors: tuple[str, ...] = PRIORS, clip: bool = True,
        networks: tuple[str, ...] | None = None) -> None:
    hvae = family == "hvae"
    if quick:
        n_train, n_test = 1000, 1000
    elif paper_scale:
        n_train, n_test = 60_000, 10_000
    else:
        n_train, n_test = 10_000, 10_000
    try:
        if hvae:
            X, y, X_test, y_test = grey_levels(dataset, n_train, n_test)
        else:
            X, y = binarized(dataset, "train", n_train)
            X_test, y_test = binarized(dataset, "test", n_test)
    except FileNotFoundError as exc:
        print(f"\n{TITLES[dataset]}: skipped: no MNIST at {MNIST_DIR}"
              if dataset == "mnist" else f"\n{TITLES[dataset]}: skipped: {exc}")
        return
    limit = 10 if quick and hvae else 100 if quick else n_test
    score_rows = min(score_rows, limit)
    pixel_score_rows = min(pixel_score_rows, limit)
    embed_rows = min(embed_rows, 500 if quick else n_test)
    settings = (
        {**HVAE_SETTINGS, **(HVAE_QUICK if quick else {}),
         **(PAPER_SCALE if paper_scale else {})} if hvae
        else {**SETTINGS, **(QUICK if quick else {})}
    )
    if hvae and not clip:
        settings.pop("max_grad_norm")
    curve_every = (1 if quick else CURVE_EVERY) if hvae else None
    family_name = ("hvae_" if clip else "hvae_noclip_") if hvae else ""
    name = f"paper_images_{family_name}{dataset}" + ("_quick" if quick else "")
    # In the order of ``priors``, then the family's.
    models = sorted((model for model in FAMILIES[family] if model.prior in priors
                     and (networks is None or model.network in networks)),
                    key=lambda model: priors.index(model.prior))
    # hvae: the rows of models this run does not fit stay in the file as they
    # were, if it holds the same protocol.
    run_now = {(model.network, model.prior, model.estimator.__name__)
               for model in models}
    protocol = results_record(n_train, n_test, score_rows, settings, [], hvae)

    def kept() -> list[dict]:  # read anew before each write: parts may run at once
        return [record for record in _previous_records(name, protocol)
                if (record["network"], record["prior"], record["estimator"])
                not in run_now] if hvae else []

    # A part of the family draws its panels into figures of its own.
    part = "" if len(models) == len(FAMILIES[family]) else "".join(
        f"_{piece}" for piece in dict.fromkeys(
            [model.prior for model in models] + [model.network for model in models]))
    figures = name.removesuffix("_quick") + part + ("_quick" if quick else "")
    records, panels = [], {}
    for model in models:
        est = model.estimator(**model_settings(model, settings, X, y, X_test, y_test,
                                               curve_every, quick))
        start = time.perf_counter()
        est.fit(X)
        fit_s = time.perf_counter() - start
        rows = pixel_score_rows if model.network == "PixelHVAE" else score_rows
        means, draws, log_lik, score_s = evaluate(est, X, y, X_test, y_test, rows)
        records.append({
            "network": model.network, "estimator": model.estimator.__name__,
            "prior": model.prior, "activation": est.activation_,
            "knn5_test_accuracy": means,
            "knn5_test_accuracy_draws": draws, "test_log_likelihood": log_lik,
            "test_rows_scored": rows, "epochs": est.n_iter_, "fit_s": fit_s,
            "score_s": score_s, **({"curve": curve_of(est)} if hvae else {}),
        })
        print(dataset, {k: v for k, v in records[-1].items() if k != "curve"},
              flush=True)
        results = results_record(n_train, n_test, score_rows, settings,
                                 records + kept(), hvae)
        path = write_results(name, {**results,
                                    "tables": results_tables(results, dataset, hvae)})
        panels[(model.label, model.estimator.__name__)] = pictures(
            est, X_test, y_test, embed_rows)
        if not quick:  # a partial full run still leaves its figures
            draw_figures(figures, dataset, models, panels)
            if hvae:
                draw_curves(name, dataset, results["results"])
    if quick:
        draw_figures(figures, dataset, models, panels)
        if hvae:
            draw_curves(name, dataset, results["results"])
    draws = settings.get("n_importance_samples", 1000)
    print_table(f"{TITLES[dataset]}, {family}, {n_train} training images "
                f"(log-likelihood with K = {draws})",
                ["network", "estimator", "prior", "5-NN acc, means", "5-NN acc, draws",
                 "test log-lik", "rows scored", "epochs", "fit s", "score s"],
                [[r[k] for k in ("network", "estimator", "prior", "knn5_test_accuracy",
                                 "knn5_test_accuracy_draws", "test_log_likelihood",
                                 "test_rows_scored", "epochs", "fit_s", "score_s")]
                 for r in records])
    print(f"\nwrote {path} and its figures")


def _previous_records(name: str, protocol: dict) -> list[dict]:
    """The rows of an earlier run's results file with the same ``protocol``
    (a ``results_record`` without rows), or none."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return []
    previous = json.loads(path.read_text())
    same = all(previous.get(key) == json.loads(json.dumps(value))
               for key, value in protocol.items() if key != "results")
    return previous["results"] if same else []


def results_record(n_train: int, n_test: int, score_rows: int, settings: dict,
                   records: list, hvae: bool) -> dict:
    """What the JSON file holds: the protocol and every row measured so far."""
    shown = {k: v for k, v in settings.items() if k != "device"}
    if hvae:
        shown["pixelcnn"] = PIXELCNN
        shown["curve_every"] = CURVE_EVERY
    return {
        "train_rows": n_train, "test_rows_knn": n_test, "test_rows_scored": score_rows,
        "settings": shown,
        "results": records if hvae else [
            {k: v for k, v in r.items() if k not in ("network", "test_rows_scored")}
            for r in records],
    }


def results_tables(results: dict, dataset: str, hvae: bool) -> list[dict]:
    """The documentation's tables of a ``results_record`` of ``dataset``."""
    labels = {
        "n_components": "n_components", "architecture": "architecture",
        "image_shape": "image shape", "likelihood": "likelihood",
        "hidden_layer_sizes": "hidden layer sizes",
        "n_prior_components": "prior components", "max_iter": "max epochs",
        "random_state": "random state",
        "n_importance_samples": "n importance samples"}
    if hvae:
        labels |= {"latent_levels": "latent levels",
                   "max_grad_norm": "gradients clipped at norm",
                   "dynamic_binarization": "dynamic binarization",
                   "pixelcnn": "PixelHVAE's PixelCNN", "curve_every":
                   "learning curve every (epochs)"}
    columns = {"estimator": "estimator", "prior": "prior",
               "knn5_test_accuracy": "5-NN test accuracy",
               "knn5_test_accuracy_draws": "5-NN test accuracy, one draw",
               "test_log_likelihood": "test log-likelihood", "epochs": "epochs",
               "fit_s": "fit (s)", "score_s": "score (s)"}
    if hvae:
        columns = {"network": "network", **columns,
                   "test_rows_scored": "test images scored"}
    tables = [
        settings_table("Setup", {"train_rows": "training images",
                                 "test_rows_knn": "test images (5-NN)",
                                 "test_rows_scored": "test images scored"}, results),
        settings_table("Estimator settings", labels, results["settings"]),
        table(f"{TITLES[dataset]} test set", columns, results["results"]),
    ]
    if hvae:
        tables.append(table(
            "Learning curves: the last two points (how far the numbers still move)",
            {"network": "network", "estimator": "estimator", "prior": "prior",
             "epochs": "epochs", "knn5_draws": "5-NN, one draw",
             "knn5_draws_change": "change", "log_likelihood_k100":
             "log-lik, K = 100", "log_likelihood_change": "change"},
            [_last_moves(r) for r in results["results"]]))
    return tables


def _last_moves(record: dict) -> dict:
    """A record's last learning-curve point and its change since the one before."""
    curve = record["curve"]
    last, before = curve[-1], curve[-2] if len(curve) > 1 else curve[-1]
    return {**record, "epochs": f"{before['epoch']} to {last['epoch']}",
            "knn5_draws": last["knn5_draws"],
            "knn5_draws_change": last["knn5_draws"] - before["knn5_draws"],
            "log_likelihood_k100": last["log_likelihood_k100"],
            "log_likelihood_change": (last["log_likelihood_k100"]
                                      - before["log_likelihood_k100"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["mnist", "fashion", "both"],
                        default="both")
    parser.add_argument("--family", choices=["conv", "hvae", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--paper-scale", action="store_true",
                        help="hvae at the paper's scale (for a GPU)")
    parser.add_argument("--score-rows", type=int, default=None,
                        help="test images scored (default 500 for conv with "
                        "K = 1000, 100 for convHVAE with K = 5000)")
    parser.add_argument("--pixel-score-rows", type=int, default=None,
                        help="test images scored for PixelHVAE (default 50)")
    parser.add_argument("--embed-rows", type=int, default=3000,
                        help="test images in the t-SNE map")
    parser.add_argument("--priors", default="standard,vamp",
                        help="the priors to run, comma-separated, in this order")
    parser.add_argument("--networks", default=None,
                        help="hvae: the networks to run, comma-separated (default "
                        "both); the file keeps the rows of the models not run")
    parser.add_argument("--no-clip", action="store_true",
                        help="hvae without gradient clipping (the first run)")
    args = parser.parse_args()
    priors = tuple(args.priors.split(","))
    networks = tuple(args.networks.split(",")) if args.networks else None
    hvae_networks = tuple(dict.fromkeys(m.network for m in FAMILIES["hvae"]))
    for given, known, option in ((priors, PRIORS, "--priors"),
                                 (networks or (), hvae_networks, "--networks")):
        if set(given) - set(known):
            parser.error(f"{option} takes names among {', '.join(known)}, "
                         f"comma-separated; got {', '.join(given)}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    families = ("conv", "hvae") if args.family == "all" else (args.family,)
    for family in families:
        hvae = family == "hvae"
        default_rows = 10_000 if args.paper_scale else 100 if hvae else 500
        score_rows = args.score_rows or default_rows
        pixel_rows = args.pixel_score_rows or (10_000 if args.paper_scale else 50)
        for dataset in ("mnist", "fashion") if args.dataset == "both" else (
                args.dataset,):
            run(dataset, family, args.quick, args.paper_scale and hvae, score_rows,
                pixel_rows, args.embed_rows, priors, clip=not args.no_clip,
                networks=networks)


if __name__ == "__main__":
    main()
