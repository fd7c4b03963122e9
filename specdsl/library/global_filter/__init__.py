"""GFNet global filters (registered by the layers work)."""

__all__: list[str] = []
