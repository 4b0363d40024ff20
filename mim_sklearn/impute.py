"""Imputation: missing values filled in by a latent-variable model.

:class:`LatentImputer` trains one of the package's encoders on data with
missing values (which the encoders model: a missing entry contributes no
likelihood term, and the encoder reads which entries are missing) and fills
each missing entry with the model's reconstruction of its row, so that it
fits in a Pipeline where scikit-learn's imputers do.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._base import BaseLatentEncoder
from ._estimators import VAEEncoder


class LatentImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing values with a latent-variable model's reconstruction.

    ``fit`` trains a clone of ``estimator`` on X, missing values included.
    ``transform`` fills each missing entry with the model's reconstruction
    of it given the row's observed entries: the mixture ``sum_k w_k
    p(x|z_k)`` over draws z_k ~ q(z|x_observed) with self-normalised
    importance weights, as MIWAE imputes (Mattei & Frellsen 2019), using the
    estimator's ``n_importance_samples`` draws. For a number that is its
    conditional mean; for a category, the most probable one. Observed
    entries are returned unchanged.

    Parameters
    ----------
    estimator : BaseLatentEncoder or None, default=None
        The model, unfitted; None uses ``VAEEncoder()``: imputation reads
        the model's conditional density of the missing entries, and the
        VAE trains its likelihood directly, where MIM trades some of it for
        information in the codes (the MIM paper reports the VAE's
        log-likelihoods ahead). A DataFrame with
        numeric, boolean and categorical columns is modelled column by column
        (see the estimator's ``likelihood``).

    Attributes
    ----------
    estimator_ : BaseLatentEncoder
        The fitted clone of ``estimator``.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features seen during ``fit``, when X has string column
        names.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputation by regressing each feature
        on the others.
    sklearn.impute.KNNImputer : Imputation from the nearest rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mim_sklearn import VAEEncoder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)) @ rng.normal(size=(4, 6))
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imputer = LatentImputer(VAEEncoder(2, hidden_layer_sizes=(32,), max_iter=20,
    ...                                    random_state=0))
    >>> filled = imputer.fit_transform(X)
    >>> bool(np.isnan(filled).any()), bool((filled == X)[~np.isnan(X)].all())
    (False, True)
    """

    _parameter_constraints: dict = {"estimator": [BaseLatentEncoder, None]}

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y=None):
        """Train the model on X, missing values included.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; NaN (or ``pd.NA``, None) marks a missing entry.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        object
            The fitted imputer itself.
        """
        self._validate_params()
        estimator = VAEEncoder() if self.estimator is None else self.estimator
        self.estimator_ = clone(estimator).fit(X)
        self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self

    def transform(self, X):
        """Return X with its missing entries filled in.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data with the features seen in ``fit``.

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features)
            X with each missing entry replaced by the model's reconstruction:
            a DataFrame (same columns, dtypes and index) for a DataFrame,
            else a float array.
        """
        check_is_fitted(self)
        return self.estimator_.impute(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
