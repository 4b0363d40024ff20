import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

from mim_sklearn.nn import (
    GaussianLikelihood,
    LatentVariableModel,
    StandardNormalPrior,
    initialize_parameters,
    make_mlp,
)
from mim_sklearn.nn.gaussian import gaussian_log_prob, gaussian_rsample
from mim_sklearn.nn.posteriors import GaussianPosterior


def test_gaussian_log_prob_matches_torch_normal():
    gen = torch.Generator().manual_seed(0)
    x, mean = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    log_var = torch.randn(5, 3, generator=gen)
    expected = Normal(mean, torch.exp(0.5 * log_var)).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_prob(x, mean, log_var), expected)


def test_gaussian_rsample_is_seeded_and_has_the_right_moments():
    mean, log_var = torch.tensor([1.0, -2.0]), torch.tensor([0.0, math.log(4.0)])
    draws = gaussian_rsample(
        mean, log_var, torch.Generator().manual_seed(0), (200_000, 2)
    )
    again = gaussian_rsample(
        mean, log_var, torch.Generator().manual_seed(0), (200_000, 2)
    )
    assert torch.equal(draws, again)
    torch.testing.assert_close(draws.mean(0), mean, atol=0.02, rtol=0)
    torch.testing.assert_close(draws.std(0), torch.tensor([1.0, 2.0]),
                               atol=0.02, rtol=0)


def test_initialization_comes_from_the_local_generator():
    torch.manual_seed(1)
    a = LatentVariableModel(4, 2, (8,), "tanh", seed=3)
    torch.manual_seed(2)
    b = LatentVariableModel(4, 2, (8,), "tanh", seed=3)
    c = LatentVariableModel(4, 2, (8,), "tanh", seed=4)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.encoder[0].weight, c.encoder[0].weight)


def test_make_mlp_layers():
    net = make_mlp(4, (8, 6), 2, "relu")
    widths = [m.out_features for m in net if isinstance(m, torch.nn.Linear)]
    assert widths == [8, 6, 2]
    initialize_parameters(net, torch.Generator().manual_seed(0))
    assert torch.count_nonzero(net[0].bias) == 0


def test_encoder_log_variance_is_floored():
    model = LatentVariableModel(3, 2, (4,), "tanh", min_encoder_log_var=-6.0)
    with torch.no_grad():
        model.encoder[-1].bias[2:] = -1e4  # drive the raw log-variance down
    _, log_var = model.encode(torch.zeros(5, 3))
    assert torch.all(log_var >= -6.0)
    torch.testing.assert_close(log_var, torch.full_like(log_var, -6.0))


def test_decoder_log_variance_is_floored():
    likelihood = GaussianLikelihood(3, min_log_var=-4.0)
    with torch.no_grad():
        likelihood.raw_log_var.fill_(-1e4)
    _, log_var = likelihood.moments(torch.zeros(2, 3))
    torch.testing.assert_close(log_var, torch.full((3,), -4.0))


def test_decoded_variance_reads_a_mean_and_a_log_variance_per_feature():
    likelihood = GaussianLikelihood(2, min_log_var=-4.0, variance="decoded")
    assert likelihood.n_outputs() == 4 and not list(likelihood.parameters())
    # Feature-major: (mean, raw log-variance) of feature 0, then of feature 1.
    params = torch.tensor([[1.0, 0.5, -2.0, -1e4]])
    mean, log_var = likelihood.moments(params)
    torch.testing.assert_close(mean, torch.tensor([[1.0, -2.0]]))
    expected_log_var = torch.tensor([[-4.0 + math.log1p(math.exp(4.5)), -4.0]])
    torch.testing.assert_close(log_var, expected_log_var)
    x = torch.tensor([[0.0, 0.0]])
    by_hand = Normal(mean, torch.exp(0.5 * expected_log_var)).log_prob(x).sum(-1)
    torch.testing.assert_close(likelihood.log_prob(x, params), by_hand)
    with pytest.raises(ValueError, match="variance must be one of"):
        GaussianLikelihood(2, variance="per-z")


def test_isotropic_variance_is_one_learned_value_for_every_feature():
    likelihood = GaussianLikelihood(3, min_log_var=-4.0, variance="isotropic")
    assert likelihood.n_outputs() == 3 and likelihood.raw_log_var.shape == (1,)
    with torch.no_grad():
        likelihood.raw_log_var.fill_(1.0)
    params = torch.tensor([[0.0, 1.0, 2.0]])
    mean, log_var = likelihood.moments(params)
    expected_log_var = -4.0 + math.log1p(math.exp(5.0))
    torch.testing.assert_close(log_var, torch.full((3,), expected_log_var))
    x = torch.tensor([[1.0, 1.0, 1.0]])
    by_hand = Normal(params, math.exp(0.5 * expected_log_var)).log_prob(x).sum(-1)
    torch.testing.assert_close(likelihood.log_prob(x, params), by_hand)


def test_standard_prior():
    prior = StandardNormalPrior(3)
    z = torch.tensor([[0.0, 1.0, -1.0]])
    torch.testing.assert_close(
        prior.log_prob(z), Normal(0.0, 1.0).log_prob(z).sum(-1)
    )
    assert prior.sample(7, torch.Generator().manual_seed(0)).shape == (7, 3)


def test_importance_log_likelihood_matches_a_linear_gaussian_model():
    """A linear decoder has the closed-form marginal N(b, W W^T + diag(var))."""
    torch.manual_seed(0)
    model = LatentVariableModel(3, 2, (), "identity", seed=0)
    W, b = model.decoder[0].weight.detach(), model.decoder[0].bias.detach()
    var = model.likelihood.moments(b)[1].detach().exp()
    exact = MultivariateNormal(b, W @ W.T + torch.diag(var))
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        estimate = model.importance_log_likelihood(
            x, 50_000, torch.Generator().manual_seed(2)
        )
    torch.testing.assert_close(estimate, exact.log_prob(x), atol=0.05, rtol=0)


@pytest.mark.parametrize("n_draws", [None, 5])
def test_posterior_draw_shapes(n_draws):
    model = LatentVariableModel(3, 2, (4,), "tanh")
    z, log_q = model.posterior(torch.zeros(6, 3)).rsample_with_log_prob(
        None, n_draws=n_draws
    )
    assert z.shape == ((6, 2) if n_draws is None else (5, 6, 2))
    assert log_q.shape == z.shape[:-1]


def test_shared_noise_gives_every_row_the_same_standard_draws():
    mean = torch.tensor([[0.0, 0.0], [10.0, -10.0]])
    log_var = torch.tensor([[0.0, 0.0], [2 * math.log(3.0)] * 2])
    z, _ = GaussianPosterior(mean, log_var).rsample_with_log_prob(
        torch.Generator().manual_seed(0), 4, shared_noise=True
    )
    assert z.shape == (4, 2, 2)
    torch.testing.assert_close((z[:, 1] - mean[1]) / 3.0, z[:, 0] - mean[0])

