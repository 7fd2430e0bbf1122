/* lib/fmt.c - text formats with no product knowledge: UTC timestamps,
 * strict decimal numbers, hex, ASCII words, signal names, bounded
 * copies. */
#include "lib/fmt.h"

#include <ctype.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounded copy; NULL copies as "". */
void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = src ? strnlen(src, size - 1) : 0;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

char *hex_encode(const char *text)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strlen(text);
	char *hex = malloc(2 * len + 1);

	if (!hex)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)text[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)text[i] & 15];
	}
	hex[2 * len] = '\0';
	return hex;
}

char *hex_decode(const char *hex)
{
	size_t len = strlen(hex);
	char *out = malloc(len / 2 + 1);

	if (!out || len % 2)
		goto bad;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned value = 0;

		for (int k = 0; k < 2; k++) {
			char c = hex[2 * i + k];

			value = value * 16 +
				(unsigned)(c >= '0' && c <= '9' ? c - '0'
					   : c >= 'a' && c <= 'f' ? c - 'a' + 10
					   : 16);
		}
		if (value > 255 || value == 0)
			goto bad;
		out[i] = (char)value;
	}
	out[len / 2] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

size_t scan_u64(const char *text, uint64_t *out)
{
	uint64_t value = 0;
	size_t n = 0;

	for (; text[n] >= '0' && text[n] <= '9'; n++) {
		unsigned digit = (unsigned)(text[n] - '0');

		if (value > (UINT64_MAX - digit) / 10)
			return 0;
		value = value * 10 + digit;
	}
	if (n)
		*out = value;
	return n;
}

static void put_digits(char *out, unsigned value, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + value % 10);
		value /= 10;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * civil-from-days algorithms of H. Hinnant): no libc time zone code. */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t era;
	unsigned year_of_era, day_of_year, day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = (unsigned)(year - era * 400);
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
		     day_of_year;
	return era * 146097 + (int64_t)day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
			    unsigned *day)
{
	int64_t era;
	unsigned day_of_era, year_of_era, day_of_year, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	day_of_era = (unsigned)(days - era * 146097);
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
		       day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 -
				    year_of_era / 100);
	mp = (5 * day_of_year + 2) / 153;
	*day = day_of_year - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

