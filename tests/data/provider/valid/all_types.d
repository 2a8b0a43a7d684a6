/* Every scalar and pointer spelling a provider file uses. */
provider types {
	probe ints(char a, signed char b, unsigned char c, short d, unsigned short e,
	           int f, unsigned g, long h, unsigned long i, long long j, unsigned long long k,
	           long int l);
	probe fixed(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f,
	            int64_t g, uint64_t h);
	probe posix(uintptr_t a, size_t b, ssize_t c, pid_t d, off_t e, bool f, _Bool g);
	probe ptrs(const char *a, char **b, struct foo *c, union u *d, void *e, const void *f,
	           string g);
	probe enums(enum color c);
	probe unnamed(int, const char *, unsigned long long);
};
