"""Common base class of the transform modules."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Transform(nn.Module):
    """Parameter-free spectral transform; ``forward`` is an alias of :meth:`transform`.

    Subclasses implement ``transform(x, dim=...)`` and, when the transform is
    invertible, ``inverse_transform(X, dim=...)``.
    """

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        """Alias of :meth:`transform`."""
        return self.transform(x, *args, **kwargs)

    def transform(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        """Apply the transform (implemented by subclasses)."""
        raise NotImplementedError
