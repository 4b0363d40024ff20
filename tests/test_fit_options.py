"""fit's sample weights and own validation set, and the callbacks parameter."""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, UnsetMetadataPassedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback, Checkpoint, LRScheduler

from mim_sklearn import MIMEncoder, VAEEncoder, save
from mim_sklearn._engine import LatentNet
from mim_sklearn.exceptions import PosteriorCollapseWarning
from mim_sklearn.nn import LatentVariableModel, Prior
from mim_sklearn.objectives import Objective, mim_objective

from .conftest import SMALL

# A fit that runs every epoch (no early stop, no warm-up left to compare).
NO_STOP = {**SMALL, "max_iter": 3, "early_stopping": False}


# ------------------------------------------------------------ sample weights


@pytest.mark.parametrize("early_stopping", [True, False])
def test_unit_and_constant_weights_train_exactly_as_no_weights(
    estimator_class, digits, early_stopping
):
    X, _ = digits
    params = {**SMALL, "early_stopping": early_stopping}
    plain = estimator_class(**params).fit(X)
    for weights in (np.ones(len(X)), np.full(len(X), 2.0)):
        weighted = estimator_class(**params).fit(X, sample_weight=weights)
        assert weighted.loss_curve_ == plain.loss_curve_
        assert weighted.validation_loss_curve_ == plain.validation_loss_curve_
        np.testing.assert_array_equal(weighted.transform(X), plain.transform(X))


def test_a_row_of_weight_zero_has_no_effect_on_training():
    # The engine alone, so that the scaling (taken from all rows) is fixed: the
    # rows of weight zero may hold anything, the trained parameters are the
    # same, bit for bit.
    X = torch.randn(24, 3, generator=torch.Generator().manual_seed(0))
    other = X.clone()
    other[::2] = 100.0 * torch.randn(12, 3, generator=torch.Generator().manual_seed(1))
    weights = torch.tensor([0.0, 2.0] * 12)

    def trained(data, weights):
        net = LatentNet(LatentVariableModel(3, 2, (8,), "tanh", seed=0), seed=0,
                        optimizer=torch.optim.Adam, batch_size=8, verbose=0)
        net.train_epochs(data, 2, Objective(mim_objective), weights=weights)
        return net.module_.state_dict()

    state = trained(X, weights)
    for key, value in trained(other, weights).items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    # Without the weights those rows count.
    unweighted = trained(other, None)
    assert any(not torch.equal(v, state[k]) for k, v in unweighted.items())


def test_rows_of_weight_zero_do_not_move_the_scaling(digits):
    X, _ = digits
    weights = np.r_[np.zeros(100), np.ones(200)]
    est = VAEEncoder(**dict(SMALL, max_iter=1), scaling="feature").fit(
        X, sample_weight=weights)
    np.testing.assert_allclose(est.mean_, X[100:].mean(axis=0))
    varying = X[100:].std(axis=0) > 0
    np.testing.assert_allclose(est.scale_[varying], X[100:].std(axis=0)[varying])


