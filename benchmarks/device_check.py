"""Check mim_sklearn on a GPU: fit, predict, persist, and time an epoch.

Every estimator (MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder) is fitted
on the device with each architecture ("mlp", "conv") and each prior
("standard", "mog", "vamp") for a few epochs, and again with two latent
levels (``latent_levels=2``, "conv", the VampPrior); A-MIM and the VAE also
as PixelHVAE (two levels, ``likelihood="pixelcnn"``, dynamic binarization),
whose decoder draws pixel by pixel on the device. Each fitted model must

1. ``fit``: train on the device asked for (its weights live there);
2. ``predict``: give finite ``transform``, ``score_samples`` and ``sample``
   outputs of the right shapes, on float32 rows (the device's float32
   kernels);
3. ``round trip``: pickle (``pickle.dumps``/``loads``) and save
   (``mim_sklearn.save``/``load``) and come back in this process on the same
   device with the same codes;
4. ``load on CPU``: load both files in a child process started with
   ``CUDA_VISIBLE_DEVICES=""``, which sees no GPU at all, as on a laptop
   without one (the honest test of how skorch's ``__setstate__`` and
   ``mim_sklearn.load`` map a GPU model to the CPU; moving a model with its
   ``device`` parameter in a process that has a GPU would skip that path),
   and there predict finitely and give the device's codes.

Codes (of the first 256 rows) are compared in float64, with ``rtol=1e-6,
atol=1e-8``. ``transform`` then computes with a float64 copy of the float32
weights on either device, so two faithful copies of a model differ by
float64 rounding alone (1e-16 relative per operation), far below the
tolerance; weights lost or rounded on the way move codes far beyond it
(rounded to float16, by 3e-4 to 8e-4 at most; to bfloat16, by 2e-3 to 7e-3;
measured on the digits, and ``tests/test_device_check.py`` checks that
float16 weights fail). Float32 codes could not tell the two apart on a GPU:
cuDNN runs float32 convolutions in TF32 by default, whose 10-bit mantissa
is float16's, so GPU conv codes would stray from the CPU's about as far.

Last, one training epoch on the 60,000 MNIST training rows (the model and
settings of ``benchmarks/speed.py``: MLP 2 x 256 tanh, 10 latent
dimensions, batch 128, MIM and VAE) is timed on the device, on the CPU, and
as ``speed.py``'s bare PyTorch loop on the device, interleaved (medians of 3
rounds after an untimed one, which also pays CUDA's start-up), with
``torch.cuda.synchronize`` before each clock reading. The fit matrix runs on
the first 2,000 MNIST rows as 1 x 28 x 28 images of grey levels in
[0, 1] (divided by 255, for the binary likelihood); MNIST is read from
``../shared/datasets/mnist`` (``--mnist DIR`` elsewhere).

On a machine with a GPU, from the repository's root, with a Python that has
a CUDA build of PyTorch, NumPy, SciPy, scikit-learn and tqdm::

    pip download --no-deps -d benchmarks/wheels skorch tabulate
    PYTHONPATH=. python benchmarks/device_check.py

The download is needed only where skorch is not installed, and can be done
on any machine with network access (the wheels are pure Python; copy
``benchmarks/wheels/`` along with the checkout): when ``import skorch``
fails, the newest ``skorch-*.whl`` and ``tabulate-*.whl`` found there are
put on ``sys.path`` (Python imports from a wheel as from a zip file), and
the script says so. The run should take 2 to 4 minutes on one H200 (an
estimate: it has not yet run on a GPU; most of it is the CPU side, the
child process and the CPU epochs). ``--device`` defaults to "auto", the
estimators' default, which is CUDA when a GPU is visible.

Output: one line per check as it finishes, then a table of every check
(pass or FAIL, seconds) and a table of epoch seconds, in which ``CPU /
device`` is the GPU's speed-up over the CPU and ``ours / bare`` what
mim_sklearn's training engine costs beside the bare loop on the device (1 is
none). The tables go to ``docs/results/device_check_<device type>.json``.
A failed check prints its traceback as it happens; the script then exits
with status 1 after the tables, naming the failed checks.

``--device cpu --quick`` is the smoke run that keeps this script working
without a GPU: 200 digits (divided by 16) as 1 x 8 x 8 images for a
subset of the matrix that still covers every estimator, architecture and
prior, two levels and PixelHVAE, and the epoch
timed once on the same rows; results in
``docs/results/device_check_cpu_quick.json`` (git-ignored). It took 26 to
46 s of CPU time (50 to 73 s wall) on two cores busy with other jobs. A
full run with ``--device cpu`` takes over 10 minutes on two cores (the conv
fits on 28 x 28 images, the CPU epochs on 60,000 rows).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from _common import (
    MNIST_DIR,
    interleaved_medians,
    print_table,
    settings_table,
    table,
    write_results,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

WHEELS_DIR = Path(__file__).resolve().parent / "wheels"
DOWNLOAD_WHEELS = "pip download --no-deps -d benchmarks/wheels skorch tabulate"


def _wheel_version(wheel: Path) -> tuple[int, ...]:
    """The numbers in a wheel's version: ``skorch-1.10.0-...`` gives (1, 10, 0)."""
    return tuple(int(part) for part in re.findall(r"\d+", wheel.name.split("-")[1]))


