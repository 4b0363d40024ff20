"""
======================================
Digit codes in a scikit-learn pipeline
======================================

An encoder is a scikit-learn transformer: it goes into a
:class:`~sklearn.pipeline.Pipeline` in front of a classifier, and
:class:`~sklearn.model_selection.GridSearchCV` can tune its latent size like
any other parameter. Here a :class:`~mim_sklearn.MIMEncoder` turns the 8x8
images of :func:`~sklearn.datasets.load_digits` (raw pixel values 0 to 16,
no scaling by hand) into short codes, and a 5-nearest-neighbour classifier
reads the digit from the code.
"""

# %%
# The data and a small encoder
# ----------------------------
# A quarter of the images is kept aside for testing. The encoder is smaller
# and trained for fewer epochs than the defaults (two layers of 128 units,
# up to 200 epochs) so that this page builds in seconds; it then stops
# before it has converged and says so with a ``ConvergenceWarning``, which
# is silenced here.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from mim_sklearn import MIMEncoder
from mim_sklearn.plotting import plot_latent

warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

encoder = MIMEncoder(
    n_components=10,
    hidden_layer_sizes=(128,),
    max_iter=20,
    batch_size=320,
    warmup_epochs=3,
    device="cpu",
    random_state=0,
)
pipe = Pipeline([("mim", encoder), ("knn", KNeighborsClassifier(5))])
pipe.fit(X_train, y_train)
print(f"MIM codes, 10 dimensions: test accuracy {pipe.score(X_test, y_test):.3f}")

# %%
# The same classifier on the first 10 principal components, for comparison:
pca_pipe = Pipeline([("pca", PCA(n_components=10)), ("knn", KNeighborsClassifier(5))])
pca_pipe.fit(X_train, y_train)
print(f"PCA, 10 components:         test accuracy {pca_pipe.score(X_test, y_test):.3f}")

# %%
# Choosing the latent size
# ------------------------
# Pipeline parameters are addressed as ``step__parameter``, so the search
# over the encoder's latent size is written as for any transformer. Each
# candidate is fitted on two thirds of the training images and scored by
# the classifier's accuracy on the remaining third.
search = GridSearchCV(pipe, {"mim__n_components": [2, 5, 10]}, cv=3)
search.fit(X_train, y_train)

sizes = search.cv_results_["param_mim__n_components"].data.astype(int)
mean = search.cv_results_["mean_test_score"]
std = search.cv_results_["std_test_score"]
for n, m, s in zip(sizes, mean, std):
    print(f"n_components={n:2d}: accuracy {m:.3f} ± {s:.3f}")
print("best:", search.best_params_)

fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
ax.errorbar(sizes, mean, yerr=std, marker="o", capsize=3)
ax.set_xticks(sizes)
ax.set_xlabel("n_components")
ax.set_ylabel("5-NN accuracy (3-fold)")
ax.set_title("GridSearchCV over the latent size")

# %%
# Without labels, the same search can rank latent sizes by the encoder's own
# :meth:`~mim_sklearn.MIMEncoder.score`, the mean held-out log-likelihood:
# ``GridSearchCV(MIMEncoder(), {"n_components": [2, 5, 10]})`` with no ``y``.
#
# What the codes look like
# ------------------------
# :func:`~mim_sklearn.plotting.plot_latent` draws each test image's posterior
# q(z|x): a dot at its mean and, for some of them, the ellipse one standard
# deviation wide. The selected codes have more than two dimensions, so the
# plot shows them on their first two principal axes.
best = search.best_estimator_.named_steps["mim"]
ax = plot_latent(best, X_test, y_test, max_ellipses=100)
# sphinx_gallery_thumbnail_number = 2

# %%
# The refitted pipeline is the one the search selected; it predicts like any
# classifier.
print("predicted:", search.predict(X_test[:10]))
print("true:     ", np.asarray(y_test[:10]))
