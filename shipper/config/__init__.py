"""Reading Fluent Bit configurations (classic, YAML, ConfigMap manifests)."""
