import pickle
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from skorch.callbacks import ProgressBar as SkorchProgressBar

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn._engine import (
    EarlyStopping,
    LatentNet,
    WarmUp,
    iter_batches,
    resolve_batch_size,
)
from mim_sklearn.nn import LatentVariableModel
from mim_sklearn.objectives import Objective, mim_objective

from .conftest import SMALL

MIM = Objective(mim_objective)


def _net(**kwargs):
    return LatentNet(
        LatentVariableModel(3, 2, (8,), "tanh", seed=0),
        seed=0,
        optimizer=torch.optim.Adam,
        verbose=0,
        **kwargs,
    )


def test_iter_batches_covers_every_row_once():
    X = torch.arange(10)
    batches = list(iter_batches(X, 4, torch.Generator().manual_seed(0)))
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    assert all(w is None for _, w in batches)
    assert sorted(torch.cat([x for x, _ in batches]).tolist()) == list(range(10))
    assert torch.equal(torch.cat([x for x, _ in iter_batches(X, 4)]), X)


def test_iter_batches_slices_the_weights_with_the_rows():
    X = torch.arange(10)
    weights = X * 10.0
    batches = list(iter_batches(X, 4, torch.Generator().manual_seed(0),
                                rows=torch.arange(1, 9), weights=weights))
    assert [len(x) for x, _ in batches] == [4, 4]
    assert sorted(torch.cat([x for x, _ in batches]).tolist()) == list(range(1, 9))
    for x, w in batches:  # shuffled, and each weight still beside its row
        assert torch.equal(w, x * 10.0)


def test_auto_batch_size_gives_small_data_about_20_steps_an_epoch():
    sizes = {n: resolve_batch_size("auto", n) for n in (10, 150, 1_437, 9_000, 60_000)}
    assert sizes == {10: 16, 150: 16, 1_437: 71, 9_000: 128, 60_000: 128}
    assert resolve_batch_size(160, 150) == 160  # a number is used as given


def test_warm_up_ramps_beta_per_epoch():
    net = _net(callbacks=[("warm_up", WarmUp(4))])
    net.train_epochs(torch.randn(20, 3), 6, MIM)
    assert net.history[:, "beta"] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert WarmUp(0).weight(1) == 1.0


def test_early_stopping_stops_and_restores_the_best_weights():
    stopper = EarlyStopping("valid_loss", patience=2, tol=0.0, warmup_epochs=0,
                            restore_best=True)
    net = _net(callbacks=[("early_stopping", stopper)], lr=0.05)
    X = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    losses = iter([5.0, 3.0, 4.0, 4.5, 1.0])
    snapshots = []

    def scripted_epoch(iterator, training, prefix, step_fn, **kwargs):
        if training:  # real training step, so the weights change every epoch
            LatentNet.run_single_epoch(net, iterator, training, prefix, step_fn,
                                       **kwargs)
            state = net.module_.state_dict()
            snapshots.append({k: v.clone() for k, v in state.items()})
        else:
            net.history.record("valid_loss", next(losses))

    net.run_single_epoch = scripted_epoch
    net.train_epochs(X, 10, MIM, train_rows=torch.arange(5, 40),
                     valid_rows=torch.arange(5), X_valid=X)
    assert len(net.history) == 4  # epoch 2 was best; epochs 3 and 4 missed
    for key, value in net.module_.state_dict().items():
        torch.testing.assert_close(value, snapshots[1][key])
    assert stopper.best_loss_ == 3.0 and stopper.best_epoch_ == 2


def test_early_stopping_ignores_the_warm_up():
    stopper = EarlyStopping("train_loss", patience=1, tol=0.0, warmup_epochs=3,
                            restore_best=False)
    net = _net(callbacks=[("early_stopping", stopper)])
    net.train_epochs(torch.randn(20, 3), 4, MIM)
    assert len(net.history) == 4
    assert stopper.best_epoch_ == 4


def test_a_real_keyboard_interrupt_is_not_taken_for_convergence(digits):
    X, _ = digits
    est = VAEEncoder(**{**SMALL, "max_iter": 50, "n_iter_no_change": 50})
    calls = {"n": 0}
    original = LatentNet.train_step

    def interrupt_at_epoch_4(self, batch, **kwargs):
        calls["n"] += 1
        if len(self.history) == 4:
            raise KeyboardInterrupt
        return original(self, batch, **kwargs)

    LatentNet.train_step = interrupt_at_epoch_4
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            est.fit(X)
    finally:
        LatentNet.train_step = original
    assert est.n_iter_ == 3  # the interrupted fourth epoch does not count
    assert np.all(np.isfinite(est.transform(X)))


