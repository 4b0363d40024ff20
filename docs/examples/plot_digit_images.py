"""
=================================
Image samples and reconstructions
=================================

What an encoder keeps of an image, and what its decoder makes up. The MIM
paper shows this on MNIST; MNIST does not ship with mim_sklearn and this
page is built without it, so the example uses the 8x8 digit images that
ship with scikit-learn (:func:`~sklearn.datasets.load_digits`). The same
code runs on MNIST's 28x28 rows, read from local IDX files with
:func:`~mim_sklearn.datasets.load_mnist` (see the end of the page).
"""

# %%
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.plotting import plot_loss_curve, plot_reconstructions, plot_samples

warnings.simplefilter("ignore", ConvergenceWarning)  # few epochs, on purpose

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

# %%
# A MIM encoder and a VAE with the same networks and 10 latent dimensions,
# trained for at most 60 epochs (the default is 200).
settings = dict(
    n_components=10, hidden_layer_sizes=(128,), max_iter=60, device="cpu",
    random_state=0,
)
mim = MIMEncoder(**settings).fit(X_train)
vae = VAEEncoder(**settings).fit(X_train)

# %%
# Reconstructions
# ---------------
# Test images (top row) and the decoder's mean at each image's posterior
# mean (bottom row), on one grey scale. First MIM:
fig = plot_reconstructions(mim, X_test)

# %%
# then the VAE, on the same images:
fig = plot_reconstructions(vae, X_test)

# %%
# Samples
# -------
# Codes drawn from the prior N(0, I), decoded. ``decoder_mean=True`` shows
# the decoder's mean for each code, the usual picture for images: a draw
# from p(x|z) adds independent noise to every pixel. MIM on the left, the
# VAE on the right.
fig = plot_samples(mim, 36, decoder_mean=True, X=X_train, random_state=0)
fig = plot_samples(vae, 36, decoder_mean=True, X=X_train, random_state=0)
# sphinx_gallery_thumbnail_number = 3

# %%
# Training
# --------
# The loss per epoch on the training rows and on the 10 % held out for early
# stopping. During the shaded warm-up epochs part of the loss is still being
# phased in, so those values do not compare with later ones; the star marks
# the epoch whose weights were kept.
ax = plot_loss_curve(mim)

# %%
# Held-out log-likelihood
# -----------------------
# :meth:`~mim_sklearn.MIMEncoder.score` is the mean log-likelihood of the
# test images, estimated by importance sampling (in nats, for pixel values
# 0 to 16; greater is better).
print(f"MIM: {mim.score(X_test):.1f}   VAE: {vae.score(X_test):.1f}")

# %%
# On MNIST
# --------
# With MNIST's IDX files in a local folder (nothing is downloaded), only the
# loading changes; the plots recognise 784-pixel rows as 28x28 images::
#
#     from mim_sklearn.datasets import load_mnist
#
#     X, y = load_mnist("path/to/mnist", subset="train")
#     mim = MIMEncoder(n_components=20, random_state=0).fit(X)
#     plot_reconstructions(mim, X[:8])
#     plot_samples(mim, 36, decoder_mean=True, X=X)
#
# For binarized images use ``likelihood="bernoulli"`` on
# ``(X > 127).astype("float32")``, and
# ``architecture="conv"`` with ``image_shape=(1, 28, 28)`` for convolutional
# networks (see :doc:`/choosing`).
