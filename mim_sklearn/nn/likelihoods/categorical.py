"""The categorical decoder likelihood, for category codes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..sampling import categorical_sample
from .base import Likelihood, observed_entries


class CategoricalLikelihood(Likelihood):
    """Independent categorical features: x_j in {0, ..., K_j - 1}.

    The decoder gives ``max(K_j)`` logits per feature (those beyond a
    feature's own K_j are masked out); the encoders see x one-hot encoded.
    Draws are discrete, so no gradient flows through them (see
    :func:`mim_sklearn.objectives.decoder_sampled_terms` for how MIM reads
    the decoder instead).

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x; None builds it later (see :class:`Likelihood`).
    n_categories : sequence of int or None, default=None
        K_j, the number of categories of each feature. The estimators count
        them in the training data when None.

    Examples
    --------
    >>> lik = CategoricalLikelihood(2, n_categories=[3, 2])
    >>> lik.log_prob(torch.tensor([[2.0, 1.0]]), torch.zeros(1, lik.n_outputs()))
    tensor([-1.7918])
    """

    discrete = True
    #: The range of the encoder inputs (one-hot codes or probabilities).
    encoder_input_bounds = (0.0, 1.0)
    scales_input = False
    supports_missing = True
    codes_categories = True

    def __init__(
        self,
        n_features: int | None = None,
        n_categories: Sequence[int] | None = None,
    ) -> None:
        # K_j as given, or as the estimators set them (Likelihood.set_categories).
        self.categories = (
            None if n_categories is None else [int(k) for k in n_categories]
        )
        super().__init__(n_features)

    def known_categories(self) -> np.ndarray | None:
        """K_j, the number of categories of each feature, once given.

        Returns
        -------
        ndarray of shape (n_features,) or None
            ``n_categories`` as given to the constructor (or set since by
            :meth:`~Likelihood.set_categories`); None until then.

        Examples
        --------
        >>> CategoricalLikelihood(n_categories=[3, 2]).known_categories().tolist()
        [3, 2]
        """
        return None if self.categories is None else np.asarray(self.categories)

    def build(self, n_features: int) -> None:
        """Size it for ``n_features`` features of ``n_categories`` categories.

        Parameters
        ----------
        n_features : int
            Dimension of x; ``n_categories`` must hold one count per feature.

        Raises
        ------
        ValueError
            If ``n_categories`` is not set, or is not one positive count per
            feature.
        """
        if self.categories is None:
            raise ValueError(
                "CategoricalLikelihood needs n_categories before it is built; the "
                "estimators count them in the training data."
            )
        counts = torch.as_tensor(self.categories, dtype=torch.long)
        if counts.shape != (n_features,) or (counts < 1).any():
            raise ValueError(
                "n_categories needs one positive count per feature, got "
                f"{counts.tolist()}."
            )
        super().build(n_features)
        self.max_categories = int(counts.max())
        self.register_buffer("n_categories", counts)
        self.register_buffer(
            "valid", torch.arange(self.max_categories) < counts.unsqueeze(-1)
        )
        # Where each feature's one-hot block starts in the encoder input.
        self.register_buffer("offsets", torch.cumsum(counts, 0) - counts)

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError unless X holds codes 0 to K_j - 1 of each feature.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data as the estimator validated it. Before ``n_categories`` is
            known, any non-negative integer codes pass.

        Raises
        ------
        ValueError
            If X holds a value that is not such a code.
        """
        category_counts(
            X, None if self.categories is None else np.array(self.categories)
        )

    def n_outputs(self) -> int:
        """Number of decoder outputs: ``max(K_j)`` logits per feature.

        Returns
        -------
        int
            ``n_features * max(K_j)``, feature by feature.
        """
        return self.n_features * self.max_categories

    def n_inputs(self) -> int:
        """Width of :meth:`encoder_input`: the sum of the K_j.

        Returns
        -------
        int
            The number of one-hot values per row.
        """
        return int(self.n_categories.sum())

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot encode x, feature by feature.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of category codes (stored as floats).

        Returns
        -------
        torch.Tensor of shape (..., sum(K_j))
            The one-hot codes of the features, one block after another, of
            x's dtype.
        """
        observed = ~x.isnan()
        index = torch.nan_to_num(x, nan=0.0).long() + self.offsets
        one_hot = torch.zeros(
            *x.shape[:-1], self.n_inputs(), dtype=x.dtype, device=x.device
        )
        # A missing feature's block stays all zeros.
        return one_hot.scatter_(-1, index, observed.to(x.dtype))

    def log_probabilities(self, params: torch.Tensor) -> torch.Tensor:
        """Compute the log-probability of every category of each feature.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features, max(K_j))
            The log-probabilities of each feature's categories; -inf for those
            beyond the feature's own K_j.
        """
        logits = params.unflatten(-1, (self.n_features, self.max_categories))
        return torch.log_softmax(logits.masked_fill(~self.valid, -torch.inf), dim=-1)

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of codes ``x``, summed over features.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of category codes (stored as floats).
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits, broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability log p(x|z) of each row, in nats.
        """
        log_p = self.log_probabilities(params)
        observed = observed_entries(x)
        codes = x if observed is None else torch.where(observed, x, 0.0)
        index = codes.long().unsqueeze(-1).expand(*log_p.shape[:-1], 1)
        log_p_x = log_p.gather(-1, index).squeeze(-1)
        if observed is not None:
            log_p_x = torch.where(observed, log_p_x, 0.0)
        return log_p_x.sum(-1)

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The most probable code of each feature.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The codes, of the dtype of ``params``.
        """
        return self.log_probabilities(params).argmax(-1).to(params.dtype)

    def expected_reconstruction(
        self, params: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """The most probable code of each feature under a mixture of p(x|z_k).

        Parameters
        ----------
        params : torch.Tensor of shape (n_draws, ..., n_outputs)
            The decoder's logits for each draw z_k of each row.
        weights : torch.Tensor of shape (n_draws, ...)
            The mixture weights of each row, summing to 1 over the draws.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The codes, of the dtype of ``params``.
        """
        probabilities = self.log_probabilities(params).exp()
        mixture = (weights[..., None, None] * probabilities).sum(0)
        return mixture.argmax(-1).to(params.dtype)

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x.

        Each feature's category probabilities, laid out as
        :meth:`encoder_input`'s one-hot codes.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits for each row.

        Returns
        -------
        torch.Tensor of shape (..., sum(K_j))
            The category probabilities, one block per feature.
        """
        return self.log_probabilities(params).exp()[..., self.valid]

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs.

        The inputs are one-hot codes, or category probabilities, at which it
        is the expected log-probability.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., sum(K_j))
            One-hot codes or category probabilities, laid out as
            :meth:`encoder_input`'s.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits, broadcast against ``inputs``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability of each row, in nats.
        """
        return (inputs * self.log_probabilities(params)[..., self.valid]).sum(-1)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw codes x ~ p(x|z) (the Gumbel-max trick, seeded by ``generator``).

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's logits for each row.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One row of codes for each row of ``params``, of its dtype, with no
            gradient.
        """
        return categorical_sample(self.log_probabilities(params), generator).to(
            params.dtype
        )

    def extra_repr(self) -> str:
        return f"n_categories={self.n_categories.tolist()}"


def category_counts(
    X: np.ndarray, n_categories: np.ndarray | None = None
) -> np.ndarray:
    """Check that X holds category codes; return K_j, the categories per feature.

    Codes are integers 0, 1, ..., K_j - 1 (stored in a float array); missing
    entries (NaN) are passed over. With
    ``n_categories`` (those seen in ``fit``), a code beyond them is an error.

    Examples
    --------
    >>> category_counts(np.array([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2, 3]
    """
    if not np.all((X >= 0) & (X == np.floor(X)) | np.isnan(X)):
        raise ValueError(
            "likelihood='categorical' needs X to hold integer category codes "
            "0, 1, 2, ... in each column (encode labels with OrdinalEncoder)."
        )
    counts = np.nanmax(X, axis=0, initial=-1).astype(np.int64) + 1
    if n_categories is not None and np.any(counts > n_categories):
        feature = int(np.argmax(counts > n_categories))
        raise ValueError(
            f"Feature {feature} holds code {counts[feature] - 1}, but fit saw codes "
            f"0 to {n_categories[feature] - 1} only."
        )
    return counts
