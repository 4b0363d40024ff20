"""What ``fit`` learns before training, in one frozen value.

:func:`fit_setup` reads the training data once (an array, a DataFrame's
array, or out-of-core chunks) and returns a :class:`ModelSetup`: the table's
columns, each column's likelihood, the categories, the scaling, whether
values are missing, the batch size, the activation and the seeds. The setup
builds the model and its training net (:meth:`ModelSetup.build_net`) and
writes itself to a file and back (:meth:`ModelSetup.to_file` /
:meth:`ModelSetup.from_file`), so that an estimator is its parameters, its
setup and its net, and loading one replays no step of ``fit``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._device import as_device_tensor
from ._engine import LatentNet, build_net, resolve_batch_size
from ._tabular import DEFAULT_LIKELIHOODS, TableSchema
from ._validation import fit_scaling, summarize
from .nn import (
    LIKELIHOODS,
    LatentVariableModel,
    Likelihood,
    Prior,
    make_likelihood,
    make_prior,
)
from .objectives import Objective

__all__ = [
    "ModelSetup", "check_likelihood_data", "draw_seed", "fit_setup",
    "resolved_activation",
]

_MAX_SEED = 2**31 - 1
# warmup_epochs="auto": 5 with a fixed prior (the MIM paper's reference code
# ramps over 3 to 10 epochs on toy data); 20 with a learned one (issue 30: on
# binarized MNIST A-MIM + VampPrior's 5-NN accuracy on draws rose from 0.76 at
# 5 epochs to 0.88 at 20), at most half of max_iter.
WARMUP_EPOCHS_FIXED_PRIOR = 5
WARMUP_EPOCHS_LEARNED_PRIOR = 20
# activation="auto": ReLU with one latent level (issue 31's ablation: tanh left
# binary MNIST's codes 0.17 behind in 5-NN and stalled the VampPrior), tanh with
# two. With ReLU, MIM's two-level codes decayed after the warm-up (convHVAE on
# binarized MNIST, 5-NN on draws 0.85 at epoch 9, 0.55 at 15); with tanh they
# held (0.95 with the standard prior, 0.93 with the VampPrior). The reference's
# two-level networks use bounded gated units, not ReLU.
ONE_LEVEL_ACTIVATION = "relu"
TWO_LEVEL_ACTIVATION = "tanh"


def draw_seed(random_state) -> int:
    """One seed for torch, drawn from a scikit-learn ``random_state``.

    Examples
    --------
    >>> draw_seed(0) == draw_seed(0)
    True
    """
    return int(check_random_state(random_state).randint(_MAX_SEED))


def resolved_activation(params: Mapping[str, Any]) -> str:
    """The ``activation`` parameter, with "auto" chosen by the latent levels.

    Examples
    --------
    >>> resolved_activation({"activation": "auto", "latent_levels": 2})
    'tanh'
    """
    if params["activation"] != "auto":
        return params["activation"]
    two_levels = params["latent_levels"] == 2
    return TWO_LEVEL_ACTIVATION if two_levels else ONE_LEVEL_ACTIVATION


def check_likelihood_data(likelihood: Likelihood, X: np.ndarray) -> None:
    """Raise a ValueError when ``likelihood`` cannot take X: missing values it
    does not support, or values it does not model.

    Examples
    --------
    >>> from mim_sklearn.nn import BernoulliLikelihood
    >>> check_likelihood_data(BernoulliLikelihood(), np.array([[2.0]]))
    Traceback (most recent call last):
    ...
    ValueError: likelihood='bernoulli' needs X in [0, 1]: ...
    """
    if not likelihood.supports_missing and np.isnan(X).any():
        raise ValueError(
            f"X has missing values (NaN), which {type(likelihood).__name__} "
            "does not model; impute them first, or use a likelihood with "
            "supports_missing = True (every built-in one)."
        )
    likelihood.check_data(X)


def feature_labels(features: Iterable[int], names: np.ndarray | None) -> str:
    """The features' names (repr), or their indices without names."""
    return ", ".join(
        repr(names[j]) if names is not None else str(j) for j in features
    )


