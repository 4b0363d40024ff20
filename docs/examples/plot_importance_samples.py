"""
================================================
How many importance samples does ``score`` need?
================================================

``score_samples`` estimates each row's log-likelihood log p(x) by importance
sampling: it draws K codes z_k from the encoder's posterior q(z|x) and
averages the weights p(x|z_k) p(z_k) / q(z_k|x), in log space. K is the
parameter ``n_importance_samples`` (default 1000). The estimate is random:
it depends on the draws. This example measures how much, by scoring the
same fitted models with different draws.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mim_sklearn import MIMEncoder, VAEEncoder

warnings.simplefilter("ignore", ConvergenceWarning)  # few epochs, on purpose

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
X_test = X_test[:200]
settings = dict(
    n_components=10, hidden_layer_sizes=(128,), max_iter=60, device="cpu",
    random_state=0,
)
models = {"MIM": MIMEncoder(**settings).fit(X_train),
          "VAE": VAEEncoder(**settings).fit(X_train)}

# %%
# Scoring again with other draws
# -------------------------------
# The draws are seeded by the estimator's ``random_state``, so repeated calls
# give the same numbers. Changing ``random_state`` after fitting gives a new
# set of draws and leaves the fitted weights alone; changing
# ``n_importance_samples`` changes K. For each K, the 200 test rows are
# scored with 8 sets of draws.
draws = [1, 10, 100, 1000]
seeds = range(8)
runs = {}
for name, model in models.items():
    runs[name] = np.array([
        [model.set_params(n_importance_samples=k, random_state=seed)
         .score_samples(X_test) for seed in seeds]
        for k in draws
    ])  # shape (len(draws), len(seeds), rows)

print(f"{'':4s} {'K':>5s} {'score':>9s} {'s.d. of score':>14s} {'s.d. per row':>13s}")
for name, r in runs.items():
    for k, by_seed in zip(draws, r):
        score = by_seed.mean(axis=1)  # what score(X_test) returns, per seed
        print(f"{name:4s} {k:5d} {score.mean():9.2f} {score.std():14.3f} "
              f"{np.median(by_seed.std(axis=0)):13.3f}")

# %%
# What the numbers say
# --------------------
# * **The estimate rises with K.** On average it is a lower bound on
#   log p(x) that tightens as K grows, so a larger K gives a larger score
#   for the same model. Compare models only at the same K.
# * **Its spread shrinks with K**, both for one row ("s.d. per row", the
#   median over rows) and for ``score``, their mean.
# * **The spread of** ``score`` **does not average away over rows.** Every
#   row is scored with the same K standard normal draws (shifted and scaled
#   by its own posterior), so that a row's estimate does not depend on the
#   other rows. The rows' errors are then alike, and the mean over 200 rows
#   varies far more than a mean of 200 independent estimates would (that
#   spread would be one row's divided by √200, about 14).
# * **It depends on the model.** The estimate is good when q(z|x) is close to
#   the model's true posterior p(z|x). Here the two differ: look at how fast
#   each model's score still rises between K = 100 and K = 1000, and at its
#   spread.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for name, r in runs.items():
    score = r.mean(axis=2)  # (draws, seeds)
    axes[0].errorbar(draws, score.mean(axis=1), yerr=score.std(axis=1),
                     marker="o", capsize=3, label=name)
    axes[1].plot(draws, np.median(r.std(axis=1), axis=1), marker="o", label=name)
axes[0].set_ylabel("score (mean log-likelihood, nats)")
axes[0].set_title(f"score ± s.d. over {len(seeds)} sets of draws")
axes[1].set_ylabel("s.d. of one row's estimate (median)")
axes[1].set_title("spread of a row's estimate")
axes[1].set_yscale("log")
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("K = n_importance_samples")
    ax.legend(frameon=False)

# %%
# In practice: keep the default K = 1000 (or more) to report a likelihood,
# keep ``random_state`` fixed so that two evaluations use the same draws,
# and treat differences smaller than the spread measured here as noise. A
# smaller K is cheaper (the cost grows linearly with K) and good enough to
# rank models whose scores differ by much more than the spread.
