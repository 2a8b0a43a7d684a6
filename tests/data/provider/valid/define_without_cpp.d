#define MYINT int
provider app {
	probe go(MYINT a);
};
