"""Save and load fitted estimators without pickle.

A file holds the estimator's parameters and fitted attributes as JSON text
and its tensors (the model's weights, Adam's state, the random generator's
state) in PyTorch's archive format. :func:`load` reads it with
``torch.load(weights_only=True)``, which accepts only tensors and plain
containers, so a file cannot run code when it is loaded; it then checks every
part before it builds the estimator. A file is written whole or not at all
(see :func:`_write_atomically`). A checkpoint of
:func:`mim_sklearn.out_of_core.partial_fit_epochs` is such a file with one
more entry, ``"checkpoint"``: where the run had got to.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
import zipfile

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import BaseLatentEncoder
from ._device import resolve_device
from ._engine import DeviceWarning
from ._estimators import ESTIMATORS
from ._setup import ModelSetup
from ._version import __version__

__all__ = ["check_savable", "load", "load_checkpoint", "save", "save_checkpoint"]

_FORMAT = "mim_sklearn.estimator"
_FORMAT_VERSION = 1
_KEYS = {
    "format", "format_version", "package_version", "estimator", "params",
    "attributes", "mean", "scale", "model", "optimizer", "generator",
}
_ATTRIBUTES = {
    "n_features_in_", "feature_names_in_", "n_categories_", "seed", "net_seed",
    "history", "stopper",
}
# Added after the first files were written: files without them load with the
# values those files' models had (see ModelSetup.from_file).
_LATER_ATTRIBUTES = {"table", "missing_indicators", "batch_size"}
# The entry a checkpoint adds (see save_checkpoint); load ignores it.
_CHECKPOINT = "checkpoint"
# Read once: os.umask can only be read by setting it, which races with other
# threads creating files; a saved file gets the mode open() would give it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def save(estimator: BaseLatentEncoder, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path``, in a format that stores no code.

    Parameters
    ----------
    estimator : MIMEncoder, AMIMEncoder, VAEEncoder or MAEEncoder
        A fitted estimator whose parameters are plain values (an int or None
        as ``random_state``, not a ``RandomState``; no ``callbacks``).
    path : str or os.PathLike
        The file to write.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import MIMEncoder, load, save
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = MIMEncoder(n_components=2, max_iter=2, random_state=0).fit(X[:100])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save(encoder, Path(tmp) / "encoder.pt")
    ...     restored = load(Path(tmp) / "encoder.pt")
    >>> bool(np.array_equal(restored.transform(X[:5]), encoder.transform(X[:5])))
    True
    """
    _write_atomically(_payload(estimator), path)


def check_savable(estimator: BaseLatentEncoder) -> str:
    """Raise unless :func:`save` can store the estimator's kind and parameters;
    return the parameters as JSON. The estimator need not be fitted."""
    if type(estimator) not in ESTIMATORS:
        raise TypeError(
            "save writes the estimators of mim_sklearn, not "
            f"{type(estimator).__name__}."
        )
    if estimator.callbacks:  # objects with code and state of their own
        raise ValueError(
            "save stores no code, so it cannot store the callbacks parameter: "
            "use pickle or joblib to keep them, or set callbacks=None before "
            "saving."
        )
    try:
        return json.dumps(estimator.get_params(), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "save stores parameters as JSON: give plain values (random_state "
            "an int or None; architecture, likelihood and prior names) before "
            "saving, or use pickle. "
            f"{error}"
        ) from error


def _payload(estimator: BaseLatentEncoder) -> dict:
    """What :func:`save` writes of a fitted estimator."""
    params = check_savable(estimator)
    check_is_fitted(estimator)
    setup_plain, setup_tensors = estimator.setup_.to_file()
    engine_plain, engine_tensors = estimator.net_.export_state()
    attributes = {
        "n_features_in_": estimator.n_features_in_,
        "feature_names_in_": (
            estimator.feature_names_in_.tolist()
            if hasattr(estimator, "feature_names_in_")
            else None
        ),
        **setup_plain,
        **engine_plain,
    }
    return {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(estimator).__name__,
        "params": params,
        # The history may hold inf (a loss before the first comparison);
        # Python's json writes and reads it.
        "attributes": json.dumps(attributes),
        **setup_tensors,
        **engine_tensors,
    }


def _write_atomically(payload: dict, path: str | os.PathLike) -> None:
    """``torch.save`` the payload to a temporary file beside ``path``, then
    rename it to ``path``.

    A reader sees the old file or the whole new one, never a part: the data
    reaches the disk (fsync) before ``os.replace`` swaps the names, which is
    atomic within a directory. On any failure (a full disk, Ctrl-C) the
    temporary file is removed and a file already at ``path`` stays as it was.
    """
    path = os.fspath(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=os.path.dirname(os.path.abspath(path)),
        prefix=f".{os.path.basename(path)}.", suffix=".tmp",
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp's file is private (0600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def save_checkpoint(
    estimator: BaseLatentEncoder, path: str | os.PathLike, progress: dict
) -> None:
    """:func:`save` the estimator with ``progress``, a JSON-able dict of where
    its training run has got to; :func:`load_checkpoint` reads both."""
    _write_atomically({**_payload(estimator), _CHECKPOINT: json.dumps(progress)},
                      path)


def load_checkpoint(path: str | os.PathLike) -> tuple[BaseLatentEncoder, dict]:
    """The estimator and the progress in a file of :func:`save_checkpoint`."""
    payload = _read_payload(path)
    try:
        progress = json.loads(payload.get(_CHECKPOINT))
    except (TypeError, json.JSONDecodeError):
        progress = None
    if not isinstance(progress, dict):
        raise ValueError(
            f"{os.fspath(path)!r} is not a checkpoint: it has no valid record of "
            "a training run's progress (a file of mim_sklearn.save is not one)."
        )
    return _build_estimator(payload), progress


