"""Input validation and data preparation: what X must be, and its scaling.

Every array becomes :data:`INPUT_FORMAT` where it enters; the checks here
turn unsuitable data into a ``ValueError`` that says what to do, and
:func:`summarize` reads the training data once for what fitting needs of it
(the scaling's moments, the category counts, the missing values), and
:func:`fit_scaling` computes the map to the networks' working units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, validate_data

from ._tabular import TableSchema, is_dataframe

# What every array becomes where it enters. C order: the same values in
# another layout (a Fortran-ordered DataFrame, a strided slice) take another
# path through the matrix products and round differently in the last bit, and
# a row's code must depend on its values alone.
INPUT_FORMAT = {"dtype": [np.float64, np.float32], "order": "C"}
# Data (not latent codes) may have missing entries, marked NaN.
DATA_FORMAT = {**INPUT_FORMAT, "ensure_all_finite": "allow-nan"}
# Values per chunk when accumulating the scaling moments (in float64): 8 MB.
_MOMENT_CHUNK_ELEMENTS = 2**20


@dataclass
class DataSummary:
    """What fitting needs to know of all the training data, read in one pass.

    Attributes
    ----------
    moments : StandardScaler
        Each feature's mean and variance over its observed values.
    n_observed : ndarray of shape (n_features,)
        Observed (not missing) values of each feature.
    n_codes : ndarray of shape (n_features,)
        One more than each feature's largest value (meaningful for features
        of category codes: their number of categories).
    n_rows : int
        Rows read.
    """

    moments: StandardScaler
    n_observed: np.ndarray
    n_codes: np.ndarray
    n_rows: int

    @property
    def has_missing(self) -> bool:
        """Whether any value was missing (NaN)."""
        return bool((self.n_observed < self.moments.n_samples_seen_.max()).any())


def summarize(
    chunks: Iterable[np.ndarray],
    check: Callable[[np.ndarray], None],
    weights: np.ndarray | None = None,
) -> DataSummary:
    """Read the training data, given in row chunks, once: check and summarise.

    Each chunk goes to ``check`` (which raises on unsuitable data) and into
    the summary, so one pass serves data too large for memory as well as
    one array. Missing values (NaN) are passed over. ``weights``, one per
    row of the single chunk, weigh the rows in the moments (so that a row of
    weight 0 does not move the scaling).

    Examples
    --------
    >>> summary = summarize([np.array([[0.0, 1.0], [2.0, np.nan]])], lambda X: None)
    >>> summary.n_observed.tolist(), summary.n_codes.tolist(), summary.has_missing
    ([2, 1], [3.0, 2.0], True)
    """
    if weights is not None and (weights == weights[0]).all():
        weights = None  # equal weights are no weights, to the last bit
    # Accumulate in row slices: no temporary of a chunk's size (think of MNIST).
    moments = StandardScaler()
    n_observed = n_codes = n_rows = 0
    for X in chunks:
        check(X)
        n_rows += X.shape[0]
        slice_rows = max(1, _MOMENT_CHUNK_ELEMENTS // X.shape[1])
        for start in range(0, X.shape[0], slice_rows):
            rows = X[start : start + slice_rows]
            row_weights = None if weights is None else (
                weights[start : start + slice_rows]
            )
            with np.errstate(invalid="ignore", divide="ignore"):  # all-NaN columns
                moments.partial_fit(rows, sample_weight=row_weights)
            n_observed = n_observed + (~np.isnan(rows)).sum(axis=0)
            n_codes = np.maximum(n_codes, np.nanmax(rows, axis=0, initial=-1) + 1)
    return DataSummary(moments, n_observed, n_codes, n_rows)


def fit_scaling(
    moments: StandardScaler, scaling: str, scaled: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Offset and scale that bring data to working units, from its moments.

    ``"global"`` centres each feature and divides all of them by one common
    scale (the root mean square of the centred data), which keeps the
    features' relative variances: right for pixels and other features that
    share a unit, where a faint pixel should not weigh as much as a busy one.
    ``"feature"`` standardises each feature on its own, for features in
    unrelated units. A constant feature (or constant data) gets scale 1, and
    so does variation below float32's smallest normal number (about 1e-38),
    which the float32 networks cannot resolve. Only the features marked in
    ``scaled`` (all by default) are scaled; the others keep offset 0 and
    scale 1.

    Examples
    --------
    >>> moments = StandardScaler().fit(np.array([[0.0, 0.0], [2.0, 4.0]]))
    >>> mean, scale = fit_scaling(moments, "global")
    >>> mean.tolist(), scale.tolist()
    ([1.0, 2.0], [1.5811388300841898, 1.5811388300841898])
    >>> fit_scaling(moments, "feature", scaled=np.array([False, True]))[1].tolist()
    [1.0, 2.0]
    """
    if scaled is None:
        scaled = np.ones(moments.n_features_in_, dtype=bool)
    # StandardScaler judges constancy relative to a feature's mean, so data in
    # tiny units still counts as varying; it leaves such features unscaled.
    constant = moments.scale_ != np.sqrt(moments.var_)
    scale = np.ones(moments.n_features_in_)
    if scaling == "feature":
        scale[scaled] = moments.scale_[scaled]
    elif scaled.any() and not constant[scaled].all():
        scale[scaled] = np.sqrt(moments.var_[scaled].mean())
    scale[scale < np.finfo(np.float32).tiny] = 1.0
    return np.where(scaled, moments.mean_, 0.0), scale


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
    # No temporary the size of X, unlike abs; NaN marks a missing value.
    largest = max(np.nanmax(X, initial=0.0), -np.nanmin(X, initial=0.0))
    if largest > np.finfo(np.float32).max:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}, beyond float32's "
            "range (3.4e+38) in which the networks train; rescale X, for "
            "instance to standard units."
        )


def validated_rows(
    estimator, X, table: TableSchema | None, *, reset: bool,
    ensure_min_samples: int = 1,
) -> tuple[np.ndarray, TableSchema | None]:
    """X as the float array the model reads (NaN where values are missing).

    scikit-learn's ``validate_data`` on the estimator: with ``reset`` it sets
    ``n_features_in_`` (and ``feature_names_in_``), else it checks them. A
    DataFrame given with ``reset`` sets the table's columns (their kinds,
    dtypes and categories; see :mod:`._tabular`), which later DataFrames
    must have; other input is validated as an array of numbers.

    Returns
    -------
    X : ndarray
        The validated rows.
    table : TableSchema or None
        The new table with ``reset`` (None for an array), else ``table``.

    Examples
    --------
    >>> from mim_sklearn import MIMEncoder
    >>> X, table = validated_rows(MIMEncoder(), [[1, 2]], None, reset=True)
    >>> X.dtype, table is None
    (dtype('float64'), True)
    """
    if reset:
        table = None
    if is_dataframe(X) and (reset or table is not None):
        # Names and number of columns, as scikit-learn checks them.
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        if reset:
            table = TableSchema.from_frame(X)
        X = check_array(
            table.to_array(X), **DATA_FORMAT, ensure_min_samples=ensure_min_samples
        )
    else:
        X = validate_data(
            estimator, X, **DATA_FORMAT, ensure_min_samples=ensure_min_samples,
            reset=reset,
        )
    check_float32_range(X)
    return X, table
