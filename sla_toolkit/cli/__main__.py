"""``python -m sla_toolkit.cli`` runs the command line."""
import sys

from . import console_main

sys.exit(console_main())
