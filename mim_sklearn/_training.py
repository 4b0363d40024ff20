"""The training engine: a skorch ``NeuralNet`` fed by on-device batches.

This module is the one seam between the estimators and skorch. The estimator
hands it tensors that already live on the training device; batches are row
slices of those tensors in an order drawn from a local generator, so no
``DataLoader`` calls ``__getitem__`` per row, and each epoch's loss stays on
the device until the epoch ends (one host synchronisation per epoch).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PrintLog
from torch import nn

from .exceptions import TrainingDivergedError
from .objectives import Objective


# Validation needs no gradients, so it can use large batches: one forward pass
# for the whole hold-out of a small data set.
VALIDATION_BATCH_ROWS = 4096


class ObjectiveCriterion(nn.Module):
    """Wrap an objective function as a skorch criterion.

    Parameters
    ----------
    objective : callable
        A module-level function of :mod:`mim_sklearn.objectives` (a module
        attribute, so the fitted net stays picklable).

    Examples
    --------
    >>> from mim_sklearn.objectives import vae_objective
    >>> from mim_sklearn.nn import LatentVariableModel
    >>> criterion = ObjectiveCriterion(vae_objective)
    >>> loss, terms = criterion(LatentVariableModel(3, 2, (4,), "tanh"), torch.zeros(2, 3))
    """

    def __init__(self, objective: Objective) -> None:
        super().__init__()
        self.objective = objective

    def forward(
        self,
        model: nn.Module,
        x: torch.Tensor,
        beta: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        with model.shared_prior_pass():
            return self.objective(model, x, beta=beta, generator=generator)


def iter_batches(
    X: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    rows: torch.Tensor | None = None,
) -> Iterator[torch.Tensor]:
    """Yield batches of the given rows of ``X`` (all rows by default).

    The rows are shuffled when a generator is given. Only the batches are
    copied, never the whole of ``X``.

    Examples
    --------
    >>> [b.tolist() for b in iter_batches(torch.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    >>> [b.tolist() for b in iter_batches(torch.arange(5), 2, rows=torch.tensor([4, 0]))]
    [[4, 0]]
    """
    if rows is None:
        rows = torch.arange(X.shape[0], device=X.device)
    if generator is not None:
        rows = rows[torch.randperm(rows.shape[0], generator=generator, device=X.device)]
    for index in rows.split(batch_size):
        yield X[index]


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
    are not compared: their losses use a different weighting.

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
            return
        loss = net.history[-1, self.monitor]
        if loss < self.best_loss_ - self.tol:
            self.best_loss_, self.best_epoch_, self.misses_ = loss, epoch, 0
            if self.restore_best:
                self.best_state_ = net._copy_module_state()
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


class LatentNet(NeuralNet):
    """A skorch net that trains a latent-variable model on device tensors.

    Use :meth:`train_epochs`; skorch's ``fit``/``partial_fit`` entry points
    (which swallow ``KeyboardInterrupt``) are not used.

    Parameters
    ----------
    module : LatentVariableModel
        The model, already built.
    criterion : ObjectiveCriterion
        The objective.
    seed : int
        Seed of the generator that draws batch orders and noise.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    Examples
    --------
    >>> from mim_sklearn.nn import LatentVariableModel
    >>> from mim_sklearn.objectives import vae_objective
    >>> net = LatentNet(LatentVariableModel(3, 2, (4,), "tanh"),
    ...                 ObjectiveCriterion(vae_objective), seed=0, verbose=0)
    >>> net = net.train_epochs(torch.randn(20, 3), epochs=2)
    >>> len(net.history)
    2
    """

    def __init__(self, module, criterion, *, seed: int = 0, **kwargs) -> None:
        super().__init__(module, criterion, **kwargs)
        self.seed = seed

    def initialize(self) -> LatentNet:
        super().initialize()
        self.generator_ = torch.Generator(self.device).manual_seed(self.seed)
        self.beta_ = 1.0
        return self

    def train_epochs(
        self,
        X: torch.Tensor,
        epochs: int,
        *,
        train_rows: torch.Tensor | None = None,
        valid_rows: torch.Tensor | None = None,
        stop_early: bool = True,
    ) -> LatentNet:
        """Train for up to ``epochs`` epochs on rows of ``X`` (in user units).

        ``train_rows`` defaults to every row; ``valid_rows``, when given, are
        evaluated after each epoch.
        """
        if not self.initialized_:
            self.initialize()
        self.stop_training_ = False
        self.notify("on_train_begin", X=X, y=None, stop_early=stop_early)
        n_complete = len(self.history)
        try:
            for _ in range(epochs):
                epoch_start_state = self._copy_module_state()
                self.notify("on_epoch_begin")
                self.run_single_epoch(
                    iter_batches(X, self.batch_size, self.generator_, train_rows),
                    training=True,
                    prefix="train",
                    step_fn=self.train_step,
                )
                if valid_rows is not None:
                    self.run_single_epoch(
                        iter_batches(X, VALIDATION_BATCH_ROWS, rows=valid_rows),
                        training=False,
                        prefix="valid",
                        step_fn=self.validation_step,
                    )
                self.notify("on_epoch_end")
                n_complete += 1
                if self.stop_training_:
                    break
        except TrainingDivergedError:
            # The failing step was never taken, but a later validation pass or
            # an earlier step may have met the problem: go back to weights
            # known to give finite losses. EarlyStopping then puts the best
            # epoch's weights in their place, when it has them.
            self.module_.load_state_dict(epoch_start_state)
            del self.history[n_complete:]
            raise
        except BaseException:
            # Forget an epoch cut short: the history (whose length the warm-up
            # reads as the epoch count) holds completed epochs only.
            del self.history[n_complete:]
            raise
        finally:
            self.notify("on_train_end", X=X, y=None)
        return self

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one pass; record the epoch's mean loss with one host sync."""
        if not training:
            # Common random numbers: every validation pass draws the same
            # noise, so epochs are compared on the model, not on the noise.
            self.valid_generator_ = torch.Generator(self.device).manual_seed(self.seed)
        total = torch.zeros((), device=self.device)
        n_rows = 0
        for batch in iterator:
            step = step_fn(batch, **fit_params)
            total += step["loss"].detach() * batch.shape[0]
            n_rows += batch.shape[0]
        loss = (total / n_rows).item()
        self.history.record(f"{prefix}_loss", loss)
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"The {prefix} loss became {loss} in epoch {len(self.history)}."
            )

    def _copy_module_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.module_.state_dict().items()}

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        x = self.module_.to_working_units(batch)
        loss, terms = self.criterion_(
            self.module_, x, beta=self.beta_, generator=self.generator_
        )
        # Checked before the step, which would carry a NaN into every weight
        # and into Adam's moments. A host sync per batch: free on the CPU.
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"The training loss became {loss.item()} in epoch "
                f"{len(self.history)}."
            )
        loss.backward()
        # Hooks such as skorch's GradientNormClipping act here.
        self.notify(
            "on_grad_computed",
            named_parameters=list(self.module_.named_parameters()),
            X=batch,
            y=None,
            training=True,
        )
        return {"loss": loss, "y_pred": terms}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        with torch.no_grad():
            loss, terms = self.criterion_(
                self.module_,
                self.module_.to_working_units(batch),
                beta=1.0,
                generator=self.valid_generator_,
            )
        return {"loss": loss, "y_pred": terms}

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("print_log", PrintLog())]

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
            self.generator_ = torch.Generator(self.device)
            if generator_state.numel() == self.generator_.get_state().numel():
                self.generator_.set_state(generator_state)
            else:  # moved between device types: the state formats differ
                self.generator_.manual_seed(self.seed + len(self.history))
