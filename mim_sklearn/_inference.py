"""Chunked inference: a trained model applied to many rows in bounded memory."""

from __future__ import annotations

import copy
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
    outputs = []
    with torch.inference_mode():
        for start in range(0, array.shape[0], chunk_rows):
            chunk = as_device_tensor(array[start : start + chunk_rows], dtype, device)
            outputs.append(fn(model, chunk).cpu().numpy())
    return np.concatenate(outputs)
