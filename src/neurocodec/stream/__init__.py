"""Real-time streaming codec: 1 ms packets of many channels, lossless or bounded-error, surviving packet loss."""

from .codec import (
    PacketLossError,
    PacketOrderError,
    Received,
    StreamConfig,
    StreamDecoder,
    StreamEncoder,
)

__all__ = ["StreamEncoder", "StreamDecoder", "StreamConfig", "Received", "PacketLossError", "PacketOrderError"]
