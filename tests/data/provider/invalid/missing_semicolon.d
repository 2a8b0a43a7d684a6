provider app {
	probe go()
	probe stop();
};
