"""Speed of mim_sklearn beside bare PyTorch, measured side by side.

Every comparison runs both candidates in this one process, interleaved round
by round, and reports medians and their ratio (ratios are what a shared,
noisy machine measures reliably). Cases, on MNIST training rows:

1. An epoch of ``fit`` (MLP 2x256 tanh, 10 latent dimensions, batch 128)
   against a bare PyTorch loop of the same model and objective: data already
   a tensor on the device, no DataLoader, Adam.
2. ``score_samples`` with K = 1000 importance draws against per-row loops.
3. ``transform`` against a bare forward pass of the encoder.
4. Scaling: seconds per epoch from 10,000 to 60,000 rows.
5. Peak resident memory of a one-epoch fit on all 60,000 rows, measured with
   ``/usr/bin/time -v`` in a child process, beside a child that only loads.

Run ``python benchmarks/speed.py`` (``--quick`` for a smoke run); it prints
tables and writes ``benchmarks/results/speed.json``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import warnings

import numpy as np
import torch
from _common import MNIST_DIR, interleaved_medians, print_table, timed, write_results
from sklearn.exceptions import ConvergenceWarning

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import load_mnist
from mim_sklearn.nn import LatentVariableModel
from mim_sklearn.objectives import mim_objective, vae_objective

ARCH = dict(n_components=10, hidden_layer_sizes=(256, 256), activation="tanh")
BATCH = 128
K = 1000


def our_fit(cls, X, epochs):
    est = cls(**ARCH, batch_size=BATCH, max_iter=epochs, warmup_epochs=0,
              early_stopping=False, n_iter_no_change=epochs + 1, device="cpu",
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


def bare_fit(objective, X, epochs):
    """The loop a PyTorch user would write for the same model and objective."""
    mean = X.mean(0)  # the same working units as scaling="global"
    scale = np.sqrt(((X - mean) ** 2).mean())
    model = LatentVariableModel(X.shape[1], **ARCH, seed=0)
    data = torch.from_numpy(((X - mean) / scale).astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(data.shape[0], generator=generator)
        for index in order.split(BATCH):
            loss, _ = objective(model, data[index], generator=generator)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def fit_case(X, epochs, repeats):
    rows = []
    for name, cls, objective in [("MIM", MIMEncoder, mim_objective),
                                 ("VAE", VAEEncoder, vae_objective)]:
        medians = interleaved_medians(
            {"ours": lambda: our_fit(cls, X, epochs),
             "bare": lambda: bare_fit(objective, X, epochs)},
            repeats,
        )
        rows.append([f"fit epoch ({name})", medians["ours"] / epochs,
                     medians["bare"] / epochs, medians["ours"] / medians["bare"]])
    return rows


def score_case(est, X, n_rows, n_naive_rows, repeats):
    model, generator = est.model_, torch.Generator().manual_seed(0)
    x = model.to_working_units(torch.from_numpy(X[:n_rows]))

    def per_row():  # a loop over rows, each row's K draws in one batch
        with torch.inference_mode():
            for i in range(n_rows):
                model.importance_log_likelihood(x[i : i + 1], K, generator)

    def per_row_and_draw():  # the formula read literally: a loop over rows and draws
        with torch.inference_mode():
            for i in range(n_naive_rows):
                logs = torch.stack([model.importance_log_likelihood(x[i : i + 1], 1, generator)
                                    for _ in range(K)])
                torch.logsumexp(logs, 0)

    medians = interleaved_medians(
        {"ours": lambda: est.score_samples(X[:n_rows]), "per_row": per_row}, repeats
    )
    naive = timed(per_row_and_draw) * n_rows / n_naive_rows
    return [
        [f"score_samples K={K}, {n_rows} rows vs per-row loop", medians["ours"],
         medians["per_row"], medians["ours"] / medians["per_row"]],
        [f"score_samples K={K}, {n_rows} rows vs row x draw loop", medians["ours"],
         naive, medians["ours"] / naive],
    ]


def transform_case(est, X, repeats):
    model = est.model_
    data = torch.from_numpy(X)

    def bare():
        with torch.inference_mode():
            model.encode(model.to_working_units(data))[0].numpy()

    medians = interleaved_medians({"ours": lambda: est.transform(X), "bare": bare},
                                  repeats)
    return [[f"transform, {X.shape[0]} rows", medians["ours"], medians["bare"],
             medians["ours"] / medians["bare"]]]


def scaling_case(X_all, sizes):
    rows = []
    for n in sizes:
        seconds = timed(lambda: our_fit(MIMEncoder, X_all[:n], 1))
        rows.append([n, seconds, 1e6 * seconds / n])
    return rows


def peak_rss_mb(mode: str) -> float:
    """Peak resident MB of a child that imports everything ("import"), also
    loads MNIST ("load"), and also fits one epoch on it ("fit")."""
    child = (
        "import sys; sys.path.insert(0, 'benchmarks'); import speed; "
        f"speed.memory_child({mode!r})"
    )
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", child],
                         capture_output=True, text=True, check=True)
    kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    return int(kb.group(1)) / 1024


def memory_child(mode: str) -> None:
    if mode == "import":
        return
    X, _ = load_mnist(MNIST_DIR)
    if mode == "fit":
        our_fit(MIMEncoder, X, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    torch.manual_seed(0)
    X_all, _ = load_mnist(MNIST_DIR)
    n_rows, epochs, repeats = (2000, 1, 2) if args.quick else (10_000, 2, 3)
    X = X_all[:n_rows]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"MNIST rows: {n_rows}")

    timing = fit_case(X, epochs, repeats)
    est = our_fit(MIMEncoder, X, 1)
    est.set_params(n_importance_samples=K)
    timing += score_case(est, X, 20 if args.quick else 100, 2 if args.quick else 5,
                         repeats)
    timing += transform_case(est, X, 51)  # cheap and noisy: many rounds
    print_table("Side by side (seconds, medians of interleaved runs)",
                ["case", "ours", "baseline", "ratio"], timing)

    sizes = [2000, 4000] if args.quick else [10_000, 20_000, 40_000, 60_000]
    scaling = scaling_case(X_all, sizes)
    print_table("Fit time per epoch against rows (MIM)",
                ["rows", "seconds", "us per row"], scaling)

    memory = {}
    if not args.quick:
        memory = {"imports only": peak_rss_mb("import"),
                  "imports + load": peak_rss_mb("load"),
                  "imports + load + fit": peak_rss_mb("fit"),
                  "float32 data": X_all.nbytes / 2**20}
        memory["fit - load"] = memory["imports + load + fit"] - memory["imports + load"]
        print_table("Peak resident memory, 60,000 MNIST rows (MB)",
                    ["what", "MB"], [[k, v] for k, v in memory.items()])
    path = write_results("speed_quick" if args.quick else "speed", {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "side_by_side": [dict(zip(["case", "ours_s", "baseline_s", "ratio"], r))
                         for r in timing],
        "scaling": [dict(zip(["rows", "seconds", "us_per_row"], r)) for r in scaling],
        "peak_rss_mb": memory,
    })
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
