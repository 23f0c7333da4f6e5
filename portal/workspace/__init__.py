"""The account manager's workspace: the portfolio of partners and the tasks the outbox leaves for phone and visit."""
