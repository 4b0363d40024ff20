"""The API every estimator shares, run on each of them."""

import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from mim_sklearn import MAEEncoder, MIMEncoder

from .conftest import SMALL


def test_fit_sets_the_documented_attributes(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    assert est.n_features_in_ == 64
    assert 1 <= est.n_iter_ <= SMALL["max_iter"]
    assert len(est.loss_curve_) == est.n_iter_
    assert len(est.validation_loss_curve_) == est.n_iter_
    assert np.isfinite(est.best_loss_)
    assert est.device_ == "cpu"
    assert isinstance(est.model_, torch.nn.Module)
    assert est.mean_.shape == est.scale_.shape == (64,)


def test_validation_scores_is_a_deprecated_alias_of_the_negated_losses(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hasattr(MIMEncoder(), "validation_scores_")  # unfitted: silent
    est = MIMEncoder(**SMALL).fit(X)
    with pytest.warns(FutureWarning, match="removed in mim_sklearn 0.3; use "
                      "validation_loss_curve_"):
        scores = est.validation_scores_
    assert scores == [-loss for loss in est.validation_loss_curve_]
    # best_loss_ is in the same units: one of the held-out losses.
    assert est.best_loss_ in est.validation_loss_curve_
    no_hold_out = MIMEncoder(**{**SMALL, "early_stopping": False}).fit(X)
    assert no_hold_out.validation_loss_curve_ is None
    with pytest.warns(FutureWarning):
        assert no_hold_out.validation_scores_ is None


def test_a_pickle_with_validation_scores_unpickles_with_the_losses(digits):
    # An estimator pickled before validation_loss_curve_ held the negated
    # losses under the old name.
    est = MIMEncoder(**SMALL).fit(digits[0])
    state = est.__getstate__()
    losses = state.pop("validation_loss_curve_")
    state["validation_scores_"] = [-loss for loss in losses]
    old = MIMEncoder.__new__(MIMEncoder)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.validation_loss_curve_ == losses
    assert "validation_scores_" not in vars(old)


def test_a_pickle_from_before_the_setup_unpickles_with_its_setup(digits):
    # Pickled before setup_ (the fitted state was private attributes) and
    # before activation="auto" (activation="relu" was the default, with no
    # activation_).
    X = digits[0]
    est = MIMEncoder(**SMALL, activation="relu").fit(X)
    state = dict(est.__getstate__())  # a copy: est stays as fitted
    setup = state.pop("setup_")
    del state["activation_"]
    state.update(_table=None, _column_likelihoods=list(setup.column_likelihoods),
                 _missing_indicators=False, _seed=setup.seed)
    old = MIMEncoder.__new__(MIMEncoder)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.activation_ == "relu"
    assert {**vars(old.setup_), "mean": 0, "scale": 0} == {
        **vars(setup), "mean": 0, "scale": 0
    }
    assert old.setup_.mean is old.mean_ and old.setup_.scale is old.scale_
    assert not {"_table", "_seed", "_missing_indicators", "_column_likelihoods"} & set(
        vars(old)
    )
    np.testing.assert_array_equal(old.transform(X), est.transform(X))
    np.testing.assert_array_equal(old.score_samples(X[:5]), est.score_samples(X[:5]))


def test_transform_shapes_dtypes_and_determinism(small_estimator, digits):
    X, _ = digits
    Z = small_estimator.fit_transform(X)
    assert Z.shape == (300, 3) and Z.dtype == np.float64
    np.testing.assert_array_equal(Z, small_estimator.transform(X))
    Z32 = small_estimator.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32
    np.testing.assert_allclose(Z32, Z, rtol=1e-5, atol=1e-5)


def test_same_random_state_gives_identical_fits(estimator_class, digits):
    X, _ = digits
    a = estimator_class(**SMALL).fit(X).transform(X)
    b = estimator_class(**SMALL).fit(X).transform(X)
    c = estimator_class(**{**SMALL, "random_state": 1}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_sample_posterior(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    Z = est.sample_posterior(X, random_state=3)
    assert Z.shape == (300, 3)
    np.testing.assert_array_equal(Z, est.sample_posterior(X, random_state=3))
    assert not np.array_equal(Z, est.sample_posterior(X, random_state=4))
    assert not np.allclose(Z, est.transform(X))


def test_inverse_transform_returns_data_units(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    X_rec = est.inverse_transform(est.transform(X))
    assert X_rec.shape == X.shape
    # Decoder means live in pixel units (0..16), not standardised ones.
    assert 0 < X_rec.mean() < 16
    with pytest.raises(ValueError, match="n_components=3"):
        est.inverse_transform(np.zeros((2, 5)))


def test_training_learns_to_reconstruct(estimator_class, digits):
    X, _ = digits
    est = estimator_class(**{**SMALL, "n_components": 8, "hidden_layer_sizes": (64,),
                             "max_iter": 60, "n_iter_no_change": 60})
    est.fit(X)
    if isinstance(est, MAEEncoder):
        # Its decoder carries the information the target sets (1 nat by
        # default), not what reconstruction needs: check that it is held.
        assert est.mutual_info_ == pytest.approx(est.target_mutual_info, abs=0.15)
    else:
        rmse = np.sqrt(np.mean((est.inverse_transform(est.transform(X)) - X) ** 2))
        rmse_of_the_mean = np.sqrt(np.mean((X - X.mean(0)) ** 2))
        assert rmse < 0.8 * rmse_of_the_mean
    # Compare epochs after the warm-up, whose losses weigh terms differently.
    assert est.loss_curve_[-1] < est.loss_curve_[SMALL["warmup_epochs"]]


def test_sample(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    samples = est.sample(5, random_state=0)
    assert samples.shape == (5, 64)
    X_s, Z_s = est.sample(5, random_state=0, return_latent=True)
    np.testing.assert_array_equal(X_s, samples)
    assert Z_s.shape == (5, 3)
    assert not np.array_equal(samples, est.sample(5, random_state=1))
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)


def test_score_is_the_mean_of_reproducible_score_samples(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X[:200])
    log_p = est.score_samples(X[200:])
    assert log_p.shape == (100,) and np.all(np.isfinite(log_p))
    np.testing.assert_array_equal(log_p, est.score_samples(X[200:]))
    assert est.score(X[200:]) == log_p.mean()


def test_score_is_a_density_of_the_users_units(estimator_class, digits):
    """Rescaling X by c rescales the density by c**-n_features."""
    X, _ = digits
    plain = estimator_class(**SMALL).fit(X)
    scaled = estimator_class(**SMALL).fit(3.0 * X)
    np.testing.assert_allclose(
        scaled.score_samples(3.0 * X),
        plain.score_samples(X) - 64 * np.log(3.0),
        rtol=1e-3,
    )


def test_score_of_a_row_does_not_depend_on_the_other_rows(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    # score_samples works through the rows in chunks of a few dozen (with
    # SMALL's 16 importance samples): the 300 rows span several chunks, and
    # each call below cuts them at other rows, or puts them in other chunks.
    whole = est.score_samples(X)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(est.score_samples(X[order]), whole[order], rtol=1e-5)
    np.testing.assert_allclose(est.score_samples(X[::-1]), whole[::-1], rtol=1e-5)
    for rows in (slice(7, None), slice(250, 300), slice(10, 20), slice(299, 300)):
        np.testing.assert_allclose(est.score_samples(X[rows]), whole[rows], rtol=1e-5)
    # Repeated rows get the same score wherever they fall.
    repeated = est.score_samples(np.repeat(X[:3], 100, axis=0))
    np.testing.assert_allclose(repeated, np.repeat(whole[:3], 100), rtol=1e-5)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.full((10, 4), np.nan), "no observed value"),
        (np.full((10, 4), np.inf), "infinity"),
        (np.zeros(10), "2D array"),
        (np.zeros((1, 4)), "minimum of 2"),
    ],
    ids=["all-missing", "inf", "1d", "one-row"],
)
def test_bad_training_input_raises(estimator_class, X, message):
    with pytest.raises(ValueError, match=message):
        estimator_class(**SMALL).fit(X)


def test_bad_transform_input_raises(small_estimator, digits):
    X, _ = digits
    est = small_estimator.fit(X)
    with pytest.raises(ValueError, match="X has 10 features, but .* is expecting 64"):
        est.transform(X[:, :10])
    bad = X[:3].copy()
    bad[0, 0] = np.inf  # NaN is a missing value, modelled (test_missing_values.py)
    for method in (est.transform, est.score_samples, est.sample_posterior):
        with pytest.raises(ValueError, match="infinity"):
            method(bad)


@pytest.mark.parametrize(
    "method, arg",
    [("transform", "X"), ("score", "X"), ("inverse_transform", "Z"), ("sample", None)],
)
def test_unfitted_estimators_raise(small_estimator, digits, method, arg):
    X, _ = digits
    args = {"X": (X,), "Z": (np.zeros((2, 3)),), None: ()}[arg]
    with pytest.raises(NotFittedError):
        getattr(small_estimator, method)(*args)


def test_convergence_warning_when_max_iter_is_reached(estimator_class, digits):
    X, _ = digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        estimator_class(**{**SMALL, "max_iter": 3, "n_iter_no_change": 50}).fit(X)


def test_verbose_2_prints_an_epoch_table(estimator_class, digits, capsys):
    X, _ = digits
    estimator_class(**{**SMALL, "max_iter": 2, "verbose": 2}).fit(X)
    out = capsys.readouterr().out
    # The losses, not the objective's terms (those stay in the history).
    assert re.search(r"^\s+epoch\s+beta\s+train_loss\s+valid_loss\s+dur$", out,
                     flags=re.M)
    assert len(re.findall(r"^\s+[12]\s", out, flags=re.M)) == 2


def test_pipeline_grid_search_over_the_latent_size(digits):
    X, y = digits
    pipe = Pipeline([("mim", MIMEncoder(**{**SMALL, "max_iter": 3})),
                     ("knn", KNeighborsClassifier(5))])
    grid = [2, 5, 10]
    search = GridSearchCV(pipe, {"mim__n_components": grid}, cv=3, n_jobs=2)
    search.fit(X, y)
    results = search.cv_results_
    assert [p["mim__n_components"] for p in results["params"]] == grid
    # One score per candidate, each well above chance (1 in 10 digits), and
    # different: each latent size reached its encoder. Measured: 0.31, 0.57
    # and 0.75 (10 latent dimensions keep more of the class than 2).
    scores = results["mean_test_score"]
    assert scores.shape == (3,) and np.all((scores > 0.2) & (scores <= 1.0))
    assert len(set(scores)) == 3 and scores[0] < scores[2]
    # The best candidate is the one with the highest mean score.
    best = int(np.argmax(scores))
    assert search.best_index_ == best and results["rank_test_score"][best] == 1
    assert search.best_params_ == {"mim__n_components": grid[best]}
    assert search.best_score_ == scores[best]
    # A split's score is what that pipeline scores on that fold, fitted here.
    train, test = next(StratifiedKFold(3).split(X, y))
    for i in (0, 2):
        fold_fit = clone(pipe).set_params(**results["params"][i])
        fold_fit.fit(X[train], y[train])
        assert fold_fit.score(X[test], y[test]) == results["split0_test_score"][i]
    # The refitted pipeline has the chosen latent size, trained on all of X.
    refitted = search.best_estimator_.named_steps["mim"]
    assert refitted.n_components == grid[best]
    codes = refitted.transform(X)
    assert codes.shape == (300, grid[best])
    alone = MIMEncoder(**{**SMALL, "max_iter": 3, "n_components": grid[best]}).fit(X)
    np.testing.assert_array_equal(codes, alone.transform(X))
