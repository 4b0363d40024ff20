"""Property-based tests: any valid shape, dtype and parameters give a working model."""

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mim_sklearn import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.exceptions import TrainingDivergedError

# Tiny models: each example trains for real, in a few tens of milliseconds.
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def data_and_estimator(draw, elements=None):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    if elements is None:
        elements = st.floats(-1e3, 1e3, allow_nan=False, width=32)
    X = draw(arrays(dtype, (n_samples, n_features), elements=elements))
    cls = draw(st.sampled_from([MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder]))
    est = cls(
        n_components=draw(st.integers(1, 4)),
        hidden_layer_sizes=draw(st.lists(st.integers(1, 8), min_size=0, max_size=2)),
        activation=draw(st.sampled_from(["tanh", "relu", "logistic", "identity"])),
        scaling=draw(st.sampled_from(["global", "feature"])),
        prior=draw(st.sampled_from(["standard", "mog", "vamp"])),
        n_prior_components=draw(st.integers(1, n_samples)),
        batch_size=draw(st.integers(1, 50)),
        early_stopping=draw(st.booleans()),
        warmup_epochs=draw(st.integers(0, 2)),
        max_iter=2,
        n_importance_samples=draw(st.integers(1, 8)),
        device="cpu",
        random_state=draw(st.integers(0, 2**31 - 1)),
    )
    return X, est


def assert_finite_outputs_of_the_right_shape(est, X):
    n, d = X.shape
    Z = est.transform(X)
    assert Z.shape == (n, est.n_components) and Z.dtype == X.dtype
    assert np.isfinite(Z).all()
    X_back = est.inverse_transform(Z)
    assert X_back.shape == (n, d) and np.isfinite(X_back).all()
    log_p = est.score_samples(X)
    assert log_p.shape == (n,) and not np.isnan(log_p).any()
    assert est.sample(3).shape == (3, d)


@PROPERTY_SETTINGS
@given(data_and_estimator())
def test_any_valid_input_trains_a_working_model(case):
    X, est = case
    est.fit(X)
    assert 1 <= est.n_iter_ <= 2
    assert_finite_outputs_of_the_right_shape(est, X)


# Found by CI: centring 3.4e38 and -1.1e38 at their mean overflowed float32.
_FLOAT32_MAX = np.finfo(np.float32).max
_OVERFLOWING_CENTRING = np.array(
    [[0.0, -1.1342746e38]] + [[_FLOAT32_MAX, _FLOAT32_MAX]] * 3, dtype=np.float32
)


@PROPERTY_SETTINGS
@given(data_and_estimator(
    elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
@example((_OVERFLOWING_CENTRING, MIMEncoder(
    n_components=1, hidden_layer_sizes=[], batch_size=1, max_iter=2, warmup_epochs=0,
    n_importance_samples=1, early_stopping=False, device="cpu", random_state=0)))
@example((_OVERFLOWING_CENTRING, MIMEncoder(
    n_components=1, hidden_layer_sizes=[], batch_size=1, max_iter=2, warmup_epochs=0,
    n_importance_samples=1, early_stopping=False, device="cpu", random_state=0,
    prior="vamp", n_prior_components=1)))
def test_extreme_values_never_leave_a_silently_broken_model(case):
    # Values anywhere in float32's range: training either succeeds with finite
    # outputs or stops with a clear error, leaving finite weights.
    X, est = case
    try:
        est.fit(X)
    except TrainingDivergedError:
        pass
    for parameter in est.model_.parameters():
        assert np.isfinite(parameter.detach().numpy()).all()
    Z = est.transform(X)
    assert np.isfinite(Z).all()
