"""The docstring sections that every estimator shares.

Each estimator writes its docstring in its class, as scikit-learn does, with
placeholders (``$parameters``, ``$attributes``, ``$see_also``,
``$notes``) where the shared sections go; :func:`fill_shared_sections`
puts them in. One text per section: the four estimators cannot drift apart.
"""

from __future__ import annotations

import inspect
from string import Template

# Every parameter but n_components (first in each signature, so written in
# each class) and the estimator's own.
PARAMETERS = """\
    hidden_layer_sizes : array-like of int, default=(128, 128)
        Hidden widths of the encoder network; the decoder mirrors them.
    activation : {"auto", "tanh", "relu", "logistic", "identity"}, default=$activation
        Hidden nonlinearity. "auto" (MIM, A-MIM and the VAE) is ReLU with one
        latent level and tanh with two. ReLU was chosen by an ablation on
        tables, small images and binary images (tanh, which the MIM paper's
        toy experiments use, left the codes of binary MNIST 0.17 (means) and
        0.33 (draws) behind in 5-NN accuracy); with two levels, MIM's codes
        decayed after the warm-up with ReLU and held with tanh (convHVAE on
        binary MNIST: 5-NN on draws 0.61 against 0.93 with the VampPrior).
        The mutual autoencoder's default is tanh, whose draws matched the
        data's moments better. The choice made is ``activation_``.
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
    latent_levels : {1, 2}, default=1
        Levels of the latent code, each of ``n_components`` dimensions. 2 is
        the hierarchical model of Tomczak & Welling's convHVAE, with which
        the MIM paper reports its image results (two levels of 40): z = [z1,
        z2], the top level z2 under ``prior``, the bottom level z1 under a
        learned Gaussian p(z1|z2), an encoder q(z2|x) q(z1|x, z2) and a
        decoder that reads both. :meth:`transform` returns the posterior
        means of both levels side by side (z1's at the mean of z2), so the
        codes have ``2 * n_components`` columns and drop into a Pipeline as
        before; :meth:`sample_posterior` and
        :meth:`sample` draw down the chain, and :meth:`score_samples`
        importance-samples both levels. See
        :class:`~mim_sklearn.nn.LatentVariableModel` for the networks.
    likelihood : str, Likelihood or dict, default="auto"
        Decoder distribution p(x|z): "auto", "gaussian", "bernoulli",
        "categorical" or "pixelcnn". "auto" chooses by
        column: for a DataFrame, numeric columns are "gaussian", boolean
        ones "bernoulli" and ``category``, ``object`` or string ones
        "categorical"; an array is numeric. A dict names the likelihood of
        some DataFrame columns (``{"n_doors": "categorical"}``), the others
        going by kind. A table with columns of several kinds gets a
        :class:`~mim_sklearn.nn.MixedLikelihood`. An unbuilt
        :class:`~mim_sklearn.nn.Likelihood` instance (such as
        ``GaussianLikelihood(min_log_var=-8.0)``, or a subclass of your own)
        is used as given for every column: each fit trains a copy, built for
        X's features.
        "gaussian": a diagonal Gaussian with a learned per-feature variance,
        floored at exp(-6) in the working units (see ``scaling``).
        "bernoulli": X in [0, 1] (binary, or read as probabilities);
        :meth:`sample` returns 0/1 and :meth:`inverse_transform` the
        probabilities. "categorical": each column of X holds integer category
        codes 0 to K_j - 1 (K_j learned in ``fit``), or a DataFrame's
        categories, modelled as independent categorical variables; the
        encoders see them one-hot, :meth:`sample` returns codes and
        :meth:`inverse_transform` the most probable code. "pixelcnn": binary
        images of ``image_shape`` (one channel) under an autoregressive
        PixelCNN decoder (:class:`~mim_sklearn.nn.PixelCNNLikelihood`; the
        MIM paper's PixelHVAE with ``latent_levels=2``): each pixel depends
        on the pixels before it, so :meth:`sample` and
        :meth:`inverse_transform` take a network pass per pixel, and
        :class:`MIMEncoder` and :class:`MAEEncoder`, which sample the decoder
        in every training step, refuse it for :class:`AMIMEncoder`. The
        discrete likelihoods use X as it is (no ``scaling``). MIM's decoder-sampled
        pairs use the decoder's mean for them (see Notes of
        :class:`MIMEncoder`); the mutual autoencoder trains its decoder draws
        with the score-function (REINFORCE) estimator. Missing values (NaN,
        or ``pd.NA`` in a DataFrame) are modelled by every built-in
        likelihood: a missing entry contributes no likelihood term and, when
        ``fit`` saw any, the encoders also read which entries are missing
        (not with ``architecture="conv"``).
    decoder_variance : {"auto", "isotropic", "shared", "decoded"}, default="auto"
        The variance of the "gaussian" likelihood: "isotropic", one learned
        variance for every feature and every z; "shared", one learned
        variance per feature for every z; "decoded", the decoder outputs a
        variance per feature for each z beside the mean (the MIM paper's
        reference code for its toy data). "auto" is "isotropic" under
        "global" ``scaling`` (features in one unit, such as pixels: a
        variance per feature would let nearly constant pixels, fitted to a
        tiny variance, dominate the loss and the code) and "shared" under
        "feature" scaling (features in unrelated units). The learned
        variances take steps 10 times the networks' learning rate, so that
        they settle within the first epochs and early stopping can judge
        the networks. Ignored by the discrete likelihoods and by a
        likelihood instance.
    dynamic_binarization : bool, default=False
        For a "bernoulli" likelihood (or another binary one) and X in
        [0, 1]: draw each training row anew as 0/1 pixels, x ~ Bernoulli(X),
        every time a batch is used (each epoch), as binarized-MNIST work
        trains; the held-out rows are drawn once, with the fit's seed, so
        that early stopping compares epochs on the same data. Draw your test
        set once the same way (``rng.uniform(size=X.shape) < X``) before
        :meth:`transform` or :meth:`score`, which take X as given.
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
    scaling : {"auto", "global", "feature"}, default="auto"
        How X's numeric (Gaussian) features are brought to working units
        before they reach the networks. "global" centres each feature and
        divides every feature by one common scale, keeping their relative
        variances (right for pixels and other features sharing a unit);
        "feature" standardises each feature on its own (for features in
        unrelated units). "auto" is "feature" for a DataFrame, whose columns
        are separate variables, and "global" for an array.
    max_iter : int, default=200
        Maximum number of epochs.
    batch_size : int or "auto", default="auto"
        Rows per optimisation step. "auto" takes a twentieth of the training
        rows (of ``fit``'s X, of the first ``partial_fit`` call's, of all the
        chunks of :func:`~mim_sklearn.out_of_core.partial_fit_epochs`),
        between 16 and 128 (the MIM paper's batch): about 20 steps an epoch
        wherever the data allows, so that ``warmup_epochs`` and
        ``n_iter_no_change`` mean a similar amount of training on a table of
        a few hundred rows and on MNIST; the batch used is ``batch_size_``.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_grad_norm : float or None, default=None
        When set, the gradients of each step are rescaled so that their
        joint L2 norm is at most this value (gradient clipping), a remedy
        for a training run that diverges. None leaves them as they are.
    warmup_epochs : int or "auto", default="auto"
        Epochs over which the warm-up weight of the objective rises linearly
        from 0 to 1 (see Notes); meanwhile MIM's fixed anchor N(0, I) stands
        in for a learned prior. Early stopping ignores these epochs. "auto":
        5 with the standard prior; with a learned one ("mog", "vamp" or a
        :class:`~mim_sklearn.nn.Prior` with parameters), 20, or half of
        ``max_iter`` if that is less: such a prior, trained from the start,
        pulled A-MIM's and MIM's codes together before they had spread.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (or use ``fit``'s
        ``X_val``) and stop when the held-out loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs, then restore the best
        epoch's weights. When False, stop on the training loss instead and
        keep the last weights.
    validation_fraction : float, default=0.1
        Share of the rows held out for early stopping (a shuffled split);
        ignored when ``fit`` is given ``X_val``.
    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss (nats per row) that counts as
        an improvement.
    n_importance_samples : int, default=1000
        Draws from q(z|x) per row in :meth:`score_samples` and :meth:`score`.
    device : str, default="auto"
        Torch device to train and predict on; "auto" picks CUDA when a GPU is
        visible, else the CPU. "auto" never picks Apple's MPS: pass
        ``device="mps"`` to ask for it, which is accepted where PyTorch
        offers MPS but untested.
    warm_start : bool, default=False
        When True, ``fit`` continues from the fitted model instead of
        starting anew.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the split, the batch order and all sampling. An
        int makes results reproducible on the CPU.
    verbose : int, default=0
        0: silent. 1: a progress bar (tqdm's, a widget in Jupyter) with the
        epochs done, the last epoch's ``train loss`` and ``held-out loss``
        (the values of ``loss_curve_`` and ``validation_loss_curve_``) and
        the time left. 2 or more: a table with a line per epoch
        (``train_loss``, ``valid_loss``, the warm-up weight, the time).
    callbacks : list or None, default=None
        Your own skorch callbacks (such as ``LRScheduler`` or
        ``Checkpoint``), as ``Callback`` instances or ``(name, callback)``
        pairs; they run after the estimator's own (gradient clipping, the
        warm-up, early stopping, the progress bar), whose names they cannot
        take. Training uses deep copies, made when a fit starts anew
        (``partial_fit`` and a warm start go on with them), so the parameter
        stays as given. They hear every skorch notification of the net
        (``net_``), whose history holds the losses and marks with
        ``valid_loss_best`` (``train_loss_best`` without early stopping) each
        epoch that early stopping found best so far (``Checkpoint``'s default
        monitor). :func:`~mim_sklearn.save` refuses them: use pickle or
        joblib, or set ``callbacks=None`` before saving."""

