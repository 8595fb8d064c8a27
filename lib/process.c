/*
 * process.c - process-wide settings for a program that folds (process.h).
 */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#include "process.h"
#include "store.h"

/* Set the process-wide library settings (process.h). */
void
lt_process_init(void)
{
	lt_store_process_init();
#ifdef M_MXFAST
	/* freed small blocks go straight back to their bins */
	(void)mallopt(M_MXFAST, 0);
#endif
}
