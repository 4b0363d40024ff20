"""Where the estimators compute: resolving a device, putting arrays on it."""

from __future__ import annotations

import warnings

import numpy as np
import torch


def available_devices() -> list[str]:
    """The torch devices this machine can compute on.

    Examples
    --------
    >>> available_devices()[0]
    'cpu'
    """
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps:0")
    return devices


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``.

    ``"auto"`` never picks Apple's MPS, which the project cannot test;
    ``"mps"`` is accepted when asked for by name and PyTorch offers it. Any
    other device is checked: a ValueError names the available devices when
    it is malformed or not present on this machine. The estimators resolve
    their ``device`` parameter with it at fit.

    Parameters
    ----------
    device : str
        ``"auto"``, or a torch device such as ``"cpu"``, ``"cuda"``,
        ``"cuda:1"`` or ``"mps"``.

    Returns
    -------
    str
        The torch device training would use on this machine.

    Raises
    ------
    ValueError
        If ``device`` is not a torch device, or not present here.

    Examples
    --------
    >>> from mim_sklearn import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', "
            "'cuda', 'cuda:<index>' or 'mps'."
        ) from error
    available = available_devices()
    present = resolved.type == "cpu" or str(resolved) in available or (
        resolved.index is None and f"{resolved.type}:0" in available
    )
    if not present:
        raise ValueError(
            f"device={device!r} is not available on this machine (available: "
            f"{', '.join(available)}); use device='auto' to train on a GPU when "
            "there is one and on the CPU otherwise."
        )
    return str(resolved)


def as_device_tensor(
    array: np.ndarray, dtype: torch.dtype, device: str
) -> torch.Tensor:
    """``torch.as_tensor`` that shares a read-only array's memory without a warning.

    The estimators only read their input, so a read-only array (a memmap, a
    broadcast view) can be shared instead of copied.

    Examples
    --------
    >>> array = np.zeros(3)
    >>> array.flags.writeable = False
    >>> as_device_tensor(array, torch.float64, "cpu")
    tensor([0., 0., 0.], dtype=torch.float64)
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The given NumPy array is not writable"
        )
        return torch.as_tensor(array, dtype=dtype, device=device)
