"""Sphinx configuration of the skdsc documentation."""

import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skdsc  # noqa: E402

project = "skdsc"
author = "the skdsc developers"
copyright = "2026, the skdsc developers"
release = skdsc.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": "Module,_SetOutputMixin,_MetadataRequester"}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme" if os.environ.get("SKDSC_DOC_THEME", "pydata") == "pydata" else "alabaster"
html_static_path = []
nitpicky = False

intersphinx_mapping = {}  # no network at build time

# Examples are executed unless SKDSC_DOC_PLOT=0 (e.g. `make html-noplot`)
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": os.environ.get("SKDSC_DOC_PLOT", "True"),
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}

warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")
