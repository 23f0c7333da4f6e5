"""What every feature relies on and no feature owns: the Actor, access rules, audit, errors, money, paging."""
