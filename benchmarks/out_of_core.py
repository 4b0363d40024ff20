"""Out-of-core training: epochs of ``partial_fit`` over a memmap against ``fit``.

Each case trains the same ``MIMEncoder`` (the default networks, 10
components, ``random_state=0``, no early stopping) for the same number of
epochs in these ways, each in a child process of its own:

* ``fit``: ``fit`` on the training rows loaded in memory;
* ``fit, random_state=1``: the same with another seed, for the spread that
  the seed alone makes;
* ``partial_fit_epochs``: :func:`mim_sklearn.out_of_core.partial_fit_epochs`
  over the same rows in an ``np.memmap`` (a ``.npy`` file opened with
  ``mmap_mode="r"``), in shuffled chunks of ``chunk_rows`` rows, a multiple
  of the batch size; its first pass takes the scaling from all the chunks;
* ``partial_fit_epochs, warm-up in passes``: the same with ``warmup_epochs``
  multiplied by the chunks per pass, so that the warm-up (which counts
  ``partial_fit`` calls) lasts as many passes as ``fit``'s;
* ``partial_fit loop``: a plain loop of ``partial_fit`` over the same chunks
  in the same order, whose first call takes the scaling from the first chunk
  alone.

Measured: the held-out log-likelihood (``score``, K = 200 importance draws),
the 5-NN accuracy of the posterior means on held-out rows (the classifier
fitted on the training rows' means), the training seconds, and two peaks of
the child's memory, sampled every 10 ms: its anonymous memory (what it
allocated: arrays, tensors) and its resident set, which also counts the
pages of the memmapped file that the kernel keeps cached (and can drop).

Cases: MNIST (60,000 training rows, the 10,000 test rows for 5-NN, the
first 5,000 scored; 10 epochs in chunks of 9,600 rows) with the default
``scaling="global"``, and digits (``load_digits`` shuffled: 1,437 training
rows, 360 held out; 30 epochs in chunks of 320 rows) with ``"global"`` and
``"feature"`` scaling. The full run takes about 12 minutes on 2 CPU cores
(an MNIST epoch takes 8 to 11 s).

Run ``python benchmarks/out_of_core.py`` (``--quick`` for a smoke run: 5,000
MNIST rows and 1,000 test rows, 2 epochs; digits for 3 epochs); it prints a
table and writes ``docs/results/out_of_core.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from _common import MNIST_DIR, print_table, settings_table, table, write_results
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier

from mim_sklearn import MIMEncoder, load, save
from mim_sklearn.datasets import load_mnist
from mim_sklearn.out_of_core import iter_chunks, partial_fit_epochs

# How each variant trains ("fit", "epochs" or "loop") and what it changes.
VARIANTS = {
    "fit": ("fit", {}),
    "fit, random_state=1": ("fit", {"random_state": 1}),
    "partial_fit_epochs": ("epochs", {}),
    "partial_fit_epochs, warm-up in passes": ("epochs", {"warmup_in_passes": True}),
    "partial_fit loop": ("loop", {}),
}
SCORE_DRAWS = 200


class PeakMemory:
    """Peak anonymous and resident memory (MB) of this process while in use."""

    def __enter__(self) -> PeakMemory:
        self.anon_mb = self.rss_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            status = dict(line.split(":", 1) for line in
                          Path("/proc/self/status").read_text().splitlines())
            self.anon_mb = max(self.anon_mb, int(status["RssAnon"].split()[0]) / 1024)
            self.rss_mb = max(self.rss_mb, int(status["VmRSS"].split()[0]) / 1024)
            if self._done.wait(0.01):
                return


def train_child(variant: str, data: str, model: str, settings: str) -> None:
    """In a child process: train one way, save the model, print the costs."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    how, changes = VARIANTS[variant]
    options = {**json.loads(settings), **changes}
    n_epochs, chunk_rows = options.pop("n_epochs"), options.pop("chunk_rows")
    warmup_in_passes = options.pop("warmup_in_passes", False)
    encoder = MIMEncoder(max_iter=n_epochs, early_stopping=False, **options)
    with PeakMemory() as memory:
        X = np.load(data, mmap_mode=None if how == "fit" else "r")
        if warmup_in_passes:
            chunks_per_pass = math.ceil(len(X) / chunk_rows)
            # warmup_epochs="auto" is 5 epochs with the standard prior (its
            # docstring); partial_fit counts calls, so a pass is many.
            passes = 5 if encoder.warmup_epochs == "auto" else encoder.warmup_epochs
            encoder.set_params(warmup_epochs=passes * chunks_per_pass)
        start = time.perf_counter()
        if how == "fit":
            encoder.fit(X)
        elif how == "epochs":
            partial_fit_epochs(encoder, X, n_epochs=n_epochs, chunk_rows=chunk_rows,
                               random_state=0)
        else:  # the same chunks in the same order as partial_fit_epochs
            rng = np.random.RandomState(0)
            for _ in range(n_epochs):
                for chunk in iter_chunks(X, chunk_rows, shuffle=True, random_state=rng):
                    encoder.partial_fit(chunk)
        seconds = time.perf_counter() - start
    save(encoder, model)
    print(json.dumps({"seconds": seconds, "peak_anon_mb": memory.anon_mb,
                      "peak_rss_mb": memory.rss_mb}))


