"""spectral_attention layers (to be registered)."""

__all__: list[str] = []
