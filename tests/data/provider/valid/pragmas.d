/*
 * #pragma inside a comment means nothing
 */
#pragma D attributes Evolving/Evolving/Common provider app provider
#pragma D attributes Private/Private/Unknown provider app module
#pragma D attributes Private/Private/Unknown provider app function
#pragma D attributes Evolving/Evolving/Common provider app name
#pragma D attributes Evolving/Evolving/Common provider app args
#pragma D option quiet
#pragma D depends_on library net.d
provider app {
	probe go(int);
};
