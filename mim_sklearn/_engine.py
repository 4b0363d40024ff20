"""The training engine: a skorch ``NeuralNet`` fed by on-device batches.

This module is the one seam between the estimators and skorch: nothing else
in the package imports skorch. :func:`build_net` makes the net for a model,
:meth:`LatentNet.train_on_split` trains it on a :class:`TrainingSplit`,
:meth:`LatentNet.training_summary` reports what the estimators publish as
fitted attributes, and :meth:`LatentNet.export_state` /
:meth:`LatentNet.import_state` are what :mod:`mim_sklearn._persistence`
saves and loads.

The net moves the split to the training device once and makes every 0/1
draw of dynamic binarization (the held-out rows' once, each training batch's
at each step); batches are row slices of the device
tensors in an order drawn from a local generator, so no ``DataLoader`` calls
``__getitem__`` per row, and each epoch's losses stay on the device until
the epoch ends (one host synchronisation per epoch).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, GradientNormClipping, PrintLog
from skorch.exceptions import DeviceWarning
from skorch.history import History
from tqdm.auto import tqdm

from ._device import as_device_tensor
from .exceptions import TrainingDivergedError
from .nn.model import LatentVariableModel
from .objectives import Objective

__all__ = [
    "DeviceWarning", "LatentNet", "TrainingSplit", "build_net", "iter_batches",
    "resolve_batch_size",
]

# Validation needs no gradients, so it can use large batches: one forward pass
# for the whole hold-out of a small data set.
VALIDATION_BATCH_ROWS = 4096


# batch_size="auto" (see resolve_batch_size): the steps an epoch it aims at,
# and the smallest and largest batch it takes. 16 rows keep a step's gradient
# from being mostly noise; 128 is the MIM paper's batch.
AUTO_STEPS_PER_EPOCH = 20
AUTO_BATCH_SIZE_RANGE = (16, 128)
# The decoder's learned variances (a GaussianLikelihood's raw_log_var) take
# larger steps than the networks. Adam moves a parameter by about the learning
# rate a step, and a log-variance may have to travel a few units from its
# start at 0: at 1e-3 that takes thousands of steps, over which the held-out
# loss keeps falling slowly and early stopping never fires.
VARIANCE_LEARNING_RATE_FACTOR = 10.0
# A batch: rows of X (in user units) and their weights, or None without weights.
Batch = tuple[torch.Tensor, torch.Tensor | None]


def iter_batches(
    X: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    rows: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> Iterator[Batch]:
    """Yield ``(rows of X, their weights)`` batches of the given rows of ``X``.

    All rows by default; the rows are shuffled when a generator is given.
    ``weights`` (one per row of ``X``) are sliced with the same index, and a
    batch's weights are None without them: a batch is a pair, as skorch's
    ``(X, y)`` batches are. Only the batches are copied, never the whole of
    ``X``.

    Examples
    --------
    >>> [x.tolist() for x, _ in iter_batches(torch.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    >>> [(x.tolist(), w.tolist()) for x, w in iter_batches(
    ...     torch.arange(5), 2, rows=torch.tensor([4, 0]),
    ...     weights=torch.tensor([0.5, 1.0, 1.0, 1.0, 2.0]))]
    [([4, 0], [2.0, 0.5])]
    """
    if rows is None:
        rows = torch.arange(X.shape[0], device=X.device)
    if generator is not None:
        rows = rows[torch.randperm(rows.shape[0], generator=generator, device=X.device)]
    for index in rows.split(batch_size):
        yield X[index], None if weights is None else weights[index]


def binarized(rows: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """A 0/1 draw x ~ Bernoulli(rows) of rows in [0, 1]; NaN stays missing.

    The uniform noise is float32 whatever the rows' dtype, as every draw of
    the package.

    Examples
    --------
    >>> binarized(torch.tensor([[0.0, 1.0, float("nan")]]), None)
    tensor([[0., 1., nan]])
    """
    uniform = torch.rand(
        rows.shape, generator=generator, device=rows.device, dtype=torch.float32
    )
    return torch.where(rows.isnan(), rows, (uniform < rows).to(rows.dtype))


@dataclasses.dataclass(frozen=True, eq=False)
class TrainingSplit:
    """The rows of one training run and of its early stopping, with weights.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training data, in its own units (NaN where missing).
    train_rows : ndarray of int or None
        The rows of X trained on; None for all of them.
    weights : ndarray of shape (n_samples,) or None
        Each row's weight in the loss; None weighs every row 1.
    X_valid : ndarray or None
        The held-out data early stopping monitors: X itself (its rows
        ``valid_rows``) or the user's ``X_val``; None without validation.
    valid_rows : ndarray of int or None
        The rows of ``X_valid`` held out; None for all of them.
    valid_weights : ndarray or None
        One weight per row of ``X_valid``.
    binarization_seed : int or None
        With dynamic binarization, the seed of the one 0/1 draw of the
        held-out rows (early stopping compares epochs on the same data).

    Examples
    --------
    >>> split = TrainingSplit(np.zeros((4, 2)), train_rows=np.array([0, 1, 2]))
    >>> split.X_valid is None  # no early stopping
    True
    """

    X: np.ndarray
    train_rows: np.ndarray | None = None
    weights: np.ndarray | None = None
    X_valid: np.ndarray | None = None
    valid_rows: np.ndarray | None = None
    valid_weights: np.ndarray | None = None
    binarization_seed: int | None = None


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the module's state, detached from later training."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class ObjectiveCriterion(torch.nn.Module):
    """The net's criterion: evaluates the objective it is given on a batch.

    It holds no objective of its own: :meth:`LatentNet.train_epochs` passes
    the run's objective down to every step, so a changed parameter (the
    mutual autoencoder's target, say) takes effect at the next fit.

    Examples
    --------
    >>> from mim_sklearn.objectives import Objective, vae_objective
    >>> loss, terms = ObjectiveCriterion()(
    ...     Objective(vae_objective), LatentVariableModel(3, 2, (4,), "tanh"),
    ...     torch.zeros(2, 3))
    """

    def forward(
        self,
        objective: Objective,
        model: LatentVariableModel,
        x: torch.Tensor,
        beta: float = 1.0,
        generator: torch.Generator | None = None,
        weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return objective(model, x, beta=beta, generator=generator, weights=weights)


class WarmUp(Callback):
    """Ramp the objective's warm-up weight ``beta`` from 0 to 1.

    In epoch ``t`` (counted from 1 over the model's whole training, partial
    fits included) the weight is ``min(1, t / warmup_epochs)``, as in the MIM
    paper's reference code.

    Parameters
    ----------
    warmup_epochs : int
        Length of the ramp; 0 disables it.

    Examples
    --------
    >>> WarmUp(warmup_epochs=4).weight(2)
    0.5
    """

    def __init__(self, warmup_epochs: int) -> None:
        self.warmup_epochs = warmup_epochs

    def weight(self, epoch: int) -> float:
        """Warm-up weight of the given 1-based epoch."""
        if self.warmup_epochs == 0:
            return 1.0
        return min(1.0, epoch / self.warmup_epochs)

    def on_epoch_begin(self, net, **kwargs) -> None:
        net.beta_ = self.weight(len(net.history))
        net.history.record("beta", net.beta_)


class EarlyStopping(Callback):
    """Stop when a monitored loss stops improving, keeping the best weights.

    Unlike ``skorch.callbacks.EarlyStopping`` it asks the net to stop by
    setting ``net.stop_training_`` instead of raising ``KeyboardInterrupt``,
    so a real Ctrl-C is never mistaken for convergence. Epochs of the warm-up
    are not compared: their losses use a different weighting. Each epoch
    records ``<monitor>_best``, whether it was the best so far (never in the
    warm-up, nor when the run does not stop early), which skorch's
    ``Checkpoint`` reads.

    Parameters
    ----------
    monitor : str
        History key of the loss, such as ``"valid_loss"``.
    patience : int
        Epochs without an improvement of more than ``tol`` before stopping.
    tol : float
        Minimum decrease of the loss that counts as an improvement.
    warmup_epochs : int
        Epochs to skip before comparing losses.
    restore_best : bool
        Whether to load the best epoch's weights when training ends.

    Examples
    --------
    >>> stopper = EarlyStopping("valid_loss", patience=3, tol=1e-4, warmup_epochs=0,
    ...                         restore_best=True)
    """

    #: What :meth:`LatentNet.export_state` saves of it.
    STATE = ("best_loss_", "best_epoch_", "misses_", "restored_epoch_")

    def __init__(
        self,
        monitor: str,
        patience: int,
        tol: float,
        warmup_epochs: int,
        restore_best: bool,
    ) -> None:
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.warmup_epochs = warmup_epochs
        self.restore_best = restore_best

    def initialize(self) -> EarlyStopping:
        self.best_loss_ = float("inf")
        self.best_epoch_ = 0
        self.best_state_: dict[str, torch.Tensor] | None = None
        self.misses_ = 0
        self.active_ = True
        self.restored_epoch_: int | None = None
        return self

    def on_train_begin(self, net, stop_early: bool = True, **kwargs) -> None:
        self.active_ = stop_early
        self.misses_ = 0

    def on_epoch_end(self, net, **kwargs) -> None:
        epoch = len(net.history)
        if not self.active_ or epoch <= self.warmup_epochs:
            # Not compared, so not a best: every epoch has the key that
            # skorch's Checkpoint reads (monitor="valid_loss_best").
            net.history.record(f"{self.monitor}_best", False)
            return
        loss = net.history[-1, self.monitor]
        if loss < self.best_loss_ - self.tol:
            self.best_loss_, self.best_epoch_, self.misses_ = loss, epoch, 0
            if self.restore_best:
                self.best_state_ = _snapshot(net.module_)
        else:
            self.misses_ += 1
        net.history.record(f"{self.monitor}_best", self.misses_ == 0)
        if self.misses_ >= self.patience:
            net.stop_training_ = True

    def on_train_end(self, net, **kwargs) -> None:
        # The epoch whose weights the net now holds, if this run found a best.
        self.restored_epoch_ = None
        if self.best_state_ is not None:
            self.restored_epoch_ = self.best_epoch_
            if self.best_epoch_ != len(net.history):
                net.module_.load_state_dict(self.best_state_)
        # The snapshot is only needed while training; drop it so that fitted
        # estimators stay small and hold no device tensors outside the module.
        self.best_state_ = None


class ProgressBar(Callback):
    """A progress bar over a training run: epochs, the losses and the time left.

    tqdm's automatic bar (a widget in Jupyter, text elsewhere), advanced after
    every batch; its total is the run's maximum number of epochs, so the time
    left is an upper bound when early stopping ends the run sooner. After
    each epoch it shows that epoch's mean loss of the training objective per
    row, on the training rows (``train loss``) and on the held-out rows
    (``held-out loss``): the ``loss_curve_`` and ``validation_loss_curve_``
    of the estimators, in the model's internal scaled units, lower is
    better. They are not ``-score``, which is an importance-sampled
    log-likelihood in X's own units.

    Examples
    --------
    >>> bar = ProgressBar()
    """

    # The history's keys, and the words the bar shows for them.
    LABELS = {"train_loss": "train loss", "valid_loss": "held-out loss"}

    def on_train_begin(self, net, epochs: int = 1, batches_per_epoch: int = 1,
                       **kwargs) -> None:
        self.batches_per_epoch_ = max(1, batches_per_epoch)
        # A partial_fit call is one epoch: its bar goes when it is done, so
        # that a loop over chunks does not leave a bar per chunk behind.
        self.bar_ = tqdm(total=epochs, unit="epoch", dynamic_ncols=True,
                         leave=epochs > 1,
                         bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} "
                         "[{elapsed}<{remaining}{postfix}]")

    def on_batch_end(self, net, training: bool = False, **kwargs) -> None:
        if training:
            self.bar_.update(1 / self.batches_per_epoch_)

    def on_epoch_end(self, net, **kwargs) -> None:
        epoch = net.history[-1]
        self.bar_.n = round(self.bar_.n)  # whole epochs, whatever the float sums
        self.bar_.set_postfix(
            {label: f"{epoch[key]:.4g}" for key, label in self.LABELS.items()
             if key in epoch}, refresh=True,
        )

    def on_train_end(self, net, **kwargs) -> None:
        self.bar_.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("bar_", None)  # a bar is tied to its terminal or widget
        return state


class LatentNet(NeuralNet):
    """A skorch net that trains a latent-variable model on device tensors.

    Use :meth:`train_epochs`; skorch's ``fit``/``partial_fit`` entry points
    (which swallow ``KeyboardInterrupt``) are not used. Callbacks receive
    every skorch notification, batch-level ones included (a batch is the pair
    of :func:`iter_batches`: rows and their weights); the history holds
    each epoch's mean loss, the warm-up weight ``beta`` and, under
    ``train_terms`` and ``valid_terms``, the mean of each of the objective's
    terms (such as ``enc_log_p_x_given_z``), and, per batch, its size.

    Parameters
    ----------
    module : LatentVariableModel
        The model, already built.
    seed : int
        Seed of the generator that draws batch orders and noise.
    dynamic_binarization : bool, default=False
        Whether each training batch is drawn anew as 0/1 rows,
        x ~ Bernoulli(rows), before the objective sees it.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    Examples
    --------
    >>> from mim_sklearn.objectives import Objective, vae_objective
    >>> net = LatentNet(LatentVariableModel(3, 2, (4,), "tanh"), seed=0, verbose=0)
    >>> net = net.train_epochs(torch.randn(20, 3), 2, Objective(vae_objective))
    >>> len(net.history)
    2
    """

    def __init__(self, module, criterion=ObjectiveCriterion, *, seed: int = 0,
                 dynamic_binarization: bool = False, **kwargs) -> None:
        super().__init__(module, criterion, **kwargs)
        self.seed = seed
        self.dynamic_binarization = dynamic_binarization

    def initialize(self) -> LatentNet:
        super().initialize()
        self.generator_ = torch.Generator(self.device).manual_seed(self.seed)
        self.beta_ = 1.0
        return self

    def train_epochs(
        self,
        X: torch.Tensor,
        epochs: int,
        objective: Objective,
        *,
        train_rows: torch.Tensor | None = None,
        valid_rows: torch.Tensor | None = None,
        weights: torch.Tensor | None = None,
        X_valid: torch.Tensor | None = None,
        valid_weights: torch.Tensor | None = None,
        stop_early: bool = True,
    ) -> LatentNet:
        """Train for up to ``epochs`` epochs on rows of ``X`` (in user units).

        ``train_rows`` defaults to every row. After each epoch the loss is
        evaluated on the rows ``valid_rows`` (all by default) of ``X_valid``,
        which may be ``X`` itself (held-out rows of it, with ``weights`` as
        ``valid_weights``); without ``X_valid`` there is no validation.
        ``weights`` (one per row of ``X``) and ``valid_weights`` (one per row
        of ``X_valid``) multiply each row's loss; None weighs every row 1.

        An epoch is complete once its ``on_epoch_end`` hooks have run. One
        that an exception cuts short (Ctrl-C, a diverging loss) is undone
        before the exception goes on: the weights, the optimizer's and the
        generator's states, early stopping's record and the history return
        to the epoch's start (then ``on_train_end`` restores the best
        epoch's weights, when early stopping has them).
        """
        if valid_rows is not None and X_valid is None:
            raise ValueError(
                "valid_rows are rows of X_valid: pass X_valid (X itself for "
                "held-out rows of X)."
            )
        if not self.initialized_:
            self.initialize()
        self.stop_training_ = False
        n_train = X.shape[0] if train_rows is None else train_rows.shape[0]
        self.notify("on_train_begin", X=X, y=None, stop_early=stop_early,
                    epochs=epochs,
                    batches_per_epoch=math.ceil(n_train / self.batch_size))
        n_complete = len(self.history)
        try:
            for _ in range(epochs):
                epoch_start_state = self._epoch_start_state()
                self.notify("on_epoch_begin")
                self.run_single_epoch(
                    iter_batches(X, self.batch_size, self.generator_,
                                 rows=train_rows, weights=weights),
                    training=True,
                    prefix="train",
                    step_fn=self.train_step,
                    objective=objective,
                )
                if X_valid is not None:
                    self.run_single_epoch(
                        iter_batches(X_valid, VALIDATION_BATCH_ROWS, rows=valid_rows,
                                     weights=valid_weights),
                        training=False,
                        prefix="valid",
                        step_fn=self.validation_step,
                        objective=objective,
                    )
                self.notify("on_epoch_end")
                # Complete once all its on_epoch_end hooks have run.
                n_complete += 1
                if self.stop_training_:
                    break
        except BaseException:
            # An epoch cut short (a diverging loss, Ctrl-C, any error) is
            # undone, so that the net is as its last completed epoch left it:
            # a diverging one may have met non-finite values, an interrupted
            # one is half done, and the history (whose length the warm-up
            # reads as the epoch count) holds completed epochs only.
            # EarlyStopping then puts the best epoch's weights in place, as
            # at a normal stop, when it has them.
            if len(self.history) > n_complete:  # the epoch had begun
                self._roll_back(epoch_start_state)
                del self.history[n_complete:]
            raise
        finally:
            self.notify("on_train_end", X=X, y=None)
        return self

    def train_on_split(
        self, split: TrainingSplit, epochs: int, objective: Objective, *,
        stop_early: bool,
    ) -> LatentNet:
        """:meth:`train_epochs` on a :class:`TrainingSplit`, moved to the device.

        With dynamic binarization the held-out rows are drawn as 0/1 once,
        here, from the split's seed (on the CPU, so that every device draws
        the same rows); training batches are drawn anew at each step. The
        rows stay in X: held-out rows of X are not copied.
        """
        X_valid, valid_rows = split.X_valid, split.valid_rows
        valid_weights = split.valid_weights
        if split.binarization_seed is not None:
            if valid_rows is not None:  # the held-out rows of X, apart
                X_valid = X_valid[valid_rows]
                if valid_weights is not None:
                    valid_weights = valid_weights[valid_rows]
                valid_rows = None
            generator = torch.Generator().manual_seed(split.binarization_seed)
            X_valid = binarized(torch.from_numpy(X_valid), generator).numpy()

        def on_device(array, dtype=torch.float32):
            return None if array is None else as_device_tensor(
                array, dtype, self.device
            )

        X = on_device(split.X)
        return self.train_epochs(
            X,
            epochs,
            objective,
            train_rows=on_device(split.train_rows, torch.int64),
            valid_rows=on_device(valid_rows, torch.int64),
            weights=on_device(split.weights),
            X_valid=X if X_valid is split.X else on_device(X_valid),
            valid_weights=on_device(valid_weights),
            stop_early=stop_early,
        )

    def _epoch_start_state(self) -> dict:
        """Copies of what an epoch changes: the weights, the optimizer's and
        the generator's states, and what early stopping has learnt."""
        return {
            "module": _snapshot(self.module_),
            "optimizer": copy.deepcopy(self.optimizer_.state_dict()),
            "generator": self.generator_.get_state(),
            "stoppers": [
                (stopper, {name: getattr(stopper, name)
                           for name in (*EarlyStopping.STATE, "best_state_")})
                for _, stopper in self.callbacks_
                if isinstance(stopper, EarlyStopping)
            ],
        }

    def _roll_back(self, state: dict) -> None:
        """Return to a state of :meth:`_epoch_start_state`."""
        self.module_.load_state_dict(state["module"])
        self.optimizer_.load_state_dict(state["optimizer"])
        self.generator_.set_state(state["generator"])
        for stopper, attributes in state["stoppers"]:
            for name, value in attributes.items():
                setattr(stopper, name, value)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one pass; record the epoch's mean loss and terms with one host sync."""
        if not training:
            # Common random numbers: every validation pass draws the same
            # noise, so epochs are compared on the model, not on the noise.
            self.valid_generator_ = torch.Generator(self.device).manual_seed(self.seed)
        total = torch.zeros((), device=self.device)
        terms: dict[str, list[torch.Tensor]] = {}
        n_rows = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            batch_size = batch[0].shape[0]
            self.history.record_batch(f"{prefix}_batch_size", batch_size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            # With weights of mean 1 over the epoch's rows, the epoch's loss is
            # their weighted mean.
            total += step["loss"].detach() * batch_size
            n_rows += batch_size
            # Kept, not reduced, so that a step pays for no extra kernels.
            for name, values in step["terms"].items():
                terms.setdefault(name, []).append(values)
        # One transfer for the loss and the mean of every term over the
        # epoch's pairs (each term holds one value per pair).
        names = list(terms)
        means = torch.stack(
            [total / n_rows, *(torch.cat(terms[n]).mean() for n in names)]
        ).tolist()
        self.history.record(f"{prefix}_terms", dict(zip(names, means[1:])))
        loss = means[0]
        self.history.record(f"{prefix}_loss", loss)
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"The {prefix} loss became {loss} in epoch {len(self.history)}."
            )

    def train_step_single(self, batch: Batch, objective: Objective, **fit_params):
        self._set_training(True)
        rows, weights = batch
        if self.dynamic_binarization:
            rows = binarized(rows, self.generator_)
        loss, terms = self.criterion_(
            objective,
            self.module_,
            self.module_.to_working_units(rows),
            beta=self.beta_,
            generator=self.generator_,
            weights=weights,
        )
        # Checked before the step, which would carry a NaN into every weight
        # and into Adam's moments. A host sync per batch: free on the CPU.
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"The training loss became {loss.item()} in epoch "
                f"{len(self.history)}."
            )
        loss.backward()
        # skorch's train_step then notifies on_grad_computed, where hooks
        # such as its GradientNormClipping act, before the optimizer steps.
        return {"loss": loss, "terms": terms}

    def validation_step(self, batch: Batch, objective: Objective, **fit_params):
        self._set_training(False)
        rows, weights = batch
        with torch.no_grad():
            loss, terms = self.criterion_(
                objective,
                self.module_,
                self.module_.to_working_units(rows),
                beta=1.0,
                generator=self.valid_generator_,
                weights=weights,
            )
        return {"loss": loss, "terms": terms}

    @property
    def _default_callbacks(self):
        # The terms are kept in the history, not printed: a dozen columns.
        return [
            ("epoch_timer", EpochTimer()),
            ("print_log", PrintLog(keys_ignored=["train_terms", "valid_terms"])),
        ]

    @property
    def stopper(self) -> EarlyStopping:
        """The early-stopping callback, whose best epoch the summary reports."""
        return dict(self.callbacks_)["early_stopping"]

    def training_summary(self) -> dict:
        """What the estimators publish of the training so far.

        ``n_iter_``, ``loss_curve_`` and ``best_loss_``, as scikit-learn's
        ``MLPRegressor`` names them, and ``validation_loss_curve_``: the
        held-out loss of each epoch (None without a validation pass), in the
        units of ``loss_curve_``, lower is better.
        """
        epochs = list(self.history)
        stopper = self.stopper
        monitored = [e.get(stopper.monitor, e["train_loss"]) for e in epochs]
        # Before the warm-up ends (or in partial_fit) nothing has been compared.
        best = stopper.best_loss_
        if not math.isfinite(best):
            best = monitored[-1] if monitored else math.inf
        return {
            "n_iter_": len(epochs),
            "loss_curve_": [e["train_loss"] for e in epochs],
            "best_loss_": best,
            "validation_loss_curve_": (
                [e["valid_loss"] for e in epochs if "valid_loss" in e]
                if stopper.monitor == "valid_loss" else None
            ),
        }

    @property
    def warmup_epochs(self) -> int:
        """The epochs of the warm-up ramp (see :class:`WarmUp`)."""
        return dict(self.callbacks_)["warm_up"].warmup_epochs

    @property
    def restored_epoch(self) -> int | None:
        """The epoch whose weights the last run ended with, when early
        stopping restored a best epoch; else None."""
        return self.stopper.restored_epoch_

    def export_state(self) -> tuple[dict, dict[str, object]]:
        """The net's state as plain values and tensors, for a file.

        Returns ``(plain, tensors)``: ``plain`` holds the seed, the per-epoch
        history (without the per-batch rows) and the early stopper's record,
        all JSON-able; ``tensors`` the model's weights (on the CPU), the
        optimizer's state and the random generator's state.
        """
        cpu = torch.device("cpu")
        plain = {
            "net_seed": self.seed,
            "history": [{k: v for k, v in e.items() if k != "batches"}
                        for e in self.history],
            "stopper": {name: getattr(self.stopper, name)
                        for name in EarlyStopping.STATE},
        }
        tensors = {
            "model": {k: v.to(cpu) for k, v in self.module_.state_dict().items()},
            # Loading maps these to the CPU, and the optimizer moves them on
            # to its parameters' device.
            "optimizer": self.optimizer_.state_dict(),
            "generator": self.generator_.get_state(),
        }
        return plain, tensors

    def import_state(self, plain: dict, tensors: dict) -> None:
        """Restore what :meth:`export_state` returned, on this net's device."""
        self.module_.load_state_dict(tensors["model"])
        self.optimizer_.load_state_dict(tensors["optimizer"])
        self.history = History([{**e, "batches": []} for e in plain["history"]])
        for name in EarlyStopping.STATE:
            setattr(self.stopper, name, plain["stopper"][name])
        self._restore_generator(tensors["generator"])

    def _restore_generator(self, state: torch.Tensor) -> None:
        self.generator_ = torch.Generator(self.device)
        if state.numel() == self.generator_.get_state().numel():
            self.generator_.set_state(state)
        else:  # moved between device types: the state formats differ
            self.generator_.manual_seed(self.seed + len(self.history))

    def __getstate__(self):
        # A generator pickles with its device; keep its state (a CPU tensor)
        # instead, so that a net trained on a GPU unpickles without one.
        state = super().__getstate__()
        state.pop("valid_generator_", None)
        if "generator_" in state:
            state["generator_"] = state["generator_"].get_state()
        return state

    def __setstate__(self, state):
        generator_state = state.pop("generator_", None)
        super().__setstate__(state)
        if generator_state is not None:
            self._restore_generator(generator_state)


