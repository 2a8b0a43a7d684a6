provider app {
	probe go(void, int);
};
