import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.patches import Rectangle
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import make_mixture, make_standard_normal
from mim_sklearn.plotting import (
    _ellipse_axes,
    _project,
    _thin_ellipses,
    plot_latent,
    plot_loss_curve,
    plot_reconstructions,
    plot_samples,
)

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 5, "warmup_epochs": 2,
         "device": "cpu", "random_state": 0}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mixture():
    return make_mixture(300, random_state=0)


@pytest.fixture(scope="module")
def mim2(mixture):
    return MIMEncoder(n_components=2, **SMALL).fit(mixture[0])


@pytest.fixture(scope="module")
def vae_digits(digits):
    return VAEEncoder(n_components=3, **SMALL).fit(digits[0])


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def ellipses(ax):
    return [c for c in ax.collections if isinstance(c, EllipseCollection)]


# ------------------------------------------------------------ matplotlib absent


@pytest.mark.parametrize("call", [
    lambda est, X: plot_latent(est, X),
    lambda est, X: plot_reconstructions(est, X),
    lambda est, X: plot_samples(est),
    lambda est, X: plot_loss_curve(est),
])
def test_clear_error_without_matplotlib(monkeypatch, mim2, mixture, call):
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    with pytest.raises(ImportError,
                       match="plotting needs matplotlib: pip install matplotlib"):
        call(mim2, mixture[0])


# ------------------------------------------------------------------ plot_latent


def test_plot_latent_two_dimensions(mim2, mixture):
    X, y = mixture
    ax = plot_latent(mim2, X, y)
    mean, _ = mim2.posterior(X)
    points = [c for c in ax.collections if not isinstance(c, EllipseCollection)]
    np.testing.assert_allclose(points[0].get_offsets(), mean)
    (coll,) = ellipses(ax)
    # At most max_ellipses = 200 of the 300 rows; fewer where wide posteriors
    # overlap (after 5 epochs they do), never fewer than 10.
    assert 10 <= len(coll.get_offsets()) <= 200
    assert len(ellipses(plot_latent(mim2, X, max_ellipses=10))[0].get_offsets()) == 10
    # Every ellipse sits on one of the posterior means.
    rows = {tuple(np.round(m, 5)) for m in mean}
    assert {tuple(np.round(o, 5)) for o in coll.get_offsets()} <= rows
    assert legend_texts(ax) == ["0", "1", "2", "3", "4", "q(z|x), 1 s.d.",
                                "prior, 1 s.d."]
    assert ax.get_xlabel() == "$z_1$" and ax.get_ylabel() == "$z_2$"
    assert ax.get_aspect() == 1.0
    assert ax.get_title() == "MIMEncoder: posterior q(z|x)"
    assert len(ax.patches) == 1  # the prior circle
    # The view holds every mean.
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= mean[:, 0].min() and mean[:, 0].max() <= x1
    assert y0 <= mean[:, 1].min() and mean[:, 1].max() <= y1


def test_plot_latent_options(mim2, mixture):
    X, y = mixture
    _, ax = plt.subplots()
    assert plot_latent(mim2, X, ax=ax, max_ellipses=0, show_prior=False) is ax
    assert len(ellipses(ax)[0].get_offsets()) == 0
    assert len(ax.patches) == 0
    assert legend_texts(ax) == ["q(z|x), 1 s.d."]
    # Same seed, same subset; a string label works as a class.
    a = plot_latent(mim2, X, np.array(["abcde"[i] for i in y]), random_state=1)
    b = plot_latent(mim2, X, y, random_state=1)
    np.testing.assert_array_equal(ellipses(a)[0].get_offsets(),
                                  ellipses(b)[0].get_offsets())
    assert legend_texts(a)[:5] == list("abcde")


def test_plot_latent_continuous_labels_get_a_colour_bar(mim2, mixture):
    X, _ = mixture
    ax = plot_latent(mim2, X, X[:, 0])
    assert len(ax.figure.axes) == 2  # the plot and its colour bar
    assert ax.figure.axes[1].get_ylabel() == "label"
    assert legend_texts(ax) == ["q(z|x), 1 s.d.", "prior, 1 s.d."]


