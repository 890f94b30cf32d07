"""``python -m kafkaio``: the command line (see docs/cli.md)."""
import sys

from kafkaio.cli import main

sys.exit(main())
