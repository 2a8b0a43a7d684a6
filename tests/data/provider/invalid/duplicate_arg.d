provider app {
	probe go(int a, char *a);
};
