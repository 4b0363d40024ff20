"""Whether a change keeps every number: fits, codes, scores and saved files.

A change meant to leave behaviour alone (a refactor) must give every number
it gave before, to the last bit. Record the numbers of the code before the
change, then check the code after it::

    git worktree add /tmp/before HEAD      # the code before the change
    PYTHONPATH=/tmp/before python benchmarks/same_numbers.py record /tmp/numbers
    python benchmarks/same_numbers.py check /tmp/numbers

``record`` fits fixed configurations (one and two latent levels, every
estimator, learned priors, a table with gaps, a dict of likelihoods, weights,
``X_val``, dynamic binarization, the PixelCNN decoder, ``partial_fit``,
``warm_start`` and out-of-core epochs), writes a SHA-256 digest of each
number they give (loss curves, codes, posterior draws, log-likelihoods,
samples, reconstructions, resolved settings) to ``numbers.json`` in the
folder, and saves each fitted estimator there with :func:`mim_sklearn.save`.
``check`` fits them again, loads the saved files, and prints for each
configuration how many of its numbers differ; it exits with status 1 when
any does. Everything runs on one thread on the CPU, where PyTorch's results
repeat exactly from run to run. Only the public API is used, so ``record``
runs on older versions of the package as well.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import print_table
from sklearn.datasets import load_digits

import mim_sklearn
from mim_sklearn import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder, load, save
from mim_sklearn.out_of_core import partial_fit_epochs

# Importance draws of the scores: enough to exercise the chunked path.
N_DRAWS = 16


def data() -> dict[str, object]:
    """The inputs: digits (counts 0-16), as grey levels, and a table."""
    X = load_digits().data[:400]
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({
        "a": rng.normal(size=300), "b": rng.normal(5, 2, size=300),
        "c": pd.Categorical(rng.choice(["x", "y", "z"], 300)),
        "d": rng.rand(300) > 0.5, "e": rng.poisson(3, 300).astype(float),
    })
    frame.loc[rng.rand(300) < 0.1, "a"] = np.nan
    frame.loc[rng.rand(300) < 0.1, "e"] = np.nan
    return {"X": X, "grey": X / 16.0, "binary": (X > 8).astype(float),
            "weights": rng.uniform(0.2, 2.0, X.shape[0]), "frame": frame}


def configurations(d: dict) -> dict[str, Callable[[], tuple[object, object]]]:
    """Each configuration: a function that fits it and returns the estimator
    and the data its numbers are read on."""
    X, grey, w, frame = d["X"], d["grey"], d["weights"], d["frame"]

    def fitted(estimator, data, **fit_params):
        return lambda: (estimator.fit(data, **fit_params), data)

    def partial_fits():
        estimator = MIMEncoder(3, random_state=0)
        for rows in np.array_split(np.arange(300), 3):
            estimator.partial_fit(X[rows], sample_weight=w[rows])
        return estimator, X

    def warm_start():
        estimator = VAEEncoder(3, max_iter=3, warm_start=True, random_state=0)
        return estimator.fit(X).fit(X), X

    def out_of_core():
        estimator = partial_fit_epochs(AMIMEncoder(3, random_state=0), X,
                                       n_epochs=2, chunk_rows=150, random_state=0)
        return estimator, X

    return {
        "MIM": fitted(MIMEncoder(4, max_iter=8, random_state=0), X),
        "A-MIM, VampPrior": fitted(AMIMEncoder(
            4, prior="vamp", n_prior_components=20, max_iter=8, warmup_epochs=2,
            random_state=0), X),
        "VAE, MoG prior, weights": fitted(VAEEncoder(
            3, prior="mog", n_prior_components=5, max_iter=6, random_state=1),
            X, sample_weight=w),
        "MAE": fitted(MAEEncoder(3, max_iter=5, random_state=0), X),
        "MIM, two levels, binarized": fitted(MIMEncoder(
            3, latent_levels=2, likelihood="bernoulli", dynamic_binarization=True,
            max_iter=6, random_state=0), grey),
        "VAE, two levels, X_val, weights": fitted(VAEEncoder(
            3, latent_levels=2, max_iter=6, random_state=0), X[:300],
            X_val=X[300:], sample_weight=w[:300], sample_weight_val=w[300:]),
        "A-MIM, binarized, X_val": fitted(AMIMEncoder(
            3, likelihood="bernoulli", dynamic_binarization=True, max_iter=5,
            random_state=3), grey[:300], X_val=grey[300:]),
        "MIM, table with gaps, weights": fitted(MIMEncoder(
            3, max_iter=6, random_state=0), frame, sample_weight=w[:300]),
        "VAE, table, dict of likelihoods": fitted(VAEEncoder(
            2, likelihood={"d": "gaussian"}, max_iter=4, random_state=0), frame),
        "A-MIM, PixelCNN": fitted(AMIMEncoder(
            2, architecture="conv", likelihood="pixelcnn", image_shape=(1, 8, 8),
            hidden_layer_sizes=(32,), max_iter=2, random_state=0), d["binary"][:200]),
        "MIM, no early stopping": fitted(MIMEncoder(
            2, early_stopping=False, max_iter=4, random_state=5), X),
        "MIM, partial_fit, weights": partial_fits,
        "VAE, warm start": warm_start,
        "A-MIM, out of core": out_of_core,
    }


def digest(value) -> str:
    """SHA-256 of a value's exact contents (dtype, shape and bits for arrays;
    Python's round-trip repr for floats and tables)."""
    if isinstance(value, pd.DataFrame):
        text = repr([value.dtypes.astype(str).tolist(), value.to_dict("list")])
        return hashlib.sha256(text.encode()).hexdigest()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        header = f"{array.dtype.str}{array.shape}".encode()
        return hashlib.sha256(header + array.tobytes()).hexdigest()
    return hashlib.sha256(repr(value).encode()).hexdigest()


