"""Torch building blocks: networks, likelihoods, priors and the model."""

from .likelihoods import LIKELIHOODS, GaussianLikelihood
from .model import LatentVariableModel
from .networks import ACTIVATIONS, initialize_parameters, make_mlp
from .priors import PRIORS, StandardNormalPrior

__all__ = [
    "ACTIVATIONS",
    "LIKELIHOODS",
    "PRIORS",
    "GaussianLikelihood",
    "LatentVariableModel",
    "StandardNormalPrior",
    "initialize_parameters",
    "make_mlp",
]