def test_zero_weights_on_half_of_the_rows_change_the_model(estimator_class, digits):
    X, _ = digits
    plain = estimator_class(**NO_STOP).fit(X)
    weights = np.tile([0.0, 1.0], len(X) // 2)
    weighted = estimator_class(**NO_STOP).fit(X, sample_weight=weights)
    assert weighted.loss_curve_ != plain.loss_curve_
    assert not np.allclose(weighted.transform(X), plain.transform(X))


def _spy_on_the_split(monkeypatch) -> dict:
    """The TrainingSplit of the next training run: what the estimator hands
    the engine (``seen["split"]``)."""
    seen = {}
    train_on_split = LatentNet.train_on_split

    def spy(self, split, *args, **kwargs):
        seen["split"] = split
        return train_on_split(self, split, *args, **kwargs)

    monkeypatch.setattr(LatentNet, "train_on_split", spy)
    return seen


def test_fit_scales_the_weights_to_mean_1_on_each_side_of_the_split(digits,
                                                                    monkeypatch):
    X, _ = digits
    seen = _spy_on_the_split(monkeypatch)
    sample_weight = np.random.default_rng(0).uniform(0.5, 3.0, len(X))
    MIMEncoder(**{**SMALL, "max_iter": 1}).fit(X, sample_weight=sample_weight)
    split = seen["split"]
    for rows in (split.train_rows, split.valid_rows):
        assert split.weights[rows].mean() == pytest.approx(1.0, rel=1e-12)
        np.testing.assert_allclose(
            split.weights[rows], sample_weight[rows] / sample_weight[rows].mean(),
            rtol=1e-12,
        )
    # The held-out rows stay rows of X, weighed by the same array.
    assert split.X_valid is split.X and split.valid_weights is split.weights


def test_partial_fit_uses_the_weights_as_given(digits):
    X, _ = digits
    plain = VAEEncoder(**SMALL).partial_fit(X)
    doubled = VAEEncoder(**SMALL).partial_fit(X, sample_weight=np.full(len(X), 2.0))
    # Twice each row's loss: twice the epoch's loss (Adam's steps are nearly
    # blind to the scale, so the two runs stay close).
    assert doubled.loss_curve_[0] == pytest.approx(2 * plain.loss_curve_[0],
                                                   rel=1e-3)


@pytest.mark.parametrize(
    "weights",
    [np.ones(299), np.ones((300, 2)), np.r_[-1.0, np.ones(299)],
     np.r_[np.nan, np.ones(299)], np.r_[np.inf, np.ones(299)], np.zeros(300)],
    ids=["length", "2d", "negative", "nan", "inf", "all-zero"],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_weights_raise_a_value_error_saying_what_they_must_be(
    digits, weights, method
):
    X, _ = digits
    with pytest.raises(ValueError, match="sample_weight must give each of the 300 "
                                         "rows of X a finite, non-negative weight"):
        getattr(MIMEncoder(**SMALL), method)(X, sample_weight=weights)


def test_weights_zero_on_every_held_out_row_raise(digits, monkeypatch):
    X, _ = digits
    params = {**SMALL, "max_iter": 1, "validation_fraction": 0.2}
    seen = _spy_on_the_split(monkeypatch)
    MIMEncoder(**params).fit(X)  # the split does not depend on the weights
    held_out = seen["split"].valid_rows
    weights = np.ones(len(X))
    weights[held_out] = 0.0
    with pytest.raises(ValueError, match="zero on all the training rows or on all "
                                         "the 60 held-out rows"):
        MIMEncoder(**params).fit(X, sample_weight=weights)
    weights[held_out[0]] = 1.0  # one held-out row counts
    MIMEncoder(**params).fit(X, sample_weight=weights)


def test_metadata_routing_passes_sample_weight_through_a_pipeline(digits):
    X, _ = digits

    def pipeline(request=True):
        encoder = MIMEncoder(**NO_STOP)
        if request:
            encoder.set_fit_request(sample_weight=True)
        # The scaler takes sample_weight too: routing asks us to say whether.
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        return Pipeline([("scale", scaler), ("mim", encoder)])

    with config_context(enable_metadata_routing=True):
        plain = pipeline().fit(X)
        halved = pipeline().fit(X, sample_weight=np.tile([0.0, 1.0], len(X) // 2))
        doubled = pipeline().fit(X, sample_weight=np.full(len(X), 2.0))
        with pytest.raises(UnsetMetadataPassedError):
            pipeline(request=False).fit(X, sample_weight=np.ones(len(X)))
        # partial_fit takes sample_weight too, and asks for it when told to.
        routing = MIMEncoder().set_partial_fit_request(sample_weight=True)
        assert routing.get_metadata_routing().partial_fit.requests == {
            "sample_weight": True
        }
    mim = {name: pipe.named_steps["mim"] for name, pipe in
           [("plain", plain), ("halved", halved), ("doubled", doubled)]}
    assert mim["halved"].loss_curve_ != mim["plain"].loss_curve_
    assert mim["doubled"].loss_curve_ == mim["plain"].loss_curve_


# ----------------------------------------------------- own validation set


def _validation_loss_by_hand(est, X_val, weights=None):
    """The loss on X_val of the estimator's weights, as a validation pass
    computes it: evaluation mode, beta 1, the validation pass's seed."""
    model = est.model_
    model.eval()
    x = model.to_working_units(torch.as_tensor(X_val, dtype=torch.float32))
    w = None
    if weights is not None:
        w = torch.as_tensor(weights / weights.mean(), dtype=torch.float32)
    with torch.no_grad():
        loss, _ = est.objective()(
            model, x, beta=1.0,
            generator=torch.Generator().manual_seed(est.net_.seed), weights=w,
        )
    return float(loss)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_own_validation_set_is_what_early_stopping_monitors(estimator_class, digits,
                                                            weighted):
    X, _ = digits
    # Time-ordered data: the last 20% of the rows are the validation set.
    X_a, X_b = X[:240], X[240:]
    weights = np.linspace(0.2, 3.0, len(X_b)) if weighted else None
    est = estimator_class(**SMALL).fit(X_a, X_val=X_b, sample_weight_val=weights)
    assert len(est.validation_loss_curve_) == est.n_iter_
    # Every row of X trains, every row of X_val validates, in every epoch.
    for epoch in est.net_.history:
        sizes = {prefix: sum(b[f"{prefix}_batch_size"] for b in epoch["batches"]
                             if f"{prefix}_batch_size" in b)
                 for prefix in ("train", "valid")}
        assert sizes == {"train": len(X_a), "valid": len(X_b)}
    # The model holds the best epoch's weights, whose score is their loss on X_b.
    best = est.net_.restored_epoch
    assert best is not None
    assert est.validation_loss_curve_[best - 1] == pytest.approx(
        _validation_loss_by_hand(est, X_b, weights), rel=1e-5
    )
    assert est.best_loss_ == est.validation_loss_curve_[best - 1]


def test_own_validation_set_replaces_the_random_split(digits):
    X, _ = digits
    X_a, X_b = X[:240], X[240:]
    split = MIMEncoder(**SMALL).fit(X_a)
    own = MIMEncoder(**SMALL).fit(X_a, X_val=X_b)
    ignored = MIMEncoder(**{**SMALL, "validation_fraction": 0.5}).fit(X_a, X_val=X_b)
    assert own.loss_curve_ != split.loss_curve_
    assert not np.allclose(own.transform(X), split.transform(X))
    # validation_fraction is ignored: the same fit whatever its value.
    assert ignored.loss_curve_ == own.loss_curve_
    assert ignored.validation_loss_curve_ == own.validation_loss_curve_
    # Scaling the validation weights by a constant changes nothing.
    w = np.linspace(0.2, 3.0, len(X_b))
    once = MIMEncoder(**SMALL).fit(X_a, X_val=X_b, sample_weight_val=w)
    twice = MIMEncoder(**SMALL).fit(X_a, X_val=X_b, sample_weight_val=2 * w)
    assert once.validation_loss_curve_ == twice.validation_loss_curve_
    assert once.validation_loss_curve_ != own.validation_loss_curve_


def test_own_validation_set_errors(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="X_val is the early-stopping set, but "
                                         "early_stopping=False"):
        MIMEncoder(**NO_STOP).fit(X, X_val=X[:10])
    with pytest.raises(ValueError, match="sample_weight_val weighs the rows of "
                                         "X_val: pass X_val"):
        MIMEncoder(**SMALL).fit(X, sample_weight_val=np.ones(10))
    with pytest.raises(ValueError, match="X has 3 features, but MIMEncoder is "
                                         "expecting 64"):
        MIMEncoder(**SMALL).fit(X, X_val=X[:10, :3])
    with pytest.raises(ValueError, match="sample_weight_val must give each of the "
                                         "10 rows of X_val"):
        MIMEncoder(**SMALL).fit(X, X_val=X[:10], sample_weight_val=np.ones(9))


# --------------------------------------------------------------- callbacks


class CountEpochs(Callback):
    """Counts the epochs and the gradients it is told of (skorch's convention:
    state set in ``initialize``, named with a trailing underscore)."""

    def initialize(self):
        self.epochs_ = self.gradients_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1

    def on_grad_computed(self, net, **kwargs):
        self.gradients_ += 1


def test_a_learning_rate_scheduler_changes_the_rate_each_epoch(estimator_class,
                                                               digits):
    X, _ = digits
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    est = estimator_class(**NO_STOP, callbacks=[("lr", scheduler)]).fit(X)
    groups = est.net_.optimizer_.param_groups
    # Every group's rate (the decoder variances' is larger) halved 3 times.
    for group in groups:
        assert group["lr"] == pytest.approx(group["initial_lr"] * 0.5**3)
    assert groups[-1]["initial_lr"] == 1e-3  # the networks: learning_rate_init
    # Training used a copy: the parameter's scheduler was never started.
    assert est.callbacks[0][1] is scheduler and not hasattr(scheduler, "lr_scheduler_")


def test_checkpoint_saves_the_best_epoch(digits, tmp_path):
    X, _ = digits
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor="valid_loss_best")
    # Warm-up epochs are never best, and they have the key Checkpoint reads.
    est = MIMEncoder(**{**SMALL, "max_iter": 12}, callbacks=[checkpoint]).fit(X)
    assert (tmp_path / "params.pt").is_file() and (tmp_path / "history.json").is_file()
    assert est.net_.history[: SMALL["warmup_epochs"], "valid_loss_best"] == [False] * 2
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    for key, value in est.model_.state_dict().items():  # the restored best epoch
        torch.testing.assert_close(saved[key], value, rtol=0, atol=0)


def test_a_custom_callback_hears_every_epoch_and_each_gradient_once(digits):
    X, _ = digits
    counter = CountEpochs()
    est = MIMEncoder(**NO_STOP, callbacks=[counter]).fit(X)
    heard = dict(est.net_.callbacks_)["CountEpochs"]
    assert heard.epochs_ == est.n_iter_ == NO_STOP["max_iter"]
    n_batches = -(-len(X) // est.batch_size_)
    assert heard.gradients_ == n_batches * est.n_iter_
    assert not hasattr(counter, "epochs_")  # the parameter itself never trains


def test_callbacks_survive_pickle_and_clone(digits):
    X, _ = digits
    callbacks = [("count", CountEpochs()),
                 ("lr", LRScheduler(policy="StepLR", step_size=1, gamma=0.5))]
    est = MIMEncoder(**NO_STOP, callbacks=callbacks).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    assert dict(restored.net_.callbacks_)["count"].epochs_ == NO_STOP["max_iter"]
    fresh = clone(est)
    assert [name for name, _ in fresh.callbacks] == ["count", "lr"]
    assert vars(fresh.callbacks[1][1]) == vars(callbacks[1][1])
    # The clone trains as the original did, learning-rate schedule included.
    assert fresh.fit(X).loss_curve_ == est.loss_curve_


@pytest.mark.parametrize(
    "callbacks, message",
    [
        ([("early_stopping", CountEpochs())], "'early_stopping' is one of the "
                                              "estimator's own"),
        ([("progress_bar", CountEpochs())], "'progress_bar' is one of the "
                                            "estimator's own"),
        (["not a callback"], "skorch Callback instances"),
        ([CountEpochs], "skorch Callback instances"),
        ([(3, CountEpochs())], "with a str name"),
    ],
    ids=["own-name", "bar-name-at-verbose-0", "string", "class", "name-type"],
)
def test_invalid_callbacks_raise_a_value_error(digits, callbacks, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        MIMEncoder(**SMALL, callbacks=callbacks).fit(X)


def test_callbacks_must_be_a_list():
    with pytest.raises(InvalidParameterError, match="'callbacks' parameter"):
        MIMEncoder(**SMALL, callbacks=CountEpochs()).fit(np.ones((4, 2)))


def test_save_refuses_callbacks_and_says_what_to_do(digits, tmp_path):
    X, _ = digits
    est = MIMEncoder(**NO_STOP, callbacks=[CountEpochs()]).fit(X)
    with pytest.raises(ValueError, match="use pickle or joblib to keep them, or "
                                         "set callbacks=None before saving"):
        save(est, tmp_path / "encoder.pt")
    save(est.set_params(callbacks=None), tmp_path / "encoder.pt")
    assert (tmp_path / "encoder.pt").is_file()


# ------------------------------------------------------ defaults that scale


def test_the_auto_batch_and_variance_follow_the_data(digits):
    X, _ = digits
    small = MIMEncoder(**SMALL).fit(X[:150])
    assert small.batch_size_ == 16  # 150 rows: 9 steps an epoch, not one
    assert small.model_.likelihood.variance == "isotropic"  # pixels: one unit
    # A table's columns are separate variables: a variance each.
    pd = pytest.importorskip("pandas")
    rows = np.random.default_rng(0).normal(size=(400, 5))
    table = pd.DataFrame(rows, columns=list("abcde"))
    fitted = MIMEncoder(**SMALL).fit(table)
    assert fitted.batch_size_ == 20
    assert fitted.model_.likelihood.variance == "shared"
    variance_group, networks = fitted.net_.optimizer_.param_groups
    assert variance_group["params"] == [fitted.model_.likelihood.raw_log_var]
    assert variance_group["lr"] == 10 * networks["lr"]
    assert MIMEncoder(**SMALL, batch_size=7).fit(X[:150]).batch_size_ == 7


def test_codes_that_tell_no_rows_apart_are_warned_of(digits):
    X, _ = digits
    alike = np.repeat(X[:1], 100, axis=0)  # no code can tell these rows apart
    with pytest.warns(PosteriorCollapseWarning, match="codes have collapsed"):
        MIMEncoder(**SMALL).fit(alike)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        MIMEncoder(**SMALL).fit(X)  # digits: codes that differ, even this early


def test_the_collapse_check_reads_a_dataframe_fit_without_warnings(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"pixel_{j}" for j in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # such as "X does not have valid feature
        warnings.simplefilter("ignore", ConvergenceWarning)  # names" from sklearn
        MIMEncoder(**SMALL).fit(frame)


class _MergedMixture(Prior):
    """N(0, I) written as a mixture of identical components: merged by design."""

    def log_prob(self, z):
        return torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)

    def sample(self, n_samples, generator):
        return torch.randn((n_samples, self.n_components), generator=generator)

    def mixture(self):
        k = 3
        means = torch.zeros(k, self.n_components)
        return means, torch.zeros_like(means), torch.full((k,), -math.log(k))


def test_a_prior_whose_components_merged_is_warned_of(digits):
    X, _ = digits
    with pytest.warns(PosteriorCollapseWarning, match="3 components have merged"):
        MIMEncoder(**SMALL, prior=_MergedMixture()).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PosteriorCollapseWarning)
        for prior in ("mog", "vamp"):  # learned mixtures, components apart
            MIMEncoder(**SMALL, prior=prior).fit(X)
