"""Load MNIST and Fashion-MNIST from local IDX files (raw or gzip); never download.

The loaders return ``(X, y)``: raw pixels 0..255 as float32 rows and int64 labels.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["load_fashion_mnist", "load_idx", "load_mnist"]

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
    X, y : numpy.ndarray
        As for :func:`load_mnist`: X of shape (n_samples, 784), y in 0..9.

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
