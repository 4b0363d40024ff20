"""The scikit-learn estimator contract, checked on every public estimator."""

import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_html_repr
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.exceptions import DeviceWarning

from .conftest import ESTIMATORS, SMALL

# The settings the issue names: a real model, trained for a few epochs.
CHECK_SETTINGS = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0,
                      device="cpu")


# Every check must pass but one, declared (with its reason) as an expected
# failure: weights equivalent to repeated rows, which stochastic training per
# row cannot give. Unit weights do train exactly as no weights (see
# tests/test_fit_options.py).
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "Training is stochastic, and its randomness is drawn per row, not per "
        "unit of weight: the early-stopping split, the shuffled mini-batches, "
        "each row's posterior draw and MIM's decoder-sampled pair per row. A "
        "row of weight k and k copies of it get different draws, so the fits "
        "agree in expectation only."
    ),
}


@parametrize_with_checks([cls(**CHECK_SETTINGS) for cls in ESTIMATORS],
                         expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_tags_declare_preserved_dtypes_and_missing_values(small_estimator, digits):
    X, _ = digits
    tags = small_estimator.__sklearn_tags__()
    assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]
    assert not tags.input_tags.sparse and tags.input_tags.allow_nan
    est = small_estimator.fit(X)
    for dtype in (np.float32, np.float64):
        Xd = X.astype(dtype)
        assert est.transform(Xd).dtype == dtype
        assert est.posterior(Xd)[1].dtype == dtype
        assert est.inverse_transform(est.transform(Xd)).dtype == dtype


