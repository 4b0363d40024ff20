"""Two latent levels (convHVAE's z = [z1, z2]) and dynamic binarization."""

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from torch.distributions import Bernoulli, Normal

import mim_sklearn
from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder
from mim_sklearn.nn import LatentVariableModel, Likelihood, VampPrior
from mim_sklearn.nn.likelihoods import BernoulliLikelihood
from mim_sklearn.objectives import decoder_sampled_terms

from .conftest import ESTIMATORS, SMALL
from .test_sklearn_compat import CHECK_SETTINGS, EXPECTED_FAILED_CHECKS

TWO_LEVELS = {**SMALL, "n_components": 2, "latent_levels": 2}  # codes of 4


def two_level_model(**kwargs):
    options = dict(n_features=3, n_components=4, hidden_layer_sizes=(8,),
                   activation="tanh", latent_levels=2, seed=0)
    return LatentVariableModel(**{**options, **kwargs})


def gaussian(params, floor=-6.0):
    """The Normal of a network output (mean, raw log-variance), as the model
    floors it, computed independently of the model's code."""
    mean, raw = params.chunk(2, dim=-1)
    log_var = floor + torch.nn.functional.softplus(raw - floor)
    return Normal(mean, (0.5 * log_var).exp())


@parametrize_with_checks(
    [cls(**CHECK_SETTINGS, latent_levels=2) for cls in ESTIMATORS],
    expected_failed_checks=lambda _: EXPECTED_FAILED_CHECKS,
)
def test_two_level_estimators_pass_the_scikit_learn_checks(estimator, check):
    check(estimator)


def test_levels_split_the_components_top_level_under_the_prior():
    model = two_level_model(n_components=6,
                            prior=VampPrior(n_prior_components=5))
    assert model.n_top_components == 3
    assert model.prior.n_components == 3
    z1, z2 = model.split_levels(torch.arange(6.0).expand(7, 6))
    assert (z1[0].tolist(), z2[0].tolist()) == ([0, 1, 2], [3, 4, 5])
    # The VampPrior's components are the top-level posteriors q(z2|u_k).
    means, _ = model.encode_top(model.prior.inputs())
    assert means.shape == (5, 3)


@pytest.mark.parametrize("levels, components", [(3, 6), (2, 5), (0, 2)])
def test_bad_latent_levels_are_refused(levels, components):
    with pytest.raises(ValueError, match="latent_levels must be 1 or 2"):
        LatentVariableModel(3, components, (8,), "tanh", latent_levels=levels)


def test_two_level_posterior_is_the_chain_of_its_gaussians():
    model = two_level_model()
    x = torch.randn(5, 3)
    posterior = model.posterior(x)
    z, log_q = posterior.rsample_with_log_prob(torch.Generator().manual_seed(0), 6)
    assert z.shape == (6, 5, 4) and log_q.shape == (6, 5)
    # By hand: q(z2|x) from the top encoder, q(z1|x, z2) from the bottom
    # encoder's guess and z2 through the head.
    z1, z2 = z[..., :2], z[..., 2:]
    top = gaussian(model.encoder(x))
    guess = model.bottom_encoder(x).expand(6, 5, 4)
    bottom = gaussian(model.bottom_head(torch.cat([guess, z2], dim=-1)))
    expected = top.log_prob(z2).sum(-1) + bottom.log_prob(z1).sum(-1)
    torch.testing.assert_close(log_q, expected)
    torch.testing.assert_close(posterior.log_prob(z), expected)
    # The code's mean: z1's mean at z2's mean, then z2's mean.
    at_mean = gaussian(model.bottom_head(torch.cat([model.bottom_encoder(x),
                                                    top.mean], dim=-1)))
    torch.testing.assert_close(posterior.mean,
                               torch.cat([at_mean.mean, top.mean], dim=-1))


def test_two_level_prior_is_p_z2_times_p_z1_given_z2():
    model = two_level_model()
    z = torch.randn(7, 4)
    z1, z2 = z[:, :2], z[:, 2:]
    expected = (Normal(0.0, 1.0).log_prob(z2).sum(-1)
                + gaussian(model.conditional_prior(z2)).log_prob(z1).sum(-1))
    torch.testing.assert_close(model.log_p_z(z), expected)
    # Without a closed form, the entropy is estimated from the draws.
    torch.testing.assert_close(model.prior_entropy(z), -expected)


