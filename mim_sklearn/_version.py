"""The package's version, in a module of its own: the package and the files
it writes (see :mod:`._persistence`) read it without importing each other."""

__version__ = "0.1.0"
