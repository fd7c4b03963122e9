import sys

from specdsl.cli import main

sys.exit(main())
