"""Training objectives: MIM, asymmetric MIM, the VAE and the mutual autoencoder.

Each objective is a plain function ``objective(model, x, *, beta, generator,
weights)`` returning the scalar loss to minimise and a dict of its named terms
(the detached log-probabilities of each pair, unweighted; the training engine
records their epoch means in the history). ``weights``, one per data row,
multiply the losses of the encoder-sampled pairs (x from the data, so one per
row) in their mean, ``(weights * pair_loss).mean()``; pairs drawn from the
model (MIM's decoder-sampled pairs, the mutual autoencoder's information
bound) belong to no row and keep their plain mean. An estimator declares
what it trains as an :class:`Objective`: the function, its options and what
it needs of the model. The per-pair losses are pure functions of
log-probabilities so they can be checked against a hand computation.

``beta`` is the warm-up weight, ramped from 0 to 1 over the first epochs.
MIM and A-MIM raise the prior to the power ``beta`` (p(z)^beta in the
decoding joint and in the marginal q(x)), as the MIM paper's reference code
does: with the marginal q(x), an encoder-sampled pair's loss is
``-(log p(x|z) + beta log p(z))``, so the prior's weight against the
reconstruction really ramps from 0. (A weight on the encoding joint's
cross-entropy instead would only rescale that loss, which Adam ignores.)
MIM's decoder-sampled pairs join once the warm-up is over. The VAE weights
its KL term (the usual KL annealing). During the warm-up (``beta < 1``) MIM's
fixed latent anchor N(0, I) stands in for the prior p(z) in every objective;
with the standard prior that changes nothing, and a learned prior (a mixture,
the VampPrior) takes over once the warm-up ends. A learned prior from the
first step pulls the codes towards its components (encoder posteriors, as
narrow as the variance floor, for the VampPrior) before the reconstruction
has spread them, and A-MIM's and MIM's codes collapsed (issue 30): the
anchor holds their scale meanwhile. At ``beta=1`` every objective is exactly
its paper's loss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from .nn.model import LatentVariableModel

Terms = dict[str, torch.Tensor]
ObjectiveFunction = Callable[..., tuple[torch.Tensor, Terms]]

# Decoder-sampled pairs behind the mutual autoencoder's fitted ``mutual_info_``
# estimate: its standard error is then about 0.01 nats.
MUTUAL_INFO_PAIRS = 2**14
# Decoder-sampled pairs behind the mutual autoencoder's information bound in a
# training step, at least: they come from the model, not from the batch's rows,
# and the squared penalty of a bound estimated from a small batch's pairs is
# biased by its variance (at 16 pairs, digits held 1.1-1.2 nats for a target
# of 1). 128 is the MIM paper's batch.
MIN_INFORMATION_PAIRS = 128


@dataclass(frozen=True)
class Objective:
    """What an estimator trains: the loss and what it needs of the model.

    Parameters
    ----------
    function : callable
        ``function(model, x, *, beta, generator, weights, **options)``
        returning the loss and its terms, such as :func:`mim_objective`.
    options : mapping, default={}
        Keyword arguments of ``function`` beyond the standard ones (the
        mutual autoencoder's target, for example).
    auxiliary_posterior : bool, default=False
        Whether the model needs the auxiliary encoder r(z|x).
    samples_decoder : bool, default=False
        Whether training draws x from the decoder p(x|z) (or its mean),
        which a likelihood with ``sequential_sampling`` (the PixelCNN's)
        does one pixel at a time.
    fitted_attributes : callable or None, default=None
        ``fitted_attributes(model, generator)`` returns the estimator's
        objective-specific fitted attributes (name to float), computed after
        each training run.

    Examples
    --------
    >>> objective = Objective(vae_objective)
    >>> loss, terms = objective(LatentVariableModel(3, 2, (4,), "tanh"),
    ...                         torch.zeros(5, 3))
    >>> sorted(terms)
    ['enc_log_p_x_given_z', 'enc_log_p_z', 'enc_log_q_z_given_x']
    """

    function: ObjectiveFunction
    options: Mapping[str, float] = field(default_factory=dict)
    auxiliary_posterior: bool = False
    samples_decoder: bool = False
    fitted_attributes: Callable[
        [LatentVariableModel, torch.Generator], dict[str, float]
    ] | None = None

    def __call__(
        self,
        model: LatentVariableModel,
        x: torch.Tensor,
        *,
        beta: float = 1.0,
        generator: torch.Generator | None = None,
        weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Terms]:
        """The loss on a batch ``x`` (in working units) and its terms.

        Calls ``function`` with ``options``, inside the model's
        :meth:`~mim_sklearn.nn.LatentVariableModel.shared_prior_pass`.

        Parameters
        ----------
        model : LatentVariableModel
            The model to evaluate.
        x : torch.Tensor of shape (n_rows, n_features)
            A batch of data, in working units.
        beta : float, default=1.0
            Warm-up weight (see the module docstring).
        generator : torch.Generator or None, default=None
            Source of the noise.
        weights : torch.Tensor of shape (n_rows,) or None, default=None
            Weight of each row's loss (see the module docstring); None
            weighs every row 1.

        Returns
        -------
        loss : torch.Tensor
            Scalar loss.
        terms : dict of str to torch.Tensor
            The named terms that ``function`` returns.
        """
        with model.shared_prior_pass():
            return self.function(model, x, beta=beta, generator=generator,
                                 weights=weights, **self.options)


def mim_pair_loss(
    log_p_x_given_z: torch.Tensor,
    log_p_z: torch.Tensor,
    log_q_z_given_x: torch.Tensor,
    log_q_x: torch.Tensor,
) -> torch.Tensor:
    """MIM loss of each (x, z) pair drawn from the sample mixture.

    The mean of the cross-entropies to the decoding joint p(x, z) and to the
    encoding joint q(x, z) (the MIM paper's eq. 8), evaluated at one pair:
    ``-1/2 (log p(x|z) + log p(z) + log q(z|x) + log q(x))``.

    Parameters
    ----------
    log_p_x_given_z, log_p_z, log_q_z_given_x, log_q_x : torch.Tensor
        Log-probabilities of each pair, shape ``(n_pairs,)``.

    Returns
    -------
    torch.Tensor
        The loss of each pair, shape ``(n_pairs,)``.

    Examples
    --------
    >>> one = torch.ones(1)
    >>> mim_pair_loss(-one, -one, -one, -one)
    tensor([2.])
    """
    return -0.5 * (log_p_x_given_z + log_p_z + log_q_z_given_x + log_q_x)


def vae_pair_loss(
    log_p_x_given_z: torch.Tensor,
    log_p_z: torch.Tensor,
    log_q_z_given_x: torch.Tensor,
    beta: float = 1.0,
) -> torch.Tensor:
    """Negative ELBO of each encoder-sampled pair (x, z ~ q(z|x)).

    ``-(log p(x|z) + beta (log p(z) - log q(z|x)))``.

    Parameters
    ----------
    log_p_x_given_z, log_p_z, log_q_z_given_x : torch.Tensor
        Log-probabilities of each pair, shape ``(n_pairs,)``.
    beta : float, default=1.0
        Warm-up weight of the KL term.

    Returns
    -------
    torch.Tensor
        The loss of each pair, shape ``(n_pairs,)``.

    Examples
    --------
    >>> one = torch.ones(1)
    >>> vae_pair_loss(-one, -2 * one, -one)
    tensor([2.])
    """
    return -(log_p_x_given_z + beta * (log_p_z - log_q_z_given_x))


def score_function_surrogate(
    values: torch.Tensor, log_prob: torch.Tensor
) -> torch.Tensor:
    """Add the score-function (REINFORCE) gradient of discrete draws to ``values``.

    For draws x ~ p(x) that no gradient can flow through, the gradient of
    E[f(x)] is E[(f(x) - b) grad log p(x)]. The returned tensor equals
    ``values`` but its gradient adds that term, with a leave-one-out baseline
    b (the mean of the other draws' values), which lowers the variance and,
    independent of the draw it multiplies, keeps the estimate unbiased.

    Parameters
    ----------
    values : torch.Tensor of shape (n_draws,)
        The value f(x) of each draw (with whatever gradient it has besides).
    log_prob : torch.Tensor of shape (n_draws,)
        The log-probability log p(x) of each draw, differentiable in p's
        parameters.

    Returns
    -------
    torch.Tensor of shape (n_draws,)
        ``values``, with the score-function term in its gradient.

    Examples
    --------
    >>> logits = torch.zeros(2, requires_grad=True)
    >>> log_p = torch.log_softmax(logits, 0)[torch.tensor([0, 1])]
    >>> score_function_surrogate(torch.tensor([1.0, 3.0]), log_p)
    tensor([1., 3.], grad_fn=<AddBackward0>)
    """
    reward = values.detach()
    n_draws = reward.shape[0]
    if n_draws < 2:
        baseline = torch.zeros_like(reward)
    else:
        baseline = (reward.sum() - reward) / (n_draws - 1)
    return values + (reward - baseline) * (log_prob - log_prob.detach())


def encoder_sampled_terms(
    model: LatentVariableModel,
    x: torch.Tensor,
    generator: torch.Generator | None,
    prior_weight: float = 1.0,
    anchor: bool = False,
) -> Terms:
    """Compute the log-probabilities of pairs x from the data, z ~ q(z|x).

    log q(x) is the one-sample importance estimate with the same draw z, so
    that log q(z|x) cancels in the MIM loss of these pairs (the MIM paper's
    Algorithm 2).

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_pairs, n_features)
        Data rows.
    generator : torch.Generator or None
        Source of the noise, on ``x``'s device.
    prior_weight : float, default=1.0
        The warm-up's power of the prior: ``log_p_z`` is ``prior_weight *
        log p(z)``, and log q(x) the decoder's marginal under that prior.
    anchor : bool, default=False
        Whether MIM's fixed anchor N(0, I) stands in for the prior p(z)
        (see :meth:`~mim_sklearn.nn.LatentVariableModel.log_p_anchor`), as
        it does during the warm-up.

    Returns
    -------
    dict of str to torch.Tensor
        ``log_p_x_given_z``, ``log_p_z``, ``log_q_z_given_x`` and ``log_q_x``,
        each of shape ``(n_pairs,)``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> terms = encoder_sampled_terms(model, torch.zeros(5, 3), None)
    >>> sorted(terms)
    ['log_p_x_given_z', 'log_p_z', 'log_q_x', 'log_q_z_given_x']
    """
    z, log_q_z_given_x = model.posterior(x).rsample_with_log_prob(generator)
    log_p_x_given_z = model.log_p_x_given_z(x, model.decode(z))
    log_p_z = prior_weight * (model.log_p_anchor(z) if anchor else model.log_p_z(z))
    return {
        "log_p_x_given_z": log_p_x_given_z,
        "log_p_z": log_p_z,
        "log_q_z_given_x": log_q_z_given_x,
        "log_q_x": log_p_x_given_z + log_p_z - log_q_z_given_x,
    }


def decoder_sampled_terms(
    model: LatentVariableModel, n_pairs: int, generator: torch.Generator | None
) -> Terms:
    """Compute the log-probabilities of pairs z ~ P(z), x from p(x|z).

    z comes from MIM's anchor P(z) = N(0, I) (the sample distribution's
    latent half; with two latent levels, over z2, and z1 from the model's
    p(z1|z2)), whatever the prior p(z) that scores it.

    Continuous x is drawn with the reparameterisation trick, so gradients
    reach the decoder through the sample, and log q(x) is a one-sample
    importance estimate with a fresh draw z' ~ q(z|x).

    Discrete x is the decoder's mean, detached (pixel probabilities; for
    categorical data, category probabilities where the encoder reads one-hot
    codes), and log q(x) is log p(x|z) at the anchor's z, as the MIM paper's
    reference code does. Through a detached mean, log p(x|z) has no gradient
    in the decoder's output, so these pairs train the encoder (to invert the
    decoder) and the prior, and never the decoder: a decoder trained at its
    own discrete draws would be rewarded for lowering its entropy, until its
    outputs saturate.

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    n_pairs : int
        Number of pairs to draw.
    generator : torch.Generator or None
        Source of the noise, on the model's device.

    Returns
    -------
    dict of str to torch.Tensor
        As :func:`encoder_sampled_terms`.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> decoder_sampled_terms(model, 5, None)["log_q_x"].shape
    torch.Size([5])
    """
    z = model.sample_anchor(n_pairs, generator)
    params = model.decode(z)
    likelihood = model.likelihood
    if likelihood.discrete:
        inputs = likelihood.expected_encoder_input(params).detach()
        log_p_x_given_z = likelihood.log_prob_of_encoder_input(inputs, params)
        log_q_x = log_p_x_given_z
        posterior = model.posterior_of_inputs(inputs)
    else:
        x = likelihood.sample(params, generator)
        log_p_x_given_z = model.log_p_x_given_z(x, params)
        posterior = model.posterior(x)
        log_q_x = model.importance_log_likelihood(
            x, 1, generator, posterior=posterior
        )
    return {
        "log_p_x_given_z": log_p_x_given_z,
        "log_p_z": model.log_p_z(z),
        "log_q_z_given_x": posterior.log_prob(z),
        "log_q_x": log_q_x,
    }


def _detached(terms: Terms, prefix: str) -> Terms:
    return {f"{prefix}{name}": value.detach() for name, value in terms.items()}


def _row_mean(pair_loss: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of the data rows' pair losses, each times its row's weight.

    Without weights it is the plain mean, computed as it always was (no
    multiplication by ones).
    """
    return pair_loss.mean() if weights is None else (weights * pair_loss).mean()