def add_wheels(wheels_dir: Path = WHEELS_DIR) -> list[Path]:
    """Make skorch importable from wheels in ``wheels_dir`` when it is not installed.

    Parameters
    ----------
    wheels_dir : pathlib.Path
        Folder holding ``skorch-*.whl`` and ``tabulate-*.whl`` (skorch's one
        dependency beyond NumPy, SciPy, scikit-learn and tqdm).

    Returns
    -------
    list of pathlib.Path
        The wheels put at the front of ``sys.path``, the newest of each
        name; empty when skorch is installed.

    Raises
    ------
    SystemExit
        When skorch is not installed and a wheel is missing, with the
        command that downloads them.
    """
    try:
        import skorch  # noqa: F401
    except ImportError:
        pass
    else:
        return []
    wheels = []
    for name in ("skorch", "tabulate"):
        found = sorted(wheels_dir.glob(f"{name}-*.whl"), key=_wheel_version)
        if not found:
            raise SystemExit(
                f"skorch is not installed, and {wheels_dir} holds no {name}-*.whl. "
                f"From the repository's root, run\n    {DOWNLOAD_WHEELS}\n(on any "
                "machine with network access; copy benchmarks/wheels/ here), or "
                "install skorch."
            )
        wheels.append(found[-1])
    sys.path[:0] = [str(wheel) for wheel in wheels]
    print("skorch is not installed; importing from", ", ".join(w.name for w in wheels))
    return wheels


add_wheels()  # before anything imports skorch

from speed import bare_fit, our_fit  # noqa: E402

from mim_sklearn import (  # noqa: E402
    AMIMEncoder,
    MAEEncoder,
    MIMEncoder,
    VAEEncoder,
    load,
    resolve_device,
    save,
)
from mim_sklearn.datasets import load_mnist  # noqa: E402
from mim_sklearn.nn import PRIORS  # noqa: E402
from mim_sklearn.nn.architectures import ARCHITECTURES  # noqa: E402
from mim_sklearn.objectives import mim_objective, vae_objective  # noqa: E402

ESTIMATORS = (MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder)
Encoder = MIMEncoder | AMIMEncoder | VAEEncoder | MAEEncoder

# Small networks trained briefly: the check is that everything runs on the
# device, not what the models learn.
FIT_PARAMS = dict(n_components=4, hidden_layer_sizes=(64,), n_prior_components=10,
                  warmup_epochs=1, random_state=0)
FULL = dict(max_iter=3, n_importance_samples=50)
QUICK = dict(max_iter=2, n_importance_samples=10)
SCORE_ROWS = 64
SAMPLES = 16
CODE_ROWS = 256  # rows whose codes are compared across the round trips
# Codes in float64 (see the module's docstring for why these tolerances).
RTOL, ATOL = 1e-6, 1e-8
# The epoch timed, the model and objective of speed.py's fit comparison.
TIMED = {"MIM": (MIMEncoder, mim_objective), "VAE": (VAEEncoder, vae_objective)}


