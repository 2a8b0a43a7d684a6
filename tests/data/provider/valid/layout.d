provider layout
{
	probe  multi__line (
		int id,

		const char *
		path) ;
  probe spaced (int x)   ;   
}

provider second { };
provider third {
  probe only();
}