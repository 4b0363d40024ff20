"""A decoder likelihood of columns of different kinds, one likelihood a group."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .base import Likelihood


class MixedLikelihood(Likelihood):
    """Columns of different kinds, each group with its own likelihood.

    The features are split into groups of columns, and each group is
    modelled by its likelihood (a Gaussian for numbers, a Bernoulli for
    booleans, a categorical for categories, say); log p(x|z) is the sum of
    theirs. The decoder's output and the encoder's input are those of the
    groups, one after another. Only the numeric groups are scaled.

    With any discrete group, MIM's decoder-sampled pairs read every group at
    its mean (see :func:`mim_sklearn.objectives.decoder_sampled_terms`): the
    discrete groups' probabilities and the continuous groups' means.

    The estimators read the groups through :meth:`groups`: they count the
    categories of its categorical groups in the training data
    (:meth:`~Likelihood.known_categories` is None) and give them to the
    groups with :meth:`~Likelihood.set_categories`.

    Parameters
    ----------
    parts : sequence of (Likelihood, sequence of int)
        Each group's likelihood (unbuilt, or built for its number of
        columns) and the indices of its columns. Every column of x belongs
        to exactly one group.
    n_features : int or None, default=None
        Dimension of x; None builds it later (see :class:`Likelihood`).

    Examples
    --------
    >>> from mim_sklearn.nn.likelihoods import CategoricalLikelihood, GaussianLikelihood
    >>> lik = MixedLikelihood([(GaussianLikelihood(), [0, 2]),
    ...                        (CategoricalLikelihood(n_categories=[3]), [1])], 3)
    >>> lik.n_outputs(), lik.n_inputs()
    (5, 5)
    >>> x = torch.tensor([[0.5, 2.0, float("nan")]])  # the last entry missing
    >>> lik.log_prob(x, torch.zeros(1, 5)).shape
    torch.Size([1])
    """

    def __init__(
        self,
        parts: Sequence[tuple[Likelihood, Sequence[int]]],
        n_features: int | None = None,
    ) -> None:
        self.parts_columns = [[int(j) for j in columns] for _, columns in parts]
        likelihoods = [likelihood for likelihood, _ in parts]
        self.discrete = any(likelihood.discrete for likelihood in likelihoods)
        self.scales_input = any(likelihood.scales_input for likelihood in likelihoods)
        self.supports_missing = all(
            likelihood.supports_missing for likelihood in likelihoods
        )
        bounds = [likelihood.encoder_input_bounds for likelihood in likelihoods]
        self.encoder_input_bounds = (
            None if None in bounds
            else (min(b[0] for b in bounds), max(b[1] for b in bounds))
        )
        super().__init__()
        self.likelihoods = nn.ModuleList(likelihoods)
        if n_features is not None:
            self.build(n_features)

    def build(self, n_features: int) -> None:
        """Build each group for its number of columns.

        Parameters
        ----------
        n_features : int
            Dimension of x; the groups' columns must be 0 to n_features - 1,
            each once.

        Raises
        ------
        ValueError
            If the groups' columns are not each column exactly once.
        """
        columns = sorted(j for part in self.parts_columns for j in part)
        if columns != list(range(n_features)):
            raise ValueError(
                f"The groups' columns {self.parts_columns} must hold each of the "
                f"{n_features} columns exactly once."
            )
        super().build(n_features)
        for likelihood, part in zip(self.likelihoods, self.parts_columns):
            if likelihood.n_features is None:
                likelihood.build(len(part))
        order = [j for part in self.parts_columns for j in part]
        self.register_buffer("order", torch.tensor(order))
        # Where each column sits among the groups' outputs, one after another.
        self.register_buffer("restore", torch.argsort(self.order))

    def groups(self) -> list[tuple[Likelihood, list[int]]]:
        """Each group's likelihood with the indices of its columns.

        Returns
        -------
        list of (Likelihood, list of int)
            The groups, in the order they were given.

        Examples
        --------
        >>> from mim_sklearn.nn.likelihoods import (
        ...     BernoulliLikelihood, GaussianLikelihood)
        >>> lik = MixedLikelihood([(GaussianLikelihood(), [0, 2]),
        ...                        (BernoulliLikelihood(), [1])])
        >>> [columns for _, columns in lik.groups()]
        [[0, 2], [1]]
        """
        return list(zip(self.likelihoods, self.parts_columns))

    def _split(self, tensor: torch.Tensor, widths: list[int]) -> list[torch.Tensor]:
        return list(tensor.split(widths, dim=-1))

    def _columns(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self._split(x[..., self.order], [len(p) for p in self.parts_columns])

    def _params(self, params: torch.Tensor) -> list[torch.Tensor]:
        return self._split(params, [lik.n_outputs() for lik in self.likelihoods])

    def _gather(self, pieces: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(pieces, dim=-1)[..., self.restore]

    def scaled_features(self, n_features: int) -> np.ndarray:
        """Which features are scaled: those of the groups that scale theirs.

        Parameters
        ----------
        n_features : int
            Dimension of x.

        Returns
        -------
        ndarray of shape (n_features,)
            Booleans, one per feature.
        """
        scaled = np.zeros(n_features, dtype=bool)
        for likelihood, part in zip(self.likelihoods, self.parts_columns):
            scaled[part] = likelihood.scaled_features(len(part))
        return scaled

    def check_data(self, X: np.ndarray) -> None:
        """Check each group's columns with its likelihood.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data as the estimator validated it.

        Raises
        ------
        ValueError
            If a group's likelihood refuses its columns.
        """
        for likelihood, part in zip(self.likelihoods, self.parts_columns):
            likelihood.check_data(X[:, part])

    def n_outputs(self) -> int:
        """Number of decoder outputs: the groups' outputs, one after another.

        Returns
        -------
        int
            The sum of the groups' numbers of outputs.
        """
        return sum(likelihood.n_outputs() for likelihood in self.likelihoods)

    def n_inputs(self) -> int:
        """Width of :meth:`encoder_input`: the groups' inputs together.

        Returns
        -------
        int
            The sum of the groups' encoder input widths.
        """
        return sum(likelihood.n_inputs() for likelihood in self.likelihoods)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """The groups' encoder inputs, one after another.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.

        Returns
        -------
        torch.Tensor of shape (..., n_inputs)
            Each group's encoder input, in the order of the groups.
        """
        return torch.cat([lik.encoder_input(columns) for lik, columns in
                          zip(self.likelihoods, self._columns(x))], dim=-1)

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """The sum of the groups' log-probabilities.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units; NaN marks a missing entry.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output, broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability log p(x|z) of each row, in nats.
        """
        return sum(lik.log_prob(columns, part_params) for lik, columns, part_params
                   in zip(self.likelihoods, self._columns(x), self._params(params)))

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """Each group's reconstruction, in the columns' order.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The decoded row, in working units.
        """
        return self._gather([lik.reconstruction(part_params) for lik, part_params
                             in zip(self.likelihoods, self._params(params))])

    def expected_reconstruction(
        self, params: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Each group's reconstruction of the mixture, in the columns' order.

        Parameters
        ----------
        params : torch.Tensor of shape (n_draws, ..., n_outputs)
            The decoder's output for each draw z_k of each row.
        weights : torch.Tensor of shape (n_draws, ...)
            The mixture weights of each row, summing to 1 over the draws.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One row of x in working units for each row.
        """
        return self._gather([lik.expected_reconstruction(part_params, weights)
                             for lik, part_params
                             in zip(self.likelihoods, self._params(params))])

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw each group's columns from its likelihood.

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
        return self._gather([lik.sample(part_params, generator) for lik, part_params
                             in zip(self.likelihoods, self._params(params))])

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of each group where the encoders read it.

        Discrete groups give their expected encoder inputs, continuous ones
        their means.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_inputs)
            The groups' expected encoder inputs, one after another.
        """
        return torch.cat([
            lik.expected_encoder_input(part_params) if lik.discrete
            else lik.encoder_input(lik.reconstruction(part_params))
            for lik, part_params in zip(self.likelihoods, self._params(params))
        ], dim=-1)

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """The sum of the groups' log-probabilities at encoder inputs.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., n_inputs)
            Encoder inputs, laid out as :meth:`encoder_input`'s.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output, broadcast against ``inputs``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability of each row, in nats.
        """
        widths = [lik.n_inputs() for lik in self.likelihoods]
        return sum(
            lik.log_prob_of_encoder_input(part_inputs, part_params) if lik.discrete
            else lik.log_prob(part_inputs, part_params)
            for lik, part_inputs, part_params in zip(
                self.likelihoods, self._split(inputs, widths), self._params(params)
            )
        )

    def extra_repr(self) -> str:
        return f"columns={self.parts_columns}"
