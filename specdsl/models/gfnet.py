"""GFNet (Rao et al., NeurIPS 2021): a learned global filter in the frequency domain."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import ENCODER, SpecModel, arguments
from specdsl.models.configs import GFNetModelConfig, OutputHeadType, PositionalEncodingType
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class GFNet(SpecModel[GFNetModelConfig]):
    """GFNet: a learned global filter in the frequency domain per block.

    Each block mixes with ``IFFT(H * FFT(x))``, ``H`` a learned filter.

    Spec: ``repeat num_layers [global_filter(activation=filter_activation)]``; the filter
    covers ``max_sequence_length`` positions. The other arguments are those of
    :class:`~specdsl.models.fnet.FNet`, with the same defaults (768 wide, 12 layers, 512
    positions, dropout 0.1, eps 1e-12).

    Parameters
    ----------
    filter_activation : str
        Activation applied to the filter, ``sigmoid`` (default) or ``tanh``.

    Examples
    --------
    >>> model = GFNet(vocab_size=30000, hidden_dim=768, num_layers=12,
    ...               max_sequence_length=512, num_classes=2)
    >>> model(input_ids=torch.randint(0, 30000, (8, 512))).shape
    torch.Size([8, 2])
    """

    config_class = GFNetModelConfig
    spec_name = "gfnet"

    def __init__(
        self,
        vocab_size: int | None = None,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        num_classes: int | None = None,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        output_type: OutputHeadType = "classification",
        filter_activation: str = "sigmoid",
        gradient_checkpointing: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: GFNetModelConfig) -> dict[str, Any]:
        return {"filter_activation": config.filter_activation}

    @classmethod
    def mixer(cls, config: GFNetModelConfig, family: dict[str, Any]) -> LayerSpec:
        return layer_spec("gfnet", family, argument="filter_activation")


class GFNetEncoder(GFNet):
    """GFNet without a head: returns the final hidden states.

    Examples
    --------
    >>> encoder = GFNetEncoder(hidden_dim=768, num_layers=12, max_sequence_length=512)
    >>> encoder(inputs_embeds=torch.randn(8, 512, 768)).shape
    torch.Size([8, 512, 768])
    """

    spec_name = "gfnet_encoder"
    fixed_arguments = ENCODER

    def __init__(
        self,
        hidden_dim: int = 768,
        num_layers: int = 12,
        max_sequence_length: int = 512,
        use_positional_encoding: bool = True,
        positional_encoding_type: PositionalEncodingType = "sinusoidal",
        dropout: float = 0.1,
        ffn_hidden_dim: int | None = None,
        norm_eps: float = 1e-12,
        filter_activation: str = "sigmoid",
        gradient_checkpointing: bool = False,
        *,
        vocab_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))
