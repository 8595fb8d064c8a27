/*
 * process.h - process-wide settings for a program that folds events.
 *
 * lt_process_init() is called first thing in main(), before any thread or
 * connection exists (latticed does; so do the in-process bench programs,
 * to measure what the daemon runs).  It changes only process state that
 * belongs to libraries, never lib/'s own: SQLite without allocation
 * statistics (store.h) and, with glibc, malloc without fastbins.  Folding
 * a giant heartbeat builds and frees a cJSON tree of several hundred
 * thousand small blocks; kept in fastbins, they were merged back in bursts
 * (malloc_consolidate) by a later large request, and a 10,000-component
 * heartbeat took 80 ms instead of 60 (bench/RESULTS.md).  Optional:
 * without it everything works, only slower.
 */
#ifndef LT_PROCESS_H
#define LT_PROCESS_H

void	lt_process_init(void);

#endif