def test_plot_latent_projects_larger_latents(vae_digits, digits):
    X, y = digits
    ax = plot_latent(vae_digits, X, y)
    mean, _ = vae_digits.posterior(X)
    np.testing.assert_allclose(ax.collections[1].get_offsets(),
                               PCA(2).fit_transform(mean), atol=1e-9)
    assert ax.get_xlabel().startswith("PC 1 of posterior means (")
    assert ax.get_ylabel().endswith("% of variance)")
    assert len(legend_texts(ax)) == 10 + 2


def test_plot_latent_one_dimension(mixture):
    X, y = mixture
    est = MIMEncoder(n_components=1, **SMALL).fit(X)
    ax = plot_latent(est, X, y, max_ellipses=50)
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = np.array(bars.get_segments())
    mean, std = est.posterior(X)
    assert len(segments) == 50
    # Each bar spans mean -+ 1 s.d. of some row, at that row's height.
    half = (segments[:, 1, 0] - segments[:, 0, 0]) / 2
    centre = segments[:, :, 0].mean(axis=1)
    for c, h in zip(centre, half):
        row = np.argmin(np.abs(mean[:, 0] - c))
        assert h == pytest.approx(std[row, 0], rel=1e-5)
    assert ax.get_xlabel() == "$z$"
    assert legend_texts(ax)[-2:] == ["q(z|x), ±1 s.d.", "prior, ±1 s.d."]


def test_projection_maths():
    std = np.array([[1.0, 2.0], [0.5, 0.5]])
    _, cov, _, _ = _project(np.zeros((2, 2)), std)
    np.testing.assert_allclose(cov[0], np.diag([1.0, 4.0]))
    widths, heights, angles = _ellipse_axes(cov)
    np.testing.assert_allclose(widths, [4.0, 1.0])  # full lengths: 2 s.d.
    np.testing.assert_allclose(heights, [2.0, 1.0])
    assert abs(angles[0]) % 180 == pytest.approx(90)  # the long axis is z_2
    # 3-D: P diag(std^2) P^T for the principal axes P of the means.
    rng = np.random.default_rng(0)
    mean, std = rng.standard_normal((50, 3)) * [3, 2, 0.1], rng.uniform(0.1, 1, (50, 3))
    _, cov, _, origin = _project(mean, std)
    P = PCA(2).fit(mean).components_
    np.testing.assert_allclose(cov[7], P @ np.diag(std[7] ** 2) @ P.T)
    np.testing.assert_allclose(origin, -PCA(2).fit(mean).mean_ @ P.T)
    # A covariance along the diagonal gives a 45-degree ellipse.
    widths, heights, angles = _ellipse_axes(np.array([[[2.0, 1.0], [1.0, 2.0]]]))
    np.testing.assert_allclose([widths[0], heights[0]], [2 * np.sqrt(3), 2.0])
    assert angles[0] % 180 == pytest.approx(45)


def test_overlapping_ellipses_are_thinned():
    rng = np.random.default_rng(0)
    # Collapsed posteriors: 200 unit circles on nearly the same point.
    keep, alpha = _thin_ellipses(rng.normal(0, 0.05, (200, 2)), np.full(200, 2.0),
                                 np.full(200, 2.0))
    assert 10 <= keep < 60 and 1 / 255 < alpha < 0.05
    # Small, spread-out ellipses: all kept, at the full opacity.
    keep, alpha = _thin_ellipses(rng.uniform(-5, 5, (200, 2)), np.full(200, 0.1),
                                 np.full(200, 0.1))
    assert (keep, alpha) == (200, 0.12)


