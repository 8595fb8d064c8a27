/*
 * text.c - list items, URL redaction, human ages.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "text.h"

#define SEPARATORS	", \t\r\n"
#define REDACTED	"xxxxx"

/* Take the next comma- or blank-separated item of a list. */
int
lt_text_next_item(const char **p, const char **item, size_t *len)
{
	const char	*s = *p;

	s += strspn(s, SEPARATORS);
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	*item = s;
	*len = strcspn(s, SEPARATORS);
	*p = s + *len;
	return 1;
}

/* Find the userinfo of url: [*start, *at) with *at the '@'; 0 if none. */
static int
userinfo(const char *url, const char **start, const char **at)
{
	const char	*host, *p, *end;

	p = strstr(url, "://");
	host = p != NULL ? p + 3 : url;
	/* not "#": a careless password may hold one; the last '@' wins */
	end = host + strcspn(host, "/?");
	for (p = end; p > host; p--)
		if (p[-1] == '@')
			break;
	if (p == host)
		return 0;
	*start = host;
	*at = p - 1;
	return 1;
}

/* Whether s[0..n) can be a lattice name (text.h). */
int
lt_text_lattice_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > LT_LATTICE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '.' ||
		    s[i] == '*' || s[i] == '>')
			return 0;
	return 1;
}

/* Whether url carries userinfo. */
int
lt_text_url_has_userinfo(const char *url)
{
	const char	*start, *at;

	return userinfo(url, &start, &at);
}

/* Copy url into buf with its userinfo secret replaced. */
int
lt_text_redact_url(const char *url, char *buf, size_t len)
{
	const char	*start, *at, *colon;
	int		 n;

	if (!userinfo(url, &start, &at))
		n = snprintf(buf, len, "%s", url);
	else if ((colon = memchr(start, ':', (size_t)(at - start))) != NULL)
		n = snprintf(buf, len, "%.*s:" REDACTED "%s",
		    (int)(colon - url), url, at);
	else
		n = snprintf(buf, len, "%.*s" REDACTED "%s",
		    (int)(start - url), url, at);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return LT_ELIMIT;
	}
	return LT_OK;
}

/* Format ms as a kubectl-style age. */
char *
lt_text_age(int64_t ms, char *buf)
{
	int64_t	s, m, h, d, y;

	s = ms < 0 ? 0 : ms / 1000;
	m = s / 60;
	h = m / 60;
	d = h / 24;
	y = d / 365;
	if (s < 120)
		snprintf(buf, LT_TEXT_AGESZ, "%llds", (long long)s);
	else if (m < 10 && s % 60 != 0)
		snprintf(buf, LT_TEXT_AGESZ, "%lldm%llds", (long long)m,
		    (long long)(s % 60));
	else if (m < 60)
		snprintf(buf, LT_TEXT_AGESZ, "%lldm", (long long)m);
	else if (h < 8 && m % 60 != 0)
		snprintf(buf, LT_TEXT_AGESZ, "%lldh%lldm", (long long)h,
		    (long long)(m % 60));
	else if (h < 48)
		snprintf(buf, LT_TEXT_AGESZ, "%lldh", (long long)h);
	else if (h < 24 * 8 && h % 24 != 0)
		snprintf(buf, LT_TEXT_AGESZ, "%lldd%lldh", (long long)d,
		    (long long)(h % 24));
	else if (d < 365 * 2)
		snprintf(buf, LT_TEXT_AGESZ, "%lldd", (long long)d);
	else if (y < 8 && d % 365 != 0)
		snprintf(buf, LT_TEXT_AGESZ, "%lldy%lldd", (long long)y,
		    (long long)(d % 365));
	else
		snprintf(buf, LT_TEXT_AGESZ, "%lldy", (long long)y);
	return buf;
}
