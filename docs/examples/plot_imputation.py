"""
=====================================
Filling in missing pixels and columns
=====================================

The encoders model missing values: a missing entry contributes no likelihood
term, and the encoder reads which entries are missing.
:class:`~mim_sklearn.LatentImputer` uses that to fill holes with the model's
reconstruction of each row from its observed entries. Here a third of the
pixels of :func:`~sklearn.datasets.load_digits` are removed at random and
filled in, beside scikit-learn's :class:`~sklearn.impute.KNNImputer`; then a
small table of mixed column types, with gaps, goes into an encoder as a
DataFrame.
"""

# %%
# Digits with a third of their pixels missing
# -------------------------------------------
# A default :class:`~mim_sklearn.VAEEncoder`, the imputer's default model,
# with fewer importance draws per row than its default 1,000 so that this
# page builds in seconds. ``benchmarks/imputation.py`` measures the defaults
# over several seeds and rates, beside more imputers.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import KNNImputer

from mim_sklearn import LatentImputer, MIMEncoder, VAEEncoder

warnings.simplefilter("ignore", ConvergenceWarning)

X, _ = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
holes = rng.random(X.shape) < 1 / 3
X_holes = np.where(holes, np.nan, X)

imputer = LatentImputer(
    VAEEncoder(n_importance_samples=200, device="cpu", random_state=0)
)
filled = imputer.fit_transform(X_holes)
knn_filled = KNNImputer().fit_transform(X_holes)


def rmse(completed):
    return np.sqrt(np.mean((completed - X)[holes] ** 2))


print(f"RMSE on the missing pixels: LatentImputer {rmse(filled):.2f}, "
      f"KNNImputer {rmse(knn_filled):.2f}, the column means "
      f"{rmse(np.where(holes, np.nanmean(X_holes, axis=0), X)):.2f}")

# %%
# The first images: the originals, with their holes (grey), and filled in.
rows = {"original": X, "missing (grey)": np.where(holes, 8.0, X),
        "LatentImputer": filled, "KNNImputer": knn_filled}
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 4.4))
for ax_row, (name, images) in zip(axes, rows.items()):
    for ax, image in zip(ax_row, images):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    ax_row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.tight_layout()

# %%
# A table of mixed columns, with gaps
# -----------------------------------
# Numbers, booleans and categories go into the encoder as a DataFrame; each
# column gets its likelihood from its dtype, and what comes back out has the
# table's columns and dtypes. (A plain ``bool`` column with gaps becomes an
# ``object`` column in pandas, modelled as two categories; the nullable
# ``"boolean"`` dtype keeps it a Bernoulli column.) A few hundred rows make
# few optimisation steps an epoch at the default ``batch_size=160``, hence
# smaller batches.
size = rng.normal(size=400)
table = pd.DataFrame({
    "height": 170 + 8 * size + rng.normal(size=400),
    "shoe": pd.array(np.rint(42 + 2 * size), dtype="Int64"),
    "smoker": pd.array(rng.random(400) < 0.3, dtype="boolean"),  # NA-able
    "fit": pd.Categorical(np.where(size > 0.4, "L", np.where(size < -0.4, "S",
                                                           "M"))),
})
table_holes = table.mask(rng.random(table.shape) < 0.2)
encoder = MIMEncoder(n_components=2, hidden_layer_sizes=(32,), batch_size=32,
                     max_iter=60, device="cpu", random_state=0)
codes = encoder.fit_transform(table_holes)
print(encoder.model_.likelihood)
print(encoder.inverse_transform(codes[:5]))
print(LatentImputer(encoder).fit_transform(table_holes).head())
