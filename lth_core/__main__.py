"""Entry point for `python -m lth_core`."""
import sys

from lth_core.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
