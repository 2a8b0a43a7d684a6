/*
 * Probes of the example job server: one request's life, and the queue behind it.
 */
provider myapp {
	/* a request arrives: its id and path */
	probe request__start(int id, const char *path);
	/* a request is answered: id, path, status code, latency in nanoseconds */
	probe request__done(int id, const char *path, int status, long long latency_ns);
	/* the queue's depth after a push; summary is costly to build, so guarded by _ENABLED() */
	probe queue__depth(unsigned int depth, const char *summary);
};

#pragma D attributes Evolving/Evolving/Common provider myapp provider
#pragma D attributes Evolving/Evolving/Common provider myapp args
