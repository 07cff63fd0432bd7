"""Run a specialist's server so that it dies with its orchestrator and says how it ended (Linux).

    python -I -S watchdog.py ORCHESTRATOR_PID -- PROGRAM ARG...

Run by path with the standard library only (no package import, fast start). The
watchdog asks the kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG),
forks the server with the same request against the watchdog, forwards SIGTERM/SIGINT/
SIGHUP, and when the server ends writes its exit code to stderr, which the pool reads
back into the failure reason. A SIGKILLed orchestrator thus leaves no orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        pass


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: watchdog.py ORCHESTRATOR_PID -- PROGRAM ARG...\n")
        return 2
    orchestrator, argv = int(args[0]), args[2:]
    die_with_parent()
    if os.getppid() != orchestrator:  # the orchestrator died before the request took effect
        return 1
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        if os.getppid() != me:
            os._exit(1)
        try:
            os.execv(argv[0], argv)
        except OSError as e:
            os.write(2, f"[micromarket] cannot run {argv[0]}: {e}\n".encode())
            os._exit(127)
    os.close(0)  # only the server holds the MCP pipes: its exit is the client's EOF
    os.close(1)

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    how = f"exited with code {code}" if code >= 0 else f"was killed by {signal.Signals(-code).name}"
    os.write(2, f"[micromarket] specialist process {how}\n".encode())
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
