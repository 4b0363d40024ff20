"""The estimator base: parameters and the scikit-learn API every estimator shares.

:class:`BaseLatentEncoder` holds the parameters and the public methods (fit,
partial_fit, transform, inverse_transform, sampling and scoring); a subclass
declares only its :class:`~mim_sklearn.objectives.Objective`. A fit has three
steps, each in the module whose job it is: the setup step
(:mod:`._training_data`: validate the data, learn the
:class:`~._setup.ModelSetup`, build the net, split the rows), training
(:mod:`._engine`, the skorch seam) and publishing the fitted attributes, here.
Input checks live in :mod:`._validation`, devices in :mod:`._device`, the
model in :mod:`mim_sklearn.nn`, the losses in :mod:`mim_sklearn.objectives`
and chunked inference in :mod:`._inference`.
"""

from __future__ import annotations

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
from sklearn.utils.validation import check_array, check_is_fitted

from ._engine import LatentNet
from ._inference import SCORE_CHUNK_ELEMENTS, TRANSFORM_CHUNK_ROWS, map_rows
from ._setup import ModelSetup, check_likelihood_data, draw_seed
from ._tabular import is_dataframe
from ._training_data import TrainingRun, prepare_fit, prepare_partial_fit
from ._validation import INPUT_FORMAT, validated_rows
from .exceptions import PosteriorCollapseWarning, TrainingDivergedError
from .nn import ACTIVATIONS, LIKELIHOODS, PRIORS, LatentVariableModel, Likelihood, Prior
from .nn.architectures import ARCHITECTURES
from .nn.likelihoods import VARIANCES
from .objectives import Objective

# Training rows whose codes fit checks for a collapse: enough for a stable
# spread per dimension, one quick forward pass.
COLLAPSE_CHECK_ROWS = 2_000
# The codes have collapsed when, in every dimension, the posterior means vary
# across rows by less than this share of the posterior's noise. The collapsed
# VampPrior fits of issue 30 had about 0.4 (means' s.d. 0.02 against the
# variance floor's 0.05); a digits fit stopped after 8 epochs, 0.9.
COLLAPSE_SIGNAL_TO_NOISE = 0.5

class BaseLatentEncoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of the latent-variable encoders; see :class:`MIMEncoder`.

    Subclasses implement :meth:`objective`. Not meant to be used directly.
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

    def objective(self) -> Objective:
        """What this estimator trains, from its current parameters.

        Built anew for each training run, so that a changed parameter (the
        mutual autoencoder's target, say) takes effect at the next fit.

        Returns
        -------
        Objective
            The loss and what it needs of the model.
        """
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
        objective = self.objective()
        run = prepare_fit(
            self, objective, X, check_random_state(self.random_state),
            sample_weight=sample_weight, X_val=X_val,
            sample_weight_val=sample_weight_val,
        )
        self._train(run, objective, self.max_iter, stop_early=True)
        self._warn_if_collapsed(run.split.X[:COLLAPSE_CHECK_ROWS])
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
        objective = self.objective()
        run = prepare_partial_fit(
            self, objective, X, check_random_state(self.random_state),
            sample_weight=sample_weight,
        )
        self._train(run, objective, 1, stop_early=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def initialize_from_chunks(self, chunks: Iterable):
        """Prepare ``partial_fit`` from one pass over all the training data.

        What :func:`mim_sklearn.out_of_core.partial_fit_epochs` calls before
        its epochs. The scaling (or, for categorical data, the categories),
        which ``partial_fit``'s first call would take from its batch alone,
        comes from every chunk; the VampPrior's pseudo-inputs start at rows
        of the first chunk. Nothing is trained: every later ``partial_fit``
        call continues from here.

        Parameters
        ----------
        chunks : iterable of array-like of shape (n_rows, n_features)
            All the training data, in row chunks, read once.

        Returns
        -------
        object
            The estimator itself, set up and not trained.

        Examples
        --------
        >>> import numpy as np
        >>> from mim_sklearn import MIMEncoder
        >>> X = np.random.RandomState(0).rand(40, 3)
        >>> encoder = MIMEncoder(random_state=0)
        >>> encoder = encoder.initialize_from_chunks([X[:20], X[20:]])
        >>> encoder.n_iter_
        0
        """
        chunks = iter(chunks)
        run = prepare_partial_fit(
            self, self.objective(), next(chunks), check_random_state(self.random_state),
            chunks=chunks,
        )
        return self.set_fitted(run.setup, run.net)

    def set_fitted(self, setup: ModelSetup, net: LatentNet):
        """Make the estimator fitted with a setup and a net, and publish them.

        What :func:`mim_sklearn.load` and :meth:`initialize_from_chunks` end
        with: the estimator keeps ``setup_`` and ``net_``, and its fitted
        attributes (``mean_``, ``n_iter_``, ``loss_curve_`` and the rest) are
        read from them.

        Parameters
        ----------
        setup : ModelSetup
            What fit learnt of the data before training.
        net : LatentNet
            The model in its training net, built from ``setup``.

        Returns
        -------
        object
            The estimator itself.
        """
        self.setup_, self.net_ = setup, net
        self._publish(self.objective())
        return self

    def _train(
        self, run: TrainingRun, objective: Objective, epochs: int, *, stop_early: bool
    ) -> None:
        """Train the net of ``run`` on its split, then publish what it learnt.

        A Ctrl-C ends training with a warning and keeps a usable estimator;
        a diverging loss raises with the weights that are kept.
        """
        self.setup_, self.net_ = run.setup, run.net
        try:
            self.net_.train_on_split(
                run.split, epochs, objective, stop_early=stop_early
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
            self._publish(objective)
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

    def _publish(self, objective: Objective) -> None:
        """Set the fitted attributes: the setup's, and those that describe
        the net and its training so far."""
        self.device_ = str(self.net_.device)
        self.__dict__.pop("n_categories_", None)  # an earlier categorical fit's
        attributes = {
            **self.setup_.fitted_attributes(),
            "warmup_epochs_": self.net_.warmup_epochs,
            **self.net_.training_summary(),
        }
        if objective.fitted_attributes is not None:
            generator = torch.Generator(self.device_).manual_seed(self.setup_.seed)
            attributes.update(objective.fitted_attributes(self.model_, generator))
        for name, value in attributes.items():
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
        if "net_" in state and "setup_" not in state:  # pickled before setup_
            names = state.pop("_column_likelihoods", None)
            state["setup_"] = ModelSetup(
                n_features=state["n_features_in_"],
                table=state.pop("_table", None),
                column_likelihoods=None if names is None else tuple(names),
                n_categories=state.get("n_categories_"),
                mean=state["mean_"],
                scale=state["scale_"],
                missing_indicators=state.pop("_missing_indicators", False),
                batch_size=state.get("batch_size_", state["batch_size"]),
                # Before activation="auto" the parameter was the activation.
                activation=state.setdefault("activation_", state["activation"]),
                seed=state.pop("_seed"),
                net_seed=state["net_"].seed,
            )
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
            return self.setup_.seed  # drawn at fit time: repeated calls agree
        return draw_seed(self.random_state if random_state is None else random_state)

    def _generator(self, random_state) -> torch.Generator:
        return torch.Generator(self.device_).manual_seed(self._seed_for(random_state))

    def _validated(self, X) -> np.ndarray:
        """X checked against the fitted estimator, as the model reads it."""
        check_is_fitted(self)
        X, _ = validated_rows(self, X, self.setup_.table, reset=False)
        check_likelihood_data(self.model_.likelihood, X)
        return X

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
        table = self.setup_.table
        return X if table is None else table.to_frame(X, index)

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
            codes_only = all(part.discrete for part, _ in model.likelihood.groups())
            X = model.from_working_units(x).cpu().numpy().astype(
                np.int64 if codes_only else np.float64
            )
        if self.setup_.table is not None:
            X = self.setup_.table.to_frame(X)
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

    def impute(self, X):
        """Fill each missing entry of X in from the row's observed entries.

        The filled-in values are the mean of p(x|z) averaged over the
        posterior given the observed entries, estimated by importance
        sampling with ``n_importance_samples`` draws per row (see
        :meth:`~mim_sklearn.nn.LatentVariableModel.conditional_reconstruction`),
        with the draws of :meth:`score_samples`. Observed entries are kept
        as they are. :class:`~mim_sklearn.LatentImputer` wraps this method
        as a scikit-learn transformer.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data in the units seen by ``fit``; NaN (or ``pd.NA``, None)
            marks a missing entry.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            X completed: a DataFrame (same columns, dtypes and index) for a
            DataFrame given to an estimator fitted on one, else a float
            array.

        Examples
        --------
        >>> import numpy as np
        >>> from mim_sklearn import VAEEncoder
        >>> X = np.random.RandomState(0).rand(50, 3)
        >>> encoder = VAEEncoder(n_components=2, max_iter=2, random_state=0).fit(X)
        >>> completed = encoder.impute([[0.5, np.nan, 0.5]])
        >>> bool(np.isfinite(completed).all()), float(completed[0, 0])
        (True, 0.5)
        """
        observed = self._validated(X)
        completed = self._map_importance_draws(
            observed,
            lambda model, x, n_draws, generator: model.from_working_units(
                model.conditional_reconstruction(
                    model.to_working_units(x), n_draws, generator, shared_noise=True
                )
            ),
        )
        table = self.setup_.table
        if is_dataframe(X) and table is not None:
            return X.where(X.notna(), table.to_frame(completed, X.index))
        return np.where(np.isnan(observed), completed, observed)

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
