"""Representation learning with the Mutual Information Machine, for scikit-learn."""

from ._device import resolve_device
from ._estimators import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder
from ._persistence import load, save
from ._version import __version__
from .impute import LatentImputer

__all__ = [
    "AMIMEncoder", "LatentImputer", "MAEEncoder", "MIMEncoder", "VAEEncoder",
    "__version__", "load", "resolve_device", "save",
]
