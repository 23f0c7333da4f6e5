"""Partners, the people who sign in for them or for the wholesaler, sessions, passwords, invitations and API tokens."""
