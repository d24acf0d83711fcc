"""Higher number wins: each seat picks a number in turn; the higher one wins."""
