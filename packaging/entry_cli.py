"""PyInstaller entry point for the CLI."""

import sys

from backoffice.cli.main import main

sys.exit(main())