@dataclass(frozen=True)
class Case:
    """One fit of the matrix: an estimator, an architecture, a prior, and
    the latent levels and likelihood (one level, Gaussian, unless named)."""

    estimator: type[Encoder]
    architecture: str
    prior: str
    latent_levels: int = 1
    likelihood: str = "gaussian"

    @property
    def name(self) -> str:
        extra = "".join([f"-{self.latent_levels}level" * (self.latent_levels > 1),
                         f"-{self.likelihood}" * (self.likelihood != "gaussian")])
        return f"{self.estimator.__name__}-{self.architecture}-{self.prior}{extra}"


def hierarchical_cases() -> list[Case]:
    """Every estimator with two levels; PixelHVAE with the two that train it."""
    pixel_trainers = (AMIMEncoder, VAEEncoder)
    return [Case(cls, "conv", "vamp", 2) for cls in ESTIMATORS] + [
        Case(cls, "conv", "standard", 2, "pixelcnn") for cls in pixel_trainers]


@dataclass(frozen=True)
class Plan:
    """The data and settings of a run (full or quick)."""

    X: np.ndarray  # the matrix's rows, float32
    image_shape: tuple[int, int, int]
    cases: list[Case]
    params: dict
    X_epoch: np.ndarray  # the rows of the timed epoch, float32
    repeats: int


@dataclass
class Check:
    """The outcome of one check."""

    check: str
    case: str
    passed: bool
    seconds: float
    error: str | None = None


def all_cases() -> list[Case]:
    """Every estimator with every architecture and every prior."""
    return [Case(cls, architecture, prior) for cls in ESTIMATORS
            for architecture in ARCHITECTURES for prior in PRIORS
            ] + hierarchical_cases()


def covering_cases() -> list[Case]:
    """Each estimator with each architecture once, the priors taken in turn.

    Every estimator, architecture and prior appears, and every prior with
    both architectures.
    """
    priors = list(PRIORS)
    return [Case(cls, architecture, priors[(i + j) % len(priors)])
            for i, cls in enumerate(ESTIMATORS)
            for j, architecture in enumerate(ARCHITECTURES)
            ] + [Case(MIMEncoder, "conv", "vamp", 2),
                 Case(AMIMEncoder, "conv", "standard", 2, "pixelcnn")]


def full_plan(mnist_dir: Path) -> Plan:
    """The whole matrix on 2,000 MNIST images; the epoch on all 60,000."""
    X, _ = load_mnist(mnist_dir)
    # Grey levels in [0, 1]: what the binary likelihood's cases read.
    grey = X[:2000] / np.float32(255)
    return Plan(grey, (1, 28, 28), all_cases(), {**FIT_PARAMS, **FULL}, X, 3)


def quick_plan() -> Plan:
    """A covering subset on 200 digits; the epoch timed once on the same rows."""
    X = load_digits().data[:200].astype(np.float32) / np.float32(16)
    return Plan(X, (1, 8, 8), covering_cases(), {**FIT_PARAMS, **QUICK}, X, 1)


def run_check(check: str, case: str, fn: Callable[[], object]) -> tuple[Check, object]:
    """Run ``fn`` as a check; its outcome and its value (None if it failed).

    A failure is recorded and its traceback printed, so that one run reports
    every failing check.
    """
    start = time.perf_counter()
    try:
        value = fn()
    except Exception as error:  # any failure is reported, not raised
        traceback.print_exc()
        message = f"{type(error).__name__}: {error}"
        return Check(check, case, False, time.perf_counter() - start, message), None
    return Check(check, case, True, time.perf_counter() - start), value


def report(check: Check) -> Check:
    """Print a check's outcome as it finishes."""
    print(f"{'ok  ' if check.passed else 'FAIL'} {check.check:<12} {check.case:<28} "
          f"{check.seconds:7.2f} s", flush=True)
    return check


