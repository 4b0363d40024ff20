"""Data sets: the papers' synthetic data, and MNIST-format loaders.

Generators (random, seeded as scikit-learn's ``make_blobs``):

- :func:`make_mixture`: the MIM paper's mixtures of five isotropic Gaussians,
  in 2-D and 20-D.
- :func:`make_standard_normal` and :func:`make_uniform_categorical`: the
  mutual autoencoder poster's toys ("splitting the normal", and a uniform
  categorical on {0, ..., 9}).

Loaders read MNIST and Fashion-MNIST from local IDX files (raw or gzip) and
never download; they return ``(X, y)``: raw pixels 0..255 as float32 rows and
int64 labels.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "load_fashion_mnist",
    "load_idx",
    "load_mnist",
    "make_mixture",
    "make_standard_normal",
    "make_uniform_categorical",
    "mixture_centers",
]

StrPath = str | os.PathLike[str]
Dataset = tuple[np.ndarray, np.ndarray]
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def load_idx(path: StrPath) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzip-compressed if named ``*.gz``).

    The header is two zero bytes, a type code, the number of dimensions ``d`` and
    ``d`` big-endian uint32 sizes; the payload must hold exactly their product.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.

    Returns
    -------
    numpy.ndarray
        A writable uint8 array of the shape given by the header.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not an IDX file of unsigned bytes (type code 0x08), or
        its payload is truncated or too long.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = Path(tmp) / "tiny-idx2-ubyte"  # 2 x 3 unsigned bytes, 0..5
    ...     _ = file.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, *range(6)]))
    ...     load_idx(file)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = bytearray(f.read())
    except (gzip.BadGzipFile, EOFError) as exc:
        raise ValueError(f"{path}: cannot decompress gzip data ({exc})") from exc
    ndim = data[3] if len(data) >= 4 else 0
    offset = 4 + 4 * ndim  # magic number, then one uint32 size per dimension
    if data[:2] != b"\0\0" or len(data) < offset:
        raise ValueError(f"{path}: not an IDX file (bad magic or truncated header)")
    if data[2] != 0x08:
        raise ValueError(f"{path}: unsupported IDX type code 0x{data[2]:02x}; "
                         "only 0x08 (unsigned byte) is supported")
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    expected, actual = math.prod(shape), len(data) - offset
    if actual != expected:
        problem = "truncated" if actual < expected else "too long"
        raise ValueError(f"{path}: payload {problem}: expected {expected} bytes "
                         f"for shape {shape}, got {actual}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def load_mnist(path: StrPath, subset: str = "train") -> Dataset:
    """Load MNIST (or any data in its format) from a local directory.

    Parameters
    ----------
    path : str or os.PathLike
        Directory holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or
        with ``.gz`` appended (the raw file is preferred when both exist).
    subset : {"train", "test"}, default="train"
        Which split to load; ``"test"`` reads the ``t10k-*`` files.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, rows * cols)
        The raw pixels 0..255 as float32, unscaled; 784 columns for 28 x 28 images.
    y : numpy.ndarray of shape (n_samples,)
        The labels as int64.

    Raises
    ------
    FileNotFoundError
        If the directory or a needed file is missing.
    ValueError
        If ``subset`` is unknown, a file is malformed (see :func:`load_idx`), the
        images are not 3-D or the labels 1-D, or their counts differ.

    Examples
    --------
    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:  # two blank 28 x 28 images
    ...     images = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28])
    ...     labels = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]))
    ...     _ = Path(tmp, "t10k-images-idx3-ubyte").write_bytes(images + bytes(1568))
    ...     _ = Path(tmp, "t10k-labels-idx1-ubyte.gz").write_bytes(labels)
    ...     X, y = load_mnist(tmp, subset="test")
    >>> X.shape, X.dtype, y
    ((2, 784), dtype('float32'), array([7, 3]))
    """
    if subset not in _FILES:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    directory = Path(path)
    if not directory.is_dir():
        names = ", ".join(_FILES["train"] + _FILES["test"])
        raise FileNotFoundError(f"directory {directory} does not exist; the files "
                                f"{names} (raw or .gz) must be provided, nothing "
                                "is downloaded")
    files = [directory / name for name in _FILES[subset]]  # raw, else gzip
    images_file, labels_file = [f if f.is_file() else Path(f"{f}.gz") for f in files]
    for file in (images_file, labels_file):
        if not file.is_file():
            raise FileNotFoundError(f"{file.with_suffix('')}[.gz] not found; it must "
                                    "be provided, nothing is downloaded")
    images, labels = load_idx(images_file), load_idx(labels_file)
    for file, array, ndim, magic in [(images_file, images, 3, 2051),
                                     (labels_file, labels, 1, 2049)]:
        if array.ndim != ndim:
            raise ValueError(f"{file}: expected {ndim} dimension(s) (magic {magic}), "
                             f"got {array.ndim}")
    if len(images) != len(labels):
        raise ValueError(f"{images_file} holds {len(images)} images but "
                         f"{labels_file} holds {len(labels)} labels")
    n, rows, cols = images.shape
    return images.reshape(n, rows * cols).astype(np.float32), labels.astype(np.int64)


def load_fashion_mnist(path: StrPath | None = None, subset: str = "train") -> Dataset:
    """Load Fashion-MNIST from a local directory.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Directory holding the files, named as for :func:`load_mnist`. Defaults to
        ``/usr/share/datasets/fashion-mnist``, where the Debian package
        ``dataset-fashion-mnist`` installs them.
    subset : {"train", "test"}, default="train"
        Which split to load.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 784)
        The raw pixels, as for :func:`load_mnist`.
    y : numpy.ndarray of shape (n_samples,)
        The labels 0..9, as for :func:`load_mnist`.

    Raises
    ------
    FileNotFoundError
        If the directory or a file is missing (for the default directory the
        message says to install ``dataset-fashion-mnist``).
    ValueError
        As for :func:`load_mnist`.

    Examples
    --------
    >>> load_fashion_mnist("/nonexistent/fashion-mnist")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: directory /nonexistent/fashion-mnist does not exist; ...
    """
    if path is not None:
        return load_mnist(path, subset)
    try:
        return load_mnist(FASHION_MNIST_DIR, subset)
    except FileNotFoundError as exc:
        hint = "run `apt-get install dataset-fashion-mnist` or pass `path`"
        raise FileNotFoundError(f"{exc}; {hint}") from None


# ---------------------------------------------------------------- generators


def _check_count(value, name: str, minimum: int) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def mixture_centers(n_features: int = 2, n_centers: int = 5) -> np.ndarray:
    """The centres of :func:`make_mixture`'s components.

    In the first two coordinates, centre 0 is the origin and centres
    ``1, ..., n_centers - 1`` lie on the unit circle at angles
    ``2 pi (m - 1) / n_centers``: the vertices of a regular ``n_centers``-gon
    with one vertex left out, so the picture is not symmetric (for five
    centres: the origin and four vertices of a pentagon, at 0, 72, 144 and
    216 degrees, as in the MIM paper's figures). Every further coordinate
    holds values evenly spaced from ``-10 n_centers`` to ``10 n_centers``
    over all centres and coordinates in turn (the layout of the MIM
    reference code), so in 20-D the components are also far apart in the
    other 18 coordinates.

    Parameters
    ----------
    n_features : int, default=2
        Dimension of the data, at least 2.
    n_centers : int, default=5
        Number of components, at least 1.

    Returns
    -------
    ndarray of shape (n_centers, n_features)
        The centre of each component, float64.

    Examples
    --------
    >>> mixture_centers().round(3)
    array([[ 0.   ,  0.   ],
           [ 1.   ,  0.   ],
           [ 0.309,  0.951],
           [-0.809,  0.588],
           [-0.809, -0.588]])
    """
    n_features = _check_count(n_features, "n_features", 2)
    n_centers = _check_count(n_centers, "n_centers", 1)
    span = 10.0 * n_centers
    centers = np.linspace(-span, span, n_centers * n_features).reshape(
        n_centers, n_features
    )
    angles = 2 * np.pi * np.arange(n_centers - 1) / n_centers
    centers[0, :2] = 0.0
    centers[1:, 0], centers[1:, 1] = np.cos(angles), np.sin(angles)
    return centers


def make_mixture(
    n_samples: int,
    n_features: int = 2,
    *,
    n_centers: int = 5,
    cluster_std: float = 0.25,
    random_state=None,
    return_centers: bool = False,
):
    """Draw from the MIM paper's mixture of isotropic Gaussians.

    Equal-weight components with standard deviation ``cluster_std`` in every
    coordinate, centred at :func:`mixture_centers`: with the defaults, the
    2-D mixture of five Gaussians of standard deviation 0.25 (the origin and
    four points on the unit circle) of Livne, Swersky and Fleet (2019);
    ``n_features=20`` gives their 20-D variant. As in scikit-learn's
    ``make_blobs``, the components get equal numbers of rows (the first
    ``n_samples % n_centers`` one more) and the rows are shuffled.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_features : int, default=2
        Dimension, at least 2 (use 20 for the paper's 20-D data).
    n_centers : int, default=5
        Number of components.
    cluster_std : float, default=0.25
        Standard deviation of each component in every coordinate.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws, as for ``sklearn.datasets.make_blobs``.
    return_centers : bool, default=False
        Whether to return the centres as well.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The samples, float64.
    y : ndarray of shape (n_samples,)
        The component of each row, int64 in ``0, ..., n_centers - 1``.
    centers : ndarray of shape (n_centers, n_features)
        Only when ``return_centers=True``.

    References
    ----------
    M. Livne, K. Swersky and D. J. Fleet, "MIM: Mutual Information Machine",
    arXiv:1910.03175 (2019).

    Examples
    --------
    >>> X, y = make_mixture(1000, random_state=0)
    >>> X.shape, X.dtype, np.bincount(y)
    ((1000, 2), dtype('float64'), array([200, 200, 200, 200, 200]))
    >>> X20, _ = make_mixture(10, n_features=20, random_state=0)
    >>> X20.shape
    (10, 20)
    """
    n_samples = _check_count(n_samples, "n_samples", 1)
    if not (isinstance(cluster_std, Real) and math.isfinite(cluster_std)
            and cluster_std >= 0):
        raise ValueError(
            f"cluster_std must be a finite number >= 0, got {cluster_std!r}"
        )
    centers = mixture_centers(n_features, n_centers)
    rng = check_random_state(random_state)
    y = np.arange(n_samples, dtype=np.int64) % n_centers  # equal counts, as make_blobs
    rng.shuffle(y)
    X = centers[y] + cluster_std * rng.standard_normal((n_samples, centers.shape[1]))
    return (X, y, centers) if return_centers else (X, y)


def make_standard_normal(n_samples: int, random_state=None) -> np.ndarray:
    """Draw x ~ N(0, 1): the mutual autoencoder's "splitting the normal" toy.

    A VAE with a powerful decoder may ignore its latent code on this data
    (the trivial solution I(x; z) = 0); a model that holds I(x; z) at a
    target must split the normal between latent regions instead (Phuong,
    Kushman, Nowozin, Tomioka and Welling, "The Mutual Autoencoder").

    Parameters
    ----------
    n_samples : int
        Number of rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    ndarray of shape (n_samples, 1)
        The samples, float64.

    Examples
    --------
    >>> X = make_standard_normal(10_000, random_state=0)
    >>> X.shape, bool(abs(X.mean()) < 0.05), bool(abs(X.std() - 1) < 0.05)
    ((10000, 1), True, True)
    """
    n_samples = _check_count(n_samples, "n_samples", 1)
    return check_random_state(random_state).standard_normal((n_samples, 1))


def make_uniform_categorical(
    n_samples: int, n_categories: int = 10, random_state=None
) -> np.ndarray:
    """Draw x uniformly from {0, ..., n_categories - 1}: the MAE's categorical toy.

    The mutual autoencoder poster's discrete demo: with a categorical decoder,
    a code that carries the category has I(x; z) up to log(n_categories)
    nats (log 10 = 2.30 for ten categories), and a VAE tends to use none.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_categories : int, default=10
        Number of equally likely categories.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    ndarray of shape (n_samples, 1)
        Integer codes, int64 in ``0, ..., n_categories - 1``.

    Examples
    --------
    >>> X = make_uniform_categorical(5, random_state=0)
    >>> X.ravel(), X.dtype
    (array([5, 0, 3, 3, 7]), dtype('int64'))
    """
    n_samples = _check_count(n_samples, "n_samples", 1)
    n_categories = _check_count(n_categories, "n_categories", 1)
    rng = check_random_state(random_state)
    return rng.randint(n_categories, size=(n_samples, 1)).astype(np.int64)
