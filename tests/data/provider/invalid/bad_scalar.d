provider app {
	probe go(unsigned double d);
};
