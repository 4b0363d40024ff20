"""The public estimators: the shared base and the objective each trains."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import BaseLatentEncoder
from ._docstrings import fill_shared_sections
from .objectives import (
    Objective,
    amim_objective,
    mae_objective,
    mim_objective,
    mutual_information_bound,
    vae_objective,
)


@fill_shared_sections
class MIMEncoder(BaseLatentEncoder):
    """Representation learning with the symmetric Mutual Information Machine.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z (of each level, see ``latent_levels``).
    $parameters

    Attributes
    ----------
    $attributes

    See Also
    --------
    $see_also

    Notes
    -----
    $notes

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

    References
    ----------
    .. [1] M. Livne, K. Swersky, D. J. Fleet. "MIM: Mutual Information
       Machine." arXiv:1910.03175, 2019.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import MIMEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = MIMEncoder(n_components=2, max_iter=5, random_state=0)
    >>> encoder.fit_transform(X[:200]).shape
    (200, 2)
    """

    def objective(self) -> Objective:
        """The symmetric MIM loss, with decoder-sampled pairs.

        Returns
        -------
        Objective
            The loss and what it needs of the model.
        """
        return Objective(mim_objective, samples_decoder=True)


@fill_shared_sections
class AMIMEncoder(BaseLatentEncoder):
    """Representation learning with the asymmetric Mutual Information Machine.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z (of each level, see ``latent_levels``).
    $parameters

    Attributes
    ----------
    $attributes

    See Also
    --------
    $see_also

    Notes
    -----
    $notes

    A-MIM is MIM with encoder-sampled pairs only ([1]_, eq. 12): it never
    samples the decoder during training, which makes each step cheaper.
    With the marginal q(x), an encoder-sampled pair's loss is
    -(log p(x|z) + beta log p(z)), where the warm-up weight beta rises from
    0 to 1.

    References
    ----------
    .. [1] M. Livne, K. Swersky, D. J. Fleet. "MIM: Mutual Information
       Machine." arXiv:1910.03175, 2019.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import AMIMEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = AMIMEncoder(n_components=2, max_iter=5, random_state=0)
    >>> encoder.fit_transform(X[:200]).shape
    (200, 2)
    """

    def objective(self) -> Objective:
        """The asymmetric MIM loss, on encoder-sampled pairs only.

        Returns
        -------
        Objective
            The loss and what it needs of the model.
        """
        return Objective(amim_objective)


@fill_shared_sections
class VAEEncoder(BaseLatentEncoder):
    """Variational autoencoder with the same networks as MIMEncoder.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z (of each level, see ``latent_levels``).
    $parameters

    Attributes
    ----------
    $attributes

    See Also
    --------
    $see_also

    Notes
    -----
    $notes

    Minimises the negative evidence lower bound
    -E_q[log p(x|z)] + KL(q(z|x) || p(z)); the warm-up weight multiplies the
    KL term (KL annealing). The MIM paper's baseline.

    References
    ----------
    .. [1] M. Livne, K. Swersky, D. J. Fleet. "MIM: Mutual Information
       Machine." arXiv:1910.03175, 2019.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import VAEEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = VAEEncoder(n_components=2, max_iter=5, random_state=0)
    >>> encoder.fit_transform(X[:200]).shape
    (200, 2)
    """

    def objective(self) -> Objective:
        """The negative ELBO.

        Returns
        -------
        Objective
            The loss and what it needs of the model.
        """
        return Objective(vae_objective)


@fill_shared_sections
class MAEEncoder(BaseLatentEncoder):
    """The mutual autoencoder: the ELBO with the decoder's I(x; z) at a target.

    Parameters
    ----------
    n_components : int, default=10
        Dimension of the latent code z (of each level, see ``latent_levels``).
    target_mutual_info : float, default=1.0
        The mutual information M between x and z, in nats, that the decoding
        distribution p(z) p(x|z) should carry.
    mi_penalty : float, default=100.0
        Weight of the squared gap between the bound on I_p(x; z) and
        ``target_mutual_info``. Larger values hold the target more tightly
        (the gap at the optimum shrinks as 1 / mi_penalty) at the price of a
        stiffer optimisation.
    $parameters

    Attributes
    ----------
    $attributes
    mutual_info_ : float
        The bound H(z) + E[log r(z|x)] on I_p(x; z) of the fitted model, in
        nats, from 16,384 decoder-sampled pairs (standard error about 0.01).

    See Also
    --------
    $see_also

    Notes
    -----
    $notes

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

    References
    ----------
    .. [2] M. Phuong, N. Kushman, S. Nowozin, R. Tomioka, M. Welling. "The
       Mutual Autoencoder: Controlling Information in Latent Code
       Representations." 2018.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import MAEEncoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> encoder = MAEEncoder(n_components=2, max_iter=5, random_state=0)
    >>> encoder.fit_transform(X[:200]).shape
    (200, 2)
    """

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
        latent_levels=1,
        likelihood="auto",
        decoder_variance="auto",
        dynamic_binarization=False,
        prior="standard",
        n_prior_components=100,
        scaling="auto",
        max_iter=200,
        batch_size="auto",
        learning_rate_init=1e-3,
        max_grad_norm=None,
        warmup_epochs="auto",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        n_importance_samples=1000,
        device="auto",
        warm_start=False,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            architecture=architecture,
            image_shape=image_shape,
            latent_levels=latent_levels,
            likelihood=likelihood,
            decoder_variance=decoder_variance,
            dynamic_binarization=dynamic_binarization,
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
            callbacks=callbacks,
        )
        self.target_mutual_info = target_mutual_info
        self.mi_penalty = mi_penalty

    def objective(self) -> Objective:
        """The ELBO with I_p(x; z) held at a target.

        The negative ELBO with the mutual information near
        ``target_mutual_info``; its bound is published as ``mutual_info_``.

        Returns
        -------
        Objective
            The loss and what it needs of the model, with the current
            ``target_mutual_info`` and ``mi_penalty``.
        """
        return Objective(
            mae_objective,
            options={
                "target_mutual_info": self.target_mutual_info,
                "mi_penalty": self.mi_penalty,
            },
            auxiliary_posterior=True,
            samples_decoder=True,
            fitted_attributes=mutual_information_bound,
        )


ESTIMATORS: tuple[type[BaseLatentEncoder], ...] = (
    MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder
)
"""The public estimator classes."""
