provider app {
	probe go(int a);
	probe go(long b);
};
