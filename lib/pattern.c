/* lib/pattern.c - regular expressions for output matching: a
 * recursive-descent parser to a small syntax tree, a compiler to a Thompson
 * NFA program, and a Pike VM that runs every NFA thread in lockstep over
 * the line's bytes. The syntax is described in pattern.h. */
#include "lib/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fmt.h"
#include "lib/sys.h"

#define MAX_NESTING 100
#define MAX_COUNT 1000

enum node_kind { N_EMPTY, N_BYTE, N_SET, N_CAT, N_ALT, N_REPEAT, N_ASSERT };
enum assertion { A_LINE_START, A_LINE_END, A_WORD_EDGE, A_NOT_WORD_EDGE };
enum op { OP_BYTE, OP_SET, OP_SPLIT, OP_JMP, OP_ASSERT, OP_MATCH };

typedef unsigned char byte_set[32];	/* one bit per byte value */

struct node {
	unsigned char kind;
	unsigned char value;	/* N_BYTE: the byte; N_ASSERT: which */
	int set;		/* N_SET: index into sets */
	int left, right;	/* N_CAT, N_ALT children; N_REPEAT: left */
	int min, max;		/* N_REPEAT; max < 0: unbounded */
};

struct inst {
	unsigned char op;
	unsigned char value;	/* OP_BYTE: the byte; OP_ASSERT: which */
	int set;		/* OP_SET */
	int x, y;		/* OP_JMP: x; OP_SPLIT: x and y */
};

struct pattern {
	struct inst *program;
	int length;
	byte_set *sets;
	/* the VM's scratch: two thread lists, a work stack, visit marks */
	int *threads[2];
	int *stack;
	unsigned *mark;
	unsigned stamp;
};

struct parser {
	const unsigned char *at;
	struct node *nodes;
	int node_count, set_count;
	size_t node_capacity, set_capacity;
	byte_set *sets;
	int case_insensitive;
	int depth;
	const char *error;
	int out_of_memory;
};

/* ---- byte sets ---------------------------------------------------------- */