ATTRIBUTES = """\
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
        Categories of each categorical feature (0 for the others); only when
        some feature is categorical.
    batch_size_ : int
        Rows per optimisation step (``batch_size``, "auto" resolved).
    activation_ : str
        Hidden nonlinearity of the networks (``activation``, "auto" resolved).
    warmup_epochs_ : int
        Epochs of the warm-up (``warmup_epochs``, "auto" resolved).
    n_iter_ : int
        Epochs trained so far.
    loss_curve_ : list of float
        Training loss of each epoch: the mean loss per row of the objective
        the estimator trains (during the warm-up, as the warm-up weights it),
        in the model's internal scaled units; lower is better.
    validation_loss_curve_ : list of float or None
        Held-out loss of each epoch (on the held-out rows or on ``X_val``):
        the full objective per row, in the units of ``loss_curve_``; lower is
        better. None without early stopping. It is a loss, where
        scikit-learn's ``MLPClassifier.validation_scores_`` is a score. Nor
        is it ``-score``: :meth:`score` is the mean importance-sampled
        log-likelihood of X in X's own units, greater is better.
    validation_scores_ : list of float or None
        Deprecated, to be removed in 0.3: ``validation_loss_curve_``
        negated (the held-out ``-valid_loss``), not a score. Reading it
        warns with a ``FutureWarning``.
    best_loss_ : float
        Best monitored loss after the warm-up (held-out with early stopping,
        else training), in the units of ``loss_curve_``.
    device_ : str
        The device used.
    model_ : mim_sklearn.nn.LatentVariableModel
        The trained torch model.
    setup_ : ModelSetup
        What ``fit`` learnt of the data before training, in one frozen value:
        the table's columns, each feature's likelihood, the categories, the
        scaling, whether values are missing, the batch size, the activation
        and the seeds. ``mean_``, ``scale_``, ``n_categories_``,
        ``batch_size_`` and ``activation_`` are read from it.
    net_ : skorch.NeuralNet
        The training engine. Its ``history`` holds, for each epoch, the mean
        training and held-out losses, the warm-up weight ``beta`` and, under
        ``train_terms`` and ``valid_terms``, the mean of each term of the
        objective (such as ``enc_log_p_x_given_z``, the reconstruction term
        of the encoder-sampled pairs)."""

