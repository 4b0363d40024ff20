"""Tests of the PixelCNN decoder likelihood."""

import itertools
import math

import numpy as np
import pytest
import torch

from mim_sklearn.nn.likelihoods import PixelCNNLikelihood
from mim_sklearn.nn.networks import initialize_parameters


def make(shape=(1, 4, 4), n_categories=2, seed=0, **kwargs):
    """A small built likelihood, re-initialised from a seeded generator."""
    kwargs = {"channels": 8, "n_layers": 3, **kwargs}
    lik = PixelCNNLikelihood(
        int(np.prod(shape)), image_shape=shape, n_categories=n_categories, **kwargs
    )
    initialize_parameters(lik, torch.Generator().manual_seed(seed))
    return lik


def random_images(lik, n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(
        lik.n_categories, (n, lik.n_features), generator=generator
    ).float()


def random_params(lik, *lead, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*lead, lik.n_outputs(), generator=generator)


@pytest.mark.parametrize("n_categories", [2, 4])
def test_autoregressive_gradients(n_categories):
    # Non-square, with more layers than rows, so the receptive field covers
    # the whole image: any leak through a mask would show.
    lik = make((1, 3, 5), n_categories, n_layers=4, conditioning_channels=2)
    # Re-initialise once more: the masks must survive every reset.
    initialize_parameters(lik, torch.Generator().manual_seed(3))
    x = random_images(lik, 1).requires_grad_()
    params = random_params(lik, 1)
    logits = lik.logits(x, params)[0]
    logits = logits.unsqueeze(-1) if n_categories == 2 else logits
    seen = torch.zeros(lik.n_features, lik.n_features)
    for i in range(lik.n_features):
        for k in range(logits.shape[-1]):
            (grad,) = torch.autograd.grad(logits[i, k], x, retain_graph=True)
            seen[i] += grad[0].abs()
    # No pixel's logits see itself or a later pixel (raster order)...
    assert torch.all(seen.triu() == 0)
    # ... and they do see earlier ones (the mask is not all zeros).
    assert seen[lik.n_features - 1, lik.n_features - 2] > 0
    assert seen[5, 0] > 0


def test_log_prob_is_sum_of_conditionals():
    for n_categories in (2, 3):
        lik = make(n_categories=n_categories)
        x, params = random_images(lik, 5), random_params(lik, 5)
        logits = lik.logits(x, params)
        if n_categories == 2:
            expected = torch.distributions.Bernoulli(logits=logits).log_prob(x)
        else:
            expected = torch.distributions.Categorical(logits=logits).log_prob(x)
        torch.testing.assert_close(lik.log_prob(x, params), expected.sum(-1))


def test_bernoulli_probabilities_give_cross_entropy():
    lik = make()
    x = torch.full((2, 16), 0.25)
    params = random_params(lik, 2)
    p = torch.sigmoid(lik.logits(x, params))
    expected = (0.25 * p.log() + 0.75 * (1 - p).log()).sum(-1)
    torch.testing.assert_close(lik.log_prob(x, params), expected)


@pytest.mark.parametrize("n_categories", [2, 3])
def test_sampler_conditionals_match_parallel_pass(n_categories):
    lik = make((1, 5, 6), n_categories, n_layers=4)
    params = random_params(lik, 3)
    draw, used = lik._decode(params, torch.Generator().manual_seed(0), greedy=False)
    torch.testing.assert_close(used, lik.logits(draw, params), rtol=1e-5, atol=1e-5)
    again = lik.sample(params, torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, draw)


def test_exact_normalisation():
    lik = make((1, 2, 2))
    params = random_params(lik, 1)
    x = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)))
    total = lik.log_prob(x, params).exp().sum()
    torch.testing.assert_close(total, torch.tensor(1.0))


def test_exact_normalisation_categorical():
    lik = make((1, 1, 3), n_categories=3)
    params = random_params(lik, 1)
    x = torch.tensor(list(itertools.product([0.0, 1.0, 2.0], repeat=3)))
    torch.testing.assert_close(
        lik.log_prob(x, params).exp().sum(), torch.tensor(1.0)
    )


@pytest.mark.parametrize("n_categories", [2, 3])
def test_leading_dims_broadcast(n_categories):
    lik = make(n_categories=n_categories, conditioning_channels=2)
    x, params = random_images(lik, 4), random_params(lik, 3, 4)
    out = lik.log_prob(x, params)
    assert out.shape == (3, 4)
    loop = torch.stack([lik.log_prob(x, params[k]) for k in range(3)])
    torch.testing.assert_close(out, loop)
    assert lik.sample(params, None).shape == (3, 4, 16)
    assert lik.reconstruction(params).shape == (3, 4, 16)