# The names of the net's own callbacks (skorch's defaults, then the
# estimators'), which a user's callback cannot take. skorch refuses a
# duplicate too, but only of a name in use: the progress bar's with verbose=1.
OWN_CALLBACKS = (
    "epoch_timer", "print_log", "gradient_clipping", "warm_up", "early_stopping",
    "progress_bar",
)


def _copied_user_callbacks(callbacks: Sequence | None) -> list:
    """Checked deep copies of a user's callbacks, for one net.

    Each entry is a skorch ``Callback`` instance or a ``(name, callback)``
    pair, as skorch's ``callbacks`` takes them. Training changes the copies
    only: the estimator's parameter stays as given, so ``clone`` and grid
    searches start every fit from the same callbacks.

    Examples
    --------
    >>> from skorch.callbacks import LRScheduler
    >>> _copied_user_callbacks([("lr", LRScheduler())])[0][0]
    'lr'
    >>> _copied_user_callbacks([("warm_up", LRScheduler())])
    Traceback (most recent call last):
    ...
    ValueError: The callback name 'warm_up' is one of the estimator's own ...
    """
    callbacks = [] if callbacks is None else list(callbacks)
    for entry in callbacks:
        named = isinstance(entry, (tuple, list)) and len(entry) == 2
        name, callback = entry if named else (None, entry)
        if not isinstance(callback, Callback) or (named and not isinstance(name, str)):
            raise ValueError(
                "callbacks takes skorch Callback instances and (name, callback) "
                f"pairs with a str name; got {entry!r}."
            )
        if name in OWN_CALLBACKS:
            raise ValueError(
                f"The callback name {name!r} is one of the estimator's own "
                f"({', '.join(OWN_CALLBACKS)}); give your callback another name."
            )
    # One copy of the whole list keeps objects the entries share shared.
    return copy.deepcopy(callbacks)


