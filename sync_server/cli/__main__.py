"""`python -m sync_server.cli`: the same as the `minqing` command."""

import sys

from sync_server.cli import main

sys.exit(main())
