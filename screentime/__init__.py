"""`python -m screentime`: runs the command line in `cli.py` (also installed as the `screentime` command)."""
