"""Representation learning with the Mutual Information Machine, for scikit-learn."""

from ._estimators import AMIMEncoder, MIMEncoder, VAEEncoder

__version__ = "0.1.0"

__all__ = ["AMIMEncoder", "MIMEncoder", "VAEEncoder", "__version__"]
