import sys

from .document import main

sys.exit(main())
