"""wavelet layers (to be registered)."""

__all__: list[str] = []