def fit(case: Case, plan: Plan, device: str) -> Encoder:
    """Fit a case on ``device`` and check that its weights live there."""
    estimator = case.estimator(
        architecture=case.architecture,
        prior=case.prior,
        image_shape=plan.image_shape if case.architecture == "conv" else None,
        latent_levels=case.latent_levels,
        likelihood=case.likelihood,
        dynamic_binarization=case.likelihood == "pixelcnn",
        device=device,
        **plan.params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs on purpose
        estimator.fit(plan.X)
    expected = torch.device(device).type  # main() resolved it
    placed = {p.device.type for p in estimator.model_.parameters()}
    if placed != {expected}:
        raise AssertionError(f"asked for device {device!r}; weights are on {placed}")
    return estimator


def check_outputs(estimator: Encoder, X: np.ndarray) -> None:
    """Check transform, score_samples and sample for finite, right-sized arrays."""
    n_scored = min(len(X), SCORE_ROWS)
    outputs = {
        "transform": (estimator.transform(X),
                      (len(X), len(estimator.get_feature_names_out()))),
        "score_samples": (estimator.score_samples(X[:n_scored]), (n_scored,)),
        "sample": (estimator.sample(SAMPLES), (SAMPLES, X.shape[1])),
    }
    for method, (value, shape) in outputs.items():
        if value.shape != shape:
            raise AssertionError(f"{method} gave shape {value.shape}, expected {shape}")
        if not np.isfinite(value).all():
            raise AssertionError(f"{method} gave {np.sum(~np.isfinite(value))} "
                                 "non-finite values")


def assert_same_codes(actual: np.ndarray, expected: np.ndarray, how: str) -> None:
    """Raise an AssertionError naming ``how`` unless the codes agree (RTOL, ATOL)."""
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL,
                               err_msg=f"codes after {how} differ")


def round_trip(estimator: Encoder, X64: np.ndarray, folder: Path,
               name: str) -> None:
    """Pickle and save ``estimator``; both must load back here alike (device, codes).

    Writes ``NAME.pkl``, ``NAME.pt`` and the estimator's float64 codes of
    ``X64``, ``NAME.npy``, into ``folder``, for :func:`load_on_cpu`.
    """
    codes = estimator.transform(X64)
    np.save(folder / f"{name}.npy", codes)
    pickled = pickle.dumps(estimator)
    (folder / f"{name}.pkl").write_bytes(pickled)
    save(estimator, folder / f"{name}.pt")
    for how, restored in [("pickle", pickle.loads(pickled)),
                          ("save/load", load(folder / f"{name}.pt"))]:
        if restored.device_ != estimator.device_:
            raise AssertionError(f"{how} moved the estimator from {estimator.device_} "
                                 f"to {restored.device_}")
        assert_same_codes(restored.transform(X64), codes, how)


def load_on_cpu(folder: Path) -> None:
    """Load, check and encode every ``*.pkl`` and ``*.pt`` in ``folder``, here.

    Run in a child process that sees no GPU. For each file it writes the
    float64 codes of ``X.npy`` beside it (``NAME.cpu.npy``), and it writes
    ``cpu.json``: whether CUDA was visible, and each file's device, seconds
    and error.
    """
    X64 = np.load(folder / "X.npy")

    def encode(path: Path) -> str:
        if path.suffix == ".pkl":
            estimator = pickle.loads(path.read_bytes())
        else:
            estimator = load(path)
        check_outputs(estimator, X64.astype(np.float32))
        np.save(folder / f"{path.name}.cpu.npy", estimator.transform(X64))
        return estimator.device_

    files = {}
    for path in sorted([*folder.glob("*.pkl"), *folder.glob("*.pt")]):
        check, device = run_check("load on CPU", path.name, lambda: encode(path))
        files[path.name] = {"device": device, "seconds": check.seconds,
                            "error": check.error}
    (folder / "cpu.json").write_text(json.dumps(
        {"cuda_available": torch.cuda.is_available(), "files": files}))


