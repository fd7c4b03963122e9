"""global_filter modules."""

__all__: list[str] = []
