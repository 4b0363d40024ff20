"""The Gaussian decoder likelihood, for numbers."""

from __future__ import annotations

import torch
from torch import nn

from ..gaussian import MIN_LOG_VAR, floored_log_var, gaussian_log_prob, gaussian_rsample
from .base import Likelihood, observed_entries

#: The ways a GaussianLikelihood's variance can depend on the feature and on z.
VARIANCES = ("shared", "isotropic", "decoded")


class GaussianLikelihood(Likelihood):
    """Diagonal Gaussian p(x|z) with a decoded mean and a learned variance.

    With ``variance="shared"`` the variance is one learned value per
    feature, shared by all z; with ``"decoded"`` the decoder outputs a
    log-variance per feature for each z, beside the mean (as the MIM paper's
    reference code does for its 2-D toy data). Either way it is bounded
    below by ``exp(min_log_var)`` so that a feature the decoder reproduces
    exactly (a constant pixel, say) cannot drive the density to infinity.
    Missing entries (NaN) of x are left out of :meth:`log_prob`.
    Every feature starts near variance 1, the mean variance of the data in
    the estimators' working units, so training first fits the directions of
    largest variance. (Starting each feature at its own data variance was
    measured: better held-out likelihood, but 5-NN accuracy on digits fell
    from 0.94 to 0.90, as faint pixels took over the code.)

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x; None builds it later (see :class:`Likelihood`).
    min_log_var : float, default=-6.0
        Floor on the log-variance of each feature.
    variance : {"shared", "decoded"}, default="shared"
        Whether the variance is shared by every z or decoded from z.

    Examples
    --------
    >>> lik = GaussianLikelihood(3)
    >>> lik.log_prob(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2])
    >>> GaussianLikelihood(3, variance="decoded").n_outputs()
    6
    """

    supports_missing = True

    def __init__(
        self,
        n_features: int | None = None,
        min_log_var: float = MIN_LOG_VAR,
        variance: str = "shared",
    ) -> None:
        if variance not in VARIANCES:
            raise ValueError(
                f"variance must be one of {VARIANCES}, got {variance!r}."
            )
        self.min_log_var = min_log_var
        self.variance = variance
        self.raw_log_var = None
        super().__init__(n_features)

    def build(self, n_features: int) -> None:
        """Size it for ``n_features``: a shared variance has one per feature.

        Parameters
        ----------
        n_features : int
            Dimension of x.
        """
        super().build(n_features)
        if self.variance != "decoded":
            self.raw_log_var = nn.Parameter(
                torch.zeros(n_features if self.variance == "shared" else 1)
            )

    def n_outputs(self) -> int:
        """Number of decoder outputs this likelihood reads.

        Returns
        -------
        int
            ``n_features`` means; with decoded variances, twice as many: a
            raw log-variance beside each feature's mean.
        """
        return self.n_features * (2 if self.variance == "decoded" else 1)

    def moments(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and floored log-variance of p(x|z) from the decoder's output.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        mean : torch.Tensor of shape (..., n_features)
            The mean of each row.
        log_var : torch.Tensor of shape (n_features,) or (..., n_features)
            The log-variance, at least ``min_log_var``: one per feature when
            it is shared, one per feature of each row when it is decoded.
        """
        if self.raw_log_var is not None:
            log_var = floored_log_var(self.raw_log_var, self.min_log_var)
            return params, log_var.expand(self.n_features)
        pairs = params.unflatten(-1, (self.n_features, 2))  # feature-major
        return pairs[..., 0], floored_log_var(pairs[..., 1], self.min_log_var)

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``x``, summed over features.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output, broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density log p(x|z) of each row, in nats.
        """
        return gaussian_log_prob(x, *self.moments(params), observed_entries(x))

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z).

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The mean of each row, in working units.
        """
        return self.moments(params)[0]

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """A reparameterised draw x ~ p(x|z), differentiable in ``params``.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One draw for each row, in working units.
        """
        return gaussian_rsample(*self.moments(params), generator)

    def extra_repr(self) -> str:
        return (
            f"n_features={self.n_features}, min_log_var={self.min_log_var}, "
            f"variance={self.variance!r}"
        )
