"""The MIM paper's 2-D mixture (Fig. 1-2): MIM against the VAE as capacity grows.

Protocol (Livne, Swersky and Fleet, arXiv:1910.03175, Fig. 1-2, and its
reference code's ``toy4`` commands): x from the mixture of five Gaussians of
standard deviation 0.25 (``make_mixture``: the origin and four points on the
unit circle), a 2-D latent, encoder and decoder of two tanh layers of h units
for h in 5, 20 and 500, the decoder outputting a variance per z as the
reference's does. ``MIMEncoder`` and ``VAEEncoder`` with the same
networks and settings: batches of 128, Adam at 1e-3, a 3-epoch warm-up, at
most 200 epochs, early stopping with a patience of 3 epochs on a held-out
10 % of the 10,000 training draws. Each seed draws its own training and
test sets (10,000 rows each). Measured on the test draws: the KSG mutual
information between x and z ~ q(z|x) (k = 5), the NLL (minus ``score``,
importance-sampled with K = 1000 draws, on the first 1,000 test rows), the
reconstruction RMSE of decoding the posterior mean, and the 5-NN accuracy of
the mixture component from the posterior means and from one posterior draw
per row (the codes the paper classifies). Mean and s.d. over seeds,
beside the paper's values read off the reference code's figures
(``images/toy4/stats``). The figure ``paper_mixture_2d_posteriors.png``
redraws the paper's Fig. 1 for the first seed (reconstructions above,
posteriors below); ``paper_mixture_2d_metrics.png`` its Fig. 2.

Run ``python benchmarks/paper_mixture_2d.py`` for the paper's 10 seeds,
``--seeds N`` for the first N, ``--quick`` for a smoke run (one seed, 2,000
rows, 15 epochs). Measured wall time of the paper's protocol on one thread
(``OMP_NUM_THREADS=1``), with scratch jobs on the machine's other core part
of the time: 10 seeds (60 fits) took 1,026 s, 17 minutes (``wall_s`` in
``docs/results/paper_mixture_2d.json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from _common import RESULTS_DIR
from _mixture_protocol import parse_args, run_protocol

from mim_sklearn.plotting import plot_latent, plot_reconstructions

NAME = "paper_mixture_2d"
PAPER_SOURCE = ("read by eye off the figures of the paper's reference code, "
                "github.com/seraphlabs-ca/MIM images/toy4/stats, to about 2 "
                "significant digits")
# Paper values by metric, then (model, hidden units). The paper's NLL is a
# one-draw estimate of -log q(x) and its reconstruction error the mean
# Euclidean distance to a decoder draw at z ~ q(z|x): not our quantities.
PAPER = {
    "mutual_information": {("MIM", 5): 4.9, ("MIM", 20): 6.75, ("MIM", 500): 6.8,
                           ("VAE", 5): 0.0, ("VAE", 20): 0.2, ("VAE", 500): 1.4},
    "test_nll": {("MIM", 5): 3.2, ("MIM", 20): 3.2, ("MIM", 500): 3.15,
                 ("VAE", 5): 2.0, ("VAE", 20): 1.97, ("VAE", 500): 1.81},
    "reconstruction_rmse": {("MIM", 5): 0.25, ("MIM", 20): 0.005, ("MIM", 500): 0.01,
                            ("VAE", 5): 1.17, ("VAE", 20): 1.07, ("VAE", 500): 0.52},
    "knn5_accuracy_draws": {("MIM", 5): 0.82, ("MIM", 20): 0.95, ("MIM", 500): 0.95,
                            ("VAE", 5): 0.21, ("VAE", 20): 0.28, ("VAE", 500): 0.73},
}


def plot_posteriors(fitted: dict, data: tuple, path: Path) -> None:
    """The paper's Fig. 1: reconstructions (top) and posteriors (bottom).

    ``plot_reconstructions`` draws a figure of its own: each is rendered and
    placed in the grid as an image, beside ``plot_latent`` on live axes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, _, X_test, y_test = data
    fig, axes = plt.subplots(2, len(fitted), figsize=(3.3 * len(fitted), 6.4),
                             layout="constrained")
    for col, ((model, hidden), est) in enumerate(sorted(fitted.items())):
        panel = plot_reconstructions(est, X_test, n_examples=500)
        panel.canvas.draw()
        axes[0, col].imshow(np.asarray(panel.canvas.buffer_rgba()))
        plt.close(panel)
        axes[0, col].set_axis_off()
        axes[0, col].set_title(f"{model}, {hidden} units")
        plot_latent(est, X_test[:1000], y_test[:1000], ax=axes[1, col])
        axes[1, col].set_title(f"{model}, {hidden} units: q(z|x)", fontsize="medium")
        if col < len(fitted) - 1:
            axes[1, col].get_legend().remove()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    budget, hidden_units, quick = parse_args(
        __doc__, "--hidden-units", (5, 20, 500), (5, 20, 500),
        "hidden units per layer (the paper's Fig. 1: 5 20 500)")
    name = f"{NAME}_quick" if quick else NAME
    configs = {h: {"n_components": 2, "hidden_layer_sizes": (h, h)}
               for h in hidden_units}
    setup = {"data": "make_mixture(n, 2): five Gaussians, s.d. 0.25", "latent_dims": 2,
             "quick": quick, "paper_source": PAPER_SOURCE}
    run_protocol(name, 2, configs, "hidden_units", budget, setup, PAPER,
                 "hidden units per layer",
                 lambda fitted, data: plot_posteriors(
                     fitted, data, RESULTS_DIR / f"{name}_posteriors.png"))


if __name__ == "__main__":
    main()
