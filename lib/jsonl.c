/*
 * jsonl.c - split a replay line into subject, payload and times.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ce.h"
#include "json.h"
#include "jsonl.h"
#include "timeutil.h"

#define LINE_MAX_DEPTH	512	/* nesting the line scanner accepts; the
				   decoder applies the configured limit */

/* Free what a split owns. */
void
lt_jsonl_clear(struct lt_jsonl_line *l)
{
	free(l->subject);
	cJSON_free(l->owned);
	memset(l, 0, sizeof(*l));
}

/* Parse a JSON string item as an RFC 3339 time. */
static int
item_time(const cJSON *it, int64_t *ms)
{
	return cJSON_IsString(it) && lt_time_parse(it->valuestring,
	    strlen(it->valuestring), ms) == 0;
}

/* Split with cJSON (the slow path). */
static int
split_json(const char *line, size_t len, struct lt_jsonl_line *out)
{
	cJSON *root, *ev, *subj;
	int rc = LT_OK;

	if ((root = cJSON_ParseWithLength(line, len)) == NULL)
		return LT_OK;	/* not JSON: the fold says so */
	ev = root;
	subj = cJSON_GetObjectItemCaseSensitive(root, "subject");
	/* "event" exactly (cJSON_HasObjectItem() ignores case: "EVENT" made
	   ev NULL and the split fail as out of memory) */
	if (cJSON_IsObject(root) && cJSON_IsString(subj) &&
	    cJSON_GetObjectItemCaseSensitive(root, "event") != NULL) {
		ev = cJSON_GetObjectItemCaseSensitive(root, "event");
		if ((out->subject = strdup(subj->valuestring)) == NULL ||
		    (out->owned = cJSON_PrintUnformatted(ev)) == NULL) {
			rc = LT_ENOMEM;
			goto done;
		}
		out->payload = out->owned;
		out->len = strlen(out->owned);
		out->received_ok = item_time(cJSON_GetObjectItemCaseSensitive(
		    root, "received_at"), &out->received_ms);
	}
	if (cJSON_IsObject(ev))
		out->time_ok = item_time(cJSON_GetObjectItemCaseSensitive(ev,
		    "time"), &out->time_ms);
done:
	cJSON_Delete(root);
	return rc;
}

/* Whether a raw span is a JSON string without escapes. */
static int
plain_string(const char *p, const struct lt_json_span *sp)
{
	return sp->len >= 2 && p[sp->off] == '"' &&
	    memchr(p + sp->off + 1, '\\', sp->len - 2) == NULL;
}

/* Parse a plain string span as a time; -1 when it has escapes. */
static int
span_time(const char *p, const struct lt_json_span *sp, int64_t *ms, int *ok)
{
	if (sp->len == 0 || p[sp->off] != '"')
		return 0;
	if (!plain_string(p, sp))
		return -1;
	*ok = lt_time_parse(p + sp->off + 1, sp->len - 2, ms) == 0;
	return 0;
}

/* Split a line, without building a tree when the scanner takes it. */
int
lt_jsonl_split(const char *line, size_t len, struct lt_jsonl_line *out)
{
	static const char *const top[] = { "subject", "event", "time",
	    "received_at" };
	static const char *const inner[] = { "time" };
	struct lt_json_span sp[4], ts;
	const char *ev = line;
	size_t evlen = len;

	memset(out, 0, sizeof(*out));
	out->payload = line;
	out->len = len;
	if (len == 0 || line[0] != '{' ||
	    lt_json_scan(line, len, LINE_MAX_DEPTH, top, 4, sp, NULL) !=
	    LT_OK)
		goto slow;
	ts = sp[2];
	if (sp[0].len > 0 && line[sp[0].off] == '"' && sp[1].len > 0) {
		if (!plain_string(line, &sp[0]))
			goto slow;
		ev = line + sp[1].off;
		evlen = sp[1].len;
		if (ev[0] != '{')
			ts.len = 0;
		else if (lt_json_scan(ev, evlen, LINE_MAX_DEPTH, inner, 1,
		    &ts, NULL) != LT_OK)
			goto slow;
		if (span_time(line, &sp[3], &out->received_ms,
		    &out->received_ok) == -1)
			goto slow;
		if ((out->subject = strndup(line + sp[0].off + 1,
		    sp[0].len - 2)) == NULL)
			return LT_ENOMEM;
		out->payload = ev;
		out->len = evlen;
	}
	if (span_time(ev, &ts, &out->time_ms, &out->time_ok) == -1)
		goto slow;
	return LT_OK;
slow:
	lt_jsonl_clear(out);
	out->payload = line;
	out->len = len;
	return split_json(line, len, out);
}
