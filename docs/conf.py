"""Sphinx configuration of the mim_sklearn documentation (``make docs``).

Nothing here reaches the network: no intersphinx, and the gallery links only
to this package's own API pages. The build runs with warnings as errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(REPO))

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

import mim_sklearn  # noqa: E402

# The gallery's networks are tiny: one torch thread is enough for them, and
# unlike two it does not slow down several times over when the other core is
# busy (seen on the two-core development machine).
torch.set_num_threads(1)

project = "mim_sklearn"
author = "the mim_sklearn developers"
copyright = "the mim_sklearn developers"  # noqa: A001
release = mim_sklearn.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "benchmark_results",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# -- API pages ---------------------------------------------------------------

# api.rst lists every public name.
autosummary_generate = ["api.rst"]
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_member_order = "groupwise"
numpydoc_class_members_toctree = False
numpydoc_show_inherited_class_members = {
    # torch.nn.Module has hundreds of members, none of them ours
    "mim_sklearn.nn.BernoulliLikelihood": False,
    "mim_sklearn.nn.CategoricalLikelihood": False,
    "mim_sklearn.nn.GaussianLikelihood": False,
    "mim_sklearn.nn.LatentVariableModel": False,
    "mim_sklearn.nn.MixedLikelihood": False,
    "mim_sklearn.nn.PixelCNNLikelihood": False,
    "mim_sklearn.nn.Likelihood": False,
    "mim_sklearn.nn.Prior": False,
    "mim_sklearn.nn.MixtureOfGaussiansPrior": False,
    "mim_sklearn.nn.StandardNormalPrior": False,
    "mim_sklearn.nn.VampPrior": False,
    # nor does Exception
    "mim_sklearn.exceptions.PosteriorCollapseWarning": False,
    "mim_sklearn.exceptions.TrainingDivergedError": False,
}
# Every docstring the API pages show is validated, and with -W a finding fails
# the build: all of numpydoc's checks but the extended summary (ES01), See
# Also (SA01) and Examples (EX01), which not every method has.
numpydoc_validation_checks = {"all", "ES01", "SA01", "EX01"}
numpydoc_validation_exclude = {
    # torch's one-line hook for the module's repr, documented by torch
    r"\.extra_repr$",
    # inherited from scikit-learn, documented there
    r"\.(fit_transform|get_params|set_params|set_output)$",
    r"\.(get_feature_names_out|get_metadata_routing|set_\w+_request)$",
    # class attributes documented with #: comments, which numpydoc reads
    # through their value's type (bool, int, None)
    r"\.(discrete|encoder_input_bounds|scales_input|supports_missing|n_start_rows)$",
    r"\.(binary|sequential_sampling|codes_categories)$",
}
add_function_parentheses = False
toc_object_entries_show_parents = "hide"

# -- Markdown pages ----------------------------------------------------------

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.GalleryOrder",
    "capture_repr": (),  # show what the examples print, not their last values
    "download_all_examples": False,
    "doc_module": ("mim_sklearn",),
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "image_srcset": [],
    "plot_gallery": "True",
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"mim_sklearn {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "getting_started": [], "benchmarks": []}
html_context = {"default_mode": "light"}


# -- Links in docstrings inherited from scikit-learn ---------------------------
# The estimators inherit methods such as set_output and get_metadata_routing,
# whose docstrings point at pages of scikit-learn's own documentation. Without
# intersphinx (nothing is fetched at build time) those references cannot be
# resolved: show their text unlinked. References anywhere else still warn.


def _unlink_inherited_sklearn_refs(app, env, node, contnode):
    if "docstring of sklearn." in (node.source or ""):
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _unlink_inherited_sklearn_refs)
