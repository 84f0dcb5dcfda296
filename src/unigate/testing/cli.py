"""A ``unigate`` command run as a user runs it, in a subprocess, for tests of what it prints and serves::

    with running_cli("simulate", "agentsmesh", "--port", str(port), timeout=30) as printed:
        url = re.search(r"simulator on (http://\\S+)", printed).group(1)
        ...  # the command is serving here
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

READY = "Press Ctrl+C"  # what `unigate serve`, `sandbox` and `simulate` print once they serve


@contextmanager
def running_cli(*args: str, env: Mapping[str, str] | None = None, ready: str = READY,
                timeout: float = 60) -> Iterator[str]:
    """``python -m unigate.cli ARGS`` (this interpreter, unbuffered) until the ``with`` block ends.

    Hands out what it printed (stdout and stderr) up to and including the first line that starts
    with ``ready``, or up to ``timeout`` seconds' worth; fails if the command exits before. ``env``
    replaces ``os.environ`` (as it is when called). On leaving, the command is interrupted as by
    Ctrl+C (SIGINT), and killed if it still runs 20 s later.
    """
    process = subprocess.Popen([sys.executable, "-m", "unigate.cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"})
    printed: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (printed and printed[-1].startswith(ready)):
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"{args[0]} exited:\n" + "".join(printed))
            printed.append(line)
        yield "".join(printed)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
