"""Random draws shared by the likelihoods, the priors and the model.

Every draw of the package takes its noise from an explicit
``torch.Generator`` (None: torch's global random state), so that a seeded
estimator repeats its numbers; the samplers here are the ones that more
than one component needs.
"""

from __future__ import annotations

import torch


def categorical_sample(
    log_probs: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Draw an index from each categorical distribution along the last axis.

    The Gumbel-max trick, with uniform noise from ``generator`` drawn in
    float32 (as every draw of the package). No gradient flows through it.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (..., n_categories)
        The log-probabilities (or unnormalised log-weights) of each
        distribution's categories.
    generator : torch.Generator or None
        Source of the noise, on the device of ``log_probs``; None uses
        torch's global random state.

    Returns
    -------
    torch.Tensor of shape (...)
        The index of the drawn category of each distribution (int64).

    Examples
    --------
    >>> log_probs = torch.log(torch.tensor([[0.0, 1.0, 0.0]]))
    >>> categorical_sample(log_probs, torch.Generator().manual_seed(0))
    tensor([1])
    """
    uniform = torch.rand(
        log_probs.shape, generator=generator, device=log_probs.device,
        dtype=torch.float32,
    ).to(log_probs.dtype)
    tiny = torch.finfo(log_probs.dtype).tiny
    gumbel = -torch.log(-torch.log(uniform.clamp_min(tiny)))
    return (log_probs.detach() + gumbel).argmax(-1)


def standard_normal_sample(
    n_samples: int,
    n_components: int,
    generator: torch.Generator | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """Draw ``n_samples`` rows of N(0, I) on the device and dtype of ``like``.

    The standard prior's draw and MIM's anchor draw alike.

    Parameters
    ----------
    n_samples : int
        Number of rows to draw.
    n_components : int
        Dimension of each row.
    generator : torch.Generator or None
        Source of the noise, on the device of ``like``; None uses torch's
        global random state.
    like : torch.Tensor
        Any tensor whose device and dtype the draws take.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_components)
        The draws.

    Examples
    --------
    >>> z = standard_normal_sample(3, 2, torch.Generator().manual_seed(0),
    ...                            torch.zeros((), dtype=torch.float64))
    >>> z.shape, z.dtype
    (torch.Size([3, 2]), torch.float64)
    """
    return torch.randn(
        (n_samples, n_components), generator=generator, device=like.device,
        dtype=like.dtype,
    )
