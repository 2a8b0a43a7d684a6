provider webscript {
	probe exception__thrown(char* classname);
	probe compile__file__entry(char * compile_file, char *compile_file_translated);
	probe function__entry(char* function_name, char* request_file, int lineno, char* classname, char* scope);
	probe gc_major__start(char *p, int need);
};
