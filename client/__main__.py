"""`python -m client …`: the client command's entry point (client/cli.py)."""

import sys

from client.cli import main

sys.exit(main())
