"""The engine: CacheManager and its parts (keys, envelope, tags, stampede, metrics, policies)."""
