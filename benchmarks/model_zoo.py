"""Binarized MNIST with the convolutional architecture: MIM against the VAE,
with the standard prior and with the VampPrior (and A-MIM, run last).

Protocol: the first 10,000 training images, binarized at 127 (pixel > 127 is
1), a Bernoulli likelihood, ``architecture="conv"``, a 20-dimensional latent,
one dense layer of 256 units, a VampPrior of 500 pseudo-inputs, and a
compute budget of at most 30 epochs for every model (a MIM epoch takes about
20 s here on 2 CPU cores, so the default 200 would take an hour per MIM fit);
the other parameters are the estimators' defaults (early stopping on a 10 %
hold-out). Measured on the test set: the
5-NN accuracy of the posterior means (the classifier fitted on the training
latents) over all 10,000 test images, and the importance-sampled test
log-likelihood (``score``, K = 1000 draws) over the first ``--score-rows``
test images. The MIM paper expects the VampPrior to narrow the MIM-VAE
likelihood gap while MIM keeps the better 5-NN accuracy.

Run ``python benchmarks/model_zoo.py`` (``--quick`` for a smoke run: 1,000
images, 2 epochs); it prints a table and writes
``benchmarks/results/model_zoo.json`` after every model. The full run took
about 95 minutes on 2 CPU cores shared with other work.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import MNIST_DIR, print_table, write_results
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.datasets import load_mnist

SETTINGS = dict(n_components=20, architecture="conv", image_shape=(1, 28, 28),
                likelihood="bernoulli", hidden_layer_sizes=(256,), n_prior_components=500,
                max_iter=30, device="auto", random_state=0)


def binarized(subset: str, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_mnist(MNIST_DIR, subset)
    return (X[:n_rows] > 127).astype(np.float32), y[:n_rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--score-rows", type=int, default=500,
                        help="test images scored with K = 1000 draws")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    n_train, n_test = (1000, 1000) if args.quick else (10_000, 10_000)
    X, y = binarized("train", n_train)
    X_test, y_test = binarized("test", n_test)
    score_rows = min(args.score_rows, 100 if args.quick else n_test)
    settings = {**SETTINGS, **({"max_iter": 2, "n_prior_components": 50} if args.quick else {})}
    rows = []
    for cls in (MIMEncoder, VAEEncoder, AMIMEncoder):
        for prior in ("standard", "vamp"):
            start = time.perf_counter()
            est = cls(**settings, prior=prior).fit(X)
            fit_s = time.perf_counter() - start
            knn = KNeighborsClassifier(5).fit(est.transform(X), y)
            accuracy = knn.score(est.transform(X_test), y_test)
            start = time.perf_counter()
            log_lik = est.score(X_test[:score_rows])
            rows.append([cls.__name__, prior, accuracy, log_lik, est.n_iter_, fit_s,
                         time.perf_counter() - start])
            print(rows[-1], flush=True)
            path = write_results(
                "model_zoo_quick" if args.quick else "model_zoo",
                results_record(n_train, n_test, score_rows, settings, rows),
            )
    print_table(f"Binarized MNIST, conv, {n_train} training images "
                f"(log-likelihood on {score_rows} test images, K = 1000)",
                ["estimator", "prior", "5-NN test acc", "test log-lik", "epochs",
                 "fit s", "score s"], rows)
    print(f"\nwrote {path}")


def results_record(n_train: int, n_test: int, score_rows: int, settings: dict,
                   rows: list) -> dict:
    """What the JSON file holds: the protocol and every row measured so far."""
    return {
        "train_rows": n_train, "test_rows_knn": n_test, "test_rows_scored": score_rows,
        "settings": {k: v for k, v in settings.items() if k != "device"},
        "results": [dict(zip(["estimator", "prior", "knn5_test_accuracy",
                              "test_log_likelihood", "epochs", "fit_s", "score_s"], r))
                    for r in rows],
    }


if __name__ == "__main__":
    main()
