"""The registry through which clustering methods plug into the ``skdsc`` command.

Each method module calls :func:`register_method` at import time, so a new estimator
appears in ``skdsc cluster --method ...`` without the CLI knowing about it.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

__all__ = ["MethodSpec", "register_method", "get_method", "available_methods"]


@dataclass
class MethodSpec:
    """How the command line builds and runs one method.

    Attributes
    ----------
    name : str
        The ``--method`` value.
    factory : callable
        Called as ``factory(n_clusters=..., random_state=..., **params)`` and returning
        an unfitted estimator.
    input : {"samples", "grid-cells", "image", "patches", "multimodal"}
        What the method clusters: ``"samples"`` clusters the entries of the sample
        dimension (time steps of a field, rows of a table); ``"grid-cells"`` clusters
        the grid cells of a ``(time, lat, lon)`` field by their series; ``"image"``
        clusters the pixels of a ``(y, x, band)`` cube; ``"patches"`` clusters
        patches and maps them back to grid cells; ``"multimodal"`` takes several
        arrays.
    run : callable, optional
        ``run(estimator, data, options) -> labels``; ``data`` is a ``DataArray``
        (or a list of them for ``"multimodal"``), ``options`` the parsed CLI
        namespace. Returns labels as a ``DataArray`` (preferred) or an ndarray.
        When None, ``estimator.fit_predict(data)`` is used.
    description : str
        One line for ``skdsc cluster --help``.
    cli_options : list of tuple
        Extra ``(flag, kwargs)`` pairs for ``argparse.add_argument`` that the
        method's ``run`` reads from ``options``.
    demo_params : dict
        Estimator parameters ``skdsc demo`` uses for this method (a light
        configuration that finishes in a few minutes on 2 CPU cores).
    """

    name: str
    factory: Callable
    input: str = "samples"
    run: Optional[Callable] = None
    description: str = ""
    cli_options: list = field(default_factory=list)
    demo_params: dict = field(default_factory=dict)


_METHODS = {}


def register_method(name, factory, *, input="samples", run=None, description="", cli_options=(),
                    demo_params=None):
    """Register a clustering method for the ``skdsc`` command line (see :class:`MethodSpec`)."""
    _METHODS[name] = MethodSpec(
        name=name,
        factory=factory,
        input=input,
        run=run,
        description=description,
        cli_options=list(cli_options),
        demo_params=dict(demo_params or {}),
    )
    return _METHODS[name]


def _load():
    from . import cluster  # noqa: F401  (importing the methods registers them)


def get_method(name):
    """Return the :class:`MethodSpec` registered under ``name``."""
    _load()
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; available: {', '.join(sorted(_METHODS))}"
        ) from None


def available_methods():
    """Return the sorted names of every registered method."""
    _load()
    return sorted(_METHODS)
