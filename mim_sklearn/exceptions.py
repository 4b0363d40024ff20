"""Exceptions raised by the estimators."""

from __future__ import annotations

__all__ = ["PosteriorCollapseWarning", "TrainingDivergedError"]


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


class PosteriorCollapseWarning(UserWarning):
    """Training ended with codes that carry almost nothing of X.

    Warned by ``fit`` when, in every latent dimension, the posterior means
    of the rows vary less than the posterior's own noise: the codes of
    different rows are then as alike as two draws for one row, and a
    classifier or a nearest-neighbour search on them learns little. It
    happens when the prior pulls the codes together faster than the
    reconstruction can spread them (a learned prior early in training, a
    very short warm-up). It is also warned when a learned mixture prior
    (``prior="mog"`` or ``"vamp"``) ends with components whose means,
    in every dimension, vary less than half the components' own spread:
    the prior has merged into one Gaussian. The message says what to try.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", PosteriorCollapseWarning)
    ...     pass  # a fit whose codes collapse would raise here
    >>> issubclass(PosteriorCollapseWarning, UserWarning)
    True
    """