def resolve_batch_size(batch_size: int | str, n_rows: int) -> int:
    """The rows per step: ``batch_size``, or the "auto" rule for ``n_rows`` rows.

    "auto" aims at ``AUTO_STEPS_PER_EPOCH`` optimizer steps an epoch, in
    batches of ``AUTO_BATCH_SIZE_RANGE`` rows: a fixed batch gives a table of
    150 rows one step an epoch and MNIST hundreds, so that patience and
    warm-up, counted in epochs, would mean very different amounts of
    training. With the rule, a data set of 320 rows or more gets about 20
    steps an epoch (``n_rows`` counts the rows ``fit`` then holds out for
    early stopping, so 18 at the default ``validation_fraction``), and
    smaller ones batches of 16.

    Examples
    --------
    >>> [resolve_batch_size("auto", n) for n in (150, 1_797, 60_000)]
    [16, 89, 128]
    >>> resolve_batch_size(100, 150)
    100
    """
    if batch_size != "auto":
        return batch_size
    low, high = AUTO_BATCH_SIZE_RANGE
    return int(min(high, max(low, n_rows // AUTO_STEPS_PER_EPOCH)))


def build_net(
    model: LatentVariableModel,
    *,
    seed: int,
    device: str,
    learning_rate: float,
    batch_size: int,
    max_grad_norm: float | None,
    warmup_epochs: int,
    early_stopping: bool,
    patience: int,
    tol: float,
    verbose: int,
    callbacks: Sequence | None = None,
    dynamic_binarization: bool = False,
) -> LatentNet:
    """The initialised net that trains ``model``, with the estimators' callbacks.

    Adam at ``learning_rate``; gradient clipping at ``max_grad_norm`` (None:
    none); the warm-up; early stopping on the held-out loss, restoring the
    best epoch's weights, when ``early_stopping``, else on the training loss.
    ``verbose=1`` shows a progress bar, ``verbose >= 2`` prints skorch's
    table of epochs. The user's ``callbacks`` (see
    :func:`_copied_user_callbacks`) come after these. With
    ``dynamic_binarization`` each training batch is drawn anew as 0/1 rows.

    Examples
    --------
    >>> net = build_net(LatentVariableModel(3, 2, (4,), "tanh"), seed=0, device="cpu",
    ...                 learning_rate=1e-3, batch_size=8, max_grad_norm=None,
    ...                 warmup_epochs=0, early_stopping=False, patience=5, tol=0.0,
    ...                 verbose=0)
    >>> [name for name, _ in net.callbacks]
    ['gradient_clipping', 'warm_up', 'early_stopping']
    """
    own = [
        ("gradient_clipping", GradientNormClipping(max_grad_norm)),
        ("warm_up", WarmUp(warmup_epochs)),
        (
            "early_stopping",
            EarlyStopping(
                "valid_loss" if early_stopping else "train_loss",
                patience=patience,
                tol=tol,
                warmup_epochs=warmup_epochs,
                restore_best=early_stopping,
            ),
        ),
    ]
    if verbose == 1:
        own.append(("progress_bar", ProgressBar()))
    return LatentNet(
        model,
        seed=seed,
        dynamic_binarization=dynamic_binarization,
        optimizer=torch.optim.Adam,
        optimizer__param_groups=[
            ("likelihood.*raw_log_var",
             {"lr": learning_rate * VARIANCE_LEARNING_RATE_FACTOR}),
        ],
        # One fused kernel per step instead of a few per parameter: 18%
        # faster epochs on the CPU (benchmarks/speed.py); CPU and CUDA only.
        optimizer__fused=torch.device(device).type in ("cpu", "cuda"),
        lr=learning_rate,
        batch_size=batch_size,
        device=device,
        # skorch's PrintLog prints when verbose is positive: the table is
        # verbose=2's; verbose=1 has the bar instead.
        verbose=int(verbose >= 2),
        callbacks=own + _copied_user_callbacks(callbacks),
    ).initialize()
