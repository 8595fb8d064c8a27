/*
 * timeutil.c - RFC 3339 times <-> milliseconds since the epoch (UTC).
 *
 * Civil-date arithmetic is done here (Howard Hinnant's days_from_civil),
 * so neither timegm() nor the TZ environment is involved.
 */
#include <stdio.h>

#include "timeutil.h"

#define MS_PER_DAY	86400000LL

/* Return the number of days since 1970-01-01 of y-m-d (proleptic). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Split days since the epoch into a civil y-m-d. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Return the number of days in month m of year y. */
static int
month_days(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* Read n decimal digits at s[*i]; -1 if any is not a digit. */
static int
digits(const char *s, size_t len, size_t *i, int n)
{
	int	v = 0;

	if (len - *i < (size_t)n)
		return -1;
	while (n-- > 0) {
		if (s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return v;
}

/* Consume the character c at s[*i]; -1 if it is not there. */
static int
expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

/* Parse an RFC 3339 timestamp into ms since the epoch. */
int
lt_time_parse(const char *s, size_t len, int64_t *ms)
{
	size_t	i = 0;
	int	y, mo, d, h, mi, sec, frac = 0, scale = 100, oh, om, sign;
	int64_t	t;

	if (s == NULL || ms == NULL)
		return -1;
	if ((y = digits(s, len, &i, 4)) < 0 || expect(s, len, &i, '-') ||
	    (mo = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, '-') ||
	    (d = digits(s, len, &i, 2)) < 0)
		return -1;
	if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return -1;
	i++;
	if ((h = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, ':') ||
	    (mi = digits(s, len, &i, 2)) < 0 || expect(s, len, &i, ':') ||
	    (sec = digits(s, len, &i, 2)) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			frac += (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
	}
	if (i >= len)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
		oh = om = 0;
		sign = 1;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		i++;
		if ((oh = digits(s, len, &i, 2)) < 0 ||
		    expect(s, len, &i, ':') ||
		    (om = digits(s, len, &i, 2)) < 0 || oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (i != len)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
}

/* Format ms as "YYYY-MM-DDTHH:MM:SS.sssZ" into buf. */
char *
lt_time_format(int64_t ms, char *buf)
{
	int64_t	days, rem, y;
	int	m, d;

	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, LT_TIME_BUFSZ, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	return buf;
}
