"""Developer-only code, apart from the runtime package: the test-cohort simulator and the builder of
``resources/<build>/``."""
