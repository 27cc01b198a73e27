"""pairflow: a self-hosted runtime for Logic Apps workflows that survives the loss of a location."""

__version__ = "0.1.0"
