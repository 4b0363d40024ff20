"""Latent priors p(z).

Every prior is a :class:`Prior`. As with the likelihoods, one is made in two
steps, so that an estimator can take an instance as its ``prior`` parameter:
the constructor takes the choices (the number of mixture components), and
:meth:`Prior.build` what it needs of the model, once the model is made.
"""

from __future__ import annotations

import abc
import contextlib
import math
from collections.abc import Callable, Iterator

import torch
from torch import nn

from .gaussian import LOG_2PI, gaussian_log_prob, gaussian_rsample
from .sampling import categorical_sample, standard_normal_sample

Encoder = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class Prior(nn.Module, abc.ABC):
    """A latent prior p(z) over ``n_components`` dimensions.

    Subclasses implement :meth:`log_prob` and :meth:`sample`, and create
    their parameters, if they have any, in :meth:`build`; the other methods
    have defaults that suit a prior with no closed-form entropy, no
    data-dependent start and no use of the encoder.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of z; None leaves the prior to be built by the model.

    Examples
    --------
    N(0, 4 I), as a subclass of one's own:

    >>> class WideNormal(Prior):
    ...     def log_prob(self, z):
    ...         return torch.distributions.Normal(0.0, 2.0).log_prob(z).sum(-1)
    ...     def sample(self, n_samples, generator):
    ...         shape = (n_samples, self.n_components)
    ...         return 2.0 * torch.randn(shape, generator=generator)
    >>> prior = WideNormal()  # unbuilt: a model sizes it
    >>> prior.build(2)
    >>> prior.log_prob(prior.sample(5, torch.Generator().manual_seed(0))).shape
    torch.Size([5])
    """

    def __init__(self, n_components: int | None = None) -> None:
        super().__init__()
        self.n_components = None
        if n_components is not None:
            self.build(n_components)

    def build(
        self,
        n_components: int,
        n_inputs: int | None = None,
        input_bounds: tuple[float, float] | None = None,
    ) -> None:
        """Size the prior for z of ``n_components`` dimensions.

        A subclass with parameters creates them here, after calling
        ``super().build(n_components)``. The model calls it, with all three
        arguments, when it is given an unbuilt prior.

        Parameters
        ----------
        n_components : int
            Dimension of z.
        n_inputs : int or None, default=None
            Width of the encoder's input, for priors defined through the
            encoder (the VampPrior); ignored by the others.
        input_bounds : tuple of (float, float) or None, default=None
            Lower and upper bound of the encoder's inputs, or None when they
            are unbounded; for priors defined through the encoder.
        """
        self.n_components = n_components

    @abc.abstractmethod
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``z``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes; leading dimensions beyond the rows (several draws
            per row, say) must be accepted.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density log p(z) of each code, in nats; differentiable in
            ``z`` and in the prior's parameters.
        """

    @abc.abstractmethod
    def sample(self, n_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z).

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the randomness, on the prior's device; None uses
            torch's global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws, on the prior's device and of its dtype.
        """

    def entropy(self) -> torch.Tensor | None:
        """Differential entropy of p(z) in nats, or None without a closed form.

        Returns
        -------
        torch.Tensor or None
            The entropy as a 0-dimensional tensor, or None, the default, when
            it has no closed form (the model then estimates it from draws).
        """
        return None

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw the starting parameters from ``generator`` (none by default).

        The model calls it once, after it has initialised the networks.

        Parameters
        ----------
        generator : torch.Generator
            A seeded CPU generator.
        """

    def mixture(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """The prior as a mixture of diagonal Gaussians, or None if it is not one.

        The estimators read it to tell whether a learned mixture's
        components have merged into one (see ``PosteriorCollapseWarning``).

        Returns
        -------
        tuple of torch.Tensor, or None
            The components' means and log-variances, each of shape
            ``(K, n_components)``, and their log-weights, of shape ``(K,)``;
            None, the default, for a prior that is not such a mixture.

        Examples
        --------
        >>> StandardNormalPrior(2).mixture() is None
        True
        >>> means, log_vars, log_weights = MixtureOfGaussiansPrior(
        ...     2, n_prior_components=3).mixture()
        >>> means.shape, log_weights.shape
        (torch.Size([3, 2]), torch.Size([3]))
        """
        return None

    #: How many distinct training rows :meth:`start_from` wants (0: none).
    n_start_rows: int = 0

    def start_from(self, inputs: torch.Tensor) -> None:
        """Start from training rows as the encoder sees them; nothing by default.

        The estimators call it once, before training, with ``n_start_rows``
        distinct training rows (a VampPrior's pseudo-inputs start there).

        Parameters
        ----------
        inputs : torch.Tensor of shape (n_start_rows, n_inputs)
            The rows' encoder inputs (see :meth:`Likelihood.encoder_input`).
        """

    def attach_encoder(self, encode_inputs: Encoder) -> None:
        """Receive the model's encoder, for priors defined through it.

        The model calls it once, when it is made; ignored by default.

        Parameters
        ----------
        encode_inputs : callable
            ``encode_inputs(inputs)`` maps encoder inputs of shape
            ``(..., n_inputs)`` to the mean and the floored log-variance of
            q(z|x), each of shape ``(..., n_components)``.
        """

    def shared_pass(self) -> contextlib.AbstractContextManager:
        """A block in which work that depends only on the weights is done once.

        Each evaluation of an objective (one training step) runs inside such
        a block, in which the weights do not change. Nothing by default.

        Returns
        -------
        contextlib.AbstractContextManager
            A context manager for the block; it yields nothing.
        """
        return contextlib.nullcontext()

    def extra_repr(self) -> str:
        return f"n_components={self.n_components}"


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """Log-density of N(0, I) at each row of ``z``, summed over its last axis.

    Examples
    --------
    >>> standard_normal_log_prob(torch.zeros(1, 2))
    tensor([-1.8379])
    """
    # Written out: the general Gaussian formula costs twice the tensor
    # operations, and this runs three times in each MIM step.
    return -0.5 * (z.square().sum(-1) + z.shape[-1] * LOG_2PI)


class StandardNormalPrior(Prior):
    """The standard normal prior p(z) = N(0, I); it has no parameters.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of z; None leaves it to the model.

    Examples
    --------
    >>> prior = StandardNormalPrior(2)
    >>> z = prior.sample(5, torch.Generator().manual_seed(0))
    >>> prior.log_prob(z).shape
    torch.Size([5])
    """

    def __init__(self, n_components: int | None = None) -> None:
        super().__init__(n_components)
        # A buffer, so that the prior follows the model across devices/dtypes.
        self.register_buffer("_zero", torch.zeros(()))

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``z``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        return standard_normal_log_prob(z)

    def entropy(self) -> torch.Tensor:
        """Differential entropy of p(z), in nats: d/2 log(2 pi e).

        Returns
        -------
        torch.Tensor
            The entropy, a 0-dimensional tensor on the prior's device.
        """
        return self._zero + 0.5 * self.n_components * (LOG_2PI + 1.0)

    def sample(self, n_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z).

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws.
        """
        return standard_normal_sample(n_samples, self.n_components, generator,
                                      self._zero)


def _mixture_log_prob(
    z: torch.Tensor,
    means: torch.Tensor,
    log_vars: torch.Tensor,
    log_weights: torch.Tensor,
) -> torch.Tensor:
    """log sum_k w_k N(z; mean_k, diag exp(log_var_k)), batched over z's rows."""
    per_component = gaussian_log_prob(z.unsqueeze(-2), means, log_vars)
    return torch.logsumexp(per_component + log_weights, dim=-1)


def _mixture_sample(
    n_samples: int,
    means: torch.Tensor,
    log_vars: torch.Tensor,
    log_weights: torch.Tensor,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Pick a component per row, then draw from it (reparameterised in it)."""
    component = categorical_sample(log_weights.expand(n_samples, -1), generator)
    return gaussian_rsample(means[component], log_vars[component], generator)


class MixtureOfGaussiansPrior(Prior):
    """A learnable mixture of diagonal Gaussians: sum_k w_k N(mean_k, diag var_k).

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of z; None leaves it to the model.
    n_prior_components : int, default=100
        Number of mixture components K.

    Examples
    --------
    >>> prior = MixtureOfGaussiansPrior(2, n_prior_components=3)
    >>> prior.reset_parameters(torch.Generator().manual_seed(0))
    >>> prior.log_prob(prior.sample(4, torch.Generator().manual_seed(1))).shape
    torch.Size([4])
    """

    def __init__(
        self, n_components: int | None = None, n_prior_components: int = 100
    ) -> None:
        self.n_prior_components = n_prior_components
        super().__init__(n_components)

    def build(self, n_components: int, n_inputs=None, input_bounds=None) -> None:
        """Make K components in ``n_components`` dimensions.

        Parameters
        ----------
        n_components : int
            Dimension of z.
        n_inputs : int or None, default=None
            Ignored: this prior does not use the encoder.
        input_bounds : tuple of (float, float) or None, default=None
            Ignored, as ``n_inputs``.
        """
        super().build(n_components)
        k = self.n_prior_components
        self.means = nn.Parameter(torch.zeros(k, n_components))
        self.log_vars = nn.Parameter(torch.zeros(k, n_components))
        self.logits = nn.Parameter(torch.zeros(k))

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw the means from N(0, I); make the variances 1, the weights equal.

        Parameters
        ----------
        generator : torch.Generator
            Source of the means, a seeded CPU generator.
        """
        with torch.no_grad():
            self.means.copy_(torch.randn(self.means.shape, generator=generator))
            self.log_vars.zero_()
            self.logits.zero_()

    def mixture(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The components' means, log-variances and log-weights.

        Returns
        -------
        tuple of torch.Tensor
            Means and log-variances of shape ``(K, n_components)``,
            log-weights of shape ``(K,)``.
        """
        return self.means, self.log_vars, torch.log_softmax(self.logits, 0)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``z``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        return _mixture_log_prob(z, *self.mixture())

    def sample(self, n_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z).

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws, reparameterised within the chosen components.
        """
        return _mixture_sample(n_samples, *self.mixture(), generator)

    def extra_repr(self) -> str:
        return (
            f"n_components={self.n_components}, "
            f"n_prior_components={len(self.logits)}"
        )


class VampPrior(Prior):
    """The VampPrior: the mean of the encoder's posteriors at K learnable pseudo-inputs.

    p(z) = 1/K sum_k q(z | u_k) (Tomczak and Welling, 2018). The pseudo-inputs
    u_k live where the encoder's inputs do and start at training rows (see
    :meth:`start_from`). Where those inputs are bounded (pixel
    probabilities, one-hot codes), the encoder sees each u_k clamped to the
    bounds, as the MIM paper's reference code does with a Hardtanh: an
    input no data row can take would give the prior components that no
    posterior can match.

    The model attaches its encoder (:meth:`Prior.attach_encoder`): the prior
    is defined through it.

    Parameters
    ----------
    n_components : int or None, default=None
        Dimension of z; None leaves it, and the encoder's inputs, to the model.
    n_prior_components : int, default=100
        Number of pseudo-inputs K.
    n_inputs : int or None, default=None
        Width of the encoder's input (given by the model when it builds).
    input_bounds : tuple of (float, float) or None, default=None
        Lower and upper bound of the encoder's inputs; None for unbounded.

    Examples
    --------
    >>> from mim_sklearn.nn import LatentVariableModel
    >>> model = LatentVariableModel(3, 2, (4,), "tanh",
    ...                             prior=VampPrior(n_prior_components=5))
    >>> model.log_p_z(torch.zeros(4, 2)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        n_components: int | None = None,
        n_prior_components: int = 100,
        n_inputs: int | None = None,
        input_bounds: tuple[float, float] | None = None,
    ) -> None:
        self.n_prior_components = n_prior_components
        self._shared_components: tuple[torch.Tensor, torch.Tensor] | None = None
        self._encode_inputs: Encoder | None = None
        super().__init__()
        if n_components is not None:
            self.build(n_components, n_inputs, input_bounds)

    def build(self, n_components: int, n_inputs: int | None = None,
              input_bounds: tuple[float, float] | None = None) -> None:
        """Make K pseudo-inputs of the encoder's input width ``n_inputs``.

        Parameters
        ----------
        n_components : int
            Dimension of z.
        n_inputs : int or None, default=None
            Width of the encoder's input; required.
        input_bounds : tuple of (float, float) or None, default=None
            Lower and upper bound of the encoder's inputs, to which the
            pseudo-inputs are clamped; None for unbounded.

        Raises
        ------
        ValueError
            If ``n_inputs`` is None.
        """
        if n_inputs is None:
            raise ValueError("The VampPrior needs the width of the encoder's input.")
        super().build(n_components)
        self.input_bounds = input_bounds
        self.pseudo_inputs = nn.Parameter(
            torch.zeros(self.n_prior_components, n_inputs)
        )

    @property
    def n_start_rows(self) -> int:
        """One training row per pseudo-input."""
        return self.n_prior_components

    def attach_encoder(self, encode_inputs: Encoder) -> None:
        """Use ``encode_inputs`` to encode the pseudo-inputs.

        Parameters
        ----------
        encode_inputs : callable
            The model's map from encoder inputs to the mean and log-variance
            of q(z|x) (see :meth:`Prior.attach_encoder`).
        """
        self._encode_inputs = encode_inputs

    def start_from(self, inputs: torch.Tensor) -> None:
        """Start the pseudo-inputs at ``inputs``: K encoder inputs, data rows.

        Parameters
        ----------
        inputs : torch.Tensor of shape (K, n_inputs)
            The encoder inputs of K distinct training rows.

        Raises
        ------
        ValueError
            If ``inputs`` is not of the pseudo-inputs' shape.
        """
        if inputs.shape != self.pseudo_inputs.shape:
            raise ValueError(
                f"The VampPrior needs {tuple(self.pseudo_inputs.shape)} inputs to "
                f"start from, got {tuple(inputs.shape)}."
            )
        with torch.no_grad():
            self.pseudo_inputs.copy_(inputs)

    @contextlib.contextmanager
    def shared_pass(self) -> Iterator[None]:
        """Encode the pseudo-inputs once for every use of the prior in the block.

        A training step evaluates and samples the prior several times with the
        same weights; encoding K pseudo-inputs each time would cost K encoder
        rows per use.

        Yields
        ------
        None
            Control returns to the block; the shared encoding is dropped when
            it exits.
        """
        self._shared_components = self._encode(self.inputs())
        try:
            yield
        finally:
            self._shared_components = None

    def inputs(self) -> torch.Tensor:
        """The pseudo-inputs as the encoder sees them (clamped to the bounds).

        Returns
        -------
        torch.Tensor of shape (K, n_inputs)
            The pseudo-inputs, differentiable in their parameter.
        """
        if self.input_bounds is None:
            return self.pseudo_inputs
        return self.pseudo_inputs.clamp(*self.input_bounds)

    def _encode(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._encode_inputs is None:
            raise ValueError(
                "The VampPrior has no encoder: it is used inside a "
                "LatentVariableModel, which attaches its own."
            )
        return self._encode_inputs(inputs)

    def _components(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._shared_components is not None:
            return self._shared_components
        return self._encode(self.inputs())

    def _log_weights(self) -> torch.Tensor:
        k = self.pseudo_inputs.shape[0]
        return torch.full((k,), -math.log(k), device=self.pseudo_inputs.device,
                          dtype=self.pseudo_inputs.dtype)

    def mixture(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pseudo-inputs' posteriors: means, log-variances, equal log-weights.

        Returns
        -------
        tuple of torch.Tensor
            Means and log-variances of shape ``(K, n_components)``,
            log-weights of shape ``(K,)``.
        """
        return (*self._components(), self._log_weights())

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of each row of ``z``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        return _mixture_log_prob(z, *self.mixture())

    def sample(self, n_samples: int, generator: torch.Generator | None) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z).

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the noise; None uses torch's global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws, reparameterised within the chosen components.
        """
        return _mixture_sample(n_samples, *self.mixture(), generator)

    def extra_repr(self) -> str:
        k, width = self.pseudo_inputs.shape
        return (
            f"n_components={self.n_components}, n_prior_components={k}, "
            f"n_inputs={width}, input_bounds={self.input_bounds}"
        )


#: The priors the estimators' ``prior`` parameter names: name to class (see
#: :func:`mim_sklearn.nn.make_prior`).
PRIORS: dict[str, type[Prior]] = {
    "standard": StandardNormalPrior,
    "mog": MixtureOfGaussiansPrior,
    "vamp": VampPrior,
}
