"""pairflow."""
