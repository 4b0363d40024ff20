"""Each objective against a computation written out independently here."""

import pytest
import torch
from torch.distributions import Normal

from mim_sklearn.nn import LIKELIHOODS, LatentVariableModel
from mim_sklearn.objectives import (
    Objective,
    amim_objective,
    decoder_sampled_terms,
    encoder_sampled_terms,
    mae_objective,
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
    floor = model.likelihood.min_log_var
    log_var = floor + torch.log1p(torch.exp(model.likelihood.raw_log_var - floor))
    std = torch.exp(0.5 * log_var)
    return Normal(model.decoder(z), std)


def _log_p_z(z):
    return Normal(0.0, 1.0).log_prob(z).sum(-1)


def test_mim_pair_loss_by_hand():
    loss = mim_pair_loss(
        torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-3.0]),
        torch.tensor([-4.0]),
    )
    # -1/2 * (-1 - 2 - 3 - 4)
    torch.testing.assert_close(loss, torch.tensor([5.0]))


def test_vae_pair_loss_by_hand():
    loss = vae_pair_loss(
        torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-3.0]), beta=0.5
    )
    # -(-1 + 0.5 * (-2 + 3))
    torch.testing.assert_close(loss, torch.tensor([0.5]))


@pytest.mark.parametrize("prior_weight", [1.0, 0.4])
def test_encoder_sampled_terms_by_hand(prior_weight):
    model, x = _model(), _data()
    terms = encoder_sampled_terms(model, x, torch.Generator().manual_seed(1),
                                  prior_weight=prior_weight)

    noise = torch.randn(N_ROWS, N_COMPONENTS,
                        generator=torch.Generator().manual_seed(1))
    q = _by_hand_posterior(model, x)
    z = q.mean + q.stddev * noise
    log_p_x_given_z = _by_hand_likelihood(model, z).log_prob(x).sum(-1)
    log_q_z_given_x = q.log_prob(z).sum(-1)
    # The warm-up's tempered prior p(z)^w, in the joint and in the marginal q(x).
    log_p_z = prior_weight * _log_p_z(z)
    expected = {
        "log_p_x_given_z": log_p_x_given_z,
        "log_p_z": log_p_z,
        "log_q_z_given_x": log_q_z_given_x,
        "log_q_x": log_p_x_given_z + log_p_z - log_q_z_given_x,
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


def test_mim_objective_is_the_mean_over_both_halves():
    """The MIM loss from the networks' outputs alone, with the same draws.

    Encoder-sampled pairs: z = mu(x) + sigma(x) e. Their log q(x) is the
    one-draw estimate log p(x|z) + log p(z) - log q(z|x) at the same z, so
    log q(z|x) cancels and the pair's loss is -(log p(x|z) + log p(z)).
    Decoder-sampled pairs: z ~ N(0, I), x = mu(z) + sigma e', and a fresh
    z' ~ q(z|x) for log q(x). Each pair's loss is
    -1/2 (log p(x|z) + log p(z) + log q(z|x) + log q(x)); the objective is
    the mean of the two halves' means.
    """
    model, x = _model(), _data()
    loss, terms = mim_objective(model, x, generator=torch.Generator().manual_seed(4))

    gen = torch.Generator().manual_seed(4)  # drawn in the order the loss draws
    q = _by_hand_posterior(model, x)
    z = q.mean + q.stddev * torch.randn(N_ROWS, N_COMPONENTS, generator=gen)
    encoder_pairs = -(_by_hand_likelihood(model, z).log_prob(x).sum(-1) + _log_p_z(z))

    z_dec = torch.randn(N_ROWS, N_COMPONENTS, generator=gen)
    p = _by_hand_likelihood(model, z_dec)
    x_dec = p.mean + p.stddev * torch.randn(N_ROWS, N_FEATURES, generator=gen)
    q_dec = _by_hand_posterior(model, x_dec)
    z_prime = q_dec.mean + q_dec.stddev * torch.randn(N_ROWS, N_COMPONENTS,
                                                      generator=gen)
    log_q_x = (_by_hand_likelihood(model, z_prime).log_prob(x_dec).sum(-1)
               + _log_p_z(z_prime) - q_dec.log_prob(z_prime).sum(-1))
    decoder_pairs = -0.5 * (p.log_prob(x_dec).sum(-1) + _log_p_z(z_dec)
                            + q_dec.log_prob(z_dec).sum(-1) + log_q_x)

    torch.testing.assert_close(
        loss, 0.5 * (encoder_pairs.mean() + decoder_pairs.mean())
    )
    # The reported terms are the two halves' log-probabilities.
    torch.testing.assert_close(terms["enc_log_p_z"], _log_p_z(z))
    torch.testing.assert_close(terms["dec_log_q_x"], log_q_x)


@pytest.mark.parametrize("objective", [mim_objective, amim_objective])
def test_in_the_warm_up_the_prior_weighs_beta_against_the_reconstruction(objective):
    """With the marginal q(x), an encoder pair's MIM loss is
    -(log p(x|z) + beta log p(z)); MIM's decoder pairs wait for beta = 1."""
    model, x = _model(), _data()
    beta = 0.3
    loss, terms = objective(model, x, beta=beta,
                            generator=torch.Generator().manual_seed(2))
    noise = torch.randn(N_ROWS, N_COMPONENTS,
                        generator=torch.Generator().manual_seed(2))
    q = _by_hand_posterior(model, x)
    z = q.mean + q.stddev * noise
    by_hand = -(_by_hand_likelihood(model, z).log_prob(x).sum(-1)
                + beta * _log_p_z(z)).mean()
    torch.testing.assert_close(loss, by_hand)
    assert not any(name.startswith("dec_") for name in terms)


@pytest.mark.parametrize("objective", [mim_objective, amim_objective])
def test_the_warm_up_changes_the_direction_of_the_gradient(objective):
    # A weight that only rescaled the loss would leave the direction alone
    # (cosine 1), and Adam would take the same steps: no warm-up at all.
    x = _data()
    gradients = []
    for beta in (0.0, 0.999):
        model = _model()
        loss, _ = objective(model, x, beta=beta,
                            generator=torch.Generator().manual_seed(7))
        loss.backward()
        gradients.append(
            torch.cat([p.grad.flatten() for p in model.encoder.parameters()])
        )
    cosine = torch.nn.functional.cosine_similarity(*gradients, dim=0)
    assert cosine < 0.99


def test_vae_objective_is_the_negative_elbo():
    model, x = _model(), _data()
    loss, _ = vae_objective(model, x, generator=torch.Generator().manual_seed(3))

    noise = torch.randn(N_ROWS, N_COMPONENTS,
                        generator=torch.Generator().manual_seed(3))
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


@pytest.mark.parametrize("likelihood, options, x", [
    ("bernoulli", None, torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])),
    ("categorical", {"n_categories": [2, 4, 3]},
     torch.tensor([[0.0, 3.0, 2.0], [1.0, 0.0, 1.0]])),
])
def test_discrete_decoder_pairs_train_the_encoder_not_the_decoder(
    likelihood, options, x
):
    """A decoder trained at its own draws would lower its entropy until it
    saturates; at its detached mean its log-probability has no gradient."""
    model = LatentVariableModel(
        3, 2, (5,), "tanh", likelihood=LIKELIHOODS[likelihood](**(options or {})),
        seed=0,
    )
    dec = decoder_sampled_terms(model, 64, torch.Generator().manual_seed(5))
    mim_pair_loss(**dec).mean().backward()
    for name, parameter in model.decoder.named_parameters():
        torch.testing.assert_close(parameter.grad, torch.zeros_like(parameter),
                                   atol=1e-6, rtol=0, msg=name)
    assert all(torch.count_nonzero(p.grad) > 0 for p in model.encoder.parameters())
    # These pairs' x is the decoder's mean, where the encoder reads x.
    inputs = model.likelihood.expected_encoder_input(model.decode(torch.zeros(1, 2)))
    assert inputs.shape == (1, model.likelihood.n_inputs())
    # One-hot or binary inputs give the ordinary log-probability.
    params = model.decode(torch.randn(2, 2, generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(
        model.likelihood.log_prob_of_encoder_input(
            model.likelihood.encoder_input(x), params
        ),
        model.likelihood.log_prob(x, params),
    )


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
    loss, terms = objective(_model(), _data(),
                            generator=torch.Generator().manual_seed(0))
    assert loss.requires_grad and loss.ndim == 0
    assert terms
    assert all(not t.requires_grad and t.shape == (N_ROWS,) for t in terms.values())


@pytest.mark.parametrize(
    "objective, beta, half",
    [
        (Objective(mim_objective), 1.0, 0.5),
        (Objective(mim_objective), 0.5, 1.0),  # the warm-up: A-MIM's loss
        (Objective(amim_objective), 1.0, 1.0),
        (Objective(vae_objective), 0.7, 1.0),
        (Objective(mae_objective, {"target_mutual_info": 1.0, "mi_penalty": 10.0},
                   auxiliary_posterior=True), 0.7, 1.0),
    ],
    ids=["mim", "mim-warm-up", "amim", "vae", "mae"],
)
def test_weights_multiply_the_losses_of_the_pairs_from_data_rows(objective, beta,
                                                                 half):
    """(weights * pair_loss).mean() over the encoder-sampled pairs, one per
    row; the pairs drawn from the model (MIM's decoder-sampled half, the
    mutual autoencoder's bound) keep their plain mean, and the terms stay
    unweighted."""
    model = LatentVariableModel(N_FEATURES, N_COMPONENTS, (5,), "tanh", seed=0,
                                auxiliary_posterior=objective.auxiliary_posterior)
    x, weights = _data(), torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 1.0])
    plain, plain_terms = objective(model, x, beta=beta,
                                   generator=torch.Generator().manual_seed(8))
    loss, terms = objective(model, x, beta=beta, weights=weights,
                            generator=torch.Generator().manual_seed(8))
    for name, value in plain_terms.items():
        torch.testing.assert_close(terms[name], value, rtol=0, atol=0)
    enc = {name[4:]: value for name, value in terms.items() if name.startswith("enc_")}
    pair = (mim_pair_loss(**enc) if "log_q_x" in enc
            else vae_pair_loss(**enc, beta=beta))
    # The same draws: the losses differ by the weighting of the rows' pairs
    # (up to float32's rounding of the losses, which reach the hundreds).
    torch.testing.assert_close(loss - plain,
                               half * ((weights * pair).mean() - pair.mean()),
                               rtol=0, atol=1e-4)
