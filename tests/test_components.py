"""Likelihoods and priors given as instances: the typed component interfaces."""

import math

import numpy as np
import pytest
import torch
from sklearn.base import clone

from mim_sklearn import MIMEncoder, VAEEncoder, save
from mim_sklearn.nn import (
    CategoricalLikelihood,
    GaussianLikelihood,
    Likelihood,
    MixtureOfGaussiansPrior,
    PixelCNNLikelihood,
    Prior,
    StandardNormalPrior,
    VampPrior,
    make_likelihood,
    make_prior,
)

from .conftest import SMALL


class LaplaceLikelihood(Likelihood):
    """A user's own likelihood: independent Laplace features of unit scale."""

    def n_outputs(self):
        return self.n_features

    def log_prob(self, x, params):
        return -((x - params).abs() + math.log(2)).sum(-1)

    def reconstruction(self, params):
        return params

    def sample(self, params, generator):
        uniform = torch.rand(params.shape, generator=generator, device=params.device)
        centred = uniform - 0.5
        return params - torch.sign(centred) * torch.log1p(-2 * centred.abs())


class WideNormalPrior(Prior):
    """A user's own prior: N(0, 4 I)."""

    def log_prob(self, z):
        return torch.distributions.Normal(0.0, 2.0).log_prob(z).sum(-1)

    def sample(self, n_samples, generator):
        return 2.0 * torch.randn(n_samples, self.n_components, generator=generator)


@pytest.mark.parametrize(
    "instance, named",
    [
        ({"prior": MixtureOfGaussiansPrior(n_prior_components=5)},
         {"prior": "mog", "n_prior_components": 5}),
        ({"prior": VampPrior(n_prior_components=7)},
         {"prior": "vamp", "n_prior_components": 7}),
        ({"likelihood": GaussianLikelihood(variance="decoded")},
         {"likelihood": "gaussian", "decoder_variance": "decoded"}),
    ],
    ids=["mog", "vamp", "gaussian-decoded"],
)
def test_an_instance_trains_exactly_as_its_name(digits, instance, named):
    X, _ = digits
    by_instance = MIMEncoder(**SMALL, **instance).fit(X)
    by_name = MIMEncoder(**SMALL, **named).fit(X)
    assert by_instance.loss_curve_ == by_name.loss_curve_
    np.testing.assert_array_equal(by_instance.transform(X), by_name.transform(X))


def test_fitting_leaves_the_instance_unbuilt_and_unshared(digits):
    X, _ = digits
    prior = MixtureOfGaussiansPrior(n_prior_components=4)
    encoder = VAEEncoder(**SMALL, prior=prior).fit(X)
    assert prior.n_components is None and not list(prior.parameters())
    assert encoder.model_.prior is not prior
    assert encoder.get_params()["prior"] is prior
    copy = clone(encoder).fit(X)  # a grid search's clone fits the same way
    np.testing.assert_array_equal(copy.transform(X), encoder.transform(X))


def test_a_custom_likelihood_and_prior_train_and_score(digits):
    X, _ = digits
    # No warm-up: the loss is then one objective from the first epoch on.
    encoder = MIMEncoder(**{**SMALL, "warmup_epochs": 0},
                         likelihood=LaplaceLikelihood(),
                         prior=WideNormalPrior()).fit(X)
    assert encoder.loss_curve_[-1] < encoder.loss_curve_[0]
    assert np.isfinite(encoder.score(X))
    assert encoder.inverse_transform(encoder.transform(X[:5])).shape == (5, 64)
    assert encoder.sample(3, random_state=0).shape == (3, 64)
    # The prior the model scores with is the user's: N(0, 4 I), not N(0, I).
    z = torch.zeros(1, SMALL["n_components"])
    expected = -SMALL["n_components"] * (0.5 * math.log(2 * math.pi) + math.log(2.0))
    assert encoder.model_.log_p_z(z).item() == pytest.approx(expected, rel=1e-6)


def test_a_component_built_for_another_size_is_refused(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="pass unbuilt ones"):
        MIMEncoder(**SMALL, prior=StandardNormalPrior(n_components=7)).fit(X)


def test_an_instance_must_be_a_component():
    with pytest.raises(ValueError, match="'prior' parameter"):
        MIMEncoder(prior=torch.nn.Identity()).fit(np.zeros((4, 2)))


def test_save_asks_for_named_components(digits, tmp_path):
    X, _ = digits
    prior = MixtureOfGaussiansPrior(n_prior_components=3)
    encoder = MIMEncoder(**SMALL, prior=prior).fit(X)
    with pytest.raises(ValueError, match="plain values"):
        save(encoder, tmp_path / "encoder.pt")


