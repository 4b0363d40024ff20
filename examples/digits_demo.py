"""Fit MIM, A-MIM, a VAE and PCA on the digits data and compare them.

Each method encodes raw ``load_digits()`` pixels (no scaling by the user) and
is measured by 5-fold cross-validation: the 5-NN accuracy of its codes, the
reconstruction RMSE and log-likelihood of the held-out fold, and the seconds
one fit takes. Run ``make demo``, or ``python examples/digits_demo.py``.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

from mim_sklearn import AMIMEncoder, MIMEncoder, VAEEncoder

N_COMPONENTS = 10


def evaluate(make_encoder, X, y, n_splits=5):
    """Cross-validated 5-NN accuracy, RMSE, log-likelihood and fit time."""
    results = {"accuracy": [], "rmse": [], "log_likelihood": [], "fit_seconds": []}
    for train, test in StratifiedKFold(n_splits).split(X, y):
        encoder = make_encoder()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            encoder.fit(X[train])
        results["fit_seconds"].append(time.perf_counter() - start)
        knn = KNeighborsClassifier(5).fit(encoder.transform(X[train]), y[train])
        Z_test = encoder.transform(X[test])
        results["accuracy"].append(knn.score(Z_test, y[test]))
        residual = encoder.inverse_transform(Z_test) - X[test]
        results["rmse"].append(float(np.sqrt(np.mean(residual**2))))
        results["log_likelihood"].append(encoder.score(X[test]))
    return {name: float(np.mean(values)) for name, values in results.items()}


def main():
    X, y = load_digits(return_X_y=True)
    methods = {
        "MIM": lambda: MIMEncoder(N_COMPONENTS, random_state=0),
        "A-MIM": lambda: AMIMEncoder(N_COMPONENTS, random_state=0),
        "VAE": lambda: VAEEncoder(N_COMPONENTS, random_state=0),
        "PCA": lambda: PCA(N_COMPONENTS, random_state=0),
    }
    print(f"load_digits: {X.shape[0]} images of {X.shape[1]} pixels, "
          f"{N_COMPONENTS} latent dimensions, 5-fold cross-validation\n")
    header = f"{'method':<8}{'5-NN acc':>10}{'RMSE':>8}{'log-lik':>10}{'fit s':>8}"
    print(header)
    print("-" * len(header))
    for name, make_encoder in methods.items():
        r = evaluate(make_encoder, X, y)
        print(f"{name:<8}{r['accuracy']:>10.3f}{r['rmse']:>8.3f}"
              f"{r['log_likelihood']:>10.1f}{r['fit_seconds']:>8.1f}", flush=True)
    print("\nlog-lik: mean held-out log p(x) in nats per image (importance-sampled "
          "for the neural encoders; PCA's is probabilistic PCA's).")


if __name__ == "__main__":
    main()
