"""Representation learning with the Mutual Information Machine, for scikit-learn."""

__version__ = "0.1.0"

from ._estimators import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder  # noqa: E402
from ._persistence import load, save  # noqa: E402
from .impute import LatentImputer  # noqa: E402

__all__ = [
    "AMIMEncoder", "LatentImputer", "MAEEncoder", "MIMEncoder", "VAEEncoder",
    "__version__", "load", "save",
]
