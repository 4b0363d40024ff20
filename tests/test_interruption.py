"""Ctrl-C during training: the estimator keeps its last completed epoch."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from mim_sklearn import MIMEncoder, load, save

from .conftest import SMALL

# Enough epochs for early stopping to have a best epoch before the interrupt.
AFTER_WARM_UP = {**SMALL, "max_iter": 20, "n_iter_no_change": 20}
# Every epoch trains on all the rows: a run cut in two trains as one run.
NO_SPLIT = {**SMALL, "early_stopping": False, "n_iter_no_change": 20}


class InterruptOnce(Callback):
    """Press Ctrl-C once in the given epoch: after its first training batch
    (``where="batch"``, mid-epoch) or in its on_epoch_end (``"epoch"``).

    It comes after the estimator's own callbacks, so at the end of an epoch
    early stopping has already judged it.
    """

    def __init__(self, epoch, where):
        self.epoch = epoch
        self.where = where

    def initialize(self):
        self.fired_ = False
        return self

    def _fire(self, net, where):
        if where == self.where and len(net.history) == self.epoch and not self.fired_:
            self.fired_ = True
            raise KeyboardInterrupt

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history[-1]["batches"]) == 1:
            self._fire(net, "batch")

    def on_epoch_end(self, net, **kwargs):
        self._fire(net, "epoch")


def interrupted(params, X, epoch, where):
    est = MIMEncoder(**params, callbacks=[InterruptOnce(epoch, where)])
    with pytest.warns(UserWarning, match="interrupted") as record:
        est.fit(X)
    return est, str(record[0].message)


def assert_same_tensors(a, b):
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def assert_same_training(est, reference):
    assert est.n_iter_ == reference.n_iter_ == len(est.net_.history)
    for name in ("loss_curve_", "validation_loss_curve_", "best_loss_"):
        assert getattr(est, name) == getattr(reference, name)
    assert est.net_.restored_epoch == reference.net_.restored_epoch
    assert_same_tensors(est.model_.state_dict(), reference.model_.state_dict())
    assert_same_tensors(est.net_.optimizer_.state_dict()["state"],
                        reference.net_.optimizer_.state_dict()["state"])
    assert_same_tensors(est.net_.generator_.get_state(),
                        reference.net_.generator_.get_state())


@pytest.mark.parametrize("where", ["batch", "epoch"])
@pytest.mark.parametrize(
    "params, epoch, kept",
    [(SMALL, 3, "the weights of epoch 2, the last completed"),
     (AFTER_WARM_UP, 7, "the best so far")],
    ids=["in-the-warm-up", "with-a-best-epoch"],
)
def test_an_interrupted_epoch_is_undone(digits, params, epoch, kept, where):
    X, _ = digits
    est, message = interrupted(params, X, epoch, where)
    # The epochs before the interrupted one, as a run that stopped there:
    # the last completed epoch's state, or the best epoch's weights.
    reference = MIMEncoder(**{**params, "max_iter": epoch - 1}).fit(X)
    assert_same_training(est, reference)
    assert kept in message
    best = reference.net_.restored_epoch
    if best is not None:
        assert f"the weights of epoch {best}, the best so far" in message


@pytest.mark.parametrize("where", ["batch", "epoch"])
def test_an_interrupt_in_the_first_epoch_keeps_the_initial_weights(digits, where):
    X, _ = digits
    est, message = interrupted(SMALL, X, 1, where)
    assert "its initial weights (no epoch was completed)" in message
    assert est.n_iter_ == 0 and est.loss_curve_ == [] and len(est.net_.history) == 0
    assert np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize("where", ["batch", "epoch"])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_training_goes_on_as_usual_after_an_interrupt(digits, how, where):
    X, _ = digits
    est, _ = interrupted(NO_SPLIT, X, 3, where)
    if how == "warm_start":
        est.set_params(warm_start=True, max_iter=3).fit(X)
    else:
        est.partial_fit(X)
    # The interrupted epoch never happened: the run goes on as one that was
    # never interrupted.
    reference = MIMEncoder(**{**NO_SPLIT, "max_iter": est.n_iter_}).fit(X)
    assert est.n_iter_ == (5 if how == "warm_start" else 3)
    assert_same_training(est, reference)


def test_an_interrupted_estimator_saves_and_loads(digits, tmp_path):
    X, _ = digits
    est, _ = interrupted(AFTER_WARM_UP, X, 7, "batch")
    save(est.set_params(callbacks=None), tmp_path / "m.pt")
    restored = load(tmp_path / "m.pt")
    assert restored.n_iter_ == est.n_iter_ == 6
    assert restored.loss_curve_ == est.loss_curve_
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    np.testing.assert_array_equal(restored.partial_fit(X).transform(X),
                                  est.partial_fit(X).transform(X))
