/* mcp.h - the MCP server, `agent-exec mcp`: JSON-RPC over stdio (mcp.c),
 * tool calls in children of their own (mcp_call.c), the tools (mcp_tools.c). */
#ifndef AE_MCP_H
#define AE_MCP_H

#include "cmd.h"
#include "mcp_call.h"

/* Serve until stdin ends: 0, or -1 with cli->error set when the server
 * could not start. */
int mcp_serve(struct cli *cli, mcp_runner run);

#endif
