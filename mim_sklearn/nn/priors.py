"""Latent priors p(z)."""

from __future__ import annotations

import torch
from torch import nn

from .gaussian import LOG_2PI


class StandardNormalPrior(nn.Module):
    """The standard normal prior p(z) = N(0, I); it has no parameters.

    Parameters
    ----------
    n_components : int
        Dimension of z.

    Examples
    --------
    >>> prior = StandardNormalPrior(2)
    >>> z = prior.sample(5, torch.Generator().manual_seed(0))
    >>> prior.log_prob(z).shape
    torch.Size([5])
    """

    def __init__(self, n_components: int) -> None:
        super().__init__()
        self.n_components = n_components
        # A buffer, so that the prior follows the model across devices/dtypes.
        self.register_buffer("_zero", torch.zeros(()))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``z``."""
        # Written out: the general Gaussian formula costs twice the tensor
        # operations, and this runs three times in each MIM step.
        return -0.5 * (z.square().sum(-1) + self.n_components * LOG_2PI)

    def entropy(self) -> torch.Tensor:
        """Differential entropy of p(z), in nats: d/2 log(2 pi e)."""
        return self._zero + 0.5 * self.n_components * (LOG_2PI + 1.0)

    def sample(
        self, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z)."""
        return torch.randn(
            (n_samples, self.n_components),
            generator=generator,
            device=self._zero.device,
            dtype=self._zero.dtype,
        )

    def extra_repr(self) -> str:
        return f"n_components={self.n_components}"


PRIORS: dict[str, type[nn.Module]] = {"standard": StandardNormalPrior}
