"""The Bernoulli decoder likelihood, for binary data and probabilities."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .base import Likelihood, observed_entries


class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli features: p(x_j = 1 | z) = sigmoid(logit_j(z)).

    For binary data, or data in [0, 1] read as probabilities (the
    cross-entropy ``x log p + (1 - x) log(1 - p)``, as binarised-MNIST work
    does). Draws are discrete: see :class:`CategoricalLikelihood`.

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x; None builds it later (see :class:`Likelihood`).

    Examples
    --------
    >>> lik = BernoulliLikelihood(2)
    >>> lik.log_prob(torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2))
    tensor([-1.3863])
    """

    discrete = True
    #: The range of the encoder inputs (the probabilities).
    encoder_input_bounds = (0.0, 1.0)
    scales_input = False
    supports_missing = True
    binary = True

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError unless every value of X is in [0, 1].

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data as the estimator validated it.

        Raises
        ------
        ValueError
            If a value of X is below 0 or above 1.
        """
        if not np.all((X >= 0) & (X <= 1) | np.isnan(X)):
            raise ValueError(
                "likelihood='bernoulli' needs X in [0, 1]: binary data, or "
                "probabilities (binarise or rescale X first)."
            )

    def n_outputs(self) -> int:
        """Number of decoder outputs: one logit per feature.

        Returns
        -------
        int
            ``n_features``.
        """
        return self.n_features

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of ``x``, summed over features.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of values in [0, 1]; a value between 0 and 1 gives the
            cross-entropy to that probability.
        params : torch.Tensor of shape (..., n_features)
            The logits, broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability log p(x|z) of each row, in nats.
        """
        observed = observed_entries(x)
        if observed is None:
            return (x * params - nn.functional.softplus(params)).sum(-1)
        terms = torch.where(observed, x, 0.0) * params - nn.functional.softplus(params)
        return torch.where(observed, terms, 0.0).sum(-1)

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The probabilities p(x_j = 1 | z), the mean of p(x|z).

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_features)
            The logits of each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The probability of each feature of each row.
        """
        return torch.sigmoid(params)

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x: the probabilities.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_features)
            The logits of each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The probability of each feature of each row.
        """
        return self.reconstruction(params)

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs, which may be probabilities.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., n_features)
            Rows of 0/1 values or of probabilities.
        params : torch.Tensor of shape (..., n_features)
            The logits, broadcast against ``inputs``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability of each row (the expected one for
            probabilities), in nats.
        """
        return self.log_prob(inputs, params)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw 0/1 rows x ~ p(x|z).

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_features)
            The logits of each row.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One draw of 0s and 1s for each row, of the dtype of ``params``,
            with no gradient.
        """
        uniform = torch.rand(
            params.shape, generator=generator, device=params.device, dtype=torch.float32
        ).to(params.dtype)
        return (uniform < torch.sigmoid(params)).to(params.dtype)

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}"
