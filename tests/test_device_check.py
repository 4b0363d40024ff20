"""Tests of benchmarks/device_check.py on the CPU, on tiny data.

The script's quick run shows that its checks pass; these show what that run
cannot: that a model changed on its way through ``save`` fails the checks
and the run, and how the script finds skorch where it is not installed.
"""

import copy
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from mim_sklearn import VAEEncoder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import device_check  # noqa: E402


@pytest.fixture
def tiny_run(monkeypatch):
    """``main`` on one VAE fit of 60 digits, untimed; the results it writes."""
    X = load_digits().data[:60].astype(np.float32)
    plan = device_check.Plan(
        X, (1, 8, 8), [device_check.Case(VAEEncoder, "mlp", "standard")],
        {**device_check.FIT_PARAMS, **device_check.QUICK}, X, 1,
    )
    monkeypatch.setattr(device_check, "quick_plan", lambda: plan)
    monkeypatch.setattr(device_check, "TIMED", {})
    written = {}
    monkeypatch.setattr(device_check, "write_results",
                        lambda name, results: written.setdefault(name, results))
    return written


def test_weights_rounded_by_save_fail_the_run(tiny_run, monkeypatch):
    save = device_check.save

    def lossy_save(estimator, path):  # weights kept in float16: codes move by ~1e-3
        lossy = copy.deepcopy(estimator)
        with torch.no_grad():
            for parameter in lossy.model_.parameters():
                parameter.copy_(parameter.half().float())
        save(lossy, path)

    monkeypatch.setattr(device_check, "save", lossy_save)
    with pytest.raises(SystemExit, match="2 of 5 checks failed"):
        device_check.main(["--device", "cpu", "--quick"])
    checks = tiny_run["device_check_cpu_quick"]["checks"]
    failed = {c["check"]: c["error"] for c in checks if not c["passed"]}
    assert set(failed) == {"round trip", "load on CPU"}
    assert "codes after save/load differ" in failed["round trip"]
    assert "VAEEncoder-mlp-standard.pt on the CPU" in failed["load on CPU"]


def test_wheels_used_when_skorch_is_missing(tmp_path, monkeypatch):
    names = ["skorch-1.9.0-py3-none-any.whl", "skorch-1.10.0-py3-none-any.whl",
             "tabulate-0.10.0-py3-none-any.whl"]
    for name in names:
        (tmp_path / name).touch()
    monkeypatch.setitem(sys.modules, "skorch", None)  # import skorch fails
    monkeypatch.setattr(sys, "path", list(sys.path))
    used = device_check.add_wheels(tmp_path)
    assert [wheel.name for wheel in used] == names[1:]
    assert sys.path[:2] == [str(wheel) for wheel in used]


def test_missing_wheels_say_what_to_download(tmp_path, monkeypatch):
    (tmp_path / "skorch-1.4.0-py3-none-any.whl").touch()  # tabulate's is missing
    monkeypatch.setitem(sys.modules, "skorch", None)
    with pytest.raises(SystemExit, match=re.escape(device_check.DOWNLOAD_WHEELS)):
        device_check.add_wheels(tmp_path)


def test_installed_skorch_needs_no_wheels(tmp_path):
    assert device_check.add_wheels(tmp_path) == []
