/*
 * process.c - process-wide settings for a program that folds (process.h).
 */
#ifdef __linux__
#include <malloc.h>	/* mallopt(), where the C library has it */
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
