// A line comment, accepted as real-world files have them.
provider postgresql {
	probe transaction__start(unsigned int);
	probe lwlock__acquire(const char *, int);
	probe query__start(const char *);
	probe sort__done(bool, long);
};
