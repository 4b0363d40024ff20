"""The scikit-learn layer shared by every estimator.

:class:`BaseLatentEncoder` owns the estimator protocol (validation, scaling,
fit / partial_fit, transform, inverse_transform, sampling and scoring); a
subclass supplies only its objective. No torch mathematics lives here: the
model lives in :mod:`mim_sklearn.nn`, the losses in
:mod:`mim_sklearn.objectives`, the training loop in :mod:`._training`.
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Callable, Iterable
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
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skorch.callbacks import GradientNormClipping

from ._training import EarlyStopping, LatentNet, ObjectiveCriterion, WarmUp
from .exceptions import TrainingDivergedError
from .nn import ACTIVATIONS, LIKELIHOODS, PRIORS, LatentVariableModel
from .nn.architectures import ARCHITECTURES

# Rows x importance draws evaluated at once by score_samples. It bounds memory
# (a few MB for MNIST-sized models). Larger chunks were measured slower on the
# CPU, their activations no longer fit in cache (benchmarks/speed.py): with
# K = 1000 a chunk is one row, and batching rows pays only for small K.
_SCORE_CHUNK_ELEMENTS = 2**10
# Rows per forward pass in transform-like methods.
_TRANSFORM_CHUNK_ROWS = 2**16
# Values per chunk when accumulating the scaling moments (in float64): 8 MB.
_MOMENT_CHUNK_ELEMENTS = 2**20
_MAX_SEED = 2**31 - 1
# What every array becomes where it enters. C order: the same values in
# another layout (a Fortran-ordered DataFrame, a strided slice) take another
# path through the matrix products and round differently in the last bit, and
# a row's code must depend on its values alone.
_INPUT_FORMAT = {"dtype": [np.float64, np.float32], "order": "C"}


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

    Any other device is checked: a ValueError names the available devices
    when it is malformed or not present on this machine.

    Examples
    --------
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
            "'cuda' or 'cuda:<index>'."
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


def as_device_tensor(array: np.ndarray, dtype: torch.dtype, device: str) -> torch.Tensor:
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
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(array, dtype=dtype, device=device)


def category_counts(X: np.ndarray, n_categories: np.ndarray | None = None) -> np.ndarray:
    """Check that X holds category codes; return K_j, the categories per feature.

    Codes are integers 0, 1, ..., K_j - 1 (stored in a float array). With
    ``n_categories`` (those seen in ``fit``), a code beyond them is an error.

    Examples
    --------
    >>> category_counts(np.array([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2, 3]
    """
    if not np.all((X >= 0) & (X == np.floor(X))):
        raise ValueError(
            "likelihood='categorical' needs X to hold integer category codes "
            "0, 1, 2, ... in each column (encode labels with OrdinalEncoder)."
        )
    counts = X.max(axis=0).astype(np.int64) + 1
    if n_categories is not None and np.any(counts > n_categories):
        feature = int(np.argmax(counts > n_categories))
        raise ValueError(
            f"Feature {feature} holds code {counts[feature] - 1}, but fit saw codes "
            f"0 to {n_categories[feature] - 1} only."
        )
    return counts


def check_unit_interval(X: np.ndarray) -> None:
    """Raise a ValueError unless every value of X is in [0, 1].

    Examples
    --------
    >>> check_unit_interval(np.array([[0.0, 1.0]]))
    """
    if not np.all((X >= 0) & (X <= 1)):
        raise ValueError(
            "likelihood='bernoulli' needs X in [0, 1]: binary data, or "
            "probabilities (binarise or rescale X first)."
        )


def _seed(random_state) -> int:
    return int(check_random_state(random_state).randint(_MAX_SEED))


class BaseLatentEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the latent-variable encoders; see :class:`MIMEncoder`.

    Subclasses set ``_objective`` to a function of
    :mod:`mim_sklearn.objectives` (or override :meth:`_make_objective` when it
    takes parameters), and ``_auxiliary_posterior`` when the objective needs
    the model's r(z|x). Not meant to be used directly.
    """

    _objective: Callable
    _auxiliary_posterior = False

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "architecture": [StrOptions(set(ARCHITECTURES)), callable],
        "image_shape": ["array-like", None],
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "decoder_variance": [StrOptions({"shared", "decoded"})],
        "prior": [StrOptions(set(PRIORS))],
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
        self : object
            The fitted estimator.
        """
        continuing = self.warm_start and hasattr(self, "net_")
        X = validate_data(
            self,
            X,
            **_INPUT_FORMAT,
            ensure_min_samples=2,
            reset=not continuing,
        )
        check_float32_range(X)
        rng = check_random_state(self.random_state)
        if continuing:
            self._check_codes(X)
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
        self : object
            The updated estimator.
        """
        first_call = not hasattr(self, "net_")
        X = self._validated_batch(X, first_call)
        if first_call:
            self._initialize(X, check_random_state(self.random_state))
        else:
            self._check_codes(X)
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
        first = self._validated_batch(next(chunks), first_call=True)
        rest = (self._validated_batch(chunk, first_call=False) for chunk in chunks)
        self._initialize(
            first, check_random_state(self.random_state), itertools.chain([first], rest)
        )

    def _validated_batch(self, X, first_call: bool) -> np.ndarray:
        """Validate a ``partial_fit`` batch; the first one sets the features."""
        X = validate_data(
            self,
            X,
            **_INPUT_FORMAT,
            ensure_min_samples=2 if first_call else 1,
            reset=first_call,
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
        if self.likelihood == "categorical":
            self.n_categories_ = np.max([category_counts(c) for c in chunks], axis=0)
        elif self.likelihood == "bernoulli":
            check_unit_interval(X)
        if self.likelihood in ("categorical", "bernoulli"):  # X is used as it is
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        else:
            self.mean_, self.scale_ = fit_scaling(chunks, self.scaling)
        self._seed = _seed(rng)
        self._build(X.shape[1], net_seed=_seed(rng))
        if self.prior == "vamp":
            self._start_pseudo_inputs(X, rng)

    def _start_pseudo_inputs(self, X: np.ndarray, rng: np.random.RandomState) -> None:
        """Start the VampPrior's pseudo-inputs at distinct random rows of X."""
        if self.n_prior_components > X.shape[0]:
            raise ValueError(
                f"prior='vamp' starts its n_prior_components={self.n_prior_components} "
                f"pseudo-inputs at distinct training rows, but X has {X.shape[0]}; "
                "lower n_prior_components."
            )
        rows = rng.choice(X.shape[0], self.n_prior_components, replace=False)
        model = self.model_
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
        model = LatentVariableModel(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=tuple(hidden.tolist()),
            activation=self.activation,
            likelihood=self.likelihood,
            prior=self.prior,
            likelihood_options=self._likelihood_options(),
            prior_options=(
                None
                if self.prior == "standard"
                else {"n_prior_components": self.n_prior_components}
            ),
            architecture=self.architecture,
            image_shape=None if self.image_shape is None else tuple(self.image_shape),
            auxiliary_posterior=self._auxiliary_posterior,
            seed=self._seed,
        )
        model.set_input_scaling(self.mean_, self.scale_)
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        self.net_ = LatentNet(
            model,
            ObjectiveCriterion(self._make_objective()),
            seed=net_seed,
            optimizer=torch.optim.Adam,
            # One fused kernel per step instead of a few per parameter: 18%
            # faster epochs on the CPU (benchmarks/speed.py); CPU and CUDA only.
            optimizer__fused=torch.device(self.device_).type in ("cpu", "cuda"),
            lr=self.learning_rate_init,
            batch_size=self.batch_size,
            device=self.device_,
            verbose=self.verbose,
            callbacks=[
                ("gradient_clipping", GradientNormClipping(self.max_grad_norm)),
                ("warm_up", WarmUp(self.warmup_epochs)),
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor,
                        patience=self.n_iter_no_change,
                        tol=self.tol,
                        warmup_epochs=self.warmup_epochs,
                        restore_best=self.early_stopping,
                    ),
                ),
            ],
        ).initialize()

    def _likelihood_options(self) -> dict:
        """Keyword arguments of the likelihood's constructor."""
        if self.likelihood == "categorical":
            return {"n_categories": self.n_categories_.tolist()}
        if self.likelihood == "gaussian":
            return {"variance": self.decoder_variance}
        return {}

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
        # Parameters the objective reads may have changed since the last fit.
        self.net_.criterion_.objective = self._make_objective()
        X_device = as_device_tensor(X, torch.float32, self.device_)

        def rows(index):
            return None if index is None else torch.as_tensor(index, device=self.device_)

        try:
            self.net_.train_epochs(
                X_device,
                epochs,
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
            self._record_history()
        if stop_early and not self.net_.stop_training_ and epochs == self.max_iter:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    def _make_objective(self) -> Callable:
        """The objective function, bound to the parameters it reads."""
        return type(self)._objective

    def _kept_weights(self, otherwise: str) -> str:
        """Describe the weights training left, for a warning or an error."""
        best = self._stopper.restored_epoch_
        return otherwise if best is None else f"the weights of epoch {best}, the best so far"

    @property
    def _stopper(self) -> EarlyStopping:
        return dict(self.net_.callbacks_)["early_stopping"]

    def _record_history(self) -> None:
        epochs = list(self.net_.history)
        stopper = self._stopper
        monitored = [e.get(stopper.monitor, e["train_loss"]) for e in epochs]
        self.n_iter_ = len(epochs)
        self.loss_curve_ = [e["train_loss"] for e in epochs]
        # Before the warm-up ends (or in partial_fit) nothing has been compared.
        self.best_loss_ = (
            stopper.best_loss_
            if math.isfinite(stopper.best_loss_)
            else (monitored[-1] if monitored else math.inf)
        )
        self.validation_scores_ = (
            [-e["valid_loss"] for e in epochs if "valid_loss" in e]
            if self.early_stopping
            else None
        )

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
        X = validate_data(self, X, **_INPUT_FORMAT, reset=False)
        self._check_codes(X)
        return X

    def _check_codes(self, X: np.ndarray) -> None:
        """Check that X suits a discrete likelihood (codes seen in fit, [0, 1])."""
        if self.likelihood == "categorical" and hasattr(self, "n_categories_"):
            category_counts(X, self.n_categories_)
        if self.likelihood == "bernoulli":
            check_unit_interval(X)

    def _map_rows(self, array: np.ndarray, fn, chunk_rows: int) -> np.ndarray:
        """Apply ``fn(model, rows)`` to device chunks; gather the results.

        Chunking bounds memory whatever the number of rows. The model is
        trained in float32; float64 input is computed with a float64 copy of
        it, so that a row's output does not depend on the other rows passed
        with it (float32 matrix products round differently with the batch
        size) and float64 is computed as well as stored.
        """
        model = self.model_
        dtype = torch.float64 if array.dtype == np.float64 else torch.float32
        if dtype != torch.float32:
            model = copy.deepcopy(model).to(dtype)
        if model.training:  # eval() walks every submodule: 0.5 ms a call
            model.eval()
        outputs = []
        with torch.inference_mode():
            for start in range(0, array.shape[0], chunk_rows):
                chunk = as_device_tensor(
                    array[start : start + chunk_rows], dtype, self.device_
                )
                outputs.append(fn(model, chunk).cpu().numpy())
        return np.concatenate(outputs)

    def transform(self, X):
        """Encode X as the mean of the posterior q(z|x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units seen by ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Posterior means, deterministic, of X's floating dtype.
        """
        X = self._validated(X)
        return self._map_rows(
            X,
            lambda model, x: model.encode(model.to_working_units(x))[0],
            _TRANSFORM_CHUNK_ROWS,
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

        both = self._map_rows(X, moments, _TRANSFORM_CHUNK_ROWS)
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
        Z : ndarray of shape (n_samples, n_components)
            One posterior draw per row.
        """
        X = self._validated(X)
        generator = self._generator(random_state)
        return self._map_rows(
            X,
            lambda model, x: model.rsample_posterior(
                *model.encode(model.to_working_units(x)), generator
            ),
            _TRANSFORM_CHUNK_ROWS,
        )

    def inverse_transform(self, Z):
        """Decode latent codes to the mean of p(x|z), in X's units.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_components)
            Latent codes, such as the output of :meth:`transform`.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            Decoder means.
        """
        check_is_fitted(self)
        Z = check_array(Z, **_INPUT_FORMAT)
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"Z has {Z.shape[1]} columns, but {type(self).__name__} encodes "
                f"to n_components={self.n_components}."
            )
        return self._map_rows(
            Z,
            lambda model, z: model.from_working_units(
                model.likelihood.mean(model.decode(z))
            ),
            _TRANSFORM_CHUNK_ROWS,
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
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        model = self.model_
        model.eval()
        generator = self._generator(random_state)
        with torch.inference_mode():
            z = model.sample_prior(n_samples, generator)
            x = model.likelihood.sample(model.decode(z), generator)
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
        log_likelihood : ndarray of shape (n_samples,)
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
            X, log_likelihood, max(1, _SCORE_CHUNK_ELEMENTS // n_draws)
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
        score : float
            ``score_samples(X).mean()``.
        """
        return float(self.score_samples(X).mean())
