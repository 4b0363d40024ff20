"""Decoder likelihoods p(x|z): how decoder outputs become a distribution over x.

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

from .gaussian import MIN_LOG_VAR, floored_log_var, gaussian_log_prob, gaussian_rsample

#: The ways a GaussianLikelihood's variance can depend on the feature and on z.
VARIANCES = ("shared", "isotropic", "decoded")


def categorical_sample(
    log_probs: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Draw an index from each categorical distribution along the last axis.

    The Gumbel-max trick, with uniform noise from ``generator`` drawn in
    float32 (as every draw of the package). No gradient flows through it.

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
            overridden (as by :class:`MixedLikelihood`).
        """
        return np.full(n_features, self.scales_input)

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

    def __init__(self, n_features: int | None = None, n_categories=None) -> None:
        self.categories = (
            None if n_categories is None else [int(k) for k in n_categories]
        )
        super().__init__(n_features)

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
    >>> lik = MixedLikelihood([(GaussianLikelihood(), [0, 2]),
    ...                        (CategoricalLikelihood(n_categories=[3]), [1])], 3)
    >>> lik.n_outputs(), lik.n_inputs()
    (5, 5)
    >>> x = torch.tensor([[0.5, 2.0, float("nan")]])  # the last entry missing
    >>> lik.log_prob(x, torch.zeros(1, 5)).shape
    torch.Size([1])
    """

    def __init__(self, parts, n_features: int | None = None) -> None:
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


# Its own module, built on the Likelihood above: imported here, after it, so
# that the registry below names every likelihood.
from .pixelcnn import PixelCNNLikelihood  # noqa: E402

LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": GaussianLikelihood,
    "bernoulli": BernoulliLikelihood,
    "categorical": CategoricalLikelihood,
    "pixelcnn": PixelCNNLikelihood,
}
