"""Synthetic stores for `crm bench`: N deals with the accounts, contacts, activities and tasks around them.

Deterministic (one `random.Random(seed)`, dates placed around `now`), so two builds with the same seed and
day are the same store. Shape (roughly what a sales team of 10-20 people has after a few years): N/100
accounts of very uneven size, two contacts each, one activity per deal, N/20 open tasks, deals over every
stage with the stage's probability from storage/pipeline.json.

- `store.py`: `build` a store into a connection, and what a built store says about itself.
- `generator.py`: the rows, account by account; `names.py` (with `names.json`): the names in them.
- `writer.py`: the bulk writes.
"""
