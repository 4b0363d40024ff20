"""Figures of a fitted encoder: latent space, reconstructions, samples, training.

matplotlib is an optional dependency (``pip install matplotlib``, or
``pip install -e ".[plot]"`` in the clone), imported only when a function
here is called. Functions that draw on one
Axes take ``ax=None`` and return the Axes; those that draw a grid return the
Figure. Nothing here calls ``plt.show()``: show or save the figure yourself.
"""

from __future__ import annotations

import importlib
import math
import warnings
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.decomposition import PCA
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_latent", "plot_loss_curve", "plot_reconstructions", "plot_samples"]

_DATA_COLOR, _MODEL_COLOR = "0.35", "tab:red"


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib: pip install matplotlib"
        ) from exc


def plot_latent(
    estimator,
    X: ArrayLike,
    y: ArrayLike | None = None,
    ax=None,
    *,
    max_ellipses: int = 200,
    show_prior: bool = True,
    random_state=0,
):
    """Draw the posterior q(z|x) of each row: its mean, and a 1-s.d. ellipse.

    As in the MIM paper's Fig. 1: a point at each posterior mean, coloured by
    label, and the one-standard-deviation ellipse of q(z|x) for a random
    subset of rows. With more than two latent dimensions, the means are
    projected on their first two principal axes and each ellipse is the
    projected covariance ``P diag(std**2) P.T``. The dashed circle is the
    prior N(0, I) at one standard deviation (in the projection too: the
    principal axes are orthonormal).

    Parameters
    ----------
    estimator : fitted encoder
        An estimator with ``posterior(X) -> (mean, std)``, such as
        :class:`~mim_sklearn.MIMEncoder`.
    X : array-like of shape (n_samples, n_features)
        Data to encode.
    y : array-like of shape (n_samples,), optional
        Labels to colour by: a legend for up to 20 classes (integers or
        strings), else a colour bar.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    max_ellipses : int, default=200
        Most ellipses to draw (a random subset of rows); all points are drawn.
    show_prior : bool, default=True
        Whether to draw the prior's 1-s.d. circle.
    random_state : int, RandomState instance or None, default=0
        Seed of the choice of rows with ellipses.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mim_sklearn import MIMEncoder
    >>> from mim_sklearn.datasets import make_mixture
    >>> X, y = make_mixture(300, random_state=0)
    >>> mim = MIMEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=2,
    ...                  warmup_epochs=1, device="cpu", random_state=0).fit(X)
    >>> ax = plot_latent(mim, X, y)
    >>> ax.get_xlabel()
    '$z_1$'
    """
    plt = _pyplot()
    from matplotlib.collections import EllipseCollection, LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, Patch

    check_is_fitted(estimator)
    if not isinstance(max_ellipses, Integral) or max_ellipses < 0:
        raise ValueError(f"max_ellipses must be an integer >= 0, got {max_ellipses!r}")
    mean, std = (np.asarray(a, dtype=np.float64) for a in estimator.posterior(X))
    n, d = mean.shape
    colors, legend, scalar_map = _label_colors(y, n)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.6), layout="constrained")
    rng = check_random_state(random_state)
    shown = rng.choice(n, size=min(n, max_ellipses), replace=False)  # random order

    if d == 1:  # a strip: z across, label (or jitter) up, one s.d. as a bar
        shown = np.sort(shown)
        level = _strip_levels(y, n, rng)
        segments = np.stack([np.c_[mean[shown, 0] - std[shown, 0], level[shown]],
                             np.c_[mean[shown, 0] + std[shown, 0], level[shown]]], 1)
        ax.add_collection(LineCollection(segments, colors=colors[shown], alpha=0.5,
                                         linewidths=1.0, zorder=1))
        ax.scatter(mean[:, 0], level, c=colors, s=8, linewidths=0, zorder=2)
        if show_prior:
            ax.axvspan(-1, 1, color="0.9", zorder=0)
        ax.set_xlabel("$z$")
        ax.set_yticks([])
        ax.set_ylabel("label" if y is not None else "")
    else:
        center, cov, (xlabel, ylabel), origin = _project(mean, std)
        widths, heights, angles = _ellipse_axes(cov[shown])
        keep, fill = _thin_ellipses(center[shown], widths, heights)
        shown, widths, heights, angles = (a[:keep] for a in (shown, widths, heights,
                                                             angles))
        ax.add_collection(EllipseCollection(
            widths, heights, angles, units="xy", offsets=center[shown],
            offset_transform=ax.transData, facecolors=_alpha(colors[shown], fill),
            edgecolors=_alpha(colors[shown], min(0.55, 4.5 * fill)), linewidths=0.6,
            zorder=1,
        ))
        ax.scatter(center[:, 0], center[:, 1], c=colors, s=7, linewidths=0, zorder=2)
        # Collections do not grow the data limits: add each ellipse's box.
        half = np.sqrt(np.stack([cov[shown, 0, 0], cov[shown, 1, 1]], axis=1))
        ax.update_datalim(np.vstack([center[shown] - half, center[shown] + half]))
        if show_prior:
            ax.add_patch(Circle(origin, 1.0, fill=False, linestyle="--", color="k",
                                linewidth=1.0, zorder=3))
            ax.update_datalim([origin - 1, origin + 1])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_aspect("equal", adjustable="datalim")
        ax.autoscale_view()
    handles = [Line2D([], [], marker="o", linestyle="", color=c, markersize=5, label=t)
               for t, c in legend]
    handles.append(Patch(facecolor=_alpha("0.4", 0.15), edgecolor=_alpha("0.4", 0.6),
                         label="q(z|x), 1 s.d." if d > 1 else "q(z|x), ±1 s.d."))
    if show_prior:
        handles.append(Line2D([], [], color="k", linestyle="--", linewidth=1.0,
                              label="prior, 1 s.d.") if d > 1 else
                       Patch(color="0.9", label="prior, ±1 s.d."))
    if legend:  # classes: a column at the right
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  fontsize="small", frameon=False, borderaxespad=0.0, title="label")
    else:  # a row below, leaving the right to a colour bar
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                  ncol=len(handles), fontsize="small", frameon=False)
    if scalar_map is not None:
        ax.figure.colorbar(scalar_map, ax=ax, label="label", shrink=0.8)
    ax.set_title(f"{type(estimator).__name__}: posterior q(z|x)")
    return ax


