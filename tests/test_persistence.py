"""mim_sklearn.save / load: round trips, and files that must be refused."""

import errno
import io
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.exceptions import DeviceWarning

from mim_sklearn import MIMEncoder, __version__, load, save

from .conftest import SMALL


@pytest.fixture
def saved(small_estimator, digits, tmp_path):
    X, _ = digits
    est = small_estimator.fit(X)
    path = tmp_path / "encoder.pt"
    save(est, path)
    return est, path


def rewrite(path, edit):
    """Load a saved file's payload, let ``edit`` change it, save it back."""
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)


def test_round_trip_is_bitwise_and_keeps_the_fitted_state(saved, digits):
    X, _ = digits
    est, path = saved
    restored = load(path)
    assert type(restored) is type(est)
    assert restored.get_params() == est.get_params()
    for name in ("n_features_in_", "n_iter_", "loss_curve_", "best_loss_",
                 "validation_loss_curve_", "device_"):
        assert getattr(restored, name) == getattr(est, name)
    np.testing.assert_array_equal(restored.mean_, est.mean_)
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    np.testing.assert_array_equal(restored.score_samples(X[:10]),
                                  est.score_samples(X[:10]))
    np.testing.assert_array_equal(restored.sample(4), est.sample(4))


def test_training_continues_exactly_as_it_would_have(saved, digits):
    X, _ = digits
    est, path = saved
    restored = load(path)
    est.partial_fit(X)
    restored.partial_fit(X)
    assert restored.n_iter_ == est.n_iter_
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_failed_save_leaves_the_old_file_whole(digits, tmp_path, monkeypatch,
                                                  failure):
    X, _ = digits
    est, other = (MIMEncoder(**{**SMALL, "random_state": seed}).fit(X)
                  for seed in (0, 1))
    path = tmp_path / "encoder.pt"
    save(est, path)
    before = path.read_bytes()
    real_save = torch.save

    def write_half_then_fail(obj, file):
        buffer = io.BytesIO()
        real_save(obj, buffer)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise failure

    monkeypatch.setattr(torch, "save", write_half_then_fail)
    with pytest.raises(type(failure)):
        save(other, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no temporary file left
    np.testing.assert_array_equal(load(path).transform(X), est.transform(X))


def test_a_save_replaces_the_file_with_the_mode_open_gives(digits, tmp_path):
    X, _ = digits
    est, other = (MIMEncoder(**{**SMALL, "random_state": seed}).fit(X)
                  for seed in (0, 1))
    path = tmp_path / "encoder.pt"
    save(est, path)
    save(other, path)
    np.testing.assert_array_equal(load(path).transform(X), other.transform(X))
    assert os.listdir(path.parent) == [path.name]
    fresh = path.parent / "fresh"
    fresh.touch()  # as open() creates a file under this process's umask
    assert path.stat().st_mode == fresh.stat().st_mode


def test_feature_names_survive(digits, tmp_path):
    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(64)])
    est = MIMEncoder(**SMALL).fit(frame)
    save(est, tmp_path / "m.pt")
    assert load(tmp_path / "m.pt").feature_names_in_.tolist() == frame.columns.tolist()


def test_save_needs_a_fitted_estimator_with_plain_parameters(digits, tmp_path):
    X, _ = digits
    with pytest.raises(NotFittedError):
        save(MIMEncoder(), tmp_path / "m.pt")
    est = MIMEncoder(**{**SMALL, "random_state": np.random.RandomState(0)}).fit(X)
    with pytest.raises(ValueError, match="random_state an int or None"):
        save(est, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="not dict"):
        save({}, tmp_path / "m.pt")


# torch warns that it reads the raw pickle's protocol; refusing it is the point.
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_file_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"format": "mim_sklearn.estimator", "payload": Exploit()}, path)
    with pytest.raises(ValueError, match="not a file written by mim_sklearn.save"):
        load(path)
    assert not marker.exists()
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump(Exploit(), f)
    with pytest.raises(ValueError, match="not a file written by mim_sklearn.save"):
        load(tmp_path / "evil.pkl")
    assert not marker.exists()


def test_corrupted_and_missing_files_get_clear_errors(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted"):
        load(truncated)
    with pytest.raises(FileNotFoundError, match="No such file"):
        load(tmp_path / "absent.pt")


def _set(key, value):
    return lambda payload: payload.__setitem__(key, value)


def _first_weight(transform):
    def edit(payload):
        name = next(iter(payload["model"]))
        payload["model"][name] = transform(payload["model"][name])
    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set("format", "something else"), "does not declare the mim_sklearn format"),
        (lambda p: p.pop("optimizer"), "its entries are"),
        (_set("extra", 1), "its entries are"),
        (_set("format_version", 2), "uses format version 2"),
        (_set("package_version", "99.0.0"), "newer than this " + __version__),
        (_set("estimator", "os.system"), "unknown estimator 'os.system'"),
        (_set("params", "{not json"), "not valid JSON"),
        (_set("params", '{"n_components": 0}'), "'n_components' parameter"),
        (_set("params", '{"no_such_parameter": 1}'), "no_such_parameter"),
        (_first_weight(lambda w: w[:1]), "size mismatch"),
        (_first_weight(lambda w: w * float("nan")), "not all finite"),
        (_set("mean", torch.zeros(3, dtype=torch.float64)), "scaling does not match"),
        (_set("model", [1, 2]), "not a state dict"),
    ],
    ids=["format", "missing", "extra", "format-version", "newer", "estimator",
         "bad-json", "bad-param", "unknown-param", "shape", "nan", "scaling",
         "model-type"],
)
def test_a_file_with_a_bad_structure_is_refused(saved, edit, message):
    _, path = saved
    rewrite(path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_a_gpu_file_loads_on_the_cpu(digits, tmp_path, monkeypatch):
    X, _ = digits
    est = MIMEncoder(**{**SMALL, "device": "cuda"})
    # Fitting needs a GPU; build the fitted state on the CPU and save it as
    # asking for CUDA, as a file from a GPU machine does.
    est.set_params(device="cpu").fit(X)
    est.set_params(device="cuda")
    save(est, tmp_path / "gpu.pt")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="loading it on the CPU"):
        restored = load(tmp_path / "gpu.pt")
    assert restored.device_ == "cpu" and restored.device == "cuda"
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
