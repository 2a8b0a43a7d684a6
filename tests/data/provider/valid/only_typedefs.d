typedef int counter_t;
struct s { int a; };
