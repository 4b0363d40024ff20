"""The public estimators: each is the shared base plus one objective."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import BaseLatentEncoder
from .objectives import (
    Objective,
    amim_objective,
    mae_objective,
    mim_objective,
    mutual_information_bound,
    vae_objective,
)

_PARAMETERS = """\
    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z.
    hidden_layer_sizes : array-like of int, default=(128, 128)
        Hidden widths of the encoder network; the decoder mirrors them.
    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
        Hidden nonlinearity (the MIM paper uses tanh).
    architecture : {"mlp", "conv"} or callable, default="mlp"
        The encoder and decoder networks. "mlp": fully connected, with
        ``hidden_layer_sizes``. "conv": for rows that are flattened images of
        ``image_shape``, two stride-2 convolutions (32 and 64 channels) then
        ``hidden_layer_sizes`` in the encoder, mirrored with transposed
        convolutions in the decoder (Gaussian and Bernoulli likelihoods). A
        callable builds your own networks: see
        :mod:`mim_sklearn.nn.architectures` for its contract.
    image_shape : tuple of (int, int, int) or None, default=None
        ``(channels, height, width)`` of each row of X; needed by "conv".
    likelihood : {"gaussian", "bernoulli", "categorical"} or Likelihood, \
            default="gaussian"
        Decoder distribution p(x|z). An unbuilt
        :class:`~mim_sklearn.nn.Likelihood` instance (such as
        ``GaussianLikelihood(min_log_var=-8.0)``, or a subclass of your own)
        is used as given: each fit trains a copy, built for X's features.
        "gaussian": a diagonal Gaussian with a
        learned per-feature variance, floored at exp(-6) in the working units
        (see ``scaling``). "bernoulli": X in [0, 1] (binary, or read as
        probabilities); :meth:`sample` returns 0/1 and
        :meth:`inverse_transform` the probabilities. "categorical": each column of X holds integer
        category codes 0 to K_j - 1 (K_j learned in ``fit``), modelled as
        independent categorical variables; the encoders see them one-hot,
        ``scaling`` does not apply, :meth:`sample` returns codes and
        :meth:`inverse_transform` the most probable code. Both discrete
        likelihoods use X as it is (no ``scaling``). MIM's decoder-sampled
        pairs use the decoder's mean for them (see Notes of
        :class:`MIMEncoder`); the mutual autoencoder trains its decoder draws
        with the score-function (REINFORCE) estimator.
    decoder_variance : {"shared", "decoded"}, default="shared"
        The variance of the "gaussian" likelihood: "shared", one learned
        variance per feature for every z; "decoded", the decoder outputs a
        variance per feature for each z beside the mean (the MIM paper's
        reference code for its toy data). Ignored by the discrete
        likelihoods and by a likelihood instance.
    prior : {"standard", "mog", "vamp"} or Prior, default="standard"
        Latent prior p(z). An unbuilt :class:`~mim_sklearn.nn.Prior`
        instance (such as ``VampPrior(n_prior_components=500)``, or a
        subclass of your own) is used as given, as for ``likelihood``;
        ``n_prior_components`` then does not apply. "standard" is N(0, I);
        "mog" a learnable mixture
        of ``n_prior_components`` diagonal Gaussians; "vamp" the VampPrior,
        the mean of the encoder's posteriors at ``n_prior_components``
        learnable pseudo-inputs that start at random training rows. MIM's
        decoder-sampled pairs draw z from its fixed anchor N(0, I) whatever
        the prior, as the MIM paper defines its sample distribution.
    n_prior_components : int, default=100
        Components of the "mog" and "vamp" priors (the MIM paper uses 500
        for images); ignored by "standard". The VampPrior needs at least as
        many training rows.
    scaling : {"global", "feature"}, default="global"
        How X is brought to working units before it reaches the networks.
        "global" centres each feature and divides every feature by one
        common scale, keeping their relative variances (right for pixels and
        other features sharing a unit); "feature" standardises each feature
        on its own (for features in unrelated units).
    max_iter : int, default=200
        Maximum number of epochs.
    batch_size : int, default=160
        Rows per optimisation step.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_grad_norm : float or None, default=None
        When set, the gradients of each step are rescaled so that their
        joint L2 norm is at most this value (gradient clipping), a remedy
        for a training run that diverges. None leaves them as they are.
    warmup_epochs : int, default=5
        Epochs over which the warm-up weight of the objective rises linearly
        from 0 to 1 (see Notes). Early stopping ignores these epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop when the
        held-out loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, then restore the best epoch's weights. When False, stop on the
        training loss instead and keep the last weights.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping (a shuffled split).
    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss (nats per row) that counts as
        an improvement.
    n_importance_samples : int, default=1000
        Draws from q(z|x) per row in :meth:`score_samples` and :meth:`score`.
    device : str, default="auto"
        Torch device to train and predict on; "auto" picks CUDA when a GPU is
        visible, else the CPU.
    warm_start : bool, default=False
        When True, ``fit`` continues from the fitted model instead of
        starting anew.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the split, the batch order and all sampling. An
        int makes results reproducible on the CPU.
    verbose : int, default=0
        0: silent. 1: a progress bar (tqdm's, a widget in Jupyter) with the
        epochs done, the last losses and the time left. 2 or more: a table
        with a line per epoch (the losses, the warm-up weight, the time).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen during ``fit``, when X has string column
        names.
    mean_ : ndarray of shape (``n_features_in_``,)
        Per-feature mean subtracted from X before it reaches the networks.
    scale_ : ndarray of shape (``n_features_in_``,)
        Per-feature divisor applied after centring (see ``scaling``).
    n_categories_ : ndarray of shape (``n_features_in_``,)
        Categories of each feature; only with ``likelihood="categorical"``.
    n_iter_ : int
        Epochs trained so far.
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float or None
        Held-out objective of each epoch, negated so that greater is better;
        None without early stopping.
    best_loss_ : float
        Best monitored loss after the warm-up (held-out with early stopping,
        else training).
    device_ : str
        The device used.
    model_ : mim_sklearn.nn.LatentVariableModel
        The trained torch model.
    net_ : skorch.NeuralNet
        The training engine. Its ``history`` holds, for each epoch, the mean
        training and held-out losses, the warm-up weight ``beta`` and the
        mean of each term of the objective (such as
        ``train_enc_log_p_x_given_z``, the reconstruction term of the
        encoder-sampled pairs).
"""

_NOTES = """\
    Notes
    -----
    X is centred and scaled internally (``scaling``); :meth:`score_samples`
    adds the log-Jacobian of that map, so it is a log-density of X in its
    own units, and :meth:`inverse_transform` and :meth:`sample` return X's
    units.

    Training runs in float32; the other methods compute in X's floating
    dtype. A loss that becomes NaN or infinite stops training at once with a
    :class:`~mim_sklearn.exceptions.TrainingDivergedError`, leaving finite
    weights. Save a fitted estimator with :func:`mim_sklearn.save`, which
    stores no code, or with pickle.
"""


def _docstring(
    summary: str,
    notes: str,
    example: str,
    parameters: str = "",
    attributes: str = "",
    reference: str = (
        "    .. [1] M. Livne, K. Swersky, D. J. Fleet. \"MIM: Mutual Information\n"
        "       Machine.\" arXiv:1910.03175, 2019.\n"
    ),
) -> str:
    first_parameter = "        Dimension of the latent code z.\n"
    documented = _PARAMETERS.replace(first_parameter, first_parameter + parameters)
    return f"{summary}\n\n{documented}{attributes}\n    See Also\n    --------\n" + (
        "    MIMEncoder : Symmetric mutual information machine.\n"
        "    AMIMEncoder : Asymmetric mutual information machine.\n"
        "    VAEEncoder : Variational autoencoder, same networks.\n"
        "    MAEEncoder : Mutual autoencoder, the ELBO at a set mutual information.\n\n"
        f"{_NOTES}{notes}\n"
        f"    References\n    ----------\n{reference}\n"
        f"    Examples\n    --------\n{example}"
    )


_EXAMPLE = """\
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import {name}
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = {name}(n_components=2, max_iter=5, random_state=0)
    >>> encoder.fit_transform(X[:200]).shape
    (200, 2)
"""


class MIMEncoder(BaseLatentEncoder):
    def _objective(self) -> Objective:
        return Objective(mim_objective)


class AMIMEncoder(BaseLatentEncoder):
    def _objective(self) -> Objective:
        return Objective(amim_objective)


class VAEEncoder(BaseLatentEncoder):
    def _objective(self) -> Objective:
        return Objective(vae_objective)


MIMEncoder.__doc__ = _docstring(
    "Representation learning with the symmetric Mutual Information Machine.",
    """
    MIM minimises the mean of the cross-entropies from the sample mixture
    1/2 (P(x) q(z|x) + P(z) p(x|z)) to the encoding joint q(z|x) q(x) and the
    decoding joint p(x|z) p(z) ([1]_, eq. 8). Each batch holds as many
    encoder-sampled pairs (x from the data, z ~ q(z|x)) as decoder-sampled
    pairs (z from the anchor N(0, I), x from p(x|z)). The data prior q(x) is
    the decoder's marginal, estimated with one importance draw (Algorithm 2).
    During the warm-up the prior enters as p(z)^beta, beta rising from 0 to
    1, so that its weight against the reconstruction ramps up, and the
    decoder-sampled pairs join once beta reaches 1 (as in the paper's
    reference code). For continuous x these pairs draw x ~ p(x|z) with the
    reparameterisation trick; for discrete x they use the decoder's mean,
    detached, with log q(x) taken as log p(x|z) at the anchor's z (the
    reference code's choice), so they train the encoder to invert the
    decoder and never push the decoder's outputs to saturation. MIM
    typically needs more epochs than a VAE and favours high mutual
    information between x and z with a consistent encoder and decoder.
""",
    _EXAMPLE.format(name="MIMEncoder"),
)
AMIMEncoder.__doc__ = _docstring(
    "Representation learning with the asymmetric Mutual Information Machine.",
    """
    A-MIM is MIM with encoder-sampled pairs only ([1]_, eq. 12): it never
    samples the decoder during training, which makes each step cheaper.
    With the marginal q(x), an encoder-sampled pair's loss is
    -(log p(x|z) + beta log p(z)), where the warm-up weight beta rises from
    0 to 1.
""",
    _EXAMPLE.format(name="AMIMEncoder"),
)
class MAEEncoder(BaseLatentEncoder):
    _parameter_constraints: dict = {
        **BaseLatentEncoder._parameter_constraints,
        "target_mutual_info": [Interval(Real, 0, None, closed="left")],
        "mi_penalty": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_components=10,
        *,
        target_mutual_info=1.0,
        mi_penalty=100.0,
        hidden_layer_sizes=(128, 128),
        activation="tanh",
        architecture="mlp",
        image_shape=None,
        likelihood="gaussian",
        decoder_variance="shared",
        prior="standard",
        n_prior_components=100,
        scaling="global",
        max_iter=200,
        batch_size=160,
        learning_rate_init=1e-3,
        max_grad_norm=None,
        warmup_epochs=5,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_importance_samples=1000,
        device="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            architecture=architecture,
            image_shape=image_shape,
            likelihood=likelihood,
            decoder_variance=decoder_variance,
            prior=prior,
            n_prior_components=n_prior_components,
            scaling=scaling,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_grad_norm=max_grad_norm,
            warmup_epochs=warmup_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            n_importance_samples=n_importance_samples,
            device=device,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.target_mutual_info = target_mutual_info
        self.mi_penalty = mi_penalty

    def _objective(self) -> Objective:
        return Objective(
            mae_objective,
            options={
                "target_mutual_info": self.target_mutual_info,
                "mi_penalty": self.mi_penalty,
            },
            auxiliary_posterior=True,
            fitted_attributes=mutual_information_bound,
        )


ESTIMATORS: tuple[type[BaseLatentEncoder], ...] = (
    MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder
)
"""The public estimator classes."""

VAEEncoder.__doc__ = _docstring(
    "Variational autoencoder with the same networks as MIMEncoder.",
    """
    Minimises the negative evidence lower bound
    -E_q[log p(x|z)] + KL(q(z|x) || p(z)); the warm-up weight multiplies the
    KL term (KL annealing). The MIM paper's baseline.
""",
    _EXAMPLE.format(name="VAEEncoder"),
)
MAEEncoder.__doc__ = _docstring(
    "The mutual autoencoder: the ELBO with the decoding mutual information held at a target.",
    """
    Maximises the evidence lower bound subject to I_p(x; z) = M, the mutual
    information of the decoding distribution p(z) p(x|z), with M =
    ``target_mutual_info`` ([2]_). I_p is bounded below by the variational
    infomax bound H(z) + E_p[log r(z|x)], where r(z|x) is an auxiliary
    Gaussian encoder (a network with the encoder's architecture, trained to
    tighten the bound) and the pairs are drawn from the decoder, one per data
    row. The constraint is a quadratic penalty, ``mi_penalty`` times the
    squared gap between the bound and M, which moves the decoder only (r is
    never made worse to meet it). Where a VAE may ignore z (its trivial
    solution, for example on 1-D standard normal data), the mutual
    autoencoder sets how much x depends on z. The warm-up weight multiplies
    the ELBO's KL term.
""",
    _EXAMPLE.format(name="MAEEncoder"),
    parameters="""\
    target_mutual_info : float, default=1.0
        The mutual information M between x and z, in nats, that the decoding
        distribution p(z) p(x|z) should carry.
    mi_penalty : float, default=100.0
        Weight of the squared gap between the bound on I_p(x; z) and
        ``target_mutual_info``. Larger values hold the target more tightly
        (the gap at the optimum shrinks as 1 / mi_penalty) at the price of a
        stiffer optimisation.
""",
    attributes="""\
    mutual_info_ : float
        The bound H(z) + E[log r(z|x)] on I_p(x; z) of the fitted model, in
        nats, from 16,384 decoder-sampled pairs (standard error about 0.01).
""",
    reference=(
        "    .. [2] M. Phuong, N. Kushman, S. Nowozin, R. Tomioka, M. Welling. \"The\n"
        "       Mutual Autoencoder: Controlling Information in Latent Code\n"
        "       Representations.\" 2018.\n"
    ),
)
