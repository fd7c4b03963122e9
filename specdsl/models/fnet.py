"""FNet (Lee-Thorp et al., NAACL 2022): Fourier token mixing in every block."""

from __future__ import annotations

from typing import Any

from specdsl.models.base import ENCODER, SpecModel, arguments
from specdsl.models.configs import (
    FNetModelConfig,
    OutputHeadType,
    PositionalEncodingType,
)
from specdsl.models.layers import layer_spec
from specdsl.schema.spec import LayerSpec


class FNet(SpecModel[FNetModelConfig]):
    """FNet: Fourier token mixing (real part of a 2-D DFT) in every block.

    Spec: ``repeat num_layers [real_fourier]`` (``fourier`` when ``use_real_fft=False``;
    both compute ``Re(FFT_seq(FFT_hidden(x)))``, with no parameters).

    Parameters
    ----------
    vocab_size : int, optional
        Token vocabulary; None means the model takes ``inputs_embeds``.
    hidden_dim : int
        Model width (default 768).
    num_layers : int
        Number of blocks (default 12).
    max_sequence_length : int
        Longest input (default 512).
    num_classes : int, optional
        Outputs of the head; with the default ``output_type`` and no ``num_classes`` the
        model returns hidden states.
    use_positional_encoding : bool
        Whether to add positions (default True).
    positional_encoding_type : str
        ``sinusoidal`` (default), ``learned`` or ``none``.
    dropout : float
        Dropout probability (default 0.1).
    ffn_hidden_dim : int, optional
        Feed-forward width (default ``4 * hidden_dim``).
    norm_eps : float
        LayerNorm epsilon (default 1e-12).
    output_type : str
        ``classification`` (default), ``regression``, ``sequence``, ``lm`` or ``none``.
    use_real_fft : bool
        Use the real-input FFT implementation (default True); same function either way.
    gradient_checkpointing : bool
        Recompute block activations during backward (default False).
    seed : int, optional
        Weight seed (default 0): equal arguments and seed give equal weights.

    Examples
    --------
    >>> model = FNet(vocab_size=30000, hidden_dim=768, num_layers=12,
    ...              max_sequence_length=512, num_classes=2)
    >>> tokens = torch.randint(0, 30000, (8, 512))
    >>> model(input_ids=tokens).shape
    torch.Size([8, 2])
    >>> model.spec.layers[0].layers[0].type
    'real_fourier'
    """

    config_class = FNetModelConfig
    spec_name = "fnet"

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
        use_real_fft: bool = True,
        gradient_checkpointing: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(arguments(locals()))

    @classmethod
    def resolve(cls, config: FNetModelConfig) -> dict[str, Any]:
        return {"use_real_fft": config.use_real_fft}

    @classmethod
    def mixer(cls, config: FNetModelConfig, family: dict[str, Any]) -> LayerSpec:
        return layer_spec("fourier", family, argument="use_real_fft")


class FNetEncoder(FNet):
    """FNet without a head: returns the final hidden states.

    Output ``(B, N, hidden_dim)``. Parameters are those of :class:`FNet` without
    ``num_classes`` and ``output_type``; ``vocab_size`` (keyword only, default None) adds a
    token embedding.

    Examples
    --------
    >>> encoder = FNetEncoder(hidden_dim=768, num_layers=12)
    >>> encoder(inputs_embeds=torch.randn(8, 512, 768)).shape
    torch.Size([8, 512, 768])
    """

    spec_name = "fnet_encoder"
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
        use_real_fft: bool = True,
        gradient_checkpointing: bool = False,
        *,
        vocab_size: int | None = None,
        seed: int | None = None,
    ) -> None:
        SpecModel.__init__(self, arguments(locals()))
