"""Each objective against a computation written out independently here."""

import pytest
import torch
from torch.distributions import Normal

from mim_sklearn.nn import LatentVariableModel
from mim_sklearn.objectives import (
    amim_objective,
    decoder_sampled_terms,
    encoder_sampled_terms,
    mim_objective,
    mim_pair_loss,
    vae_objective,
    vae_pair_loss,
)

N_ROWS, N_FEATURES, N_COMPONENTS = 6, 3, 2


def _model():
    model = LatentVariableModel(N_FEATURES, N_COMPONENTS, (5,), "tanh", seed=0)
    with torch.no_grad():  # a non-trivial decoder variance
        model.likelihood.raw_log_var.copy_(torch.tensor([-0.5, 0.3, 1.0]))
    return model


def _data():
    return torch.randn(N_ROWS, N_FEATURES, generator=torch.Generator().manual_seed(9))


def _by_hand_posterior(model, x):
    out = model.encoder(x)
    mean, raw = out[:, :N_COMPONENTS], out[:, N_COMPONENTS:]
    floor = model.min_encoder_log_var
    log_var = floor + torch.log1p(torch.exp(raw - floor))
    return Normal(mean, torch.exp(0.5 * log_var))


def _by_hand_likelihood(model, z):
    std = torch.exp(0.5 * model.likelihood.log_var())
    return Normal(model.decoder(z), std)


def _log_p_z(z):
    return Normal(0.0, 1.0).log_prob(z).sum(-1)


def test_mim_pair_loss_by_hand():
    loss = mim_pair_loss(
        torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-3.0]),
        torch.tensor([-4.0]), beta=0.5,
    )
    # -1/2 * (-1 - 2 + 0.5 * (-3 - 4))
    torch.testing.assert_close(loss, torch.tensor([3.25]))


def test_vae_pair_loss_by_hand():
    loss = vae_pair_loss(
        torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-3.0]), beta=0.5
    )
    # -(-1 + 0.5 * (-2 + 3))
    torch.testing.assert_close(loss, torch.tensor([0.5]))


def test_encoder_sampled_terms_by_hand():
    model, x = _model(), _data()
    terms = encoder_sampled_terms(model, x, torch.Generator().manual_seed(1))

    noise = torch.randn(N_ROWS, N_COMPONENTS, generator=torch.Generator().manual_seed(1))
    q = _by_hand_posterior(model, x)
    z = q.mean + q.stddev * noise
    log_p_x_given_z = _by_hand_likelihood(model, z).log_prob(x).sum(-1)
    log_q_z_given_x = q.log_prob(z).sum(-1)
    expected = {
        "log_p_x_given_z": log_p_x_given_z,
        "log_p_z": _log_p_z(z),
        "log_q_z_given_x": log_q_z_given_x,
        "log_q_x": log_p_x_given_z + _log_p_z(z) - log_q_z_given_x,
    }
    torch.testing.assert_close(terms, expected)


def test_decoder_sampled_terms_by_hand():
    model = _model()
    terms = decoder_sampled_terms(model, N_ROWS, torch.Generator().manual_seed(1))

    gen = torch.Generator().manual_seed(1)
    z = torch.randn(N_ROWS, N_COMPONENTS, generator=gen)
    p = _by_hand_likelihood(model, z)
    x = p.mean + p.stddev * torch.randn(N_ROWS, N_FEATURES, generator=gen)
    q = _by_hand_posterior(model, x)
    z_prime = q.mean + q.stddev * torch.randn(N_ROWS, N_COMPONENTS, generator=gen)
    expected = {
        "log_p_x_given_z": p.log_prob(x).sum(-1),
        "log_p_z": _log_p_z(z),
        "log_q_z_given_x": q.log_prob(z).sum(-1),
        "log_q_x": _by_hand_likelihood(model, z_prime).log_prob(x).sum(-1)
        + _log_p_z(z_prime)
        - q.log_prob(z_prime).sum(-1),
    }
    torch.testing.assert_close(terms, expected)


@pytest.mark.parametrize("beta", [0.3, 1.0])
def test_mim_objective_is_the_mean_over_both_halves(beta):
    model, x = _model(), _data()
    loss, _ = mim_objective(model, x, beta=beta, generator=torch.Generator().manual_seed(4))

    gen = torch.Generator().manual_seed(4)
    enc = encoder_sampled_terms(model, x, gen)
    dec = decoder_sampled_terms(model, N_ROWS, gen)
    by_hand = 0.5 * (
        -0.5 * (enc["log_p_x_given_z"] + enc["log_p_z"]
                + beta * (enc["log_q_z_given_x"] + enc["log_q_x"])).mean()
        - 0.5 * (dec["log_p_x_given_z"] + dec["log_p_z"]
                 + beta * (dec["log_q_z_given_x"] + dec["log_q_x"])).mean()
    )
    torch.testing.assert_close(loss, by_hand)


def test_log_q_z_given_x_cancels_on_encoder_sampled_pairs():
    """With the marginal q(x), the MIM loss of an encoder pair is -(1+beta)/2 (log p(x|z) + log p(z))."""
    model, x = _model(), _data()
    beta = 0.7
    loss, _ = amim_objective(model, x, beta=beta, generator=torch.Generator().manual_seed(2))
    terms = encoder_sampled_terms(model, x, torch.Generator().manual_seed(2))
    expected = (-(1 + beta) / 2 * (terms["log_p_x_given_z"] + terms["log_p_z"])).mean()
    torch.testing.assert_close(loss, expected)


def test_vae_objective_is_the_negative_elbo():
    model, x = _model(), _data()
    loss, _ = vae_objective(model, x, generator=torch.Generator().manual_seed(3))

    noise = torch.randn(N_ROWS, N_COMPONENTS, generator=torch.Generator().manual_seed(3))
    q = _by_hand_posterior(model, x)
    z = q.mean + q.stddev * noise
    elbo = (
        _by_hand_likelihood(model, z).log_prob(x).sum(-1)
        + _log_p_z(z)
        - q.log_prob(z).sum(-1)
    )
    torch.testing.assert_close(loss, -elbo.mean())


def test_decoder_sampled_half_reaches_every_parameter():
    model = _model()
    dec = decoder_sampled_terms(model, N_ROWS, torch.Generator().manual_seed(5))
    mim_pair_loss(**dec).mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.count_nonzero(parameter.grad) > 0, name


def test_mim_gradient_differs_from_its_encoder_half():
    x = _data()
    grads = []
    for objective in (mim_objective, amim_objective):
        model = _model()
        loss, _ = objective(model, x, generator=torch.Generator().manual_seed(6))
        loss.backward()
        grads.append(model.decoder[0].weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("objective", [mim_objective, amim_objective, vae_objective])
def test_objectives_report_detached_terms(objective):
    loss, terms = objective(_model(), _data(), generator=torch.Generator().manual_seed(0))
    assert loss.requires_grad and loss.ndim == 0
    assert terms
    assert all(not t.requires_grad and t.shape == (N_ROWS,) for t in terms.values())
