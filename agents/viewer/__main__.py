import sys

from agents.viewer.command import main

sys.exit(main())
