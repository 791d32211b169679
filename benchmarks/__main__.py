"""`make bench`: every benchmark at its full size; `--smoke`: each at its smallest (see run.py)."""

import sys

from benchmarks.run import main

if __name__ == "__main__":
    sys.exit(main())
