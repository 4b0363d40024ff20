"""Torch building blocks: networks, likelihoods, priors and the model."""

from .factories import make_likelihood, make_prior
from .likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    CategoricalLikelihood,
    GaussianLikelihood,
    Likelihood,
    MixedLikelihood,
    PixelCNNLikelihood,
)
from .model import LatentVariableModel
from .networks import ACTIVATIONS, initialize_parameters, make_mlp
from .posteriors import GaussianPosterior, TwoLevelPosterior
from .priors import (
    PRIORS,
    MixtureOfGaussiansPrior,
    Prior,
    StandardNormalPrior,
    VampPrior,
)

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "PRIORS",
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "GaussianLikelihood",
    "GaussianPosterior",
    "LatentVariableModel",
    "Likelihood",
    "MixedLikelihood",
    "MixtureOfGaussiansPrior",
    "PixelCNNLikelihood",
    "Prior",
    "StandardNormalPrior",
    "TwoLevelPosterior",
    "VampPrior",
    "initialize_parameters",
    "make_likelihood",
    "make_mlp",
    "make_prior",
]
