import sys

from breakbounce.cli import main

sys.exit(main())