def plot_reconstructions(
    estimator,
    X: ArrayLike,
    *,
    n_examples: int | None = None,
    image_shape: tuple[int, int] | None = None,
    cmap: str = "gray",
):
    """Show rows of X beside their reconstructions ``inverse_transform(transform(X))``.

    Images (rows of ``image_shape`` pixels, or of a square number of at least
    16 features, such as 64 or 784) are shown as a grid: the data in the top
    row, their reconstructions below, on one grey scale. Two-dimensional data
    are shown as points, each joined to its reconstruction by a line; one
    feature as reconstruction against data; other data as one profile per
    row (value against feature index).

    Parameters
    ----------
    estimator : fitted encoder
        A fitted transformer with ``inverse_transform``.
    X : array-like of shape (n_samples, n_features)
        Data; the first ``n_examples`` rows are shown.
    n_examples : int, optional
        Rows to show; default 8 images or profiles, or 500 points.
    image_shape : (int, int), optional
        Shape of an image row; overrides the square guess. Pass it for
        non-square images; to see square data as profiles, use ``(1, n)``.
    cmap : str, default="gray"
        Colour map of images.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import VAEEncoder
    >>> X = load_digits().data[:300]
    >>> vae = VAEEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=2,
    ...                  warmup_epochs=1, device="cpu", random_state=0).fit(X)
    >>> fig = plot_reconstructions(vae, X)
    >>> len(fig.axes)  # 8 images over 8 reconstructions
    16
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    X = check_array(X, dtype=[np.float64, np.float32])
    shape = _image_shape(X.shape[1], image_shape)
    n = _n_shown(n_examples, X.shape[0], 8 if shape or X.shape[1] > 2 else 500)
    data = X[:n]
    recon = np.asarray(estimator.inverse_transform(estimator.transform(data)))
    title = f"{type(estimator).__name__}: data and reconstructions"
    if shape is not None:
        fig = _image_grid(plt, [data, recon], shape, cmap, ["data", "reconstruction"],
                          (data.min(), data.max()))
    elif X.shape[1] <= 2:
        fig, ax = plt.subplots(figsize=(5.0, 4.4), layout="constrained")
        if X.shape[1] == 2:
            from matplotlib.collections import LineCollection

            ax.add_collection(LineCollection(np.stack([data, recon], 1),
                                             colors="0.6", linewidths=0.5, zorder=1))
            ax.scatter(*data.T, s=8, color=_DATA_COLOR, label="data", zorder=2)
            ax.scatter(*recon.T, s=8, color=_MODEL_COLOR, label="reconstruction",
                       zorder=3)
            ax.set_xlabel("$x_1$")
            ax.set_ylabel("$x_2$")
            ax.set_aspect("equal", adjustable="datalim")
        else:
            ax.scatter(data[:, 0], recon[:, 0], s=8, color=_MODEL_COLOR,
                       label="reconstruction")
            low, high = data.min(), data.max()
            ax.plot([low, high], [low, high], "k--", linewidth=1.0, label="identity")
            ax.set_xlabel("$x$")
            ax.set_ylabel(r"$\hat{x}$")
        ax.legend(frameon=False, fontsize="small")
        ax.set_title(title)
        return fig
    else:
        fig = _profile_grid(plt, data, recon)
    fig.suptitle(title)
    return fig


def plot_samples(
    estimator,
    n_samples: int | None = None,
    *,
    random_state=None,
    X: ArrayLike | None = None,
    decoder_mean: bool = False,
    image_shape: tuple[int, int] | None = None,
    cmap: str = "gray",
):
    """Show draws from the model: z ~ p(z), then x ~ p(x|z).

    Images are shown as a square grid; two-dimensional data as points (over
    the data X, if given, for comparison); one feature as a histogram; other
    data by their first two features.

    Parameters
    ----------
    estimator : fitted encoder
        An estimator with ``sample(n_samples, random_state=...)``.
    n_samples : int, optional
        Number of draws; default 36 images or 1000 points.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws; None uses the estimator's ``random_state``.
    X : array-like of shape (n_samples, n_features), optional
        Data drawn in grey behind the samples; for images, its range sets the
        grey scale (else the samples' 1st to 99th percentiles do).
    decoder_mean : bool, default=False
        Show the decoder's mean for each z ~ p(z) instead of a draw from
        p(x|z): the usual picture for images, where the draw adds pixel noise.
    image_shape : (int, int), optional
        As for :func:`plot_reconstructions`.
    cmap : str, default="gray"
        Colour map of images.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mim_sklearn import MIMEncoder
    >>> from mim_sklearn.datasets import make_mixture
    >>> X, _ = make_mixture(300, random_state=0)
    >>> mim = MIMEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=2,
    ...                  warmup_epochs=1, device="cpu", random_state=0).fit(X)
    >>> fig = plot_samples(mim, 200, random_state=0, X=X)
    >>> [len(c.get_offsets()) for c in fig.axes[0].collections]  # data, samples
    [300, 200]
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    n_features = estimator.n_features_in_
    shape = _image_shape(n_features, image_shape)
    n = _n_shown(n_samples, None, 36 if shape else 1000)
    if decoder_mean:
        _, z = estimator.sample(n, random_state=random_state, return_latent=True)
        samples = np.asarray(estimator.inverse_transform(z))
    else:
        samples = np.asarray(estimator.sample(n, random_state=random_state))
    what = "decoder means of z ~ p(z)" if decoder_mean else "samples"
    title = f"{type(estimator).__name__}: {what}"
    data = None if X is None else check_array(X, dtype=[np.float64, np.float32])
    if shape is not None:
        # Draws spill past the data's range; percentiles keep the contrast.
        scale = ((data.min(), data.max()) if data is not None
                 else tuple(np.percentile(samples, [1, 99])))
        fig = _image_grid(plt, [samples], shape, cmap, None, scale)
        fig.suptitle(title)
        return fig
    fig, ax = plt.subplots(figsize=(5.0, 4.4), layout="constrained")
    if n_features == 1:
        both = samples if data is None else np.vstack([samples, data])
        bins = np.histogram_bin_edges(both[:, 0], bins="auto")
        if data is not None:
            ax.hist(data[:, 0], bins=bins, density=True, color="0.8", label="data")
        ax.hist(samples[:, 0], bins=bins, density=True, histtype="step",
                color=_MODEL_COLOR, linewidth=1.5, label=what)
        ax.set_xlabel("$x$")
        ax.set_ylabel("density")
    else:
        if data is not None:
            ax.scatter(data[:, 0], data[:, 1], s=5, color="0.75", linewidths=0,
                       label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=5, color=_MODEL_COLOR,
                   linewidths=0, label=what)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal", adjustable="datalim")
    ax.legend(frameon=False, fontsize="small", markerscale=2)
    ax.set_title(title)
    return fig


