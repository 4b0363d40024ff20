"""The order of the gallery's examples: from a first pipeline to the details."""

from __future__ import annotations

from pathlib import Path

ORDER = [
    "plot_digits_pipeline.py",
    "plot_mixture_latent.py",
    "plot_digit_images.py",
    "plot_mutual_autoencoder.py",
    "plot_importance_samples.py",
]


class GalleryOrder:
    """Sort key for sphinx-gallery: the files in ``ORDER``, then the rest by name."""

    def __init__(self, src_dir=None) -> None:
        self.src_dir = src_dir

    def __repr__(self) -> str:
        return "GalleryOrder"

    def __call__(self, filename) -> tuple[int, str]:
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)
