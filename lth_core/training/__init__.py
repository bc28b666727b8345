"""Training one network, or a stack of them at once."""
