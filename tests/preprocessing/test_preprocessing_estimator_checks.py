"""scikit-learn's estimator checks for the preprocessing transformers that take 2D input.

PatchExtractor is left out: it needs (n_samples, lat, lon[, var]) grids, which the
checks' 2D data cannot provide; its contract is tested in test_patch_extraction.py.
"""

from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdsc.preprocessing import ChannelScaler, FieldFlattener


@parametrize_with_checks([FieldFlattener(), ChannelScaler(), ChannelScaler(StandardScaler())])
def test_sklearn_compatible(estimator, check):
    check(estimator)
