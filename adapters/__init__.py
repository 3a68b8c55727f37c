"""Platform adapters: translate inbound payloads to core events and render outbound messages.

No business rules live here; `cli.py` is the composition root that wires everything together.
"""
