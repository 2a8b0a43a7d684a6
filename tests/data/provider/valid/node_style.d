/*
 * Placeholder structures stand in for the real ones, and each probe maps its
 * arguments to translated types.
 */
typedef struct {
	int dummy;
} srv_conn_t;

typedef struct {
	int dummy;
} conninfo_t;

provider websrv {
	probe conn__open(srv_conn_t *c) :
	    (conninfo_t *c);
	probe http__request(srv_conn_t *c,
	    const char *method, const char *url) :
	    (conninfo_t *c, const char *method, const char *url);
};

#pragma D attributes Evolving/Evolving/ISA provider websrv provider
#pragma D attributes Private/Private/Unknown provider websrv module