def test_log_prob_differentiable():
    lik = make()
    params = random_params(lik, 2).requires_grad_()
    lik.log_prob(random_images(lik, 2), params).sum().backward()
    assert params.grad.abs().sum() > 0
    assert lik.first.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("n_categories", [2, 5])
def test_sample(n_categories):
    lik = make(n_categories=n_categories)
    params = random_params(lik, 6)
    draw = lik.sample(params, torch.Generator().manual_seed(0))
    assert draw.shape == (6, 16) and draw.dtype == params.dtype
    assert not draw.requires_grad
    assert set(draw.unique().tolist()) <= set(range(n_categories))
    again = lik.sample(params, torch.Generator().manual_seed(0))
    other = lik.sample(params, torch.Generator().manual_seed(1))
    torch.testing.assert_close(again, draw)
    assert not torch.equal(other, draw)


@pytest.mark.parametrize("n_categories", [2, 5])
def test_reconstruction(n_categories):
    lik = make(n_categories=n_categories)
    params = random_params(lik, 4)
    first, second = lik.reconstruction(params), lik.reconstruction(params)
    assert first.shape == (4, 16)
    torch.testing.assert_close(first, second)
    if n_categories == 2:
        assert torch.all((first >= 0) & (first <= 1))
        # Each probability is that of the greedy image's conditionals.
        greedy = (first > 0.5).float()
        torch.testing.assert_close(first, torch.sigmoid(lik.logits(greedy, params)))
    else:
        assert set(first.unique().tolist()) <= set(range(n_categories))
        # Each greedy value is the most probable given the greedy pixels before it.
        assert torch.equal(lik.logits(first, params).argmax(-1).float(), first)


def test_check_data():
    lik = PixelCNNLikelihood(image_shape=(1, 2, 2))
    lik.check_data(np.array([[0.0, 0.5, 1.0, 1.0]]))
    with pytest.raises(ValueError, match="cannot model missing values"):
        lik.check_data(np.array([[0.0, np.nan, 1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        lik.check_data(np.array([[0.0, 2.0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match="holds 4 pixels"):
        lik.check_data(np.zeros((1, 5)))
    categorical = PixelCNNLikelihood(image_shape=(1, 2, 2), n_categories=4)
    categorical.check_data(np.array([[0.0, 1.0, 2.0, 3.0]]))
    for bad in (4.0, 0.5, -1.0):
        with pytest.raises(ValueError, match="integers 0 to 3"):
            categorical.check_data(np.array([[0.0, bad, 1.0, 1.0]]))


def test_build_errors():
    with pytest.raises(ValueError, match="pass image_shape"):
        PixelCNNLikelihood(16)
    with pytest.raises(ValueError, match="holds 16 pixels"):
        PixelCNNLikelihood(15, image_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="single-channel"):
        PixelCNNLikelihood(image_shape=(3, 4, 4))
    with pytest.raises(ValueError, match="n_categories"):
        PixelCNNLikelihood(image_shape=(1, 4, 4), n_categories=1)
    lik = PixelCNNLikelihood(image_shape=(1, 4, 4))  # unbuilt until the data is seen
    assert lik.n_features is None
    lik.build(16)
    assert lik.n_outputs() == 16


def test_attributes_and_encoder_input():
    lik = make(n_categories=5, conditioning_channels=3)
    assert lik.discrete and lik.sequential_sampling
    assert not lik.scales_input and not lik.supports_missing
    assert lik.encoder_input_bounds == (0.0, 1.0)
    assert lik.n_outputs() == 48 and lik.n_inputs() == 16
    x = torch.tensor([[0.0, 2.0, 4.0] + [1.0] * 13])
    assert lik.encoder_input(x)[0, :3].tolist() == [0.0, 0.5, 1.0]
    assert "n_categories=5" in repr(lik)
    with pytest.raises(NotImplementedError):
        lik.expected_encoder_input(random_params(lik, 1))


def test_learns_pixel_dependence():
    # All four pixels equal to one fair coin: independent pixels can do no
    # better than 4 log(1/2) = -2.77 nats, the true distribution has log(1/2).
    torch.manual_seed(0)
    lik = make((1, 2, 2), channels=16, n_layers=2)
    coins = torch.randint(2, (256, 1), generator=torch.Generator().manual_seed(0))
    x = coins.float().expand(256, 4)
    params = torch.zeros(256, 4)
    optimizer = torch.optim.Adam(lik.parameters(), lr=0.02)
    for _ in range(100):
        optimizer.zero_grad()
        loss = -lik.log_prob(x, params).mean()
        loss.backward()
        optimizer.step()
    trained = lik.log_prob(x, params).mean().item()
    assert trained > -1.5
    # No model beats the training coins' own entropy (about -log 2).
    heads = coins.float().mean().item()
    best = heads * math.log(heads) + (1 - heads) * math.log(1 - heads)
    assert trained <= best + 1e-4
