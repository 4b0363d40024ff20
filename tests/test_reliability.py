"""Faults, bad input, concurrency and large inputs."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from joblib import Parallel, delayed

from mim_sklearn import MIMEncoder, VAEEncoder, resolve_device
from mim_sklearn._engine import LatentNet, ObjectiveCriterion
from mim_sklearn.exceptions import TrainingDivergedError

from .conftest import SMALL

# Enough epochs for early stopping to have a best epoch before the fault.
AFTER_WARM_UP = {**SMALL, "max_iter": 20, "n_iter_no_change": 20}


def poison(monkeypatch, *, epoch, training=True, net=None):
    """Make the loss NaN from the given 1-based epoch on, in one kind of pass.

    The epoch is read from ``net``, by default the next net initialised.
    """
    forward = ObjectiveCriterion.forward
    state = {"net": net}
    initialize = LatentNet.initialize

    def remember(self):
        state["net"] = self
        return initialize(self)

    def nan_forward(self, objective, model, x, beta=1.0, generator=None,
                    weights=None):
        loss, terms = forward(self, objective, model, x, beta, generator, weights)
        net = state["net"]
        if len(net.history) >= epoch and model.training == training:
            loss = loss * float("nan")
        return loss, terms

    monkeypatch.setattr(LatentNet, "initialize", remember)
    monkeypatch.setattr(ObjectiveCriterion, "forward", nan_forward)


def model_state(est):
    return {k: v.clone() for k, v in est.model_.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


@pytest.mark.parametrize("training", [True, False], ids=["train", "valid"])
def test_a_nan_loss_stops_at_once_and_keeps_the_best_weights(digits, monkeypatch,
                                                             training):
    X, _ = digits
    reference = MIMEncoder(**{**AFTER_WARM_UP, "max_iter": 7}).fit(X)
    poison(monkeypatch, epoch=8, training=training)
    est = MIMEncoder(**AFTER_WARM_UP)
    kind = "training" if training else "valid"
    with pytest.raises(TrainingDivergedError, match=re.escape(
        f"The {kind} loss became nan in epoch 8.")) as caught:
        est.fit(X)
    message = str(caught.value)
    best = reference.net_.restored_epoch
    assert f"keeps the weights of epoch {best}, the best so far" in message
    assert "learning_rate_init" in message and "max_grad_norm" in message
    assert isinstance(caught.value, ValueError)
    assert est.n_iter_ == 7
    # Epochs 1-7 are those of the reference fit, so the kept weights are its
    # best epoch's weights, and every output is finite.
    assert_same_state(model_state(est), model_state(reference))
    assert np.isfinite(est.transform(X)).all()
    assert np.isfinite(est.score_samples(X[:5])).all()
    for state in est.net_.optimizer_.state.values():
        assert all(torch.isfinite(v).all() for v in state.values())


def test_a_nan_loss_in_the_warm_up_keeps_the_last_finite_weights(digits, monkeypatch):
    X, _ = digits
    reference = VAEEncoder(**{**AFTER_WARM_UP, "max_iter": 1}).fit(X)
    poison(monkeypatch, epoch=2)
    est = VAEEncoder(**AFTER_WARM_UP)
    with pytest.raises(TrainingDivergedError,
                       match="epoch 2. .*keeps the weights it had when epoch 2 began"):
        est.fit(X)
    assert est.n_iter_ == 1
    assert_same_state(model_state(est), model_state(reference))


def test_a_nan_loss_in_partial_fit_keeps_the_last_finite_weights(digits, monkeypatch):
    X, _ = digits
    est = VAEEncoder(**SMALL).partial_fit(X)
    before = model_state(est)
    poison(monkeypatch, epoch=2, net=est.net_)
    with pytest.raises(TrainingDivergedError, match="epoch 2"):
        est.partial_fit(X)
    assert est.n_iter_ == 1
    assert_same_state(model_state(est), before)


def test_gradient_clipping_bounds_the_norm_of_each_step(digits, monkeypatch):
    X, _ = digits
    norms = []
    step = torch.optim.Adam.step

    def record(self, closure):
        def closure_then_measure():  # skorch computes the gradients in the closure
            loss = closure()
            grads = [p.grad for group in self.param_groups for p in group["params"]]
            norms.append(float(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g) for g in grads]))))
            return loss

        return step(self, closure_then_measure)

    monkeypatch.setattr(torch.optim.Adam, "step", record)
    clipped = MIMEncoder(**{**SMALL, "max_iter": 2, "max_grad_norm": 0.5}).fit(X)
    assert norms and max(norms) <= 0.5 * (1 + 1e-5)
    norms.clear()
    free = MIMEncoder(**{**SMALL, "max_iter": 2}).fit(X)
    assert max(norms) > 0.5  # so the clipping above had work to do
    assert not np.allclose(clipped.transform(X), free.transform(X))


def test_keyboard_interrupt_after_the_warm_up_keeps_the_best_weights(digits,
                                                                     monkeypatch):
    X, _ = digits
    reference = MIMEncoder(**{**AFTER_WARM_UP, "max_iter": 6}).fit(X)
    original = LatentNet.train_step

    def interrupt_in_epoch_7(self, batch, **kwargs):
        if len(self.history) == 7:
            raise KeyboardInterrupt
        return original(self, batch, **kwargs)

    monkeypatch.setattr(LatentNet, "train_step", interrupt_in_epoch_7)
    est = MIMEncoder(**AFTER_WARM_UP)
    best = reference.net_.restored_epoch
    with pytest.warns(UserWarning,
                      match=f"keeps the weights of epoch {best}, the best"):
        est.fit(X)
    assert est.n_iter_ == 6
    assert_same_state(model_state(est), model_state(reference))


@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError,
         "could not convert"),
        (np.ones((5, 2)) + 1j, ValueError, "Complex data not supported"),
        (sp.random(5, 3, density=0.5, format="csr", random_state=0), TypeError,
         "dense data is required"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.empty((5, 0)), ValueError, "0 feature"),
        (np.ones((1, 3)), ValueError, "minimum of 2 is required"),
        (np.array([[1e300, 0.0], [0.0, 1.0]]), ValueError, "beyond float32's range"),
        (np.array([[np.nan, 0.0], [np.nan, 1.0]]), ValueError,
         r"Feature\(s\) 0 have no observed value"),
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), ValueError, "infinity"),
    ],
    ids=["strings", "complex", "sparse", "no-rows", "no-columns", "one-row",
         "beyond-float32", "all-missing-column", "inf"],
)
def test_bad_training_input_gets_a_clear_error(estimator_class, X, error, message):
    est = estimator_class(**SMALL)
    with pytest.raises(error, match=message):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_numeric_object_arrays_and_a_single_row_work(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X.astype(object))
    one = est.transform(X[:1])
    assert one.shape == (1, 3)
    np.testing.assert_allclose(one, est.transform(X)[:1], rtol=1e-12, atol=1e-14)


def test_data_in_extreme_units_trains_like_data_in_plain_ones(estimator_class, digits):
    X, _ = digits
    plain = estimator_class(**SMALL).fit(X).transform(X)
    for factor in (1e-20, 1e20):
        scaled = estimator_class(**SMALL).fit(X * factor).transform(X * factor)
        np.testing.assert_allclose(scaled, plain, rtol=1e-3, atol=1e-4)


def test_threads_share_a_fitted_model_safely(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    calls = [("transform", X), ("score_samples", X[:40]), ("transform", X[:100]),
             ("score_samples", X[40:80])] * 3
    alone = [getattr(est, name)(data) for name, data in calls]
    together = Parallel(n_jobs=4, backend="threading")(
        delayed(getattr(est, name))(data) for name, data in calls
    )
    for expected, got in zip(alone, together):
        np.testing.assert_array_equal(got, expected)


def test_large_inputs_are_processed_in_bounded_chunks(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 4)).astype(np.float32)
    est = VAEEncoder(n_components=2, hidden_layer_sizes=(8,), max_iter=1,
                     n_importance_samples=4, device="cpu", random_state=0).fit(X[:2000])
    rows_seen = []
    posterior = type(est.model_).posterior

    def spy(model, x):
        rows_seen.append(x.shape[-2])
        return posterior(model, x)

    monkeypatch.setattr(type(est.model_), "posterior", spy)
    Z = est.transform(X)
    assert Z.shape == (200_000, 2) and max(rows_seen) <= 2**16
    np.testing.assert_array_equal(Z[-1000:], est.transform(X[-1000:]))
    X_back = est.inverse_transform(Z)
    assert X_back.shape == X.shape and np.isfinite(X_back).all()
    rows_seen.clear()
    log_p = est.score_samples(X)
    # 2**10 row-draw pairs per chunk: 256 rows of 4 draws.
    assert log_p.shape == (200_000,) and max(rows_seen) == 256
    np.testing.assert_allclose(log_p[-300:], est.score_samples(X[-300:]), rtol=1e-6)


def out_of_memory_above(monkeypatch, est, max_rows, error):
    """Make the model's encoder raise ``error`` on more than ``max_rows`` rows;
    return the row counts it computed."""
    posterior = type(est.model_).posterior
    rows_seen = []

    def limited(model, x):
        if x.shape[-2] > max_rows:
            raise error("out of memory")
        rows_seen.append(x.shape[-2])
        return posterior(model, x)

    monkeypatch.setattr(type(est.model_), "posterior", limited)
    return rows_seen


@pytest.mark.parametrize("error", [MemoryError, torch.cuda.OutOfMemoryError])
def test_a_chunk_out_of_memory_is_computed_again_in_smaller_chunks(
    digits, monkeypatch, error
):
    X, _ = digits
    est = VAEEncoder(**SMALL).fit(X)
    gaps = X.copy()
    gaps[::3, 20] = np.nan  # imputation reconstructs these from the rest
    calls = {
        "transform": lambda: est.transform(X),
        "posterior": lambda: np.hstack(est.posterior(X)),
        # Chunks of 64 rows x 16 draws, each drawing with a generator seeded
        # alike: halved chunks must draw the same noise for every row.
        "score_samples": lambda: est.score_samples(X),
        "reconstruction": lambda: est.impute(gaps),
        "float32": lambda: est.transform(X.astype(np.float32)),
    }
    expected = {name: call() for name, call in calls.items()}
    rows_seen = out_of_memory_above(monkeypatch, est, 20, error)
    for name, call in calls.items():
        first_chunk = 64 if name in ("score_samples", "reconstruction") else 300
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = call()
        assert [str(w.message) for w in caught] == [  # one warning per call
            f"A chunk of {first_chunk} rows ran out of memory on cpu; retrying "
            "with smaller chunks, which is slower. Free memory, or pass fewer "
            "rows at a time."
        ]
        # Equal but for rounding, which matrix products do with the batch size.
        tolerance = 1e-5 if name == "float32" else 1e-12
        np.testing.assert_allclose(got, expected[name], rtol=tolerance,
                                   atol=tolerance / 10)
    assert max(rows_seen) <= 20


def test_a_single_row_out_of_memory_is_raised(digits, monkeypatch):
    X, _ = digits
    est = VAEEncoder(**SMALL).fit(X)
    out_of_memory_above(monkeypatch, est, 0, MemoryError)
    with pytest.warns(UserWarning, match="retrying with smaller chunks"):
        with pytest.raises(MemoryError, match="out of memory"):
            est.transform(X[:5])


@pytest.mark.parametrize("device", ["cuda", f"cuda:{torch.cuda.device_count()}"])
def test_a_missing_device_is_a_value_error_that_names_the_available_ones(
    device, digits
):
    X, _ = digits
    est = MIMEncoder(**{**SMALL, "device": device})
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(
        ValueError, match=r"not available .*\(available: cpu.*device='auto'"
    ):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_a_malformed_device_is_a_value_error(digits):
    with pytest.raises(ValueError, match="is not a torch device"):
        MIMEncoder(**{**SMALL, "device": "gpu"}).fit(digits[0])


def test_resolve_device_says_where_an_estimator_trains(digits):
    auto = resolve_device("auto")
    assert auto == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    est = MIMEncoder(**{**SMALL, "device": "auto"}).fit(digits[0])
    assert est.device_ == auto
    with pytest.raises(ValueError, match="is not a torch device"):
        resolve_device("gpu")
    with pytest.raises(ValueError, match="not available on this machine"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
