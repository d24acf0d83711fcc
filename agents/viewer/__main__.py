import sys

from selfplay_agents.viewer.command import main

sys.exit(main())
