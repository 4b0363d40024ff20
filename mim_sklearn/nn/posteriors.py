"""The encoder's distribution q(z|x): one Gaussian level, or a two-level chain.

A posterior is what :meth:`LatentVariableModel.posterior` returns for a batch
of rows: it draws codes (with their log-density, computed on the way) and
scores given codes. A one-level model's is a diagonal Gaussian; a two-level
model's (Tomczak & Welling's convHVAE) is q(z2|x) q(z1|x, z2), whose codes
are ``[z1, z2]`` side by side.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .gaussian import gaussian_log_prob, gaussian_rsample


def _noise_shape(
    mean: torch.Tensor, n_draws: int | None, shared_noise: bool
) -> tuple[int, ...]:
    """Shape of the standard normal draws for ``n_draws`` draws per row.

    With ``shared_noise`` every row is transformed from the same draws, so a
    row's draws do not depend on which other rows share its batch.
    """
    if n_draws is None:
        return tuple(mean.shape)
    if shared_noise:
        return (n_draws, *(1,) * (mean.dim() - 1), mean.shape[-1])
    return (n_draws, *mean.shape)


class GaussianPosterior:
    """A diagonal Gaussian q(z|x) for each row.

    Parameters
    ----------
    mean : torch.Tensor of shape (..., n_components)
        The mean of each row's posterior.
    log_var : torch.Tensor of shape (..., n_components)
        Its log-variance.

    Attributes
    ----------
    mean : torch.Tensor of shape (..., n_components)
        As given: the code :meth:`~mim_sklearn.MIMEncoder.transform` returns.
    log_var : torch.Tensor of shape (..., n_components)
        As given.

    Examples
    --------
    >>> posterior = GaussianPosterior(torch.zeros(3, 2), torch.zeros(3, 2))
    >>> z, log_q = posterior.rsample_with_log_prob(torch.Generator().manual_seed(0))
    >>> z.shape, bool(torch.allclose(log_q, posterior.log_prob(z)))
    (torch.Size([3, 2]), True)
    """

    def __init__(self, mean: torch.Tensor, log_var: torch.Tensor) -> None:
        self.mean = mean
        self.log_var = log_var

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of q(z|x) at ``z``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Codes, broadcast against the rows (a leading dimension of draws
            is allowed).

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        return gaussian_log_prob(z, self.mean, self.log_var)

    def rsample_with_log_prob(
        self,
        generator: torch.Generator | None,
        n_draws: int | None = None,
        shared_noise: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised draws z ~ q(z|x) and their log-density.

        Parameters
        ----------
        generator : torch.Generator or None
            Source of the noise, on the device of the rows; None uses torch's
            global random state.
        n_draws : int or None, default=None
            Number of draws per row, along a new leading dimension; None for
            one draw without it.
        shared_noise : bool, default=False
            Whether every row uses the same standard normal draws; only with
            ``n_draws``.

        Returns
        -------
        z : torch.Tensor of shape (..., n_components) or (n_draws, ..., n_components)
            The draws, differentiable in the posterior's parameters.
        log_prob : torch.Tensor of shape (...) or (n_draws, ...)
            The log-density of each draw, in nats.
        """
        shape = _noise_shape(self.mean, n_draws, shared_noise)
        z = gaussian_rsample(self.mean, self.log_var, generator, shape)
        return z, self.log_prob(z)


class TwoLevelPosterior:
    """The chain q(z1, z2 | x) = q(z2|x) q(z1|x, z2), with codes ``[z1, z2]``.

    Parameters
    ----------
    top : GaussianPosterior
        The top level's q(z2|x) of each row.
    bottom : callable
        ``bottom(z2)`` returns the :class:`GaussianPosterior` q(z1|x, z2) of
        each row at the top-level codes ``z2`` (which may carry a leading
        dimension of draws).

    Examples
    --------
    >>> top = GaussianPosterior(torch.zeros(3, 2), torch.zeros(3, 2))
    >>> posterior = TwoLevelPosterior(
    ...     top, lambda z2: GaussianPosterior(z2 + 1.0, torch.zeros_like(z2)))
    >>> posterior.mean[0]  # z1's mean at z2's mean, then z2's mean
    tensor([1., 1., 0., 0.])
    """

    def __init__(
        self,
        top: GaussianPosterior,
        bottom: Callable[[torch.Tensor], GaussianPosterior],
    ) -> None:
        self.top = top
        self.bottom = bottom
        self._at_top_mean: GaussianPosterior | None = None

    def _bottom_at_top_mean(self) -> GaussianPosterior:
        if self._at_top_mean is None:
            self._at_top_mean = self.bottom(self.top.mean)
        return self._at_top_mean

    @property
    def mean(self) -> torch.Tensor:
        """``[mean of q(z1|x, z2), mean of q(z2|x)]``, at z2 = its mean."""
        return torch.cat([self._bottom_at_top_mean().mean, self.top.mean], dim=-1)

    @property
    def log_var(self) -> torch.Tensor:
        """The two levels' log-variances side by side, z1's at z2's mean."""
        return torch.cat(
            [self._bottom_at_top_mean().log_var, self.top.log_var], dim=-1
        )

    def split(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Split codes ``[z1, z2]`` into the pair ``(z1, z2)``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Codes of both levels.

        Returns
        -------
        z1 : torch.Tensor
            The bottom level.
        z2 : torch.Tensor
            The top level.
        """
        n_top = self.top.mean.shape[-1]
        return z[..., :-n_top], z[..., -n_top:]

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``log q(z2|x) + log q(z1|x, z2)`` at codes ``z = [z1, z2]``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Codes of both levels, broadcast against the rows.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        z1, z2 = self.split(z)
        return self.top.log_prob(z2) + self.bottom(z2).log_prob(z1)

    def rsample_with_log_prob(
        self,
        generator: torch.Generator | None,
        n_draws: int | None = None,
        shared_noise: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw down the chain, z2 ~ q(z2|x) then z1 ~ q(z1|x, z2).

        The arguments and results are those of
        :meth:`GaussianPosterior.rsample_with_log_prob`.

        Parameters
        ----------
        generator : torch.Generator or None
            Source of the noise.
        n_draws : int or None, default=None
            Number of draws per row, along a new leading dimension.
        shared_noise : bool, default=False
            Whether every row uses the same standard normal draws.

        Returns
        -------
        z : torch.Tensor of shape (..., n_components) or (n_draws, ..., n_components)
            The draws ``[z1, z2]``, differentiable in both levels' parameters.
        log_prob : torch.Tensor of shape (...) or (n_draws, ...)
            The log-density of each draw, in nats.
        """
        z2, log_q_z2 = self.top.rsample_with_log_prob(generator, n_draws, shared_noise)
        bottom = self.bottom(z2)
        # z2 already carries the draws' dimension; z1 takes one draw of each.
        shape = (
            (n_draws, *(1,) * (z2.dim() - 2), bottom.mean.shape[-1])
            if shared_noise and n_draws is not None else tuple(bottom.mean.shape)
        )
        z1 = gaussian_rsample(bottom.mean, bottom.log_var, generator, shape)
        return torch.cat([z1, z2], dim=-1), log_q_z2 + bottom.log_prob(z1)


Posterior = GaussianPosterior | TwoLevelPosterior
