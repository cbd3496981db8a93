"""``python -m neurocodec``: the ``neurocodec`` command."""

import sys

from .cli import main

sys.exit(main())
