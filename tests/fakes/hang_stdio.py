"""A stdio MCP specialist whose solve tool hangs the whole server (a sync sleep blocks its event loop, so it never
sees stdin close); it writes its pid to $HANG_PID_FILE when the call arrives.

    python -m tests.fakes.hang_stdio
"""

from __future__ import annotations

import os
import time

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("fake-hang-stdio", log_level="WARNING")


@mcp.tool()
def solve(task: str, context: str = "") -> str:
    """convert miles to kilometers, length unit conversion of distances"""
    path = os.environ.get("HANG_PID_FILE")
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(path + ".tmp", path)
    time.sleep(3600)
    return "never"


if __name__ == "__main__":
    mcp.run()
