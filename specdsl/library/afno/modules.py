"""afno modules."""

__all__: list[str] = []
