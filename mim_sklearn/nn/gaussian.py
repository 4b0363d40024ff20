"""Diagonal Gaussian log-density and sampling, parameterised by log-variance."""

from __future__ import annotations

import math

import torch

_LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(
    x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the last dimension.

    Equal to ``Normal(mean, exp(log_var / 2)).log_prob(x).sum(-1)`` but
    computed from the log-variance directly: no exp/log round trip, and
    about a third fewer tensor operations on the training hot path.

    Examples
    --------
    >>> gaussian_log_prob(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(2))
    tensor([-1.8379])
    """
    return -0.5 * ((x - mean).square() * torch.exp(-log_var) + log_var + _LOG_2PI).sum(-1)


def gaussian_rsample(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    generator: torch.Generator | None,
    shape: torch.Size | tuple[int, ...] | None = None,
) -> torch.Tensor:
    """Reparameterised draw ``mean + exp(log_var / 2) * noise``.

    The noise comes from ``generator`` (torch's distributions draw from the
    global random state, which concurrent fits share); ``shape`` defaults to
    ``mean.shape`` and may add leading dimensions for several draws.

    Examples
    --------
    >>> gaussian_rsample(torch.zeros(2), torch.zeros(2), torch.Generator().manual_seed(0)).shape
    torch.Size([2])
    """
    noise = torch.randn(
        mean.shape if shape is None else shape,
        generator=generator,
        device=mean.device,
        dtype=mean.dtype,
    )
    return mean + torch.exp(0.5 * log_var) * noise
