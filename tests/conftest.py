import sys
from pathlib import Path

import numpy as np
from numcodecs.abc import Codec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from neurocodec.errors import CorruptStreamError  # noqa: E402
from neurocodec.registry import register_codec  # noqa: E402


@register_codec
class RawTestCodec(Codec):
    """Container tests' codec: little-endian bytes of the block, shape checked by the container."""

    codec_id = "neurocodec.test_raw"

    def __init__(self, dtype: str = "<i2", cols: int = 1):
        self.dtype = dtype
        self.cols = cols

    def encode(self, buf):
        return np.ascontiguousarray(buf, dtype=self.dtype).tobytes()

    def decode(self, buf, out=None):
        flat = np.frombuffer(buf, dtype=self.dtype)
        if flat.size % self.cols:
            raise CorruptStreamError("raw payload is not a whole number of rows")
        return flat.reshape(-1, self.cols) if self.cols > 1 else flat.copy()

    def get_config(self):
        return {"id": self.codec_id, "dtype": self.dtype, "cols": self.cols}
