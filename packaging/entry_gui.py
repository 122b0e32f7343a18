"""PyInstaller entry point for the GUI."""

import sys

from ui.app import main

sys.exit(main())
