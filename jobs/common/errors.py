"""What a command's failure means to the user: the exit statuses of `omnilake` and the error for bad input.

Command implementations (jobs, ml, orchestration) raise `UserError`; only jobs/cli.py turns it into one line on
stderr and EXIT_BAD_INPUT, so nothing needs to import the command line to report bad input."""

from __future__ import annotations

EXIT_OK, EXIT_BREACH, EXIT_USAGE, EXIT_BAD_INPUT = 0, 1, 2, 3
EXIT_BUSY = 4  # another run holds the command's run lock (jobs/common/locks.py): nothing was changed


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 3, nothing half-written."""
