/*
 * invcache.c - the decode stage's per-host guess of the last inventory
 * the fold saw: a small set-associative table with LRU eviction.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "invcache.h"

#define WAYS		4
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

struct slot {
	uint64_t	 key;		/* hash of (lattice, host) */
	uint64_t	 raw;		/* last inventory_raw seen */
	uint64_t	 used;		/* last use (tick); 0: empty */
};

struct lt_invcache {
	struct slot	*slots;
	size_t		 nsets;		/* a power of two */
	uint64_t	 tick;
};

/* A new cache. */
int
lt_invcache_new(size_t entries, struct lt_invcache **out)
{
	struct lt_invcache *ic;
	size_t n = WAYS;

	*out = NULL;
	if (entries == 0)
		entries = LT_INVCACHE_DEFAULT;
	while (n < entries && n < ((size_t)1 << 30))
		n *= 2;
	if ((ic = calloc(1, sizeof(*ic))) == NULL)
		return LT_ENOMEM;
	if ((ic->slots = calloc(n, sizeof(*ic->slots))) == NULL) {
		free(ic);
		return LT_ENOMEM;
	}
	ic->nsets = n / WAYS;
	*out = ic;
	return LT_OK;
}

/* Free a cache. */
void
lt_invcache_free(struct lt_invcache *ic)
{
	if (ic == NULL)
		return;
	free(ic->slots);
	free(ic);
}

/* FNV-1a over (lattice, NUL, host). */
static uint64_t
key_of(const char *lattice, size_t latlen, const char *host)
{
	uint64_t h = FNV_OFFSET;
	size_t i;

	for (i = 0; i < latlen; i++) {
		h ^= (unsigned char)lattice[i];
		h *= FNV_PRIME;
	}
	h *= FNV_PRIME;		/* the separator, a NUL byte */
	for (; *host != '\0'; host++) {
		h ^= (unsigned char)*host;
		h *= FNV_PRIME;
	}
	return h;
}

/* The set a key falls in. */
static struct slot *
set_of(struct lt_invcache *ic, uint64_t key)
{
	/* fold the high bits in: FNV mixes its low bits least */
	return &ic->slots[((key ^ (key >> 32)) & (ic->nsets - 1)) * WAYS];
}

/* Whether the host's inventory changed since last seen; remember it. */
int
lt_invcache_changed(struct lt_invcache *ic, const char *lattice,
    size_t latlen, const char *host, uint64_t raw)
{
	uint64_t key = key_of(lattice, latlen, host);
	struct slot *set = set_of(ic, key), *victim = &set[0];
	int i, changed;

	ic->tick++;
	for (i = 0; i < WAYS; i++) {
		if (set[i].used != 0 && set[i].key == key) {
			changed = set[i].raw != raw;
			set[i].raw = raw;
			set[i].used = ic->tick;
			return changed;
		}
		if (set[i].used < victim->used)
			victim = &set[i];
	}
	/* unknown: an empty slot, else the least recently used */
	victim->key = key;
	victim->raw = raw;
	victim->used = ic->tick;
	return 1;
}

/* Forget a host. */
void
lt_invcache_forget(struct lt_invcache *ic, const char *lattice,
    size_t latlen, const char *host)
{
	uint64_t key = key_of(lattice, latlen, host);
	struct slot *set = set_of(ic, key);
	int i;

	for (i = 0; i < WAYS; i++)
		if (set[i].used != 0 && set[i].key == key)
			memset(&set[i], 0, sizeof(set[i]));
}
