"""`python -m lora_studio` runs the command line (GUI when no sub-command is given)."""

import sys

from lora_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
