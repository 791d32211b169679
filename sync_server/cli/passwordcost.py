"""A quicker password cost for the test suite's own command-line subprocesses, and for
nobody else.

The crash harness kills `office set-password` and the like hundreds of times; at the
stated cost (scrypt N=2^17, 128 MiB, a second or more each) that alone would take
minutes, and the cost is not what it tests. In its own process the suite lowers the cost
with the `quick_scrypt` fixture; a subprocess is told by its environment. An environment
variable alone could be left in a real service's unit file by whoever copied it from a
test, and every password set from then on would be cheap to guess. So it counts only
together with what no installation ever has:

- `MINQING_TEST_QUICK_SCRYPT=1`, and
- `PYTEST_CURRENT_TEST`, which pytest itself sets while a test runs (its subprocesses
  inherit it); no server or command of an installation runs inside pytest.

Even then it gives one fixed cost (the suite's `QUICK_SCRYPT`), never a number from the
environment; it says so on standard error; and `minqing serve` never takes it, so a
server always checks and rehashes at the stated cost (a quick hash is raised to it at
the account's next log-in).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["QUICK_FOR_TESTS", "take_test_cost"]

VARIABLE = "MINQING_TEST_QUICK_SCRYPT"
QUICK_FOR_TESTS = {"n": 2**10, "r": 8, "p": 1}


def take_test_cost(command: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Lower the cost for this process when, and only when, the test suite runs it."""
    if command == "serve" or environ.get(VARIABLE) != "1" or not environ.get("PYTEST_CURRENT_TEST"):
        return False
    from sync_server.sealing import keyring
    from sync_server.store import accounts

    accounts.SCRYPT = keyring.SCRYPT = QUICK_FOR_TESTS
    accounts.dummy_hash.cache_clear()
    print("minqing: test-only quick password cost (pytest is running this command).", file=sys.stderr)
    return True