static void set_add(unsigned char *set, unsigned c)
{
	set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int set_has(const unsigned char *set, unsigned c)
{
	return set[c >> 3] >> (c & 7) & 1;
}

static void set_add_range(unsigned char *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set_add(set, c);
}

static int is_word_byte(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* The named classes of brackets ([:alpha:]) and of escapes (\d \w \s). */
static int add_named_class(unsigned char *set, const char *name, size_t len)
{
	/* the text in the table: no pointer to it, no string apart */
	static const struct {
		char name[7];
		char ranges[9];	/* pairs of bytes: lo, hi */
	} classes[] = {
		{ "alpha", "azAZ" }, { "digit", "09" }, { "alnum", "azAZ09" },
		{ "upper", "AZ" }, { "lower", "az" }, { "space", "\t\r  " },
		{ "blank", "\t\t  " }, { "punct", "!/:@[`{~" },
		{ "xdigit", "09afAF" }, { "word", "azAZ09__" },
		{ "cntrl", "\001\037\177\177" }, { "print", " ~" },
		{ "graph", "!~" },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
		const char *r = classes[i].ranges;

		if (strlen(classes[i].name) != len ||
		    memcmp(classes[i].name, name, len) != 0)
			continue;
		for (; *r; r += 2)
			set_add_range(set, (unsigned char)r[0],
				      (unsigned char)r[1]);
		if (strcmp(classes[i].name, "cntrl") == 0)
			set_add(set, 0);
		return 0;
	}
	return -1;
}

/* \d \w \s and their negations: 1 when c names one (added to set). */
static int add_escape_class(unsigned char *set, unsigned char c)
{
	const char *name = c == 'd' || c == 'D' ? "digit"
			   : c == 'w' || c == 'W' ? "word"
			   : c == 's' || c == 'S' ? "space" : NULL;
	byte_set own = { 0 };

	if (!name)
		return 0;
	add_named_class(own, name, strlen(name));
	for (unsigned b = 0; b < 256; b++)
		if (set_has(own, b) != (c >= 'A' && c <= 'Z'))
			set_add(set, b);
	return 1;
}

/* The byte a character escape stands for (\n \t ... or punctuation), or
 * -1 when c does not make one. */
static int escaped_byte(unsigned char c)
{
	static const char controls[] = "n\nt\tr\rf\fv\v";

	for (const char *p = controls; *p; p += 2)
		if (*p == c)
			return (unsigned char)p[1];
	if (c < 0x80 && !is_word_byte(c) && c > ' ' && c != 0x7f)
		return c;
	return -1;
}

/* ---- syntax tree ---------------------------------------------------------- */

static int fail(struct parser *p, const char *why)
{
	if (!p->error)
		p->error = why;
	return -1;
}

static int new_node(struct parser *p, int kind)
{
	if (array_room(&p->nodes, &p->node_capacity,
		       (size_t)p->node_count + 1, sizeof(*p->nodes)) < 0) {
		p->out_of_memory = 1;
		return fail(p, "out of memory");
	}
	memset(&p->nodes[p->node_count], 0, sizeof(*p->nodes));
	p->nodes[p->node_count].kind = (unsigned char)kind;
	return p->node_count++;
}

static int new_set(struct parser *p)
{
	if (array_room(&p->sets, &p->set_capacity, (size_t)p->set_count + 1,
		       sizeof(*p->sets)) < 0) {
		p->out_of_memory = 1;
		return fail(p, "out of memory");
	}
	memset(p->sets[p->set_count], 0, sizeof(byte_set));
	return p->set_count++;
}

static int node2(struct parser *p, int kind, int left, int right)
{
	int n = left < 0 || right < 0 ? -1 : new_node(p, kind);

	if (n >= 0) {
		p->nodes[n].left = left;
		p->nodes[n].right = right;
	}
	return n;
}

/* A set node for set index s, case-folded when asked. A set that holds
 * bytes above ASCII (a negation: brackets take ASCII only) takes whole
 * UTF-8 characters: it starts at an ASCII or lead byte, and the compiler
 * adds a loop over the continuation bytes (value 1 says so). */
static int set_node(struct parser *p, int s)
{
	unsigned char *set = p->sets[s];
	int n = new_node(p, N_SET), high = 0;

	if (n < 0)
		return -1;
	if (p->case_insensitive)
		for (unsigned c = 'a'; c <= 'z'; c++)
			if (set_has(set, c) || set_has(set, c - 32)) {
				set_add(set, c);
				set_add(set, c - 32);
			}
	for (int i = 16; i < 32; i++)
		high |= set[i];
	if (high)
		memset(set + 16, 0, 8);	/* not 0x80-0xbf */
	p->nodes[n].set = s;
	p->nodes[n].value = high != 0;
	return n;
}

static int byte_node(struct parser *p, unsigned char c)
{
	int n, s;

	if (p->case_insensitive && ((c | 32) >= 'a' && (c | 32) <= 'z')) {
		s = new_set(p);
		if (s < 0)
			return -1;
		set_add(p->sets[s], c);
		return set_node(p, s);
	}
	n = new_node(p, N_BYTE);
	if (n >= 0)
		p->nodes[n].value = c;
	return n;
}

static int assert_node(struct parser *p, int which)
{
	int n = new_node(p, N_ASSERT);

	if (n >= 0)
		p->nodes[n].value = (unsigned char)which;
	return n;
}

/* One bracket item after '[' and an optional '^': a class, an escape, a
 * byte or a range. */
static int parse_bracket_item(struct parser *p, unsigned char *set)
{
	unsigned lo, hi;

	if (p->at[0] == '[' && p->at[1] == ':') {
		const char *name = (const char *)p->at + 2, *end = name;

		while (*end && !(end[0] == ':' && end[1] == ']'))
			end++;
		if (!*end || add_named_class(set, name, (size_t)(end - name)))
			return fail(p, "unknown character class");
		p->at = (const unsigned char *)end + 2;
		return 0;
	}
	if (p->at[0] == '[' && (p->at[1] == '.' || p->at[1] == '='))
		return fail(p, "collating elements are not supported");
	if (p->at[0] == '\\') {
		int c;

		if (add_escape_class(set, p->at[1])) {
			p->at += 2;
			return 0;
		}
		c = p->at[1] ? escaped_byte(p->at[1]) : -1;
		if (c < 0)
			return fail(p, "unknown escape in brackets");
		lo = (unsigned)c;
		p->at += 2;
	} else {
		lo = *p->at++;
	}
	hi = lo;
	if (p->at[0] == '-' && p->at[1] && p->at[1] != ']') {
		p->at++;
		if (p->at[0] == '\\' && escaped_byte(p->at[1]) >= 0) {
			hi = (unsigned)escaped_byte(p->at[1]);
			p->at += 2;
		} else {
			hi = *p->at++;
		}
	}
	if (lo >= 0x80 || hi >= 0x80)
		return fail(p, "non-ASCII characters in brackets are not "
			    "supported");
	if (lo > hi)
		return fail(p, "range out of order");
	set_add_range(set, lo, hi);
	return 0;
}

static int parse_bracket(struct parser *p)
{
	int s = new_set(p), negated;
	unsigned char *set;

	if (s < 0)
		return -1;
	set = p->sets[s];
	negated = *p->at == '^';
	p->at += negated;
	if (*p->at == ']') {	/* a ']' first is a member */
		set_add(set, ']');
		p->at++;
	}
	while (*p->at != ']')
		if (!*p->at)
			return fail(p, "unterminated [");
		else if (parse_bracket_item(p, set) < 0)
			return -1;
	p->at++;
	if (negated) {
		for (int i = 0; i < 32; i++)
			set[i] = (unsigned char)~set[i];
		set[1] &= (unsigned char)~(1u << ('\n' & 7));
	}
	return set_node(p, s);
}

/* The set of '.', \D \W \S outside brackets. */
static int class_escape_node(struct parser *p, unsigned char c)
{
	int s = new_set(p);

	if (s < 0)
		return -1;
	if (c == '.') {
		memset(p->sets[s], 0xff, sizeof(byte_set));
		p->sets[s][1] &= (unsigned char)~(1u << ('\n' & 7));
	} else {
		add_escape_class(p->sets[s], c);
	}
	return set_node(p, s);
}

/* A literal: one byte, or a whole UTF-8 character (so a quantifier after
 * it repeats the character, not its last byte). */
static int literal_node(struct parser *p)
{
	int n = byte_node(p, *p->at++);

	while (n >= 0 && (*p->at & 0xc0) == 0x80)
		n = node2(p, N_CAT, n, byte_node(p, *p->at++));
	return n;
}

static int parse_escape(struct parser *p)
{
	unsigned char c = p->at[1];
	int b;

	if (!c)
		return fail(p, "trailing backslash");
	p->at += 2;
	switch (c) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
		return class_escape_node(p, c);
	case 'b':
		return assert_node(p, A_WORD_EDGE);
	case 'B':
		return assert_node(p, A_NOT_WORD_EDGE);
	case 'A':
		return assert_node(p, A_LINE_START);
	case 'z':
		return assert_node(p, A_LINE_END);
	}
	if (c >= '1' && c <= '9')
		return fail(p, "backreferences are not supported");
	b = escaped_byte(c);
	if (b < 0)
		return fail(p, "unknown escape");
	return byte_node(p, (unsigned char)b);
}

static int parse_alternation(struct parser *p);

static int parse_group(struct parser *p)
{
	int n;

	if (p->at[0] == '?') {
		if (p->at[1] != ':')
			return fail(p, "unsupported (? group");
		p->at += 2;
	}
	if (++p->depth > MAX_NESTING)
		return fail(p, "too deeply nested");
	n = parse_alternation(p);
	p->depth--;
	if (n < 0)
		return -1;
	if (*p->at != ')')
		return fail(p, "unmatched (");
	p->at++;
	return n;
}

static int parse_atom(struct parser *p)
{
	unsigned char c = *p->at;

	switch (c) {
	case '(':
		p->at++;
		return parse_group(p);
	case '[':
		p->at++;
		return parse_bracket(p);
	case '.':
		p->at++;
		return class_escape_node(p, '.');
	case '^':
		p->at++;
		return assert_node(p, A_LINE_START);
	case '$':
		p->at++;
		return assert_node(p, A_LINE_END);
	case '\\':
		return parse_escape(p);
	case '*': case '+': case '?':
		return fail(p, "nothing to repeat");
	}
	return literal_node(p);
}

/* A count of {n,m}: digits, at most MAX_COUNT. -1 when there are none. */
static int parse_count(struct parser *p)
{
	int value = -1;

	while (*p->at >= '0' && *p->at <= '9') {
		value = (value < 0 ? 0 : value * 10) + (*p->at++ - '0');
		if (value > MAX_COUNT)
			return fail(p, "repetition count above 1000");
	}
	return value;
}

/* {n} {n,} {n,m} after '{': 0 with min and max (max -1: unbounded); 1
 * when this '{' is no bound (then it is a literal). */
static int parse_bounds(struct parser *p, int *min, int *max)
{
	const unsigned char *start = p->at;

	if (*p->at < '0' || *p->at > '9')
		return 1;
	*min = *max = parse_count(p);
	if (*min < 0)
		return -1;
	if (*p->at == ',') {
		p->at++;
		*max = parse_count(p);
		if (*max < -1 || p->error)
			return -1;
	}
	if (*p->at != '}') {
		p->at = start;
		return fail(p, "malformed {n,m}");
	}
	p->at++;
	if (*max >= 0 && *max < *min)
		return fail(p, "repetition bounds out of order");
	return 0;
}

/* The quantifier at p->at, if any: 1 with the bounds, 0 when none (a '{'
 * that starts no bound is a literal, left for the next atom). */
static int parse_quantifier(struct parser *p, int *min, int *max)
{
	switch (*p->at) {
	case '*':
		*min = 0, *max = -1;
		break;
	case '+':
		*min = 1, *max = -1;
		break;
	case '?':
		*min = 0, *max = 1;
		break;
	case '{':
		p->at++;
		switch (parse_bounds(p, min, max)) {
		case 0:
			p->at--;	/* stand on the '}' */
			break;
		case 1:
			p->at--;
			return 0;
		default:
			return -1;
		}
		break;
	default:
		return 0;
	}
	p->at++;
	if (*p->at == '?')	/* lazy: the same lines match */
		p->at++;
	return 1;
}

static int parse_repeat(struct parser *p)
{
	int n = parse_atom(p), min, max, q;

	while (n >= 0 && (q = parse_quantifier(p, &min, &max)) != 0) {
		int r = q < 0 ? -1 : new_node(p, N_REPEAT);

		if (r < 0)
			return -1;
		p->nodes[r].left = n;
		p->nodes[r].min = min;
		p->nodes[r].max = max;
		n = r;
	}
	return n;
}

/* A sequence, up to '|' or ')' or the end, as a right-leaning chain of
 * N_CAT, a (b (c d)), so the compiler walks it without recursing. */
static int parse_sequence(struct parser *p)
{
	int root = -1, tail = -1;	/* tail: the last N_CAT of the chain */

	while (*p->at && *p->at != '|' && *p->at != ')') {
		int n = parse_repeat(p), cat;

		if (n < 0)
			return -1;
		if (root < 0) {
			root = n;
			continue;
		}
		cat = node2(p, N_CAT, tail < 0 ? root : p->nodes[tail].right,
			    n);
		if (cat < 0)
			return -1;
		if (tail < 0)
			root = cat;
		else
			p->nodes[tail].right = cat;
		tail = cat;
	}
	return root < 0 ? new_node(p, N_EMPTY) : root;
}

static int parse_alternation(struct parser *p)
{
	int n = parse_sequence(p);

	while (n >= 0 && *p->at == '|') {
		p->at++;
		n = node2(p, N_ALT, n, parse_sequence(p));
	}
	return n;
}

/* ---- program -------------------------------------------------------------- */

struct compiler {
	const struct parser *parser;
	struct inst *program;
	int length;
	size_t capacity;
	int continuation_set;	/* the set of UTF-8 continuation bytes */
	const char *error;
};

static int emit(struct compiler *c, int op, int value)
{
	if (c->length == PATTERN_MAX_PROGRAM) {
		c->error = "pattern too complex";
		return -1;
	}
	if (array_room(&c->program, &c->capacity, (size_t)c->length + 1,
		       sizeof(*c->program)) < 0) {
		c->error = "out of memory";
		return -1;
	}
	memset(&c->program[c->length], 0, sizeof(*c->program));
	c->program[c->length].op = (unsigned char)op;
	c->program[c->length].value = (unsigned char)value;
	c->program[c->length].set = value;
	return c->length++;
}

static int compile_node(struct compiler *c, int n);

/* A set; one that takes whole characters is followed by a loop over the
 * continuation bytes: L: split L+1, L+3; set(cont); jmp L. */
static int compile_set(struct compiler *c, const struct node *node)
{
	int loop;

	if (emit(c, OP_SET, node->set) < 0)
		return -1;
	if (!node->value)	/* ASCII only */
		return 0;
	loop = emit(c, OP_SPLIT, 0);
	if (loop < 0 || emit(c, OP_SET, c->continuation_set) < 0 ||
	    emit(c, OP_JMP, 0) < 0)
		return -1;
	c->program[loop].x = loop + 1;
	c->program[loop].y = loop + 3;
	c->program[loop + 2].x = loop;
	return 0;
}

static int compile_alt(struct compiler *c, const struct node *node)
{
	int split = emit(c, OP_SPLIT, 0), jump;

	if (split < 0 || compile_node(c, node->left) < 0)
		return -1;
	jump = emit(c, OP_JMP, 0);
	if (jump < 0)
		return -1;
	c->program[split].x = split + 1;
	c->program[split].y = jump + 1;
	if (compile_node(c, node->right) < 0)
		return -1;
	c->program[jump].x = c->length;
	return 0;
}

/* x{min,max}: min copies, then either a loop or (max - min) optional
 * copies that all skip to the end (chained through y until patched). */
static int compile_repeat(struct compiler *c, const struct node *node)
{
	int chain = -1;

	for (int i = 0; i < node->min; i++)
		if (compile_node(c, node->left) < 0)
			return -1;
	if (node->max < 0) {
		int loop = emit(c, OP_SPLIT, 0);

		if (loop < 0 || compile_node(c, node->left) < 0 ||
		    emit(c, OP_JMP, 0) < 0)
			return -1;
		c->program[c->length - 1].x = loop;
		c->program[loop].x = loop + 1;
		c->program[loop].y = c->length;
		return 0;
	}
	for (int i = node->min; i < node->max; i++) {
		int split = emit(c, OP_SPLIT, 0);

		if (split < 0)
			return -1;
		c->program[split].x = split + 1;
		c->program[split].y = chain;
		chain = split;
		if (compile_node(c, node->left) < 0)
			return -1;
	}
	while (chain >= 0) {
		int next = c->program[chain].y;

		c->program[chain].y = c->length;
		chain = next;
	}
	return 0;
}

static int compile_node(struct compiler *c, int n)
{
	for (;;) {
		const struct node *node = &c->parser->nodes[n];

		switch (node->kind) {
		case N_EMPTY:
			return 0;
		case N_BYTE:
			return emit(c, OP_BYTE, node->value) < 0 ? -1 : 0;
		case N_ASSERT:
			return emit(c, OP_ASSERT, node->value) < 0 ? -1 : 0;
		case N_SET:
			return compile_set(c, node);
		case N_ALT:
			return compile_alt(c, node);
		case N_REPEAT:
			return compile_repeat(c, node);
		case N_CAT:
			if (compile_node(c, node->left) < 0)
				return -1;
			n = node->right;
			break;
		default:
			return -1;
		}
	}
}

/* ---- the VM ---------------------------------------------------------------- */

static int assertion_holds(int which, const unsigned char *text, size_t len,
			   size_t at)
{
	int before = at > 0 && is_word_byte(text[at - 1]);
	int after = at < len && is_word_byte(text[at]);

	switch (which) {
	case A_LINE_START:
		return at == 0;
	case A_LINE_END:
		return at == len;
	case A_WORD_EDGE:
		return before != after;
	default:
		return before == after;
	}
}

/* Add the thread at pc to list (and what it leads to without consuming a
 * byte); 1 when one of them is the match. */
static int add_thread(struct pattern *pt, int *list, int *count, int pc,
		      const unsigned char *text, size_t len, size_t at)
{
	int depth = 0;

	pt->stack[depth++] = pc;
	while (depth > 0) {
		const struct inst *in;

		pc = pt->stack[--depth];
		if (pt->mark[pc] == pt->stamp)
			continue;
		pt->mark[pc] = pt->stamp;
		in = &pt->program[pc];
		switch (in->op) {
		case OP_JMP:
			pt->stack[depth++] = in->x;
			break;
		case OP_SPLIT:
			pt->stack[depth++] = in->y;
			pt->stack[depth++] = in->x;
			break;
		case OP_ASSERT:
			if (assertion_holds(in->value, text, len, at))
				pt->stack[depth++] = pc + 1;
			break;
		case OP_MATCH:
			return 1;
		default:
			list[(*count)++] = pc;
		}
	}
	return 0;
}

static int step_matches(const struct pattern *pt, int pc, unsigned char c)
{
	const struct inst *in = &pt->program[pc];

	return in->op == OP_BYTE ? in->value == c
			       : set_has(pt->sets[in->set], c);
}

static void next_stamp(struct pattern *pt)
{
	if (++pt->stamp == 0) {	/* wrapped: forget every old mark */
		memset(pt->mark, 0, (size_t)pt->length * sizeof(*pt->mark));
		pt->stamp = 1;
	}
}

int pattern_match(struct pattern *pt, const char *line, size_t len)
{
	const unsigned char *text = (const unsigned char *)line;
	int *now = pt->threads[0], *next = pt->threads[1];
	int now_count = 0;

	next_stamp(pt);
	if (add_thread(pt, now, &now_count, 0, text, len, 0))
		return 1;
	for (size_t at = 0; at < len; at++) {
		int next_count = 0;

		next_stamp(pt);
		for (int i = 0; i < now_count; i++)
			if (step_matches(pt, now[i], text[at]) &&
			    add_thread(pt, next, &next_count, now[i] + 1,
				       text, len, at + 1))
				return 1;
		/* unanchored: a match may also start after this byte */
		if (add_thread(pt, next, &next_count, 0, text, len, at + 1))
			return 1;
		int *swap = now;

		now = next;
		next = swap;
		now_count = next_count;
	}
	return 0;
}

/* ---- compile ---------------------------------------------------------------- */

void pattern_free(struct pattern *pt)
{
	if (!pt)
		return;
	free(pt->program);
	free(pt->sets);
	free(pt->threads[0]);
	free(pt->threads[1]);
	free(pt->stack);
	free(pt->mark);
	free(pt);
}

/* The VM's scratch for a program of n instructions. */
static int allocate_scratch(struct pattern *pt, int n)
{
	size_t count = (size_t)n + 1;

	pt->threads[0] = malloc(count * sizeof(int));
	pt->threads[1] = malloc(count * sizeof(int));
	pt->stack = malloc(2 * count * sizeof(int));
	pt->mark = calloc(count, sizeof(unsigned));
	return pt->threads[0] && pt->threads[1] && pt->stack && pt->mark
	       ? 0 : -1;
}

static struct pattern *compile_tree(struct parser *p, int root,
				    const char **error)
{
	struct compiler c = { .parser = p };
	struct pattern *pt = calloc(1, sizeof(*pt));
	int cont = new_set(p);

	*error = "out of memory";
	if (!pt || cont < 0) {
		free(pt);
		return NULL;
	}
	set_add_range(p->sets[cont], 0x80, 0xbf);
	c.continuation_set = cont;
	if (compile_node(&c, root) < 0 || emit(&c, OP_MATCH, 0) < 0) {
		*error = c.error ? c.error : "out of memory";
		free(c.program);
		free(pt);
		return NULL;
	}
	pt->program = c.program;
	pt->length = c.length;
	pt->sets = p->sets;
	p->sets = NULL;
	if (allocate_scratch(pt, c.length) < 0) {
		pattern_free(pt);
		return NULL;
	}
	return pt;
}

struct pattern *pattern_compile(const char *source, char *why,
				size_t why_size)
{
	struct parser p = { .at = (const unsigned char *)source };
	struct pattern *pt = NULL;
	const char *error = NULL;
	int root;

	if (strncmp(source, "(?i)", 4) == 0) {
		p.case_insensitive = 1;
		p.at += 4;
	}
	root = parse_alternation(&p);
	if (root >= 0 && *p.at == ')')
		root = fail(&p, "unmatched )");
	if (root >= 0)
		pt = compile_tree(&p, root, &error);
	else
		error = p.error;
	if (!pt) {
		int out_of_memory = p.out_of_memory ||
				    (error && strcmp(error, "out of memory") == 0);

		if (why_size)
			copy_str(why, why_size,
				 error ? error : "out of memory");
		errno = out_of_memory ? ENOMEM : EINVAL;
	}
	free(p.nodes);
	free(p.sets);
	return pt;
}