def mim_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Terms]:
    """Symmetric MIM: half the pairs encoder-sampled, half decoder-sampled.

    One decoder-sampled pair is drawn for each data row, and the loss is the
    mean of :func:`mim_pair_loss` over all pairs. During the warm-up
    (``beta < 1``) only the encoder-sampled pairs are used, with the prior
    raised to the power ``beta``: the loss is then :func:`amim_objective`'s.

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_rows, n_features)
        A batch of data.
    beta : float, default=1.0
        Warm-up weight (see the module docstring).
    generator : torch.Generator or None, default=None
        Source of the noise.
    weights : torch.Tensor of shape (n_rows,) or None, default=None
        Weight of each data row's pair loss; None weighs every row 1.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss.
    terms : dict of str to torch.Tensor
        The detached log-probabilities of each pair, prefixed ``enc_`` and
        (after the warm-up) ``dec_``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, terms = mim_objective(model, torch.zeros(5, 3))
    >>> loss.shape
    torch.Size([])
    """
    if beta < 1.0:
        return amim_objective(model, x, beta=beta, generator=generator,
                              weights=weights)
    encoder_terms = encoder_sampled_terms(model, x, generator)
    decoder_terms = decoder_sampled_terms(model, x.shape[0], generator)
    loss = 0.5 * (
        _row_mean(mim_pair_loss(**encoder_terms), weights)
        + mim_pair_loss(**decoder_terms).mean()
    )
    return loss, {
        **_detached(encoder_terms, "enc_"),
        **_detached(decoder_terms, "dec_"),
    }


