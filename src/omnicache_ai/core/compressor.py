"""Compressors applied to serialized payloads above a size threshold.

Small payloads (most LLM answers) are stored as they are: compressing 200 bytes costs more
time than it saves space. Each compressor has a ``codec_id`` recorded in the envelope, so an
entry is always decompressed with the codec that wrote it, whatever the reader is
configured with.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Final, Protocol, runtime_checkable

from omnicache_ai.core.errors import ConfigurationError, IntegrityError

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "Compressor",
    "GzipCompressor",
    "NoopCompressor",
    "ZstdCompressor",
    "codec_for",
]

#: Largest payload a stored entry may decompress to. A few hundred hostile bytes can claim
#: gigabytes (a "zip bomb"); past this bound the entry is refused as corrupt.
MAX_DECOMPRESSED_BYTES: Final = 256 * 1024 * 1024


@runtime_checkable
class Compressor(Protocol):
    """Compresses payload bytes.

    Attributes:
        codec_id: One byte in the envelope naming the codec (0 means "not compressed").
        min_size: Payloads shorter than this are stored uncompressed.
    """

    codec_id: int
    min_size: int

    def compress(self, data: bytes) -> bytes:
        """Compress ``data``."""
        ...

    def decompress(self, data: bytes) -> bytes:
        """Reverse :meth:`compress`."""
        ...


class NoopCompressor:
    """Stores payloads as they are (the default).

    Example:
        >>> NoopCompressor().compress(b"abc")
        b'abc'
    """

    codec_id = 0
    min_size = 0

    def compress(self, data: bytes) -> bytes:
        """Return ``data`` unchanged."""
        return data

    def decompress(self, data: bytes) -> bytes:
        """Return ``data`` unchanged."""
        return data


class GzipCompressor:
    """DEFLATE compression from the standard library.

    Args:
        level: 1 (fastest) to 9 (smallest).
        min_size: Payloads shorter than this many bytes are left uncompressed.

    Example:
        >>> c = GzipCompressor(level=6)
        >>> c.decompress(c.compress(b"x" * 1000)) == b"x" * 1000
        True
    """

    codec_id = 1

    def __init__(self, level: int = 6, min_size: int = 512) -> None:
        if not 0 <= level <= 9:
            raise ConfigurationError(f"gzip level must be between 0 and 9, got {level}")
        self.level = level
        self.min_size = min_size

    def compress(self, data: bytes) -> bytes:
        """Compress with gzip framing."""
        return gzip.compress(data, compresslevel=self.level, mtime=0)

    def decompress(self, data: bytes) -> bytes:
        """Decompress gzip data."""
        # gzip.decompress has no output bound; a decompressobj stops at the limit.
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
            if d.unconsumed_tail or not d.eof:
                if len(out) > MAX_DECOMPRESSED_BYTES:
                    raise IntegrityError(
                        f"gzip payload expands past {MAX_DECOMPRESSED_BYTES} bytes; refusing it"
                    )
                raise IntegrityError("truncated gzip payload")
        except zlib.error as err:
            raise IntegrityError(f"corrupt gzip payload: {err}") from err
        return out


class ZstdCompressor:
    """Zstandard: several times faster than gzip at a similar ratio. Needs the ``zstd`` extra.

    Args:
        level: 1 (fastest) to 22 (smallest); 3 is zstd's own default.
        min_size: Payloads shorter than this many bytes are left uncompressed.

    Example:
        >>> c = ZstdCompressor()  # doctest: +SKIP
        >>> c.decompress(c.compress(b"x" * 1000)) == b"x" * 1000  # doctest: +SKIP
        True
    """

    codec_id = 2

    def __init__(self, level: int = 3, min_size: int = 512) -> None:
        try:
            import zstandard
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "ZstdCompressor needs the zstandard package; install it with: "
                "pip install 'omnicache-ai[zstd]'"
            ) from err
        self.level = level
        self.min_size = min_size
        self._zstd = zstandard
        self._cctx = zstandard.ZstdCompressor(level=level)
        self._dctx = zstandard.ZstdDecompressor()

    def compress(self, data: bytes) -> bytes:
        """Compress one frame (content size recorded, so decompression needs no guess)."""
        out: bytes = self._cctx.compress(data)
        return out

    def decompress(self, data: bytes) -> bytes:
        """Decompress one frame."""
        # A frame states its own content size and zstandard allocates it up front: check
        # the claim before believing it.
        try:
            claimed = self._zstd.frame_content_size(data)
            if claimed > MAX_DECOMPRESSED_BYTES:
                raise IntegrityError(
                    f"zstd payload claims {claimed} bytes, past {MAX_DECOMPRESSED_BYTES}; "
                    "refusing it"
                )
            out: bytes = self._dctx.decompress(data, max_output_size=MAX_DECOMPRESSED_BYTES)
        except self._zstd.ZstdError as err:
            raise IntegrityError(f"corrupt zstd payload: {err}") from err
        return out


_NOOP = NoopCompressor()
_codecs: dict[int, Compressor] = {0: _NOOP}


def codec_for(codec_id: int) -> Compressor:
    """The decompressor for an envelope's ``codec_id`` (created on first use)."""
    codec = _codecs.get(codec_id)
    if codec is None:
        if codec_id == GzipCompressor.codec_id:
            codec = GzipCompressor()
        elif codec_id == ZstdCompressor.codec_id:
            codec = ZstdCompressor()
        else:
            raise IntegrityError(f"unknown compression codec id {codec_id}")
        _codecs[codec_id] = codec
    return codec


def register_codec(compressor: Compressor) -> None:
    """Make a custom compressor's ``codec_id`` (64-255) decodable by every manager."""
    if not 64 <= compressor.codec_id <= 255:
        raise ConfigurationError("custom compressors must use a codec_id between 64 and 255")
    _codecs[compressor.codec_id] = compressor
