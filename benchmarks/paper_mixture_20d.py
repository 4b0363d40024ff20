"""The MIM paper's 20-D mixture bottleneck: MIM against the VAE as the latent grows.

Protocol (Livne, Swersky and Fleet, arXiv:1910.03175, appendix F.5, and its
reference code's ``toy4_20`` commands): x from the mixture of five Gaussians
of standard deviation 0.25 in 20 dimensions (``make_mixture(n, 20)``), a
latent of d = 2, 4, ..., 20 dimensions, encoder and decoder of two tanh
layers of 50 units, the decoder outputting a variance per z as the
reference's does. ``MIMEncoder`` and ``VAEEncoder`` with the same networks
and settings: batches of 128, Adam at 1e-3, a 3-epoch warm-up, at most 200
epochs, early stopping with a patience of 3 epochs on a held-out 10 % of the
10,000 training draws. Each seed draws its own training and test sets
(10,000 rows each). Measured on the test draws, as in
``paper_mixture_2d.py``: the KSG mutual information between x and
z ~ q(z|x) (k = 5), the NLL (minus ``score``, K = 1000 importance draws, on
the first 1,000 test rows), the reconstruction RMSE and the 5-NN accuracy of
the component from the posterior means and from one posterior draw per row.
The paper's claim: the VAE's
posterior collapse worsens as the latent grows (its mutual information and
accuracy fall), MIM's does not; the VAE keeps the better NLL. Mean and s.d.
over seeds beside the paper's values read off the reference code's figures
(``images/toy4_20/stats``); ``paper_mixture_20d_metrics.png`` redraws them.

Run ``python benchmarks/paper_mixture_20d.py`` for the paper's 10 seeds,
``--seeds N`` for the first N, ``--latent-dims`` for a subset of latent
sizes, ``--quick`` for a smoke run (one seed, latent sizes 2, 10 and 20,
2,000 rows, 15 epochs; about 2 minutes). Measured wall time of the paper's
protocol on one thread (``OMP_NUM_THREADS=1``), the machine's other core
idle: 10 seeds of 10 latent sizes (200 fits) took 2,042 s, 34 minutes
(``wall_s`` in ``docs/results/paper_mixture_20d.json``).
"""

from __future__ import annotations

from _mixture_protocol import parse_args, run_protocol

NAME = "paper_mixture_20d"
LATENT_DIMS = tuple(range(2, 21, 2))
PAPER_SOURCE = ("read by eye off the figures of the paper's reference code, "
                "github.com/seraphlabs-ca/MIM images/toy4_20/stats, to about 2 "
                "significant digits; its data are not standardised and its NLL and "
                "reconstruction error are other quantities than ours (see the page)")


def _paper(mim: tuple[float, ...], vae: tuple[float, ...]) -> dict:
    """Paper values over ``LATENT_DIMS`` as ``{(model, d): value}``."""
    return {**{("MIM", d): v for d, v in zip(LATENT_DIMS, mim)},
            **{("VAE", d): v for d, v in zip(LATENT_DIMS, vae)}}


PAPER = {
    "mutual_information": _paper(
        (0.81, 1.72, 1.90, 1.88, 1.87, 1.85, 1.77, 1.79, 1.73, 1.69),
        (1.38, 1.42, 1.38, 1.27, 1.16, 1.14, 1.06, 0.93, 0.88, 0.82)),
    "test_nll": _paper(
        (88, 93, 99.5, 107, 114, 124, 132, 140, 146, 155),
        (76, 78, 79, 81, 85, 81, 83, 87, 86, 91)),
    "reconstruction_rmse": _paper(
        (144.4, 143.9, 144.7, 144.0, 144.4, 145.3, 145.8, 146.0, 145.7, 146.3),
        (144.8, 147.5, 150.0, 151.0, 151.5, 151.6, 152.7, 153.5, 153.4, 155.0)),
    "knn5_accuracy_draws": _paper(
        (0.985, 0.998, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        (0.92, 0.93, 0.91, 0.86, 0.80, 0.80, 0.76, 0.69, 0.685, 0.645)),
}


def main():
    budget, latent_dims, quick = parse_args(
        __doc__, "--latent-dims", LATENT_DIMS, (2, 10, 20),
        "latent sizes (the paper's: 2 4 ... 20)")
    name = f"{NAME}_quick" if quick else NAME
    configs = {d: {"n_components": d, "hidden_layer_sizes": (50, 50)}
               for d in latent_dims}
    setup = {"data": "make_mixture(n, 20): five Gaussians, s.d. 0.25",
             "hidden_units": 50, "quick": quick, "paper_source": PAPER_SOURCE}
    run_protocol(name, 20, configs, "latent_dims", budget, setup, PAPER,
                 "latent dimensions")


if __name__ == "__main__":
    main()