def amim_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Terms]:
    """Asymmetric MIM (the MIM paper's eq. 12): encoder-sampled pairs only.

    The loss is the mean of :func:`mim_pair_loss` over one encoder-sampled
    pair per data row, with the prior raised to the power ``beta``.

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_rows, n_features)
        A batch of data.
    beta : float, default=1.0
        Warm-up weight: the power of the prior (see the module docstring).
    generator : torch.Generator or None, default=None
        Source of the noise.
    weights : torch.Tensor of shape (n_rows,) or None, default=None
        Weight of each data row's pair loss; None weighs every row 1.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss.
    terms : dict of str to torch.Tensor
        The detached log-probabilities of each pair, prefixed ``enc_``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, terms = amim_objective(model, torch.zeros(5, 3))
    >>> sorted(terms)[0]
    'enc_log_p_x_given_z'
    """
    terms = encoder_sampled_terms(model, x, generator, prior_weight=beta,
                                  anchor=beta < 1.0)
    return _row_mean(mim_pair_loss(**terms), weights), _detached(terms, "enc_")


def vae_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Terms]:
    """The VAE's negative ELBO on encoder-sampled pairs.

    The loss is the mean of :func:`vae_pair_loss` over one pair per data
    row.

    Parameters
    ----------
    model : LatentVariableModel
        The model.
    x : torch.Tensor of shape (n_rows, n_features)
        A batch of data.
    beta : float, default=1.0
        Warm-up weight of the KL term.
    generator : torch.Generator or None, default=None
        Source of the noise.
    weights : torch.Tensor of shape (n_rows,) or None, default=None
        Weight of each data row's pair loss; None weighs every row 1.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss.
    terms : dict of str to torch.Tensor
        The detached log-probabilities of each pair, prefixed ``enc_``
        (without ``log_q_x``, which the VAE does not use).

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh")
    >>> loss, _ = vae_objective(model, torch.zeros(5, 3))
    >>> bool(torch.isfinite(loss))
    True
    """
    terms = encoder_sampled_terms(model, x, generator, anchor=beta < 1.0)
    terms.pop("log_q_x")
    return (
        _row_mean(vae_pair_loss(**terms, beta=beta), weights),
        _detached(terms, "enc_"),
    )


