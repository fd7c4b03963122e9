"""blocks modules."""

__all__: list[str] = []
