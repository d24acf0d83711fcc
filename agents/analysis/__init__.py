"""Analysis of policies: exact exploitability of Kuhn poker players."""
