"""`crm bench`: how fast a turn is on a big store, and how that compares with the SQL it stands for.

A turn is timed whole, as a user waits for it: `Assistant.handle` (parse, dialogue, the skill's
queries, the audit and state writes, the commit, the reply). The same read questions are then asked
as hand-written SQL on the same store, timed the same way (one transaction each), so the ratio says
how much the assistant adds on top of the database, and a slow kind can be told apart from a slow store.

The mix is fixed: 23 kinds of turns (reads, writes, a question and its answer, undo, small talk), as a
rep and as the manager, with names drawn deterministically from the store; the writes are undone in
the same round, so every round meets the same store.

- `sql_twins.py`: the read questions as hand-written SQL; `mix.py`: the kinds of turns;
  `cast.py`: who talks and about which records; `figures.py`: percentiles and the result;
  `runner.py`: building the store, then timing the rounds.
"""


class BenchError(Exception):
    """The benchmark cannot run on this store, said so the user can fix it."""
