"""Workflow definitions: load every shape (bare, workflow.json, resource, ARM), validate with JSON
pointers, resolve parameters, and the frozen model the engine walks. Pure."""
