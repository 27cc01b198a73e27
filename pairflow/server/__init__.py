"""HTTP: the management API (with its OpenAPI document), signed trigger endpoints, health."""
