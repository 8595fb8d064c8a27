/*
 * ceil_parse.c - ceiling: what parsing alone costs.  Read a JSONL file of
 * CloudEvents and run cJSON_ParseWithLength + cJSON_Delete on each line,
 * nothing else.  Only the parse is timed (the clock is read around each
 * line), so reading the file does not count: the figure bounds any store
 * that must parse every event with cJSON, as latticed must.
 *
 * usage: bench_ceil_parse -f events.jsonl
 * Prints "events=N rejected=N bytes=B seconds=S rate=R mb_s=M".
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "benchutil.h"

/* Parse every line; report the parse time only. */
int
main(int argc, char *argv[])
{
	const char *file = NULL;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long events = 0, rejected = 0, bytes = 0;
	int64_t spent = 0, t0;
	cJSON *root;
	int ch;

	while ((ch = getopt(argc, argv, "f:")) != -1) {
		if (ch != 'f')
			goto usage;
		file = optarg;
	}
	if (file == NULL)
		goto usage;
	if ((fp = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		t0 = bu_mono_ns();
		root = cJSON_ParseWithLength(line, (size_t)n);
		cJSON_Delete(root);
		spent += bu_mono_ns() - t0;
		if (root == NULL)
			rejected++;
		else
			events++;
		bytes += (unsigned long long)n;
	}
	fclose(fp);
	free(line);
	if (spent <= 0)
		spent = 1;
	printf("events=%llu rejected=%llu bytes=%llu seconds=%.3f rate=%.0f"
	    " mb_s=%.1f\n", events, rejected, bytes, spent / 1e9,
	    (events + rejected) / (spent / 1e9), bytes / (spent / 1e9) / 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: bench_ceil_parse -f events.jsonl\n");
	return 2;
}
