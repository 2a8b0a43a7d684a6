provider app {
	probe go(foo bar baz);
};
