/*
 * replay.h - fold a JSONL file of events without NATS (--replay).
 */
#ifndef REPLAY_H
#define REPLAY_H

struct config;

/* Replay path ("-": stdin) into cf->db; returns the exit status. */
int	replay_run(const struct config *cf, const char *path);

#endif