def load(path: str | os.PathLike) -> BaseLatentEncoder:
    """Read an estimator written by :func:`save`.

    The file is read with ``torch.load(weights_only=True)``, which never
    unpickles arbitrary objects, and then checked: its format, the package
    version that wrote it, the parameters, and the name, shape and finiteness
    of every tensor. The estimator is placed on its ``device`` parameter's
    device, or on the CPU (with a warning) when that device is missing.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    MIMEncoder, AMIMEncoder, VAEEncoder or MAEEncoder
        The fitted estimator, ready to transform, score, sample or go on
        training (``partial_fit`` and ``warm_start`` continue where it was
        saved).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not one written by :func:`save`, is corrupted, or was
        written by a newer version of mim_sklearn.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from mim_sklearn import load
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "bad.pt").write_bytes(b"not a model")
    ...     load(Path(tmp) / "bad.pt")
    Traceback (most recent call last):
    ...
    ValueError: ... is not a file written by mim_sklearn.save, or it is corrupted ...
    """
    return _build_estimator(_read_payload(path))


def _read_payload(path: str | os.PathLike) -> dict:
    """The checked contents of a file of :func:`save`."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError,
            zipfile.BadZipFile, ValueError, KeyError, AttributeError) as error:
        raise ValueError(
            f"{os.fspath(path)!r} is not a file written by mim_sklearn.save, or "
            f"it is corrupted ({type(error).__name__}: {error})."
        ) from error
    return _checked_payload(payload, path)


def _checked_payload(payload, path) -> dict:
    def fail(what: str):
        raise ValueError(
            f"{os.fspath(path)!r} is not a file written by mim_sklearn.save, or "
            f"it is corrupted: {what}."
        )

    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        fail("it does not declare the mim_sklearn format")
    if not _KEYS <= set(payload) <= _KEYS | {_CHECKPOINT}:
        fail(f"its entries are {sorted(payload)}, expected {sorted(_KEYS)}")
    if payload["format_version"] != _FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r} uses format version {payload['format_version']} "
            f"(written by mim_sklearn {payload['package_version']}); this "
            f"mim_sklearn {__version__} reads version {_FORMAT_VERSION}. Load it "
            "with the version that wrote it."
        )
    if not isinstance(payload["package_version"], str):
        fail("it names no package version")
    if _version_tuple(payload["package_version"]) > _version_tuple(__version__):
        raise ValueError(
            f"{os.fspath(path)!r} was written by mim_sklearn "
            f"{payload['package_version']}, newer than this {__version__}; upgrade "
            "mim_sklearn to load it."
        )
    classes = {cls.__name__: cls for cls in ESTIMATORS}
    if payload["estimator"] not in classes:
        fail(f"unknown estimator {payload['estimator']!r}")
    try:
        params = json.loads(payload["params"])
        attributes = json.loads(payload["attributes"])
    except (TypeError, json.JSONDecodeError) as error:
        fail(f"its parameters are not valid JSON ({error})")
    if not isinstance(params, dict) or not isinstance(attributes, dict):
        fail("its parameters are not JSON objects")
    if not _ATTRIBUTES <= set(attributes) <= _ATTRIBUTES | _LATER_ATTRIBUTES:
        fail(f"its attributes are {sorted(attributes)}")
    model = payload["model"]
    if not isinstance(model, dict) or not isinstance(payload["optimizer"], dict):
        fail("its weights are not a state dict")
    tensors = [payload["mean"], payload["scale"], payload["generator"], *model.values()]
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        fail("its weights are not tensors")
    if not all(torch.isfinite(t).all() for t in tensors if t.is_floating_point()):
        fail("its weights are not all finite")
    return {**payload, "params": params, "attributes": attributes,
            "class": classes[payload["estimator"]], "path": path}


def _build_estimator(payload: dict) -> BaseLatentEncoder:
    path, attributes = payload["path"], payload["attributes"]
    params = dict(payload["params"])
    for name in ("hidden_layer_sizes", "image_shape"):  # JSON made them lists
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    try:
        estimator = payload["class"]().set_params(**params)
        estimator._validate_params()
        n_features = int(attributes["n_features_in_"])
        estimator.n_features_in_ = n_features
        if attributes["feature_names_in_"] is not None:
            estimator.feature_names_in_ = np.asarray(
                attributes["feature_names_in_"], dtype=object
            )
        params = estimator.get_params(deep=False)
        setup = ModelSetup.from_file(attributes, payload, params, n_features)
        net = setup.build_net(
            params, estimator.objective(), _available_device(estimator.device),
            type(estimator).__name__,
        )
        net.import_state(
            attributes,
            {name: payload[name] for name in ("model", "optimizer", "generator")},
        )
        estimator.set_fitted(setup, net)
    except (TypeError, ValueError, KeyError, RuntimeError, AttributeError) as error:
        raise ValueError(
            f"{os.fspath(path)!r} is not a file written by mim_sklearn.save, or "
            f"it is corrupted: {error}"
        ) from error
    return estimator


def _available_device(device: str) -> str:
    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(
            f"The estimator asks for device={device!r}, which is not available "
            "here: loading it on the CPU.",
            DeviceWarning,
        )
        return "cpu"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())