def test_float64_transform_does_not_depend_on_the_other_rows(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    whole = est.transform(X)
    # Computed in float64: the batch size changes the rounding by an ulp or so
    # (a float32 pass differed by 1e-7, which scikit-learn's check rejects).
    for rows in (slice(0, 1), slice(3, 40), slice(120, 300)):
        np.testing.assert_allclose(est.transform(X[rows]), whole[rows],
                                   rtol=1e-13, atol=1e-15)


def test_feature_names_out_and_pandas_output(estimator_class, digits):
    X, _ = digits
    columns = [f"pixel{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns, index=np.arange(1000, 1300))
    est = estimator_class(**SMALL).set_output(transform="pandas").fit(frame)
    prefix = estimator_class.__name__.lower()
    expected = [f"{prefix}{i}" for i in range(SMALL["n_components"])]
    assert est.get_feature_names_out().tolist() == expected
    assert est.feature_names_in_.tolist() == columns
    Z = est.transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert Z.columns.tolist() == expected
    assert Z.index.tolist() == frame.index.tolist()
    est.set_output(transform="default")
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(est.transform(X), Z.to_numpy())


def test_clone_and_parameter_round_trips_also_in_a_pipeline(estimator_class):
    est = estimator_class(n_components=4, hidden_layer_sizes=(32, 16), prior="standard",
                          random_state=3)
    params = est.get_params()
    assert clone(est).get_params() == params
    assert estimator_class().set_params(**params).get_params() == params
    pipe = Pipeline([("enc", est), ("knn", KNeighborsClassifier(5))])
    pipe.set_params(enc__n_components=7, enc__max_iter=3)
    assert pipe.named_steps["enc"].n_components == 7
    copied = clone(pipe)
    assert copied.named_steps["enc"] is not est
    assert copied.get_params()["enc__n_components"] == 7
    assert copied.get_params()["enc__hidden_layer_sizes"] == (32, 16)


def test_clone_of_a_fitted_estimator_is_unfitted(small_estimator, digits):
    X, _ = digits
    fresh = clone(small_estimator.fit(X))
    assert not hasattr(fresh, "net_") and not hasattr(fresh, "n_features_in_")


def test_pickle_and_joblib_round_trips_are_bitwise(small_estimator, digits, tmp_path):
    X, _ = digits
    est = small_estimator.fit(X)
    path = tmp_path / "encoder.joblib"
    joblib.dump(est, path)
    for restored in (pickle.loads(pickle.dumps(est)), joblib.load(path)):
        np.testing.assert_array_equal(restored.transform(X), est.transform(X))
        np.testing.assert_array_equal(restored.inverse_transform(X[:5, :3]),
                                      est.inverse_transform(X[:5, :3]))
        np.testing.assert_array_equal(restored.score_samples(X[:10]),
                                      est.score_samples(X[:10]))
        np.testing.assert_array_equal(restored.sample(5), est.sample(5))


def test_the_estimator_keeps_tensors_only_inside_the_torch_model(
    small_estimator, digits
):
    X, _ = digits
    est = small_estimator.fit(X)
    outside_the_net = {k: v for k, v in vars(est).items() if k != "net_"}
    assert not [k for k, v in outside_the_net.items()
                if isinstance(v, (torch.Tensor, torch.nn.Module, torch.Generator))]


def test_a_model_trained_on_a_gpu_unpickles_on_the_cpu(small_estimator, digits,
                                                       monkeypatch):
    # No GPU here: pretend the model was trained on one (the device recorded at
    # fit time is what unpickling maps from), then load it where none is visible.
    X, _ = digits
    est = small_estimator.fit(X)
    expected = est.transform(X)
    est.device_ = est.net_.device = "cuda"
    blob = pickle.dumps(est)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning) as caught:
        restored = pickle.loads(blob)
    assert any("no CUDA devices" in str(w.message) for w in caught)
    assert restored.device_ == "cpu"
    assert all(p.device.type == "cpu" for p in restored.model_.parameters())
    np.testing.assert_array_equal(restored.transform(X), expected)
    restored.partial_fit(X)  # training continues on the CPU
    assert restored.n_iter_ == est.n_iter_ + 1


def test_warm_start_continues_from_the_fitted_state(estimator_class, digits):
    X, _ = digits
    est = estimator_class(**{**SMALL, "warm_start": True, "n_iter_no_change": 50,
                             "early_stopping": False})
    est.fit(X)
    first_curve = list(est.loss_curve_)
    state = {k: v.clone() for k, v in est.model_.state_dict().items()}
    restart = estimator_class(**{**SMALL, "n_iter_no_change": 50,
                                 "early_stopping": False}).fit(X)
    est.fit(X)
    assert est.loss_curve_[: len(first_curve)] == first_curve
    assert est.n_iter_ == 2 * len(first_curve)
    # The second fit starts where the first ended, so it goes on improving
    # rather than repeating the first curve (which a restart does).
    assert restart.loss_curve_ == first_curve
    assert est.loss_curve_[-1] < first_curve[-1]
    assert any(not torch.equal(v, est.model_.state_dict()[k]) for k, v in state.items())
    with pytest.raises(ValueError, match="features"):
        est.fit(X[:, :10])


def test_partial_fit_is_one_pass_without_early_stopping(estimator_class, digits):
    X, _ = digits
    est = estimator_class(**{**SMALL, "n_iter_no_change": 1})
    est.partial_fit(X)
    optimizer = est.net_.optimizer_
    for _ in range(3):
        est.partial_fit(X)
    assert est.net_.optimizer_ is optimizer  # Adam's moments carry over
    assert est.n_iter_ == 4  # patience 1 would have stopped a fit by now
    assert all("valid_loss" not in epoch for epoch in est.net_.history)
    steps = next(iter(est.net_.optimizer_.state.values()))["step"]
    assert int(steps) == 4 * int(np.ceil(X.shape[0] / est.batch_size_))
    with pytest.raises(ValueError, match="X has 10 features, but .* is expecting 64"):
        est.partial_fit(X[:, :10])


def test_same_random_state_is_bitwise_reproducible_in_joblib_threads(estimator_class,
                                                                     digits):
    X, _ = digits

    def fit_transform(seed):
        return estimator_class(**{**SMALL, "random_state": seed}).fit(X).transform(X)

    alone = fit_transform(0)
    together = Parallel(n_jobs=4, backend="threading")(
        delayed(fit_transform)(seed) for seed in (0, 1, 0, 1)
    )
    np.testing.assert_array_equal(together[0], alone)
    np.testing.assert_array_equal(together[2], alone)
    np.testing.assert_array_equal(together[1], together[3])
    assert not np.allclose(together[0], together[1])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "'n_components' parameter of {} must be an int in the "
                              "range [1, inf)"),
        ({"likelihood": "foo"}, "'likelihood' parameter of {} must be a str among"),
        ({"activation": "swish"}, "'activation' parameter of {} must be a str among"),
        ({"batch_size": 0}, "'batch_size' parameter of {} must be an int"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter of {} must be a "
                                      "float in the range (0.0, inf)"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter of {} must be"),
        ({"max_iter": 2.5}, "'max_iter' parameter of {} must be an int"),
        ({"warm_start": "yes"}, "'warm_start' parameter of {} must be an instance of"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_invalid_parameters_raise_invalid_parameter_error(estimator_class, digits,
                                                          params, message):
    X, _ = digits
    est = estimator_class(**{**SMALL, **params})  # __init__ accepts anything
    with pytest.raises(InvalidParameterError,
                       match=re.escape(message.format(estimator_class.__name__))):
        est.fit(X)


@pytest.mark.parametrize("sizes", [(0,), (16, -1), (2.5,), ((3, 4),)])
def test_hidden_layer_sizes_must_be_positive_integers(estimator_class, digits, sizes):
    X, _ = digits
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a sequence of "
                                         "positive integers"):
        estimator_class(**{**SMALL, "hidden_layer_sizes": sizes}).fit(X)


def test_notebook_html_representation(estimator_class, digits):
    X, _ = digits
    est = estimator_class(n_components=4, random_state=0)
    html = est._repr_html_()
    assert estimator_class.__name__ in html and "n_components" in html
    pipe = Pipeline([("enc", est), ("knn", KNeighborsClassifier(5))])
    assert estimator_class.__name__ in estimator_html_repr(pipe)
    est.set_params(**SMALL).fit(X)
    assert "fitted" in est._repr_html_().lower()