def test_plot_latent_errors(mim2, mixture):
    X, y = mixture
    with pytest.raises(ValueError, match=r"y must have shape \(300,\)"):
        plot_latent(mim2, X, y[:10])
    with pytest.raises(ValueError, match="30 classes; at most 20"):
        plot_latent(mim2, X, np.array([f"c{i % 30}" for i in range(300)]))
    with pytest.raises(ValueError, match="max_ellipses must be an integer >= 0"):
        plot_latent(mim2, X, max_ellipses=-1)
    with pytest.raises(NotFittedError):
        plot_latent(MIMEncoder(), X)


# --------------------------------------------------------- plot_reconstructions


def test_plot_reconstructions_images(vae_digits, digits):
    X = digits[0]
    fig = plot_reconstructions(vae_digits, X)
    axes = np.array(fig.axes).reshape(2, 8)
    recon = vae_digits.inverse_transform(vae_digits.transform(X[:8]))
    for i in range(8):
        np.testing.assert_array_equal(axes[0, i].images[0].get_array(),
                                      X[i].reshape(8, 8))
        np.testing.assert_allclose(axes[1, i].images[0].get_array(),
                                   recon[i].reshape(8, 8))
        assert axes[1, i].images[0].get_clim() == (X[:8].min(), X[:8].max())
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["data", "reconstruction"]
    assert fig.get_suptitle() == "VAEEncoder: data and reconstructions"
    assert len(plot_reconstructions(vae_digits, X, n_examples=3).axes) == 6


def test_plot_reconstructions_profiles(vae_digits, digits):
    X = digits[0]
    fig = plot_reconstructions(vae_digits, X, n_examples=5, image_shape=(1, 64))
    recon = vae_digits.inverse_transform(vae_digits.transform(X[:5]))
    shown = [ax for ax in fig.axes if ax.get_lines()]
    assert len(shown) == 5 and len(fig.axes) == 8  # a 2 x 4 grid, 3 empty
    for i, ax in enumerate(shown):
        data_line, recon_line = ax.get_lines()
        np.testing.assert_array_equal(data_line.get_ydata(), X[i])
        np.testing.assert_allclose(recon_line.get_ydata(), recon[i])
    assert legend_texts(shown[0]) == ["data", "reconstruction"]


def test_plot_reconstructions_points(mim2, mixture):
    X = mixture[0]
    fig = plot_reconstructions(mim2, X)
    (ax,) = fig.axes
    (links,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(links.get_segments()) == 300  # all rows (fewer than 500)
    data, recon = [c for c in ax.collections if not isinstance(c, LineCollection)]
    np.testing.assert_array_equal(data.get_offsets(), X)
    np.testing.assert_allclose(recon.get_offsets(),
                               mim2.inverse_transform(mim2.transform(X)))
    assert legend_texts(ax) == ["data", "reconstruction"]
    assert len(plot_reconstructions(mim2, X, n_examples=20).axes[0]
               .collections[0].get_segments()) == 20


def test_plot_reconstructions_one_feature():
    X = make_standard_normal(100, random_state=0)
    est = VAEEncoder(n_components=1, **SMALL).fit(X)
    (ax,) = plot_reconstructions(est, X).axes
    np.testing.assert_array_equal(ax.collections[0].get_offsets()[:, 0], X[:, 0])
    assert legend_texts(ax) == ["reconstruction", "identity"]


def test_plot_reconstructions_errors(vae_digits, digits):
    with pytest.raises(ValueError, match=r"image_shape \(7, 7\) does not hold 64"):
        plot_reconstructions(vae_digits, digits[0], image_shape=(7, 7))
    with pytest.raises(ValueError, match="positive integer, got 0"):
        plot_reconstructions(vae_digits, digits[0], n_examples=0)
    with pytest.raises(NotFittedError):
        plot_reconstructions(VAEEncoder(), digits[0])


# ----------------------------------------------------------------- plot_samples


def test_plot_samples_images(vae_digits, digits):
    fig = plot_samples(vae_digits, random_state=0)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 36 and len(fig.axes) == 36
    drawn = vae_digits.sample(36, random_state=0)
    np.testing.assert_allclose(images[5], drawn[5].reshape(8, 8))
    # Five draws: a 3 x 2 grid with one empty cell; the data set the scale.
    fig = plot_samples(vae_digits, 5, random_state=0, X=digits[0])
    assert len(fig.axes) == 6 and sum(bool(ax.images) for ax in fig.axes) == 5
    assert fig.axes[0].images[0].get_clim() == (0.0, 16.0)


def test_plot_samples_decoder_mean(vae_digits):
    fig = plot_samples(vae_digits, 4, random_state=1, decoder_mean=True)
    _, z = vae_digits.sample(4, random_state=1, return_latent=True)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(),
                               vae_digits.inverse_transform(z)[2].reshape(8, 8))
    assert fig.get_suptitle() == "VAEEncoder: decoder means of z ~ p(z)"