def decoder_information_terms(
    model: LatentVariableModel, n_pairs: int, generator: torch.Generator | None
) -> Terms:
    """The variational infomax bound on I_p(x; z) from decoder-sampled pairs.

    With z ~ p(z) and x ~ p(x|z) (reparameterised), ``I_p(x; z) >= H(z) +
    E[log r(z|x)]`` for any distribution r (the mutual autoencoder's bound,
    after Barber and Agakov; discrete draws get the score-function gradient).
    Returns per-pair terms for two uses:
    ``bound`` (r's weights frozen, gradients reach the decoder through x) and
    ``log_r_fit`` (x and z detached, gradients reach r only), so that the
    constraint moves the decoder and r only ever tightens the bound.

    Parameters
    ----------
    model : LatentVariableModel
        A model built with ``auxiliary_posterior=True``.
    n_pairs : int
        Number of pairs to draw.
    generator : torch.Generator or None
        Source of the noise, on the model's device.

    Returns
    -------
    dict of str to torch.Tensor
        ``bound`` and ``log_r_fit``, each of shape ``(n_pairs,)``.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh", auxiliary_posterior=True)
    >>> decoder_information_terms(model, 5, None)["bound"].shape
    torch.Size([5])
    """
    z = model.sample_prior(n_pairs, generator)
    params = model.decode(z)
    x = model.likelihood.sample(params, generator)
    bound = model.prior_entropy(z) + model.log_r_z_given_x(z, x, frozen=True)
    if model.likelihood.discrete:
        bound = score_function_surrogate(bound, model.log_p_x_given_z(x, params))
    return {"bound": bound, "log_r_fit": model.log_r_z_given_x(z.detach(), x.detach())}