def test_non_finite_loss_raises_with_the_epoch(digits):
    X, _ = digits
    est = VAEEncoder(**{**SMALL, "max_iter": 5})
    est.fit(X)
    with torch.no_grad():
        est.model_.decoder[0].weight.fill_(float("nan"))
    est.set_params(warm_start=True)
    with pytest.raises(FloatingPointError, match="epoch"):
        est.fit(X)


def test_net_pickles_with_its_generator_state():
    net = _net()
    net.train_epochs(torch.randn(20, 3), 1, MIM)
    clone = pickle.loads(pickle.dumps(net))
    assert torch.equal(
        torch.randn(3, generator=clone.generator_),
        torch.randn(3, generator=net.generator_),
    )


def test_generator_of_another_device_type_is_reseeded():
    net = _net()
    net.train_epochs(torch.randn(20, 3), 1, MIM)
    state = net.__getstate__()
    state["generator_"] = torch.zeros(16, dtype=torch.uint8)  # a CUDA-sized state
    clone = LatentNet.__new__(LatentNet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone.__setstate__(state)
    assert clone.generator_.device.type == "cpu"
    assert torch.randn(2, generator=clone.generator_).shape == (2,)


class CountBatches(Callback):
    def initialize(self):
        self.calls = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.calls.append(("begin", training, len(batch[0])))

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        self.calls.append(("end", training, len(batch[0])))
        assert torch.isfinite(loss)

    def on_grad_computed(self, net, **kwargs):
        self.calls.append(("grad", True, None))


def test_batch_callbacks_hear_every_batch():
    counter = CountBatches()
    net = _net(callbacks=[("count", counter)], batch_size=8)
    X = torch.randn(20, 3)
    net.train_epochs(X, 2, MIM, train_rows=torch.arange(4, 20),
                     valid_rows=torch.arange(4), X_valid=X)
    # Per epoch: two training batches of 8 (each with one gradient), then one
    # validation batch of 4.
    epoch = [("begin", True, 8), ("grad", True, None), ("end", True, 8)] * 2 + [
        ("begin", False, 4), ("end", False, 4)]
    assert counter.calls == epoch * 2
    assert [len(e["batches"]) for e in net.history] == [3, 3]


def test_skorch_progress_bar_counts_the_batches(capsys):
    net = _net(callbacks=[("bar", SkorchProgressBar(batches_per_epoch="count"))],
               batch_size=5)
    net.train_epochs(torch.randn(20, 3), 2, MIM)
    # The second epoch's bar has the total counted in the first: 4 batches.
    assert "0/4 " in capsys.readouterr().err


def test_history_records_the_mean_of_each_term():
    net = _net(callbacks=[("warm_up", WarmUp(1))])
    net.train_epochs(torch.randn(20, 3), 1, MIM)
    epoch = net.history[-1, "train_terms"]
    terms = ["log_p_x_given_z", "log_p_z", "log_q_z_given_x", "log_q_x"]
    # The encoder-sampled pairs' loss is half the negated sum of their terms
    # (with beta = 1 in the first epoch of a one-epoch warm-up, MIM pairs of
    # both kinds count, each half of the batch's loss).
    enc = -0.5 * sum(epoch[f"enc_{t}"] for t in terms)
    dec = -0.5 * sum(epoch[f"dec_{t}"] for t in terms)
    assert net.history[-1, "train_loss"] == pytest.approx(0.5 * (enc + dec), rel=1e-5)


def test_verbose_1_shows_a_progress_bar_and_2_the_table(digits, capsys):
    X, _ = digits
    MIMEncoder(**{**SMALL, "max_iter": 3, "verbose": 1}).fit(X)
    captured = capsys.readouterr()
    assert "3.0/3 " in captured.err and "train loss=" in captured.err
    assert "epoch" not in captured.out
    MIMEncoder(**{**SMALL, "max_iter": 3, "verbose": 2}).fit(X)
    captured = capsys.readouterr()
    assert "train_loss" in captured.out and "3.0/3" not in captured.err


def test_a_partial_fit_bar_does_not_stay(digits, capsys):
    X, _ = digits
    encoder = MIMEncoder(**{**SMALL, "verbose": 1})
    encoder.partial_fit(X)
    encoder.partial_fit(X)
    err = capsys.readouterr().err
    # Each call drew its bar and cleared it: the last line is blank.
    assert "1.0/1 " in err and err.rstrip("\n").split("\r")[-1].strip() == ""
    # A fit's bar stays, ending on its last epoch.
    MIMEncoder(**{**SMALL, "max_iter": 2, "early_stopping": False,
                  "verbose": 1}).fit(X)
    assert capsys.readouterr().err.rstrip("\n").split("\r")[-1].startswith("100%")
