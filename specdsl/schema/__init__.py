"""Validation: pydantic schemas for specs and the checks that locate every problem."""

from specdsl.schema.spec import HeadSpec, Item, LayerSpec, RepeatSpec, Spec, count_blocks, expand

__all__ = ["HeadSpec", "Item", "LayerSpec", "RepeatSpec", "Spec", "count_blocks", "expand"]