def run_case(name, X, y, X_test, y_test, settings, score_rows, folder) -> list[dict]:
    """Train each way on X; measure each model on the held-out rows."""
    data = folder / f"{name}.npy"
    np.save(data, X.astype(np.float32))
    rows = []
    for variant in VARIANTS:
        model = folder / f"{name}-{len(rows)}.pt"
        child = subprocess.run(
            [sys.executable, __file__, "--child", variant, str(data), str(model),
             json.dumps(settings)],
            capture_output=True, text=True, check=True,
        )
        costs = json.loads(child.stdout.splitlines()[-1])
        encoder = load(model)
        knn = KNeighborsClassifier(5).fit(encoder.transform(X), y)
        rows.append({"data": name, "scaling": settings["scaling"], "training": variant,
                     "epochs": settings["n_epochs"],
                     "heldout_loglik": encoder.score(X_test[:score_rows]),
                     "knn5_test_accuracy": knn.score(encoder.transform(X_test), y_test),
                     "train_s": costs["seconds"], "peak_anon_mb": costs["peak_anon_mb"],
                     "peak_rss_mb": costs["peak_rss_mb"]})
        print(rows[-1], flush=True)
    return rows


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` measures."""
    # The settings of both cases, by key.
    labels = {"train_rows": "training rows", "test_rows_knn": "test rows (5-NN)",
              "test_rows_scored": "test rows scored", "test_rows": "test rows",
              "n_components": "n_components",
              "n_importance_samples": "importance draws per row (score)",
              "device": "device", "random_state": "random_state",
              "scaling": "scaling", "n_epochs": "epochs",
              "chunk_rows": "rows per chunk"}
    return [
        settings_table("MNIST: setup", labels, results["mnist"]),
        settings_table("Digits: setup", labels, results["digits"]),
        table("fit against epochs of partial_fit over chunks", {
            "data": "data", "scaling": "scaling", "training": "training",
            "epochs": "epochs", "heldout_loglik": "held-out log-likelihood",
            "knn5_test_accuracy": "5-NN test accuracy", "train_s": "training (s)",
            "peak_anon_mb": "peak anonymous memory (MB)",
            "peak_rss_mb": "peak resident memory (MB)"}, results["results"]),
    ]


HEADER = ["data", "scaling", "training", "epochs", "held-out log-lik", "5-NN acc",
          "train s", "peak anon MB", "peak RSS MB"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        train_child(*args.child)
        return
    warnings.simplefilter("ignore", ConvergenceWarning)
    common = dict(n_components=10, n_importance_samples=SCORE_DRAWS, device="cpu",
                  random_state=0)

    X, y = load_mnist(MNIST_DIR)
    X_test, y_test = load_mnist(MNIST_DIR, "test")
    n_train, n_test = (5_000, 1_000) if args.quick else (len(X), len(X_test))
    mnist = (X[:n_train], y[:n_train], X_test[:n_test], y_test[:n_test])
    mnist_settings = dict(common, scaling="global", n_epochs=2 if args.quick else 10,
                          chunk_rows=960 if args.quick else 9_600)

    X, y = load_digits(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], y[order]
    digits = (X[:1437], y[:1437], X[1437:], y[1437:])

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rows += run_case("mnist", *mnist, mnist_settings, 5_000, folder)
        for scaling in ("global", "feature"):
            settings = dict(common, scaling=scaling, n_epochs=3 if args.quick else 30,
                            chunk_rows=320)
            rows += run_case("digits", *digits, settings, len(digits[2]), folder)
    print_table(f"fit against epochs of partial_fit over a memmap (MIMEncoder; "
                f"log-likelihood with K = {SCORE_DRAWS})", HEADER,
                [list(row.values()) for row in rows])
    results = {
        "mnist": {"train_rows": n_train, "test_rows_knn": n_test,
                  "test_rows_scored": min(5_000, n_test), **mnist_settings},
        "digits": {"train_rows": 1437, "test_rows": 360, "chunk_rows": 320,
                   "n_epochs": 3 if args.quick else 30},
        "results": rows,
    }
    path = write_results("out_of_core_quick" if args.quick else "out_of_core",
                         {**results, "tables": results_tables(results)})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
