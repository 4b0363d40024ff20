"""Torch building blocks: networks, likelihoods, priors and the model."""

from .likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    CategoricalLikelihood,
    GaussianLikelihood,
)
from .model import LatentVariableModel
from .networks import ACTIVATIONS, initialize_parameters, make_mlp
from .priors import PRIORS, MixtureOfGaussiansPrior, StandardNormalPrior, VampPrior

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "PRIORS",
    "BernoulliLikelihood",
    "CategoricalLikelihood",
    "GaussianLikelihood",
    "LatentVariableModel",
    "MixtureOfGaussiansPrior",
    "StandardNormalPrior",
    "VampPrior",
    "initialize_parameters",
    "make_mlp",
]
