typedef unsigned long long my_id_t;
typedef struct conn { int fd; char *peer; } conn_t;
typedef enum { RED, GREEN } color_t;
typedef struct req *req_ptr_t;

provider app {
	probe before(my_id_t id, conn_t *c, color_t col, req_ptr_t r, later_t l);
	probe mapped(conn_t *c, int n) : (conninfo_t *c, int n);
};

typedef unsigned int later_t;
struct conninfo { int local; };
typedef struct conninfo conninfo_t;
union val { int i; long l; };
enum level { LOW = 1, HIGH = 2 };

translator conninfo_t < conn_t *C > {
	local = C->fd;
};

inline int APP_MAX = 64;
