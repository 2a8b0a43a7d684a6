provider app {
	probe go(int 42);
};
