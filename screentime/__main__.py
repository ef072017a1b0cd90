"""`python -m screentime embed|compare-models|score|demo ...`, the same as the `screentime` command (cli.py)."""

import sys

from cli import main

if __name__ == "__main__":
    main(sys.argv[1:], prog_name="python -m screentime")
