"""``python -m emgscope`` runs the same entry point as the ``emgscope`` command."""

import sys

from emgscope.cli import main

if __name__ == "__main__":
    # Guarded: the audio monitor's child process imports this module and must not start the app again.
    sys.exit(main())