def plot_loss_curve(estimator, ax=None):
    """Plot the training loss and the held-out loss per epoch.

    The curves are ``loss_curve_`` and ``validation_loss_curve_`` (the
    latter when early stopping held rows out): the training objective's mean
    loss per row, in the model's internal scaled units, lower is better. The
    warm-up epochs, during which the training loss is not yet the full
    objective, are shaded; a star marks the epoch whose weights were kept.

    Parameters
    ----------
    estimator : fitted encoder
        An estimator with ``loss_curve_`` and ``validation_loss_curve_``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from mim_sklearn import MIMEncoder
    >>> X = load_digits().data[:300]
    >>> mim = MIMEncoder(n_components=2, hidden_layer_sizes=(16,), max_iter=4,
    ...                  warmup_epochs=2, device="cpu", random_state=0).fit(X)
    >>> ax = plot_loss_curve(mim)
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['training', 'held out']
    """
    plt = _pyplot()
    check_is_fitted(estimator)
    train = np.asarray(estimator.loss_curve_, dtype=np.float64)
    losses = getattr(estimator, "validation_loss_curve_", None)
    held_out = None if losses is None else np.asarray(losses, dtype=np.float64)
    if held_out is not None and len(held_out) != len(train):
        warnings.warn(
            f"validation_loss_curve_ has {len(held_out)} entries for {len(train)} "
            "epochs (epochs of partial_fit hold nothing out); the held-out curve "
            "is not drawn",
            UserWarning,
        )
        held_out = None
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 3.6), layout="constrained")
    epochs = np.arange(1, len(train) + 1)
    warmup = min(getattr(estimator, "warmup_epochs_", 0), len(train))
    if warmup > 0:
        ax.axvspan(0.5, warmup + 0.5, color="0.92", zorder=0, label="warm-up")
    ax.plot(epochs, train, color="tab:blue", marker="o", markersize=3, label="training")
    if held_out is not None and len(held_out):
        ax.plot(epochs, held_out, color="tab:orange", marker="o", markersize=3,
                label="held out")
        best = getattr(estimator, "best_loss_", None)
        kept = np.flatnonzero(held_out[warmup:] == best) + warmup
        if len(kept):  # the restored weights' epoch, after the warm-up
            ax.plot(epochs[kept[0]], held_out[kept[0]], marker="*", markersize=13,
                    color="tab:orange", markeredgecolor="k", linestyle="",
                    label="kept", zorder=4)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per row (scaled units)")
    ax.set_xlim(0.5, len(train) + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize="small")
    ax.set_title(f"{type(estimator).__name__}: training")
    return ax