def mae_objective(
    model: LatentVariableModel,
    x: torch.Tensor,
    *,
    beta: float = 1.0,
    generator: torch.Generator | None = None,
    weights: torch.Tensor | None = None,
    target_mutual_info: float,
    mi_penalty: float,
) -> tuple[torch.Tensor, Terms]:
    """The mutual autoencoder: the ELBO with I_p(x; z) held at a target.

    ``-ELBO + mi_penalty * (I_hat - target_mutual_info)**2 - mean log r``,
    where ``I_hat`` is the batch mean of the bound of
    :func:`decoder_information_terms` on as many decoder-sampled pairs as
    data rows, and the last term fits the auxiliary posterior r(z|x). A
    quadratic penalty rather than a Lagrange multiplier: it needs no second
    optimiser, and at the optimum it leaves ``I_hat`` off the target by an
    amount that shrinks as ``1 / mi_penalty``.

    Parameters
    ----------
    model : LatentVariableModel
        A model built with ``auxiliary_posterior=True``.
    x : torch.Tensor of shape (n_rows, n_features)
        A batch of data.
    beta : float, default=1.0
        Warm-up weight of the ELBO's KL term.
    generator : torch.Generator or None, default=None
        Source of the noise.
    weights : torch.Tensor of shape (n_rows,) or None, default=None
        Weight of each data row's pair loss; None weighs every row 1.
    target_mutual_info : float
        The target M of I_p(x; z), in nats.
    mi_penalty : float
        Weight of the squared deviation from the target.

    Returns
    -------
    loss : torch.Tensor
        Scalar loss.
    terms : dict of str to torch.Tensor
        Detached: the ELBO's terms (prefixed ``enc_``) and the bound of each
        decoder-sampled pair (``dec_bound``).

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh", auxiliary_posterior=True)
    >>> loss, terms = mae_objective(model, torch.zeros(5, 3), target_mutual_info=1.0,
    ...                             mi_penalty=10.0)
    >>> sorted(terms)[-1]
    'enc_log_q_z_given_x'
    """
    elbo_terms = encoder_sampled_terms(model, x, generator, anchor=beta < 1.0)
    elbo_terms.pop("log_q_x")
    information = decoder_information_terms(
        model, max(x.shape[0], MIN_INFORMATION_PAIRS), generator
    )
    deviation = information["bound"].mean() - target_mutual_info
    loss = (
        _row_mean(vae_pair_loss(**elbo_terms, beta=beta), weights)
        + mi_penalty * deviation.square()
        - information["log_r_fit"].mean()
    )
    return loss, {
        **_detached(elbo_terms, "enc_"),
        "dec_bound": information["bound"].detach(),
    }


def mutual_information_bound(
    model: LatentVariableModel, generator: torch.Generator
) -> dict[str, float]:
    """The mutual autoencoder's fitted bound on I_p(x; z), as ``mutual_info_``.

    The mean of :func:`decoder_information_terms`' ``bound`` over
    ``MUTUAL_INFO_PAIRS`` decoder-sampled pairs (standard error about 0.01
    nats).

    Parameters
    ----------
    model : LatentVariableModel
        A model built with ``auxiliary_posterior=True``; it is left in
        evaluation mode.
    generator : torch.Generator
        Source of the noise, on the model's device.

    Returns
    -------
    dict of str to float
        ``{"mutual_info_": bound}``, the bound in nats.

    Examples
    --------
    >>> model = LatentVariableModel(3, 2, (4,), "tanh", auxiliary_posterior=True)
    >>> sorted(mutual_information_bound(model, torch.Generator().manual_seed(0)))
    ['mutual_info_']
    """
    model.eval()
    with torch.inference_mode():
        terms = decoder_information_terms(model, MUTUAL_INFO_PAIRS, generator)
    return {"mutual_info_": float(terms["bound"].mean())}
