"""Input validation and data preparation: what X must be, and its scaling.

Every array becomes :data:`INPUT_FORMAT` where it enters; the checks here
turn unsuitable data into a ``ValueError`` that says what to do, and
:func:`fit_scaling` computes the map to the networks' working units.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.preprocessing import StandardScaler

# What every array becomes where it enters. C order: the same values in
# another layout (a Fortran-ordered DataFrame, a strided slice) take another
# path through the matrix products and round differently in the last bit, and
# a row's code must depend on its values alone.
INPUT_FORMAT = {"dtype": [np.float64, np.float32], "order": "C"}
# Values per chunk when accumulating the scaling moments (in float64): 8 MB.
_MOMENT_CHUNK_ELEMENTS = 2**20


def fit_scaling(
    chunks: Iterable[np.ndarray], scaling: str
) -> tuple[np.ndarray, np.ndarray]:
    """Offset and scale that bring data, given in row chunks, to working units.

    The moments are accumulated over the chunks (one array, or the chunks of
    data too large for memory), so the result is that of the whole data.

    ``"global"`` centres each feature and divides all of them by one common
    scale (the root mean square of the centred data), which keeps the
    features' relative variances: right for pixels and other features that
    share a unit, where a faint pixel should not weigh as much as a busy one.
    ``"feature"`` standardises each feature on its own, for features in
    unrelated units. A constant feature (or constant data) gets scale 1, and
    so does variation below float32's smallest normal number (about 1e-38),
    which the float32 networks cannot resolve.

    Examples
    --------
    >>> mean, scale = fit_scaling([np.array([[0.0, 0.0], [2.0, 4.0]])], "global")
    >>> mean.tolist(), scale.tolist()
    ([1.0, 2.0], [1.5811388300841898, 1.5811388300841898])
    >>> halves = [np.array([[0.0, 0.0]]), np.array([[2.0, 4.0]])]
    >>> np.allclose(fit_scaling(halves, "global"), (mean, scale))
    True
    """
    # Accumulate in row slices: no temporary of a chunk's size (think of MNIST).
    moments = StandardScaler()
    for X in chunks:
        slice_rows = max(1, _MOMENT_CHUNK_ELEMENTS // X.shape[1])
        for start in range(0, X.shape[0], slice_rows):
            moments.partial_fit(X[start : start + slice_rows])
    # StandardScaler judges constancy relative to a feature's mean, so data in
    # tiny units still counts as varying; it leaves such features unscaled.
    constant = moments.scale_ != np.sqrt(moments.var_)
    if scaling == "feature":
        scale = moments.scale_.copy()
    elif constant.all():
        scale = np.ones(moments.n_features_in_)
    else:
        scale = np.full(moments.n_features_in_, np.sqrt(moments.var_.mean()))
    scale[scale < np.finfo(np.float32).tiny] = 1.0
    return moments.mean_, scale


def check_float32_range(X: np.ndarray) -> None:
    """Raise a ValueError when X holds values float32 cannot represent.

    The networks train in float32: a larger value would become infinite.

    Examples
    --------
    >>> check_float32_range(np.array([[1e300]]))
    Traceback (most recent call last):
    ...
    ValueError: X has values of magnitude up to 1e+300, beyond float32's range ...
    """
    if X.dtype == np.float32 or X.size == 0:
        return
    largest = max(X.max(), -X.min())  # no temporary the size of X, unlike abs
    if largest > np.finfo(np.float32).max:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}, beyond float32's "
            "range (3.4e+38) in which the networks train; rescale X, for "
            "instance to standard units."
        )
