"""Training objectives: MIM, asymmetric MIM and the VAE's negative ELBO.

Each objective is a plain function ``objective(model, x, *, beta, generator)``
returning the scalar loss to minimise and a dict of its named terms (the
detached log-probabilities of each pair, for logging; reducing them is left
to whoever logs, so that training pays no extra tensor operations). The
per-pair losses are pure functions of log-probabilities so they can be
checked against a hand computation.

``beta`` is the warm-up weight, ramped from 0 to 1 over the first epochs:
MIM weights the cross-entropy to the encoding joint q(x, z) with it, as the
MIM paper's reference code does; the VAE weights the KL term (the usual KL
annealing). At ``beta=1`` every objective is exactly its paper's loss.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .nn.model import LatentVariableModel

Terms = dict[str, torch.Tensor]
Objective = Callable[..., tuple[torch.Tensor, Terms]]


def mim_pair_loss(
    log_p_x_given_z: torch.Tensor,
    log_p_z: torch.Tensor,
    log_q_z_given_x: torch.Tensor,
    log_q_x: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """MIM loss of each (x, z) pair drawn from the sample mixture.

    The mean of the cross-entropies to the decoding joint p(x, z) and to the
    encoding joint q(x, z) (the MIM paper's eq. 8), evaluated at one pair:
    ``-1/2 (log p(x|z) + log p(z) + beta (log q(z|x) + log q(x)))``.

    Parameters
    ----------
    log_p_x_given_z, log_p_z, log_q_z_given_x, log_q_x : torch.Tensor
        Log-probabilities of each pair, shape ``(n_pairs,)``.
    beta : float, default=1.0
        Warm-up weight of the encoding joint's cross-entropy.

    Returns
    -------
    torch.Tensor
        The loss of each pair, shape ``(n_pairs,)``.

    Examples
    --------
    >>> one = torch.ones(1)
    >>> mim_pair_loss(-one, -one, -one, -one)
    tensor([2.])
    """
    return -0.5 * (log_p_x_given_z + log_p_z + beta * (log_q_z_given_x + log_q_x))


def vae_pair_loss(
    log_p_x_given_z: torch.Tensor,
    log_p_z: torch.Tensor,
    log_q_z_given_x: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """Negative ELBO of each encoder-sampled pair (x, z ~ q(z|x)).

    ``-(log p(x|z) + beta (log p(z) - log q(z|x)))``.

    Parameters
    ----------
    log_p_x_given_z, log_p_z, log_q_z_given_x : torch.Tensor
        Log-probabilities of each pair, shape ``(n_pairs,)``.
    beta : float, default=1.0
        Warm-up weight of the KL term.

    Returns
    -------
    torch.Tensor
        The loss of each pair, shape ``(n_pairs,)``.

    Examples
    --------
    >>> one = torch.ones(1)
    >>> vae_pair_loss(-one, -2 * one, -one)
    tensor([2.])
    """
    return -(log_p_x_given_z + beta * (log_p_z - log_q_z_given_x))


def encoder_sampled_terms(
    model: LatentVariableModel, x: torch.Tensor, generator: torch.Generator | None
) -> Terms:
    """Log-probabilities of pairs x from the data, z ~ q(z|x).

    log q(x) is the one-sample importance estimate with the same draw z, so
    that log q(z|x) cancels in the MIM loss of these pairs (the MIM paper's
    Algorithm 2).

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_pairs, n_features)
        Data rows.
    generator : torch.Generator or None
        Source of the noise, on ``x``'s device.

    Returns
    -------
    dict of str to torch.Tensor
        ``log_p_x_given_z``, ``log_p_z``, ``log_q_z_given_x`` and ``log_q_x``,
        each of shape ``(n_pairs,)``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> terms = encoder_sampled_terms(model, torch.zeros(5, 3), None)
    >>> sorted(terms)
    ['log_p_x_given_z', 'log_p_z', 'log_q_x', 'log_q_z_given_x']
    """
    mean, log_var = model.encode(x)
    z = model.rsample_posterior(mean, log_var, generator)
    log_p_x_given_z = model.log_p_x_given_z(x, model.decode(z))
    log_p_z = model.prior.log_prob(z)
    log_q_z_given_x = model.log_q_z_given_x(z, mean, log_var)
    return {
        "log_p_x_given_z": log_p_x_given_z,
        "log_p_z": log_p_z,
        "log_q_z_given_x": log_q_z_given_x,
        "log_q_x": log_p_x_given_z + log_p_z - log_q_z_given_x,
    }


def decoder_sampled_terms(
    model: LatentVariableModel, n_pairs: int, generator: torch.Generator | None
) -> Terms:
    """Log-probabilities of pairs z ~ P(z), x ~ p(x|z).

    x is drawn with the reparameterisation trick, so gradients reach the
    decoder through the sample. log q(x) is a one-sample importance estimate
    with a fresh draw z' ~ q(z|x).

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    n_pairs : int
        Number of pairs to draw.
    generator : torch.Generator or None
        Source of the noise, on the model's device.

    Returns
    -------
    dict of str to torch.Tensor
        As :func:`encoder_sampled_terms`.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> decoder_sampled_terms(model, 5, None)["log_q_x"].shape
    torch.Size([5])
    """
    z = model.prior.sample(n_pairs, generator)
    params = model.decode(z)
    x = model.likelihood.rsample(params, generator)
    mean, log_var = model.encode(x)
    return {
        "log_p_x_given_z": model.log_p_x_given_z(x, params),
        "log_p_z": model.prior.log_prob(z),
        "log_q_z_given_x": model.log_q_z_given_x(z, mean, log_var),
        "log_q_x": model.importance_log_likelihood(
            x, 1, generator, posterior=(mean, log_var)
        ),
    }


def _detached(terms: Terms, prefix: str) -> Terms:
    return {f"{prefix}{name}": value.detach() for name, value in terms.items()}


def mim_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Terms]:
    """Symmetric MIM: half the pairs encoder-sampled, half decoder-sampled.

    One decoder-sampled pair is drawn for each data row, and the loss is the
    mean of :func:`mim_pair_loss` over all pairs.

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_rows, n_features)
        A batch of data.
    beta : float, default=1.0
        Warm-up weight (see the module docstring).
    generator : torch.Generator or None, default=None
        Source of the noise.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss.
    terms : dict of str to torch.Tensor
        The detached log-probabilities of each pair, prefixed ``enc_`` and
        ``dec_``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, terms = mim_objective(model, torch.zeros(5, 3))
    >>> loss.shape
    torch.Size([])
    """
    encoder_terms = encoder_sampled_terms(model, x, generator)
    decoder_terms = decoder_sampled_terms(model, x.shape[0], generator)
    loss = 0.5 * (
        mim_pair_loss(**encoder_terms, beta=beta).mean()
        + mim_pair_loss(**decoder_terms, beta=beta).mean()
    )
    return loss, {
        **_detached(encoder_terms, "enc_"),
        **_detached(decoder_terms, "dec_"),
    }


def amim_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Terms]:
    """Asymmetric MIM (the MIM paper's eq. 12): encoder-sampled pairs only.

    Parameters and return values are those of :func:`mim_objective`.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, terms = amim_objective(model, torch.zeros(5, 3))
    >>> sorted(terms)[0]
    'enc_log_p_x_given_z'
    """
    terms = encoder_sampled_terms(model, x, generator)
    return mim_pair_loss(**terms, beta=beta).mean(), _detached(terms, "enc_")


def vae_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Terms]:
    """The VAE's negative ELBO on encoder-sampled pairs.

    Parameters and return values are those of :func:`mim_objective`.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, _ = vae_objective(model, torch.zeros(5, 3))
    >>> bool(torch.isfinite(loss))
    True
    """
    terms = encoder_sampled_terms(model, x, generator)
    terms.pop("log_q_x")
    return vae_pair_loss(**terms, beta=beta).mean(), _detached(terms, "enc_")
