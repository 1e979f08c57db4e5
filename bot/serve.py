"""`rasa run` with its HTTP API behind the token in CAREBRIDGE_RASA_TOKEN.

Rasa takes the token only as `--auth-token`, on the command line, which every local user can read
(/proc/PID/cmdline); this hands it over from the environment, which only its owner can read. Used by
`carebridge up` (app/cli/rasa_processes.py) and the Dockerfile: `python serve.py run --enable-api ...`.
"""

import os
import sys

from rasa.__main__ import main

if __name__ == "__main__":
    token = os.environ.pop("CAREBRIDGE_RASA_TOKEN", "")
    if not token:
        sys.exit("CAREBRIDGE_RASA_TOKEN is not set: Rasa's API would answer anyone")
    # One argument, not two: a token that begins with "-" would be taken for an option.
    sys.argv = ["rasa", *sys.argv[1:], f"--auth-token={token}"]
    sys.exit(main())
