"""The console adapter: a simulated workspace in the terminal, running the same core."""
