"""Training on data too large for memory: epochs of ``partial_fit`` over chunks.

:func:`partial_fit_epochs` trains an estimator for a number of epochs, each a
pass of ``partial_fit`` calls over the data in row chunks: chunks of an
array that stays on disk (an ``np.memmap``), or the arrays that a function of
yours yields (files read one at a time, a database cursor, ...), with
checkpoints that a killed run resumes from if asked.
:func:`iter_chunks` yields one epoch of row chunks of an array.

``partial_fit``'s first call fixes the input scaling from its batch alone.
Before training a new estimator of this package, :func:`partial_fit_epochs`
therefore makes one streaming pass over all the chunks and takes the scaling
(or, for ``likelihood="categorical"``, the categories) from all of them, as
``fit`` would from the whole array; see ``docs/scaling.md`` for what this
measured against ``fit``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import _safe_indexing, check_random_state, gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ._base import BaseLatentEncoder
from ._persistence import check_savable, load_checkpoint, save_checkpoint

__all__ = ["iter_chunks", "partial_fit_epochs"]


@validate_params(
    {
        "X": ["array-like"],
        "chunk_rows": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def iter_chunks(
    X: ArrayLike, chunk_rows: int = 10_000, *, shuffle: bool = False, random_state=None
) -> Iterator[ArrayLike]:
    """The rows of X in chunks of at most ``chunk_rows`` rows: one epoch.

    The chunks are contiguous row ranges, all of ``chunk_rows`` rows but the
    last, read one at a time: a slice of an ``np.memmap`` is read from disk
    only when it is used, so memory holds one chunk, not X.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data: an ``np.memmap``, an array, a DataFrame (its chunks keep
        the column names).
    chunk_rows : int, default=10_000
        Most rows in a chunk.
    shuffle : bool, default=False
        Whether to visit the chunks in a random order. The rows within a
        chunk keep their order and are read sequentially; the estimators of
        this package draw their own batch order within each ``partial_fit``
        call.
    random_state : int, RandomState instance or None, default=None
        Seed of the chunk order, when ``shuffle=True``.

    Returns
    -------
    iterator of array-like of shape (n_chunk_rows, n_features)
        Views of X's rows, of X's type, made as the iterator advances.

    Raises
    ------
    ValueError
        If X is not 2-D or has no rows.

    Examples
    --------
    >>> import numpy as np
    >>> from mim_sklearn.out_of_core import iter_chunks
    >>> X = np.arange(10.0).reshape(5, 2)
    >>> [chunk[:, 0].tolist() for chunk in iter_chunks(X, chunk_rows=2)]
    [[0.0, 2.0], [4.0, 6.0], [8.0]]
    >>> [len(chunk) for chunk in iter_chunks(X, 2, shuffle=True, random_state=0)]
    [1, 2, 2]
    """
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if len(X.shape) != 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must be 2-D with at least one row, got shape {tuple(X.shape)}; to "
            "train on a sequence of arrays, pass a function that returns them, "
            "such as `lambda: chunks`."
        )
    slices = list(gen_batches(X.shape[0], chunk_rows))
    if shuffle:
        order = check_random_state(random_state).permutation(len(slices))
        slices = [slices[i] for i in order]
    return (_safe_indexing(X, rows) for rows in slices)


@validate_params(
    {
        "estimator": [HasMethods(["partial_fit"])],
        "X": ["array-like", callable],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "chunk_rows": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "checkpoint_path": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=False,
)
def partial_fit_epochs(
    estimator,
    X: ArrayLike | Callable[[], Iterable[ArrayLike]],
    *,
    n_epochs: int = 10,
    chunk_rows: int = 10_000,
    shuffle: bool = True,
    random_state=None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int = 1,
):
    """Train an estimator by epochs of ``partial_fit`` over data in chunks.

    Each epoch calls ``estimator.partial_fit`` once per chunk. Before a new
    (unfitted) :class:`~mim_sklearn.MIMEncoder`, ``AMIMEncoder``,
    ``VAEEncoder`` or ``MAEEncoder`` is trained, one pass over all the chunks
    takes the input scaling (or the categories of categorical data) from the
    whole data, where ``partial_fit`` alone would take it from the first
    chunk; the VampPrior's pseudo-inputs start at rows of the first chunk
    (in stored order). A fitted estimator just goes on training. Other
    estimators with ``partial_fit`` (``IncrementalPCA``, ``MiniBatchKMeans``)
    get the epochs only.

    Training counts what ``partial_fit`` counts: each chunk is one of the
    estimator's epochs in ``n_iter_``, ``loss_curve_`` and the warm-up (so
    the warm-up ends after ``warmup_epochs`` chunks). There is no early
    stopping: choose ``n_epochs``, for instance from a ``fit`` on a sample.

    Parameters
    ----------
    estimator : estimator with a ``partial_fit`` method
        Trained in place.
    X : array-like of shape (n_samples, n_features), or callable
        The training data: an array read in chunks of ``chunk_rows`` rows
        (an ``np.memmap`` stays on disk), or a function of no arguments that
        returns a new iterable of 2-D arrays (the chunks) each time it is
        called, once per epoch and once more for the scaling pass. A
        function chooses its own chunks and their order: ``chunk_rows``,
        ``shuffle`` and ``random_state`` apply to arrays only.
    n_epochs : int, default=10
        Passes over the data.
    chunk_rows : int, default=10_000
        Rows in a chunk of an array (the last chunk may have fewer). Make it
        a multiple of the estimator's batch size (``batch_size_``: with
        ``batch_size="auto"``, 128 for data of 2,560 rows or more, so 9,984
        rows, say): each chunk then ends on a full batch, and an epoch
        takes as many optimizer steps, of the same sizes, as an epoch of
        ``fit``. Otherwise each chunk ends with a short batch, and the extra
        steps make chunked epochs differ from ``fit``'s.
    shuffle : bool, default=True
        Whether each epoch visits the chunks in a new random order. A chunk
        is a contiguous range of rows, read sequentially: rows stored in a
        meaningful order (sorted by class or time) should be shuffled once
        when the file is written.
    random_state : int, RandomState instance or None, default=None
        Seed of the chunk orders. With the estimator's own ``random_state``
        fixed, training is reproducible.
    checkpoint_path : str, os.PathLike or None, default=None
        A file to keep the run's progress in, for a long run that may be
        killed. Every ``checkpoint_every`` epochs, and after the last, the
        estimator and the run's position (the epochs done, the state of the
        chunk orders' random generator) are written there atomically, as
        :func:`mim_sklearn.save` writes a file: a crash while writing leaves
        the previous checkpoint whole. When the file exists, the run resumes
        from it: the estimator takes the checkpoint's fitted state (its
        parameters must equal those in the file) and trains the epochs left
        of ``n_epochs``, ending, on the CPU, with the same model bit for bit
        as a run that was never stopped. :func:`mim_sklearn.load` reads the
        file as the estimator at the checkpoint. Needs an estimator of this
        package that :func:`mim_sklearn.save` can store (no ``callbacks``,
        an int or None as ``random_state``); pass ``random_state`` here as
        an int or None too, so that a rerun of the script starts alike.
    checkpoint_every : int, default=1
        Epochs between checkpoints.

    Returns
    -------
    estimator
        The trained estimator.

    Raises
    ------
    ValueError
        If X is not 2-D or has no rows, or an epoch of a function yields no
        chunk; ``partial_fit`` validates each chunk as well. If the file at
        ``checkpoint_path`` is not a checkpoint, was written with other
        parameters, or is past ``n_epochs``.
    TypeError
        If ``checkpoint_path`` is given with an estimator that
        :func:`mim_sklearn.save` does not store.

    See Also
    --------
    iter_chunks : One epoch of row chunks of an array.

    Examples
    --------
    >>> import numpy as np
    >>> from tempfile import TemporaryDirectory
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import VAEEncoder
    >>> from mim_sklearn.out_of_core import partial_fit_epochs
    >>> X, _ = load_digits(return_X_y=True)
    >>> with TemporaryDirectory() as folder:
    ...     np.save(f"{folder}/digits.npy", X.astype(np.float32))
    ...     X_disk = np.load(f"{folder}/digits.npy", mmap_mode="r")
    ...     encoder = VAEEncoder(n_components=2, hidden_layer_sizes=(16,),
    ...                          random_state=0)
    ...     encoder = partial_fit_epochs(encoder, X_disk, n_epochs=2,
    ...                                  chunk_rows=500, random_state=0)
    >>> encoder.n_iter_  # 2 epochs of 4 chunks
    8
    >>> bool(np.allclose(encoder.mean_, X.mean(axis=0)))  # from all the rows
    True
    >>> encoder.transform(X[:3]).shape
    (3, 2)

    A function that returns the chunks anew for each epoch, here the files
    of a data set stored in parts:

    >>> parts = np.array_split(X, 3)
    >>> encoder = partial_fit_epochs(
    ...     VAEEncoder(n_components=2, hidden_layer_sizes=(16,), random_state=0),
    ...     lambda: iter(parts), n_epochs=2)
    >>> encoder.n_iter_
    6

    With a checkpoint, a run killed after some epochs goes on from the last
    one when it is started again:

    >>> with TemporaryDirectory() as folder:
    ...     encoder = partial_fit_epochs(
    ...         VAEEncoder(n_components=2, hidden_layer_sizes=(16,), random_state=0),
    ...         X, n_epochs=2, chunk_rows=500, random_state=0,
    ...         checkpoint_path=f"{folder}/run.ckpt")
    ...     # Started again (say after a crash), with more epochs to go:
    ...     resumed = partial_fit_epochs(
    ...         VAEEncoder(n_components=2, hidden_layer_sizes=(16,), random_state=0),
    ...         X, n_epochs=3, chunk_rows=500, random_state=0,
    ...         checkpoint_path=f"{folder}/run.ckpt")
    >>> resumed.n_iter_  # 2 epochs from the checkpoint, 1 more: 4 chunks each
    12
    """
    rng = check_random_state(random_state)
    done = 0
    if checkpoint_path is not None:
        check_savable(estimator)  # before hours of training, not after
        if os.path.exists(checkpoint_path):
            done, rng = _resume(estimator, checkpoint_path, n_epochs)

    def chunks(shuffled: bool) -> Iterator[ArrayLike]:
        if callable(X):
            return _nonempty(X())
        return iter_chunks(X, chunk_rows, shuffle=shuffled, random_state=rng)

    if isinstance(estimator, BaseLatentEncoder) and not hasattr(estimator, "net_"):
        # In stored order, so that the first chunk is a full one.
        estimator.initialize_from_chunks(chunks(shuffled=False))
    for epoch in range(done + 1, n_epochs + 1):
        for chunk in chunks(shuffle):
            estimator.partial_fit(chunk)
        if checkpoint_path is not None and (
            epoch % checkpoint_every == 0 or epoch == n_epochs
        ):
            name, keys, position, has_gauss, gauss = rng.get_state()
            save_checkpoint(estimator, checkpoint_path, {
                "epoch": epoch,
                "chunk_rng": [name, keys.tolist(), position, has_gauss, gauss],
            })
    return estimator


def _resume(
    estimator: BaseLatentEncoder, path: str | os.PathLike, n_epochs: int
) -> tuple[int, np.random.RandomState]:
    """Give ``estimator`` the fitted state of the checkpoint at ``path``;
    return the epochs done and the generator of the chunk orders."""
    saved, progress = load_checkpoint(path)
    # Compared as the file stores them (JSON: tuples are lists).
    ours, theirs = (json.loads(check_savable(e)) for e in (estimator, saved))
    if type(saved) is not type(estimator) or ours != theirs:
        differ = [name for name in ours if ours[name] != theirs.get(name)]
        raise ValueError(
            f"The checkpoint {os.fspath(path)!r} was written by a "
            f"{type(saved).__name__}"
            + (f" with another {', '.join(differ)}" if differ else "")
            + f", not by this {type(estimator).__name__}: resume with the "
            "estimator that wrote it, or delete the file to start over."
        )
    epoch = progress.get("epoch")
    # A generator of its own: a RandomState given as random_state, or numpy's
    # global one, is left as it is.
    rng = np.random.RandomState()
    try:
        name, keys, position, has_gauss, gauss = progress["chunk_rng"]
        rng.set_state((name, np.asarray(keys, dtype=np.uint32), position,
                       has_gauss, gauss))
        if not isinstance(epoch, int) or epoch < 1:
            raise ValueError(f"epoch {epoch!r}")
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ValueError(
            f"The checkpoint {os.fspath(path)!r} is corrupted: its record of the "
            f"run's position is not valid ({error})."
        ) from error
    if epoch > n_epochs:
        raise ValueError(
            f"The checkpoint {os.fspath(path)!r} is at epoch {epoch}, past "
            f"n_epochs={n_epochs}: raise n_epochs, or load it with "
            "mim_sklearn.load."
        )
    # The file's fitted state replaces the estimator's, in place.
    params = estimator.get_params(deep=False)
    fitted = {name: value for name, value in vars(saved).items()
              if name not in params}
    for name in [name for name in vars(estimator)
                 if name.endswith("_") and name not in fitted]:
        delattr(estimator, name)
    vars(estimator).update(fitted)
    return epoch, rng


def _nonempty(chunks: Iterable[ArrayLike]) -> Iterator[ArrayLike]:
    """Iterate over ``chunks``; raise a ValueError if there is none."""
    if not isinstance(chunks, Iterable):
        raise ValueError(
            "X() must return an iterable of 2-D arrays (the chunks of one epoch), "
            f"got {type(chunks).__name__}."
        )
    empty = True
    for chunk in chunks:
        empty = False
        yield chunk
    if empty:
        raise ValueError(
            "X() returned no chunk: the function must return a new iterable of "
            "the chunks each time it is called (once per epoch), not an "
            "iterator that is used up after the first pass."
        )
