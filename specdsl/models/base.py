"""``SpecModel``: the base of the documented model classes.

A model class is a thin layer over the compiler: its constructor validates the
documented arguments (through the family's config class), builds a
:class:`~specdsl.schema.spec.Spec` and compiles it with
:class:`CompiledModel` inside :func:`specdsl.compiler.seeded`, exactly as
:func:`specdsl.compiler.compile_spec` does for ``specdsl build``. So
``model.spec`` can be written out with :func:`specdsl.dump` and compiles to the same
weights for the same seed.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import ValidationError

from specdsl.compiler import CompiledModel, seeded
from specdsl.models.configs import ModelConfig
from specdsl.models.specs import cycle, model_spec, problems_text
from specdsl.schema.spec import Item, LayerSpec, Spec

_NOT_ARGUMENTS = ("self", "__class__")
C = TypeVar("C", bound=ModelConfig)


def arguments(frame_locals: Mapping[str, Any]) -> dict[str, Any]:
    """A constructor's arguments from its ``locals()`` (drops ``self`` and ``__class__``)."""
    return {key: value for key, value in frame_locals.items() if key not in _NOT_ARGUMENTS}


#: Fixed arguments of encoders (no head) and decoders (a language-model head).
ENCODER: dict[str, Any] = {"num_classes": None, "output_type": "none"}
DECODER: dict[str, Any] = {"num_classes": None, "output_type": "lm"}


class SpecModel(CompiledModel, Generic[C]):
    """A documented model class: arguments -> ``Spec`` -> compiled model.

    Subclasses set ``config_class`` (their ``...ModelConfig``) and ``spec_name`` (the
    spec's name, also the stem of its file in ``architectures/``), and override
    :meth:`mixer` (one layer, repeated ``num_layers`` times) or :meth:`pattern`.

    Parameters
    ----------
    args : dict
        The constructor's arguments (see :func:`arguments`): the config fields, with
        ``max_sequence_length`` for ``sequence_length``, plus ``causal`` and ``seed``;
        ``fixed_arguments`` are merged over them.

    Attributes
    ----------
    spec : Spec
        The validated spec this model was compiled from.
    blocks : nn.ModuleList
        One block per layer.
    embedding : nn.Embedding or None
        Present when ``vocab_size`` is set.
    output_head : nn.Module
        The head chosen by ``output_type`` / ``num_classes``.
    """

    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    spec_name: ClassVar[str] = "model"
    #: Arguments the class sets itself (encoders: no head; decoders: an LM head).
    fixed_arguments: ClassVar[dict[str, Any]] = {}

    def __init__(self, args: Mapping[str, Any]) -> None:
        spec, config, family = self.prepare(args)
        # Like any nn.Module, a class builds what its (trusted) arguments ask for: the
        # resource guard is for specs from files and text (specdsl.compile / load / build).
        with seeded(spec):
            super().__init__(spec)
        self.norm_eps = config.norm_eps
        self.use_positional_encoding = spec.positional_encoding != "none"
        self.positional_encoding_type = spec.positional_encoding
        for name, value in family.items():
            setattr(self, name, value)

    @classmethod
    def prepare(cls, args: Mapping[str, Any]) -> tuple[Spec, C, dict[str, Any]]:
        """Validate constructor arguments; return the spec, the config and the resolved
        family arguments (no weights are built)."""
        values = {**args, **cls.fixed_arguments}
        seed = values.pop("seed", None)
        causal = values.pop("causal", False)
        config = cls.make_config(values)
        family = cls.resolve(config)
        spec = model_spec(
            cls.spec_name,
            config,
            cls.pattern(config, family),
            causal=causal,
            seed=seed,
            owner=cls.__name__,
            overrides=cls.spec_fields(config, family),
        )
        return spec, config, family

    @classmethod
    def spec_for(cls, *args: Any, **kwargs: Any) -> Spec:
        """The spec ``cls(*args, **kwargs)`` compiles, without building any weight.

        Examples
        --------
        >>> spec = LSTDecoder.spec_for(vocab_size=10000)
        >>> specdsl.dump(spec, format="sdsl").splitlines()[-2].strip()
        'layers = repeat 12 [lst(transform_type=dst)]'
        """
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        bound.apply_defaults()
        return cls.prepare(arguments(bound.arguments))[0]

    # -- hooks for the families -------------------------------------------------------

    @classmethod
    def resolve(cls, config: C) -> dict[str, Any]:
        """The family's own arguments, resolved (e.g. ``modes_seq`` None -> n // 2).

        They become attributes of the model and feed :meth:`mixer` / :meth:`pattern`.
        """
        return {}

    @classmethod
    def spec_fields(cls, config: C, family: dict[str, Any]) -> dict[str, Any]:
        """Model-level spec fields the family sets itself (default: none)."""
        return {}

    @classmethod
    def mixer(cls, config: C, family: dict[str, Any]) -> LayerSpec:
        """The token mixer of every block (for single-mixer models)."""
        raise NotImplementedError(f"{cls.__name__} defines neither mixer nor pattern")

    @classmethod
    def pattern(cls, config: C, family: dict[str, Any]) -> list[Item]:
        """The layer pattern: by default ``repeat num_layers [mixer]``."""
        return cycle([cls.mixer(config, family)], config.num_layers)

    # -- configs ------------------------------------------------------------------------

    @classmethod
    def make_config(cls, values: Mapping[str, Any]) -> C:
        """Validate constructor arguments with the family's config class.

        Raises
        ------
        ValueError
            Naming each bad argument, its value and the allowed range.
        """
        data = {
            "sequence_length" if k == "max_sequence_length" else k: v for k, v in values.items()
        }
        try:
            return cls.config_class(**data)  # type: ignore[return-value]
        except ValidationError as err:
            raise ValueError(f"{cls.__name__}: {problems_text(err)}") from None

    @classmethod
    def config_arguments(cls, config: ModelConfig) -> dict[str, Any]:
        """Constructor keyword arguments equivalent to ``config`` (before filtering)."""
        data = config.model_dump(exclude={"model_type"})
        data["max_sequence_length"] = data.pop("sequence_length")
        return data

    @classmethod
    def from_config(cls, config: ModelConfig | Mapping[str, Any]) -> Self:
        """Build the model from a documented config object (or a dict of its fields).

        ``sequence_length`` becomes ``max_sequence_length``. Config fields this class
        does not take must be left at their defaults (an encoder has no ``num_classes``).

        Raises
        ------
        ValueError
            For an invalid config, or a set field this class cannot use.
        """
        if not isinstance(config, ModelConfig):
            try:
                config = cls.config_class.model_validate(dict(config))
            except ValidationError as err:
                raise ValueError(f"{cls.__name__}.from_config: {problems_text(err)}") from None
        accepted = inspect.signature(cls.__init__).parameters
        fields = type(config).model_fields
        kwargs: dict[str, Any] = {}
        for name, value in cls.config_arguments(config).items():
            if name in accepted:
                kwargs[name] = value
            elif name not in fields or value != fields[name].default:
                raise ValueError(
                    f"{cls.__name__} does not take {name} (set to {value!r} in"
                    f" {type(config).__name__})"
                )
        return cls(**kwargs)