def run_cpu_child(folder: Path) -> dict:
    """Run :func:`load_on_cpu` where ``CUDA_VISIBLE_DEVICES=""``; its report."""
    child = subprocess.run(
        [sys.executable, __file__, "--load-on-cpu", str(folder)],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True, text=True,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the CPU process exited with {child.returncode}:\n"
                           f"{child.stderr[-3000:]}")
    result = json.loads((folder / "cpu.json").read_text())
    if result["cuda_available"]:
        raise AssertionError("the CPU process saw a GPU, CUDA_VISIBLE_DEVICES='' aside")
    return result


def compare_cpu_load(name: str, result: dict, folder: Path) -> float:
    """Check the CPU process's loads of a case against the device; their seconds."""
    codes = np.load(folder / f"{name}.npy")
    seconds = 0.0
    for file in (f"{name}.pkl", f"{name}.pt"):
        entry = result["files"].get(file)
        if entry is None:
            raise AssertionError(f"the CPU process found no {file}")
        if entry["error"] is not None:
            raise AssertionError(f"{file}: {entry['error']}")
        if entry["device"] != "cpu":
            raise AssertionError(f"{file} loaded on {entry['device']}, not the CPU")
        cpu_codes = np.load(folder / f"{file}.cpu.npy")
        assert_same_codes(cpu_codes, codes, f"{file} on the CPU")
        seconds += entry["seconds"]
    return seconds


def matrix_checks(plan: Plan, device: str, folder: Path) -> list[Check]:
    """Fit, predict and round-trip every case on ``device``; load all on the CPU."""
    X64 = plan.X[:CODE_ROWS].astype(np.float64)
    np.save(folder / "X.npy", X64)
    checks, fitted = [], []
    for case in plan.cases:
        check, estimator = run_check("fit", case.name, lambda: fit(case, plan, device))
        checks.append(report(check))
        if estimator is None:
            continue
        fitted.append(case.name)
        check, _ = run_check("predict", case.name,
                             lambda: check_outputs(estimator, plan.X))
        checks.append(report(check))
        check, _ = run_check("round trip", case.name,
                             lambda: round_trip(estimator, X64, folder, case.name))
        checks.append(report(check))
    check, result = run_check("CPU process", "all", lambda: run_cpu_child(folder))
    checks.append(report(check))
    if result is None:
        return checks
    for name in fitted:
        check, seconds = run_check(
            "load on CPU", name, lambda: compare_cpu_load(name, result, folder))
        if seconds is not None:  # the CPU process's, not the comparison's
            check = replace(check, seconds=seconds)
        checks.append(report(check))
    return checks


def synchronized(fn: Callable[[], object], device: str) -> Callable[[], None]:
    """``fn``, then a wait for the device's queued work (CUDA runs asynchronously)."""
    def run() -> None:
        fn()
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)
    return run


def time_epoch(objective: str, X: np.ndarray, device: str, repeats: int) -> dict:
    """Median seconds of an epoch: ours on ``device`` and the CPU, bare on ``device``.

    On the CPU, ours is timed once, and the CPU columns are None.
    """
    cls, loss = TIMED[objective]
    candidates = {
        "ours_device_s": synchronized(lambda: our_fit(cls, X, 1, device=device),
                                      device),
        "bare_device_s": synchronized(lambda: bare_fit(loss, X, 1, device=device),
                                      device),
    }
    on_cpu = torch.device(device).type == "cpu"
    if not on_cpu:
        candidates["ours_cpu_s"] = lambda: our_fit(cls, X, 1, device="cpu")
    seconds = interleaved_medians(candidates, repeats)
    ours_cpu = None if on_cpu else seconds["ours_cpu_s"]
    return {
        "objective": objective,
        "rows": len(X),
        "ours_device_s": seconds["ours_device_s"],
        "ours_cpu_s": ours_cpu,
        "bare_device_s": seconds["bare_device_s"],
        "cpu_over_device": None if on_cpu else ours_cpu / seconds["ours_device_s"],
        "ours_over_bare": seconds["ours_device_s"] / seconds["bare_device_s"],
    }