def test_a_refit_counts_the_categories_of_its_own_data():
    codes = np.random.default_rng(0).integers(0, 3, size=(60, 4)).astype(float)
    encoder = MIMEncoder(**SMALL, likelihood="categorical").fit(codes)
    np.testing.assert_array_equal(encoder.n_categories_, [3, 3, 3, 3])
    wider = codes.copy()
    wider[0, 1] = 5
    encoder.fit(wider)  # a new fit: categories from this data, not the last
    np.testing.assert_array_equal(encoder.n_categories_, [3, 6, 3, 3])
    encoder.set_params(likelihood="gaussian").fit(codes)
    assert not hasattr(encoder, "n_categories_")


def test_categories_given_to_the_likelihood_bound_the_codes():
    codes = np.random.default_rng(0).integers(0, 3, size=(60, 2)).astype(float)
    likelihood = CategoricalLikelihood(n_categories=[4, 3])
    encoder = MIMEncoder(**SMALL, likelihood=likelihood).fit(codes)
    np.testing.assert_array_equal(encoder.n_categories_, [4, 3])
    assert likelihood.n_features is None  # the parameter stays unbuilt
    with pytest.raises(ValueError, match="fit saw codes 0 to 2 only"):
        encoder.transform(np.array([[0.0, 3.0]]))


@pytest.mark.parametrize("prior", ["mog", "vamp"])
def test_a_mixture_prior_is_the_mixture_it_reports(digits, prior):
    X, _ = digits
    model = MIMEncoder(**SMALL, prior=prior).fit(X).model_.prior
    means, log_vars, log_weights = model.mixture()
    z = torch.randn(6, means.shape[1], generator=torch.Generator().manual_seed(0))
    components = torch.distributions.Normal(means, (0.5 * log_vars).exp())
    by_hand = torch.logsumexp(
        components.log_prob(z.unsqueeze(1)).sum(-1) + log_weights, dim=1
    )
    torch.testing.assert_close(model.log_prob(z), by_hand)
    assert StandardNormalPrior(2).mixture() is None


# ------------------------------------------- components from names (factories)


def test_make_likelihood_groups_columns_by_name_in_order_of_first_appearance():
    one = make_likelihood(["gaussian"] * 3, {"gaussian": {"variance": "decoded"}})
    assert type(one) is GaussianLikelihood and one.variance == "decoded"
    mixed = make_likelihood(["bernoulli", "gaussian", "bernoulli", "categorical"],
                            {"gaussian": {"variance": "shared"}})
    assert [(type(part).__name__, columns) for part, columns in mixed.groups()] == [
        ("BernoulliLikelihood", [0, 2]), ("GaussianLikelihood", [1]),
        ("CategoricalLikelihood", [3]),
    ]
    assert mixed.groups()[1][0].variance == "shared"
    for names in (["gaussian", "poisson"], []):
        with pytest.raises(ValueError, match="Each column needs one of the"):
            make_likelihood(names)


def test_make_prior_gives_mixtures_their_components_and_the_standard_none():
    assert type(make_prior("standard", 7)) is StandardNormalPrior
    vamp = make_prior("vamp", 7)
    assert type(vamp) is VampPrior and vamp.n_start_rows == 7
    assert type(make_prior("mog", 3)) is MixtureOfGaussiansPrior
    with pytest.raises(ValueError, match="prior must be one of"):
        make_prior("mixture", 3)


def test_a_likelihood_says_which_columns_hold_categories_and_takes_their_counts():
    mixed = make_likelihood(["gaussian", "categorical", "bernoulli", "categorical"])
    np.testing.assert_array_equal(mixed.category_features(4),
                                  [False, True, False, True])
    assert mixed.known_categories() is None  # counted in the data
    mixed.set_categories(np.array([0, 3, 0, 5]))
    categorical = mixed.groups()[1][0]
    assert categorical.codes_categories and categorical.categories == [3, 5]
    given = CategoricalLikelihood(n_categories=[2, 4])
    np.testing.assert_array_equal(given.known_categories(), [2, 4])
    assert given.groups() == [(given, slice(None))]
    assert not GaussianLikelihood().category_features(2).any()
    assert [lik.sequential_sampling for lik in (
        GaussianLikelihood(), mixed, PixelCNNLikelihood(image_shape=(1, 2, 2)))
    ] == [False, False, True]
