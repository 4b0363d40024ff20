"""The latent-variable model shared by every estimator.

Four distributions make the model (the MIM paper's decomposition): the encoder
q(z|x), the decoder p(x|z), the latent prior p(z), and the data prior q(x),
which here is the decoder's marginal and so has no parameters of its own.

With two latent levels (Tomczak & Welling's convHVAE) the code is z = [z1, z2]:
the prior is p(z2) p(z1|z2) and the encoder q(z2|x) q(z1|x, z2) (see
:mod:`~mim_sklearn.nn.posteriors`); the decoder reads both levels.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from .architectures import ARCHITECTURES, ArchitectureSpec
from .gaussian import MIN_LOG_VAR, floored_log_var, gaussian_log_prob, gaussian_rsample
from .likelihoods import GaussianLikelihood, Likelihood
from .networks import initialize_parameters, make_mlp
from .posteriors import GaussianPosterior, Posterior, TwoLevelPosterior
from .priors import Prior, StandardNormalPrior, standard_normal_log_prob
from .sampling import standard_normal_sample


class LatentVariableModel(nn.Module):
    """Gaussian encoder q(z|x), decoder p(x|z) and prior p(z).

    With ``latent_levels=2`` the code z = [z1, z2] has two levels of
    ``n_components / 2`` dimensions, as in Tomczak & Welling's convHVAE: the
    top level z2 has the prior, the bottom level z1 a learned
    Gaussian p(z1|z2), and the encoder is q(z2|x) q(z1|x, z2). Networks:
    q(z2|x) is the architecture's encoder; q(z1|x, z2) reads a second
    encoder's Gaussian guess of z1 from x alone with z2, through one hidden
    layer of the last hidden width; p(z1|z2) is a fully connected network
    with the decoder's hidden widths; the decoder reads [z1, z2].

    Parameters
    ----------
    n_features : int
        Dimension of x.
    n_components : int
        Dimension of z (of both levels together).
    hidden_layer_sizes : sequence of int
        Hidden widths of the encoder; the decoder mirrors them.
    activation : str
        Hidden nonlinearity, a key of :data:`~mim_sklearn.nn.networks.ACTIVATIONS`.
    likelihood : Likelihood or None, default=None
        The decoder's :class:`~mim_sklearn.nn.likelihoods.Likelihood`, which
        the model builds for ``n_features`` if it is not built yet (and then
        owns); None for a :class:`~mim_sklearn.nn.likelihoods.GaussianLikelihood`
        of its defaults. :func:`~mim_sklearn.nn.make_likelihood` makes one
        from names.
    prior : Prior or None, default=None
        The latent :class:`~mim_sklearn.nn.priors.Prior`, built likewise; None
        for a :class:`~mim_sklearn.nn.priors.StandardNormalPrior`.
        :func:`~mim_sklearn.nn.make_prior` makes one from a name.
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
    missing_indicators : bool, default=False
        Whether the encoders read, beside the data, an indicator of which
        entries are observed (x holds NaN where they are missing), as for
        data trained with missing values. Not with a convolutional
        architecture.
    latent_levels : {1, 2}, default=1
        Number of levels of the latent code (see above).
    seed : int, default=0
        Seed of the local generator that initialises the weights.

    Examples
    --------
    >>> model = LatentVariableModel(4, 2, (8,), "tanh")
    >>> mean, log_var = model.encode(torch.zeros(3, 4))
    >>> model.decode(mean).shape
    torch.Size([3, 4])

    Two levels of two dimensions each:

    >>> model = LatentVariableModel(4, 4, (8,), "tanh", latent_levels=2)
    >>> model.sample_prior(3, None).shape
    torch.Size([3, 4])
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int],
        activation: str,
        likelihood: Likelihood | None = None,
        prior: Prior | None = None,
        min_encoder_log_var: float = MIN_LOG_VAR,
        architecture: str | Callable = "mlp",
        image_shape: tuple[int, int, int] | None = None,
        auxiliary_posterior: bool = False,
        missing_indicators: bool = False,
        latent_levels: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if latent_levels not in (1, 2) or n_components % latent_levels:
            raise ValueError(
                "latent_levels must be 1 or 2, and n_components (of all levels) "
                f"a multiple of it; got latent_levels={latent_levels!r} for "
                f"n_components={n_components}."
            )
        self.min_encoder_log_var = min_encoder_log_var
        self.missing_indicators = missing_indicators
        self.latent_levels = latent_levels
        # The prior's level: all of z, or the top level z2.
        self.n_top_components = n_components // latent_levels
        if missing_indicators and image_shape is not None:
            raise ValueError(
                "A convolutional encoder cannot read missing-value indicators yet; "
                "use architecture='mlp' for data with missing values."
            )
        if likelihood is None:
            likelihood = GaussianLikelihood()
        if likelihood.n_features is None:
            likelihood.build(n_features)
        self.likelihood = likelihood
        n_inputs = self.likelihood.n_inputs()
        if prior is None:
            prior = StandardNormalPrior()
        if prior.n_components is None:
            # A prior defined through the encoder (the VampPrior) lives where
            # the encoder's inputs do.
            prior.build(
                self.n_top_components, n_inputs, self.likelihood.encoder_input_bounds
            )
        if (
            (self.likelihood.n_features, prior.n_components)
            != (n_features, self.n_top_components)
        ):
            raise ValueError(
                f"The likelihood is built for {self.likelihood.n_features} features "
                f"and the prior for {prior.n_components} components, but the model "
                f"has {n_features} and {self.n_top_components}; pass unbuilt ones "
                "(without n_features or n_components) to let the model size them."
            )
        self.prior = prior
        build = (
            ARCHITECTURES[architecture] if isinstance(architecture, str)
            else architecture
        )
        spec = ArchitectureSpec(
            n_inputs=n_inputs + (n_features if missing_indicators else 0),
            n_components=n_components,
            n_decoder_outputs=self.likelihood.n_outputs(),
            hidden_layer_sizes=tuple(hidden_layer_sizes),
            activation=activation,
            image_shape=None if image_shape is None else tuple(image_shape),
        )
        self.encoder, self.decoder = build(spec)
        # r(z|x) has the encoder's architecture (and its own weights).
        self.auxiliary = build(spec)[0] if auxiliary_posterior else None
        self.bottom_encoder = self.bottom_head = self.conditional_prior = None
        if latent_levels == 2:
            self._build_bottom_level(build, spec)
        generator = torch.Generator().manual_seed(seed)
        initialize_parameters(self, generator)
        self.prior.reset_parameters(generator)
        self.prior.attach_encoder(self.encode_top)
        # The affine map from the user's units to the working units the
        # networks see; buffers, so it moves and pickles with the model.
        self.register_buffer("input_offset", torch.zeros(n_features))
        self.register_buffer("input_scale", torch.ones(n_features))

    def _build_bottom_level(self, build: Callable, spec: ArchitectureSpec) -> None:
        """The networks of a two-level model beside the decoder and q(z2|x)."""
        n_top = self.n_top_components
        n_bottom = spec.n_components - n_top
        self.encoder = build(dataclasses.replace(spec, n_components=n_top))[0]
        self.bottom_encoder = build(dataclasses.replace(spec, n_components=n_bottom))[0]
        self.bottom_head = make_mlp(
            2 * n_bottom + n_top, spec.hidden_layer_sizes[-1:], 2 * n_bottom,
            spec.activation,
        )
        self.conditional_prior = make_mlp(
            n_top, tuple(reversed(spec.hidden_layer_sizes)), 2 * n_bottom,
            spec.activation,
        )

    def set_input_scaling(self, offset, scale) -> None:
        """Set the map x -> (x - offset) / scale to working units.

        Parameters
        ----------
        offset : array-like of shape (n_features,)
            Value subtracted from each feature (the estimators' ``mean_``).
        scale : array-like of shape (n_features,)
            Divisor of each feature after centring (the estimators'
            ``scale_``).
        """
        self.input_offset.copy_(torch.as_tensor(offset))
        self.input_scale.copy_(torch.as_tensor(scale))

    def to_working_units(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows from the user's units to the networks' working units.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows in the user's units.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The rows in working units.
        """
        # Scale before centring: near float32's limits x - offset can overflow
        # (3e38 - (-1e38)) where the scaled difference is a few units.
        return x / self.input_scale - self.input_offset / self.input_scale

    def from_working_units(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows from working units back to the user's units.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows in working units.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            The rows in the user's units.
        """
        return x * self.input_scale + self.input_offset

    def posterior(self, x: torch.Tensor) -> Posterior:
        """The posterior q(z|x) of each row.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.

        Returns
        -------
        GaussianPosterior or TwoLevelPosterior
            The posterior of each row, which draws and scores codes (see
            :mod:`~mim_sklearn.nn.posteriors`).
        """
        return self.posterior_of_inputs(
            self.likelihood.encoder_input(x), self._observed(x)
        )

    def posterior_of_inputs(
        self, inputs: torch.Tensor, observed: torch.Tensor | None = None
    ) -> Posterior:
        """:meth:`posterior` from the likelihood's encoder inputs.

        The encoder inputs are x itself, or one-hot codes for categorical
        data (see :meth:`Likelihood.encoder_input`), or the expected inputs
        of MIM's decoder-sampled pairs.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., n_inputs)
            Encoder inputs.
        observed : torch.Tensor of shape (..., n_features) or None, default=None
            Which entries of each row were observed (boolean), read by a
            model with ``missing_indicators``; None means all of them.

        Returns
        -------
        GaussianPosterior or TwoLevelPosterior
            The posterior of each row.
        """
        top = GaussianPosterior(*self.encode_top(inputs, observed))
        if self.latent_levels == 1:
            return top
        guess = self.bottom_encoder(self._network_input(inputs, observed))

        def bottom(z2: torch.Tensor) -> GaussianPosterior:
            features = guess.expand(*z2.shape[:-1], guess.shape[-1])
            output = self.bottom_head(torch.cat([features, z2], dim=-1))
            return GaussianPosterior(*self._gaussian_parameters(output))

        return TwoLevelPosterior(top, bottom)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and floored log-variance of q(z|x).

        With two levels, the bottom level's are those of q(z1|x, z2) at the
        mean of q(z2|x).

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.

        Returns
        -------
        mean : torch.Tensor of shape (..., n_components)
            The posterior mean of each row.
        log_var : torch.Tensor of shape (..., n_components)
            The posterior log-variance of each row, at least
            ``min_encoder_log_var``.
        """
        posterior = self.posterior(x)
        return posterior.mean, posterior.log_var

    def encode_top(
        self, inputs: torch.Tensor, observed: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x), or of q(z2|x) with two levels.

        The level that the prior is over: a VampPrior encodes its
        pseudo-inputs with it.

        Parameters
        ----------
        inputs : torch.Tensor of shape (..., n_inputs)
            Encoder inputs (see :meth:`posterior_of_inputs`).
        observed : torch.Tensor of shape (..., n_features) or None, default=None
            Which entries of each row were observed; None means all of them.

        Returns
        -------
        mean : torch.Tensor of shape (..., n_top_components)
            The posterior mean of each row's top level.
        log_var : torch.Tensor of shape (..., n_top_components)
            Its floored log-variance.
        """
        return self._gaussian_parameters(
            self.encoder(self._network_input(inputs, observed))
        )

    def _observed(self, x: torch.Tensor) -> torch.Tensor | None:
        """Which entries of x are observed, when the encoders read it."""
        return ~x.isnan() if self.missing_indicators else None

    def _network_input(
        self, inputs: torch.Tensor, observed: torch.Tensor | None
    ) -> torch.Tensor:
        """The encoder inputs, followed by the indicators if the model reads them."""
        if not self.missing_indicators:
            return inputs
        n_features = self.likelihood.n_features
        indicators = (
            inputs.new_ones(*inputs.shape[:-1], n_features) if observed is None
            else observed.to(inputs.dtype)
        )
        return torch.cat([inputs, indicators], dim=-1)

    def log_p_z(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of the prior p(z) at each row of ``z``.

        With two levels, ``log p(z2) + log p(z1|z2)``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.
        """
        return self._chain_log_prob(z, self.prior.log_prob)

    def log_p_anchor(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density of MIM's latent anchor at each row of ``z``.

        The anchor is N(0, I) (over z2 with two levels, times the model's
        p(z1|z2)), the density of :meth:`sample_anchor`; with the standard
        prior it equals :meth:`log_p_z`. The objectives' warm-up puts it in
        place of a learned prior, which it holds at the anchor's scale until
        the reconstruction has spread the codes.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density of each code, in nats.

        Examples
        --------
        >>> from mim_sklearn.nn import MixtureOfGaussiansPrior
        >>> model = LatentVariableModel(3, 2, (4,), "relu",
        ...                             prior=MixtureOfGaussiansPrior())
        >>> model.log_p_anchor(torch.zeros(1, 2))
        tensor([-1.8379])
        """
        return self._chain_log_prob(z, standard_normal_log_prob)

    def _chain_log_prob(self, z: torch.Tensor, top_log_prob) -> torch.Tensor:
        """``top_log_prob`` of z, or with two levels of z2, plus log p(z1|z2)."""
        if self.latent_levels == 1:
            return top_log_prob(z)
        z1, z2 = self.split_levels(z)
        return top_log_prob(z2) + gaussian_log_prob(
            z1, *self._gaussian_parameters(self.conditional_prior(z2))
        )

    def split_levels(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two-level codes ``[z1, z2]`` as the pair ``(z1, z2)``.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes of a two-level model.

        Returns
        -------
        z1 : torch.Tensor of shape (..., n_components - n_top_components)
            The bottom level.
        z2 : torch.Tensor of shape (..., n_top_components)
            The top level, which the prior is over.
        """
        return z[..., : -self.n_top_components], z[..., -self.n_top_components :]

    def _down_the_chain(
        self, z_top: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Codes from top-level draws: with two levels, z1 ~ p(z1|z2) joins."""
        if self.latent_levels == 1:
            return z_top
        mean, log_var = self._gaussian_parameters(self.conditional_prior(z_top))
        return torch.cat([gaussian_rsample(mean, log_var, generator), z_top], dim=-1)

    def sample_prior(
        self, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw ``n_samples`` rows z ~ p(z), down the chain with two levels.

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the noise, on the model's device; None uses torch's
            global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws.
        """
        return self._down_the_chain(self.prior.sample(n_samples, generator), generator)

    def sample_anchor(
        self, n_samples: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw ``n_samples`` rows from MIM's latent anchor P(z).

        The anchor is the fixed latent half of MIM's sample distribution:
        N(0, I), over the top level z2 with two levels, where z1 then comes
        from the model's p(z1|z2). It is the prior only when the prior is
        standard. A learned prior is fitted to the anchor's draws rather than
        drawing them itself, which would reward it for shrinking its own
        entropy; for the same reason the draws carry no gradient.

        Parameters
        ----------
        n_samples : int
            Number of rows to draw.
        generator : torch.Generator or None
            Source of the noise, on the model's device; None uses torch's
            global random state.

        Returns
        -------
        torch.Tensor of shape (n_samples, n_components)
            The draws.
        """
        z_top = standard_normal_sample(
            n_samples, self.n_top_components, generator, self.input_offset
        )
        return self._down_the_chain(z_top, generator).detach()

    def shared_prior_pass(self) -> contextlib.AbstractContextManager:
        """A block in which the prior's own network pass runs once.

        A VampPrior encodes its pseudo-inputs once for every evaluation and
        draw in the block (one training step); other priors need nothing.

        Returns
        -------
        contextlib.AbstractContextManager
            The prior's :meth:`Prior.shared_pass`.
        """
        return self.prior.shared_pass()

    def prior_entropy(self, z: torch.Tensor) -> torch.Tensor:
        """H(z) of the prior: exact when known, else estimated from draws.

        Without a closed form (:meth:`Prior.entropy` returns None), the
        estimate is ``-log p(z)`` of each draw ``z ~ p(z)``, unbiased.

        Parameters
        ----------
        z : torch.Tensor of shape (n_draws, n_components)
            Draws from the prior; unused when the entropy is known.

        Returns
        -------
        torch.Tensor of shape () or (n_draws,)
            The entropy in nats, or its estimate from each draw.
        """
        entropy = self.prior.entropy() if self.latent_levels == 1 else None
        return -self.log_p_z(z) if entropy is None else entropy

    def initialize_prior(self, x: torch.Tensor) -> None:
        """Let the prior start from training rows ``x``, in working units.

        A VampPrior's pseudo-inputs start there; other priors ignore them.

        Parameters
        ----------
        x : torch.Tensor of shape (n_start_rows, n_features)
            Distinct training rows, as many as the prior's
            :attr:`Prior.n_start_rows`.
        """
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

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.
        x : torch.Tensor of shape (..., n_features)
            Rows of data in working units, one for each code.
        frozen : bool, default=False
            Whether to keep gradients from r's weights.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-density log r(z|x) of each pair, in nats.

        Raises
        ------
        ValueError
            If the model was built without ``auxiliary_posterior``.
        """
        if self.auxiliary is None:
            raise ValueError("This model was built without auxiliary_posterior.")
        x = self._network_input(self.likelihood.encoder_input(x), self._observed(x))
        if frozen:
            weights = {k: v.detach() for k, v in self.auxiliary.named_parameters()}
            output = torch.func.functional_call(self.auxiliary, weights, (x,))
        else:
            output = self.auxiliary(x)
        return gaussian_log_prob(z, *self._gaussian_parameters(output))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decode z into the parameters of p(x|z), as the likelihood reads them.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (..., n_outputs)
            The decoder's output for each code; ``n_outputs`` is the
            likelihood's :meth:`Likelihood.n_outputs`.
        """
        return self.decoder(z)

    def reconstruct(self, z: torch.Tensor) -> torch.Tensor:
        """The decoded rows of ``z``, in working units.

        The mean of p(x|z), or the most probable category codes (see
        :meth:`Likelihood.reconstruction`).

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One decoded row for each code.

        Examples
        --------
        >>> from mim_sklearn.nn import BernoulliLikelihood
        >>> model = LatentVariableModel(4, 2, (8,), "tanh",
        ...                             likelihood=BernoulliLikelihood())
        >>> x = model.reconstruct(torch.zeros(3, 2))  # probabilities
        >>> x.shape, bool(((x > 0) & (x < 1)).all())
        (torch.Size([3, 4]), True)
        """
        return self.likelihood.reconstruction(self.decode(z))

    def sample_x_given_z(
        self, z: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw one x ~ p(x|z) for each row of ``z``, in working units.

        Parameters
        ----------
        z : torch.Tensor of shape (..., n_components)
            Latent codes.
        generator : torch.Generator or None
            Source of the noise, on the model's device; None uses torch's
            global random state.

        Returns
        -------
        torch.Tensor of shape (..., n_features)
            One draw for each code.

        Examples
        --------
        >>> from mim_sklearn.nn import BernoulliLikelihood
        >>> model = LatentVariableModel(4, 2, (8,), "tanh",
        ...                             likelihood=BernoulliLikelihood())
        >>> generator = torch.Generator().manual_seed(0)
        >>> x = model.sample_x_given_z(torch.zeros(3, 2), generator)
        >>> x.shape, bool(((x == 0) | (x == 1)).all())  # 0/1 draws
        (torch.Size([3, 4]), True)
        """
        return self.likelihood.sample(self.decode(z), generator)

    def log_p_x_given_z(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Log-density of p(x|z) at ``x``, given decoded parameters.

        Parameters
        ----------
        x : torch.Tensor of shape (..., n_features)
            Rows of data, in working units.
        params : torch.Tensor of shape (..., n_outputs)
            The output of :meth:`decode`, broadcast against ``x``.

        Returns
        -------
        torch.Tensor of shape (...)
            The log-probability of each row, in nats.
        """
        return self.likelihood.log_prob(x, params)

    def importance_log_likelihood(
        self,
        x: torch.Tensor,
        n_draws: int,
        generator: torch.Generator | None,
        posterior: Posterior | None = None,
        shared_noise: bool = False,
    ) -> torch.Tensor:
        """Importance-sampled log p(x) of each row, with q(z|x) as proposal.

        ``logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K``,
        batched over rows and the K = ``n_draws`` draws. With one draw it is
        the estimate of the marginal data prior log q(x) that MIM trains
        with; ``posterior``, the :meth:`posterior` of ``x``, saves encoding
        ``x`` again when the caller has it. ``shared_noise`` (every row's
        draws from the same standard normal noise) makes each row's estimate
        independent of which other rows share its batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n_rows, n_features)
            Rows of data, in working units.
        n_draws : int
            Number K of draws from q(z|x) per row.
        generator : torch.Generator or None
            Source of the noise, on the model's device; None uses torch's
            global random state.
        posterior : GaussianPosterior or TwoLevelPosterior or None, default=None
            The :meth:`posterior` of ``x``; None encodes ``x``.
        shared_noise : bool, default=False
            Whether every row uses the same standard normal draws.

        Returns
        -------
        torch.Tensor of shape (n_rows,)
            The estimate of log p(x) of each row, in nats.
        """
        log_weights, _ = self.importance_weights(
            x, n_draws, generator, posterior, shared_noise
        )
        return torch.logsumexp(log_weights, dim=0) - math.log(n_draws)

    def importance_weights(
        self,
        x: torch.Tensor,
        n_draws: int,
        generator: torch.Generator | None,
        posterior: Posterior | None = None,
        shared_noise: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log importance weights of draws z_k ~ q(z|x), and their decodings.

        ``log p(x|z_k) + log p(z_k) - log q(z_k|x)`` for each row and draw;
        the arguments are those of :meth:`importance_log_likelihood`, which
        averages the weights.

        Parameters
        ----------
        x : torch.Tensor of shape (n_rows, n_features)
            Rows of data, in working units; NaN marks a missing entry.
        n_draws : int
            Number K of draws from q(z|x) per row.
        generator : torch.Generator or None
            Source of the noise, on the model's device.
        posterior : GaussianPosterior or TwoLevelPosterior or None, default=None
            The :meth:`posterior` of ``x``; None encodes ``x``.
        shared_noise : bool, default=False
            Whether every row uses the same standard normal draws.

        Returns
        -------
        log_weights : torch.Tensor of shape (n_draws, n_rows)
            The log importance weight of each draw for each row.
        params : torch.Tensor of shape (n_draws, n_rows, n_outputs)
            The decoder's output for each draw.

        Examples
        --------
        >>> model = LatentVariableModel(3, 2, (8,), "tanh")
        >>> log_weights, params = model.importance_weights(torch.zeros(4, 3), 16, None)
        >>> log_weights.shape, params.shape
        (torch.Size([16, 4]), torch.Size([16, 4, 3]))
        """
        posterior = self.posterior(x) if posterior is None else posterior
        z, log_q_z_given_x = posterior.rsample_with_log_prob(
            generator, n_draws, shared_noise
        )
        params = self.decode(z)
        log_weights = (
            self.log_p_x_given_z(x, params) + self.log_p_z(z) - log_q_z_given_x
        )
        return log_weights, params

    def conditional_reconstruction(
        self,
        x: torch.Tensor,
        n_draws: int,
        generator: torch.Generator | None,
        shared_noise: bool = False,
    ) -> torch.Tensor:
        """Each row reconstructed from its observed entries, by importance sampling.

        The reconstruction of the model's p(x | x_observed), estimated as the
        mixture ``sum_k w_k p(x|z_k)`` with self-normalised importance
        weights w_k of draws z_k ~ q(z|x) (see :meth:`importance_weights`):
        for numbers, the conditional mean of each missing entry given the
        observed ones (MIWAE's imputation, Mattei & Frellsen 2019).

        Parameters
        ----------
        x : torch.Tensor of shape (n_rows, n_features)
            Rows of data, in working units; NaN marks a missing entry.
        n_draws : int
            Number K of draws from q(z|x) per row.
        generator : torch.Generator or None
            Source of the noise, on the model's device.
        shared_noise : bool, default=False
            Whether every row uses the same standard normal draws.

        Returns
        -------
        torch.Tensor of shape (n_rows, n_features)
            The reconstructed rows, in working units (see
            :meth:`Likelihood.expected_reconstruction`).

        Examples
        --------
        >>> model = LatentVariableModel(3, 2, (8,), "tanh")
        >>> x = torch.tensor([[0.5, float("nan"), -1.0]])
        >>> model.conditional_reconstruction(x, 16, None).shape
        torch.Size([1, 3])
        """
        log_weights, params = self.importance_weights(
            x, n_draws, generator, shared_noise=shared_noise
        )
        weights = torch.softmax(log_weights, dim=0)
        return self.likelihood.expected_reconstruction(params, weights)
