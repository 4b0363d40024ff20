"""The estimator base: parameters and the scikit-learn API every estimator shares.

:class:`BaseLatentEncoder` holds the parameters and the public methods (fit,
partial_fit, transform, inverse_transform, sampling and scoring); a subclass
declares only its :class:`~mim_sklearn.objectives.Objective`. The rest lives
where its job is: input checks and scaling in :mod:`._validation`, devices in
:mod:`._device`, the model in :mod:`mim_sklearn.nn`, the losses in
:mod:`mim_sklearn.objectives`, training (the skorch seam) in :mod:`._engine`
and chunked inference in :mod:`._inference`.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._device import as_device_tensor, resolve_device
from ._engine import binarized, build_net, resolve_batch_size
from ._inference import SCORE_CHUNK_ELEMENTS, TRANSFORM_CHUNK_ROWS, map_rows
from ._tabular import DEFAULT_LIKELIHOODS, TableSchema, is_dataframe
from ._validation import (
    DATA_FORMAT,
    INPUT_FORMAT,
    check_float32_range,
    fit_scaling,
    summarize,
)
from .exceptions import PosteriorCollapseWarning, TrainingDivergedError
from .nn import ACTIVATIONS, LIKELIHOODS, PRIORS, LatentVariableModel
from .nn.architectures import ARCHITECTURES
from .nn.likelihoods import (
    VARIANCES,
    CategoricalLikelihood,
    Likelihood,
    MixedLikelihood,
)
from .nn.priors import Prior
from .objectives import Objective

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
# Training rows whose codes fit checks for a collapse: enough for a stable
# spread per dimension, one quick forward pass.
COLLAPSE_CHECK_ROWS = 2_000
# The codes have collapsed when, in every dimension, the posterior means vary
# across rows by less than this share of the posterior's noise. The collapsed
# VampPrior fits of issue 30 had about 0.4 (means' s.d. 0.02 against the
# variance floor's 0.05); a digits fit stopped after 8 epochs, 0.9.
COLLAPSE_SIGNAL_TO_NOISE = 0.5


def _seed(random_state) -> int:
    return int(check_random_state(random_state).randint(_MAX_SEED))


def _groups(likelihood: Likelihood) -> list[tuple[Likelihood, list[int] | slice]]:
    """Each likelihood of a model's features and its columns: a
    MixedLikelihood's groups, or the one likelihood of every column."""
    if isinstance(likelihood, MixedLikelihood):
        return list(zip(likelihood.likelihoods, likelihood.parts_columns))
    return [(likelihood, slice(None))]


