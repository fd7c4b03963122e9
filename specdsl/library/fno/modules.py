"""fno modules."""

__all__: list[str] = []