def test_prior_draws_go_down_the_chain():
    model = two_level_model()
    with torch.no_grad():
        z = model.sample_prior(40_000, torch.Generator().manual_seed(0))
    z1, z2 = z[:, :2], z[:, 2:]
    np.testing.assert_allclose(z2.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(z2.std(0), 1.0, atol=0.03)
    conditional = gaussian(model.conditional_prior(z2).detach())
    standardized = (z1 - conditional.mean) / conditional.stddev
    np.testing.assert_allclose(standardized.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(standardized.std(0), 1.0, atol=0.03)


def test_mim_anchor_is_standard_on_top_and_the_model_below_without_gradient():
    model = two_level_model(likelihood=BernoulliLikelihood())
    z = model.sample_anchor(30_000, torch.Generator().manual_seed(1))
    assert not z.requires_grad
    z1, z2 = z[:, :2], z[:, 2:]
    np.testing.assert_allclose(z2.mean(0), 0.0, atol=0.03)
    conditional = gaussian(model.conditional_prior(z2).detach())
    standardized = (z1 - conditional.mean) / conditional.stddev
    np.testing.assert_allclose(standardized.std(0), 1.0, atol=0.03)
    # The decoder-sampled pairs score their z under both levels' posterior.
    terms = decoder_sampled_terms(model, 5, torch.Generator().manual_seed(1))
    assert all(value.shape == (5,) for value in terms.values())


def test_importance_weights_over_both_levels_are_unbiased_for_p_x():
    # Two binary features: p(x) = E_{z ~ p(z)} p(x|z) over both levels, by
    # brute force from prior draws, against the mean importance weight
    # E_{z ~ q(z|x)} [p(x|z) p(z) / q(z|x)], each within 4 standard errors.
    model = two_level_model(n_features=2, likelihood=BernoulliLikelihood())
    generator = torch.Generator().manual_seed(0)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with torch.no_grad():
        z = model.sample_prior(400_000, generator)
        probs = Bernoulli(logits=model.decode(z).unsqueeze(1)).log_prob(x).sum(-1).exp()
        log_weights, _ = model.importance_weights(x, 400_000, generator)
    weights = log_weights.double().exp()
    assert probs.mean(0).sum().item() == pytest.approx(1.0, abs=1e-3)
    error = (weights.mean(0) - probs.double().mean(0)).abs()
    probs = probs.double()
    standard_error = (weights.var(0) / len(weights) + probs.var(0) / len(probs)).sqrt()
    assert (error < 4 * standard_error).all(), (error, standard_error)
    # Not vacuous: the standard errors are small beside the probabilities.
    assert (standard_error < 0.1 * probs.mean(0)).all()


def test_shared_noise_makes_a_rows_estimate_independent_of_its_batch():
    model = two_level_model()
    x = torch.randn(6, 3)
    with torch.no_grad():
        whole = model.importance_log_likelihood(
            x, 50, torch.Generator().manual_seed(0), shared_noise=True)
        alone = model.importance_log_likelihood(
            x[2:3], 50, torch.Generator().manual_seed(0), shared_noise=True)
    torch.testing.assert_close(alone, whole[2:3])


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_every_estimator_trains_and_answers_with_two_levels(estimator_class,
                                                            architecture, digits):
    X, y = digits
    X = X / 16.0
    est = estimator_class(
        **{**TWO_LEVELS, "likelihood": "bernoulli", "architecture": architecture,
           "image_shape": (1, 8, 8) if architecture == "conv" else None}
    ).fit(X)
    codes = est.transform(X)
    assert codes.shape == (300, 4) and np.isfinite(codes).all()
    np.testing.assert_array_equal(codes, est.transform(X))
    assert est.sample_posterior(X, random_state=0).shape == (300, 4)
    assert est.inverse_transform(codes).shape == X.shape
    samples, z = est.sample(5, random_state=0, return_latent=True)
    assert samples.shape == (5, 64) and z.shape == (5, 4)
    assert np.isfinite(est.score_samples(X[:20])).all()
    assert est.posterior(X[:10])[1].min() > 0


def test_two_level_codes_go_into_a_pipeline(digits):
    X, y = digits
    pipe = Pipeline([("mim", MIMEncoder(**TWO_LEVELS)),
                     ("knn", KNeighborsClassifier(5))]).fit(X, y)
    assert pipe.score(X, y) > 0.5


def test_two_level_model_saves_and_loads(tmp_path, digits):
    X, _ = digits
    est = AMIMEncoder(**TWO_LEVELS, prior="vamp", n_prior_components=10).fit(X)
    mim_sklearn.save(est, tmp_path / "model.mim")
    loaded = mim_sklearn.load(tmp_path / "model.mim")
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X[:5]), est.score_samples(X[:5]))


