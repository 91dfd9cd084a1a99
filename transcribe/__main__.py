"""``python -m transcribe`` runs the ``transcribe`` command."""

import sys

from transcribe.cli import main

sys.exit(main())
