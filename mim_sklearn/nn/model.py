"""The latent-variable model shared by every estimator.

Four distributions make the model (the MIM paper's decomposition): the encoder
q(z|x), the decoder p(x|z), the latent prior p(z), and the data prior q(x),
which here is the decoder's marginal and so has no parameters of its own.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .architectures import ARCHITECTURES, ArchitectureSpec
from .gaussian import MIN_LOG_VAR, floored_log_var, gaussian_log_prob, gaussian_rsample
from .likelihoods import LIKELIHOODS, Likelihood
from .networks import initialize_parameters
from .priors import PRIORS, Prior, _standard_normal_sample


class LatentVariableModel(nn.Module):
    """Gaussian encoder q(z|x), decoder p(x|z) and prior p(z).

    Parameters
    ----------
    n_features : int
        Dimension of x.
    n_components : int
        Dimension of z.
    hidden_layer_sizes : sequence of int
        Hidden widths of the encoder; the decoder mirrors them.
    activation : str
        Hidden nonlinearity, a key of :data:`~mim_sklearn.nn.networks.ACTIVATIONS`.
    likelihood : str or Likelihood, default="gaussian"
        A key of :data:`~mim_sklearn.nn.likelihoods.LIKELIHOODS`, or a
        :class:`~mim_sklearn.nn.likelihoods.Likelihood`, which the model
        builds for ``n_features`` if it is not built yet (and then owns).
    prior : str or Prior, default="standard"
        A key of :data:`~mim_sklearn.nn.priors.PRIORS`, or a
        :class:`~mim_sklearn.nn.priors.Prior`, built likewise.
    likelihood_options : dict or None, default=None
        Keyword arguments of a named likelihood's constructor, such as
        ``n_categories`` for ``"categorical"``.
    prior_options : dict or None, default=None
        Keyword arguments of a named prior's constructor, such as
        ``n_prior_components`` for ``"mog"`` and ``"vamp"``.
    min_encoder_log_var : float, default=-6.0
        Floor on the encoder log-variance. MIM's loss with a marginal q(x) does
        not penalise a shrinking encoder variance on encoder-sampled pairs, so
        without a floor q(z|x) collapses to a point.
    architecture : str or callable, default="mlp"
        A key of :data:`~mim_sklearn.nn.architectures.ARCHITECTURES`, or a
        callable with the contract of :mod:`mim_sklearn.nn.architectures`.
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of each row, for ``"conv"``.
    auxiliary_posterior : bool, default=False
        Whether to add a second Gaussian encoder r(z|x), with the encoder's
        architecture, for the mutual autoencoder's bound on the decoding
        mutual information (see :meth:`log_r_z_given_x`).
    seed : int, default=0
        Seed of the local generator that initialises the weights.

    Examples
    --------
    >>> model = LatentVariableModel(4, 2, (8,), "tanh")
    >>> mean, log_var = model.encode(torch.zeros(3, 4))
    >>> model.decode(mean).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: str | Likelihood = "gaussian",
        prior: str | Prior = "standard",
        likelihood_options: dict | None = None,
        prior_options: dict | None = None,
        min_encoder_log_var: float = MIN_LOG_VAR,
        architecture: str | Callable = "mlp",
        image_shape: tuple[int, int, int] | None = None,
        auxiliary_posterior: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.min_encoder_log_var = min_encoder_log_var
        if isinstance(likelihood, str):
            likelihood = LIKELIHOODS[likelihood](**(likelihood_options or {}))
        if likelihood.n_features is None:
            likelihood.build(n_features)
        self.likelihood = likelihood
        n_inputs = self.likelihood.n_inputs()
        if isinstance(prior, str):
            prior = PRIORS[prior](**(prior_options or {}))
        if prior.n_components is None:
            # A prior defined through the encoder (the VampPrior) lives where
            # the encoder's inputs do.
            prior.build(n_components, n_inputs, self.likelihood.encoder_input_bounds)
        if (self.likelihood.n_features, prior.n_components) != (n_features, n_components):
            raise ValueError(
                f"The likelihood is built for {self.likelihood.n_features} features "
                f"and the prior for {prior.n_components} components, but the model "
                f"has {n_features} and {n_components}; pass unbuilt ones (without "
                "n_features or n_components) to let the model size them."
            )
        self.prior = prior
        build = ARCHITECTURES[architecture] if isinstance(architecture, str) else architecture
        spec = ArchitectureSpec(
            n_inputs=n_inputs,
            n_components=n_components,
            n_decoder_outputs=self.likelihood.n_outputs(),
            hidden_layer_sizes=tuple(hidden_layer_sizes),
            activation=activation,
            image_shape=None if image_shape is None else tuple(image_shape),
        )
        self.encoder, self.decoder = build(spec)
        # r(z|x) has the encoder's architecture (and its own weights).
        self.auxiliary = build(spec)[0] if auxiliary_posterior else None
        generator = torch.Generator().manual_seed(seed)
        initialize_parameters(self, generator)
        self.prior.reset_parameters(generator)
        self.prior.attach_encoder(self.encode_inputs)
        # The affine map from the user's units to the working units the
        # networks see; buffers, so it moves and pickles with the model.
        self.register_buffer("input_offset", torch.zeros(n_features))
        self.register_buffer("input_scale", torch.ones(n_features))

    def set_input_scaling(self, offset, scale) -> None:
        """Set the map x -> (x - offset) / scale to working units."""
        self.input_offset.copy_(torch.as_tensor(offset))
        self.input_scale.copy_(torch.as_tensor(scale))

    def to_working_units(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows from the user's units to the networks' working units."""
        # Scale before centring: near float32's limits x - offset can overflow
        # (3e38 - (-1e38)) where the scaled difference is a few units.
        return x / self.input_scale - self.input_offset / self.input_scale

    def from_working_units(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows from working units back to the user's units."""
        return x * self.input_scale + self.input_offset

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and floored log-variance of q(z|x)."""
        return self.encode_inputs(self.likelihood.encoder_input(x))

    def encode_inputs(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`encode` from what the encoder network sees (one-hot codes for
        categorical data): the VampPrior's pseudo-inputs live there."""
        return self._gaussian_parameters(self.encoder(inputs))

    def log_p_z(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of the prior p(z) at each row of ``z``."""
        return self.prior.log_prob(z)

    def sample_prior(
        self, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z)."""
        return self.prior.sample(n_samples, generator)

    def sample_anchor(
        self, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw ``n_samples`` rows from MIM's latent anchor P(z) = N(0, I).

        The anchor is the fixed latent half of MIM's sample distribution; it
        is the prior only when the prior is standard. A learned prior is
        fitted to the anchor's draws rather than drawing them itself, which
        would reward it for shrinking its own entropy.
        """
        return _standard_normal_sample(
            n_samples, self.prior.n_components, generator, self.input_offset
        )

    def shared_prior_pass(self) -> contextlib.AbstractContextManager:
        """A block in which the prior's own network pass runs once.

        A VampPrior encodes its pseudo-inputs once for every evaluation and
        draw in the block (one training step); other priors need nothing.
        """
        return self.prior.shared_pass()

    def prior_entropy(self, z: torch.Tensor) -> torch.Tensor:
        """H(z) of the prior: exact when known, else ``-log p(z)`` of each
        draw ``z ~ p(z)`` (an unbiased estimate)."""
        entropy = self.prior.entropy()
        return -self.log_p_z(z) if entropy is None else entropy

    def initialize_prior(self, x: torch.Tensor) -> None:
        """Let the prior start from training rows ``x`` (working units): a
        VampPrior's pseudo-inputs start there."""
        self.prior.start_from(self.likelihood.encoder_input(x))

    def _gaussian_parameters(self, output: torch.Tensor):
        mean, raw_log_var = output.chunk(2, dim=-1)
        return mean, floored_log_var(raw_log_var, self.min_encoder_log_var)

    def log_r_z_given_x(
        self, z: torch.Tensor, x: torch.Tensor, frozen: bool = False
    ) -> torch.Tensor:
        """Log-density of the auxiliary posterior r(z|x) at ``z``.

        With ``frozen``, gradients reach ``z`` and ``x`` but not r's own
        weights: the mutual autoencoder's constraint must move the decoder,
        never loosen its bound by making r worse.
        """
        if self.auxiliary is None:
            raise ValueError("This model was built without auxiliary_posterior.")
        x = self.likelihood.encoder_input(x)
        if frozen:
            weights = {k: v.detach() for k, v in self.auxiliary.named_parameters()}
            output = torch.func.functional_call(self.auxiliary, weights, (x,))
        else:
            output = self.auxiliary(x)
        return gaussian_log_prob(z, *self._gaussian_parameters(output))

    @staticmethod
    def log_q_z_given_x(
        z: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor
    ) -> torch.Tensor:
        """Log-density of q(z|x) at ``z``, given the encoder's output for x."""
        return gaussian_log_prob(z, mean, log_var)

    @staticmethod
    def rsample_posterior(
        mean: torch.Tensor,
        log_var: torch.Tensor,
        generator: torch.Generator | None,
        n_draws: int | None = None,
        shared_noise: bool = False,
    ) -> torch.Tensor:
        """Reparameterised draws z ~ q(z|x).

        With ``n_draws`` the result has shape ``(n_draws, *mean.shape)``.
        With ``shared_noise`` every row is transformed from the same standard
        normal draws, so a row's draws do not depend on the other rows.
        """
        if n_draws is None:
            shape = mean.shape
        elif shared_noise:
            shape = (n_draws, *(1,) * (mean.dim() - 1), mean.shape[-1])
        else:
            shape = (n_draws, *mean.shape)
        return gaussian_rsample(mean, log_var, generator, shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Parameters of p(x|z), as the likelihood reads them."""
        return self.decoder(z)

    def reconstruct(self, z: torch.Tensor) -> torch.Tensor:
        """The decoded rows of ``z`` in working units: the mean of p(x|z), or
        the most probable category codes."""
        return self.likelihood.reconstruction(self.decode(z))

    def sample_x_given_z(
        self, z: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw one x ~ p(x|z) for each row of ``z``, in working units."""
        return self.likelihood.sample(self.decode(z), generator)

    def log_p_x_given_z(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-density of p(x|z) at ``x``, given decoded parameters."""
        return self.likelihood.log_prob(x, params)

    def importance_log_likelihood(
        self,
        x: torch.Tensor,
        n_draws: int,
        generator: torch.Generator | None,
        posterior: tuple[torch.Tensor, torch.Tensor] | None = None,
        shared_noise: bool = False,
    ) -> torch.Tensor:
        """Importance-sampled log p(x) of each row, with q(z|x) as proposal.

        ``logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K``,
        batched over rows and the K = ``n_draws`` draws. With one draw it is
        the estimate of the marginal data prior log q(x) that MIM trains
        with; ``posterior``, the encoder's ``(mean, log_var)`` for ``x``,
        saves encoding ``x`` again when the caller has it. ``shared_noise``
        (see :meth:`rsample_posterior`) makes each row's estimate independent
        of which other rows share its batch.
        """
        mean, log_var = self.encode(x) if posterior is None else posterior
        z = self.rsample_posterior(mean, log_var, generator, n_draws, shared_noise)
        log_weights = (
            self.log_p_x_given_z(x, self.decode(z))
            + self.log_p_z(z)
            - self.log_q_z_given_x(z, mean, log_var)
        )
        return torch.logsumexp(log_weights, dim=0) - math.log(n_draws)