def timing_checks(plan: Plan, device: str) -> tuple[list[Check], list[dict]]:
    """Time the epoch of each objective in ``TIMED``; each timing is a check too."""
    checks, epochs = [], []
    for objective in TIMED:
        check, epoch = run_check(
            "epoch timing", objective,
            lambda: time_epoch(objective, plan.X_epoch, device, plan.repeats))
        checks.append(report(check))
        if epoch is not None:
            epochs.append(epoch)
    return checks, epochs


def describe(device: str) -> dict:
    """The versions and hardware behind the numbers."""
    setup = {"device": device, "torch": torch.__version__, "cuda": torch.version.cuda,
             "threads": torch.get_num_threads()}
    if torch.device(device).type == "cuda":
        setup["device_name"] = torch.cuda.get_device_name(device)
    return setup


def print_tables(checks: list[Check], epochs: list[dict]) -> None:
    """The table of every check, and that of the epoch seconds."""
    print_table("Checks", ["check", "case", "result", "seconds"],
                [[c.check, c.case, "pass" if c.passed else "FAIL", c.seconds]
                 for c in checks])
    columns = ["objective", "rows", "ours_device_s", "ours_cpu_s", "bare_device_s",
               "cpu_over_device", "ours_over_bare"]
    print_table("One training epoch, medians (seconds)",
                ["objective", "rows", "ours, device", "ours, CPU", "bare, device",
                 "CPU / device", "ours / bare"],
                [["-" if e[c] is None else e[c] for c in columns] for e in epochs])


def results_tables(results: dict) -> list[dict]:
    """The documentation's tables of the results that ``main`` writes."""
    return [
        settings_table("Setup", {
            "device": "device", "device_name": "GPU", "torch": "PyTorch",
            "cuda": "CUDA", "threads": "torch threads", "quick": "quick run",
            "matrix_rows": "rows of the fit matrix", "passed": "checks passed",
            "failed": "checks failed", "wall_s": "wall time (s)"}, results),
        table("Checks", {"check": "check", "case": "case", "passed": "passed",
                         "seconds": "seconds", "error": "error"}, results["checks"]),
        table("One training epoch, medians", {
            "objective": "objective", "rows": "rows",
            "ours_device_s": "ours, device (s)", "ours_cpu_s": "ours, CPU (s)",
            "bare_device_s": "bare, device (s)", "cpu_over_device": "CPU / device",
            "ours_over_bare": "ours / bare"}, results["epoch_seconds"]),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto",
                        help='torch device to check (default "auto": CUDA if visible)')
    parser.add_argument("--quick", action="store_true",
                        help="smoke run on the digits, a subset of the matrix")
    parser.add_argument("--mnist", type=Path, default=MNIST_DIR,
                        help=f"MNIST's folder (default {MNIST_DIR})")
    parser.add_argument("--load-on-cpu", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_on_cpu is not None:  # the child process of run_cpu_child
        load_on_cpu(args.load_on_cpu)
        return
    start = time.perf_counter()
    device = resolve_device(args.device)
    setup = describe(device)
    print(", ".join(f"{key} {value}" for key, value in setup.items()), flush=True)
    plan = quick_plan() if args.quick else full_plan(args.mnist)
    with tempfile.TemporaryDirectory(prefix="device-check-") as folder:
        checks = matrix_checks(plan, args.device, Path(folder))
    more_checks, epochs = timing_checks(plan, device)
    checks += more_checks
    print_tables(checks, epochs)
    failed = [c for c in checks if not c.passed]
    name = f"device_check_{torch.device(device).type}{'_quick' if args.quick else ''}"
    results = {
        **setup, "quick": args.quick, "matrix_rows": len(plan.X),
        "passed": len(checks) - len(failed), "failed": len(failed),
        "wall_s": time.perf_counter() - start,
        "checks": [asdict(c) for c in checks], "epoch_seconds": epochs,
    }
    path = write_results(name, {**results, "tables": results_tables(results)})
    print(f"\nwrote {path}")
    if failed:
        raise SystemExit(f"{len(failed)} of {len(checks)} checks failed (tracebacks "
                         "above): " + "; ".join(f"{c.check} {c.case}" for c in failed))


if __name__ == "__main__":
    main()
