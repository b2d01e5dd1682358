"""skdsc.preprocessing: patches of gridded fields, their reassembly, 4D <-> tabular."""

from ._flatten import FieldFlattener
from ._patches import ChannelScaler, PatchExtractor, patches_to_grid, stack_time_as_channels

__all__ = [
    "ChannelScaler",
    "FieldFlattener",
    "PatchExtractor",
    "patches_to_grid",
    "stack_time_as_channels",
]