void format_utc(time_t t, char out[TIMESTAMP_LEN + 1])
{
	int64_t days = (int64_t)t / 86400, seconds = (int64_t)t % 86400, year;
	unsigned month, day;

	if (seconds < 0) {
		seconds += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	put_digits(out, (unsigned)year, 4);
	out[4] = '-';
	put_digits(out + 5, month, 2);
	out[7] = '-';
	put_digits(out + 8, day, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(seconds / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(seconds / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(seconds % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
}

static int digits_at(const char *text, int count, unsigned *value)
{
	*value = 0;
	for (int i = 0; i < count; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		*value = *value * 10 + (unsigned)(text[i] - '0');
	}
	return 0;
}

int parse_utc(const char *text, time_t *out)
{
	unsigned year, month, day, hour, minute, second;

	if (!text || strlen(text) < TIMESTAMP_LEN || text[4] != '-' ||
	    text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
	    text[16] != ':' || digits_at(text, 4, &year) < 0 ||
	    digits_at(text + 5, 2, &month) < 0 ||
	    digits_at(text + 8, 2, &day) < 0 ||
	    digits_at(text + 11, 2, &hour) < 0 ||
	    digits_at(text + 14, 2, &minute) < 0 ||
	    digits_at(text + 17, 2, &second) < 0 || month < 1 || month > 12 ||
	    day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
		return -1;
	*out = (time_t)(days_from_civil(year, month, day) * 86400 +
			hour * 3600 + minute * 60 + second);
	return 0;
}

void format_utc_now(char out[TIMESTAMP_LEN + 1])
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	format_utc(now.tv_sec, out);
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 32) : c;
}

int ascii_case_equal(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (ascii_lower((unsigned char)*a) !=
		    ascii_lower((unsigned char)*b))
			return 0;
		if (!*a)
			return 1;
	}
	return 1;
}

int word_index(const char *word, const char *list)
{
	size_t len = strlen(word);

	for (int index = 0; *list; index++) {
		size_t n = strcspn(list, " ");

		if (n == len && memcmp(list, word, len) == 0)
			return index;
		list += n + (list[n] == ' ');
	}
	return -1;
}

static unsigned min3(unsigned x, unsigned y, unsigned z)
{
	unsigned m = x < y ? x : y;

	return m < z ? m : z;
}

/* Optimal string alignment: three rows of the Levenshtein table. */
unsigned edit_distance(const char *a, const char *b)
{
	unsigned rows[3][33], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	size_t a_len = strlen(a), b_len = strlen(b);

	if (a_len > 32 || b_len > 32)
		return 99;
	for (size_t j = 0; j <= b_len; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= a_len; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= b_len; j++) {
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + (a[i - 1] != b[j - 1]));
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		unsigned *spare = prev2;

		prev2 = prev;
		prev = cur;
		cur = spare;
	}
	return prev[b_len];
}

int parse_u64(const char *s, uint64_t *out)
{
	uint64_t value;
	size_t n = s ? scan_u64(s, &value) : 0;

	if (!n || s[n])
		return -1;
	*out = value;
	return 0;
}

int parse_duration_ms(const char *text, uint32_t bare_ms, uint64_t *ms)
{
	static const struct { char unit[4]; uint32_t ms; } units[] = {
		{ "", 0 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	uint64_t value;
	size_t n = text ? scan_u64(text, &value) : 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		uint32_t unit_ms = i ? units[i].ms : bare_ms;

		if (strcmp(text + n, units[i].unit) != 0)
			continue;
		if (value > UINT64_MAX / unit_ms)
			return -1;
		*ms = value * unit_ms;
		return 0;
	}
	return -1;
}

/* The signals known by name, and their names without "SIG", in the same
 * order (by number, not by position: numbers differ between
 * architectures). */
static const unsigned char signal_numbers[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
	SIGTERM, SIGCONT, SIGSTOP, SIGTSTP, SIGWINCH, SIGILL, SIGTRAP,
	SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGCHLD, SIGTTIN, SIGTTOU, SIGURG,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGSYS,
};
static const char signal_words[] =
	"HUP INT QUIT KILL USR1 USR2 PIPE ALRM TERM CONT STOP TSTP WINCH ILL "
	"TRAP ABRT BUS FPE SEGV CHLD TTIN TTOU URG XCPU XFSZ VTALRM PROF SYS";

int signal_parse(const char *text)
{
	char upper[8] = "";
	uint64_t number;
	int index;

	if (parse_u64(text, &number) == 0)
		return number >= 1 && number < (uint64_t)_NSIG ? (int)number
							       : -1;
	if (ascii_case_equal(text, "SIG", 3))
		text += 3;
	for (size_t i = 0; text[i]; i++) {
		if (i == sizeof(upper) - 1)
			return -1;
		upper[i] = text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32
							    : text[i];
	}
	index = word_index(upper, signal_words);
	return index < 0 ? -1 : signal_numbers[index];
}

/* "SIGTERM" for 15 in name[12]; 0, or -1 for a signal without a name. */
int signal_name(int signo, char name[12])
{
	const char *word = signal_words;
	size_t i = 0, len;

	while (i < sizeof(signal_numbers) && signal_numbers[i] != signo)
		i++;
	if (i == sizeof(signal_numbers))
		return -1;
	while (i--)	/* the i-th word */
		word = strchr(word, ' ') + 1;
	len = strcspn(word, " ");
	memcpy(name, "SIG", 3);
	memcpy(name + 3, word, len);
	name[3 + len] = '\0';
	return 0;
}

int parse_duration(const char *text, uint64_t *seconds)
{
	static const struct { char suffix; uint32_t unit; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	uint64_t unit = 1, value;
	size_t len;

	while (isspace((unsigned char)*text))
		text++;
	len = strlen(text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	for (size_t i = 0; len > 0 && i < 4; i++) {
		if (text[len - 1] == units[i].suffix) {
			unit = units[i].unit;
			len--;
			break;
		}
	}
	/* the number is all that is left, in at most 31 digits */
	if (len >= 32 || scan_u64(text, &value) != len || !len ||
	    value > UINT64_MAX / unit)
		return -1;
	*seconds = value * unit;
	return 0;
}
