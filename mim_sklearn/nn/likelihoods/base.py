"""The decoder likelihood's interface, :class:`Likelihood`, and its helpers.

Every likelihood is a :class:`Likelihood`. One is made in two steps, so that
an estimator can take an instance as its ``likelihood`` parameter before it
has seen the data: the constructor takes the choices (the Gaussian's
variance, say), and :meth:`Likelihood.build` the number of features, once
the data is known. Giving ``n_features`` to the constructor builds at once.
"""

from __future__ import annotations

import abc

import numpy as np
import torch
from torch import nn


def observed_entries(x: torch.Tensor) -> torch.Tensor | None:
    """The entries of ``x`` that are not missing (not NaN); None if all are.

    None lets the likelihoods keep their plain computation for complete data.

    Examples
    --------
    >>> observed_entries(torch.tensor([[1.0, float("nan")]]))
    tensor([[ True, False]])
    >>> observed_entries(torch.ones(2, 2)) is None
    True
    """
    missing = x.isnan()
    return ~missing if missing.any() else None


class Likelihood(nn.Module, abc.ABC):
    """A decoder distribution p(x|z), read from the decoder network's output.

    Subclasses implement :meth:`n_outputs`, :meth:`log_prob`,
    :meth:`reconstruction` and :meth:`sample`, and create their parameters,
    if they have any, in :meth:`build`. Discrete ones (``discrete = True``)
    also implement :meth:`expected_encoder_input` and
    :meth:`log_prob_of_encoder_input`, with which MIM's decoder-sampled
    pairs read the decoder's mean instead of its draws.

    A likelihood with ``supports_missing = True`` (every built-in one) takes
    x with missing entries, marked NaN: :meth:`log_prob` leaves them out of
    its sum and :meth:`encoder_input` reads them as zeros. The estimators
    refuse missing values for one that does not.

    The estimators ask a likelihood what they need to know of it, never its
    class: its groups of columns (:meth:`groups`), whether it codes
    categories (:attr:`codes_categories`, :meth:`category_features`,
    :meth:`known_categories`, :meth:`set_categories`) and whether it draws
    sequentially (:attr:`sequential_sampling`). The defaults suit one
    likelihood of every column, without categories.

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x; None leaves the likelihood to be built later.

    Examples
    --------
    A Gaussian of unit variance, as a subclass of one's own:

    >>> class UnitGaussian(Likelihood):
    ...     def n_outputs(self):
    ...         return self.n_features
    ...     def log_prob(self, x, params):
    ...         return -0.5 * ((x - params) ** 2 + 1.8378770664).sum(-1)
    ...     def reconstruction(self, params):
    ...         return params
    ...     def sample(self, params, generator):
    ...         noise = torch.randn(params.shape, generator=generator)
    ...         return params + noise
    >>> likelihood = UnitGaussian()  # unbuilt: a model sizes it
    >>> likelihood.build(3)
    >>> likelihood.log_prob(torch.zeros(2, 3), torch.zeros(2, 3)).shape
    torch.Size([2])
    """

    #: Whether x is discrete: draws carry no gradient.
    discrete: bool = False
    #: The range of the encoder inputs, or None when unbounded.
    encoder_input_bounds: tuple[float, float] | None = None
    #: Whether the estimators centre and scale X before it reaches the model.
    scales_input: bool = True
    #: Whether x may hold missing entries (NaN); see the class description.
    supports_missing: bool = False
    #: Whether x is 0/1, so that grey levels can be binarized as training
    #: goes (the estimators' ``dynamic_binarization``).
    binary: bool = False
    #: Whether a draw (and the reconstruction) takes one network pass per
    #: feature, as a PixelCNN's does: the estimators refuse, for such a
    #: likelihood, objectives that sample the decoder in every training step.
    sequential_sampling: bool = False
    #: Whether x holds category codes 0, 1, ..., K_j - 1, whose numbers K_j
    #: the estimators count in the training data and give to the likelihood
    #: (:meth:`set_categories`). Such a likelihood keeps them, one per
    #: feature, in its ``categories`` attribute (None until known).
    codes_categories: bool = False

    def __init__(self, n_features: int | None = None) -> None:
        super().__init__()
        self.n_features = None
        if n_features is not None:
            self.build(n_features)

    def build(self, n_features: int) -> None:
        """Size the likelihood for ``n_features`` features (create parameters).

        A subclass with parameters creates them here, after calling
        ``super().build(n_features)``. The model calls it when it is given an
        unbuilt likelihood.

        Parameters
        ----------
        n_features : int
            Dimension of x, the number of features of the data.
        """
        self.n_features = n_features

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError, saying what to do, when X does not suit it.

        The estimators call it on every X they are given, in the user's
        units, before any scaling; it may be called before :meth:`build`.
        The default accepts any X.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Data as the estimator validated it (finite, float32 or float64).

        Raises
        ------
        ValueError
            If X holds values that the likelihood cannot model.
        """

    def scaled_features(self, n_features: int) -> np.ndarray:
        """Which features the estimators centre and scale before the model.

        Parameters
        ----------
        n_features : int
            Dimension of x.

        Returns
        -------
        ndarray of shape (n_features,)
            Booleans: :attr:`scales_input` for every feature, unless
            overridden (as by
            :class:`~mim_sklearn.nn.likelihoods.MixedLikelihood`).
        """
        return np.full(n_features, self.scales_input)

    def groups(self) -> list[tuple[Likelihood, list[int] | slice]]:
        """Each likelihood of the features, with the columns it models.

        The estimators read a likelihood through this list, so that one of
        several groups of columns and one of all columns are alike to them.

        Returns
        -------
        list of (Likelihood, list of int or slice)
            ``[(self, slice(None))]``, every column modelled by this
            likelihood, unless overridden (as by
            :class:`~mim_sklearn.nn.likelihoods.MixedLikelihood`, whose
            groups are listed with their columns).

        Examples
        --------
        >>> from mim_sklearn.nn.likelihoods import (
        ...     BernoulliLikelihood, GaussianLikelihood, MixedLikelihood)
        >>> gaussian = GaussianLikelihood()
        >>> gaussian.groups() == [(gaussian, slice(None))]
        True
        >>> mixed = MixedLikelihood([(GaussianLikelihood(), [0, 2]),
        ...                          (BernoulliLikelihood(), [1])])
        >>> [(type(part).__name__, columns) for part, columns in mixed.groups()]
        [('GaussianLikelihood', [0, 2]), ('BernoulliLikelihood', [1])]
        """
        return [(self, slice(None))]

    def category_features(self, n_features: int) -> np.ndarray:
        """Which features hold category codes (see :attr:`codes_categories`).

        Parameters
        ----------
        n_features : int
            Dimension of x.

        Returns
        -------
        ndarray of shape (n_features,)
            Booleans, one per feature: whether the group that models it
            (:meth:`groups`) codes categories.

        Examples
        --------
        >>> from mim_sklearn.nn.likelihoods import (
        ...     CategoricalLikelihood, GaussianLikelihood, MixedLikelihood)
        >>> mixed = MixedLikelihood([(GaussianLikelihood(), [0, 2]),
        ...                          (CategoricalLikelihood(), [1])])
        >>> mixed.category_features(3).tolist()
        [False, True, False]
        """
        coded = np.zeros(n_features, dtype=bool)
        for part, columns in self.groups():
            coded[columns] = part.codes_categories
        return coded

    def known_categories(self) -> np.ndarray | None:
        """The number of categories of each feature, when the user gave them.

        The estimators count the categories in the training data unless the
        likelihood already knows them.

        Returns
        -------
        ndarray of shape (n_features,) or None
            One count per feature, as given to the constructor (such as
            :class:`~mim_sklearn.nn.likelihoods.CategoricalLikelihood`'s
            ``n_categories``); None when they were not given, or the
            likelihood has no categories (the default).

        Examples
        --------
        >>> from mim_sklearn.nn.likelihoods import CategoricalLikelihood
        >>> CategoricalLikelihood(n_categories=[3, 2]).known_categories().tolist()
        [3, 2]
        >>> CategoricalLikelihood().known_categories() is None
        True
        """
        return None

    def set_categories(self, counts: np.ndarray) -> None:
        """Give each group that codes categories its columns' counts.

        Each group of :meth:`groups` with :attr:`codes_categories` gets the
        counts of its columns as its ``categories``; the others are left as
        they are (a likelihood without categories ignores the call). Call it
        before :meth:`build`.

        Parameters
        ----------
        counts : ndarray of shape (n_features,)
            The number of categories of each feature of x (integers; any
            value for a feature without categories).

        Examples
        --------
        >>> from mim_sklearn.nn.likelihoods import (
        ...     CategoricalLikelihood, GaussianLikelihood, MixedLikelihood)
        >>> mixed = MixedLikelihood([(GaussianLikelihood(), [0]),
        ...                          (CategoricalLikelihood(), [1, 2])])
        >>> mixed.set_categories(np.array([0, 3, 2]))
        >>> mixed.groups()[1][0].categories
        [3, 2]
        """
        for part, columns in self.groups():
            if part.codes_categories:
                part.categories = counts[columns].tolist()

    def n_inputs(self) -> int:
        """Width of :meth:`encoder_input`.

        Returns
        -------
        int
            The number of values the encoder networks read per row:
            ``n_features`` unless :meth:`encoder_input` is overridden.
        """
        return self.n_features

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder networks see of x: x itself, unless overridden.

        Missing entries (NaN) become zeros.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.

        Returns
        -------
        torch.Tensor of shape (..., n_inputs)
            The encoder's input for each row, of x's dtype; ``n_inputs`` is
            :meth:`n_inputs`.
        """
        return torch.nan_to_num(x, nan=0.0)

    @abc.abstractmethod
    def n_outputs(self) -> int:
        """Number of decoder outputs this likelihood reads.

        Returns
        -------
        int
            The width of the decoder's output, the last dimension of the
            ``params`` that the other methods take.
        """

    @abc.abstractmethod
    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of ``x``, summed over features.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row. Its leading dimensions
            broadcast against x's: ``score_samples`` passes several draws of
            z per row of x as an extra leading dimension.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability log p(x|z) of each row, in nats, over the
            broadcast leading dimensions; differentiable in ``params``.
        """

    @abc.abstractmethod
    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The decoded row that ``inverse_transform`` returns.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One row of x in working units for each row of ``params``: the
            mean of p(x|z), or what stands for it (such as the most probable
            codes of a categorical likelihood).
        """

    @abc.abstractmethod
    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw rows x ~ p(x|z).

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.
        generator : torch.Generator or None
            Source of the randomness, on the device of ``params``; None uses
            torch's global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One draw for each row of ``params``, in working units and of its
            dtype. A continuous likelihood's draw should be reparameterised
            (differentiable in ``params``), since MIM trains the decoder
            through it; a discrete one's carries no gradient.
        """

    def expected_reconstruction(
        self, params: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """The reconstruction of a mixture of p(x|z_k) with weights w_k.

        The default, right for a likelihood whose :meth:`reconstruction` is
        its mean, is the weighted mean of the reconstructions; a categorical
        one takes the most probable code of the mixture instead.

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
        return (weights.unsqueeze(-1) * self.reconstruction(params)).sum(0)

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x (discrete x).

        That is, the expectation of :meth:`encoder_input` under p(x|z).
        Discrete likelihoods implement it; the default raises
        NotImplementedError.

        Parameters
        ----------
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (..., n_inputs)
            The expected encoder input of each row.
        """
        raise NotImplementedError

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs, which may be means (discrete x).

        At the encoder input of a data row it equals :meth:`log_prob` of that
        row; at the means of :meth:`expected_encoder_input` it is the
        expected log-probability under them. Discrete likelihoods implement
        it; the default raises NotImplementedError.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., n_inputs)
            Encoder inputs: those of data rows, or expected ones.
        params : torch.Tensor of shape (..., n_outputs)
            The decoder's output for each row.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability of each row, in nats.
        """
        raise NotImplementedError
