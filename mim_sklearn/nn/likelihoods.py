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


class Likelihood(nn.Module, abc.ABC):
    """A decoder distribution p(x|z), read from the decoder network's output.

    Subclasses implement :meth:`n_outputs`, :meth:`log_prob`,
    :meth:`reconstruction` and :meth:`sample`, and create their parameters,
    if they have any, in :meth:`build`. Discrete ones (``discrete = True``)
    also implement :meth:`expected_encoder_input` and
    :meth:`log_prob_of_encoder_input`, with which MIM's decoder-sampled
    pairs read the decoder's mean instead of its draws.

    Parameters
    ----------
    n_features : int or None, default=None
        Dimension of x; None leaves the likelihood to be built later.
    """

    #: Whether x is discrete: draws carry no gradient.
    discrete: bool = False
    #: The range of the encoder inputs, or None when unbounded.
    encoder_input_bounds: tuple[float, float] | None = None
    #: Whether the estimators centre and scale X before it reaches the model.
    scales_input: bool = True

    def __init__(self, n_features: int | None = None) -> None:
        super().__init__()
        self.n_features = None
        if n_features is not None:
            self.build(n_features)

    def build(self, n_features: int) -> None:
        """Size the likelihood for ``n_features`` features (create parameters)."""
        self.n_features = n_features

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError, saying what to do, when X does not suit it."""

    def n_inputs(self) -> int:
        """Width of :meth:`encoder_input`."""
        return self.n_features

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder networks see of x: x itself, unless overridden."""
        return x

    @abc.abstractmethod
    def n_outputs(self) -> int:
        """Number of decoder outputs this likelihood reads."""

    @abc.abstractmethod
    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of ``x``, summed over features."""

    @abc.abstractmethod
    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The decoded row that ``inverse_transform`` returns."""

    @abc.abstractmethod
    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw rows x ~ p(x|z)."""

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x (discrete x)."""
        raise NotImplementedError

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs, which may be means (discrete x)."""
        raise NotImplementedError


class GaussianLikelihood(Likelihood):
    """Diagonal Gaussian p(x|z) with a decoded mean and a learned variance.

    With ``variance="shared"`` the variance is one learned value per
    feature, shared by all z; with ``"decoded"`` the decoder outputs a
    log-variance per feature for each z, beside the mean (as the MIM paper's
    reference code does for its 2-D toy data). Either way it is bounded
    below by ``exp(min_log_var)`` so that a feature the decoder reproduces
    exactly (a constant pixel, say) cannot drive the density to infinity.
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

    def __init__(
        self,
        n_features: int | None = None,
        min_log_var: float = MIN_LOG_VAR,
        variance: str = "shared",
    ) -> None:
        if variance not in ("shared", "decoded"):
            raise ValueError(
                f"variance must be 'shared' or 'decoded', got {variance!r}."
            )
        self.min_log_var = min_log_var
        self.variance = variance
        self.raw_log_var = None
        super().__init__(n_features)

    def build(self, n_features: int) -> None:
        """Size it for ``n_features``: a shared variance has one per feature."""
        super().build(n_features)
        if self.variance == "shared":
            self.raw_log_var = nn.Parameter(torch.zeros(n_features))

    def n_outputs(self) -> int:
        """Number of decoder outputs this likelihood consumes: the mean, and
        with decoded variances a raw log-variance beside each feature's mean."""
        return self.n_features * (1 if self.variance == "shared" else 2)

    def moments(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and floored log-variance of p(x|z) from the decoder's output."""
        if self.raw_log_var is not None:
            return params, floored_log_var(self.raw_log_var, self.min_log_var)
        pairs = params.unflatten(-1, (self.n_features, 2))  # feature-major
        return pairs[..., 0], floored_log_var(pairs[..., 1], self.min_log_var)

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``x``, summed over features."""
        return gaussian_log_prob(x, *self.moments(params))

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z)."""
        return self.moments(params)[0]

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """A reparameterised draw x ~ p(x|z), differentiable in ``params``."""
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

    def check_data(self, X: np.ndarray) -> None:
        """Raise a ValueError unless every value of X is in [0, 1]."""
        if not np.all((X >= 0) & (X <= 1)):
            raise ValueError(
                "likelihood='bernoulli' needs X in [0, 1]: binary data, or "
                "probabilities (binarise or rescale X first)."
            )

    def n_outputs(self) -> int:
        """Number of decoder outputs: one logit per feature."""
        return self.n_features

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of ``x``, summed over features."""
        return (x * params - nn.functional.softplus(params)).sum(-1)

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The probabilities p(x_j = 1 | z), the mean of p(x|z)."""
        return torch.sigmoid(params)

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x: the probabilities."""
        return torch.sigmoid(params)

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs, which may be probabilities."""
        return self.log_prob(inputs, params)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw 0/1 rows x ~ p(x|z)."""
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

    def __init__(self, n_features: int | None = None, n_categories=None) -> None:
        self.categories = None if n_categories is None else [int(k) for k in n_categories]
        super().__init__(n_features)

    def build(self, n_features: int) -> None:
        """Size it for ``n_features`` features of ``n_categories`` categories."""
        if self.categories is None:
            raise ValueError(
                "CategoricalLikelihood needs n_categories before it is built; the "
                "estimators count them in the training data."
            )
        counts = torch.as_tensor(self.categories, dtype=torch.long)
        if counts.shape != (n_features,) or (counts < 1).any():
            raise ValueError(
                f"n_categories needs one positive count per feature, got {counts.tolist()}."
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
        """Raise a ValueError unless X holds codes 0 to K_j - 1 of each feature."""
        category_counts(X, None if self.categories is None else np.array(self.categories))

    def n_outputs(self) -> int:
        """Number of decoder outputs: ``max(K_j)`` logits per feature."""
        return self.n_features * self.max_categories

    def n_inputs(self) -> int:
        """Width of :meth:`encoder_input`: the sum of the K_j."""
        return int(self.n_categories.sum())

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """x one-hot encoded, feature by feature."""
        index = x.long() + self.offsets
        one_hot = torch.zeros(
            *x.shape[:-1], self.n_inputs(), dtype=x.dtype, device=x.device
        )
        return one_hot.scatter_(-1, index, 1.0)

    def log_probabilities(self, params: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of every category, shape ``(..., n_features, max K)``."""
        logits = params.unflatten(-1, (self.n_features, self.max_categories))
        return torch.log_softmax(logits.masked_fill(~self.valid, -torch.inf), dim=-1)

    def log_prob(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of codes ``x``, summed over features."""
        log_p = self.log_probabilities(params)
        index = x.long().unsqueeze(-1).expand(*log_p.shape[:-1], 1)
        return log_p.gather(-1, index).squeeze(-1).sum(-1)

    def reconstruction(self, params: torch.Tensor) -> torch.Tensor:
        """The most probable code of each feature."""
        return self.log_probabilities(params).argmax(-1).to(params.dtype)

    def expected_encoder_input(self, params: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) where the encoders read x: each feature's
        category probabilities, laid out as :meth:`encoder_input`'s one-hot
        codes."""
        return self.log_probabilities(params).exp()[..., self.valid]

    def log_prob_of_encoder_input(
        self, inputs: torch.Tensor, params: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`log_prob` at encoder inputs: one-hot codes, or category
        probabilities (the expected log-probability)."""
        return (inputs * self.log_probabilities(params)[..., self.valid]).sum(-1)

    def sample(
        self, params: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw codes x ~ p(x|z) (the Gumbel-max trick, seeded by ``generator``)."""
        return categorical_sample(self.log_probabilities(params), generator).to(
            params.dtype
        )

    def extra_repr(self) -> str:
        return f"n_categories={self.n_categories.tolist()}"


def category_counts(X: np.ndarray, n_categories: np.ndarray | None = None) -> np.ndarray:
    """Check that X holds category codes; return K_j, the categories per feature.

    Codes are integers 0, 1, ..., K_j - 1 (stored in a float array). With
    ``n_categories`` (those seen in ``fit``), a code beyond them is an error.

    Examples
    --------
    >>> category_counts(np.array([[0.0, 2.0], [1.0, 0.0]])).tolist()
    [2, 3]
    """
    if not np.all((X >= 0) & (X == np.floor(X))):
        raise ValueError(
            "likelihood='categorical' needs X to hold integer category codes "
            "0, 1, 2, ... in each column (encode labels with OrdinalEncoder)."
        )
    counts = X.max(axis=0).astype(np.int64) + 1
    if n_categories is not None and np.any(counts > n_categories):
        feature = int(np.argmax(counts > n_categories))
        raise ValueError(
            f"Feature {feature} holds code {counts[feature] - 1}, but fit saw codes "
            f"0 to {n_categories[feature] - 1} only."
        )
    return counts


LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": GaussianLikelihood,
    "bernoulli": BernoulliLikelihood,
    "categorical": CategoricalLikelihood,
}
