"""airspeed-velocity benchmarks of skdsc."""
