provider app {
	probe go(int a); /* never closed
};
