"""Exceptions raised by the estimators."""

from __future__ import annotations

__all__ = ["TrainingDivergedError"]


class TrainingDivergedError(ValueError, FloatingPointError):
    """Training met a non-finite loss and stopped.

    Raised by ``fit`` and ``partial_fit`` the moment a loss becomes NaN or
    infinite, before the optimizer takes the step that would spread it to the
    weights. The estimator is left with finite weights (the best epoch's, or
    those it had when the failing epoch began) and its message says which, in
    what epoch training failed, and what to try. It is a ``ValueError``, as
    scikit-learn reports bad fits, and a ``FloatingPointError``.

    Examples
    --------
    >>> issubclass(TrainingDivergedError, ValueError)
    True
    """
