"""``python -m kafkaio.cli``."""
import sys

from kafkaio.cli import main

sys.exit(main())