SEE_ALSO = """\
    MIMEncoder : Symmetric mutual information machine.
    AMIMEncoder : Asymmetric mutual information machine.
    VAEEncoder : Variational autoencoder, same networks.
    MAEEncoder : Mutual autoencoder, the ELBO at a set mutual information."""

NOTES = """\
    X is centred and scaled internally (``scaling``); :meth:`score_samples`
    adds the log-Jacobian of that map, so it is a log-density of X in its
    own units, and :meth:`inverse_transform` and :meth:`sample` return X's
    units.

    Training runs in float32; the other methods compute in X's floating
    dtype. A loss that becomes NaN or infinite stops training at once with a
    :class:`~mim_sklearn.exceptions.TrainingDivergedError`, leaving finite
    weights. Save a fitted estimator with :func:`mim_sklearn.save`, which
    stores no code, or with pickle."""


def fill_shared_sections(cls: type) -> type:
    """Class decorator: put the shared sections into ``cls.__doc__``.

    A placeholder stands alone on its line, indented as the section's lines
    are; the section's text carries that indentation already.

    Examples
    --------
    >>> @fill_shared_sections
    ... class Example:
    ...     '''Summary.
    ...
    ...     See Also
    ...     --------
    ...     $see_also
    ...     '''
    >>> "AMIMEncoder : " in Example.__doc__
    True
    """
    # Defaults that differ between the estimators, read from the signature.
    signature = inspect.signature(cls).parameters
    defaults = {name: f'"{signature[name].default}"' for name in ("activation",)
                if name in signature}
    sections = {
        name: text.lstrip(" ")
        for name, text in {
            "parameters": Template(PARAMETERS).safe_substitute(defaults),
            "attributes": ATTRIBUTES,
            "see_also": SEE_ALSO,
            "notes": NOTES,
        }.items()
    }
    cls.__doc__ = Template(cls.__doc__).substitute(sections)
    return cls
