"""``python -m reporting`` runs the service; ``python -m reporting COMMAND ...`` runs an operator
command (``publish-roster``, ``audit``, ``rebuild``: see reporting.cli)."""

import sys

if len(sys.argv) > 1:
    from reporting.cli import main

    sys.exit(main(sys.argv[1:]))

from reporting.main import run

run()
