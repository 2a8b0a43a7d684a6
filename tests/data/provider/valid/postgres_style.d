/*
 * Type names come from #define, so this file needs -C.
 */
#define TxnId unsigned int
#define LockMode int
#define bool char

provider dbserver {

	probe txn__start(TxnId);
	probe lock__wait(unsigned int, unsigned int, LockMode);
	probe sort__done(bool, long);
	probe query__plan__start();
};
