/* A small job server that fires the probes of myapp.d: start/done pairs with their latency,
 * string arguments, and an _ENABLED()-guarded argument that is costly to build.
 * Usage: app [REQUESTS] [DELAY_MS] — handles REQUESTS fake requests (default 20), DELAY_MS apart. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "myapp.h"

static const char *const paths[] = {"/index.html", "/api/users", "/static/app.js", "/health"};

static long long now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int handle(int id, const char *path) {
	long long start = now_ns();
	MYAPP_REQUEST_START(id, path);
	int status = strcmp(path, "/health") == 0 ? 204 : (id % 7 == 0 ? 500 : 200);
	volatile unsigned long work = 0;
	for (unsigned long i = 0; i < 100000UL * (unsigned long)(id % 5 + 1); i++)
		work += i;
	MYAPP_REQUEST_DONE(id, path, status, now_ns() - start);
	return status;
}

int main(int argc, char **argv) {
	int requests = argc > 1 ? atoi(argv[1]) : 20;
	int delay_ms = argc > 2 ? atoi(argv[2]) : 0;
	unsigned int depth = 0;
	int errors = 0;
	for (int id = 1; id <= requests; id++) {
		depth = (unsigned int)(requests - id);
		if (MYAPP_QUEUE_DEPTH_ENABLED()) {
			char summary[64];
			snprintf(summary, sizeof summary, "%u waiting, next %s", depth,
			         paths[id % 4]);
			MYAPP_QUEUE_DEPTH(depth, summary);
		}
		if (handle(id, paths[id % 4]) >= 500)
			errors++;
		if (delay_ms > 0) {
			struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
			nanosleep(&pause, NULL);
		}
	}
	printf("handled %d requests, %d errors\n", requests, errors);
	return 0;
}
