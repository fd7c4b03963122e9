"""Hybrid models: spectral and spatial token mixers interleaved across the blocks."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import ENCODER, SpecModel, arguments
from specdsl.models.configs import (
    AlternatingTransformerConfig,
    AlternationPattern,
    HybridModelConfig,
    OutputHeadType,
    PositionalEncodingType,
    SpatialType,
    SpectralType,
)
from specdsl.models.layers import layer_spec
from specdsl.models.specs import custom_items, cycle
from specdsl.schema.spec import Item, LayerSpec

#: One period of each built-in alternation pattern (S = spectral, P = spatial).
PERIODS = {"even_spectral": "SP", "alternate": "SPPS"}


def hybrid_layers(config: HybridModelConfig) -> tuple[LayerSpec, LayerSpec]:
    """The spectral and spatial layers a hybrid config describes."""
    spectral = layer_spec(
        config.spectral_type,
        config.spectral_config,
        argument="spectral_config",
        kind_argument="spectral_type",
    )
    spatial = layer_spec(
        config.spatial_type,
        config.spatial_config,
        argument="spatial_config",
        kind_argument="spatial_type",
        defaults={"num_heads": config.num_heads},
    )
    return spectral, spatial


class HybridTransformer(SpecModel[HybridModelConfig]):
    """Spectral blocks interleaved with spatial (attention) blocks.

    The layer order is set by ``alternation_pattern`` and always visible in
    ``model.spec``:

    - ``even_spectral``: spectral on blocks 0, 2, 4, ..., spatial on the odd ones
      (``repeat L/2 [S, P]``);
    - ``alternate``: pairs whose order alternates, S P P S S P P S ...
      (``repeat L/4 [S, P, P, S]``), so both kinds meet both neighbours;
    - ``custom``: ``custom_pattern``, a layer pattern for one period or the whole stack,
      in which ``spectral`` and ``spatial`` stand for the configured layers, e.g.
      ``"spectral, spectral, spatial"`` or ``"repeat 2 [spectral], attention(num_heads=4)"``.

    A period that does not divide ``num_layers`` is cut short at the end, so odd
    ``num_layers`` work with every pattern. The common arguments (``num_classes``,
    ``dropout``, ``norm_eps``, ``output_type``, ...) are those of
    :class:`~specdsl.models.fnet.FNet`, with the same defaults.

    Parameters
    ----------
    vocab_size : int, optional
        Token vocabulary; None means the model takes ``inputs_embeds``.
    hidden_dim, num_layers, max_sequence_length : int
        Defaults 768, 12, 512.
    spectral_type : str
        ``fourier`` (default), ``wavelet``, ``afno`` or ``gfnet``.
    spatial_type : str
        ``attention`` (default), ``spectral_attention`` or ``lst``.
    alternation_pattern : str
        ``even_spectral`` (default), ``alternate`` or ``custom``.
    num_heads : int
        Heads of the spatial layers (default 8); ``spatial_config`` may override it.
    spectral_config, spatial_config : dict, optional
        Arguments of the two layers, by their DSL names plus the documented shorthands
        (``use_real_fft`` for fourier, default True; ``n_modes`` for AFNO ``modes_seq``;
        ``filter_activation`` for gfnet; ``use_conv_bias`` for lst). Unknown keys are
        errors that list the allowed ones.
    custom_pattern : str, optional
        Keyword only: the pattern for ``alternation_pattern="custom"``.
    seed : int, optional
        Keyword only: weight seed (default 0).

    Examples
    --------
    >>> model = HybridTransformer(vocab_size=30000, hidden_dim=768, num_layers=12,
    ...                           spectral_type="fourier", spatial_type="attention",
    ...                           num_classes=10)
    >>> model(torch.randint(0, 30000, (32, 512))).shape
    torch.Size([32, 10])
    >>> wavelet_hybrid = HybridTransformer(hidden_dim=512, num_layers=8,
    ...                                    spectral_type="wavelet",
    ...                                    spatial_type="spectral_attention",
    ...                                    spectral_config={"wavelet": "db8", "levels": 3},
    ...                                    spatial_config={"num_features": 256})
    >>> [layer.type for layer in wavelet_hybrid.spec.layers[0].layers]
    ['wavelet', 'spectral_attention']
    """

    config_class = HybridModelConfig
    spec_name = "hybrid_transformer"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        spectral_type: SpectralType = "fourier",
        spatial_type: SpatialType = "attention",
        alternation_pattern: AlternationPattern = "even_spectral",
        num_heads: int = 8,
        spectral_config: dict[str, Any] | None = None,
        spatial_config: dict[str, Any] | None = None,
        num_classes: int | None = None,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        gradient_checkpointing: bool = False,
        *,
        custom_pattern: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: HybridModelConfig) -> dict[str, Any]:
        return {
            "spectral_type": config.spectral_type,
            "spatial_type": config.spatial_type,
            "alternation_pattern": config.alternation_pattern,
            "num_heads": config.num_heads,
            "spectral_config": dict(config.spectral_config or {}),
            "spatial_config": dict(config.spatial_config or {}),
            "custom_pattern": config.custom_pattern,
        }

    @classmethod
    def pattern(cls, config: HybridModelConfig, family: dict[str, Any]) -> list[Item]:
        spectral, spatial = hybrid_layers(config)
        if config.custom_pattern is not None:
            period = custom_items(
                config.custom_pattern,
                {"spectral": spectral, "spatial": spatial},
                config.hidden_dim,
                config.sequence_length,
            )
        else:
            kinds = {"S": spectral, "P": spatial}
            period = [kinds[letter] for letter in PERIODS[config.alternation_pattern]]
        return cycle(period, config.num_layers)


class HybridEncoder(HybridTransformer):
    """Hybrid model without a head: returns the final hidden states.

    Examples
    --------
    >>> encoder = HybridEncoder(hidden_dim=256, num_layers=4, alternation_pattern="alternate")
    >>> [layer.type for layer in encoder.spec.layers]
    ['real_fourier', 'attention', 'attention', 'real_fourier']
    >>> encoder(inputs_embeds=torch.randn(2, 64, 256)).shape
    torch.Size([2, 64, 256])
    """

    spec_name = "hybrid_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        spectral_type: SpectralType = "fourier",
        spatial_type: SpatialType = "attention",
        alternation_pattern: AlternationPattern = "even_spectral",
        num_heads: int = 8,
        spectral_config: dict[str, Any] | None = None,
        spatial_config: dict[str, Any] | None = None,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        gradient_checkpointing: bool = False,
        *,
        custom_pattern: str | None = None,
        vocab_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))


class AlternatingTransformer(SpecModel[AlternatingTransformerConfig]):
    """Two layer types in strict alternation over the blocks.

    ``layer1_type`` on even blocks, ``layer2_type`` on odd ones
    (``repeat L/2 [layer1, layer2]``, plus ``layer1`` when L is odd).

    Parameters
    ----------
    layer1_type, layer2_type : str
        Layer types: a documented family name (``fourier``, ``gfnet``, ...) or any DSL
        mixer (defaults ``fourier`` and ``attention``).
    layer1_config, layer2_config : dict, optional
        Their arguments, as ``spectral_config`` of :class:`HybridTransformer`.

    The other arguments are those of :class:`~specdsl.models.fnet.FNet` (768 wide, 12
    layers, 512 positions, dropout 0.1, eps 1e-12), plus keyword-only ``seed``.

    Examples
    --------
    >>> model = AlternatingTransformer(hidden_dim=768, num_layers=12, layer1_type="fourier",
    ...                                layer2_type="attention",
    ...                                layer1_config={"use_real_fft": True},
    ...                                layer2_config={"num_heads": 8})
    >>> [layer.type for layer in model.spec.layers[0].layers]
    ['real_fourier', 'attention']
    """

    config_class = AlternatingTransformerConfig
    spec_name = "alternating_transformer"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        layer1_type: str = "fourier",
        layer2_type: str = "attention",
        layer1_config: dict[str, Any] | None = None,
        layer2_config: dict[str, Any] | None = None,
        num_classes: int | None = None,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        gradient_checkpointing: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: AlternatingTransformerConfig) -> dict[str, Any]:
        return {
            "layer1_type": config.layer1_type,
            "layer2_type": config.layer2_type,
            "layer1_config": dict(config.layer1_config or {}),
            "layer2_config": dict(config.layer2_config or {}),
        }

    @classmethod
    def pattern(cls, config: AlternatingTransformerConfig, family: dict[str, Any]) -> list[Item]:
        first, second = (
            layer_spec(
                getattr(config, f"layer{i}_type"),
                getattr(config, f"layer{i}_config"),
                argument=f"layer{i}_config",
                kind_argument=f"layer{i}_type",
            )
            for i in (1, 2)
        )
        return cycle([first, second], config.num_layers)
