"""The built-in layer library: one sub-package per family, each registering its layers.

Importing this package registers every layer's schema and cost formula without
importing torch; each family's ``modules`` file holds the torch modules.
"""

from specdsl.library.base import (
    COMPLEXITIES,
    REGISTRY,
    Cost,
    Dims,
    LayerConfig,
    LayerEntry,
    fft_flops,
    linear_cost,
    max_complexity,
    register_layer,
)

#: Layer families, one sub-package each: ``__init__`` (schemas + costs, no torch) and
#: ``modules`` (torch modules). Importing them registers their layers.
FAMILIES = (
    "fourier",
    "global_filter",
    "afno",
    "wavelet",
    "fno",
    "attention",
    "spectral_attention",
    "lst",
    "blocks",
)

from specdsl.library import (  # noqa: E402,F401  (registration)
    afno,
    attention,
    blocks,
    fno,
    fourier,
    global_filter,
    lst,
    spectral_attention,
    wavelet,
)

__all__ = [
    "COMPLEXITIES",
    "FAMILIES",
    "REGISTRY",
    "Cost",
    "Dims",
    "LayerConfig",
    "LayerEntry",
    "fft_flops",
    "linear_cost",
    "max_complexity",
    "register_layer",
]
