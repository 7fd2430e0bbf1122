/* mcp_tools.h - the MCP server's tools: their schemas for tools/list, and
 * a tool call's arguments checked and turned into a command line. */
#ifndef AE_MCP_TOOLS_H
#define AE_MCP_TOOLS_H

#include <stdint.h>

#include "json.h"
#include "json_parse.h"
#include "lib/sys.h"

/* The server's settings a tool call needs. */
struct mcp_limits {
	const char *root;		/* the jobs root, absolute */
	const char *session;		/* callback_session of launched jobs */
	int64_t default_until;		/* seconds; < 0: each tool's own */
	uint64_t max_until;		/* seconds */
};

/* A tool call made ready: the command line, and what the server must know
 * while it runs. */
struct mcp_command {
	struct strv argv;		/* heap strings, NULL-terminated */
	uint64_t until;			/* seconds it may wait (progress) */
	int64_t clamped_until;		/* the cap when until was lowered, else -1 */
	int launches;			/* run: a cancel never ends its child */
	const char *stdin_text;		/* "-": given on the child's stdin */
};

/* {"tools":[...]} members of tools/list's result, into w. */
void mcp_tools_write(struct json_writer *w);
/* Check a tools/call's params (name, arguments) and build its command:
 * 0; -1 with message[size] saying what is wrong (a JSON-RPC "invalid
 * params"); -2 with message naming an argument value the tool refuses
 * (the tool's error, invalid_argument). */
int mcp_tool_command(const struct json_value *params,
		     const struct mcp_limits *limits, struct mcp_command *cmd,
		     char *message, size_t size);
void mcp_command_free(struct mcp_command *cmd);

#endif
