"""`python -m pairflow` is the `pairflow` command."""

from pairflow.cli.main import main

main()