def _checked_weights(
    sample_weight, X: np.ndarray, name: str = "sample_weight", rows: str = "X"
) -> np.ndarray | None:
    """One finite, non-negative weight per row of X, not all zero (float64).

    scikit-learn's check, with a message that says what the weights must be;
    None stays None.
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


def _unit_mean(weights: np.ndarray | None, *parts: np.ndarray) -> np.ndarray | None:
    """Scale a copy of ``weights`` to mean 1 over each part of the rows.

    All rows are one part when no part is given. Scaling every weight by a
    constant then changes nothing, and unit weights train exactly as no
    weights; None stays None.
    """
    if weights is None:
        return None
    scaled = weights.copy()
    for rows in parts or (slice(None),):
        scaled[rows] /= scaled[rows].mean()
    return scaled


def _binarized_once(X: np.ndarray, seed: int) -> np.ndarray:
    """One seeded 0/1 draw of X in [0, 1] (see ``dynamic_binarization``)."""
    generator = torch.Generator().manual_seed(seed)
    return binarized(torch.from_numpy(X), generator).numpy()


class BaseLatentEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of the latent-variable encoders; see :class:`MIMEncoder`.

    Subclasses implement :meth:`_objective`. Not meant to be used directly.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions({"auto", *ACTIVATIONS})],
        "architecture": [StrOptions(set(ARCHITECTURES)), callable],
        "image_shape": ["array-like", None],
        "latent_levels": [Interval(Integral, 1, 2, closed="both")],
        "likelihood": [StrOptions({"auto", *LIKELIHOODS}), Likelihood, dict],
        "decoder_variance": [StrOptions({"auto", *VARIANCES})],
        "dynamic_binarization": ["boolean"],
        "prior": [StrOptions(set(PRIORS)), Prior],
        "n_prior_components": [Interval(Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"auto", "global", "feature"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "warmup_epochs": [
            Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(128, 128),
        activation="auto",
        architecture="mlp",
        image_shape=None,
        latent_levels=1,
        likelihood="auto",
        decoder_variance="auto",
        dynamic_binarization=False,
        prior="standard",
        n_prior_components=100,
        scaling="auto",
        max_iter=200,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_grad_norm=None,
        warmup_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_importance_samples=1000,
        device="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.image_shape = image_shape
        self.latent_levels = latent_levels
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
        self.dynamic_binarization = dynamic_binarization
        self.prior = prior
        self.n_prior_components = n_prior_components
        self.scaling = scaling
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_grad_norm = max_grad_norm
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.n_importance_samples = n_importance_samples
        self.device = device
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _objective(self) -> Objective:
        """What this estimator trains, from its current parameters."""
        raise NotImplementedError

    # ----------------------------------------------------------------- fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, X_val=None, sample_weight_val=None):
        """Train the model on X, with early stopping on held-out rows.

        The held-out rows are a random ``validation_fraction`` of X's rows, or
        your own ``X_val``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in its own units: it is scaled internally.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row's loss: finite, non-negative and not all zero.
            The weights are scaled to mean 1 over the training rows, so that
            scaling them all by a constant changes nothing and unit weights
            train as no weights; the held-out rows of the random split keep
            theirs (scaled to mean 1 over them) in the validation loss. None
            weighs every row 1.
        X_val : array-like of shape (n_val_samples, n_features), default=None
            Your own validation set for early stopping, such as the latest
            rows of time-ordered data: early stopping monitors the loss on
            ``X_val``, all of X is used for training and
            ``validation_fraction`` is ignored. Needs ``early_stopping=True``.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weight of each row of ``X_val`` in the validation loss (scaled to
            mean 1, checked as ``sample_weight``); needs ``X_val``.

        Returns
        -------
        object
            The fitted estimator itself.
        """
        if X_val is None and sample_weight_val is not None:
            raise ValueError(
                "sample_weight_val weighs the rows of X_val: pass X_val with it, "
                "or leave it out."
            )
        if X_val is not None and not self.early_stopping:
            raise ValueError(
                "X_val is the early-stopping set, but early_stopping=False: set "
                "early_stopping=True to stop on the loss on X_val, or leave "
                "X_val out."
            )
        continuing = self.warm_start and hasattr(self, "net_")
        X = self._validated_training_rows(X, reset=not continuing)
        weights = _checked_weights(sample_weight, X)
        rng = check_random_state(self.random_state)
        if continuing:
            self._check_likelihood_data(X)
        else:
            self._initialize(X, rng, weights=weights)
        train_rows = valid_rows = valid_weights = None
        if X_val is not None:
            X_val = self._validated_training_rows(X_val, reset=False)
            self._check_likelihood_data(X_val)
            valid_weights = _unit_mean(
                _checked_weights(sample_weight_val, X_val, "sample_weight_val", "X_val")
            )
        elif self.early_stopping:
            order = rng.permutation(X.shape[0])
            n_valid = max(1, round(self.validation_fraction * X.shape[0]))
            if n_valid >= X.shape[0]:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves no "
                    f"training rows out of {X.shape[0]}; lower it or set "
                    "early_stopping=False."
                )
            train_rows, valid_rows = order[n_valid:], order[:n_valid]
            if weights is not None and not (
                weights[train_rows].any() and weights[valid_rows].any()
            ):
                raise ValueError(
                    "sample_weight is zero on all the training rows or on all "
                    f"the {n_valid} held-out rows of the random split "
                    f"(validation_fraction={self.validation_fraction}): give more "
                    "rows a positive weight, change random_state, or pass your "
                    "own X_val."
                )
        # Mean 1 over the training rows and, apart, over the held-out rows.
        parts = () if train_rows is None else (train_rows, valid_rows)
        weights = _unit_mean(weights, *parts)
        if self.dynamic_binarization and (X_val is not None or valid_rows is not None):
            # The held-out rows are drawn once: early stopping compares
            # epochs on the same 0/1 data.
            if X_val is None:
                X_val = X[valid_rows]
                valid_weights = None if weights is None else weights[valid_rows]
                valid_rows = None
            X_val = _binarized_once(X_val, _seed(rng))
        self._train(
            X,
            self.max_iter,
            train_rows,
            valid_rows,
            weights=weights,
            X_valid=X_val,
            valid_weights=valid_weights,
            stop_early=True,
        )
        self._warn_if_collapsed(X[:COLLAPSE_CHECK_ROWS])
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one pass over X, keeping the optimizer state.

        The first call initialises the model (and the scaling, from this
        batch); later calls continue from where the last one stopped. There is
        no early stopping. For epochs over data in chunks, with the scaling
        taken from all of them, see
        :func:`mim_sklearn.out_of_core.partial_fit_epochs`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training data.
        y : None
            Ignored; present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row's loss, used as given: finite, non-negative and
            not all zero. Unlike ``fit``, which scales the weights to mean 1
            over all of its training rows, a call sees one batch of the data
            and no global set to normalise over, so give the batches weights
            on one common scale. None weighs every row 1.

        Returns
        -------
        object
            The updated estimator itself.
        """
        first_call = not hasattr(self, "net_")
        X = self._validated_training_rows(X, reset=first_call)
        weights = _checked_weights(sample_weight, X)
        if first_call:
            self._initialize(X, check_random_state(self.random_state), weights=weights)
        else:
            self._check_likelihood_data(X)
        self._train(X, 1, weights=weights, stop_early=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def _initialize_from_chunks(self, chunks: Iterable) -> None:
        """Prepare ``partial_fit`` from one pass over all the training data.

        ``chunks`` yields the training data in row chunks. The scaling (or,
        for categorical data, the categories), which ``partial_fit``'s first
        call would take from its batch alone, comes from every chunk; the
        VampPrior's pseudo-inputs start at rows of the first chunk. Nothing
        is trained: every later ``partial_fit`` call continues from here.
        """
        chunks = iter(chunks)
        first = self._validated_training_rows(next(chunks), reset=True)
        rest = (self._validated_training_rows(chunk, reset=False) for chunk in chunks)
        self._initialize(
            first, check_random_state(self.random_state), itertools.chain([first], rest)
        )

    def _validated_training_rows(self, X, reset: bool) -> np.ndarray:
        """Validate training data; with ``reset`` it sets the features.

        Used for ``fit``'s X, each ``partial_fit`` batch and the rows of a
        user's validation set (``reset=False``).
        """
        return self._validated_rows(
            X, reset=reset, ensure_min_samples=2 if reset else 1
        )

    def _validated_rows(self, X, *, reset: bool, ensure_min_samples: int = 1):
        """X as the float array the model reads (NaN where values are missing).

        A DataFrame given to ``fit`` sets the table's columns (their kinds,
        dtypes and categories; see :mod:`._tabular`), which later DataFrames
        must have; other input is validated as an array of numbers.
        """
        if reset:
            self._table = None
        if is_dataframe(X) and (reset or getattr(self, "_table", None) is not None):
            # Names and number of columns, as scikit-learn checks them.
            validate_data(self, X, skip_check_array=True, reset=reset)
            if reset:
                self._table = TableSchema.from_frame(X)
            X = check_array(
                self._table.to_array(X), **DATA_FORMAT,
                ensure_min_samples=ensure_min_samples,
            )
        else:
            X = validate_data(
                self, X, **DATA_FORMAT, ensure_min_samples=ensure_min_samples,
                reset=reset,
            )
        check_float32_range(X)
        return X

    def _initialize(
        self,
        X: np.ndarray,
        rng: np.random.RandomState,
        chunks: Iterable[np.ndarray] | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        """Build the scaling, the model and the training engine.

        The scaling, the categories and the columns with missing values
        come from X, or from ``chunks`` when given: all of the training
        data, of which X is a part, read once. The scaling's moments weigh
        X's rows by ``weights``, when given (not with ``chunks``).
        """
        self.device_ = resolve_device(self.device)
        self._column_likelihoods = self._choose_column_likelihoods(X.shape[1])
        self.__dict__.pop("n_categories_", None)  # an earlier categorical fit's
        likelihood = self._new_likelihood()
        summary = summarize(
            [X] if chunks is None else chunks,
            lambda rows: self._check_likelihood_data(rows, likelihood),
            weights,
        )
        never_observed = np.flatnonzero(summary.n_observed == 0)
        if never_observed.size:
            raise ValueError(
                f"Feature(s) {self._feature_labels(never_observed)} have no "
                "observed value in the training data (all missing); drop them."
            )
        coded = self._coded_features(likelihood, X.shape[1])
        if coded.any():
            counts = summary.n_codes.copy()
            counts[~coded] = 0
            if self._table is not None:  # a category unseen in X still counts
                counts = np.maximum(counts, self._table.n_categories)
            if isinstance(likelihood, CategoricalLikelihood) and (
                likelihood.categories is not None
            ):
                counts = np.asarray(likelihood.categories)
            self.n_categories_ = counts.astype(np.int64)
        self.mean_, self.scale_ = fit_scaling(
            summary.moments, self._scaling(), likelihood.scaled_features(X.shape[1])
        )
        self._missing_indicators = summary.has_missing
        self.batch_size_ = resolve_batch_size(self.batch_size, summary.n_rows)
        self._seed = _seed(rng)
        self._build(X.shape[1], net_seed=_seed(rng))
        self._start_prior(X, rng)

    def _scaling(self) -> str:
        """The ``scaling`` in force: "auto" resolved by the kind of X."""
        if self.scaling != "auto":
            return self.scaling
        # A table's columns are separate variables.
        return "global" if self._table is None else "feature"

    def _feature_labels(self, features: np.ndarray) -> str:
        names = getattr(self, "feature_names_in_", None)
        return ", ".join(
            repr(names[j]) if names is not None else str(j) for j in features
        )

    def _choose_column_likelihoods(self, n_features: int) -> list[str] | None:
        """The likelihood name of each feature; None for a likelihood instance.

        ``"auto"`` goes by the table's column kinds (numbers "gaussian",
        booleans "bernoulli", categories "categorical"; an array is numbers);
        a dict names the likelihood of some columns, the others going by
        kind.
        """
        if isinstance(self.likelihood, Likelihood):
            return None
        kinds = self._table.kinds if self._table is not None else (
            ["numeric"] * n_features
        )
        if isinstance(self.likelihood, str) and self.likelihood != "auto":
            chosen = [self.likelihood] * n_features
        else:
            chosen = [DEFAULT_LIKELIHOODS[kind] for kind in kinds]
        if isinstance(self.likelihood, dict):
            names = [] if self._table is None else [c.name for c in self._table.columns]
            for column, name in self.likelihood.items():
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
                    f"Feature {self._feature_labels([j])} holds categories, which "
                    f"likelihood {name!r} cannot model; use 'categorical' (the "
                    "default, likelihood='auto', does)."
                )
        return chosen

    @staticmethod
    def _coded_features(likelihood: Likelihood, n_features: int) -> np.ndarray:
        """Which features hold category codes (for the categorical likelihood)."""
        coded = np.zeros(n_features, dtype=bool)
        for part, columns in _groups(likelihood):
            coded[columns] = isinstance(part, CategoricalLikelihood)
        return coded

    def _new_likelihood(self) -> Likelihood:
        """A fresh, unbuilt likelihood from the parameters (a copy of an
        instance, so that fitting never changes the parameter), with the
        fitted categories once they are known."""
        if isinstance(self.likelihood, Likelihood):
            likelihood = copy.deepcopy(self.likelihood)
        else:
            names = self._column_likelihoods
            groups = list(dict.fromkeys(names))  # in order of first appearance
            if len(groups) == 1:
                likelihood = self._named_likelihood(groups[0])
            else:
                likelihood = MixedLikelihood([
                    (self._named_likelihood(group),
                     [j for j, name in enumerate(names) if name == group])
                    for group in groups
                ])
        if hasattr(self, "n_categories_"):
            for part, columns in _groups(likelihood):
                if isinstance(part, CategoricalLikelihood):
                    part.categories = self.n_categories_[columns].tolist()
        return likelihood

    def _named_likelihood(self, name: str) -> Likelihood:
        if name == "gaussian":
            variance = self.decoder_variance
            if variance == "auto":  # see the parameter's description
                variance = "isotropic" if self._scaling() == "global" else "shared"
            return LIKELIHOODS["gaussian"](variance=variance)
        if name == "pixelcnn":
            return LIKELIHOODS["pixelcnn"](image_shape=self.image_shape)
        return LIKELIHOODS[name]()

    def _new_prior(self) -> Prior:
        """A fresh, unbuilt prior from the parameters (see :meth:`_new_likelihood`)."""
        if isinstance(self.prior, Prior):
            return copy.deepcopy(self.prior)
        if self.prior == "standard":
            return PRIORS["standard"]()
        return PRIORS[self.prior](n_prior_components=self.n_prior_components)

    def _start_prior(self, X: np.ndarray, rng: np.random.RandomState) -> None:
        """Give the prior the distinct random rows of X it starts from, if any
        (the VampPrior's pseudo-inputs)."""
        model = self.model_
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
            x = as_device_tensor(X[np.sort(rows)], torch.float32, self.device_)
            model.initialize_prior(model.to_working_units(x))

    def _build(self, n_features: int, net_seed: int) -> None:
        """Build the model and the training engine on ``device_``.

        Uses the fitted ``mean_``, ``scale_``, ``batch_size_`` and ``_seed``;
        ``net_seed`` seeds
        the batch order and the training noise.
        """
        hidden = np.asarray(self.hidden_layer_sizes)
        if hidden.ndim != 1 or not all(
            isinstance(size, Integral) and size > 0 for size in hidden.tolist()
        ):
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive integers such "
                f"as (128, 128), got {self.hidden_layer_sizes!r}."
            )
        likelihood = self._new_likelihood()
        self._check_likelihood_choice(likelihood)
        self.activation_ = self._resolved_activation()
        model = LatentVariableModel(
            n_features=n_features,
            n_components=self._n_features_out,
            hidden_layer_sizes=tuple(hidden.tolist()),
            activation=self.activation_,
            likelihood=likelihood,
            prior=self._new_prior(),
            architecture=self.architecture,
            image_shape=None if self.image_shape is None else tuple(self.image_shape),
            auxiliary_posterior=self._objective().auxiliary_posterior,
            missing_indicators=self._missing_indicators,
            latent_levels=self.latent_levels,
            seed=self._seed,
        )
        model.set_input_scaling(self.mean_, self.scale_)
        self.warmup_epochs_ = self._resolved_warmup_epochs(model.prior)
        self.net_ = build_net(
            model,
            seed=net_seed,
            device=self.device_,
            learning_rate=self.learning_rate_init,
            batch_size=self.batch_size_,
            max_grad_norm=self.max_grad_norm,
            warmup_epochs=self.warmup_epochs_,
            early_stopping=self.early_stopping,
            patience=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            callbacks=self.callbacks,
            dynamic_binarization=self.dynamic_binarization,
        )

    def _resolved_activation(self) -> str:
        """``activation``, with "auto" chosen by the number of latent levels."""
        if self.activation != "auto":
            return self.activation
        return TWO_LEVEL_ACTIVATION if self.latent_levels == 2 else ONE_LEVEL_ACTIVATION

    def _resolved_warmup_epochs(self, prior: Prior) -> int:
        """``warmup_epochs``, with "auto" chosen by whether the prior learns."""
        if self.warmup_epochs != "auto":
            return self.warmup_epochs
        if not any(parameter.requires_grad for parameter in prior.parameters()):
            return WARMUP_EPOCHS_FIXED_PRIOR
        return min(WARMUP_EPOCHS_LEARNED_PRIOR, self.max_iter // 2)

    def _check_likelihood_choice(self, likelihood: Likelihood) -> None:
        """Raise a ValueError when the likelihood cannot be trained as asked."""
        if self.dynamic_binarization and not all(
            part.binary for part, _ in _groups(likelihood)
        ):
            raise ValueError(
                "dynamic_binarization=True draws 0/1 rows from X's grey levels, "
                f"which needs a binary likelihood such as 'bernoulli'; got "
                f"{type(likelihood).__name__}. Set likelihood='bernoulli' or "
                "dynamic_binarization=False."
            )
        if self._objective().samples_decoder and getattr(
            likelihood, "sequential_sampling", False
        ):
            raise ValueError(
                f"{type(self).__name__} draws from the decoder in every training "
                f"step, which {type(likelihood).__name__} does one pixel at a time "
                "(a network pass per pixel): use AMIMEncoder, the asymmetric MIM "
                "that the MIM paper trains this decoder with, or VAEEncoder."
            )

    def _train(
        self,
        X: np.ndarray,
        epochs: int,
        train_rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
        *,
        weights: np.ndarray | None = None,
        X_valid: np.ndarray | None = None,
        valid_weights: np.ndarray | None = None,
        stop_early: bool,
    ) -> None:
        """Train on rows of X; the rows stay in X (no copy on the CPU).

        The validation loss is that of the rows ``valid_rows`` of X, or of
        ``X_valid``; ``weights`` (one per row of X) and ``valid_weights``
        weigh each row's loss (see ``LatentNet.train_epochs``).
        """
        # Built anew each run: parameters it reads may have changed since.
        objective = self._objective()

        def on_device(array, dtype=torch.float32):
            return None if array is None else as_device_tensor(
                array, dtype, self.device_
            )

        try:
            self.net_.train_epochs(
                on_device(X),
                epochs,
                objective,
                train_rows=on_device(train_rows, torch.int64),
                valid_rows=on_device(valid_rows, torch.int64),
                weights=on_device(weights),
                X_valid=on_device(X_valid),
                valid_weights=on_device(valid_weights),
                stop_early=stop_early,
            )
        except KeyboardInterrupt:
            # Documented: Ctrl-C ends training and keeps a usable estimator.
            # The engine has undone the epoch it cut short.
            n_done = len(self.net_.history)
            last = (
                f"the weights of epoch {n_done}, the last completed" if n_done
                else "its initial weights (no epoch was completed)"
            )
            warnings.warn(
                "Training was interrupted; the epoch it cut short is undone and "
                f"the estimator keeps {self._kept_weights(last)}.",
                UserWarning,
            )
            return
        except TrainingDivergedError as error:
            kept = self._kept_weights(
                f"the weights it had when epoch {len(self.net_.history) + 1} began"
            )
            raise TrainingDivergedError(
                f"{error} Training stopped; the estimator keeps {kept}. Try a lower "
                f"learning_rate_init (now {self.learning_rate_init}), clip the "
                "gradients with max_grad_norm (such as 1.0), or look for extreme "
                "values in X."
            ) from error
        finally:
            self._publish_training(objective)
        if stop_early and not self.net_.stop_training_ and epochs == self.max_iter:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    def _warn_if_collapsed(self, X: np.ndarray) -> None:
        """Warn when no latent dimension tells the rows of X apart, or when a
        learned mixture prior's components have merged into one.

        That is, when in every dimension the posterior means vary across
        the rows less than ``COLLAPSE_SIGNAL_TO_NOISE`` times the posterior's
        noise (the root mean of its variances): the codes are then a silent
        failure, finite and of the right shape. The same test is applied to
        the prior's components (:meth:`~mim_sklearn.nn.Prior.mixture`).
        """
        mean, std = self._posterior_moments(X)
        signal = mean.std(axis=0)
        noise = np.sqrt(np.mean(std**2, axis=0))
        self._warn_if_components_merged()
        if np.all(signal < COLLAPSE_SIGNAL_TO_NOISE * noise):
            learned = "" if self.prior == "standard" else (
                f" A learned prior (prior={self.prior!r}) can pull the codes "
                "together before the reconstruction spreads them: a longer "
                "warmup_epochs or prior='standard' may help."
            )
            warnings.warn(
                "The codes have collapsed: in every latent dimension the "
                "posterior means of the training rows vary (largest s.d. "
                f"{signal.max():.3g}) less than half the posterior's own noise "
                f"(s.d. {noise.min():.3g} or more), so they carry almost nothing of "
                f"X.{learned} Check activation (ReLU with one latent "
                "level is the default), "
                "max_iter and learning_rate_init.",
                PosteriorCollapseWarning,
            )

    def _warn_if_components_merged(self) -> None:
        """Warn when a mixture prior's component means, weighted, vary less
        in every dimension than ``COLLAPSE_SIGNAL_TO_NOISE`` times the
        components' own spread: the learned prior is then one Gaussian."""
        with torch.no_grad():
            mixture = self.model_.prior.mixture()
            if mixture is None or len(mixture[2]) < 2:
                return
            means, log_vars, log_weights = mixture
            weights = log_weights.exp().unsqueeze(-1)
            centre = (weights * means).sum(0)
            signal = (weights * (means - centre).square()).sum(0).sqrt()
            noise = (weights * log_vars.exp()).sum(0).sqrt()
            merged = bool(torch.all(signal < COLLAPSE_SIGNAL_TO_NOISE * noise))
        if merged:
            warnings.warn(
                f"The prior's {len(weights)} components have merged: in every "
                "latent dimension their means vary (largest weighted s.d. "
                f"{signal.max().item():.3g}) less than half their own spread, so "
                "the learned prior is one Gaussian. A longer warmup_epochs may "
                "help; prior='standard' is a Gaussian with nothing to learn.",
                PosteriorCollapseWarning,
            )

    def _kept_weights(self, otherwise: str) -> str:
        """Describe the weights training left, for a warning or an error."""
        best = self.net_.restored_epoch
        return (
            otherwise if best is None
            else f"the weights of epoch {best}, the best so far"
        )

    def _publish_training(self, objective: Objective) -> None:
        """Set the fitted attributes that describe the training so far."""
        for name, value in self.net_.training_summary().items():
            setattr(self, name, value)
        if objective.fitted_attributes is not None:
            generator = torch.Generator(self.device_).manual_seed(self._seed)
            for name, value in objective.fitted_attributes(
                self.model_, generator
            ).items():
                setattr(self, name, value)

    @property
    def validation_scores_(self) -> list[float] | None:
        """Deprecated: ``validation_loss_curve_`` negated; removed in 0.3."""
        losses = self.validation_loss_curve_  # an AttributeError before fit
        warnings.warn(
            "validation_scores_ is deprecated and will be removed in mim_sklearn "
            "0.3; use validation_loss_curve_, the held-out loss of each epoch "
            "(lower is better). validation_scores_ is that loss negated "
            "(-valid_loss), not a score such as score() returns.",
            FutureWarning,
            stacklevel=2,
        )
        return None if losses is None else [-loss for loss in losses]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform, inverse_transform and score_samples compute in the
        # input's floating dtype (see _map_rows).
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # Missing values (NaN) are modelled: they contribute no likelihood
        # term, and the encoder reads which entries are missing.
        tags.input_tags.allow_nan = True
        return tags

    def __setstate__(self, state):
        # skorch loads a net trained on a GPU onto the CPU when no GPU is
        # visible (with a DeviceWarning); predict where the net now lives.
        if "net_" in state:
            state["device_"] = str(state["net_"].device)
        if "validation_scores_" in state:  # pickled before validation_loss_curve_
            scores = state.pop("validation_scores_")
            state["validation_loss_curve_"] = (
                None if scores is None else [-score for score in scores]
            )
        if "net_" in state and "activation_" not in state:  # before "auto"
            state["activation_"] = state["activation"]
        super().__setstate__(state)

    # ------------------------------------------------------------- inference

    @property
    def model_(self) -> LatentVariableModel:
        """The trained torch model (owned by the training engine)."""
        check_is_fitted(self)
        return self.net_.module_

    @property
    def _n_features_out(self) -> int:
        # The code's width: n_components per latent level.
        return self.n_components * self.latent_levels

    def _seed_for(self, random_state) -> int:
        """The seed of a sampling call: ``random_state``, else the estimator's."""
        if random_state is None and self.random_state is None:
            return self._seed  # drawn at fit time: repeated calls agree
        return _seed(self.random_state if random_state is None else random_state)

    def _generator(self, random_state) -> torch.Generator:
        return torch.Generator(self.device_).manual_seed(self._seed_for(random_state))

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = self._validated_rows(X, reset=False)
        self._check_likelihood_data(X)
        return X

    def _check_likelihood_data(
        self, X: np.ndarray, likelihood: Likelihood | None = None
    ) -> None:
        """Raise a ValueError when the likelihood (the model's by default)
        cannot take X: missing values it does not support, or values it
        does not model."""
        likelihood = self.model_.likelihood if likelihood is None else likelihood
        if not likelihood.supports_missing and np.isnan(X).any():
            raise ValueError(
                f"X has missing values (NaN), which {type(likelihood).__name__} "
                "does not model; impute them first, or use a likelihood with "
                "supports_missing = True (every built-in one)."
            )
        likelihood.check_data(X)

    def _map_rows(
        self, array: np.ndarray, fn, chunk_rows: int = TRANSFORM_CHUNK_ROWS
    ) -> np.ndarray:
        """:func:`~._inference.map_rows` with this estimator's model and device."""
        return map_rows(self.model_, array, fn, self.device_, chunk_rows)

    def transform(self, X):
        """Encode X as the mean of the posterior q(z|x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_components * latent_levels)
            Posterior means, deterministic, of X's floating dtype: with
            ``latent_levels=2``, both levels' means side by side (z1's at
            the mean of z2), ``2 * n_components`` columns.
        """
        X = self._validated(X)
        return self._map_rows(
            X, lambda model, x: model.encode(model.to_working_units(x))[0]
        )

    def posterior(self, X):
        """Mean and standard deviation of the Gaussian q(z|x) of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.

        Returns
        -------
        mean : ndarray of shape (n_samples, n_components * latent_levels)
            Posterior means (what :meth:`transform` returns), both levels
            side by side when ``latent_levels=2``.
        std : ndarray of shape (n_samples, n_components * latent_levels)
            Posterior standard deviations, in the columns of ``mean``.
        """
        return self._posterior_moments(self._validated(X))

    def _posterior_moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`posterior` of rows already validated."""

        def moments(model, x):
            mean, log_var = model.encode(model.to_working_units(x))
            return torch.cat([mean, (0.5 * log_var).exp()], dim=-1)

        both = self._map_rows(X, moments)
        width = self._n_features_out
        return both[:, :width], both[:, width:]

    def sample_posterior(self, X, random_state=None):
        """Draw one z ~ q(z|x) for each row of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None uses the estimator's ``random_state``.

        Returns
        -------
        ndarray of shape (n_samples, n_components * latent_levels)
            One posterior draw per row; with ``latent_levels=2``, [z1, z2]
            drawn down the chain, z2 ~ q(z2|x) then z1 ~ q(z1|x, z2).
        """
        X = self._validated(X)
        generator = self._generator(random_state)
        return self._map_rows(
            X,
            lambda model, x: model.posterior(
                model.to_working_units(x)
            ).rsample_with_log_prob(generator)[0],
        )

    def inverse_transform(self, Z):
        """Decode latent codes to the mean of p(x|z), in X's units.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components * latent_levels)
            Latent codes, such as the output of :meth:`transform`.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            Decoder means, in X's units: for a model fitted on a DataFrame, a
            DataFrame with its columns and dtypes (integers rounded, booleans
            and categories the most probable ones), indexed as Z when Z is a
            DataFrame.
        """
        check_is_fitted(self)
        index = getattr(Z, "index", None)
        Z = check_array(Z, **INPUT_FORMAT)
        if Z.shape[1] != self._n_features_out:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} encodes "
                f"to {self._n_features_out} (n_components={self.n_components} for "
                f"each of latent_levels={self.latent_levels})."
            )
        X = self._map_rows(
            Z,
            lambda model, z: model.from_working_units(model.reconstruct(z)),
        )
        return X if self._table is None else self._table.to_frame(X, index)

    def sample(self, n_samples=1, *, random_state=None, return_latent=False):
        """Draw from the model: z ~ p(z), then x ~ p(x|z).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None uses the estimator's ``random_state``.
        return_latent : bool, default=False
            Whether to also return the latent draws.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, ``n_features_in_``)
            Samples in X's units (float64), or integer codes (int64) when
            every feature is categorical or Bernoulli; for a model fitted on
            a DataFrame, a DataFrame with its columns and dtypes.
        Z : ndarray of shape (n_samples, n_components * latent_levels)
            The latent draws, [z1, z2] with ``latent_levels=2``; only when
            ``return_latent=True``.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"n_samples must be a positive integer, got {n_samples!r}."
            )
        model = self.model_
        model.eval()
        generator = self._generator(random_state)
        with torch.inference_mode():
            z = model.sample_prior(n_samples, generator)
            x = model.sample_x_given_z(z, generator)
            codes_only = all(part.discrete for part, _ in _groups(model.likelihood))
            X = model.from_working_units(x).cpu().numpy().astype(
                np.int64 if codes_only else np.float64
            )
        if self._table is not None:
            X = self._table.to_frame(X)
        return (X, z.cpu().numpy().astype(np.float64)) if return_latent else X

    def score_samples(self, X):
        """Log-likelihood of each row under the model, by importance sampling.

        ``log p(x) ~ logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)]
        - log K`` with K = ``n_importance_samples`` draws z_k ~ q(z|x). The
        estimate is a lower bound in expectation that tightens as K grows.
        It is a log-density of X in its own units: the log-Jacobian of the
        internal scaling is included. Draws are seeded and shared by all rows,
        so repeated calls give the same numbers and a row's estimate does not
        depend on the other rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Estimated log p(x) of each row, in nats.
        """
        X = self._validated(X)
        log_p = self._map_importance_draws(
            X,
            lambda model, x, n_draws, generator: model.importance_log_likelihood(
                model.to_working_units(x), n_draws, generator, shared_noise=True
            ),
        )
        # The log-Jacobian of the scaling, over each row's observed entries.
        log_scale = np.log(self.scale_)
        missing = np.isnan(X)
        log_jacobian = (
            np.where(missing, 0.0, log_scale).sum(axis=1) if missing.any()
            else log_scale.sum()
        )
        return log_p.astype(np.float64) - log_jacobian

    def _reconstruct_from_observed(self, X: np.ndarray) -> np.ndarray:
        """Rows of a validated X reconstructed from their observed entries.

        In X's units, by importance sampling with ``n_importance_samples``
        draws per row (see
        :meth:`~mim_sklearn.nn.LatentVariableModel.conditional_reconstruction`),
        with the draws of :meth:`score_samples`.
        """
        return self._map_importance_draws(
            X,
            lambda model, x, n_draws, generator: model.from_working_units(
                model.conditional_reconstruction(
                    model.to_working_units(x), n_draws, generator, shared_noise=True
                )
            ),
        )

    def _map_importance_draws(self, X: np.ndarray, fn) -> np.ndarray:
        """:meth:`_map_rows` of ``fn(model, rows, n_draws, generator)`` with
        ``n_importance_samples`` draws per row.

        Every chunk gets a generator seeded alike, and so reuses the same K
        standard normal draws: a row's result depends on the row alone, not
        on the order, the chunking or the other rows passed with it, and
        repeated calls agree. Chunks hold at most ``SCORE_CHUNK_ELEMENTS``
        rows x draws.
        """
        n_draws = self.n_importance_samples
        seed = self._seed_for(None)

        def seeded(model, x):
            generator = torch.Generator(self.device_).manual_seed(seed)
            return fn(model, x, n_draws, generator)

        return self._map_rows(X, seeded, max(1, SCORE_CHUNK_ELEMENTS // n_draws))

    def score(self, X, y=None):
        """Mean importance-sampled log-likelihood of X (greater is better).

        A log-density of X in its own units, estimated with
        ``n_importance_samples`` draws per row (see :meth:`score_samples`).
        It is not the negated training loss: ``loss_curve_`` and
        ``validation_loss_curve_`` hold the training objective per row, in
        the model's internal scaled units, lower is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        float
            The mean log-likelihood, ``score_samples(X).mean()``.
        """
        return float(self.score_samples(X).mean())
