"""``python -m emgscope`` runs the same entry point as the ``emgscope`` command."""

import sys

from emgscope.cli import main

sys.exit(main())
