"""Repositories: async data access functions, one module per concept.

Every function takes the AsyncSession first. They flush (so ids are known) but never
commit: the caller owns the transaction. Use them as modules, e.g.
`from callcenter.db.repositories import calls as calls_repo`.
"""