def test_n_components_is_the_size_of_each_level(digits):
    X, _ = digits
    est = VAEEncoder(**{**TWO_LEVELS, "n_components": 3}).fit(X)
    assert est.transform(X).shape == (300, 6)
    assert est.model_.n_top_components == 3
    assert len(est.get_feature_names_out()) == 6
    with pytest.raises(ValueError, match="encodes to 6 .n_components=3 for each"):
        est.inverse_transform(np.zeros((2, 3)))


def test_one_level_is_unchanged_by_the_new_parameter(digits):
    X, _ = digits
    default = VAEEncoder(**SMALL).fit(X)
    explicit = VAEEncoder(**SMALL, latent_levels=1).fit(X)
    np.testing.assert_array_equal(default.transform(X), explicit.transform(X))


def hidden_nonlinearities(est) -> set[type]:
    return {type(module) for module in est.model_.modules()
            if isinstance(module, (torch.nn.ReLU, torch.nn.Tanh))}


@pytest.mark.parametrize("cls", [MIMEncoder, AMIMEncoder, VAEEncoder])
def test_auto_activation_is_relu_with_one_level_and_tanh_with_two(cls, digits):
    X, _ = digits
    assert cls().activation == "auto"
    one = cls(**SMALL).fit(X)
    two = cls(**TWO_LEVELS).fit(X)
    assert (one.activation_, two.activation_) == ("relu", "tanh")
    assert hidden_nonlinearities(one) == {torch.nn.ReLU}
    assert hidden_nonlinearities(two) == {torch.nn.Tanh}


def test_an_explicit_activation_is_kept_with_two_levels(digits):
    X, _ = digits
    est = MIMEncoder(**TWO_LEVELS, activation="relu").fit(X)
    assert est.activation_ == "relu"
    assert hidden_nonlinearities(est) == {torch.nn.ReLU}


# ------------------------------------------------------------ binarization


class _Recorder:
    """An objective wrapper that keeps the rows each call saw."""

    def __init__(self, objective):
        self.objective = objective
        self.training, self.validation = [], []

    def __call__(self, model, x, **kwargs):
        (self.training if model.training else self.validation).append(x.clone())
        return self.objective(model, x, **kwargs)


def recorded_fit(est, X, monkeypatch, **fit_params):
    objective = est.objective()
    recorder = _Recorder(objective.function)
    monkeypatch.setattr(
        type(est), "objective",
        lambda self: dataclasses.replace(objective, function=recorder),
    )
    est.fit(X, **fit_params)
    return recorder


def grey_rows():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(200, 6))


def test_dynamic_binarization_redraws_the_training_rows_each_epoch(monkeypatch):
    X = grey_rows()
    est = VAEEncoder(**{**SMALL, "max_iter": 30, "n_iter_no_change": 30},
                     likelihood="bernoulli", dynamic_binarization=True,
                     early_stopping=False, batch_size=200)
    recorder = recorded_fit(est, X, monkeypatch)
    draws = torch.stack(recorder.training)  # one full batch per epoch
    assert set(draws.unique().tolist()) == {0.0, 1.0}
    # Each epoch draws anew: the batches differ, and their mean over epochs
    # approaches the grey levels (the batch order is the same each epoch only
    # by chance, so compare sorted-free statistics: the overall mean).
    assert not torch.equal(draws[0], draws[1])
    assert draws.mean().item() == pytest.approx(X.mean(), abs=0.02)


def test_dynamic_binarization_draws_the_held_out_rows_once(monkeypatch):
    X = grey_rows()
    est = VAEEncoder(**SMALL, likelihood="bernoulli", dynamic_binarization=True)
    recorder = recorded_fit(est, X, monkeypatch)
    held_out = recorder.validation
    assert len(held_out) == est.n_iter_
    assert set(held_out[0].unique().tolist()) == {0.0, 1.0}
    assert all(torch.equal(rows, held_out[0]) for rows in held_out)
    # A user's validation set too.
    est = VAEEncoder(**SMALL, likelihood="bernoulli", dynamic_binarization=True)
    recorder = recorded_fit(est, X, monkeypatch, X_val=X[:40])
    first = recorder.validation[0]
    assert all(torch.equal(rows, first) for rows in recorder.validation)
    assert set(recorder.validation[0].unique().tolist()) == {0.0, 1.0}


