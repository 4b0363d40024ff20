"""The setup step of ``fit`` and ``partial_fit``: what a training run gets.

:func:`prepare_fit` and :func:`prepare_partial_fit` validate the training
data, learn the :class:`~._setup.ModelSetup` and build the net on a first
fit (or check the data against them when training goes on), and return the
rows to train on as one :class:`~._engine.TrainingSplit`: the training rows with their
weights and the held-out rows with theirs, from X or from ``X_val``. The
estimator hands the split whole to the engine
(:meth:`~._engine.LatentNet.train_on_split`), which makes every 0/1 draw of
dynamic binarization.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ._device import resolve_device
from ._engine import LatentNet, TrainingSplit
from ._setup import ModelSetup, check_likelihood_data, draw_seed, fit_setup, start_prior
from ._tabular import TableSchema
from ._validation import validated_rows
from .objectives import Objective

__all__ = [
    "TrainingRun", "checked_weights", "prepare_fit", "prepare_partial_fit",
    "unit_mean",
]


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingRun:
    """What the setup step gives a training run: the estimator's setup and
    net (new, or those it has) and the split of the rows."""

    setup: ModelSetup
    net: LatentNet
    split: TrainingSplit


def checked_weights(
    sample_weight, X: np.ndarray, name: str = "sample_weight", rows: str = "X"
) -> np.ndarray | None:
    """One finite, non-negative weight per row of X, not all zero (float64).

    scikit-learn's check, with a message that says what the weights must be;
    None stays None.

    Examples
    --------
    >>> checked_weights([1, 2], np.zeros((2, 1))).tolist()
    [1.0, 2.0]
    """
    if sample_weight is None:
        return None
    try:
        weights = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if not weights.any():  # older scikit-learn lets all zeros through
            raise ValueError("All the weights are zero.")
    except ValueError as error:
        raise ValueError(
            f"{name} must give each of the {X.shape[0]} rows of {rows} a finite, "
            f"non-negative weight, and some row a positive one. {error}"
        ) from error
    return weights


def unit_mean(weights: np.ndarray | None, *parts: np.ndarray) -> np.ndarray | None:
    """Scale a copy of ``weights`` to mean 1 over each part of the rows.

    All rows are one part when no part is given. Scaling every weight by a
    constant then changes nothing, and unit weights train exactly as no
    weights; None stays None.

    Examples
    --------
    >>> unit_mean(np.array([1.0, 3.0])).tolist()
    [0.5, 1.5]
    """
    if weights is None:
        return None
    scaled = weights.copy()
    for rows in parts or (slice(None),):
        scaled[rows] /= scaled[rows].mean()
    return scaled


def prepare_fit(
    estimator,
    objective: Objective,
    X,
    rng: np.random.RandomState,
    *,
    sample_weight=None,
    X_val=None,
    sample_weight_val=None,
) -> TrainingRun:
    """The setup step of ``fit``: validated data, the setup, the net, the split.

    A first fit (or one without ``warm_start``) learns a new setup from X
    and builds a new net; a warm start checks X against the estimator's
    ``setup_`` and ``net_`` and keeps them. The held-out rows are the user's
    ``X_val``, or, with early stopping, a random ``validation_fraction`` of
    X's rows. Weights are scaled to mean 1 over the training rows and,
    apart, over the held-out rows.
    """
    params = estimator.get_params(deep=False)
    continuing = params["warm_start"] and hasattr(estimator, "net_")
    table = estimator.setup_.table if continuing else None
    X, table = validated_rows(estimator, X, table, reset=not continuing,
                              ensure_min_samples=1 if continuing else 2)
    weights = checked_weights(sample_weight, X)
    if continuing:
        setup, net = estimator.setup_, estimator.net_
        check_likelihood_data(net.module_.likelihood, X)
    else:
        setup, net = _start(estimator, params, objective, X, rng, table, weights)
    valid_weights = None
    if X_val is not None:
        X_val, _ = validated_rows(estimator, X_val, setup.table, reset=False)
        check_likelihood_data(net.module_.likelihood, X_val)
        valid_weights = unit_mean(
            checked_weights(sample_weight_val, X_val, "sample_weight_val", "X_val")
        )
    split = _split(X, weights, X_val, valid_weights, rng, params)
    return TrainingRun(setup, net, split)


def prepare_partial_fit(
    estimator,
    objective: Objective,
    X,
    rng: np.random.RandomState,
    *,
    sample_weight=None,
    chunks: Iterable | None = None,
) -> TrainingRun:
    """The setup step of ``partial_fit``: one batch's rows, weights as given.

    The first call (the estimator has no ``net_``) learns the setup from X.
    With ``chunks`` (the rest of the training data, X being its first
    chunk) a new setup is learnt from all of it, read once: the scaling and
    the categories of all the data.
    """
    params = estimator.get_params(deep=False)
    first = chunks is not None or not hasattr(estimator, "net_")
    table = None if first else estimator.setup_.table
    X, table = validated_rows(estimator, X, table, reset=first,
                              ensure_min_samples=2 if first else 1)
    weights = checked_weights(sample_weight, X)
    if first:
        if chunks is not None:
            rest = (validated_rows(estimator, chunk, table, reset=False)[0]
                    for chunk in chunks)
            chunks = itertools.chain([X], rest)
        setup, net = _start(estimator, params, objective, X, rng, table, weights,
                            chunks)
    else:
        setup, net = estimator.setup_, estimator.net_
        check_likelihood_data(net.module_.likelihood, X)
    return TrainingRun(setup, net, TrainingSplit(X, weights=weights))


def _start(
    estimator,
    params: dict,
    objective: Objective,
    X: np.ndarray,
    rng: np.random.RandomState,
    table: TableSchema | None,
    weights: np.ndarray | None,
    chunks: Iterable[np.ndarray] | None = None,
) -> tuple[ModelSetup, LatentNet]:
    """A new setup from the data, and its net with the prior started."""
    device = resolve_device(params["device"])
    setup = fit_setup(
        params, X, rng, table=table, chunks=chunks, weights=weights,
        feature_names=getattr(estimator, "feature_names_in_", None),
    )
    net = setup.build_net(params, objective, device, type(estimator).__name__)
    start_prior(net.module_, X, rng, device)
    return setup, net


def _split(
    X: np.ndarray,
    weights: np.ndarray | None,
    X_val: np.ndarray | None,
    valid_weights: np.ndarray | None,
    rng: np.random.RandomState,
    params: dict,
) -> TrainingSplit:
    """The training and held-out rows of a fit (see :func:`prepare_fit`)."""
    train_rows = valid_rows = None
    if X_val is None and params["early_stopping"]:
        fraction = params["validation_fraction"]
        order = rng.permutation(X.shape[0])
        n_valid = max(1, round(fraction * X.shape[0]))
        if n_valid >= X.shape[0]:
            raise ValueError(
                f"validation_fraction={fraction} leaves no training rows out of "
                f"{X.shape[0]}; lower it or set early_stopping=False."
            )
        train_rows, valid_rows = order[n_valid:], order[:n_valid]
        if weights is not None and not (
            weights[train_rows].any() and weights[valid_rows].any()
        ):
            raise ValueError(
                "sample_weight is zero on all the training rows or on all the "
                f"{n_valid} held-out rows of the random split "
                f"(validation_fraction={fraction}): give more rows a positive "
                "weight, change random_state, or pass your own X_val."
            )
    # Mean 1 over the training rows and, apart, over the held-out rows.
    parts = () if train_rows is None else (train_rows, valid_rows)
    weights = unit_mean(weights, *parts)
    if valid_rows is not None:
        X_val, valid_weights = X, weights
    binarization_seed = None
    if params["dynamic_binarization"] and X_val is not None:
        binarization_seed = draw_seed(rng)
    return TrainingSplit(X, train_rows, weights, X_val, valid_rows, valid_weights,
                         binarization_seed)
