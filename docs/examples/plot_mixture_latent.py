"""
==================================================
Posteriors on the 2-D mixture: MIM against the VAE
==================================================

The MIM paper's first picture. The data are five Gaussian blobs in the plane
(standard deviation 0.25: one at the origin, four on the unit circle), drawn
by :func:`~mim_sklearn.datasets.make_mixture`. Both models map them to a
2-D latent space with the same networks; they differ only in the loss.
Each posterior q(z|x) is drawn as a dot at its mean and an ellipse one
standard deviation wide.
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from mim_sklearn import MIMEncoder, VAEEncoder
from mim_sklearn.datasets import make_mixture
from mim_sklearn.metrics import encoder_mutual_information, reconstruction_error
from mim_sklearn.plotting import plot_latent, plot_reconstructions, plot_samples

warnings.simplefilter("ignore", ConvergenceWarning)  # few epochs, on purpose

X, y = make_mixture(1000, random_state=0)
settings = dict(
    n_components=2, hidden_layer_sizes=(64, 64), max_iter=60, device="cpu",
    random_state=0,
)
mim = MIMEncoder(**settings).fit(X)
vae = VAEEncoder(**settings).fit(X)

# %%
# The posteriors
# --------------
# MIM gives each blob its own region of the latent space, with posteriors
# much narrower than the prior (the dashed circle): the code pins x down.
# The VAE's posteriors are nearly as wide as the prior along one axis: it
# uses one direction of z and ignores the other, a partial posterior
# collapse.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
plot_latent(mim, X, y, ax=axes[0])
plot_latent(vae, X, y, ax=axes[1])

# %%
# Mutual information and reconstruction
# -------------------------------------
# The same difference in numbers: the KSG estimate of the mutual information
# I(x; z) between the data and one posterior draw per row, and the
# root-mean-square error of decoding each posterior mean.
for name, model in [("MIM", mim), ("VAE", vae)]:
    mi = encoder_mutual_information(model, X, random_state=0)
    rmse = reconstruction_error(model, X)
    print(f"{name}: I(x; z) = {mi:.2f} nats, reconstruction RMSE = {rmse:.3f}, "
          f"{model.n_iter_} epochs")

# %%
# Reconstructions join each point to the decoder's mean at its code.
fig = plot_reconstructions(mim, X, n_examples=300)
fig = plot_reconstructions(vae, X, n_examples=300)

# %%
# Samples
# -------
# Draws from each model, z from the prior and then x from the decoder,
# over the data in grey. The two trade differently. MIM's codes fill only
# the middle of the prior (compare its posteriors above), and the codes the
# prior draws beyond them decode to points far from the data, so its
# samples spread much wider than the data. The VAE's codes cover the prior;
# its samples stay near the data but blur the five blobs into one cloud.
fig = plot_samples(mim, 1000, X=X, random_state=0)
fig = plot_samples(vae, 1000, X=X, random_state=0)