def test_without_dynamic_binarization_grey_levels_train_as_given(monkeypatch):
    X = grey_rows()
    est = VAEEncoder(**SMALL, likelihood="bernoulli")
    recorder = recorded_fit(est, X, monkeypatch)
    assert recorder.training[0].unique().numel() > 2


def test_dynamic_binarization_keeps_missing_entries_missing(monkeypatch):
    X = grey_rows()
    X[::7, 2] = np.nan
    est = VAEEncoder(**SMALL, likelihood="bernoulli", dynamic_binarization=True,
                     early_stopping=False, batch_size=160)
    recorder = recorded_fit(est, X, monkeypatch)
    epoch = torch.cat(recorder.training[:2])  # two batches of 160 and 40 rows
    assert epoch.shape[0] == len(X)
    assert epoch.isnan().sum().item() == len(X[::7])
    assert set(epoch[~epoch.isnan()].unique().tolist()) == {0.0, 1.0}


def test_dynamic_binarization_needs_a_binary_likelihood():
    with pytest.raises(ValueError, match="needs a binary likelihood"):
        VAEEncoder(**SMALL, dynamic_binarization=True).fit(grey_rows())


def test_dynamic_binarization_is_reproducible():
    X = grey_rows()
    fits = [MIMEncoder(**TWO_LEVELS, likelihood="bernoulli",
                       dynamic_binarization=True).fit(X) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))


# ------------------------------------------------- slow decoders and MIM


class _SlowBernoulli(BernoulliLikelihood):
    """A Bernoulli likelihood that declares its sampling sequential."""

    sequential_sampling = True


@pytest.mark.parametrize("cls", [MIMEncoder, mim_sklearn.MAEEncoder])
def test_objectives_that_sample_the_decoder_refuse_a_sequential_one(cls):
    with pytest.raises(ValueError, match="use AMIMEncoder"):
        cls(**SMALL, likelihood=_SlowBernoulli()).fit(grey_rows())
    AMIMEncoder(**SMALL, likelihood=_SlowBernoulli()).fit(grey_rows())


def test_a_likelihood_is_not_binary_unless_it_says_so():
    assert BernoulliLikelihood.binary and not Likelihood.binary


# ------------------------------------------------------- PixelHVAE end to end


def test_pixelhvae_trains_with_amim_and_is_refused_by_mim(digits):
    X, _ = digits
    X = (X[:120] > 7).astype(float)
    settings = {**TWO_LEVELS, "likelihood": "pixelcnn", "architecture": "conv",
                "image_shape": (1, 8, 8), "max_iter": 3}
    with pytest.raises(ValueError, match="use AMIMEncoder"):
        MIMEncoder(**settings).fit(X)
    est = AMIMEncoder(**settings).fit(X)
    assert type(est.model_.likelihood).__name__ == "PixelCNNLikelihood"
    assert est.transform(X).shape == (120, 4)
    log_p = est.score_samples(X[:5])
    assert np.isfinite(log_p).all() and (log_p < 0).all()
    samples = est.sample(3, random_state=0)
    assert samples.shape == (3, 64) and set(np.unique(samples)) <= {0, 1}
    assert est.inverse_transform(est.transform(X[:2])).shape == (2, 64)
    # Grey levels, drawn anew each epoch.
    AMIMEncoder(**settings, dynamic_binarization=True).fit(X * 0.9)


def test_pixelhvae_saves_and_loads(tmp_path, digits):
    X, _ = digits
    X = (X[:100] > 7).astype(float)
    est = AMIMEncoder(**{**TWO_LEVELS, "max_iter": 2}, likelihood="pixelcnn",
                      image_shape=(1, 8, 8)).fit(X)
    mim_sklearn.save(est, tmp_path / "model.mim")
    loaded = mim_sklearn.load(tmp_path / "model.mim")
    np.testing.assert_array_equal(loaded.score_samples(X[:3]), est.score_samples(X[:3]))
    np.testing.assert_array_equal(loaded.sample(2, random_state=1),
                                  est.sample(2, random_state=1))
