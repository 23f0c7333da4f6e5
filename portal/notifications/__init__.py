"""The outbox: what the portal tells partners, delivered once each by the partner's preferred channel."""
