"""Internal allies: topics, experts, availability, who knows, and help-channel routing."""
