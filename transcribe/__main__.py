"""``python -m transcribe`` runs the ``transcribe`` command."""

import sys

from .cli import main

sys.exit(main())
