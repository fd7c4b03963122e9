"""Fast, exact spectral transforms for any length, built from differentiable torch ops.

Functional API in :mod:`specdsl.transforms.functional`; ``nn.Module`` wrappers
with ``transform``/``inverse_transform`` in the family modules. See
``docs/transforms.md`` for conventions and complexities.
"""

from ._base import Transform
from .cosine import DCT, DCT2D, DST, MDCT
from .fourier import FFT1D, FFT2D, RFFT, RFFT2D, SpectralPooling
from .functional import (
    dct,
    dst,
    dwt,
    dwt2,
    fwht,
    idct,
    idst,
    idwt,
    idwt2,
    ifwht,
    imdct,
    islant,
    mdct,
    sequency_order,
    slant,
    wavedec,
    wavedec2,
    waverec,
    waverec2,
)
from .hadamard import (
    HadamardTransform,
    HadamardTransform2D,
    SequencyHadamardTransform,
    SlantTransform,
)
from .wavelet import DWT1D, DWT2D, MODES, SUPPORTED_WAVELETS

__all__ = [
    "DCT",
    "DCT2D",
    "DST",
    "DWT1D",
    "DWT2D",
    "FFT1D",
    "FFT2D",
    "MDCT",
    "MODES",
    "RFFT",
    "RFFT2D",
    "SUPPORTED_WAVELETS",
    "HadamardTransform",
    "HadamardTransform2D",
    "SequencyHadamardTransform",
    "SlantTransform",
    "SpectralPooling",
    "Transform",
    "dct",
    "dst",
    "dwt",
    "dwt2",
    "fwht",
    "idct",
    "idst",
    "idwt",
    "idwt2",
    "ifwht",
    "imdct",
    "islant",
    "mdct",
    "sequency_order",
    "slant",
    "wavedec",
    "wavedec2",
    "waverec",
    "waverec2",
]
