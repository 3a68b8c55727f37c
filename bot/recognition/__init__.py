"""Recognition capability."""
