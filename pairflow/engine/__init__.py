"""The run engine: pure decisions over a run's committed state, the runner that carries them out
durably, the dispatcher that executes runs in the background, and the run view."""
