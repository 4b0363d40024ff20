"""The public estimators: each is the shared base plus one objective."""

from __future__ import annotations

from ._base import BaseLatentEncoder
from .objectives import amim_objective, mim_objective, vae_objective

_PARAMETERS = """\
    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z.
    hidden_layer_sizes : array-like of int, default=(128, 128)
        Hidden widths of the encoder network; the decoder mirrors them.
    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
        Hidden nonlinearity (the MIM paper uses tanh).
    likelihood : {"gaussian"}, default="gaussian"
        Decoder distribution p(x|z): a diagonal Gaussian with a learned
        per-feature variance, floored at exp(-6) in the working units (see ``scaling``).
    prior : {"standard"}, default="standard"
        Latent prior p(z): the standard normal.
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
        Print a line per epoch when positive.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, when X has string column
        names.
    mean_ : ndarray of shape (n_features_in_,)
        Per-feature mean subtracted from X before it reaches the networks.
    scale_ : ndarray of shape (n_features_in_,)
        Per-feature divisor applied after centring (see ``scaling``).
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
        The training engine, with its history.
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


def _docstring(summary: str, notes: str, example: str) -> str:
    return f"{summary}\n\n{_PARAMETERS}\n    See Also\n    --------\n" + (
        "    MIMEncoder : Symmetric mutual information machine.\n"
        "    AMIMEncoder : Asymmetric mutual information machine.\n"
        "    VAEEncoder : Variational autoencoder, same networks.\n\n"
        f"{_NOTES}{notes}\n"
        "    References\n    ----------\n"
        "    .. [1] M. Livne, K. Swersky, D. J. Fleet. \"MIM: Mutual Information\n"
        "       Machine.\" arXiv:1910.03175, 2019.\n\n"
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
    _objective = staticmethod(mim_objective)


class AMIMEncoder(BaseLatentEncoder):
    _objective = staticmethod(amim_objective)


class VAEEncoder(BaseLatentEncoder):
    _objective = staticmethod(vae_objective)


MIMEncoder.__doc__ = _docstring(
    "Representation learning with the symmetric Mutual Information Machine.",
    """
    MIM minimises the mean of the cross-entropies from the sample mixture
    1/2 (P(x) q(z|x) + P(z) p(x|z)) to the encoding joint q(z|x) q(x) and the
    decoding joint p(x|z) p(z) ([1]_, eq. 8). Each batch holds as many
    encoder-sampled pairs (x from the data, z ~ q(z|x)) as decoder-sampled
    pairs (z ~ p(z), x ~ p(x|z)). The data prior q(x) is the decoder's
    marginal, estimated with one importance draw (Algorithm 2). The warm-up
    weight multiplies the cross-entropy to q(z|x) q(x). MIM typically needs
    more epochs than a VAE and favours high mutual information between x and z
    with a consistent encoder and decoder.
""",
    _EXAMPLE.format(name="MIMEncoder"),
)
AMIMEncoder.__doc__ = _docstring(
    "Representation learning with the asymmetric Mutual Information Machine.",
    """
    A-MIM is MIM with encoder-sampled pairs only ([1]_, eq. 12): it never
    samples the decoder during training, which makes each step cheaper. The
    warm-up weight multiplies the cross-entropy to q(z|x) q(x).
""",
    _EXAMPLE.format(name="AMIMEncoder"),
)
ESTIMATORS: tuple[type[BaseLatentEncoder], ...] = (MIMEncoder, AMIMEncoder, VAEEncoder)
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
