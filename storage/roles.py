"""Staff roles: who may change what (reps their own deals and tasks; managers and admins anything)."""

ROLES = ("rep", "manager", "admin")