@dataclasses.dataclass(frozen=True, eq=False)
class ModelSetup:
    """Everything ``fit`` learns of the data before it trains; see :func:`fit_setup`.

    Attributes
    ----------
    n_features : int
        Features of X.
    table : TableSchema or None
        The columns of the DataFrame ``fit`` was given; None for an array.
    column_likelihoods : tuple of str or None
        The likelihood name of each feature; None when the ``likelihood``
        parameter is a :class:`~mim_sklearn.nn.Likelihood` instance.
    n_categories : ndarray of shape (n_features,) or None
        Categories of each feature (0 where a feature holds no category
        codes); None without categorical features.
    mean, scale : ndarray of shape (n_features,)
        The map from X's units to the networks': ``(X - mean) / scale``.
    missing_indicators : bool
        Whether the encoder reads which entries are missing (the training
        data had missing values).
    batch_size : int
        Rows per training step.
    activation : str
        The networks' activation ("auto" resolved).
    seed : int
        Seed of the model's initial weights and of sampling calls without a
        ``random_state``.
    net_seed : int
        Seed of the batch order and the training noise.

    Examples
    --------
    >>> from mim_sklearn import MIMEncoder
    >>> encoder = MIMEncoder(n_components=2, max_iter=1, random_state=0)
    >>> encoder.fit(np.random.RandomState(0).rand(20, 3)).setup_.batch_size
    16
    """

    n_features: int
    table: TableSchema | None
    column_likelihoods: tuple[str, ...] | None
    n_categories: np.ndarray | None
    mean: np.ndarray
    scale: np.ndarray
    missing_indicators: bool
    batch_size: int
    activation: str
    seed: int
    net_seed: int

    def likelihood(self, params: Mapping[str, Any]) -> Likelihood:
        """A fresh, unbuilt likelihood for the estimator's ``params``.

        A copy of a likelihood instance (fitting never changes the
        parameter), or one made from the column names; with the categories
        counted at fit.
        """
        return _likelihood(
            params, self.column_likelihoods, _scaling(params, self.table),
            self.n_categories,
        )

    def build_net(
        self,
        params: Mapping[str, Any],
        objective: Objective,
        device: str,
        estimator_name: str = "The estimator",
    ) -> LatentNet:
        """The untrained model, in its training net on ``device``.

        Parameters
        ----------
        params : dict
            The estimator's parameters (``get_params(deep=False)``).
        objective : Objective
            What the estimator trains (it decides the posterior's shape).
        device : str
            A resolved torch device.
        estimator_name : str, default="The estimator"
            The estimator's class name, for messages.

        Returns
        -------
        LatentNet
            The initialised net; its ``module_`` is the model.
        """
        hidden = np.asarray(params["hidden_layer_sizes"])
        if hidden.ndim != 1 or not all(
            isinstance(size, Integral) and size > 0 for size in hidden.tolist()
        ):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers such "
                f"as (128, 128), got {params['hidden_layer_sizes']!r}."
            )
        likelihood = self.likelihood(params)
        _check_likelihood_choice(likelihood, params, objective, estimator_name)
        image_shape = params["image_shape"]
        model = LatentVariableModel(
            n_features=self.n_features,
            n_components=params["n_components"] * params["latent_levels"],
            hidden_layer_sizes=tuple(hidden.tolist()),
            activation=self.activation,
            likelihood=likelihood,
            prior=_prior(params),
            architecture=params["architecture"],
            image_shape=None if image_shape is None else tuple(image_shape),
            auxiliary_posterior=objective.auxiliary_posterior,
            missing_indicators=self.missing_indicators,
            latent_levels=params["latent_levels"],
            seed=self.seed,
        )
        model.set_input_scaling(self.mean, self.scale)
        return build_net(
            model,
            seed=self.net_seed,
            device=device,
            learning_rate=params["learning_rate_init"],
            batch_size=self.batch_size,
            max_grad_norm=params["max_grad_norm"],
            warmup_epochs=_resolved_warmup_epochs(params, model.prior),
            early_stopping=params["early_stopping"],
            patience=params["n_iter_no_change"],
            tol=params["tol"],
            verbose=params["verbose"],
            callbacks=params["callbacks"],
            dynamic_binarization=params["dynamic_binarization"],
        )

    def fitted_attributes(self) -> dict[str, Any]:
        """The estimator's fitted attributes that the setup holds."""
        attributes = {
            "mean_": self.mean, "scale_": self.scale,
            "batch_size_": self.batch_size, "activation_": self.activation,
        }
        if self.n_categories is not None:
            attributes["n_categories_"] = self.n_categories
        return attributes

    def to_file(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """The setup as JSON-able values and tensors, in the file format of
        :mod:`mim_sklearn._persistence` (see :meth:`from_file`)."""
        plain = {
            "n_categories_": (
                None if self.n_categories is None else self.n_categories.tolist()
            ),
            "seed": self.seed,
            "net_seed": self.net_seed,
            "table": None if self.table is None else self.table.to_json(),
            "missing_indicators": self.missing_indicators,
            "batch_size": self.batch_size,
        }
        tensors = {
            "mean": torch.from_numpy(np.asarray(self.mean, dtype=np.float64)),
            "scale": torch.from_numpy(np.asarray(self.scale, dtype=np.float64)),
        }
        return plain, tensors

    @classmethod
    def from_file(
        cls,
        plain: Mapping[str, Any],
        tensors: Mapping[str, torch.Tensor],
        params: Mapping[str, Any],
        n_features: int,
    ) -> ModelSetup:
        """The setup of :meth:`to_file`'s values, for an estimator's ``params``.

        Files written before an entry existed lack it: ``table`` (no table),
        ``missing_indicators`` (none) and ``batch_size`` (the parameter, a
        number then). The activation is not stored: it follows from the
        parameters, as it did when the file was written.
        """
        mean, scale = tensors["mean"].numpy(), tensors["scale"].numpy()
        if mean.shape != (n_features,) or scale.shape != (n_features,):
            raise ValueError("the scaling does not match n_features_in_")
        table = plain.get("table")
        table = None if table is None else TableSchema.from_json(table)
        counts = plain["n_categories_"]
        return cls(
            n_features=n_features,
            table=table,
            column_likelihoods=_column_likelihoods(params, table, n_features, None),
            n_categories=None if counts is None else np.asarray(counts, np.int64),
            mean=mean,
            scale=scale,
            missing_indicators=bool(plain.get("missing_indicators", False)),
            batch_size=int(plain.get("batch_size") or params["batch_size"]),
            activation=resolved_activation(params),
            seed=int(plain["seed"]),
            net_seed=int(plain["net_seed"]),
        )


def fit_setup(
    params: Mapping[str, Any],
    X: np.ndarray,
    rng: np.random.RandomState,
    *,
    table: TableSchema | None,
    feature_names: np.ndarray | None = None,
    chunks: Iterable[np.ndarray] | None = None,
    weights: np.ndarray | None = None,
) -> ModelSetup:
    """Learn the :class:`ModelSetup` of an estimator's ``params`` from data.

    The scaling, the categories and whether values are missing come from X,
    or from ``chunks`` when given: all of the training data, of which X is a
    part, read once. The scaling's moments weigh X's rows by ``weights``,
    when given (not with ``chunks``). ``rng`` draws the two seeds.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)``).
    X : ndarray of shape (n_samples, n_features)
        Validated training data (NaN where missing).
    rng : RandomState
        The fit's random state.
    table : TableSchema or None
        The columns of a DataFrame X came from.
    feature_names : ndarray or None
        The features' names, for messages.
    chunks : iterable of ndarray, optional
        All the training data in row chunks, X among them.
    weights : ndarray of shape (n_samples,), optional
        Row weights of X.

    Returns
    -------
    ModelSetup

    Examples
    --------
    >>> from mim_sklearn import MIMEncoder
    >>> params, rng = MIMEncoder().get_params(), np.random.RandomState(0)
    >>> setup = fit_setup(params, np.eye(3), rng, table=None)
    >>> setup.mean.round(2).tolist(), setup.activation
    ([0.33, 0.33, 0.33], 'relu')
    """
    n_features = X.shape[1]
    names = _column_likelihoods(params, table, n_features, feature_names)
    scaling = _scaling(params, table)
    likelihood = _likelihood(params, names, scaling, None)
    summary = summarize(
        [X] if chunks is None else chunks,
        lambda rows: check_likelihood_data(likelihood, rows),
        weights,
    )
    never_observed = np.flatnonzero(summary.n_observed == 0)
    if never_observed.size:
        raise ValueError(
            f"Feature(s) {feature_labels(never_observed, feature_names)} have no "
            "observed value in the training data (all missing); drop them."
        )
    n_categories = None
    coded = likelihood.category_features(n_features)
    if coded.any():
        counts = summary.n_codes.copy()
        counts[~coded] = 0
        if table is not None:  # a category unseen in X still counts
            counts = np.maximum(counts, table.n_categories)
        known = likelihood.known_categories()
        n_categories = (counts if known is None else known).astype(np.int64)
    mean, scale = fit_scaling(
        summary.moments, scaling, likelihood.scaled_features(n_features)
    )
    return ModelSetup(
        n_features=n_features,
        table=table,
        column_likelihoods=names,
        n_categories=n_categories,
        mean=mean,
        scale=scale,
        missing_indicators=summary.has_missing,
        batch_size=resolve_batch_size(params["batch_size"], summary.n_rows),
        activation=resolved_activation(params),
        seed=draw_seed(rng),
        net_seed=draw_seed(rng),
    )


def start_prior(
    model: LatentVariableModel, X: np.ndarray, rng: np.random.RandomState, device: str
) -> None:
    """Give the prior the distinct random rows of X it starts from, if any
    (the VampPrior's pseudo-inputs)."""
    n_rows = model.prior.n_start_rows
    if n_rows == 0:
        return
    if n_rows > X.shape[0]:
        raise ValueError(
            f"The prior starts its {n_rows} pseudo-inputs (n_prior_components) "
            f"at distinct training rows, but X has {X.shape[0]}; lower "
            "n_prior_components."
        )
    rows = rng.choice(X.shape[0], n_rows, replace=False)
    with torch.no_grad():
        x = as_device_tensor(X[np.sort(rows)], torch.float32, device)
        model.initialize_prior(model.to_working_units(x))


def _scaling(params: Mapping[str, Any], table: TableSchema | None) -> str:
    """The ``scaling`` in force: "auto" resolved by the kind of X."""
    if params["scaling"] != "auto":
        return params["scaling"]
    # A table's columns are separate variables.
    return "global" if table is None else "feature"


def _column_likelihoods(
    params: Mapping[str, Any],
    table: TableSchema | None,
    n_features: int,
    feature_names: np.ndarray | None,
) -> tuple[str, ...] | None:
    """The likelihood name of each feature; None for a likelihood instance.

    ``"auto"`` goes by the table's column kinds (numbers "gaussian",
    booleans "bernoulli", categories "categorical"; an array is numbers);
    a dict names the likelihood of some columns, the others going by kind.
    """
    choice = params["likelihood"]
    if isinstance(choice, Likelihood):
        return None
    kinds = table.kinds if table is not None else ["numeric"] * n_features
    if isinstance(choice, str) and choice != "auto":
        chosen = [choice] * n_features
    else:
        chosen = [DEFAULT_LIKELIHOODS[kind] for kind in kinds]
    if isinstance(choice, dict):
        names = [] if table is None else [column.name for column in table.columns]
        for column, name in choice.items():
            if column not in names:
                raise ValueError(
                    f"likelihood names column {column!r}, which X does not have "
                    "(a dict of likelihoods needs a DataFrame; its columns are "
                    f"{names})."
                )
            if name not in LIKELIHOODS:
                raise ValueError(
                    f"likelihood[{column!r}] must be one of {sorted(LIKELIHOODS)}, "
                    f"got {name!r}."
                )
            chosen[names.index(column)] = name
    for j, (kind, name) in enumerate(zip(kinds, chosen)):
        if kind == "categorical" and name != "categorical":
            raise ValueError(
                f"Feature {feature_labels([j], feature_names)} holds categories, "
                f"which likelihood {name!r} cannot model; use 'categorical' (the "
                "default, likelihood='auto', does)."
            )
    return tuple(chosen)


def _likelihood(
    params: Mapping[str, Any],
    column_likelihoods: tuple[str, ...] | None,
    scaling: str,
    n_categories: np.ndarray | None,
) -> Likelihood:
    """A fresh, unbuilt likelihood (see :meth:`ModelSetup.likelihood`)."""
    if column_likelihoods is None:
        likelihood = copy.deepcopy(params["likelihood"])
    else:
        variance = params["decoder_variance"]
        if variance == "auto":  # see the parameter's description
            variance = "isotropic" if scaling == "global" else "shared"
        likelihood = make_likelihood(column_likelihoods, {
            "gaussian": {"variance": variance},
            "pixelcnn": {"image_shape": params["image_shape"]},
        })
    if n_categories is not None:
        likelihood.set_categories(n_categories)
    return likelihood


def _prior(params: Mapping[str, Any]) -> Prior:
    """A fresh, unbuilt prior (a copy of an instance)."""
    if isinstance(params["prior"], Prior):
        return copy.deepcopy(params["prior"])
    return make_prior(params["prior"], params["n_prior_components"])


def _resolved_warmup_epochs(params: Mapping[str, Any], prior: Prior) -> int:
    """``warmup_epochs``, with "auto" chosen by whether the prior learns."""
    if params["warmup_epochs"] != "auto":
        return params["warmup_epochs"]
    if not any(parameter.requires_grad for parameter in prior.parameters()):
        return WARMUP_EPOCHS_FIXED_PRIOR
    return min(WARMUP_EPOCHS_LEARNED_PRIOR, params["max_iter"] // 2)


def _check_likelihood_choice(
    likelihood: Likelihood,
    params: Mapping[str, Any],
    objective: Objective,
    estimator_name: str,
) -> None:
    """Raise a ValueError when the likelihood cannot be trained as asked."""
    if params["dynamic_binarization"] and not all(
        part.binary for part, _ in likelihood.groups()
    ):
        raise ValueError(
            "dynamic_binarization=True draws 0/1 rows from X's grey levels, "
            f"which needs a binary likelihood such as 'bernoulli'; got "
            f"{type(likelihood).__name__}. Set likelihood='bernoulli' or "
            "dynamic_binarization=False."
        )
    if objective.samples_decoder and likelihood.sequential_sampling:
        raise ValueError(
            f"{estimator_name} draws from the decoder in every training "
            f"step, which {type(likelihood).__name__} does one pixel at a time "
            "(a network pass per pixel): use AMIMEncoder, the asymmetric MIM "
            "that the MIM paper trains this decoder with, or VAEEncoder."
        )
