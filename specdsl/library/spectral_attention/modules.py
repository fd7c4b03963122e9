"""spectral_attention modules."""

__all__: list[str] = []
