"""Diagonal Gaussian log-density and sampling, parameterised by log-variance."""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)
#: The default floor on the log-variances of the encoder and of a Gaussian
#: decoder, in working units: a variance of at least exp(-6), about 0.0025.
MIN_LOG_VAR = -6.0


def gaussian_log_prob(
    x: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    observed: torch.Tensor | None = None,
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the last dimension.

    Equal to ``Normal(mean, exp(log_var / 2)).log_prob(x).sum(-1)`` but
    computed from the log-variance directly: no exp/log round trip, and the
    normalising constant is summed before it is broadcast, which saves two
    passes over a full-size tensor when the variance is per feature (the
    decoder's) and ``x`` holds many importance draws. With ``observed``, a
    boolean mask broadcast against ``x``, only the entries it marks count:
    the density of the observed entries of each row.

    Examples
    --------
    >>> gaussian_log_prob(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(2))
    tensor([-1.8379])
    >>> gaussian_log_prob(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(2),
    ...                   observed=torch.tensor([[True, False]]))
    tensor([-0.9189])
    """
    if observed is not None:  # the other entries contribute no term
        # Zeros in place of the unobserved values (NaN, say): a NaN in the
        # branch torch.where discards would still poison the gradients.
        x = torch.where(observed, x, 0.0)
        terms = (x - mean).square() * torch.exp(-log_var) + log_var + LOG_2PI
        return -0.5 * torch.where(observed, terms, 0.0).sum(-1)
    squared = ((x - mean).square() * torch.exp(-log_var)).sum(-1)
    return -0.5 * (squared + log_var.sum(-1) + x.shape[-1] * LOG_2PI)


def floored_log_var(raw: torch.Tensor, floor: float) -> torch.Tensor:
    """A network's raw output as a log-variance smoothly floored at ``floor``.

    ``floor + softplus(raw - floor)``: about ``raw`` well above the floor,
    never below it, with a gradient everywhere (a hard clamp has none below).

    Examples
    --------
    >>> floored_log_var(torch.tensor([-100.0, -6.0, 5.0]), -6.0)
    tensor([-6.0000, -5.3069,  5.0000])
    """
    return floor + torch.nn.functional.softplus(raw - floor)


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
    >>> gaussian_rsample(torch.zeros(2), torch.zeros(2),
    ...                  torch.Generator().manual_seed(0)).shape
    torch.Size([2])
    """
    # Drawn in float32 whatever the dtype of ``mean``: torch draws different
    # numbers for float64, and a float64 pass should only round differently.
    noise = torch.randn(
        mean.shape if shape is None else shape,
        generator=generator,
        device=mean.device,
        dtype=torch.float32,
    ).to(mean.dtype)
    return mean + torch.exp(0.5 * log_var) * noise
