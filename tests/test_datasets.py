import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from mim_sklearn import datasets
from mim_sklearn.datasets import load_fashion_mnist, load_idx, load_mnist

REAL_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def idx_bytes(array, type_code=0x08):
    """Serialise a uint8 array in the IDX format."""
    header = bytes([0, 0, type_code, array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, **kwargs):
    data = idx_bytes(array, **kwargs)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_split(directory, subset="train", n=5, n_labels=None,
                gz=False, shape=(28, 28)):
    """Write a small MNIST-format split; return the images and labels written."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    n_labels = n if n_labels is None else n_labels
    labels = rng.integers(0, 10, size=n_labels, dtype=np.uint8)
    prefix = "train" if subset == "train" else "t10k"
    suffix = ".gz" if gz else ""
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("name", ["data-idx3-ubyte", "data-idx3-ubyte.gz"])
def test_load_idx_round_trip(tmp_path, name):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    loaded = load_idx(write_idx(tmp_path / name, array))
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, array)
    loaded[0, 0, 0] = 1  # the result is writable


def test_load_idx_one_dimension(tmp_path):
    array = np.array([0, 9, 255], dtype=np.uint8)
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / "l", array)), array)


def test_load_idx_rejects_other_type_code(tmp_path):
    path = write_idx(tmp_path / "floats", np.zeros(4, np.uint8), type_code=0x0D)
    with pytest.raises(ValueError, match=r"floats: unsupported IDX type code 0x0d"):
        load_idx(path)


def test_load_idx_rejects_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x00\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match=r"bad: not an IDX file"):
        load_idx(path)


@pytest.mark.parametrize(
    "cut, problem, actual", [(-1, "truncated", 5), (None, "too long", 7)]
)
@pytest.mark.parametrize("name", ["x-idx2-ubyte", "x-idx2-ubyte.gz"])
def test_load_idx_payload_size(tmp_path, name, cut, problem, actual):
    data = idx_bytes(np.zeros((2, 3), np.uint8))
    data = data[:cut] if cut else data + b"\x00"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    match = rf"{name}: payload {problem}: expected 6 bytes .* got {actual}"
    with pytest.raises(ValueError, match=match):
        load_idx(path)


def test_load_idx_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2]))
    with pytest.raises(ValueError, match="short: not an IDX file .*truncated header"):
        load_idx(path)


def test_load_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10, np.uint8)))[:-6])
    with pytest.raises(ValueError, match="broken.gz: cannot decompress"):
        load_idx(path)


@pytest.mark.parametrize("subset", ["train", "test"])
@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_round_trip(tmp_path, subset, gz):
    images, labels = write_split(tmp_path, subset, n=5, gz=gz)
    X, y = load_mnist(tmp_path, subset=subset)
    assert X.shape == (5, 784) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(5, 784))  # unscaled 0..255
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_flattens_any_image_size(tmp_path):
    images, _ = write_split(tmp_path, "train", n=3, gz=True, shape=(4, 5))
    X, _ = load_mnist(str(tmp_path))
    assert X.shape == (3, 20)
    np.testing.assert_array_equal(X, images.reshape(3, 20))


def test_load_mnist_prefers_raw_file_when_both_exist(tmp_path):
    write_split(tmp_path, n=2, gz=True)
    _, labels = write_split(tmp_path, n=3)
    X, y = load_mnist(tmp_path)
    assert X.shape == (3, 784)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_empty_split(tmp_path):
    write_split(tmp_path, "test", n=0)
    X, y = load_mnist(tmp_path, subset="test")
    assert X.shape == (0, 784) and y.shape == (0,)


def test_load_mnist_mismatched_counts(tmp_path):
    write_split(tmp_path, n=5, n_labels=4)
    with pytest.raises(ValueError, match="holds 5 images but .* holds 4 labels"):
        load_mnist(tmp_path)


@pytest.mark.parametrize(
    "name, shape, ndim, magic",
    [("train-images-idx3-ubyte", (5, 784), 3, 2051),
     ("train-labels-idx1-ubyte", (5, 1), 1, 2049)],
)
def test_load_mnist_wrong_dimensions(tmp_path, name, shape, ndim, magic):
    write_split(tmp_path)
    write_idx(tmp_path / name, np.zeros(shape, np.uint8))
    match = rf"{name}: expected {ndim} dimension\(s\) \(magic {magic}\), got 2"
    with pytest.raises(ValueError, match=match):
        load_mnist(tmp_path)


def test_load_mnist_wrong_type_code(tmp_path):
    write_split(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte"
    write_idx(labels, np.zeros(5, np.uint8), type_code=0x0C)
    with pytest.raises(ValueError, match="labels-idx1-ubyte: unsupported IDX type"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_subset(tmp_path):
    with pytest.raises(ValueError, match="must be 'train' or 'test', got 'valid'"):
        load_mnist(tmp_path, subset="valid")


def test_load_mnist_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    match = rf"directory {re.escape(str(missing))} does not exist.*must be provided"
    with pytest.raises(FileNotFoundError, match=match):
        load_mnist(missing)


def test_load_mnist_missing_file(tmp_path):
    write_split(tmp_path, "train")
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="labels-idx1-ubyte.*must be provided"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, subset="test")


def test_load_fashion_mnist_explicit_path(tmp_path):
    _, labels = write_split(tmp_path, "test", n=4, gz=True)
    X, y = load_fashion_mnist(tmp_path, subset="test")
    assert X.shape == (4, 784)
    np.testing.assert_array_equal(y, labels)


def test_load_fashion_mnist_default_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion"):
        load_fashion_mnist()
    (tmp_path / "absent").mkdir()  # a default directory without the files
    with pytest.raises(FileNotFoundError, match="images-idx3-ubyte.*apt-get install"):
        load_fashion_mnist(subset="test")
    # Without the default, no apt hint: the caller chose the path.
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / "absent")
    assert "apt-get" not in str(info.value)


DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def test_load_fashion_mnist_reads_the_debian_location_by_default():
    """Without a path, the loader reads where dataset-fashion-mnist installs."""
    if not (DEBIAN_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz").is_file():
        # Not installed: the error names that directory and the package.
        where = re.escape(str(DEBIAN_FASHION_MNIST))
        with pytest.raises(FileNotFoundError, match=rf"{where}.*dataset-fashion-mnist"):
            load_fashion_mnist(subset="test")
        return
    X, y = load_fashion_mnist(subset="test")
    X_there, y_there = load_mnist(DEBIAN_FASHION_MNIST, subset="test")
    assert X.shape == (10000, 784) and set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(X, X_there)
    np.testing.assert_array_equal(y, y_there)


@pytest.mark.skipif(
    not REAL_MNIST.is_dir(), reason=f"real MNIST not available at {REAL_MNIST}"
)
def test_load_real_mnist():
    for subset, n in [("train", 60000), ("test", 10000)]:
        X, y = load_mnist(REAL_MNIST, subset=subset)
        assert X.shape == (n, 784) and X.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert X.min() == 0 and X.max() == 255
        assert set(np.unique(y)) == set(range(10))


# ------------------------------------------------------------------ generators


def test_mixture_centers_layout():
    centers = datasets.mixture_centers()
    # The origin and four vertices of a regular pentagon on the unit circle.
    np.testing.assert_array_equal(centers[0], [0.0, 0.0])
    angles = np.degrees(np.arctan2(centers[1:, 1], centers[1:, 0]))
    np.testing.assert_allclose(angles, [0, 72, 144, -144], atol=1e-12)
    np.testing.assert_allclose(np.hypot(*centers[1:].T), 1.0)
    # 20-D: the same first two coordinates; the others far apart, evenly spaced.
    centers20 = datasets.mixture_centers(20)
    np.testing.assert_allclose(centers20[:, :2], centers)
    gaps = np.diff(centers20[:, 2:], axis=0)
    np.testing.assert_allclose(gaps, gaps[0, 0])  # a constant step
    assert gaps[0, 0] == pytest.approx(100 / 99 * 20)  # 100 values over [-50, 50]
    assert datasets.mixture_centers(3, n_centers=1).tolist() == [[0.0, 0.0, 10.0]]


def test_make_mixture_two_dimensions():
    X, y, centers = datasets.make_mixture(5000, random_state=0, return_centers=True)
    assert X.shape == (5000, 2) and X.dtype == np.float64
    assert y.shape == (5000,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [1000] * 5)  # as make_blobs
    np.testing.assert_array_equal(centers, datasets.mixture_centers())
    assert not np.all(np.diff(y) >= 0)  # shuffled
    for c in range(5):
        rows = X[y == c]
        # Means within 5 standard errors (0.25 / sqrt(1000)); std 0.25 +- 5%.
        np.testing.assert_allclose(rows.mean(0), centers[c], atol=5 * 0.25 / 1000**0.5)
        np.testing.assert_allclose(rows.std(0), 0.25, rtol=0.05)


def test_make_mixture_twenty_dimensions():
    X, y = datasets.make_mixture(500, 20, cluster_std=0.5, random_state=1)
    assert X.shape == (500, 20)
    centers = datasets.mixture_centers(20)
    # Far-apart centres: every row is nearest its own component's centre.
    nearest = np.argmin(((X[:, None, :] - centers) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest, y)
    assert (X - centers[y]).std() == pytest.approx(0.5, rel=0.05)


def test_make_mixture_counts_and_options():
    _, y = datasets.make_mixture(7, random_state=0)
    np.testing.assert_array_equal(np.bincount(y), [2, 2, 1, 1, 1])
    X, y = datasets.make_mixture(9, n_features=3, n_centers=3, cluster_std=0.0,
                                 random_state=0)
    np.testing.assert_array_equal(X, datasets.mixture_centers(3, 3)[y])


def test_make_mixture_random_state_as_make_blobs():
    a = datasets.make_mixture(50, random_state=3)
    b = datasets.make_mixture(50, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    rng = np.random.RandomState(0)  # an instance advances: two calls differ
    assert not np.array_equal(datasets.make_mixture(50, random_state=rng)[0],
                              datasets.make_mixture(50, random_state=rng)[0])
    assert not np.array_equal(datasets.make_mixture(50)[0],
                              datasets.make_mixture(50)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"n_samples": 0}, "n_samples must be an integer >= 1, got 0"),
    ({"n_samples": 2.5}, "n_samples must be an integer >= 1, got 2.5"),
    ({"n_samples": 10, "n_features": 1}, "n_features must be an integer >= 2, got 1"),
    ({"n_samples": 10, "n_centers": 0}, "n_centers must be an integer >= 1, got 0"),
    ({"n_samples": 10, "cluster_std": -1.0},
     "cluster_std must be a finite number >= 0"),
    ({"n_samples": 10, "cluster_std": float("nan")}, "cluster_std must be a finite"),
])
def test_make_mixture_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.make_mixture(**kwargs)


def test_make_standard_normal():
    from scipy.stats import kstest

    X = datasets.make_standard_normal(4000, random_state=0)
    assert X.shape == (4000, 1) and X.dtype == np.float64
    assert kstest(X[:, 0], "norm").pvalue > 0.01
    np.testing.assert_array_equal(
        X, datasets.make_standard_normal(4000, random_state=0)
    )
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        datasets.make_standard_normal(-3)


def test_make_uniform_categorical():
    from scipy.stats import chisquare

    X = datasets.make_uniform_categorical(10_000, random_state=0)
    assert X.shape == (10_000, 1) and X.dtype == np.int64
    counts = np.bincount(X[:, 0])
    assert len(counts) == 10 and chisquare(counts).pvalue > 0.01
    X3 = datasets.make_uniform_categorical(100, n_categories=3, random_state=1)
    assert set(np.unique(X3)) == {0, 1, 2}
    np.testing.assert_array_equal(
        X3, datasets.make_uniform_categorical(100, 3, random_state=1)
    )
    with pytest.raises(ValueError, match="n_categories must be an integer >= 1, got 0"):
        datasets.make_uniform_categorical(10, n_categories=0)
