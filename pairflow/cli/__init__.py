"""The command line: thin commands over the public API, with documented exit codes."""
