"""wavelet modules."""

__all__: list[str] = []
