"""shipper: a Fluent Bit-compatible log shipper written in Python asyncio."""

__version__ = "0.1.0"
