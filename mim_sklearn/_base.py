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
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._device import as_device_tensor, resolve_device
from ._engine import build_net
from ._inference import SCORE_CHUNK_ELEMENTS, TRANSFORM_CHUNK_ROWS, map_rows
from ._validation import INPUT_FORMAT, check_float32_range, fit_scaling
from .exceptions import TrainingDivergedError
from .nn import ACTIVATIONS, LIKELIHOODS, PRIORS, LatentVariableModel
from .nn.architectures import ARCHITECTURES
from .nn.likelihoods import CategoricalLikelihood, Likelihood, category_counts
from .nn.priors import Prior
from .objectives import Objective

_MAX_SEED = 2**31 - 1


def _seed(random_state) -> int:
    return int(check_random_state(random_state).randint(_MAX_SEED))


class BaseLatentEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of the latent-variable encoders; see :class:`MIMEncoder`.

    Subclasses implement :meth:`_objective`. Not meant to be used directly.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "architecture": [StrOptions(set(ARCHITECTURES)), callable],
        "image_shape": ["array-like", None],
        "likelihood": [StrOptions(set(LIKELIHOODS)), Likelihood],
        "decoder_variance": [StrOptions({"shared", "decoded"})],
        "prior": [StrOptions(set(PRIORS)), Prior],
        "n_prior_components": [Interval(Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"global", "feature"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(128, 128),
        activation="tanh",
        architecture="mlp",
        image_shape=None,
        likelihood="gaussian",
        decoder_variance="shared",
        prior="standard",
        n_prior_components=100,
        scaling="global",
        max_iter=200,
        batch_size=160,
        learning_rate_init=1e-3,
        max_grad_norm=None,
        warmup_epochs=5,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_importance_samples=1000,
        device="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.image_shape = image_shape
        self.likelihood = likelihood
        self.decoder_variance = decoder_variance
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

    def _objective(self) -> Objective:
        """What this estimator trains, from its current parameters."""
        raise NotImplementedError

    # ----------------------------------------------------------------- fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the model on X, with early stopping on a held-out split.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, in its own units: it is scaled internally.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        object
            The fitted estimator itself.
        """
        continuing = self.warm_start and hasattr(self, "net_")
        X = self._validated_training_rows(X, reset=not continuing)
        rng = check_random_state(self.random_state)
        if continuing:
            self._check_likelihood_data(X)
        else:
            self._initialize(X, rng)
        train_rows = valid_rows = None
        if self.early_stopping:
            order = rng.permutation(X.shape[0])
            n_valid = max(1, round(self.validation_fraction * X.shape[0]))
            if n_valid >= X.shape[0]:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves no "
                    f"training rows out of {X.shape[0]}; lower it or set "
                    "early_stopping=False."
                )
            train_rows, valid_rows = order[n_valid:], order[:n_valid]
        self._train(X, self.max_iter, train_rows, valid_rows, stop_early=True)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
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

        Returns
        -------
        object
            The updated estimator itself.
        """
        first_call = not hasattr(self, "net_")
        X = self._validated_training_rows(X, reset=first_call)
        if first_call:
            self._initialize(X, check_random_state(self.random_state))
        else:
            self._check_likelihood_data(X)
        self._train(X, 1, stop_early=False)
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
        X = validate_data(
            self,
            X,
            **INPUT_FORMAT,
            ensure_min_samples=2 if reset else 1,
            reset=reset,
        )
        check_float32_range(X)
        return X

    def _initialize(
        self,
        X: np.ndarray,
        rng: np.random.RandomState,
        chunks: Iterable[np.ndarray] | None = None,
    ) -> None:
        """Build the scaling, the model and the training engine.

        The scaling (or the categories) comes from X, or from ``chunks``
        when given: all of the training data, of which X is a part.
        """
        self.device_ = resolve_device(self.device)
        chunks = [X] if chunks is None else chunks
        likelihood = self._new_likelihood()
        if isinstance(likelihood, CategoricalLikelihood):
            self.n_categories_ = (
                np.max([category_counts(c) for c in chunks], axis=0)
                if likelihood.categories is None
                else np.asarray(likelihood.categories, dtype=np.int64)
            )
        elif hasattr(self, "n_categories_"):  # left by an earlier, categorical fit
            del self.n_categories_
        likelihood.check_data(X)
        if likelihood.scales_input:
            self.mean_, self.scale_ = fit_scaling(chunks, self.scaling)
        else:  # X is used as it is
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        self._seed = _seed(rng)
        self._build(X.shape[1], net_seed=_seed(rng))
        self._start_prior(X, rng)

    def _new_likelihood(self) -> Likelihood:
        """A fresh, unbuilt likelihood from the parameters (a copy of an
        instance, so that fitting never changes the parameter)."""
        if isinstance(self.likelihood, Likelihood):
            return copy.deepcopy(self.likelihood)
        if self.likelihood == "gaussian":
            return LIKELIHOODS["gaussian"](variance=self.decoder_variance)
        return LIKELIHOODS[self.likelihood]()

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

        Uses the fitted ``mean_``, ``scale_`` and ``_seed``; ``net_seed`` seeds
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
        if isinstance(likelihood, CategoricalLikelihood):  # as fit counted them
            likelihood.categories = self.n_categories_.tolist()
        model = LatentVariableModel(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=tuple(hidden.tolist()),
            activation=self.activation,
            likelihood=likelihood,
            prior=self._new_prior(),
            architecture=self.architecture,
            image_shape=None if self.image_shape is None else tuple(self.image_shape),
            auxiliary_posterior=self._objective().auxiliary_posterior,
            seed=self._seed,
        )
        model.set_input_scaling(self.mean_, self.scale_)
        self.net_ = build_net(
            model,
            seed=net_seed,
            device=self.device_,
            learning_rate=self.learning_rate_init,
            batch_size=self.batch_size,
            max_grad_norm=self.max_grad_norm,
            warmup_epochs=self.warmup_epochs,
            early_stopping=self.early_stopping,
            patience=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
        )

    def _train(
        self,
        X: np.ndarray,
        epochs: int,
        train_rows: np.ndarray | None = None,
        valid_rows: np.ndarray | None = None,
        *,
        stop_early: bool,
    ) -> None:
        """Train on rows of X; the rows stay in X (no copy on the CPU)."""
        # Built anew each run: parameters it reads may have changed since.
        objective = self._objective()
        X_device = as_device_tensor(X, torch.float32, self.device_)

        def rows(index):
            return (
                None if index is None else torch.as_tensor(index, device=self.device_)
            )

        try:
            self.net_.train_epochs(
                X_device,
                epochs,
                objective,
                train_rows=rows(train_rows),
                valid_rows=rows(valid_rows),
                stop_early=stop_early,
            )
        except KeyboardInterrupt:
            warnings.warn(
                "Training was interrupted; the estimator keeps "
                f"{self._kept_weights('its current weights')}.",
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # transform, inverse_transform and score_samples compute in the
        # input's floating dtype (see _map_rows).
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __setstate__(self, state):
        # skorch loads a net trained on a GPU onto the CPU when no GPU is
        # visible (with a DeviceWarning); predict where the net now lives.
        if "net_" in state:
            state["device_"] = str(state["net_"].device)
        super().__setstate__(state)

    # ------------------------------------------------------------- inference

    @property
    def model_(self) -> LatentVariableModel:
        """The trained torch model (owned by the training engine)."""
        check_is_fitted(self)
        return self.net_.module_

    @property
    def _n_features_out(self) -> int:
        return self.n_components

    def _seed_for(self, random_state) -> int:
        """The seed of a sampling call: ``random_state``, else the estimator's."""
        if random_state is None and self.random_state is None:
            return self._seed  # drawn at fit time: repeated calls agree
        return _seed(self.random_state if random_state is None else random_state)

    def _generator(self, random_state) -> torch.Generator:
        return torch.Generator(self.device_).manual_seed(self._seed_for(random_state))

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, **INPUT_FORMAT, reset=False)
        self._check_likelihood_data(X)
        return X

    def _check_likelihood_data(self, X: np.ndarray) -> None:
        self.model_.likelihood.check_data(X)

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
        ndarray of shape (n_samples, n_components)
            Posterior means, deterministic, of X's floating dtype.
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
        mean : ndarray of shape (n_samples, n_components)
            Posterior means (what :meth:`transform` returns).
        std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations.
        """
        X = self._validated(X)

        def moments(model, x):
            mean, log_var = model.encode(model.to_working_units(x))
            return torch.cat([mean, (0.5 * log_var).exp()], dim=-1)

        both = self._map_rows(X, moments)
        return both[:, : self.n_components], both[:, self.n_components :]

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
        ndarray of shape (n_samples, n_components)
            One posterior draw per row.
        """
        X = self._validated(X)
        generator = self._generator(random_state)
        return self._map_rows(
            X,
            lambda model, x: model.rsample_posterior(
                *model.encode(model.to_working_units(x)), generator
            ),
        )

    def inverse_transform(self, Z):
        """Decode latent codes to the mean of p(x|z), in X's units.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Latent codes, such as the output of :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Decoder means, in X's units.
        """
        check_is_fitted(self)
        Z = check_array(Z, **INPUT_FORMAT)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} encodes "
                f"to n_components={self.n_components}."
            )
        return self._map_rows(
            Z,
            lambda model, z: model.from_working_units(model.reconstruct(z)),
        )

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
        X : ndarray of shape (n_samples, ``n_features_in_``)
            Samples in X's units (float64), or integer codes (int64) with
            ``likelihood="categorical"``.
        Z : ndarray of shape (n_samples, n_components)
            The latent draws; only when ``return_latent=True``.
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
            X = model.from_working_units(x).cpu().numpy().astype(
                np.int64 if model.likelihood.discrete else np.float64
            )
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
        n_draws = self.n_importance_samples
        seed = self._seed_for(None)

        def log_likelihood(model, x):
            # Every chunk reuses the same K standard normal draws, so a row's
            # estimate depends on the row alone: not on the order, the chunking
            # or the other rows passed with it.
            generator = torch.Generator(self.device_).manual_seed(seed)
            return model.importance_log_likelihood(
                model.to_working_units(x), n_draws, generator, shared_noise=True
            )

        log_p = self._map_rows(
            X, log_likelihood, max(1, SCORE_CHUNK_ELEMENTS // n_draws)
        )
        return log_p.astype(np.float64) - np.log(self.scale_).sum()

    def score(self, X, y=None):
        """Mean importance-sampled log-likelihood of X (greater is better).

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
