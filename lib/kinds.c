/*
 * kinds.c - the names and fixtures of the event kinds (kinds.h).
 */
#include <stddef.h>

#include "kinds.h"

#define NAME(id, name, fold, alert, fixture)	[LT_K_##id] = name,
static const char *const names[LT_K_COUNT] = { LT_KINDS(NAME) };
#undef NAME

#define FIXTURE(id, name, fold, alert, fixture)	[LT_K_##id] = fixture,
static const char *const fixtures[LT_K_COUNT] = { LT_KINDS(FIXTURE) };
#undef FIXTURE

/* Name a kind. */
const char *
lt_kind_name(int kind)
{
	return kind >= 0 && kind < LT_K_COUNT ? names[kind] : "unknown";
}

/* The fixture of a kind. */
const char *
lt_kind_fixture(int kind)
{
	return kind >= 0 && kind < LT_K_COUNT ? fixtures[kind] : NULL;
}