def test_plot_samples_points(mim2, mixture):
    X = mixture[0]
    (ax,) = plot_samples(mim2, 200, random_state=0, X=X).axes
    data, samples = ax.collections
    np.testing.assert_array_equal(data.get_offsets(), X)
    np.testing.assert_allclose(samples.get_offsets(), mim2.sample(200, random_state=0))
    assert legend_texts(ax) == ["data", "samples"]
    assert ax.get_aspect() == 1.0
    (ax,) = plot_samples(mim2).axes  # default: 1000 points, no data
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 1000


def test_plot_samples_one_feature():
    X = make_standard_normal(200, random_state=0)
    est = VAEEncoder(n_components=1, **SMALL).fit(X)
    (ax,) = plot_samples(est, 500, random_state=0, X=X).axes
    assert legend_texts(ax) == ["data", "samples"]
    assert ax.get_ylabel() == "density"
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]  # the data's
    assert len(bars) > 5 and sum(b.get_height() * b.get_width() for b in bars) == (
        pytest.approx(1.0))  # a density


# -------------------------------------------------------------- plot_loss_curve


def test_plot_loss_curve(digits):
    est = MIMEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=8,
                     warmup_epochs=3, device="cpu", random_state=0).fit(digits[0])
    ax = plot_loss_curve(est)
    train, held_out = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, est.n_iter_ + 1))
    np.testing.assert_allclose(train.get_ydata(), est.loss_curve_)
    np.testing.assert_allclose(held_out.get_ydata(), est.validation_loss_curve_)
    assert legend_texts(ax) == ["warm-up", "training", "held out", "kept"]
    shade = ax.patches[0]  # the warm-up; a Rectangle or Polygon by version
    corners = shade.get_patch_transform().transform(shade.get_path().vertices)
    assert corners[:, 0].min() == 0.5 and corners[:, 0].max() == 3.5
    # The star: the epoch whose weights were kept (the best held-out loss).
    (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert star.get_ydata()[0] == est.best_loss_
    assert star.get_xdata()[0] == 1 + np.argmin(est.validation_loss_curve_)
    assert ax.get_xlabel() == "epoch"


def test_plot_loss_curve_without_hold_out_or_warm_up(digits):
    est = VAEEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=3,
                     warmup_epochs=0, early_stopping=False, device="cpu",
                     random_state=0).fit(digits[0])
    ax = plot_loss_curve(est)
    assert legend_texts(ax) == ["training"]
    assert len(ax.patches) == 0


class History(BaseEstimator):
    """Fitted attributes only: epochs of partial_fit have no held-out loss."""

    def __init__(self):
        self.loss_curve_ = [3.0, 2.0, 1.5]
        self.validation_loss_curve_ = [2.5]
        self.warmup_epochs = 0

    def fit(self, X=None):
        return self


def test_plot_loss_curve_mismatched_history_warns():
    with pytest.warns(UserWarning, match="1 entries for 3 epochs"):
        ax = plot_loss_curve(History())
    assert legend_texts(ax) == ["training"]
