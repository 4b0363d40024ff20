import numpy as np
import pytest
from scipy.special import digamma
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import KDTree

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import make_mixture
from mim_sklearn.metrics import (
    _count_within,
    encoder_mutual_information,
    ksg_mutual_information,
    reconstruction_error,
)


def gaussian_pair(n, d, rho, seed):
    """x, z in d dimensions, each pair (x_m, z_m) correlated by rho."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    z = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    return x, z


def gaussian_mi(d, rho):
    return -d / 2 * np.log(1 - rho**2)


def ksg_by_definition(x, z, k):
    """KSG estimator 1 read literally: a loop over points, brute-force distances."""
    x, z = x.reshape(len(x), -1), z.reshape(len(z), -1)
    n = len(x)
    total = 0.0
    for i in range(n):
        dx = np.abs(x - x[i]).max(axis=1)
        dz = np.abs(z - z[i]).max(axis=1)
        eps = np.sort(np.maximum(dx, dz))[k]  # [0] is the point itself
        n_x = np.count_nonzero(dx < eps) - 1
        n_z = np.count_nonzero(dz < eps) - 1
        total += digamma(n_x + 1) + digamma(n_z + 1)
    return digamma(k) + digamma(n) - total / n


# ------------------------------------------------------------------ exactness


@pytest.mark.parametrize("dx, dz", [(1, 1), (2, 2), (1, 2), (3, 1), (2, 4)])
@pytest.mark.parametrize("ties", [False, True])
def test_ksg_equals_literal_definition(dx, dz, ties):
    rng = np.random.default_rng(dx * 10 + dz)
    x = rng.standard_normal((300, dx))
    z = x[:, :1] + rng.standard_normal((300, dz))
    if ties:  # coarse values of x: many points exactly on a neighbourhood's edge
        x = np.round(4 * x) / 4
    for k in (1, 5):
        expected = ksg_by_definition(x, z, k)
        assert ksg_mutual_information(x, z, n_neighbors=k) == pytest.approx(
            expected, rel=1e-12, abs=1e-12
        )


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_fast_counts_equal_tree_counts(d, offset):
    # The sorted-array counts (1-D, 2-D) must reproduce the tree's strict
    # max-norm count exactly, also where rounding of x +- eps could misplace
    # a boundary point (large offsets, quantised values, many ties).
    rng = np.random.default_rng(d)
    points = offset + np.round(rng.standard_normal((2000, d)) * 8) / 8
    eps = rng.choice([1 / 8, 1 / 4, 0.3, 1e-3], size=2000)  # some exactly on the grid
    tree = KDTree(points, metric="chebyshev")
    expected = tree.query_radius(points, np.nextafter(eps, 0), count_only=True)
    np.testing.assert_array_equal(_count_within(points, eps), expected)


def test_ksg_is_symmetric_and_ignores_row_order():
    x, z = gaussian_pair(1000, 2, 0.5, seed=1)
    mi = ksg_mutual_information(x, z)
    assert ksg_mutual_information(z, x) == mi
    order = np.random.default_rng(0).permutation(1000)
    assert ksg_mutual_information(x[order], z[order]) == pytest.approx(mi, rel=1e-12)


def test_ksg_one_dimensional_arrays_are_columns():
    x, z = gaussian_pair(500, 1, 0.7, seed=2)
    assert ksg_mutual_information(x.ravel(), z.ravel()) == ksg_mutual_information(x, z)
    assert ksg_mutual_information(x.ravel().tolist(), z) == ksg_mutual_information(x, z)


# ----------------------------------------------------- against the closed form

# Tolerances come from 40 seeds per case at n = 4000, k = 5 (measured with this
# implementation; they agree with Kraskov et al. 2004, Figs. 3-4): for d <= 2
# the bias is within +-0.01 nats and the standard deviation at most 0.021, so
# 0.08 is the bias plus about 3.5 standard deviations. For d = 3 the estimator
# is biased low as the dependence grows (a known property of KSG): bias -0.008
# and -0.040 at rho = 0.3 and 0.6, standard deviation <= 0.016, hence 0.11.
@pytest.mark.parametrize(
    "d, rho, tol",
    [(1, 0.0, 0.08), (1, 0.3, 0.08), (1, 0.6, 0.08), (1, 0.9, 0.08),
     (2, 0.0, 0.08), (2, 0.3, 0.08), (2, 0.6, 0.08), (2, 0.9, 0.08),
     (3, 0.0, 0.08), (3, 0.3, 0.08), (3, 0.6, 0.11)],
)
def test_ksg_matches_correlated_gaussians(d, rho, tol):
    x, z = gaussian_pair(4000, d, rho, seed=d * 100 + round(rho * 10))
    assert ksg_mutual_information(x, z) == pytest.approx(gaussian_mi(d, rho), abs=tol)


def test_ksg_underestimates_strong_dependence_in_high_dimension():
    # d = 3, rho = 0.9 (I = 2.49 nats): bias -0.20 +- 0.02 at n = 4000. The
    # estimate is low but still clearly large; a test of the known limitation.
    x, z = gaussian_pair(4000, 3, 0.9, seed=7)
    true = gaussian_mi(3, 0.9)
    assert true - 0.35 < ksg_mutual_information(x, z) < true - 0.08


@pytest.mark.parametrize("k", [2, 10])
def test_ksg_other_neighbour_counts(k):
    x, z = gaussian_pair(4000, 2, 0.6, seed=11)
    assert ksg_mutual_information(x, z, n_neighbors=k) == pytest.approx(
        gaussian_mi(2, 0.6), abs=0.08
    )


def test_ksg_independence_is_near_zero_and_can_be_negative():
    estimates = [ksg_mutual_information(*gaussian_pair(2000, 2, 0.0, seed=s))
                 for s in range(6)]
    assert max(abs(e) for e in estimates) < 0.06  # sd 0.012 at n = 2000
    assert min(estimates) < 0  # not clipped


def test_ksg_deterministic_function_of_x_is_large():
    x = np.random.default_rng(3).uniform(-1, 1, size=(3000, 1))
    z = x**3 + 1e-6 * np.random.default_rng(4).standard_normal((3000, 1))
    assert ksg_mutual_information(x, z) > 3.0


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "x, z, kwargs, match",
    [
        (np.zeros((10, 2)), np.zeros((9, 2)), {}, "same number of rows, got 10 and 9"),
        (np.ones((10, 1)), np.ones((10, 1)), {"n_neighbors": 0}, r"\[1, 9\], got 0"),
        (np.ones((10, 1)), np.ones((10, 1)), {"n_neighbors": 10}, r"\[1, 9\], got 10"),
        (np.ones((10, 1)), np.ones((10, 1)), {"n_neighbors": 2.0}, "got 2.0"),
        (np.ones((10, 1)), np.ones((10, 1)), {"n_neighbors": True}, "got True"),
        (np.array([0.0, np.nan, 1.0]), np.zeros(3), {}, "x contains NaN"),
        (np.arange(3.0), [0.0, np.inf, 1.0], {}, "z contains infinity"),
        (np.zeros((2, 2, 2)), np.zeros((2, 1)), {}, "Found array with dim 3"),
        (np.zeros(1), np.zeros(1), {}, "minimum of 2 is required"),
        (np.array(["a", "b"]), np.zeros(2), {}, "could not convert|numeric"),
    ],
)
def test_ksg_rejects_bad_input(x, z, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ksg_mutual_information(x, z, **kwargs)


def test_ksg_rejects_repeated_rows():
    x = np.repeat(np.arange(20.0), 10)[:, None]  # each row 9 exact duplicates
    with pytest.raises(ValueError, match="200 rows of .* at least n_neighbors=5 exact"):
        ksg_mutual_information(x, x)
    # Continuous z breaks the ties in the joint space: then it is defined.
    z = np.random.default_rng(0).standard_normal((200, 1))
    assert np.isfinite(ksg_mutual_information(x, z))


# ---------------------------------------------------------- encoder helpers


class ShiftEncoder(BaseEstimator):
    """A stand-in fitted encoder: z = x[:, :1] + noise; x_hat = x + shift."""

    def __init__(self, noise, shift=0.0):
        self.noise, self.shift = noise, shift
        self.fitted_ = True  # for check_is_fitted

    def fit(self, X, y=None):
        return self

    def sample_posterior(self, X, random_state=None):
        rng = np.random.default_rng(random_state)
        return X[:, :1] + self.noise * rng.standard_normal((len(X), 1))

    def transform(self, X):
        return X

    def inverse_transform(self, Z):
        return Z + self.shift


def test_encoder_mi_is_ksg_of_data_and_posterior_draws():
    X, _ = make_mixture(400, random_state=0)
    est = MIMEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=5,
                     warmup_epochs=2, device="cpu", random_state=0).fit(X)
    mi = encoder_mutual_information(est, X, random_state=3)
    z = est.sample_posterior(X, random_state=3)
    assert mi == ksg_mutual_information(X, z)
    assert encoder_mutual_information(est, X, random_state=3) == mi  # seeded
    assert encoder_mutual_information(est, X, n_neighbors=3, random_state=3) == (
        ksg_mutual_information(X, z, n_neighbors=3)
    )
    assert mi > 0.05  # 5 epochs: an informative code, if a weak one (0.17 nats)


def test_encoder_mi_tracks_posterior_noise():
    X = np.random.default_rng(0).standard_normal((2000, 2))
    # z = x_1 + noise of sd s: I = log(sqrt(1 + s^2) / s) = 1.61, 0.80, 0.11.
    for noise, true in [(0.2, 1.629), (0.5, 0.805), (2.0, 0.112)]:
        mi = encoder_mutual_information(ShiftEncoder(noise), X, random_state=1)
        assert mi == pytest.approx(true, abs=0.08)


def test_encoder_mi_needs_a_fitted_estimator(digits):
    with pytest.raises(NotFittedError):
        encoder_mutual_information(MIMEncoder(), digits[0])


def test_reconstruction_error_hand_computed():
    X = np.random.default_rng(0).standard_normal((50, 3))
    assert reconstruction_error(ShiftEncoder(0.0, shift=0.25), X) == pytest.approx(0.25)
    X_int = np.arange(12).reshape(4, 3)  # integer input is accepted as float
    assert reconstruction_error(ShiftEncoder(0.0, shift=-2.0), X_int) == 2.0


def test_reconstruction_error_of_pca():
    X = np.random.default_rng(0).standard_normal((100, 5)) * [3, 2, 1, 0.1, 0.1]
    assert reconstruction_error(PCA(n_components=5).fit(X), X) < 1e-12
    # Dropping the two last directions leaves their variance: RMSE^2 = 0.02 / 5.
    err = reconstruction_error(PCA(n_components=3).fit(X), X)
    assert err == pytest.approx(np.sqrt(0.02 / 5), rel=0.3)


@pytest.mark.parametrize("cls", [MIMEncoder, VAEEncoder])
def test_reconstruction_error_of_encoder_is_rmse_in_x_units(cls, digits):
    X = digits[0]
    est = cls(n_components=2, hidden_layer_sizes=(16,), max_iter=5,
              warmup_epochs=2, device="cpu", random_state=0).fit(X)
    expected = np.sqrt(np.mean((est.inverse_transform(est.transform(X)) - X) ** 2))
    err = reconstruction_error(est, X)
    assert isinstance(err, float) and err == pytest.approx(expected, rel=1e-12)
    assert 0 < err < X.std() * 1.5  # pixel units 0..16; no worse than the mean image


def test_reconstruction_error_needs_a_fitted_estimator(digits):
    with pytest.raises(NotFittedError):
        reconstruction_error(VAEEncoder(), digits[0])
