"""Chunked inference: a trained model applied to many rows in bounded memory."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np
import torch

from ._device import as_device_tensor
from .nn.model import LatentVariableModel

# Rows x importance draws evaluated at once by score_samples. It bounds memory
# (a few MB for MNIST-sized models). Larger chunks were measured slower on the
# CPU, their activations no longer fit in cache (benchmarks/speed.py): with
# K = 1000 a chunk is one row, and batching rows pays only for small K.
SCORE_CHUNK_ELEMENTS = 2**10
# Rows per forward pass in transform-like methods.
TRANSFORM_CHUNK_ROWS = 2**16
# What a chunk too large for the device's (or the host's) memory raises.
OUT_OF_MEMORY = (torch.cuda.OutOfMemoryError, MemoryError)


def map_rows(
    model: LatentVariableModel,
    array: np.ndarray,
    fn: Callable[[LatentVariableModel, torch.Tensor], torch.Tensor],
    device: str,
    chunk_rows: int = TRANSFORM_CHUNK_ROWS,
) -> np.ndarray:
    """Apply ``fn(model, rows)`` to chunks of ``array``; gather the results.

    Chunking bounds memory whatever the number of rows. The model is
    trained in float32; float64 input is computed with a float64 copy of
    it, so that a row's output does not depend on the other rows passed
    with it (float32 matrix products round differently with the batch
    size) and float64 is computed as well as stored.

    A chunk that runs out of memory (``torch.cuda.OutOfMemoryError`` or
    ``MemoryError``) is computed again in halves, and the rest of the call
    in chunks of that size, halving again as needed down to single rows,
    whose failure is raised; one ``UserWarning`` per call says so. The
    results are those of the whole chunks but for rounding (matrix products
    round with the batch size: by about 1e-16 relative in float64), except
    for draws from a generator that ``fn`` shares across chunks
    (``sample_posterior``'s), which then differ, as with another chunk size.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> map_rows(model, np.zeros((5, 3)), lambda m, x: m.encode(x)[0], "cpu",
    ...          chunk_rows=2).shape
    (5, 2)
    """
    dtype = torch.float64 if array.dtype == np.float64 else torch.float32
    if dtype != torch.float32:
        model = copy.deepcopy(model).to(dtype)
    if model.training:  # eval() walks every submodule: 0.5 ms a call
        model.eval()
    outputs: list[np.ndarray] = []
    start, retried = 0, False
    with torch.inference_mode():
        while start < array.shape[0]:
            rows = array[start : start + chunk_rows]
            try:
                outputs.append(
                    fn(model, as_device_tensor(rows, dtype, device)).cpu().numpy()
                )
                start += rows.shape[0]
                continue
            except OUT_OF_MEMORY:
                if rows.shape[0] == 1:
                    raise
            # Halved outside the except block, whose traceback would keep the
            # failed chunk's tensors alive; the rest of the call keeps the
            # smaller size rather than fail again on every chunk.
            chunk_rows = (rows.shape[0] + 1) // 2
            if not retried:
                retried = True
                warnings.warn(
                    f"A chunk of {rows.shape[0]} rows ran out of memory on "
                    f"{device}; retrying with smaller chunks, which is slower. "
                    "Free memory, or pass fewer rows at a time.",
                    UserWarning,
                )
    return np.concatenate(outputs)
