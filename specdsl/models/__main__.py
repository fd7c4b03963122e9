"""``python -m specdsl.models [DIRECTORY]``: rewrite the model spec files (default
``architectures``) from the classes' defaults."""

from __future__ import annotations

import sys

from specdsl.models.catalog import write_architectures

if __name__ == "__main__":
    for path in write_architectures(sys.argv[1] if len(sys.argv) > 1 else "architectures"):
        print(path)
