"""Model selection helpers: choosing the number of clusters."""

from ._scree import ScreeResult, elbow_point, plot_scree, scree_curve

__all__ = ["ScreeResult", "elbow_point", "plot_scree", "scree_curve"]