# ----------------------------------------------------------------- internals


def _alpha(colors, alpha: float) -> np.ndarray:
    from matplotlib.colors import to_rgba_array

    rgba = to_rgba_array(colors)
    rgba[:, 3] = alpha
    return rgba


def _thin_ellipses(center, widths, heights, max_layers: float = 25.0):
    """How many of the ellipses to draw, and their fill opacity.

    Total ellipse area over the area they span estimates how many ellipses
    cover a typical spot. Where posteriors are as wide as the prior
    (posterior collapse) hundreds would cover every spot and, as 8-bit
    opacities cannot go below 1/255, paint the plot solid: keep at most
    ``max_layers`` layers' worth, with an opacity that stacks to about 0.2.
    """
    if len(center) == 0:
        return 0, 0.12
    half = np.maximum(widths, heights)[:, None] / 2
    span = np.ptp(np.vstack([center - half, center + half]), axis=0).prod()
    area = np.pi / 4 * widths * heights
    layers_each = np.mean(area) / max(span, 1e-300)
    keep = int(min(len(center), max(10, max_layers / max(layers_each, 1e-300))))
    layers = max(1.0, keep * layers_each)
    return keep, float(min(0.12, 1 - 0.8 ** (1 / layers)))


def _label_colors(y, n: int):
    """RGBA per row, legend entries ``[(text, colour)]`` and a ScalarMappable."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize, to_rgba_array

    if y is None:
        return to_rgba_array(["tab:blue"] * n), [], None
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) like the rows of X, got {y.shape}")
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) <= 20 or y.dtype.kind not in "fc":
        if len(classes) > 20:
            raise ValueError(f"y has {len(classes)} classes; at most 20 can be told "
                             "apart by colour (pass numeric y for a colour bar)")
        palette = colormaps["tab10" if len(classes) <= 10 else "tab20"]
        rgba = palette(codes % palette.N)
        return rgba, [(str(c), palette(i)) for i, c in enumerate(classes)], None
    norm = Normalize(y.min(), y.max())
    mapping = ScalarMappable(norm=norm, cmap=colormaps["viridis"])
    return mapping.to_rgba(y), [], mapping


def _strip_levels(y, n: int, rng) -> np.ndarray:
    """Heights of a 1-D latent strip: one band per class, jittered."""
    jitter = rng.uniform(-0.3, 0.3, size=n)
    if y is None:
        return jitter
    return np.unique(np.asarray(y), return_inverse=True)[1] + jitter


def _project(mean: np.ndarray, std: np.ndarray):
    """Means and covariances in 2-D, axis names, and where the prior's mean lands."""
    if mean.shape[1] == 2:
        cov = np.zeros((len(mean), 2, 2))
        cov[:, 0, 0], cov[:, 1, 1] = std[:, 0] ** 2, std[:, 1] ** 2
        return mean, cov, ("$z_1$", "$z_2$"), np.zeros(2)
    pca = PCA(n_components=2).fit(mean)
    P = pca.components_  # (2, d), orthonormal rows
    cov = np.einsum("id,nd,jd->nij", P, std**2, P)  # P diag(std^2) P^T per row
    share = pca.explained_variance_ratio_
    names = tuple(f"PC {i + 1} of posterior means ({s:.0%} of variance)"
                  for i, s in enumerate(share))
    origin = pca.transform(np.zeros((1, P.shape[1])))[0]
    return pca.transform(mean), cov, names, origin


