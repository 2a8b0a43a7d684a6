#pragma D attributes Wobbly/Evolving/Common provider app provider
provider app {
	probe go();
};
