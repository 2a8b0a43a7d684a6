provider app2 {
	probe go();
};
