"""Decoder likelihoods p(x|z): how decoder outputs become a distribution over x.

Every likelihood is a :class:`Likelihood` (:mod:`.base`), one module per
kind; :data:`LIKELIHOODS` names those the estimators' ``likelihood``
parameter takes by name. A likelihood is made in two steps, so that an
estimator can take an instance before it has seen the data: the constructor
takes the choices (the Gaussian's variance, say), and
:meth:`Likelihood.build` the number of features, once the data is known.
"""

from ..sampling import categorical_sample
from .base import Likelihood, observed_entries
from .bernoulli import BernoulliLikelihood
from .categorical import CategoricalLikelihood, category_counts
from .gaussian import VARIANCES, GaussianLikelihood
from .mixed import MixedLikelihood
from .pixelcnn import PixelCNNLikelihood

#: The likelihoods the estimators' ``likelihood`` parameter names: name to
#: class, each constructed with its defaults or given options (see
#: :func:`mim_sklearn.nn.make_likelihood`).
LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": GaussianLikelihood,
    "bernoulli": BernoulliLikelihood,
    "categorical": CategoricalLikelihood,
    "pixelcnn": PixelCNNLikelihood,
}

__all__ = [
    "LIKELIHOODS",
    "VARIANCES",
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "MixedLikelihood",
    "PixelCNNLikelihood",
    "categorical_sample",
    "category_counts",
    "observed_entries",
]