def numbers(estimator, X) -> dict[str, str]:
    """The digests of everything a fitted estimator gives."""
    estimator.set_params(n_importance_samples=N_DRAWS)
    codes = estimator.transform(X[:40])
    values = {
        "loss_curve_": estimator.loss_curve_,
        "validation_loss_curve_": estimator.validation_loss_curve_,
        "transform": codes,
        "sample_posterior": estimator.sample_posterior(X[:40], random_state=1),
        "score_samples": estimator.score_samples(X[:20]),
        "sample": estimator.sample(5, random_state=2),
        "inverse_transform": estimator.inverse_transform(codes[:5]),
        "settings": [getattr(estimator, name, None) for name in
                     ("n_iter_", "activation_", "warmup_epochs_", "batch_size_")],
    }
    return {name: digest(value) for name, value in values.items()}


def file_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) + ".pt"


def record(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    recorded = {}
    for name, fit in configurations(data()).items():
        estimator, X = fit()
        recorded[name] = numbers(estimator, X)
        save(estimator, folder / file_name(name))
    (folder / "numbers.json").write_text(json.dumps(recorded, indent=1))
    print(f"Recorded {sum(map(len, recorded.values()))} numbers of "
          f"{len(recorded)} configurations in {folder}.")


def check(folder: Path) -> int:
    recorded = json.loads((folder / "numbers.json").read_text())
    rows, differing = [], 0
    for name, fit in configurations(data()).items():
        estimator, X = fit()
        refitted = numbers(estimator, X)
        reloaded = numbers(load(folder / file_name(name)), X)
        before = recorded[name]
        changed = [key for key in before if refitted[key] != before[key]]
        unlike = [key for key in before if reloaded[key] != before[key]]
        differing += len(changed) + len(unlike)
        rows.append([name, len(before), ", ".join(changed) or "none",
                     ", ".join(unlike) or "none"])
    print_table("Numbers before and after the change",
                ["configuration", "numbers", "differ when refitted",
                 "differ when the old file is loaded"], rows)
    print(f"{differing} numbers differ.")
    return int(differing > 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("folder", type=Path, help="where the numbers are kept")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # short fits warn; the numbers are the point
    print(f"mim_sklearn {mim_sklearn.__version__} from "
          f"{Path(mim_sklearn.__file__).parent}")
    if args.action == "record":
        record(args.folder)
        return 0
    return check(args.folder)


if __name__ == "__main__":
    sys.exit(main())
