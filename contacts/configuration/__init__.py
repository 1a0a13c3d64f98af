"""The dealer's admin: the program, template drafts and versions, rules, team and profit settings."""
