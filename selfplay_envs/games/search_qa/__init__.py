"""Search self-play (SSP): a question proposer against a searching solver."""
