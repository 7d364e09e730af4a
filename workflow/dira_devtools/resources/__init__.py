"""The resource builder: the audited source tables of shared/locus read and written as resources/<build>/."""
