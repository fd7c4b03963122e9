"""Wavelet transformers: mixing by discrete wavelet decomposition of the sequence."""

from __future__ import annotations

from typing import Any, Literal

from specdsl.models.base import DECODER, ENCODER, SpecModel, arguments
from specdsl.models.configs import (
    OutputHeadType,
    PositionalEncodingType,
    WaveletTransformerConfig,
)
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec

MixingMode = Literal["pointwise", "channel", "level"]


class WaveletTransformer(SpecModel[WaveletTransformerConfig]):
    """Wavelet transformer: multi-level DWT mixing in every block.

    Spec: ``repeat num_layers [wavelet(wavelet=, levels=, mixing_mode=)]``. The common
    arguments are those of :class:`~specdsl.models.fnet.FNet`, with the same defaults
    (768 wide, 12 layers, 512 positions, dropout 0.1, eps 1e-12).

    Parameters
    ----------
    wavelet : str
        Wavelet name as PyWavelets spells it (default ``db4``).
    levels : int
        Decomposition levels, 1 to 10 (default 3).
    mixing_mode : str
        How the coefficients are mixed: ``pointwise`` (default), ``channel`` or ``level``.

    Examples
    --------
    >>> model = WaveletTransformer(vocab_size=30000, hidden_dim=768, num_layers=12,
    ...                            wavelet="db4", levels=3, max_sequence_length=512,
    ...                            num_classes=10)
    >>> model(torch.randint(0, 30000, (32, 512))).shape
    torch.Size([32, 10])
    >>> WaveletTransformer(hidden_dim=512, wavelet="db8", levels=4).spec.layers[0].layers
    [LayerSpec(type='wavelet', args={'wavelet': 'db8', 'levels': 4}, layers=[])]
    >>> WaveletTransformer(hidden_dim=512, wavelet="sym6", levels=3).wavelet
    'sym6'
    """

    config_class = WaveletTransformerConfig
    spec_name = "wavelet_transformer"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        wavelet: str = "db4",
        levels: int = 3,
        mixing_mode: MixingMode = "pointwise",
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
    def resolve(cls, config: WaveletTransformerConfig) -> dict[str, Any]:
        return {
            "wavelet": config.wavelet,
            "levels": config.levels,
            "mixing_mode": config.mixing_mode,
        }

    @classmethod
    def mixer(cls, config: WaveletTransformerConfig, family: dict[str, Any]) -> LayerSpec:
        return layer_spec("wavelet", family, argument="wavelet/levels/mixing_mode")


class WaveletEncoder(WaveletTransformer):
    """Wavelet model without a head: returns the final hidden states.

    Examples
    --------
    >>> encoder = WaveletEncoder(hidden_dim=768, num_layers=6, wavelet="coif3", levels=2)
    >>> encoder(inputs_embeds=torch.randn(32, 100, 768)).shape
    torch.Size([32, 100, 768])
    """

    spec_name = "wavelet_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        wavelet: str = "db4",
        levels: int = 3,
        mixing_mode: MixingMode = "pointwise",
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        gradient_checkpointing: bool = False,
        *,
        vocab_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))


class WaveletDecoder(WaveletTransformer):
    """Wavelet decoder: causal DWT blocks and a language-model head.

    ``levels`` defaults to 2; ``causal`` (keyword only, default True) sets the spec's
    ``causal`` field, so every layer must be exactly causal.

    Examples
    --------
    >>> decoder = WaveletDecoder(vocab_size=10000, hidden_dim=256, num_layers=4)
    >>> decoder(torch.randint(0, 10000, (2, 64))).shape
    torch.Size([2, 64, 10000])
    """

    spec_name = "wavelet_decoder"
    fixed_arguments = DECODER

    def __init__(
        self,
        vocab_size: int,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        wavelet: str = "db4",
        levels: int = 2,
        mixing_mode: MixingMode = "pointwise",
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        gradient_checkpointing: bool = False,
        *,
        causal: bool = True,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))