def _ellipse_axes(cov: np.ndarray):
    """Full axis lengths (2 s.d.) and angle in degrees of 2x2 covariances."""
    values, vectors = np.linalg.eigh(cov)  # ascending eigenvalues
    values = np.clip(values, 0.0, None)
    major = vectors[:, :, 1]
    angles = np.degrees(np.arctan2(major[:, 1], major[:, 0]))
    return 2 * np.sqrt(values[:, 1]), 2 * np.sqrt(values[:, 0]), angles


def _image_shape(n_features: int, image_shape) -> tuple[int, int] | None:
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if len(shape) != 2 or math.prod(shape) != n_features:
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold "
                             f"{n_features} features")
        return None if 1 in shape else shape
    side = math.isqrt(n_features)
    return (side, side) if n_features >= 16 and side * side == n_features else None


def _n_shown(requested, available: int | None, default: int) -> int:
    if requested is None:
        return default if available is None else min(default, available)
    if not isinstance(requested, Integral) or requested < 1:
        raise ValueError(f"the number of rows to show must be a positive integer, "
                         f"got {requested!r}")
    return int(requested) if available is None else min(int(requested), available)


def _image_grid(plt, blocks, shape, cmap, row_names, scale):
    """Images in a grid: one row per block (data, reconstruction), or a square.

    All on one grey ``scale`` (low, high), so that shades compare across cells.
    """
    if row_names is None:  # one block: as square a grid as possible
        images = blocks[0]
        cols = math.ceil(math.sqrt(len(images)))
        rows = math.ceil(len(images) / cols)
        cells = [images[i] if i < len(images) else None for i in range(rows * cols)]
    else:
        rows, cols = len(blocks), len(blocks[0])
        cells = [row for block in blocks for row in block]
    low, high = scale
    size = 1.1 if row_names else 0.9
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols + 0.4, size * rows + 0.5),
                             squeeze=False, layout="constrained")
    for ax, cell in zip(axes.ravel(), cells):
        if cell is not None:
            ax.imshow(np.reshape(cell, shape), cmap=cmap, vmin=low, vmax=high,
                      interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if cell is None:
            ax.set_axis_off()
    for ax, name in zip(axes[:, 0], row_names or []):
        ax.set_ylabel(name, fontsize="small")
    return fig


def _profile_grid(plt, data, recon):
    """One panel per row: the data's values and the reconstruction's, by feature."""
    n = len(data)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 1.9 * rows + 0.4),
                             sharex=True, sharey=True, squeeze=False,
                             layout="constrained")
    features = np.arange(data.shape[1])
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.set_axis_off()
            continue
        ax.plot(features, data[i], color=_DATA_COLOR, marker="o", markersize=2.5,
                linewidth=1.0, label="data")
        ax.plot(features, recon[i], color=_MODEL_COLOR, linestyle="--",
                linewidth=1.2, label="reconstruction")
        ax.set_title(f"row {i}", fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("feature")
    axes[0, 0].legend(frameon=False, fontsize="x-small")
    return fig
