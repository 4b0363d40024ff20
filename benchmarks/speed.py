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
   ``/usr/bin/time -v`` in child processes that stop at successive stages
   (imports, the optimizer's first step, loading, fitting), so that what
   each stage adds is read off beside the size of the data.

Run ``python benchmarks/speed.py`` (``--quick`` for a smoke run); it prints
tables and writes ``docs/results/speed.json``. ``--compile`` only times the
bare loop eager against the same loop through ``torch.compile`` (its first
epoch compiles) and writes ``docs/results/speed_compile.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
from _common import (
    MNIST_DIR,
    interleaved_medians,
    print_table,
    settings_table,
    table,
    timed,
    write_results,
)
from sklearn.exceptions import ConvergenceWarning

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import load_mnist
from mim_sklearn.nn import LatentVariableModel
from mim_sklearn.objectives import mim_objective, vae_objective

ARCH = dict(n_components=10, hidden_layer_sizes=(256, 256), activation="tanh")
BATCH = 128
K = 1000


def our_fit(cls, X, epochs, device="cpu"):
    est = cls(**ARCH, batch_size=BATCH, max_iter=epochs, warmup_epochs=0,
              early_stopping=False, n_iter_no_change=epochs + 1, device=device,
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


def bare_fit(objective, X, epochs, compiled=False, device="cpu") -> list[float]:
    """The loop a PyTorch user would write for the same model and objective.

    With ``compiled``, each step (objective, backward, Adam) runs through
    ``torch.compile``. Returns the seconds of each epoch, on ``device``
    (a CUDA epoch ends when its queued steps have run).
    """
    mean = X.mean(0)  # the same working units as scaling="global"
    scale = np.sqrt(((X - mean) ** 2).mean())
    model = LatentVariableModel(X.shape[1], **ARCH, seed=0).to(device)
    data = torch.from_numpy(((X - mean) / scale).astype(np.float32)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator(device).manual_seed(0)

    def step(x):
        loss, _ = objective(model, x, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def epoch(order):
        for index in order.split(BATCH):
            step(data[index])
        if data.is_cuda:
            torch.cuda.synchronize(data.device)

    if compiled:
        step = torch.compile(step)
    seconds = []
    for _ in range(epochs):
        order = torch.randperm(data.shape[0], generator=generator, device=device)
        seconds.append(timed(lambda: epoch(order)))
    return seconds


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
                logs = torch.stack([
                    model.importance_log_likelihood(x[i : i + 1], 1, generator)
                    for _ in range(K)
                ])
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


def compile_case(X, epochs):
    """The bare loop eager and through ``torch.compile``: the compiled loop's
    first epoch (which compiles) and the median of its later ones."""
    rows = []
    for name, objective in [("MIM", mim_objective), ("VAE", vae_objective)]:
        eager = bare_fit(objective, X, epochs)
        compiled = bare_fit(objective, X, epochs, compiled=True)
        later = statistics.median(compiled[1:])
        rows.append([name, statistics.median(eager), compiled[0], later,
                     later / statistics.median(eager)])
    return rows


def scaling_case(X_all, sizes):
    rows = []
    for n in sizes:
        seconds = timed(lambda: our_fit(MIMEncoder, X_all[:n], 1))
        rows.append([n, seconds, 1e6 * seconds / n])
    return rows


def peak_rss_mb(mode: str) -> float:
    """Peak resident MB of a child process in one of ``MEMORY_STAGES``."""
    child = (
        "import sys; sys.path.insert(0, 'benchmarks'); import speed; "
        f"speed.memory_child({mode!r})"
    )
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", child],
                         capture_output=True, text=True, check=True)
    kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    return int(kb.group(1)) / 1024


# Each stage does what the one before it did, and one thing more.
MEMORY_STAGES = {
    "import": "import torch, scikit-learn, mim_sklearn",
    "optimizer": "+ the first zero_grad of a torch.optim.Adam (imports torch._dynamo)",
    "load": "+ load the 60,000 MNIST rows as float32",
    "fit": "+ fit MIMEncoder for one epoch",
}


def memory_child(mode: str) -> None:
    stages = list(MEMORY_STAGES)
    if stages.index(mode) >= stages.index("optimizer"):
        # Every torch.optim optimizer imports torch._dynamo on its first
        # zero_grad or step (torch 2.x wraps them in _disable_dynamo).
        torch.optim.Adam([torch.zeros(1, requires_grad=True)]).zero_grad()
    if stages.index(mode) >= stages.index("load"):
        X, _ = load_mnist(MNIST_DIR)
    if mode == "fit":
        our_fit(MIMEncoder, X, 1)


def memory_case(data_mb: float) -> list[list]:
    """Peak resident MB at each stage and what that stage added."""
    rows, before = [], 0.0
    for stage, what in MEMORY_STAGES.items():
        peak = peak_rss_mb(stage)
        rows.append([what, peak, peak - before, (peak - before) / data_mb])
        before = peak
    return rows


# Labels of the versions that every results file of this script records.
VERSION_LABELS = {"torch": "PyTorch", "threads": "torch threads"}


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of ``speed.json`` (memory's only if measured)."""
    tables = [
        settings_table("Setup", VERSION_LABELS, results),
        table("mim_sklearn beside bare PyTorch loops",
              {"case": "case", "ours_s": "mim_sklearn (s)",
               "baseline_s": "bare PyTorch (s)", "ratio": "ratio"},
              results["side_by_side"]),
        table("One MIM training epoch, growing rows",
              {"rows": "rows", "seconds": "seconds per epoch",
               "us_per_row": "µs per row"},
              results["scaling"]),
    ]
    if results["peak_rss_mb"]:
        tables.append(table(
            "Peak resident memory of one-epoch fits on 60,000 MNIST rows, "
            "stage by stage",
            {"stage": "stage", "peak_mb": "peak resident (MB)",
             "added_mb": "added by the stage (MB)",
             "added_per_data": "added / float32 data"}, results["peak_rss_mb"]))
    return tables


def compile_tables(results: dict) -> list[dict]:
    """The documentation's tables of ``speed_compile.json``."""
    return [
        settings_table("Setup", VERSION_LABELS, results),
        table("The bare loop on 10,000 rows, eager and through torch.compile",
              {"objective": "objective", "eager_epoch_s": "eager epoch (s)",
               "compiled_first_epoch_s": "compiled, 1st epoch with compiling (s)",
               "compiled_epoch_s": "compiled, later epochs (s)", "ratio": "ratio"},
              results["torch_compile"]),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--compile", action="store_true",
                        help="only time the bare loop through torch.compile")
    args = parser.parse_args()
    torch.manual_seed(0)
    X_all, _ = load_mnist(MNIST_DIR)
    if args.compile:
        # A cache of compiled kernels from an earlier run would hide the
        # compile time a new user pays: compile into a fresh one.
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")
        rows = compile_case(X_all[:10_000], 4)
        print_table("Bare loop, 10,000 rows: eager against torch.compile (seconds)",
                    ["objective", "eager epoch", "compiled 1st epoch",
                     "compiled later epochs", "ratio"], rows)
        keys = ["objective", "eager_epoch_s", "compiled_first_epoch_s",
                "compiled_epoch_s", "ratio"]
        results = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                   "torch_compile": [dict(zip(keys, r)) for r in rows]}
        path = write_results("speed_compile",
                             {**results, "tables": compile_tables(results)})
        print(f"\nwrote {path}")
        return
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

    memory = []
    if not args.quick:
        data_mb = X_all.nbytes / 2**20
        memory = memory_case(data_mb)
        print_table(f"Peak resident memory, 60,000 MNIST rows ({data_mb:.0f} MB "
                    "as float32)", ["stage", "peak MB", "added MB", "added / data"],
                    memory)
    results = {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "side_by_side": [dict(zip(["case", "ours_s", "baseline_s", "ratio"], r))
                         for r in timing],
        "scaling": [dict(zip(["rows", "seconds", "us_per_row"], r)) for r in scaling],
        "peak_rss_mb": [dict(zip(["stage", "peak_mb", "added_mb", "added_per_data"], r))
                        for r in memory],
    }
    path = write_results("speed_quick" if args.quick else "speed",
                         {**results, "tables": results_tables(results)})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
