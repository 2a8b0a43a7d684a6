/*
 * Probes of the example job queue (examples/app_py/worker.py).
 */
provider jobs {
	/* a job enters the queue */
	probe job__submit(long long id, const char *kind);
	/* a worker takes it: how long it waited, in microseconds */
	probe job__start(long long id, const char *kind, long long wait_us);
	/* it is finished: status 0 for success, its run time in microseconds */
	probe job__done(long long id, const char *kind, int status, long long run_us);
	/* the queue's depth and its busiest kind; costly to compute, so guarded by .enabled */
	probe queue__depth(int depth, const char *busiest);
};
