#pragma D attributes Evolving/Evolving/Galaxy provider app provider
provider app {
	probe go();
};
